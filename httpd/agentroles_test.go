package httpd_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sparkq/sparkq/daemon/config"
	"github.com/sparkq/sparkq/httpd"
	"github.com/sparkq/sparkq/store/sqlite"
)

// newSeededEnv is newEnv with a store opened on seed (nil: defaults).
func newSeededEnv(t *testing.T, seed *sqlite.Seed, configure func(*httpd.Config)) *env {
	t.Helper()
	clk := newClock()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sparkq.db"), sqlite.Options{Now: clk.Now, Seed: seed})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := httpd.Config{Store: st, Version: "test-build", Clock: clk.Now}
	if configure != nil {
		configure(&cfg)
	}
	srv := httptest.NewServer(httpd.New(cfg))
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, store: st, clock: clk, hc: srv.Client()}
}

// loadSettings writes yml as <tmp>/sparkq.yml and loads it like the daemon.
func loadSettings(t *testing.T, yml string) config.Config {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "sparkq.yml")
	if err := os.WriteFile(p, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.Load(p)
	if err != nil {
		t.Fatalf("load %s: %v", p, err)
	}
	return cfg
}

func withSettings(cfg config.Config) func(*httpd.Config) {
	return func(c *httpd.Config) { c.Settings = func() config.Config { return cfg } }
}

// sqlExec changes the database behind the store's back, to build states
// the API refuses to create (legacy rows).
func sqlExec(t *testing.T, e *env, query string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", e.store.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func TestAgentRoles(t *testing.T) {
	e := newEnv(t, nil)

	roles := e.ok(200, "GET", "/api/agent-roles", nil)["roles"].([]any)
	if len(roles) != 40 {
		t.Fatalf("%d built-in roles, want 40", len(roles))
	}
	var labels []string
	for _, r := range roles {
		labels = append(labels, r.(map[string]any)["label"].(string))
	}
	if !sort.StringsAreSorted(labels) {
		t.Errorf("roles not ordered by label: %v", labels)
	}
	first := roles[0].(map[string]any)
	for _, k := range []string{"id", "key", "label", "description", "active", "created_at", "updated_at"} {
		if _, ok := first[k]; !ok {
			t.Errorf("role lacks %q: %v", k, first)
		}
	}

	// 200, not 201; values trimmed.
	r := field(t, e.ok(200, "POST", "/api/agent-roles", map[string]any{"key": " reviewer ", "label": " Reviewer ", "description": " Reviews code. ", "active": false}), "role")
	if r["key"] != "reviewer" || r["label"] != "Reviewer" || r["description"] != "Reviews code." || r["active"] != false {
		t.Fatalf("created %v", r)
	}
	if n := len(e.ok(200, "GET", "/api/agent-roles", nil)["roles"].([]any)); n != 40 {
		t.Errorf("inactive role listed by default: %d", n)
	}
	if n := len(e.ok(200, "GET", "/api/agent-roles?active_only=false", nil)["roles"].([]any)); n != 41 {
		t.Errorf("active_only=false lists %d", n)
	}
	r = field(t, e.ok(200, "PUT", "/api/agent-roles/reviewer", map[string]any{"active": true, "label": "Code Reviewer"}), "role")
	if r["active"] != true || r["label"] != "Code Reviewer" || r["description"] != "Reviews code." {
		t.Fatalf("updated %v", r)
	}

	_, qid := e.fixture()
	e.ok(200, "PUT", "/api/queues/"+qid, map[string]any{"default_agent_role_key": "reviewer"})

	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		msg    string
	}{
		{"bad bool", "GET", "/api/agent-roles?active_only=maybe", nil, 400, "active_only must be a boolean (true or false)"},
		{"missing key", "POST", "/api/agent-roles", map[string]any{"label": "x", "description": "x"}, 400, "key is required"},
		// GAP 33: whitespace-only values are refused.
		{"blank key", "POST", "/api/agent-roles", map[string]any{"key": "  ", "label": "x", "description": "x"}, 400, "key is required"},
		{"blank label", "POST", "/api/agent-roles", map[string]any{"key": "k", "label": " ", "description": "x"}, 400, "label is required"},
		{"blank description", "POST", "/api/agent-roles", map[string]any{"key": "k", "label": "x", "description": "\n"}, 400, "description is required"},
		{"key with slash", "POST", "/api/agent-roles", map[string]any{"key": "a/b", "label": "x", "description": "x"}, 400, "key must be…"},
		{"duplicate", "POST", "/api/agent-roles", map[string]any{"key": "reviewer", "label": "x", "description": "x"}, 409, "Agent role already exists: reviewer"},
		{"active not bool", "POST", "/api/agent-roles", map[string]any{"key": "k", "label": "x", "description": "x", "active": 1}, 400, "active must be a boolean"},
		{"unknown field", "POST", "/api/agent-roles", map[string]any{"key": "k", "label": "x", "description": "x", "x": 1}, 400, "unknown field: x"},
		{"update nothing", "PUT", "/api/agent-roles/reviewer", map[string]any{"label": nil}, 400, "No fields provided to update agent role"},
		{"update unknown", "PUT", "/api/agent-roles/nobody", map[string]any{"label": "x"}, 404, "Agent role not found: nobody"},
		{"update blank label", "PUT", "/api/agent-roles/reviewer", map[string]any{"label": " "}, 400, "label cannot be empty"},
		{"update blank description", "PUT", "/api/agent-roles/reviewer", map[string]any{"description": ""}, 400, "description cannot be empty"},
		{"delete unknown", "DELETE", "/api/agent-roles/nobody", nil, 404, "Agent role not found: nobody"},
		// GAP 32: a queue's default role cannot be deleted.
		{"delete in use", "DELETE", "/api/agent-roles/reviewer", nil, 409, `Agent role 'reviewer' is the default role of queue(s) "Back End" (` + qid + `): change their default_agent_role_key first`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do(tc.method, tc.path, tc.body), tc.status, tc.msg)
		})
	}

	e.ok(200, "PUT", "/api/queues/"+qid, map[string]any{"default_agent_role_key": nil})
	if got := e.ok(200, "DELETE", "/api/agent-roles/reviewer", nil); got["message"] != "Agent role 'reviewer' deleted" {
		t.Errorf("delete = %v", got)
	}
}

