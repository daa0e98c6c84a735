package httpd

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// defaultAllowedHosts are the loopback names a local browser uses.
var defaultAllowedHosts = []string{"localhost", "127.0.0.1", "::1"}

// guardTCP protects the TCP listener from other web pages running in the
// user's browser. Like Caddy's admin endpoint it checks the Host header
// (defeating DNS rebinding: an attacker's name resolving to 127.0.0.1 still
// sends its own name) and the Origin of state-changing requests (defeating
// CSRF, including body-less "simple" POSTs). The Unix socket skips this: its
// file mode already limits callers to the owning user.
func (s *server) guardTCP(next http.Handler, hosts, origins []string) http.Handler {
	if len(hosts) == 0 {
		hosts = defaultAllowedHosts
	}
	allowedHosts := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		allowedHosts[normalizeHost(h)] = true
	}
	allowedOrigins := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowedOrigins[normalizeOrigin(o)] = true
	}

	originOK := func(origin, reqPort string) bool {
		if allowedOrigins[normalizeOrigin(origin)] {
			return true
		}
		// Otherwise only pages this listener served under an allowed name
		// (the dashboard), also when other origins are configured for CORS.
		u, err := url.Parse(origin)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return false
		}
		return allowedHosts[normalizeHost(u.Hostname())] && effectivePort(u.Scheme, u.Port()) == reqPort
	}

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, port := splitHostPort(r.Host)
		if !allowedHosts[host] {
			s.writeError(w, r, errorf(http.StatusForbidden, "Host not allowed: %s", r.Host))
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" && mutating(r.Method) {
			if !originOK(origin, effectivePort("http", port)) {
				s.writeError(w, r, errorf(http.StatusForbidden, "Origin not allowed: %s", origin))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func mutating(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// splitHostPort splits a Host header into a normalized name and its port
// ("" when absent).
func splitHostPort(hostport string) (host, port string) {
	h, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return normalizeHost(hostport), ""
	}
	return normalizeHost(h), p
}

func normalizeHost(h string) string {
	h = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(h), "["), "]")
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

func normalizeOrigin(o string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(o)), "/")
}

func effectivePort(scheme, port string) string {
	switch {
	case port != "":
		return port
	case scheme == "https":
		return "443"
	}
	return "80"
}
