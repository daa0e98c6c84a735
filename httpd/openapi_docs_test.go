package httpd_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do("GET", "/openapi.json", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json: %d %q", r.status, r.header.Get("Content-Type"))
	}
	if r.body["openapi"] != "3.1.0" || field(t, r.body, "info")["title"] != "SparkQ API" {
		t.Errorf("document head: %v %v", r.body["openapi"], r.body["info"])
	}
	etag := r.header.Get("ETag")
	if r := e.do("GET", "/openapi.json", nil, withHeader("If-None-Match", etag)); r.status != http.StatusNotModified || etag == "" {
		t.Errorf("revalidation with ETag %q: %d", etag, r.status)
	}
}

// The docs page works offline: everything it loads comes from this daemon
// and exists, and its policy forbids inline and foreign script.
func TestDocsPage(t *testing.T) {
	e := newEnv(t, nil)
	page := e.do("GET", "/docs", nil)
	if page.status != 200 || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /docs: %d %q", page.status, page.header.Get("Content-Type"))
	}
	csp := page.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q", csp)
	}
	html := string(page.raw)
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]+</script>|\son[a-z]+=`).MatchString(html) {
		t.Errorf("inline script in the docs page:\n%s", html)
	}
	if strings.Contains(html, "//cdn") || strings.Contains(html, "https://") {
		t.Errorf("docs page loads from the network:\n%s", html)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(html, -1)
	if len(refs) < 4 {
		t.Fatalf("found %d asset references in the page", len(refs))
	}
	types := map[string]string{".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".json": "application/json"}
	for _, ref := range refs {
		path := ref[1]
		r := e.do("GET", path, nil)
		if r.status != 200 {
			t.Errorf("%s: %d", path, r.status)
			continue
		}
		for ext, want := range types {
			if strings.HasSuffix(path, ext) && !strings.HasPrefix(r.header.Get("Content-Type"), want) {
				t.Errorf("%s: Content-Type %q, want %s", path, r.header.Get("Content-Type"), want)
			}
		}
	}
	init := e.do("GET", "/docs/init.js", nil)
	if !strings.Contains(string(init.raw), `url: "/openapi.json"`) {
		t.Errorf("init.js does not load /openapi.json:\n%s", init.raw)
	}
	for _, lic := range []string{"/docs/swagger-ui/LICENSE", "/docs/swagger-ui/NOTICE"} {
		if r := e.do("GET", lic, nil); r.status != 200 {
			t.Errorf("%s: %d", lic, r.status)
		}
	}
	wantError(t, e.do("GET", "/docs/nope.js", nil), 404, "Not found: GET /docs/nope.js")
	wantError(t, e.do("GET", "/docs/../openapi.json", nil), 404, "…")
	if r := e.do("GET", "/redoc", nil); r.status != http.StatusTemporaryRedirect || r.header.Get("Location") != "/docs" {
		t.Errorf("/redoc: %d %q", r.status, r.header.Get("Location"))
	}
}