func TestQueueRolesAndProfiles(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.session("s1")
	e.ok(200, "POST", "/api/agent-roles", map[string]any{"key": "off", "label": "Off", "description": "Inactive.", "active": false})

	q := field(t, e.ok(201, "POST", "/api/queues", map[string]any{
		"session_id": sid, "name": "q1", "instructions": "Be brief.", "default_agent_role_key": " python_engineer ", "model_profile": "haiku-only",
	}), "queue")
	qid := q["id"].(string)
	if q["default_agent_role_key"] != "python_engineer" || q["model_profile"] != "haiku-only" || q["llm_sessions"] != nil {
		t.Fatalf("created %v", q)
	}
	q = field(t, e.ok(201, "POST", "/api/queues", map[string]any{"session_id": sid, "name": "q2"}), "queue")
	if q["model_profile"] != nil || q["default_agent_role_key"] != nil {
		t.Fatalf("defaults %v", q)
	}

	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		msg    string
	}{
		{"create unknown role", "POST", "/api/queues", map[string]any{"session_id": sid, "name": "x", "default_agent_role_key": "nobody"}, 400, "Agent role not found: nobody"},
		{"create inactive role", "POST", "/api/queues", map[string]any{"session_id": sid, "name": "x", "default_agent_role_key": "off"}, 400, "Agent role 'off' is not active"},
		{"create bad profile", "POST", "/api/queues", map[string]any{"session_id": sid, "name": "x", "model_profile": "fast"}, 400, "Invalid model_profile. Must be one of: auto, haiku-only, codex-heavy, sonnet-orchestrated"},
		{"update unknown role", "PUT", "/api/queues/" + qid, map[string]any{"default_agent_role_key": "nobody"}, 400, "Agent role not found: nobody"},
		{"update unknown queue first", "PUT", "/api/queues/que_000000000000", map[string]any{"default_agent_role_key": "nobody"}, 404, "Queue not found: que_000000000000"},
		{"update bad profile", "PUT", "/api/queues/" + qid, map[string]any{"model_profile": "fast"}, 400, "Invalid model_profile…"},
		{"update only null name", "PUT", "/api/queues/" + qid, map[string]any{"name": nil}, 400, "No fields provided to update queue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do(tc.method, tc.path, tc.body), tc.status, tc.msg)
		})
	}

	// Presence semantics: explicit nulls clear (GAP 63 for instructions),
	// null/"" model_profile means auto, absent keys are untouched.
	q = field(t, e.ok(200, "PUT", "/api/queues/"+qid, map[string]any{"default_agent_role_key": nil, "model_profile": nil, "instructions": nil}), "queue")
	if q["default_agent_role_key"] != nil || q["model_profile"] != "auto" || q["instructions"] != nil || q["name"] != "q1" {
		t.Fatalf("after clearing %v", q)
	}
	q = field(t, e.ok(200, "PUT", "/api/queues/"+qid, map[string]any{"instructions": ""}), "queue")
	if q["instructions"] != "" || q["model_profile"] != "auto" {
		t.Fatalf("empty instructions %v", q)
	}
	q = field(t, e.ok(200, "PUT", "/api/queues/"+qid, map[string]any{"default_agent_role_key": "qa_strategist", "model_profile": "codex-heavy"}), "queue")
	if q["default_agent_role_key"] != "qa_strategist" || q["model_profile"] != "codex-heavy" {
		t.Fatalf("set %v", q)
	}
}

