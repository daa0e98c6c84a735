package httpd

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/julienschmidt/httprouter"
)

// The dashboard: plain HTML, CSS and ES modules, embedded so the daemon
// serves it with no network and no build step.
//
//go:embed ui
var uiEmbed embed.FS

// uiCSP forbids inline script and anything not from the daemon itself, so
// user data that slipped into the page as markup could still not run.
const uiCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// uiAsset is one embedded file, read once at start-up.
type uiAsset struct {
	name string
	body []byte
	etag string
}

// uiAssets maps a path below /ui/ ("index.html", "js/app.js") to its file.
var uiAssets = loadUIAssets()

func loadUIAssets() map[string]uiAsset {
	root, err := fs.Sub(uiEmbed, "ui")
	if err != nil {
		panic("httpd: embedded ui folder missing: " + err.Error())
	}
	out := map[string]uiAsset{}
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		// Weak: the same file may also go out gzipped (gzipResponses).
		out[p] = uiAsset{name: p, body: body, etag: `W/"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic("httpd: read embedded ui: " + err.Error())
	}
	if _, ok := out["index.html"]; !ok {
		panic("httpd: embedded ui has no index.html")
	}
	return out
}

// serveUI serves /ui/*file. Paths naming a file (they have an extension)
// must exist; any other path is a page of the single-page app (deep links
// such as /ui/queues/que_… or /ui/tasks/tsk_…) and gets index.html, which
// routes on the client.
func (s *server) serveUI(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	name := strings.TrimPrefix(path.Clean("/"+ps.ByName("file")), "/")
	a, ok := uiAssets[name]
	if !ok {
		if path.Ext(name) != "" {
			return errorf(http.StatusNotFound, "Not found: %s %s", r.Method, r.URL.Path)
		}
		a = uiAssets["index.html"]
	}
	h := w.Header()
	h.Set("Content-Security-Policy", uiCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	// Revalidate every time: the ETag makes that a cheap 304, and a new
	// daemon build never leaves a stale module graph in the browser.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
	return nil
}
