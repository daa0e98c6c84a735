// Package control is the protocol between the sparkq CLI and its daemon: the
// Unix-socket listener setup and a typed client speaking the daemon's HTTP
// API over that socket. It links no server or database code, so the CLI
// stays small.
package control

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"
)

// probeTimeout bounds the check for a live daemon on an existing socket.
const probeTimeout = time.Second

// Listen opens the daemon's control socket at path. It refuses to take over
// a socket a live daemon answers on, removes a stale one, and restricts the
// socket to its owner (mode 0600, parent directory 0700): the file
// permissions are the socket's access control.
func Listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create socket directory: %w", err)
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("restrict socket %s: %w", path, err)
	}
	return ln, nil
}

// removeStale deletes a leftover socket file whose daemon is gone.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("inspect socket %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		// Never delete something that is not ours to delete.
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	conn, err := net.DialTimeout("unix", path, probeTimeout)
	if err == nil {
		conn.Close()
		return fmt.Errorf("another sparkq daemon is listening on %s", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	return nil
}
