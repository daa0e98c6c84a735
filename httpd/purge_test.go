package httpd_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/sparkq/sparkq/store"
)

// finishedTasks enqueues n tasks and finishes them (every third failed),
// at the env's current time.
func (e *env) finishedTasks(queueID string, n int) {
	e.t.Helper()
	for i := range n {
		task := e.task(queueID, nil)
		e.ok(http.StatusOK, "POST", "/api/tasks/"+task["id"].(string)+"/claim", nil)
		if i%3 == 0 {
			e.ok(http.StatusOK, "POST", "/api/tasks/"+task["id"].(string)+"/fail", map[string]any{"error_message": "no"})
		} else {
			e.ok(http.StatusOK, "POST", "/api/tasks/"+task["id"].(string)+"/complete", map[string]any{"result_summary": "ok"})
		}
	}
}

// purge posts to /api/purge and checks the answer against openapi.json.
func (e *env) purge(doc *servedDoc, body any) map[string]any {
	e.t.Helper()
	var raw *string
	if body != nil {
		b, _ := json.Marshal(body)
		s := string(b)
		raw = &s
	}
	got := send(e.t, e, exchange{method: "POST", path: "/api/purge"}, raw, func(s string) string { return s })
	for _, d := range doc.check("POST", "/api/purge", got) {
		e.t.Errorf("POST /api/purge %v: %s", body, d)
	}
	if got.status != http.StatusOK {
		e.t.Fatalf("POST /api/purge %v: %d %s", body, got.status, got.raw)
	}
	return got.body
}

// TestPurgeRetentionAndDryRun: without older_than_days the retention in
// effect applies (the purge/config row over sparkq.yml); a dry run counts
// exactly what the purge then deletes; queued and running tasks and
// younger finished ones stay.
func TestPurgeRetentionAndDryRun(t *testing.T) {
	cfg := loadSettings(t, "purge:\n  older_than_days: 7\n")
	e := newSeededEnv(t, daemonSeed(cfg), withSettings(cfg))
	doc := e.openAPI()
	_, q := e.fixture()
	e.finishedTasks(q, 6) // day 0
	e.clock.Advance(3 * 24 * time.Hour)
	e.finishedTasks(q, 3) // day 3
	e.task(q, nil)        // queued
	running := e.task(q, nil)
	e.ok(http.StatusOK, "POST", "/api/tasks/"+running["id"].(string)+"/claim", nil)
	e.clock.Advance(5 * 24 * time.Hour) // day 8: the first six are 8 days old, the next three 5

	// sparkq.yml's 7 days (seeded into purge/config): the six oldest.
	got := e.purge(doc, map[string]any{"dry_run": true})
	jsonEq(t, "dry run", got, `{"status": "ok", "message": "Would purge 6 old tasks", "would_delete": 6, "older_than_days": 7, "dry_run": true}`)
	// The database row wins over the file.
	e.ok(http.StatusOK, "PUT", "/api/config/purge/config", map[string]any{"value": map[string]any{"older_than_days": 4}})
	got = e.purge(doc, map[string]any{"dry_run": true})
	jsonEq(t, "dry run after PUT", got, `{"status": "ok", "message": "Would purge 9 old tasks", "would_delete": 9, "older_than_days": 4, "dry_run": true}`)
	// The request's value wins over both.
	got = e.purge(doc, map[string]any{"dry_run": true, "older_than_days": 30})
	if got["would_delete"] != 0.0 || got["older_than_days"] != 30.0 {
		t.Fatalf("dry run of 30 days: %v", got)
	}
	// Dry runs deleted nothing.
	if c := e.counts(q); c != (store.QueueStats{Total: 11, Queued: 1, Running: 1, Succeeded: 6, Failed: 3}) {
		t.Fatalf("after dry runs: %+v", c)
	}

	// Back to the file's 7 days; an empty body purges with them.
	e.ok(http.StatusOK, "DELETE", "/api/config/purge/config", nil)
	got = e.purge(doc, nil)
	jsonEq(t, "purge", got, `{"status": "ok", "message": "Purged 6 old tasks", "deleted": 6, "older_than_days": 7, "dry_run": false}`)
	if c := e.counts(q); c != (store.QueueStats{Total: 5, Queued: 1, Running: 1, Succeeded: 2, Failed: 1}) {
		t.Fatalf("after purging 7 days: %+v", c)
	}
	got = e.purge(doc, map[string]any{"older_than_days": 1, "dry_run": false})
	if got["deleted"] != 3.0 {
		t.Fatalf("purge of 1 day: %v", got)
	}
	if c := e.counts(q); c != (store.QueueStats{Total: 2, Queued: 1, Running: 1}) {
		t.Fatalf("queued or running tasks purged: %+v", c)
	}
}

func TestPurgeBadInput(t *testing.T) {
	e := newEnv(t, nil)
	for _, tt := range []struct {
		body any
		msg  string
	}{
		{map[string]any{"dry_run": "yes"}, "dry_run must be a boolean"},
		{map[string]any{"older_than_days": 0}, "older_than_days…"},
		{map[string]any{"older_than_days": 1.5}, "older_than_days…"},
		{map[string]any{"days": 3}, "…"},
	} {
		wantError(t, e.do("POST", "/api/purge", tt.body), http.StatusBadRequest, tt.msg)
	}
}

// counts is the queue's task counts.
func (e *env) counts(queueID string) store.QueueStats {
	e.t.Helper()
	var got struct {
		Queue store.Queue `json:"queue"`
	}
	r := e.do("GET", "/api/queues/"+queueID, nil)
	if err := json.Unmarshal(r.raw, &got); err != nil || r.status != http.StatusOK {
		e.t.Fatalf("GET queue: %d %s", r.status, r.raw)
	}
	return got.Queue.Stats
}
