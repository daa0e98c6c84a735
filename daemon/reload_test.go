package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkq/sparkq/control"
	"github.com/sparkq/sparkq/reaper"
	"github.com/sparkq/sparkq/store"
)

// writeYAML replaces the instance's sparkq.yml, keeping its port and
// database.
func (in instance) writeYAML(t *testing.T, extra string) {
	t.Helper()
	yml := fmt.Sprintf("server:\n  port: %d\ndatabase:\n  path: data/sparkq.db\n%s", in.cfg.Server.Port, extra)
	if err := os.WriteFile(in.cfgPath, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
}

func reaperStats(t *testing.T, c *control.Client) reaper.Stats {
	t.Helper()
	st, err := c.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var rs reaper.Stats
	if err := json.Unmarshal(st.Reaper, &rs); err != nil {
		t.Fatalf("status reaper %s: %v", st.Reaper, err)
	}
	return rs
}

func scriptNames(t *testing.T, c *control.Client) string {
	t.Helper()
	list, err := c.ScriptIndex(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range list {
		names = append(names, s.Name)
	}
	return strings.Join(names, ",")
}

// TestReload: a good file applies without a restart (script_dirs, the
// reaper's schedule); a broken one is refused with file:line and changes
// nothing; the daemon answers throughout.
func TestReload(t *testing.T) {
	in := newInstance(t)
	dir := filepath.Dir(in.cfgPath)
	for _, s := range []string{"one/first.sh", "two/second.py"} {
		p := filepath.Join(dir, s)
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte("# description: test\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	in.writeYAML(t, "script_dirs: [one]\npurge:\n  interval: 1h\n")
	_, c := in.start(t)
	ctx := context.Background()
	sess, err := c.CreateSession(ctx, store.NewSession{Name: "reload"})
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.CreateQueue(ctx, store.NewQueue{SessionID: sess.ID, Name: "q"})
	if err != nil {
		t.Fatal(err)
	}

	// Clients keep working through every reload.
	var served, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := control.Dial(in.cfg.SocketPath())
			defer cl.Close()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := cl.Enqueue(ctx, control.EnqueueRequest{QueueID: q.ID, ToolName: "run-bash", Payload: json.RawMessage(fmt.Sprintf(`{"w":%d}`, w))})
				if err == nil {
					_, err = cl.ClaimNext(ctx, q.ID, "w")
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				served.Add(1)
			}
		}()
	}

	// progress waits until the clients got more work done.
	progress := func(what string) {
		t.Helper()
		n := served.Load()
		for i := 0; served.Load() < n+10; i++ {
			if i == 3000 {
				t.Fatalf("%s: the clients made no progress (%d failed: %v)", what, failed.Load(), firstErr.Load())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	progress("before reloading")

	if got := scriptNames(t, c); got != "first" {
		t.Fatalf("scripts before reload: %q", got)
	}
	if rs := reaperStats(t, c); rs.PurgeIntervalSeconds != 3600 {
		t.Fatalf("purge interval before reload: %+v", rs)
	}

	// A good file applies.
	in.writeYAML(t, "script_dirs: [two]\npurge:\n  interval: 2h\nlog:\n  level: debug\n")
	if err := c.Reload(ctx); err != nil {
		t.Fatalf("reload of a good file: %v", err)
	}
	if got := scriptNames(t, c); got != "second" {
		t.Fatalf("scripts after reload: %q", got)
	}
	if rs := reaperStats(t, c); rs.PurgeIntervalSeconds != 7200 {
		t.Fatalf("purge interval after reload: %+v", rs)
	}
	progress("after a good reload")

	// Broken files are refused with file:line and change nothing.
	for _, tt := range []struct{ name, yml, where string }{
		{"type error", "script_dirs: [one]\npurge:\n  interval: 3h\n  older_than_days: many\n", "sparkq.yml:8:"},
		{"syntax error", "script_dirs: [one]\npurge: [\n", "sparkq.yml:7:"},
	} {
		in.writeYAML(t, tt.yml)
		err := c.Reload(ctx)
		if !errors.Is(err, control.ErrInvalid) || !strings.Contains(err.Error(), in.cfgPath+":") || !strings.Contains(err.Error(), tt.where) ||
			!strings.Contains(err.Error(), "configuration unchanged") {
			t.Fatalf("%s: reload = %v, want a 400 naming %s", tt.name, err, tt.where)
		}
		if got := scriptNames(t, c); got != "second" {
			t.Fatalf("%s: scripts after a refused reload: %q", tt.name, got)
		}
		if rs := reaperStats(t, c); rs.PurgeIntervalSeconds != 7200 {
			t.Fatalf("%s: purge interval after a refused reload: %+v", tt.name, rs)
		}
		progress("after a refused reload")
	}
	// The HTTP route is the same reload.
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/api/reload", in.cfg.Server.Port), "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body.Error, "sparkq.yml:7:") {
		t.Fatalf("POST /api/reload of a broken file: %d %q", resp.StatusCode, body.Error)
	}

	close(stop)
	wg.Wait()
	if failed.Load() != 0 || served.Load() == 0 {
		t.Fatalf("clients during reloads: %d ok, %d failed (first: %v)", served.Load(), failed.Load(), firstErr.Load())
	}
}

// TestConfigRowsDriveReaper: the reaper follows the precedence rule at run
// time: a purge/config or queue_runner/config row written through the API
// applies at once, wins over sparkq.yml (also after a reload), and deleting
// it falls back to the file.
func TestConfigRowsDriveReaper(t *testing.T) {
	in := newInstance(t)
	in.writeYAML(t, "purge:\n  older_than_days: 5\nqueue_runner:\n  auto_fail_interval_seconds: 40\n")
	_, c := in.start(t) // the file seeds the rows of the new database

	base := fmt.Sprintf("http://127.0.0.1:%d/api/config/", in.cfg.Server.Port)
	call := func(method, path, body string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
		}
	}
	want := func(what string, days int, sweep float64) {
		t.Helper()
		if rs := reaperStats(t, c); rs.RetentionDays != days || rs.SweepIntervalSeconds != sweep {
			t.Fatalf("%s: reaper has %d days, %v s; want %d days, %v s", what, rs.RetentionDays, rs.SweepIntervalSeconds, days, sweep)
		}
	}
	want("seeded from sparkq.yml", 5, 40)

	call("PUT", "purge/config", `{"value": {"older_than_days": 9}}`)
	call("PUT", "queue_runner/config", `{"value": {"poll_interval": 30, "auto_fail_interval_seconds": 12}}`)
	want("after PUT, no restart", 9, 12)
	res, err := c.Purge(context.Background(), 0, true)
	if err != nil || res.OlderThanDays != 9 || !res.DryRun {
		t.Fatalf("purge dry run uses the same retention: %+v %v", res, err)
	}

	in.writeYAML(t, "purge:\n  older_than_days: 6\nqueue_runner:\n  auto_fail_interval_seconds: 45\n")
	if err := c.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	want("the database wins over a reloaded file", 9, 12)

	call("DELETE", "purge/config", "")
	call("DELETE", "queue_runner/config", "")
	want("rows deleted: the file's values", 6, 45)
}
