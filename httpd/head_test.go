package httpd_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/sparkq/sparkq/httpd"
)

// send makes one request without the transport's transparent
// decompression, so the headers are what the server sent.
func (e *env) send(method, path string, header map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	tr := e.srv.Client().Transport.(*http.Transport).Clone()
	tr.DisableCompression = true
	hc := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return resp, body
}

// HEAD answers wherever GET does, with the GET's status and headers and no
// body (it used to be 405 everywhere).
func TestHeadMirrorsGet(t *testing.T) {
	e := newEnv(t, nil)
	_, qid := e.fixture()
	var id string
	for i := range 20 { // over 8 KiB: gzip applies to the list
		id = e.task(qid, map[string]any{"prompt": fmt.Sprintf("task %d: %s", i, strings.Repeat("lorem ipsum ", 20))})["id"].(string)
	}

	// Error messages name the method ("Not found: HEAD /x"), so their
	// lengths differ by design; lengthDiffers marks those.
	paths := []struct {
		path          string
		status        int
		lengthDiffers bool
	}{
		{"/health", 200, false},
		{"/api/version", 200, false},
		{"/stats", 200, false},
		{"/api/tasks?queue_id=" + qid, 200, false},
		{"/api/tasks?limit=0", 400, false},
		{"/api/tasks/" + id, 200, false},
		{"/api/tasks/tsk_000000000000", 404, false},
		{"/api/sessions", 200, false},
		{"/api/queues", 200, false},
		{"/api/queues/" + qid + "/peek", 200, false},
		{"/api/config", 200, false},
		{"/api/prompts", 200, false},
		{"/api/agent-roles", 200, false},
		{"/api/tools", 200, false},
		{"/api/scripts/index", 200, false},
		{"/api/stats/throughput", 200, false},
		{"/", 307, false},
		{"/ui", 307, false},
		{"/ui/", 200, false},
		{"/ui/style.css", 200, false},
		{"/ui/missing.js", 404, true},
		{"/dashboard", 200, false},
		{"/ui-cache-buster.js", 200, false},
		{"/docs", 200, false},
		{"/redoc", 307, false},
		{"/openapi.json", 200, false},
		{"/api/events", 503, false}, // no bus on this listener
		{"/no/such/route", 404, true},
	}
	for _, enc := range []string{"", "gzip"} {
		for _, tc := range paths {
			t.Run(tc.path+" "+enc, func(t *testing.T) {
				hdr := map[string]string{"Accept-Encoding": enc}
				get, getBody := e.send("GET", tc.path, hdr)
				head, headBody := e.send("HEAD", tc.path, hdr)
				if get.StatusCode != tc.status || head.StatusCode != tc.status {
					t.Fatalf("GET %d, HEAD %d, want %d", get.StatusCode, head.StatusCode, tc.status)
				}
				if len(headBody) != 0 {
					t.Errorf("HEAD sent a body: %q", headBody)
				}
				for _, k := range []string{"Content-Type", "Content-Encoding", "Vary", "ETag", "Location", "Cache-Control", "Allow", "Content-Security-Policy"} {
					if g, h := get.Header.Values(k), head.Header.Values(k); !slices.Equal(g, h) {
						t.Errorf("%s: GET %q, HEAD %q", k, g, h)
					}
				}
				if tc.lengthDiffers {
					return
				}
				// An uncompressed GET's Content-Length is the HEAD's too (a
				// body-less GET's 0 may be left out). A compressed length is
				// only known by compressing, which HEAD skips.
				cl := get.Header.Get("Content-Length")
				if cl != "" && cl != "0" && get.Header.Get("Content-Encoding") == "" && head.Header.Get("Content-Length") != cl {
					t.Errorf("Content-Length: GET %q (%d bytes), HEAD %q", cl, len(getBody), head.Header.Get("Content-Length"))
				}
				if cl := head.Header.Get("Content-Length"); cl != "" && cl != fmt.Sprint(len(getBody)) {
					t.Errorf("HEAD Content-Length %s, GET body %d bytes", cl, len(getBody))
				}
			})
		}
	}
	// The large list really went out compressed, so HEAD was checked
	// against a gzip GET too.
	if get, _ := e.send("GET", "/api/tasks?queue_id="+qid, map[string]string{"Accept-Encoding": "gzip"}); get.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("task list not compressed: %v", get.Header)
	}
}

// A 405 lists HEAD exactly where GET is allowed.
func TestAllowListsHead(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		method, path, allow string
	}{
		{"POST", "/health", "GET, HEAD, OPTIONS"},
		{"DELETE", "/api/tasks", "GET, HEAD, OPTIONS, POST"},
		// POST on a task id is itself a 405 (the wildcard's POST serves
		// batch and quick-add only), so Allow leaves it out.
		{"PATCH", "/api/tasks/tsk_000000000000", "DELETE, GET, HEAD, OPTIONS, PUT"},
		{"PATCH", "/api/tasks/batch", "OPTIONS, POST"},
		{"POST", "/api/config/purge/config", "DELETE, OPTIONS, PUT"},
		{"HEAD", "/api/sessions/ses_000000000000/end", "OPTIONS, PUT"},
		{"HEAD", "/api/purge", "OPTIONS, POST"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp, _ := e.send(tc.method, tc.path, nil)
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Fatalf("status %d, want 405", resp.StatusCode)
			}
			if got := resp.Header.Get("Allow"); got != tc.allow {
				t.Errorf("Allow %q, want %q", got, tc.allow)
			}
		})
	}
}

// HEAD /api/events answers at once: no subscription, no open stream.
func TestEventStreamHead(t *testing.T) {
	ls := startLive(t, "127.0.0.1:0", nil)
	// One connection: the GET below can only be answered once the HEAD's
	// handler has returned.
	hc := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Head(ls.url + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("HEAD /api/events: %d %v", resp.StatusCode, resp.Header)
	}
	if n := ls.bus.Subscribers(); n != 0 {
		t.Fatalf("HEAD left %d subscribers: it opened a stream", n)
	}
	resp, err = hc.Get(ls.url + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /health after HEAD: %d", resp.StatusCode)
	}
}

// The control socket's GET routes answer HEAD too.
func TestHeadOnSocketRoutes(t *testing.T) {
	e := newEnv(t, func(c *httpd.Config) { c.Control = &fakeController{} })
	get, body := e.send("GET", "/control/status", nil)
	head, headBody := e.send("HEAD", "/control/status", nil)
	if get.StatusCode != 200 || head.StatusCode != 200 || len(headBody) != 0 || head.Header.Get("Content-Length") != fmt.Sprint(len(body)) {
		t.Fatalf("GET %d (%d bytes), HEAD %d %v %q", get.StatusCode, len(body), head.StatusCode, head.Header, headBody)
	}
}
