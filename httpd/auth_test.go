package httpd_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sparkq/sparkq/httpd"
)

const testToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func withToken(tok string) func(*http.Request) {
	return withHeader("Authorization", "Bearer "+tok)
}

func TestAPIToken(t *testing.T) {
	e := newEnv(t, func(c *httpd.Config) { c.APIToken = testToken })
	tests := []struct {
		name, method, path string
		auth               string // Authorization header; "" sends none
		status             int
		challenge          string // WWW-Authenticate on 401
	}{
		{"no token", "GET", "/api/sessions", "", 401, `Bearer realm="sparkq"`},
		{"no token, counters", "GET", "/stats", "", 401, `Bearer realm="sparkq"`},
		{"no token, write", "POST", "/api/purge", "", 401, `Bearer realm="sparkq"`},
		{"no token, unknown route", "GET", "/api/nope", "", 401, `Bearer realm="sparkq"`},
		{"wrong token", "GET", "/api/sessions", "Bearer " + strings.Repeat("0", 64), 401, `Bearer realm="sparkq", error="invalid_token"`},
		{"token prefix", "GET", "/api/sessions", "Bearer " + testToken[:63], 401, `Bearer realm="sparkq", error="invalid_token"`},
		{"token plus more", "GET", "/api/sessions", "Bearer " + testToken + "0", 401, `Bearer realm="sparkq", error="invalid_token"`},
		{"other scheme", "GET", "/api/sessions", "Basic " + testToken, 401, `Bearer realm="sparkq"`},
		{"scheme only", "GET", "/api/sessions", "Bearer ", 401, `Bearer realm="sparkq"`},
		{"right token", "GET", "/api/sessions", "Bearer " + testToken, 200, ""},
		{"scheme is case-insensitive", "GET", "/api/sessions", "bearer " + testToken, 200, ""},
		{"right token, write", "POST", "/api/purge", "Bearer " + testToken, 200, ""},
		// Public: same bytes for everyone, no queue data.
		{"health is public", "GET", "/health", "", 200, ""},
		{"description is public", "GET", "/openapi.json", "", 200, ""},
		{"docs are public", "GET", "/docs", "", 200, ""},
		{"docs assets are public", "GET", "/docs/init.js", "", 200, ""},
		{"dashboard shell is public", "GET", "/ui/", "", 200, ""},
		{"only reads are public", "DELETE", "/health", "", 401, `Bearer realm="sparkq"`},
		{"version is not public", "GET", "/api/version", "", 401, `Bearer realm="sparkq"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mods []func(*http.Request)
			if tc.auth != "" {
				mods = append(mods, withHeader("Authorization", tc.auth))
			}
			r := e.do(tc.method, tc.path, nil, mods...)
			if tc.status != 401 {
				if r.status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.raw)
				}
				return
			}
			wantError(t, r, 401, "…")
			if got := r.header.Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.challenge)
			}
		})
	}

	// HEAD of a public page passes the token check, like its GET.
	if resp, err := e.hc.Head(e.srv.URL + "/health"); err != nil || resp.StatusCode != 200 {
		t.Errorf("HEAD /health without token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// The Host and Origin checks still apply to authenticated requests.
	wantError(t, e.do("GET", "/api/sessions", nil, withToken(testToken), withHost("evil.example")), 403, "Host not allowed: evil.example")
	wantError(t, e.do("POST", "/api/purge", nil, withToken(testToken), withHeader("Origin", "http://evil.example")),
		403, "Origin not allowed: http://evil.example")
	// Without a token configured nothing is asked for.
	plain := newEnv(t, nil)
	if r := plain.do("GET", "/api/sessions", nil); r.status != 200 {
		t.Errorf("no token configured: status %d", r.status)
	}
}

// The control socket is guarded by its file mode: no token, Host or Origin
// checks, even when the TCP listener has a token.
func TestAPITokenNotOnSocket(t *testing.T) {
	e := newEnv(t, func(c *httpd.Config) {
		c.APIToken = testToken
		c.Control = &fakeController{shutdown: make(chan struct{})}
	})
	if r := e.do("GET", "/api/sessions", nil, withHost("sparkq")); r.status != 200 {
		t.Fatalf("socket handler asked for a token: %d %s", r.status, r.raw)
	}
}
