package sdnotify_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sparkq/sparkq/daemon/sdnotify"
)

// listen opens a datagram socket like the one systemd creates for a unit.
func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func receive(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestNotify(t *testing.T) {
	sockets := map[string]string{"path": filepath.Join(t.TempDir(), "notify")}
	if runtime.GOOS == "linux" {
		sockets["abstract"] = fmt.Sprintf("@sparkq-sdnotify-test-%d", os.Getpid())
	}
	for name, addr := range sockets {
		t.Run(name, func(t *testing.T) {
			conn := listen(t, addr)
			n := sdnotify.FromEnv(env(map[string]string{"NOTIFY_SOCKET": addr}))
			if !n.Enabled() {
				t.Fatal("Enabled() = false with NOTIFY_SOCKET set")
			}
			if err := n.Notify(sdnotify.Ready, "STATUS=serving"); err != nil {
				t.Fatal(err)
			}
			if got, want := receive(t, conn), "READY=1\nSTATUS=serving\n"; got != want {
				t.Fatalf("datagram = %q, want %q", got, want)
			}
			if err := n.Notify(sdnotify.Stopping); err != nil {
				t.Fatal(err)
			}
			if got, want := receive(t, conn), "STOPPING=1\n"; got != want {
				t.Fatalf("datagram = %q, want %q", got, want)
			}
		})
	}
}

func TestNotifyWithoutServiceManager(t *testing.T) {
	n := sdnotify.FromEnv(env(nil))
	if n.Enabled() {
		t.Fatal("Enabled() = true without NOTIFY_SOCKET")
	}
	if err := n.Notify(sdnotify.Ready); err != nil {
		t.Fatalf("Notify without a socket: %v", err)
	}
}

func TestNotifyErrors(t *testing.T) {
	for name, addr := range map[string]string{
		"vsock":   "vsock:2:9999",
		"missing": filepath.Join(t.TempDir(), "gone"),
	} {
		t.Run(name, func(t *testing.T) {
			err := sdnotify.FromEnv(env(map[string]string{"NOTIFY_SOCKET": addr})).Notify(sdnotify.Ready)
			if err == nil || !strings.Contains(err.Error(), addr) {
				t.Fatalf("Notify to %s: err = %v, want an error naming the socket", addr, err)
			}
		})
	}
}
