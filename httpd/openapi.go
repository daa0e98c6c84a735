package httpd

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"strconv"

	"github.com/julienschmidt/httprouter"

	"github.com/sparkq/sparkq/httpd/docs"
)

// openAPIDoc describes every route (OpenAPI 3.1). It is generated from
// internal/openapigen; tests keep it in step with that and with routes.
//
//go:generate go run ./internal/openapigen/cmd -o openapi.json
//go:embed openapi.json
var openAPIDoc []byte

var openAPIETag = func() string {
	sum := sha256.Sum256(openAPIDoc)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}()

func (s *server) openAPI(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", openAPIETag)
	if r.Header.Get("If-None-Match") == openAPIETag {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Length", strconv.Itoa(len(openAPIDoc)))
	w.WriteHeader(http.StatusOK)
	w.Write(openAPIDoc)
	return nil
}

// docsPage serves /docs and docsAsset /docs/<file>: Swagger UI, vendored
// and embedded (package docs), reading /openapi.json.
func (s *server) docsPage(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	docs.Serve(w, r, "")
	return nil
}

func (s *server) docsAsset(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	name := ps.ByName("file")[1:] // the catch-all keeps its leading slash
	if name == "" || name == "index.html" || !docs.Serve(w, r, name) {
		return errorf(http.StatusNotFound, "Not found: %s %s", r.Method, r.URL.Path)
	}
	return nil
}

// redoc keeps the original's /redoc address working: there is one viewer.
func (s *server) redoc(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) error {
	w.Header().Set("Location", "/docs")
	w.WriteHeader(http.StatusTemporaryRedirect)
	return nil
}
