package httpd

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// requireToken makes every TCP request present "Authorization: Bearer
// <token>" (Config.APIToken), except reads of publicRoute paths. Without a
// token it is a no-op; the Unix socket never uses it (file mode guards it).
func (s *server) requireToken(next http.Handler, token string) http.Handler {
	if token == "" {
		return next
	}
	// Comparing fixed-size digests keeps the comparison constant-time even
	// in the token's length.
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && publicRoute(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		got, ok := bearer(r.Header.Get("Authorization"))
		if ok {
			sum := sha256.Sum256([]byte(got))
			if subtle.ConstantTimeCompare(sum[:], want[:]) == 1 {
				next.ServeHTTP(w, r)
				return
			}
		}
		challenge := `Bearer realm="sparkq"`
		msg := "Missing API token: send Authorization: Bearer <token> (see server.api_token_file)"
		if ok {
			challenge += `, error="invalid_token"`
			msg = "Invalid API token"
		}
		w.Header().Set("WWW-Authenticate", challenge)
		// Do not read (or wait for) the body of a request we refuse.
		w.Header().Set("Connection", "close")
		s.writeError(w, r, errorf(http.StatusUnauthorized, "%s", msg))
	})
}

// bearer extracts the token of an "Authorization: Bearer <token>" header;
// the scheme is case-insensitive (RFC 9110 §11.1).
func bearer(header string) (string, bool) {
	scheme, tok, found := strings.Cut(header, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// publicRoute reports whether GET/HEAD of path is served without the API
// token. Only pages that are the same bytes for every caller and reveal no
// queue data qualify: liveness (/health), the API description and its
// viewer, and the dashboard's static shell — a browser cannot attach a
// bearer token when it navigates to a page, so these must load before the
// page's script can send the token. Everything under /api/ (and /stats)
// requires it.
func publicRoute(path string) bool {
	switch path {
	case "/", "/health", "/openapi.json", "/docs", "/redoc", "/ui", "/dashboard", "/settings", "/ui-cache-buster.js":
		return true
	}
	return strings.HasPrefix(path, "/docs/") || strings.HasPrefix(path, "/ui/")
}
