package httpd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparkq/sparkq/httpd"
	"github.com/sparkq/sparkq/store/sqlite"
)

// clock is a fake time source shared by the store and the handler.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 678901000, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t     *testing.T
	srv   *httptest.Server
	store *sqlite.Store
	clock *clock
	hc    *http.Client
}

// newEnv serves a real SQLite store in a temp dir over real HTTP. configure
// may adjust the handler's Config.
func newEnv(t *testing.T, configure func(*httpd.Config)) *env {
	t.Helper()
	clk := newClock()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sparkq.db"), sqlite.Options{Now: clk.Now})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := httpd.Config{Store: st, Version: "test-build", Clock: clk.Now}
	if configure != nil {
		configure(&cfg)
	}
	srv := httptest.NewServer(httpd.New(cfg))
	t.Cleanup(srv.Close)
	hc := srv.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &env{t: t, srv: srv, store: st, clock: clk, hc: hc}
}

// response is a decoded reply.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends body (nil: none; string: raw; anything else: JSON) and decodes a
// JSON object reply when there is one.
func (e *env) do(method, path string, body any, mods ...func(*http.Request)) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatalf("build request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, m := range mods {
		m(req)
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("read %s %s: %v", method, path, err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			e.t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return r
}

// ok sends a request that must answer want and returns its body.
func (e *env) ok(want int, method, path string, body any) map[string]any {
	e.t.Helper()
	r := e.do(method, path, body)
	if r.status != want {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, want, r.raw)
	}
	return r.body
}

// wantError checks the error envelope. msg is matched as a prefix of the
// text after "Error: " when it ends in "…", exactly otherwise.
func wantError(t *testing.T, r response, status int, msg string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.raw)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	got, _ := r.body["error"].(string)
	if prefix, ok := strings.CutSuffix(msg, "…"); ok {
		if !strings.HasPrefix(got, "Error: "+prefix) {
			t.Errorf("error %q, want prefix %q", got, "Error: "+prefix)
		}
	} else if got != "Error: "+msg {
		t.Errorf("error %q, want %q", got, "Error: "+msg)
	}
	if s, _ := r.body["status"].(float64); int(s) != status {
		t.Errorf("envelope status %v, want %d", r.body["status"], status)
	}
}

func field(t *testing.T, body map[string]any, key string) map[string]any {
	t.Helper()
	v, ok := body[key].(map[string]any)
	if !ok {
		t.Fatalf("%s missing or not an object in %v", key, body)
	}
	return v
}

func (e *env) session(name string) string {
	e.t.Helper()
	return field(e.t, e.ok(http.StatusOK, "POST", "/api/sessions", map[string]any{"name": name}), "session")["id"].(string)
}

func (e *env) queue(sessionID, name string) string {
	e.t.Helper()
	body := e.ok(http.StatusCreated, "POST", "/api/queues", map[string]any{"session_id": sessionID, "name": name})
	return field(e.t, body, "queue")["id"].(string)
}

func (e *env) task(queueID string, extra map[string]any) map[string]any {
	e.t.Helper()
	body := map[string]any{"queue_id": queueID, "tool_name": "run-bash"}
	for k, v := range extra {
		body[k] = v
	}
	return field(e.t, e.ok(http.StatusOK, "POST", "/api/tasks", body), "task")
}

// fixture is one session with one queue.
func (e *env) fixture() (sessionID, queueID string) {
	e.t.Helper()
	sessionID = e.session("s1")
	return sessionID, e.queue(sessionID, "Back End")
}

func withHost(host string) func(*http.Request) {
	return func(r *http.Request) { r.Host = host }
}

func withHeader(k, v string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(k, v) }
}
