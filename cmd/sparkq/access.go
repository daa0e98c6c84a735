package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/sparkq/sparkq/daemon/config"
)

// explainAccess turns "permission denied" on the daemon's control socket
// (or on its data folder, which `stop` reads the lockfile from) into advice:
// the socket is mode 0600 in the data folder of the daemon's user, so only
// that user reaches it; the packaged daemon's is user sparkq's. Without it
// the client reports a lost connection that may have applied a change. It
// returns nil for any other error.
func (a *app) explainAccess(err error) error {
	if !errors.Is(err, fs.ErrPermission) {
		return nil
	}
	var path string
	var opErr *net.OpError
	var pathErr *fs.PathError
	switch {
	case errors.As(err, &opErr) && opErr.Op == "dial" && opErr.Net == "unix" && opErr.Addr != nil:
		path = opErr.Addr.String()
	case errors.As(err, &pathErr) && a.loaded != nil && (pathErr.Path == a.loaded.SocketPath() || within(pathErr.Path, a.loaded.DataDir())):
		path = pathErr.Path
	default:
		return nil
	}
	msg := fmt.Sprintf("cannot reach the daemon: permission denied on %s", path)
	uid, ok := owner(path)
	if !ok || uid == os.Geteuid() {
		return &cliError{code: exitError, msg: msg, cause: err,
			hint: fmt.Sprintf("check the permissions of %s and the folders above it", path)}
	}
	name := strconv.Itoa(uid)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	} else {
		name = "#" + name // sudo's syntax for a bare uid
	}
	msg += fmt.Sprintf("\nThe control socket (mode 0600) and its folder belong to the daemon's user, %s.", name)
	hint := fmt.Sprintf("run sparkq as that user: sudo -u %s %s", name, a.commandLine())
	if a.loaded != nil && a.loaded.File() == filepath.Join(config.SystemDir, config.FileName) {
		hint += " (the packaged service itself is managed with `sudo systemctl start|stop|status sparkq`)"
	}
	return &cliError{code: exitError, msg: msg, hint: hint, cause: err}
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// owner is the uid owning path, or else its nearest folder that this user
// may look at: the socket itself is hidden when its folder is closed.
func owner(path string) (int, bool) {
	for p := filepath.Clean(path); ; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				return int(st.Uid), true
			}
			return 0, false
		}
		if p == filepath.Dir(p) {
			return 0, false
		}
	}
}

// commandLine is this invocation as a shell command, naming the config file
// that was used: sudo drops SPARKQ_CONFIG, and the other user may not see
// the file that was found in this folder.
func (a *app) commandLine() string {
	words := []string{"sparkq"}
	if a.loaded != nil && a.loaded.File() != "" && !hasConfigArg(a.args) {
		words = append(words, "--config", a.loaded.File())
	}
	words = append(words, a.args...)
	for i, w := range words {
		words[i] = shellQuote(w)
	}
	return strings.Join(words, " ")
}
