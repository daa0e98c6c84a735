package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestSystemConfigFallback: with no sparkq.yml in the working directory or
// beside the binary, the CLI reads the packaged daemon's (a stand-in for
// /etc/sparkq here) and reaches that daemon without --config.
func TestSystemConfigFallback(t *testing.T) {
	t.Parallel()
	f := startDaemon(t)
	etc := t.TempDir()
	yml := fmt.Sprintf("server:\n  host: 127.0.0.1\n  port: %d\ndatabase:\n  path: %s\n", f.port, filepath.Join(f.dir, "data", "sparkq.db"))
	writeFile(t, filepath.Join(etc, "sparkq.yml"), yml)
	home := t.TempDir()

	// In process, as the working directory (this package's folder) and the
	// test binary's have no sparkq.yml.
	var stdout, stderr strings.Builder
	a := newApp(strings.NewReader(""), &stdout, &stderr, func(k string) string {
		switch {
		case k == "HOME":
			return home
		case k == "XDG_DATA_HOME":
			return filepath.Join(home, "xdg")
		case strings.HasPrefix(k, "SPARKQ_"):
			return ""
		}
		return os.Getenv(k)
	})
	a.systemConfigDirs = []string{filepath.Join(t.TempDir(), "missing"), etc}
	if code := a.run(context.Background(), []string{"status"}); code != 0 || !strings.Contains(stdout.String(), "127.0.0.1:"+strconv.Itoa(f.port)) {
		t.Fatalf("status with the daemon's config in the system folder: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
}

// TestSocketOfAnotherUser: a daemon whose socket this user may not open is
// reported as such, with the command that reaches it, not as a connection
// lost during a request that may have been applied.
func TestSocketOfAnotherUser(t *testing.T) {
	t.Parallel()
	f := startDaemon(t)
	data := filepath.Join(f.dir, "data")
	sock := filepath.Join(data, "sparkq.sock")
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("the socket is not where this test expects it: %v", err)
	}

	if os.Geteuid() != 0 {
		// Only root can run the CLI as someone else: close the data
		// folder to ourselves instead, until the fixture stops the daemon.
		if err := os.Chmod(data, 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(data, 0o700) })
		r := f.run("status")
		if r.code != 1 || !strings.Contains(r.stderr, "Error: cannot reach the daemon: permission denied on "+sock) ||
			!strings.Contains(r.stderr, "Suggestion: check the permissions of "+sock) || strings.Contains(r.stderr, "lost the connection") {
			t.Fatalf("status with the socket's folder closed:\n%s", r)
		}
		return
	}

	// As root, run the CLI as nobody against root's daemon, the way a user
	// meets the packaged daemon of user sparkq.
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no account named nobody to run the CLI as")
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	// nobody needs to reach the config file and a copy of the binary.
	if err := os.Chmod(filepath.Dir(f.dir), 0o711); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(f.dir, "bin", "sparkq")
	copyFile(t, filepath.Join(binDir, "sparkq"), bin)
	run := func(args ...string) result {
		cmd := exec.Command(bin, append([]string{"--config", f.cfg}, args...)...)
		cmd.Dir = f.dir
		cmd.Env = env(t.TempDir())
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		r := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			r.code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, c := range []struct {
		args []string
		path string // what the command tried to open
	}{
		{[]string{"status"}, sock},
		{[]string{"enqueue", "--queue", "q", "--tool", "run-bash", "--prompt", "it's"}, sock},
		{[]string{"stop"}, filepath.Join(data, "sparkq.lock")},
	} {
		r := run(c.args...)
		want := []string{
			"Error: cannot reach the daemon: permission denied on " + c.path + "\n",
			"belong to the daemon's user, root.\n",
			"Suggestion: run sparkq as that user: sudo -u root sparkq --config " + f.cfg + " " + c.args[0],
		}
		for _, w := range want {
			if r.code != 1 || !strings.Contains(r.stderr, w) || strings.Contains(r.stderr, "lost the connection") {
				t.Errorf("want exit 1 and %q:\n%s", w, r)
			}
		}
	}
	if r := run("enqueue", "--queue", "q", "--tool", "run-bash", "--prompt", "it's"); !strings.HasSuffix(r.stderr, ` --prompt 'it'\''s'`+"\n") {
		t.Errorf("the suggested command is not quoted for the shell:\n%s", r)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLaunchIgnoresSystemConfig: the packaged service's config is only for
// reaching a daemon. Commands that start one (run, start, restart) must not
// adopt it, or `sudo sparkq start` in an empty folder would start a second,
// root-owned daemon on the service's data.
func TestLaunchIgnoresSystemConfig(t *testing.T) {
	etc := t.TempDir()
	writeFile(t, filepath.Join(etc, "sparkq.yml"), "server:\n  port: 5999\n")
	home := t.TempDir()
	a := newApp(strings.NewReader(""), io.Discard, io.Discard, func(k string) string {
		switch {
		case k == "HOME":
			return home
		case strings.HasPrefix(k, "SPARKQ_"), strings.HasPrefix(k, "XDG_"):
			return ""
		}
		return os.Getenv(k)
	})
	a.systemConfigDirs = []string{etc}
	reach, err := a.loadConfig()
	if err != nil || reach.Server.Port != 5999 {
		t.Fatalf("loadConfig: port %d, %v; want the system config's 5999", reach.Server.Port, err)
	}
	launch, err := a.loadLaunchConfig()
	if err != nil || launch.Server.Port == 5999 {
		t.Fatalf("loadLaunchConfig: port %d, %v; want the defaults, not the system config", launch.Server.Port, err)
	}
	src, err := os.ReadFile("lifecycle.go")
	if err != nil {
		t.Fatal(err)
	}
	// run, start and restart launch a daemon; stop and status only reach one.
	if n := strings.Count(string(src), "a.loadLaunchConfig()"); n != 3 {
		t.Fatalf("lifecycle.go calls loadLaunchConfig %d times, want 3 (run, start, restart)", n)
	}
}
