package httpd_test

import (
	"net/http"
	"testing"
)

func TestSessions(t *testing.T) {
	e := newEnv(t, nil)

	created := e.ok(http.StatusOK, "POST", "/api/sessions", map[string]any{"name": "  alpha  ", "description": "first"})
	s := field(t, created, "session")
	id := s["id"].(string)
	for _, k := range []string{"id", "project_id", "name", "description", "status", "started_at", "ended_at", "created_at", "updated_at"} {
		if _, ok := s[k]; !ok {
			t.Errorf("session lacks %q: %v", k, s)
		}
	}
	if s["name"] != "alpha" || s["status"] != "active" || s["description"] != "first" || s["ended_at"] != nil {
		t.Errorf("created session = %v", s)
	}
	beta := e.session("beta")

	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		msg    string
	}{
		{"blank name", "POST", "/api/sessions", map[string]any{"name": "   "}, 400, "name is required"},
		{"missing name", "POST", "/api/sessions", map[string]any{}, 400, "name is required"},
		{"name not a string", "POST", "/api/sessions", map[string]any{"name": 5}, 400, "name must be a string"},
		{"description not a string", "POST", "/api/sessions", map[string]any{"name": "x", "description": []int{1}}, 400, "description must be a string"},
		{"unknown field", "POST", "/api/sessions", map[string]any{"name": "x", "colour": "red"}, 400, "unknown field: colour"},
		{"duplicate active name", "POST", "/api/sessions", map[string]any{"name": "alpha"}, 409, "…"},
		{"get unknown", "GET", "/api/sessions/ses_000000000000", nil, 404, "Session not found: ses_000000000000"},
		{"negative limit", "GET", "/api/sessions?limit=-1", nil, 400, "limit must be at least 0"},
		{"negative offset", "GET", "/api/sessions?offset=-1", nil, 400, "offset must be at least 0"},
		{"non-int limit", "GET", "/api/sessions?limit=abc", nil, 400, "limit must be an integer"},
		{"bad status", "GET", "/api/sessions?status=paused", nil, 400, "status must be one of: active, ended"},
		{"update nothing", "PUT", "/api/sessions/" + id, map[string]any{}, 400, "No fields provided to update session"},
		{"update blank name", "PUT", "/api/sessions/" + id, map[string]any{"name": " "}, 400, "name cannot be empty"},
		{"update unknown key", "PUT", "/api/sessions/" + id, map[string]any{"status": "ended"}, 400, "unknown field: status"},
		{"update to taken name", "PUT", "/api/sessions/" + beta, map[string]any{"name": "alpha"}, 409, "…"},
		{"update unknown", "PUT", "/api/sessions/ses_000000000000", map[string]any{"name": "x"}, 404, "Session not found: ses_000000000000"},
		{"end unknown", "PUT", "/api/sessions/ses_000000000000/end", nil, 404, "Session not found: ses_000000000000"},
		{"delete unknown", "DELETE", "/api/sessions/ses_000000000000", nil, 404, "Session not found: ses_000000000000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do(tc.method, tc.path, tc.body), tc.status, tc.msg)
		})
	}

	t.Run("get by id and by name", func(t *testing.T) {
		for _, key := range []string{id, "alpha"} {
			if got := field(t, e.ok(200, "GET", "/api/sessions/"+key, nil), "session"); got["id"] != id {
				t.Errorf("GET /api/sessions/%s = %v", key, got)
			}
		}
	})

	t.Run("list and paginate", func(t *testing.T) {
		all := e.ok(200, "GET", "/api/sessions", nil)["sessions"].([]any)
		if len(all) != 2 || all[0].(map[string]any)["id"] != beta {
			t.Fatalf("sessions = %v, want beta first (newest)", all)
		}
		page := e.ok(200, "GET", "/api/sessions?limit=1&offset=1", nil)["sessions"].([]any)
		if len(page) != 1 || page[0].(map[string]any)["id"] != id {
			t.Errorf("second page = %v", page)
		}
		if none := e.ok(200, "GET", "/api/sessions?limit=0", nil)["sessions"].([]any); len(none) != 0 {
			t.Errorf("limit=0 returned %v", none)
		}
	})

	t.Run("update", func(t *testing.T) {
		got := field(t, e.ok(200, "PUT", "/api/sessions/"+id, map[string]any{"name": "alpha2", "description": ""}), "session")
		if got["name"] != "alpha2" || got["description"] != "" {
			t.Errorf("updated = %v", got)
		}
	})

	t.Run("end", func(t *testing.T) {
		qid := e.queue(id, "q")
		ended := e.ok(200, "PUT", "/api/sessions/"+id+"/end", nil)
		if ended["message"] != "Session ended" || field(t, ended, "session")["status"] != "ended" {
			t.Fatalf("end = %v", ended)
		}
		if q := field(t, e.ok(200, "GET", "/api/queues/"+qid, nil), "queue"); q["state"] != "ended" {
			t.Errorf("queue of ended session: state %v, want ended", q["state"])
		}
		wantError(t, e.do("PUT", "/api/sessions/"+id+"/end", nil), 409, "…")
		only := e.ok(200, "GET", "/api/sessions?status=ended", nil)["sessions"].([]any)
		if len(only) != 1 || only[0].(map[string]any)["id"] != id {
			t.Errorf("status=ended = %v", only)
		}
		// An ended session's name is free again.
		e.session("alpha2")
	})

	t.Run("delete cascades", func(t *testing.T) {
		qid := e.queue(beta, "doomed")
		tid := e.task(qid, nil)["id"].(string)
		del := e.ok(200, "DELETE", "/api/sessions/"+beta, nil)
		if del["message"] != "Session deleted (cascade delete with all queues and tasks)" {
			t.Errorf("delete = %v", del)
		}
		wantError(t, e.do("GET", "/api/sessions/"+beta, nil), 404, "Session not found: "+beta)
		wantError(t, e.do("GET", "/api/tasks/"+tid, nil), 404, "Task not found: "+tid)
	})
}
