package httpd_test

import (
	"net/http"
	"testing"
)

func TestQueues(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.session("s1")
	other := e.session("s2")

	created := e.ok(http.StatusCreated, "POST", "/api/queues", map[string]any{
		"session_id": sid, "name": " Back End ", "instructions": "Be brief.",
	})
	q := field(t, created, "queue")
	qid := q["id"].(string)
	for _, k := range []string{"id", "session_id", "name", "instructions", "codex_session_id", "default_agent_role_key",
		"status", "created_at", "updated_at", "model_profile", "stats", "llm_sessions", "state"} {
		if _, ok := q[k]; !ok {
			t.Errorf("queue lacks %q: %v", k, q)
		}
	}
	if q["name"] != "Back End" || q["state"] != "active" || q["status"] != "idle" || q["instructions"] != "Be brief." {
		t.Errorf("created queue = %v", q)
	}
	// The same name in another session is fine: names are unique per session.
	otherQ := e.queue(other, "Back End")

	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		msg    string
	}{
		{"blank name", "POST", "/api/queues", map[string]any{"session_id": sid, "name": " "}, 400, "name is required"},
		{"missing session", "POST", "/api/queues", map[string]any{"name": "x"}, 400, "session_id is required"},
		{"name not a string", "POST", "/api/queues", map[string]any{"session_id": sid, "name": true}, 400, "name must be a string"},
		{"unknown session", "POST", "/api/queues", map[string]any{"session_id": "ses_000000000000", "name": "x"}, 404, "Session not found: ses_000000000000"},
		{"duplicate in session", "POST", "/api/queues", map[string]any{"session_id": sid, "name": "Back End"}, 409, "Queue name must be unique…"},
		{"get unknown", "GET", "/api/queues/que_000000000000", nil, 404, "Queue not found: que_000000000000"},
		{"ambiguous name", "GET", "/api/queues/Back%20End", nil, 409, "…"},
		{"list negative limit", "GET", "/api/queues?limit=-5", nil, 400, "limit must be at least 0"},
		{"list bad state", "GET", "/api/queues?state=idle", nil, 400, "state must be one of: active, ended, archived"},
		{"update nothing", "PUT", "/api/queues/" + qid, map[string]any{}, 400, "No fields provided to update queue"},
		{"update blank name", "PUT", "/api/queues/" + qid, map[string]any{"name": ""}, 400, "name cannot be empty"},
		{"update unknown key", "PUT", "/api/queues/" + qid, map[string]any{"colour": "red"}, 400, "unknown field: colour"},
		{"update unknown", "PUT", "/api/queues/que_000000000000", map[string]any{"name": "x"}, 404, "Queue not found: que_000000000000"},
		{"end unknown", "PUT", "/api/queues/que_000000000000/end", nil, 404, "Queue not found: que_000000000000"},
		{"archive unknown", "PUT", "/api/queues/que_000000000000/archive", nil, 404, "Queue not found: que_000000000000"},
		{"unarchive unknown", "PUT", "/api/queues/que_000000000000/unarchive", nil, 404, "Queue not found: que_000000000000"},
		{"delete unknown", "DELETE", "/api/queues/que_000000000000", nil, 404, "Queue not found: que_000000000000"},
		{"claim next unknown", "POST", "/api/queues/que_000000000000/claim", nil, 404, "Queue not found: que_000000000000"},
		{"peek unknown", "GET", "/api/queues/que_000000000000/peek", nil, 404, "Queue not found: que_000000000000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do(tc.method, tc.path, tc.body), tc.status, tc.msg)
		})
	}

	t.Run("get by name narrowed by session", func(t *testing.T) {
		for _, path := range []string{"/api/queues/" + qid, "/api/queues/Back%20End?session=s1", "/api/queues/Back%20End?session=" + sid} {
			if got := field(t, e.ok(200, "GET", path, nil), "queue"); got["id"] != qid {
				t.Errorf("GET %s = %v", path, got["id"])
			}
		}
		if got := field(t, e.ok(200, "GET", "/api/queues/Back%20End?session=s2", nil), "queue"); got["id"] != otherQ {
			t.Errorf("session s2 resolved to %v", got["id"])
		}
	})

	// GAP 38: list and get report the same derived status and stats.
	statusBoth := func(t *testing.T) (string, map[string]any) {
		t.Helper()
		got := field(t, e.ok(200, "GET", "/api/queues/"+qid, nil), "queue")
		var listed map[string]any
		for _, x := range e.ok(200, "GET", "/api/queues?session_id="+sid, nil)["queues"].([]any) {
			if x.(map[string]any)["id"] == qid {
				listed = x.(map[string]any)
			}
		}
		if listed == nil {
			t.Fatalf("queue %s not listed", qid)
		}
		if got["status"] != listed["status"] {
			t.Errorf("get status %v != list status %v", got["status"], listed["status"])
		}
		gs, ls := field(t, got, "stats"), field(t, listed, "stats")
		for k, v := range gs {
			if ls[k] != v {
				t.Errorf("stats[%s]: get %v, list %v", k, v, ls[k])
			}
		}
		return got["status"].(string), gs
	}

	t.Run("status and stats follow tasks", func(t *testing.T) {
		first := e.task(qid, nil)["id"].(string)
		e.task(qid, nil)
		if st, stats := statusBoth(t); st != "planned" || stats["queued"] != 2.0 || stats["progress"] != "0/2" {
			t.Errorf("with queued work: %s %v", st, stats)
		}
		e.ok(200, "POST", "/api/tasks/"+first+"/claim", nil)
		if st, _ := statusBoth(t); st != "active" {
			t.Errorf("with running work: %s", st)
		}
		e.ok(200, "POST", "/api/tasks/"+first+"/complete", map[string]any{"result_summary": "ok"})
		st, stats := statusBoth(t)
		want := map[string]float64{"total": 2, "done": 1, "running": 0, "queued": 1, "failed": 0}
		for k, n := range want {
			if stats[k] != n {
				t.Errorf("stats[%s] = %v, want %v", k, stats[k], n)
			}
		}
		if st != "planned" || stats["progress"] != "1/2" {
			t.Errorf("after completion: %s %v", st, stats)
		}
	})

	t.Run("update", func(t *testing.T) {
		got := field(t, e.ok(200, "PUT", "/api/queues/"+qid, map[string]any{"name": "Front", "instructions": "Long."}), "queue")
		if got["name"] != "Front" || got["instructions"] != "Long." {
			t.Errorf("updated = %v", got)
		}
	})

	t.Run("lifecycle", func(t *testing.T) {
		steps := []struct{ action, message, state string }{
			{"archive", "Queue archived", "archived"},
			{"unarchive", "Queue unarchived", "active"},
			{"end", "Queue ended", "ended"},
			{"archive", "Queue archived", "archived"},
			{"unarchive", "Queue unarchived", "ended"}, // GAP 37: never silently reopened
		}
		for _, s := range steps {
			body := e.ok(200, "PUT", "/api/queues/"+qid+"/"+s.action, nil)
			q := field(t, body, "queue")
			// A live queue shows its activity; others show their state.
			wantStatus := s.state
			if s.state == "active" {
				wantStatus = "planned"
			}
			if body["message"] != s.message || q["state"] != s.state || q["status"] != wantStatus {
				t.Fatalf("%s: %v", s.action, body)
			}
		}
		// Ended queues accept no new tasks.
		wantError(t, e.do("POST", "/api/tasks", map[string]any{"queue_id": qid, "tool_name": "run-bash"}), 409, "…")
		if only := e.ok(200, "GET", "/api/queues?state=ended", nil)["queues"].([]any); len(only) != 1 {
			t.Errorf("state=ended listed %d queues", len(only))
		}
	})

	t.Run("list paging", func(t *testing.T) {
		all := e.ok(200, "GET", "/api/queues", nil)["queues"].([]any)
		if len(all) != 2 || all[0].(map[string]any)["id"] != otherQ {
			t.Fatalf("queues = %v, want newest first", all)
		}
		if p := e.ok(200, "GET", "/api/queues?limit=1&offset=1", nil)["queues"].([]any); len(p) != 1 || p[0].(map[string]any)["id"] != qid {
			t.Errorf("page 2 = %v", p)
		}
		if p := e.ok(200, "GET", "/api/queues?limit=0", nil)["queues"].([]any); len(p) != 0 {
			t.Errorf("limit=0 = %v", p)
		}
	})

	t.Run("delete", func(t *testing.T) {
		tid := e.task(otherQ, nil)["id"].(string)
		if body := e.ok(200, "DELETE", "/api/queues/"+otherQ, nil); body["message"] != "Queue deleted" {
			t.Errorf("delete = %v", body)
		}
		wantError(t, e.do("GET", "/api/queues/"+otherQ, nil), 404, "Queue not found: "+otherQ)
		wantError(t, e.do("GET", "/api/tasks/"+tid, nil), 404, "Task not found: "+tid)
	})
}

