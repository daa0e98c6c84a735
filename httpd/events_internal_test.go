package httpd

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparkq/sparkq/httpd/events"
	"github.com/sparkq/sparkq/store/sqlite"
)

// An idle stream sends heartbeat comments.
func TestEventStreamHeartbeat(t *testing.T) {
	old := sseHeartbeat
	sseHeartbeat = 20 * time.Millisecond
	t.Cleanup(func() { sseHeartbeat = old })

	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sparkq.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bus := events.New(0)
	srv := httptest.NewServer(New(Config{Store: events.Wrap(st, bus), Events: bus}))
	t.Cleanup(srv.Close)
	t.Cleanup(bus.Close) // before srv.Close, which waits for the stream

	resp, err := http.Get(srv.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	for pings := 0; pings < 2; {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if strings.TrimSpace(line) == ": ping" {
			pings++
		}
	}
}
