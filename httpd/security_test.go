package httpd_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/sparkq/sparkq/httpd"
	"github.com/sparkq/sparkq/store"
)

func TestHostAndOriginChecks(t *testing.T) {
	e := newEnv(t, nil)
	port := mustURL(t, e.srv.URL).Port()

	tests := []struct {
		name   string
		method string
		path   string
		host   string
		origin string
		status int
		msg    string
	}{
		{"loopback IP", "GET", "/health", "127.0.0.1:" + port, "", 200, ""},
		{"localhost", "GET", "/health", "localhost:" + port, "", 200, ""},
		{"localhost any case, no port", "GET", "/health", "LocalHost", "", 200, ""},
		{"IPv6 loopback", "GET", "/health", "[::1]:" + port, "", 200, ""},
		{"rebinding name", "GET", "/health", "evil.example:" + port, "", 403, "Host not allowed: evil.example:" + port},
		{"LAN address", "GET", "/stats", "192.168.1.5:" + port, "", 403, "Host not allowed: 192.168.1.5:" + port},
		{"unknown route still guarded", "GET", "/nope", "evil.example", "", 403, "Host not allowed: evil.example"},
		{"same-origin POST", "POST", "/api/purge", "localhost:" + port, "http://localhost:" + port, 200, ""},
		{"same-origin POST via IP", "POST", "/api/purge", "127.0.0.1:" + port, "http://127.0.0.1:" + port, 200, ""},
		{"cross-origin POST", "POST", "/api/purge", "127.0.0.1:" + port, "http://evil.example", 403, "Origin not allowed: http://evil.example"},
		{"other local port", "POST", "/api/purge", "127.0.0.1:" + port, "http://localhost:1", 403, "Origin not allowed: http://localhost:1"},
		{"null origin", "DELETE", "/api/tasks/tsk_000000000000", "127.0.0.1:" + port, "null", 403, "Origin not allowed: null"},
		{"cross-origin PUT", "PUT", "/api/sessions/x", "127.0.0.1:" + port, "https://evil.example", 403, "Origin not allowed: https://evil.example"},
		{"cross-origin GET is harmless", "GET", "/health", "127.0.0.1:" + port, "http://evil.example", 200, ""},
		{"POST without Origin (CLI, curl)", "POST", "/api/purge", "127.0.0.1:" + port, "", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mods := []func(*http.Request){withHost(tc.host)}
			if tc.origin != "" {
				mods = append(mods, withHeader("Origin", tc.origin))
			}
			r := e.do(tc.method, tc.path, nil, mods...)
			if tc.status == 200 {
				if r.status != 200 {
					t.Fatalf("status %d, want 200: %s", r.status, r.raw)
				}
				return
			}
			wantError(t, r, tc.status, tc.msg)
		})
	}
}

func TestConfiguredHostsAndOrigins(t *testing.T) {
	e := newEnv(t, func(c *httpd.Config) {
		c.AllowedHosts = []string{"sparkq.lan"}
		c.AllowedOrigins = []string{"https://dash.sparkq.lan/"}
	})
	tests := []struct {
		name, method, host, origin string
		status                     int
	}{
		{"configured host", "GET", "sparkq.lan:8080", "", 200},
		{"default host no longer allowed", "GET", "localhost", "", 403},
		{"configured origin", "POST", "sparkq.lan", "https://dash.sparkq.lan", 200},
		// Listing CORS origins must not lock the dashboard itself out.
		{"same-origin still allowed when origins are listed", "POST", "sparkq.lan", "http://sparkq.lan", 200},
		{"same name, other port", "POST", "sparkq.lan", "http://sparkq.lan:8080", 403},
		{"unlisted origin", "POST", "sparkq.lan", "https://evil.example", 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mods := []func(*http.Request){withHost(tc.host)}
			if tc.origin != "" {
				mods = append(mods, withHeader("Origin", tc.origin))
			}
			if r := e.do(tc.method, "/api/purge", nil, mods...); tc.method == "GET" {
				// GET /api/purge is a 405 once past the guard.
				if (r.status == 403) != (tc.status == 403) {
					t.Errorf("status %d, want guard status %d", r.status, tc.status)
				}
			} else if r.status != tc.status {
				t.Errorf("status %d, want %d: %s", r.status, tc.status, r.raw)
			}
		})
	}
}

// fakeController records control calls.
type fakeController struct {
	reloadErr error
	shutdown  chan struct{}
}

func (f *fakeController) Status(context.Context) any {
	return map[string]any{"pid": 42, "version": "test-build"}
}
func (f *fakeController) Reload(context.Context) error { return f.reloadErr }
func (f *fakeController) Shutdown()                    { close(f.shutdown) }

func TestControlRoutes(t *testing.T) {
	ctl := &fakeController{shutdown: make(chan struct{})}
	e := newEnv(t, func(c *httpd.Config) { c.Control = ctl })

	// The socket handler skips Host/Origin checks: file mode guards it.
	st := e.ok(200, "GET", "/control/status", nil)
	if st["pid"] != 42.0 || st["version"] != "test-build" {
		t.Errorf("status = %v", st)
	}
	r := e.do("POST", "/api/purge", nil, withHost("evil.example"), withHeader("Origin", "http://evil.example"))
	if r.status != 200 {
		t.Errorf("socket handler applied the TCP guard: %d %s", r.status, r.raw)
	}

	if got := e.ok(200, "POST", "/control/reload", nil); got["status"] != "ok" || got["message"] != "Configuration reloaded" {
		t.Errorf("reload = %v", got)
	}
	ctl.reloadErr = store.Invalid("server.port", "server.port must be a number")
	wantError(t, e.do("POST", "/control/reload", nil), 400, "server.port must be a number")
	ctl.reloadErr = errors.New("disk on fire")
	wantError(t, e.do("POST", "/control/reload", nil), 500, "Internal server error")
	wantError(t, e.do("GET", "/control/reload", nil), 405, "Method not allowed: GET /control/reload")

	got := e.do("POST", "/control/shutdown", nil)
	if got.status != http.StatusAccepted || got.body["status"] != "ok" || got.body["message"] != "Shutting down" {
		t.Fatalf("shutdown = %d %s", got.status, got.raw)
	}
	<-ctl.shutdown // called once the response is out; the test timeout catches a hang
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