func TestTaskCreateWithRole(t *testing.T) {
	e := newEnv(t, nil)
	_, qid := e.fixture()
	e.ok(200, "POST", "/api/agent-roles", map[string]any{"key": "off", "label": "Off", "description": "Inactive.", "active": false})

	task := e.task(qid, map[string]any{"agent_role_key": " qa_strategist ", "prompt_path": "p.md", "metadata": map[string]any{"a": 1}})
	if task["agent_role_key"] != "qa_strategist" || task["agent_role_label"] != "QA Strategist" {
		t.Fatalf("task %v", task)
	}
	if p := task["payload"].(string); p != `{"prompt_path":"p.md","metadata":{"a":1}, "agent_role_key": "qa_strategist", "agent_role_label": "QA Strategist"}` {
		t.Errorf("payload %s", p)
	}
	// An explicit payload keeps its keys; the role's are set over it.
	task = e.task(qid, map[string]any{"agent_role_key": "qa_strategist", "payload": map[string]any{"agent_role_label": "stale", "x": 1}})
	var p map[string]any
	json.Unmarshal([]byte(task["payload"].(string)), &p)
	if p["agent_role_label"] != "QA Strategist" || p["x"] != 1.0 {
		t.Errorf("payload %v", p)
	}

	wantError(t, e.do("POST", "/api/tasks", map[string]any{"queue_id": qid, "tool_name": "run-bash", "agent_role_key": "nobody"}), 400, "Agent role not found: nobody")
	wantError(t, e.do("POST", "/api/tasks", map[string]any{"queue_id": qid, "tool_name": "run-bash", "agent_role_key": "off"}), 400, "Agent role 'off' is not active")
	r := e.do("POST", "/api/tasks/batch", map[string]any{"tasks": []any{
		map[string]any{"queue_id": qid, "tool_name": "run-bash"},
		map[string]any{"queue_id": qid, "tool_name": "run-bash", "agent_role_key": "nobody"},
	}})
	wantError(t, r, 400, "tasks[1]: Agent role not found: nobody")
	if n := len(e.ok(200, "GET", "/api/tasks?queue_id="+qid, nil)["tasks"].([]any)); n != 2 {
		t.Errorf("%d tasks stored, want 2 (batch stored nothing)", n)
	}
}

