package control_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkq/sparkq/control"
)

// A daemon that drops a request mid-way (killed, restarting) used to show a
// raw "connection reset by peer"; the error now says what it means.
func TestLostConnectionIsExplained(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close() // hang up without answering
		}
	}()
	_, err = control.Dial(sock).GetTask(context.Background(), "tsk_0123456789ab")
	if err == nil || errors.Is(err, control.ErrNotRunning) || !strings.Contains(err.Error(), "lost the connection to the daemon") {
		t.Fatalf("err = %v", err)
	}
}
