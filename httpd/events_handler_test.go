package httpd_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparkq/sparkq/httpd"
	"github.com/sparkq/sparkq/httpd/events"
	"github.com/sparkq/sparkq/store/sqlite"
)

// liveServer is the daemon's wiring in small: a real SQLite store wrapped to
// publish on a bus, served over real TCP by an http.Server that closes the
// bus when it shuts down, as the daemon does.
type liveServer struct {
	t     testing.TB
	url   string
	store *sqlite.Store
	bus   *events.Bus
	srv   *http.Server
	ln    net.Listener
	done  chan error
	token string // sent by call when the handler requires one
}

// startLive serves on addr ("127.0.0.1:0" for any port) with st, or a new
// store in a temp dir when st is nil; configure may adjust the handler.
func startLive(t testing.TB, addr string, st *sqlite.Store, configure ...func(*httpd.Config)) *liveServer {
	t.Helper()
	if st == nil {
		var err error
		st, err = sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sparkq.db"), sqlite.Options{})
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		t.Cleanup(func() { st.Close() })
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	bus := events.New(0)
	cfg := httpd.Config{Store: events.Wrap(st, bus), Events: bus}
	for _, c := range configure {
		c(&cfg)
	}
	srv := &http.Server{Handler: httpd.New(cfg), ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(bus.Close)
	ls := &liveServer{t: t, url: "http://" + ln.Addr().String(), store: st, bus: bus, srv: srv, ln: ln, done: make(chan error, 1), token: cfg.APIToken}
	go func() { ls.done <- srv.Serve(ln) }()
	t.Cleanup(func() { ls.stop() })
	return ls
}

// stop shuts the server down and reports how it went; open event streams
// must not hold it up.
func (ls *liveServer) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := ls.srv.Shutdown(ctx)
	if serr := <-ls.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	ls.done <- http.ErrServerClosed // stop is idempotent
	return err
}

// call sends a JSON request and decodes the JSON reply.
func (ls *liveServer) call(method, path string, body any, want int) map[string]any {
	ls.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			ls.t.Fatal(err)
		}
		rd = strings.NewReader(string(raw))
	}
	req, err := http.NewRequest(method, ls.url+path, rd)
	if err != nil {
		ls.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if ls.token != "" {
		req.Header.Set("Authorization", "Bearer "+ls.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ls.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		ls.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	out := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			ls.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return out
}

// fixture creates a session and a queue and returns the queue id.
func (ls *liveServer) fixture(queue string) string {
	ls.t.Helper()
	sess := ls.call("POST", "/api/sessions", map[string]any{"name": "s-" + queue}, 200)["session"].(map[string]any)
	q := ls.call("POST", "/api/queues", map[string]any{"session_id": sess["id"], "name": queue}, 201)["queue"].(map[string]any)
	return q["id"].(string)
}

// sse reads a server-sent event stream.
type sse struct {
	t    *testing.T
	body io.ReadCloser
	rd   *bufio.Reader
}

type sseEvent struct {
	id, event string
	data      map[string]any
}

func openStream(t *testing.T, url string) *sse {
	t.Helper()
	resp, err := http.Get(url + "/api/events")
	if err != nil {
		t.Fatalf("GET /api/events: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /api/events: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	return &sse{t: t, body: resp.Body, rd: bufio.NewReader(resp.Body)}
}

// block reads the next blank-line-terminated block of lines.
func (s *sse) block() ([]string, error) {
	var lines []string
	for {
		line, err := s.rd.ReadString('\n')
		if err != nil {
			return lines, err
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			return lines, nil
		}
		lines = append(lines, line)
	}
}

// next returns the next event, skipping comments (heartbeats).
func (s *sse) next() sseEvent {
	s.t.Helper()
	for {
		lines, err := s.block()
		if err != nil {
			s.t.Fatalf("read stream: %v (got %q)", err, lines)
		}
		var e sseEvent
		for _, l := range lines {
			switch {
			case strings.HasPrefix(l, "id: "):
				e.id = strings.TrimPrefix(l, "id: ")
			case strings.HasPrefix(l, "event: "):
				e.event = strings.TrimPrefix(l, "event: ")
			case strings.HasPrefix(l, "data: "):
				if err := json.Unmarshal([]byte(strings.TrimPrefix(l, "data: ")), &e.data); err != nil {
					s.t.Fatalf("event data %q: %v", l, err)
				}
			}
		}
		if e.event != "" {
			return e
		}
	}
}

func TestEventStream(t *testing.T) {
	ls := startLive(t, "127.0.0.1:0", nil)
	stream := openStream(t, ls.url)
	hello, err := stream.block()
	if err != nil || len(hello) != 2 || hello[0] != "retry: 2000" || hello[1] != ": connected" {
		t.Fatalf("stream starts with %q, %v; want a retry hint and a comment", hello, err)
	}

	qid := ls.fixture("live")
	task := ls.call("POST", "/api/tasks", map[string]any{"queue_id": qid, "tool_name": "run-bash"}, 200)["task"].(map[string]any)
	tid := task["id"].(string)
	ls.call("POST", "/api/tasks/"+tid+"/claim", nil, 200)
	ls.call("POST", "/api/tasks/"+tid+"/complete", map[string]any{"result_summary": "done"}, 200)

	want := []struct{ event, id, status string }{
		{"session.created", "", "active"},
		{"queue.created", qid, "active"},
		{"task.created", tid, "queued"},
		{"task.claimed", tid, "running"},
		{"task.completed", tid, "succeeded"},
	}
	prev := 0
	for _, w := range want {
		e := stream.next()
		if e.event != w.event || e.data["type"] != w.event || (w.id != "" && e.data["id"] != w.id) || e.data["status"] != w.status {
			t.Fatalf("got %s %v, want %s id=%s status=%s", e.event, e.data, w.event, w.id, w.status)
		}
		if strings.HasPrefix(w.event, "task.") && e.data["queue_id"] != qid {
			t.Errorf("%s: queue_id %v, want %s", w.event, e.data["queue_id"], qid)
		}
		var seq int
		if err := json.Unmarshal([]byte(e.id), &seq); err != nil || seq <= prev {
			t.Errorf("%s: id %q not increasing after %d", w.event, e.id, prev)
		}
		prev = seq
	}
}

// Shutdown must not wait for open streams: closing the bus ends them.
func TestEventStreamEndsOnShutdown(t *testing.T) {
	ls := startLive(t, "127.0.0.1:0", nil)
	stream := openStream(t, ls.url)
	if _, err := stream.block(); err != nil {
		t.Fatal(err)
	}
	if err := ls.stop(); err != nil {
		t.Fatalf("Shutdown with an open event stream: %v", err)
	}
	if _, err := io.ReadAll(stream.body); err != nil {
		t.Fatalf("stream did not end cleanly: %v", err)
	}
	if n := ls.bus.Subscribers(); n != 0 {
		t.Errorf("%d subscribers left", n)
	}
}

// A client going away ends its subscription.
func TestEventStreamClientGone(t *testing.T) {
	ls := startLive(t, "127.0.0.1:0", nil)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", ls.url+"/api/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ls.bus.Subscribers() != 1 {
		t.Fatalf("%d subscribers, want 1", ls.bus.Subscribers())
	}
	cancel()
	resp.Body.Close()
	for i := 0; ls.bus.Subscribers() != 0; i++ {
		if i > 500 {
			t.Fatal("subscription outlived its client")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEventStreamDisabled(t *testing.T) {
	e := newEnv(t, nil)
	wantError(t, e.do("GET", "/api/events", nil), http.StatusServiceUnavailable, "Live updates are not enabled on this listener")
}

func TestThroughput(t *testing.T) {
	e := newEnv(t, nil) // fake clock: 2026-01-02 03:04:05
	_, qid := e.fixture()
	finish := func(ok bool) {
		id := e.task(qid, nil)["id"].(string)
		e.ok(200, "POST", "/api/tasks/"+id+"/claim", nil)
		if ok {
			e.ok(200, "POST", "/api/tasks/"+id+"/complete", map[string]any{"result_summary": "ok"})
		} else {
			e.ok(200, "POST", "/api/tasks/"+id+"/fail", map[string]any{"error_message": "no"})
		}
	}
	finish(true) // 03:04
	e.clock.Advance(2 * time.Minute)
	finish(true) // 03:06
	finish(false)
	e.clock.Advance(time.Minute) // now 03:07:05

	body := e.ok(200, "GET", "/api/stats/throughput?minutes=4", nil)
	if body["minutes"] != 4.0 || body["succeeded"] != 2.0 || body["failed"] != 1.0 {
		t.Errorf("totals %v", body)
	}
	if body["since"] != "2026-01-02T03:04:00.000000Z" || body["until"] != "2026-01-02T03:08:00.000000Z" {
		t.Errorf("window %v – %v, want 03:04 – 03:08", body["since"], body["until"])
	}
	buckets := body["buckets"].([]any)
	want := []struct {
		minute    string
		succeeded float64
		failed    float64
	}{
		{"2026-01-02T03:04:00.000000Z", 1, 0},
		{"2026-01-02T03:05:00.000000Z", 0, 0},
		{"2026-01-02T03:06:00.000000Z", 1, 1},
		{"2026-01-02T03:07:00.000000Z", 0, 0},
	}
	if len(buckets) != len(want) {
		t.Fatalf("%d buckets, want %d: %v", len(buckets), len(want), buckets)
	}
	for i, w := range want {
		b := buckets[i].(map[string]any)
		if b["minute"] != w.minute || b["succeeded"] != w.succeeded || b["failed"] != w.failed {
			t.Errorf("bucket %d = %v, want %+v", i, b, w)
		}
	}

	if got := e.ok(200, "GET", "/api/stats/throughput", nil)["buckets"].([]any); len(got) != 60 {
		t.Errorf("default window has %d buckets, want 60", len(got))
	}
	wantError(t, e.do("GET", "/api/stats/throughput?minutes=0", nil), http.StatusBadRequest, "minutes must be at least 1")
	wantError(t, e.do("GET", "/api/stats/throughput?minutes=1441", nil), http.StatusBadRequest, "minutes must be at most 1440")
}
