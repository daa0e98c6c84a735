package httpd_test

import (
	"net/http"
	"testing"
)

// A task read from the API carries payload as a JSON string; posting it
// back as it is must work (a fresh user's round trip failed with 400).
func TestPayloadStringRoundTrip(t *testing.T) {
	e := newEnv(t, nil)
	_, q := e.fixture()
	first := e.task(q, map[string]any{"payload": map[string]any{"prompt": "hi", "n": 1}})
	payload, _ := first["payload"].(string)
	if payload == "" {
		t.Fatalf("payload not returned as a string: %#v", first["payload"])
	}
	again := e.task(q, map[string]any{"payload": payload})
	if again["payload"] != payload {
		t.Fatalf("round trip changed the payload: %q -> %q", payload, again["payload"])
	}
	for _, bad := range []any{`[1]`, `"x"`, `{`, ``} {
		r := e.do(http.MethodPost, "/api/tasks", map[string]any{"queue_id": q, "tool_name": "run-bash", "payload": bad})
		wantError(t, r, http.StatusBadRequest, "payload must be a JSON object")
	}
}

// A trailing slash is a JSON 404, not an HTML redirect.
func TestTrailingSlashIsJSON404(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do(http.MethodGet, "/api/tasks/", nil)
	if r.status != http.StatusNotFound || r.body["status"] != float64(404) {
		t.Fatalf("GET /api/tasks/: %d %s", r.status, r.raw)
	}
}
