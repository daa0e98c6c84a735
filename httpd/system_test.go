package httpd_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sparkq/sparkq/httpd"
)

func TestHealthVersionStats(t *testing.T) {
	e := newEnv(t, nil)
	const stamp = "2026-01-02T03:04:05.678901Z" // the fake clock

	h := e.ok(http.StatusOK, "GET", "/health", nil)
	if h["status"] != "ok" || h["timestamp"] != stamp || h["build_id"] != "test-build" {
		t.Errorf("health = %v", h)
	}
	v := e.ok(http.StatusOK, "GET", "/api/version", nil)
	if v["build_id"] != "test-build" || v["timestamp"] != stamp {
		t.Errorf("version = %v", v)
	}

	sid, qid := e.fixture()
	e.task(qid, nil)
	e.task(qid, nil)
	e.ok(http.StatusOK, "POST", "/api/queues/"+qid+"/claim", nil)
	_ = sid
	s := e.ok(http.StatusOK, "GET", "/stats", nil)
	want := map[string]float64{"sessions": 1, "queues": 1, "queued_tasks": 1, "running_tasks": 1}
	for k, n := range want {
		if s[k] != n {
			t.Errorf("stats[%s] = %v, want %v", k, s[k], n)
		}
	}
}

func TestUIRoutes(t *testing.T) {
	e := newEnv(t, nil)
	for _, path := range []string{"/", "/ui"} {
		r := e.do("GET", path, nil)
		if r.status != http.StatusTemporaryRedirect || r.header.Get("Location") != "/ui/" {
			t.Errorf("GET %s: %d Location %q, want 307 /ui/", path, r.status, r.header.Get("Location"))
		}
	}
	r := e.do("GET", "/ui/", nil)
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(r.raw), "/ui/js/app.js") {
		t.Errorf("GET /ui/: %d %q %s", r.status, r.header.Get("Content-Type"), r.raw)
	}
	wantError(t, e.do("GET", "/ui/app.js", nil), http.StatusNotFound, "Not found: GET /ui/app.js")
}

func TestRoutingAndBodyErrors(t *testing.T) {
	e := newEnv(t, func(c *httpd.Config) { c.MaxBodyBytes = 256 })
	_, qid := e.fixture()

	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		msg    string
		allow  string // expected Allow header, for 405
	}{
		{"unknown route", "GET", "/no/such/route", nil, 404, "Not found: GET /no/such/route", ""},
		{"wrong method", "DELETE", "/health", nil, 405, "Method not allowed: DELETE /health", "GET"},
		{"wrong method on task", "POST", "/api/tasks/tsk_000000000000", nil, 405, "Method not allowed: POST /api/tasks/tsk_000000000000", "GET"},
		{"malformed JSON", "POST", "/api/sessions", `{not json`, 400, "Invalid JSON body: …", ""},
		{"trailing garbage", "POST", "/api/sessions", `{"name":"a"} x`, 400, "Invalid JSON body: …", ""},
		{"empty body", "POST", "/api/sessions", nil, 400, "Invalid JSON body: body is empty", ""},
		{"array body", "POST", "/api/sessions", `[1]`, 400, "request body must be a JSON object", ""},
		{"wrong type", "POST", "/api/sessions", `{"name": 5}`, 400, "name must be a string", ""},
		{"too large", "POST", "/api/tasks", map[string]any{"queue_id": qid, "tool_name": "run-bash", "prompt": strings.Repeat("x", 300)}, 413, "Request body too large (limit 256 bytes)", ""},
		{"control status on TCP", "GET", "/control/status", nil, 404, "Not found: GET /control/status", ""},
		{"control shutdown on TCP", "POST", "/control/shutdown", nil, 404, "Not found: POST /control/shutdown", ""},
		{"control reload on TCP", "POST", "/control/reload", nil, 404, "Not found: POST /control/reload", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.body)
			wantError(t, r, tc.status, tc.msg)
			if tc.allow != "" && !strings.Contains(r.header.Get("Allow"), tc.allow) {
				t.Errorf("Allow = %q, want it to contain %s", r.header.Get("Allow"), tc.allow)
			}
		})
	}
	// The oversized task must not have been stored.
	if tasks := e.ok(200, "GET", "/api/tasks?queue_id="+qid, nil)["tasks"].([]any); len(tasks) != 0 {
		t.Errorf("oversized request stored %d tasks", len(tasks))
	}
}

