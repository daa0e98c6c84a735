package httpd

import (
	"net/http"
	"strings"
)

// corsMaxAge is how long (seconds) a browser may cache a preflight answer.
const corsMaxAge = "600"

// cors lets the configured origins (Config.AllowedOrigins, from
// server.cors_origins) call the API from their pages: their requests get
// Access-Control-Allow-Origin (and -Credentials when configured) and their
// preflight OPTIONS requests are answered here. Any other origin gets no
// CORS headers, so its page cannot read responses; guardTCP separately
// refuses its state-changing requests. The dashboard is same-origin and
// needs none of this.
func (s *server) cors(next http.Handler, origins []string, credentials bool) http.Handler {
	if len(origins) == 0 {
		return next
	}
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[normalizeOrigin(o)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if !allowed[normalizeOrigin(origin)] {
			if preflight {
				s.writeError(w, r, errorf(http.StatusForbidden, "Origin not allowed: %s", origin))
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		if credentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		if !preflight {
			h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
			next.ServeHTTP(w, r)
			return
		}
		// The origin is trusted by configuration, so any method of the API
		// and whatever headers it asks for (Authorization, Content-Type, …)
		// are allowed, as the original server did.
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE, OPTIONS")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", strings.TrimSpace(req))
		}
		h.Set("Access-Control-Max-Age", corsMaxAge)
		w.WriteHeader(http.StatusNoContent)
	})
}
