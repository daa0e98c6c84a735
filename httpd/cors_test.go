package httpd_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/sparkq/sparkq/httpd"
)

func TestCORS(t *testing.T) {
	const app = "http://localhost:3000"
	e := newEnv(t, func(c *httpd.Config) {
		c.AllowedOrigins = []string{app + "/"}
		c.AllowCredentials = true
		c.APIToken = testToken // preflights carry no token and must still pass
	})
	preflight := func(origin, method, headers string) response {
		mods := []func(*http.Request){withHeader("Origin", origin), withHeader("Access-Control-Request-Method", method)}
		if headers != "" {
			mods = append(mods, withHeader("Access-Control-Request-Headers", headers))
		}
		return e.do("OPTIONS", "/api/tasks", nil, mods...)
	}

	t.Run("preflight from a configured origin", func(t *testing.T) {
		r := preflight(app, "POST", "authorization, content-type")
		if r.status != http.StatusNoContent {
			t.Fatalf("status %d: %s", r.status, r.raw)
		}
		for k, want := range map[string]string{
			"Access-Control-Allow-Origin":      app,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Headers":     "authorization, content-type",
			"Access-Control-Max-Age":           "600",
		} {
			if got := r.header.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		if m := r.header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, "POST") || !strings.Contains(m, "DELETE") {
			t.Errorf("Access-Control-Allow-Methods = %q", m)
		}
		if !slices.Contains(r.header.Values("Vary"), "Origin") {
			t.Errorf("Vary = %q, want Origin", r.header.Values("Vary"))
		}
	})
	t.Run("preflight from another origin", func(t *testing.T) {
		r := preflight("http://evil.example", "POST", "")
		wantError(t, r, 403, "Origin not allowed: http://evil.example")
		noCORS(t, r)
	})
	t.Run("requests from a configured origin", func(t *testing.T) {
		r := e.do("GET", "/api/sessions", nil, withToken(testToken), withHeader("Origin", app))
		if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != app || r.header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Fatalf("status %d, CORS headers %v", r.status, r.header)
		}
		// Its page can read errors too, including the token challenge.
		r = e.do("POST", "/api/sessions", map[string]any{"name": "s"}, withHeader("Origin", app))
		wantError(t, r, 401, "…")
		if r.header.Get("Access-Control-Allow-Origin") != app || !strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "WWW-Authenticate") {
			t.Errorf("401 without CORS headers: %v", r.header)
		}
		r = e.do("POST", "/api/sessions", map[string]any{"name": "s"}, withToken(testToken), withHeader("Origin", app))
		if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != app {
			t.Errorf("write from a configured origin: %d %v", r.status, r.header)
		}
	})
	t.Run("requests from another origin", func(t *testing.T) {
		r := e.do("GET", "/api/sessions", nil, withToken(testToken), withHeader("Origin", "http://evil.example"))
		if r.status != 200 {
			t.Fatalf("status %d", r.status)
		}
		noCORS(t, r) // the browser hides the answer from that page
		r = e.do("POST", "/api/sessions", map[string]any{"name": "x"}, withToken(testToken), withHeader("Origin", "http://evil.example"))
		wantError(t, r, 403, "Origin not allowed: http://evil.example")
		noCORS(t, r)
	})
	t.Run("credentials only when configured", func(t *testing.T) {
		e := newEnv(t, func(c *httpd.Config) { c.AllowedOrigins = []string{app} })
		r := e.do("GET", "/health", nil, withHeader("Origin", app))
		if r.header.Get("Access-Control-Allow-Origin") != app || r.header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("headers %v", r.header)
		}
	})
	t.Run("no origins configured", func(t *testing.T) {
		e := newEnv(t, nil)
		noCORS(t, e.do("GET", "/health", nil, withHeader("Origin", app)))
		r := e.do("OPTIONS", "/api/tasks", nil, withHeader("Origin", app), withHeader("Access-Control-Request-Method", "POST"))
		noCORS(t, r)
	})
}

func noCORS(t *testing.T, r response) {
	t.Helper()
	for k := range r.header {
		if strings.HasPrefix(k, "Access-Control-") {
			t.Errorf("unexpected %s: %q", k, r.header.Get(k))
		}
	}
}