func TestToolsClassesAudit(t *testing.T) {
	e := newEnv(t, nil)
	tools := e.ok(200, "GET", "/api/tools", nil)["tools"].([]any)
	if len(tools) == 0 || field(t, map[string]any{"t": tools[0]}, "t")["task_class"] == nil {
		t.Fatalf("tools = %v", tools)
	}
	classes := e.ok(200, "GET", "/api/task-classes", nil)["task_classes"].([]any)
	if len(classes) == 0 {
		t.Fatalf("task_classes empty")
	}

	_, qid := e.fixture()
	id := e.task(qid, nil)["id"].(string)
	e.ok(200, "POST", "/api/tasks/"+id+"/claim", nil)
	e.ok(200, "POST", "/api/tasks/"+id+"/complete", map[string]any{"result_summary": "ok"})
	e.ok(200, "POST", "/api/tasks/"+id+"/rerun", nil)

	logs := e.ok(200, "GET", "/api/audit?action_prefix=task.rerun", nil)["logs"].([]any)
	if len(logs) != 1 || logs[0].(map[string]any)["action"] != "task.rerun" {
		t.Fatalf("audit logs = %v", logs)
	}
	if logs := e.ok(200, "GET", "/api/audit?action_prefix=nothing.", nil)["logs"].([]any); len(logs) != 0 {
		t.Errorf("prefix filter returned %v", logs)
	}
	wantError(t, e.do("GET", "/api/audit?limit=0", nil), 400, "limit must be at least 1")
	wantError(t, e.do("GET", "/api/audit?limit=201", nil), 400, "limit must be at most 200")
	wantError(t, e.do("GET", "/api/audit?limit=x", nil), 400, "limit must be an integer")
}

func TestPurge(t *testing.T) {
	e := newEnv(t, nil)
	_, qid := e.fixture()
	done := e.task(qid, nil)["id"].(string)
	e.ok(200, "POST", "/api/tasks/"+done+"/claim", nil)
	e.ok(200, "POST", "/api/tasks/"+done+"/complete", map[string]any{"result_summary": "ok"})
	queued := e.task(qid, nil)["id"].(string)

	// Finished just now: younger than the default 3 days.
	p := e.ok(200, "POST", "/api/purge", nil)
	if p["status"] != "ok" || p["deleted"] != 0.0 || p["message"] != "Purged 0 old tasks" {
		t.Fatalf("purge = %v", p)
	}
	e.clock.Advance(2 * 24 * time.Hour)
	if p := e.ok(200, "POST", "/api/purge", map[string]any{"older_than_days": 3}); p["deleted"] != 0.0 {
		t.Fatalf("purge after 2 days = %v", p)
	}
	if p := e.ok(200, "POST", "/api/purge", map[string]any{"older_than_days": 1}); p["deleted"] != 1.0 || p["message"] != "Purged 1 old tasks" {
		t.Fatalf("purge older than 1 day = %v", p)
	}
	wantError(t, e.do("GET", "/api/tasks/"+done, nil), 404, "Task not found: "+done)
	e.ok(200, "GET", "/api/tasks/"+queued, nil) // queued tasks are never purged

	wantError(t, e.do("POST", "/api/purge", map[string]any{"older_than_days": 0}), 400, "older_than_days must be between 1 and 36500")
	wantError(t, e.do("POST", "/api/purge", map[string]any{"older_than_days": "3"}), 400, "older_than_days must be an integer")
	wantError(t, e.do("POST", "/api/purge", map[string]any{"days": 3}), 400, "unknown field: days")
}
