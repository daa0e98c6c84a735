package httpd

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/sparkq/sparkq/reaper"
	"github.com/sparkq/sparkq/store"
)

const (
	defaultPurgeDays = 3
	maxPurgeDays     = 36500
	defaultAuditRows = 50
	maxAuditRows     = 200
)

func (s *server) redirectUI(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) error {
	w.Header().Set("Location", "/ui/")
	w.WriteHeader(http.StatusTemporaryRedirect)
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

// purgePreviewer counts what a purge would delete (store.Store has it;
// Backend leaves it out so other backends need not).
type purgePreviewer interface {
	CountPurgeable(ctx context.Context, cutoff time.Time) (int, error)
}

// purge deletes finished tasks older than older_than_days, in the reaper's
// bounded batches so one request never holds the database for a huge
// delete. With "dry_run": true it only counts them ("would_delete").
// Without older_than_days the retention in effect applies (the purge/config
// row, else sparkq.yml, else 3: reaper.Resolve, as the periodic purge;
// GAP 45).
func (s *server) purge(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	body, err := readObject(r, true)
	if err != nil {
		return err
	}
	if err := body.only("older_than_days", "dry_run"); err != nil {
		return err
	}
	v, err := body.int("older_than_days", 1, maxPurgeDays)
	if err != nil {
		return err
	}
	dryRun, err := body.boolean("dry_run", false)
	if err != nil {
		return err
	}
	rs, err := s.runtimeSettings(r.Context())
	if err != nil {
		return err
	}
	days := rs.RetentionDays
	if v != nil {
		days = *v
	}
	cutoff := s.now().Add(-time.Duration(days) * 24 * time.Hour)
	if dryRun != nil && *dryRun {
		pp, ok := s.store.(purgePreviewer)
		if !ok {
			return errorf(http.StatusNotImplemented, "Purge dry runs are not available on this server")
		}
		n, err := pp.CountPurgeable(r.Context(), cutoff)
		if err != nil {
			return err
		}
		s.writeJSON(w, r, http.StatusOK, map[string]any{
			"status":          "ok",
			"message":         fmt.Sprintf("Would purge %d old tasks", n),
			"would_delete":    n,
			"older_than_days": days,
			"dry_run":         true,
		})
		return nil
	}
	total, err := reaper.PurgeBefore(r.Context(), s.store, cutoff, rs.PurgeBatch)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{
		"status":          "ok",
		"message":         fmt.Sprintf("Purged %d old tasks", total),
		"deleted":         total,
		"older_than_days": days,
		"dry_run":         false,
	})
	return nil
}
