package daemon_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sparkq/sparkq/control"
)

// notifySocket is a stand-in for the datagram socket systemd gives a
// Type=notify unit in $NOTIFY_SOCKET.
type notifySocket struct {
	path string
	conn *net.UnixConn
	msgs chan string
}

func newNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	n := &notifySocket{path: path, conn: conn, msgs: make(chan string, 16)}
	go func() {
		defer close(n.msgs)
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				return // closed by Cleanup
			}
			n.msgs <- string(buf[:k])
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return n
}

// next waits for the next datagram, failing if the daemon exits first.
func (n *notifySocket) next(t *testing.T, p *proc, stderr *bytes.Buffer) string {
	t.Helper()
	select {
	case m := <-n.msgs:
		return m
	case <-p.done:
		// A datagram sent just before exiting is still queued.
		select {
		case m := <-n.msgs:
			return m
		default:
		}
		t.Fatalf("sparkqd exited (%v) before notifying\n%s", p.err, stderr)
	case <-time.After(60 * time.Second): // a hang guard, not a timing check
		t.Fatalf("no notification within 60 s\n%s", stderr)
	}
	return ""
}

func startNotified(t *testing.T, in instance, sock string) (*proc, *bytes.Buffer) {
	t.Helper()
	// No --quiet: under a service manager the log goes to stderr (the
	// journal) as well as to the log file.
	p := &proc{cmd: exec.Command(sparkqd, "run", "--config", in.cfgPath), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock)
	stderr := new(bytes.Buffer)
	p.cmd.Stderr = stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p, stderr
}

// TestNotifyReadyAfterListenersAndStopping plays systemd's part for a
// Type=notify unit: READY=1 must mean both listeners accept, so each is
// used once, at once, with no retry; SIGTERM must bring STOPPING=1 and a
// clean exit.
func TestNotifyReadyAfterListenersAndStopping(t *testing.T) {
	in := newInstance(t)
	ns := newNotifySocket(t)
	p, stderr := startNotified(t, in, ns.path)

	if msg := ns.next(t, p, stderr); msg != "READY=1\n" {
		t.Fatalf("first notification = %q, want READY=1 before anything else", msg)
	}
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(in.cfg.Server.Port) + "/health")
	if err != nil {
		t.Fatalf("HTTP listener not accepting at READY=1: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /health at READY=1: %s", resp.Status)
	}
	st, err := control.Dial(in.cfg.SocketPath()).Status(context.Background())
	if err != nil {
		t.Fatalf("control socket not accepting at READY=1: %v", err)
	}
	if st.ServiceManager != "systemd" {
		t.Errorf("status service_manager = %q, want systemd (from $NOTIFY_SOCKET)", st.ServiceManager)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if msg := ns.next(t, p, stderr); msg != "STOPPING=1\n" {
		t.Fatalf("notification after SIGTERM = %q, want STOPPING=1", msg)
	}
	<-p.done
	if p.err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", p.err, stderr)
	}
	log, err := os.ReadFile(in.cfg.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range map[string]string{"log file": string(log), "stderr": stderr.String()} {
		if !strings.Contains(out, "sparkq started") || !strings.Contains(out, "sparkq stopped") {
			t.Errorf("%s lacks the start and stop lines:\n%s", out, out)
		}
	}
}

// TestNoReadyWhenAListenerFails: with the HTTP port taken the daemon exits
// without ever saying READY=1, so systemd reports a failed start.
func TestNoReadyWhenAListenerFails(t *testing.T) {
	in := newInstance(t)
	taken, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(in.cfg.Server.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	ns := newNotifySocket(t)
	p, stderr := startNotified(t, in, ns.path)
	<-p.done
	var exit *exec.ExitError
	if !errors.As(p.err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit with the port taken: %v, want status 1\n%s", p.err, stderr)
	}
	// Anything the daemon sent is queued ahead of this marker: datagrams on
	// a Unix socket keep their order.
	mark, err := net.Dial("unixgram", ns.path)
	if err != nil {
		t.Fatal(err)
	}
	defer mark.Close()
	if _, err := mark.Write([]byte("END")); err != nil {
		t.Fatal(err)
	}
	for msg := range ns.msgs {
		if msg == "END" {
			return
		}
		if strings.Contains(msg, "READY=1") {
			t.Fatalf("sent %q although the HTTP listener failed\n%s", msg, stderr)
		}
	}
}
