package httpd

import (
	"fmt"
	"net/http"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/sparkq/sparkq/store"
)

const (
	defaultPurgeDays = 3
	maxPurgeDays     = 36500
	purgeBatch       = 10000
	defaultAuditRows = 50
	maxAuditRows     = 200
)

func (s *server) redirectUI(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) error {
	w.Header().Set("Location", "/ui/")
	w.WriteHeader(http.StatusTemporaryRedirect)
	return nil
}

// uiPlaceholder stands in for the dashboard until its assets are built.
const uiPlaceholder = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SparkQ</title></head>
<body><h1>SparkQ</h1><p>The dashboard is not built yet. The API is available under <code>/api/</code>.</p></body>
</html>
`

func (s *server) serveUI(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	if ps.ByName("file") != "/" && ps.ByName("file") != "/index.html" {
		return errorf(http.StatusNotFound, "Not found: %s %s", r.Method, r.URL.Path)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	fmt.Fprint(w, uiPlaceholder)
	return nil
}

func (s *server) timestamp() string { return store.NewTime(s.now()).String() }

func (s *server) health(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	s.writeJSON(w, r, http.StatusOK, map[string]any{
		"status":    "ok",
		"timestamp": s.timestamp(),
		"build_id":  s.version,
	})
	return nil
}

func (s *server) apiVersion(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	s.writeJSON(w, r, http.StatusOK, map[string]any{"build_id": s.version, "timestamp": s.timestamp()})
	return nil
}

func (s *server) stats(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	c, err := s.store.Counts(r.Context())
	if err != nil {
		return fmt.Errorf("count rows: %w", err)
	}
	s.writeJSON(w, r, http.StatusOK, c)
	return nil
}

func (s *server) listTools(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	tools, err := s.store.ListTools(r.Context())
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"tools": append([]store.Tool{}, tools...)})
	return nil
}

func (s *server) listTaskClasses(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	classes, err := s.store.ListTaskClasses(r.Context())
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"task_classes": append([]store.TaskClass{}, classes...)})
	return nil
}

func (s *server) listAudit(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	q := r.URL.Query()
	limit, err := queryInt(q, "limit", defaultAuditRows, 1, maxAuditRows)
	if err != nil {
		return err
	}
	logs, err := s.store.ListAudit(r.Context(), q.Get("action_prefix"), limit)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"logs": append([]store.AuditEntry{}, logs...)})
	return nil
}

// purge deletes finished tasks older than older_than_days, in batches so
// one request never holds the database for a huge delete.
func (s *server) purge(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	body, err := readObject(r, true)
	if err != nil {
		return err
	}
	if err := body.only("older_than_days"); err != nil {
		return err
	}
	days := defaultPurgeDays
	v, err := body.int("older_than_days", 1, maxPurgeDays)
	if err != nil {
		return err
	}
	if v != nil {
		days = *v
	}
	cutoff := s.now().Add(-time.Duration(days) * 24 * time.Hour)
	total := 0
	for {
		n, err := s.store.Purge(r.Context(), cutoff, purgeBatch)
		if err != nil {
			return fmt.Errorf("purge tasks finished before %s: %w", cutoff.Format(time.RFC3339), err)
		}
		total += n
		if n < purgeBatch {
			break
		}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{
		"status":  "ok",
		"message": fmt.Sprintf("Purged %d old tasks", total),
		"deleted": total,
	})
	return nil
}