func TestClaimNextAndPeek(t *testing.T) {
	e := newEnv(t, nil)
	_, qid := e.fixture()

	for _, r := range []response{e.do("POST", "/api/queues/"+qid+"/claim", nil), e.do("GET", "/api/queues/"+qid+"/peek", nil)} {
		if r.status != http.StatusNoContent || len(r.raw) != 0 {
			t.Fatalf("empty queue: %d %q, want 204 and no body", r.status, r.raw)
		}
	}

	first := e.task(qid, map[string]any{"prompt": "one"})["id"].(string)
	second := e.task(qid, nil)["id"].(string)

	peeked := field(t, e.ok(200, "GET", "/api/queues/"+qid+"/peek", nil), "task")
	if peeked["id"] != first || peeked["status"] != "queued" {
		t.Fatalf("peek = %v", peeked)
	}
	claimed := field(t, e.ok(200, "POST", "/api/queues/"+qid+"/claim", map[string]any{"worker_id": "w1"}), "task")
	if claimed["id"] != first || claimed["status"] != "running" || claimed["worker_id"] != "w1" || claimed["prompt_text"] != "one" {
		t.Fatalf("claim next = %v", claimed)
	}
	claimed = field(t, e.ok(200, "POST", "/api/queues/"+qid+"/claim", nil), "task")
	if claimed["id"] != second || claimed["worker_id"] != "api" {
		t.Fatalf("second claim = %v", claimed)
	}
	if _, ok := claimed["prompt_text"]; !ok {
		t.Errorf("claim response lacks prompt_text")
	}
	if r := e.do("POST", "/api/queues/"+qid+"/claim", nil); r.status != http.StatusNoContent {
		t.Errorf("drained queue: %d", r.status)
	}
	wantError(t, e.do("POST", "/api/queues/"+qid+"/claim", map[string]any{"worker_id": 7}), 400, "worker_id must be a string")
}
