package httpd

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/julienschmidt/httprouter"

	"github.com/sparkq/sparkq/daemon/scripts"
)

// scriptsIndex is GET /api/scripts/index: a bare JSON array, as the
// original returned (API.md §11). Deviations: the scan is cached and
// redone only when a scanned directory changes or the configuration is
// reloaded; .git, node_modules, hidden entries and symlinks leading outside
// the script dirs are skipped (GAP 6); a colon inside a continued header
// line no longer starts a bogus key (GAP 54).
func (s *server) scriptsIndex(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	list := s.scripts.Scripts(s.yaml().ScriptDirs)
	if list == nil {
		list = []scripts.Script{}
	}
	s.writeJSON(w, r, http.StatusOK, list)
	return nil
}

// serveIndex serves the dashboard's index page for its deep links
// (/dashboard, /settings), as /ui/ does.
func (s *server) serveIndex(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	return s.serveUI(w, r, httprouter.Params{{Key: "file", Value: "/"}})
}

// envName is SPARKQ_ENV (else APP_ENV) folded to dev, test or prod; unset
// or unknown values are dev (CONFIG.md §7).
func (s *server) envName() string {
	v := s.getenv("SPARKQ_ENV")
	if v == "" {
		v = s.getenv("APP_ENV")
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "prod", "production", "live":
		return "prod"
	case "test":
		return "test"
	}
	return "dev"
}

// cacheBuster is GET /ui-cache-buster.js (API.md §2). Values are JSON
// string literals, so nothing in them can break out of the script.
func (s *server) cacheBuster(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	env := s.envName()
	build := s.buildID(r.Context())
	buster := s.getenv("SPARKQ_CACHE_BUSTER")
	if buster == "" {
		buster = build
		if env != "prod" {
			buster = strconv.FormatInt(s.started.Unix(), 10)
		}
	}
	lit := func(v string) string { b, _ := json.Marshal(v); return string(b) }
	h := w.Header()
	h.Set("Content-Type", "application/javascript; charset=utf-8")
	if env != "prod" {
		h.Set("Cache-Control", "no-cache, no-store, must-revalidate, max-age=0")
		h.Set("Pragma", "no-cache")
		h.Set("Expires", "0")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	fmt.Fprintf(w, "window.__SPARKQ_ENV__ = %s;\nwindow.__SPARKQ_CACHE_BUSTER__ = %s;\nwindow.__SPARKQ_BUILD_ID__ = %s;\nwindow.__BUILD_ID__ = window.__SPARKQ_BUILD_ID__;\n",
		lit(env), lit(buster), lit(build))
	return nil
}
