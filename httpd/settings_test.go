package httpd_test

import (
	"net/http"
	"testing"
)

// TestStaleHandlingFollowsPrecedence: GET /api/config reports the sweep
// interval the reaper uses: the queue_runner/config row's value, else
// sparkq.yml's, else 30 s (reaper.Resolve).
func TestStaleHandlingFollowsPrecedence(t *testing.T) {
	cfg := loadSettings(t, testYAML) // auto_fail_interval_seconds: 45
	e := newSeededEnv(t, daemonSeed(cfg), withSettings(cfg))
	interval := func() any {
		return field(t, e.ok(http.StatusOK, "GET", "/api/config", nil), "stale_handling")["auto_fail_interval_seconds"]
	}
	if got := interval(); got != 45.0 {
		t.Fatalf("seeded from sparkq.yml: %v, want 45", got)
	}
	e.ok(http.StatusOK, "PUT", "/api/config/queue_runner/config", map[string]any{"value": map[string]any{"auto_fail_interval_seconds": 10}})
	if got := interval(); got != 10.0 {
		t.Fatalf("after PUT: %v, want the row's 10", got)
	}
	// A row without the key leaves it to sparkq.yml, not to the default.
	e.ok(http.StatusOK, "PUT", "/api/config/queue_runner/config", map[string]any{"value": map[string]any{"poll_interval": 5}})
	if got := interval(); got != 45.0 {
		t.Fatalf("row without the key: %v, want sparkq.yml's 45", got)
	}
	e.ok(http.StatusOK, "DELETE", "/api/config/queue_runner/config", nil)
	if got := interval(); got != 45.0 {
		t.Fatalf("after DELETE: %v, want 45", got)
	}
	if got := newEnv(t, nil).ok(http.StatusOK, "GET", "/api/config", nil)["stale_handling"].(map[string]any)["auto_fail_interval_seconds"]; got != 30.0 {
		t.Fatalf("no sparkq.yml, no row: %v, want 30", got)
	}
}
