package httpd_test

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const wantCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func TestUIServesPagesAndDeepLinks(t *testing.T) {
	e := newEnv(t, nil)
	index := e.do("GET", "/ui/", nil)
	if index.status != http.StatusOK || !strings.HasPrefix(index.header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /ui/: %d %q", index.status, index.header.Get("Content-Type"))
	}
	if !strings.Contains(string(index.raw), `<script type="module" src="/ui/js/app.js"></script>`) {
		t.Errorf("/ui/ is not the dashboard: %.200s", index.raw)
	}
	// Deep links get the same page, which routes on the client.
	for _, path := range []string{"/ui/index.html", "/ui/queues", "/ui/queues/que_0123456789ab", "/ui/tasks/tsk_0123456789ab", "/ui/settings/prompts"} {
		r := e.do("GET", path, nil)
		if r.status != http.StatusOK || string(r.raw) != string(index.raw) {
			t.Errorf("GET %s: %d, want the index page", path, r.status)
		}
		if csp := r.header.Get("Content-Security-Policy"); csp != wantCSP {
			t.Errorf("GET %s: CSP %q", path, csp)
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", path)
		}
	}
	js := e.do("GET", "/ui/js/app.js", nil)
	if js.status != http.StatusOK || !strings.HasPrefix(js.header.Get("Content-Type"), "text/javascript") {
		t.Errorf("GET /ui/js/app.js: %d %q", js.status, js.header.Get("Content-Type"))
	}
	if js.header.Get("Content-Security-Policy") != wantCSP {
		t.Error("assets lack the CSP header")
	}
	// A missing file is a 404, not the page.
	wantError(t, e.do("GET", "/ui/js/missing.js", nil), http.StatusNotFound, "Not found: GET /ui/js/missing.js")

	// Revalidation is a cheap 304.
	etag := js.header.Get("ETag")
	if etag == "" || js.header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, js.header.Get("Cache-Control"))
	}
	if r := e.do("GET", "/ui/js/app.js", nil, withHeader("If-None-Match", etag)); r.status != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", r.status)
	}
}

// Every asset the page loads exists, and every module import resolves.
func TestUIAssetsResolve(t *testing.T) {
	e := newEnv(t, nil)
	index, err := os.ReadFile("ui/index.html")
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`(?:src|href)="(/ui/[^"]*)"`).FindAllStringSubmatch(string(index), -1)
	imports := regexp.MustCompile(`(?m)^import .* from '\./([^']+)';`)
	files, _ := filepath.Glob("ui/js/*.js")
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range imports.FindAllStringSubmatch(string(src), -1) {
			refs = append(refs, []string{"", "/ui/js/" + m[1]})
		}
	}
	if len(refs) < 10 {
		t.Fatalf("found only %d references", len(refs))
	}
	for _, ref := range refs {
		if r := e.do("GET", ref[1], nil); r.status != http.StatusOK {
			t.Errorf("GET %s: %d", ref[1], r.status)
		}
	}
}

// User data must never be parsed as markup: the page has no inline script
// or handlers (the CSP would block them anyway), and the scripts build the
// DOM with text nodes only.
func TestUINoMarkupInjection(t *testing.T) {
	var files []string
	for _, pattern := range []string{"ui/*.html", "ui/*.js", "ui/js/*.js"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	forbidden := regexp.MustCompile(`\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|createContextualFragment|DOMParser`)
	inline := regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]|\son[a-z]+\s*=|\sstyle\s*=`)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := forbidden.Find(src); m != nil {
			t.Errorf("%s uses %s: build elements with dom.js instead", f, m)
		}
		if strings.HasSuffix(f, ".html") {
			if m := inline.Find(src); m != nil {
				t.Errorf("%s has inline script, handler or style: %q", f, m)
			}
		}
	}
}