func TestQueueSessions(t *testing.T) {
	e := newEnv(t, nil)
	_, qid := e.fixture()
	unknown := "que_000000000000"

	got := e.ok(200, "POST", "/api/queues/"+qid+"/codex-session", map[string]any{"session_id": " cx-1 "})
	if got["status"] != "ok" || got["queue_id"] != qid || got["codex_session_id"] != "cx-1" {
		t.Fatalf("codex = %v", got)
	}
	if q := field(t, e.ok(200, "GET", "/api/queues/"+qid, nil), "queue"); q["codex_session_id"] != "cx-1" || !strings.HasSuffix(q["updated_at"].(string), "Z") {
		t.Errorf("queue after codex %v", q)
	}

	if got := e.ok(200, "GET", "/api/queues/"+qid+"/llm-sessions", nil); got["queue_id"] != qid || len(got["llm_sessions"].(map[string]any)) != 0 {
		t.Fatalf("empty sessions = %v", got)
	}
	got = e.ok(200, "PUT", "/api/queues/"+qid+"/llm-sessions/claude", map[string]any{"session_id": "s-1", "metadata": map[string]any{"model": "opus", "session_id": "ignored"}})
	data := got["session_data"].(map[string]any)
	if got["status"] != "ok" || got["queue_id"] != qid || got["llm_name"] != "claude" || data["session_id"] != "s-1" || data["model"] != "opus" || data["last_updated"] == nil {
		t.Fatalf("put = %v", got)
	}
	e.ok(200, "PUT", "/api/queues/"+qid+"/llm-sessions/codex", map[string]any{"session_id": "s-2"})
	sessions := e.ok(200, "GET", "/api/queues/"+qid+"/llm-sessions", nil)["llm_sessions"].(map[string]any)
	if len(sessions) != 2 || sessions["claude"].(map[string]any)["model"] != "opus" {
		t.Fatalf("sessions = %v", sessions)
	}
	listed := e.ok(200, "GET", "/api/queues", nil)["queues"].([]any)[0].(map[string]any)
	if len(listed["llm_sessions"].(map[string]any)) != 2 {
		t.Errorf("listed queue llm_sessions = %v", listed["llm_sessions"])
	}

	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		msg    string
	}{
		{"codex unknown queue", "POST", "/api/queues/" + unknown + "/codex-session", map[string]any{"session_id": "x"}, 404, "Queue not found: " + unknown},
		{"codex no session", "POST", "/api/queues/" + qid + "/codex-session", map[string]any{}, 400, "session_id is required"},
		{"llm get unknown queue", "GET", "/api/queues/" + unknown + "/llm-sessions", nil, 404, "Queue not found: " + unknown}, // GAP 62
		{"llm put unknown queue", "PUT", "/api/queues/" + unknown + "/llm-sessions/x", map[string]any{"session_id": "x"}, 404, "Queue not found: " + unknown},
		{"llm put no session", "PUT", "/api/queues/" + qid + "/llm-sessions/x", map[string]any{"metadata": map[string]any{}}, 400, "session_id is required"},
		{"llm put bad metadata", "PUT", "/api/queues/" + qid + "/llm-sessions/x", map[string]any{"session_id": "x", "metadata": []int{1}}, 400, "metadata must be a JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do(tc.method, tc.path, tc.body), tc.status, tc.msg)
		})
	}

	// Text the original could leave in the column reads as no sessions.
	sqlExec(t, e, `UPDATE queues SET llm_sessions = 'not json' WHERE id = ?`, qid)
	if got := e.ok(200, "GET", "/api/queues/"+qid+"/llm-sessions", nil); len(got["llm_sessions"].(map[string]any)) != 0 {
		t.Errorf("bad column = %v", got)
	}
	if q := field(t, e.ok(200, "GET", "/api/queues/"+qid, nil), "queue"); len(q["llm_sessions"].(map[string]any)) != 0 {
		t.Errorf("bad column on queue = %v", q["llm_sessions"])
	}
}
