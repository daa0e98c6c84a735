// Package sdnotify tells systemd how the daemon is doing, as sd_notify(3)
// does: one datagram of newline-separated KEY=VALUE lines sent to the Unix
// socket named by $NOTIFY_SOCKET. It needs no cgo and no libsystemd.
//
// A unit with Type=notify counts the service as started only when READY=1
// arrives, so `systemctl start` returns, and units ordered after it start,
// once the daemon really accepts connections.
package sdnotify

import (
	"fmt"
	"net"
	"strings"
)

// States the daemon sends.
const (
	Ready    = "READY=1"
	Stopping = "STOPPING=1"
)

// Notifier sends state to one service manager socket. The zero value has no
// socket and sends nothing, so callers need not check whether a service
// manager is listening.
type Notifier struct {
	addr string
}

// FromEnv returns a Notifier for $NOTIFY_SOCKET as read through getenv.
func FromEnv(getenv func(string) string) Notifier {
	return Notifier{addr: getenv("NOTIFY_SOCKET")}
}

// Enabled reports whether a service manager asked for notifications.
func (n Notifier) Enabled() bool { return n.addr != "" }

// Notify sends the given KEY=VALUE lines in one datagram.
func (n Notifier) Notify(state ...string) error {
	if n.addr == "" {
		return nil
	}
	// systemd passes a filesystem path or, for an abstract socket, a name
	// starting with "@" (Go's net package maps that to the leading NUL). It
	// may also pass vsock: addresses to virtual machines, which SparkQ does
	// not run in as a service.
	if !strings.HasPrefix(n.addr, "/") && !strings.HasPrefix(n.addr, "@") {
		return fmt.Errorf("notify service manager: unsupported NOTIFY_SOCKET %q", n.addr)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: n.addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("notify service manager at %s: %w", n.addr, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(strings.Join(state, "\n") + "\n")); err != nil {
		return fmt.Errorf("notify service manager at %s: %w", n.addr, err)
	}
	return nil
}
