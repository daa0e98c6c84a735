// Package docs holds the offline API reference served at /docs: Swagger UI
// (vendored from the npm package swagger-ui-dist by vendor.sh, see
// swagger-ui/VERSION) started on the daemon's /openapi.json. Nothing is
// fetched from a CDN.
package docs

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed index.html init.js swagger-ui
var files embed.FS

// CSP is the Content-Security-Policy of the docs page: scripts only from the
// daemon and no inline script. Swagger UI sets style attributes, hence
// 'unsafe-inline' for styles only.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// SwaggerUIVersion is the vendored swagger-ui-dist version.
var SwaggerUIVersion = strings.TrimSpace(string(must(files.ReadFile("swagger-ui/VERSION"))))

type asset struct {
	body  []byte
	ctype string
	etag  string
}

// assets maps a name below /docs/ ("" for the page itself) to its file,
// read and hashed once.
var assets = load()

func load() map[string]asset {
	out := map[string]asset{}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "swagger-ui/VERSION" {
			return err
		}
		body, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" || strings.HasSuffix(p, "LICENSE") || strings.HasSuffix(p, "NOTICE") {
			ctype = "text/plain; charset=utf-8"
		}
		sum := sha256.Sum256(body)
		out[p] = asset{body: body, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic("docs: read embedded files: " + err.Error())
	}
	out[""] = out["index.html"]
	return out
}

// Serve writes the docs file name ("" for the page) and reports whether it
// exists. Responses carry an ETag and must be revalidated, so an upgraded
// daemon never leaves a stale viewer in the browser cache.
func Serve(w http.ResponseWriter, r *http.Request, name string) bool {
	a, ok := assets[name]
	if !ok {
		return false
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(a.ctype, "text/html") {
		h.Set("Content-Security-Policy", CSP)
		h.Set("Referrer-Policy", "no-referrer")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	return true
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic("docs: " + err.Error())
	}
	return b
}
