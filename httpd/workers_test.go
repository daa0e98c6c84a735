package httpd_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sparkq/sparkq/httpd"
	"github.com/sparkq/sparkq/store"
)

// until polls cond until it holds; the deadline only stops a hung test.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

type polled struct {
	worker string
	status int
	task   map[string]any
	err    error
}

// longPoll sends POST /api/queues/:id/claim?wait=… on its own goroutine.
func (e *env) longPoll(ctx context.Context, queueID, worker, wait string, out chan<- polled) {
	go func() {
		body := strings.NewReader(fmt.Sprintf(`{"worker_id": %q}`, worker))
		req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/api/queues/"+queueID+"/claim?wait="+wait, body)
		req.Header.Set("Content-Type", "application/json")
		resp, err := e.hc.Do(req)
		if err != nil {
			out <- polled{worker: worker, err: err}
			return
		}
		defer resp.Body.Close()
		p := polled{worker: worker, status: resp.StatusCode}
		var b struct{ Task map[string]any }
		if raw, _ := io.ReadAll(resp.Body); len(raw) > 0 {
			p.err = json.Unmarshal(raw, &b)
		}
		p.task = b.Task
		out <- p
	}()
}

func TestClaimLongPoll(t *testing.T) {
	e := newEnv(t, nil)
	_, q := e.fixture()
	results := make(chan polled, 8)

	// An empty queue answers 204 once the wait is over.
	e.longPoll(context.Background(), q, "idle", "20ms", results)
	if r := <-results; r.err != nil || r.status != http.StatusNoContent {
		t.Fatalf("expired wait: %+v", r)
	}

	// A waiting worker gets the task another client enqueues.
	e.longPoll(context.Background(), q, "w0", "5m", results)
	until(t, "the worker to wait", func() bool { return e.store.Waiting(q) == 1 })
	task := e.task(q, nil)
	r := <-results
	if r.err != nil || r.status != http.StatusOK || r.task["id"] != task["id"] || r.task["worker_id"] != "w0" || r.task["status"] != "running" {
		t.Fatalf("woken worker got %+v", r)
	}

	// Eight waiting workers and eight tasks: one each.
	for i := range 8 {
		e.longPoll(context.Background(), q, fmt.Sprintf("w%d", i+1), "5m", results)
	}
	until(t, "8 workers to wait", func() bool { return e.store.Waiting(q) == 8 })
	want := map[any]bool{}
	for range 8 {
		want[e.task(q, nil)["id"]] = true
	}
	for range 8 {
		r := <-results
		if r.err != nil || r.status != http.StatusOK || !want[r.task["id"]] {
			t.Fatalf("worker %s got %+v", r.worker, r)
		}
		delete(want, r.task["id"])
	}

	// The same over the control socket's handler is covered by the
	// control client tests; here: malformed waits are refused.
	for _, bad := range []string{"soon", "-1s", "10m"} {
		wantError(t, e.do("POST", "/api/queues/"+q+"/claim?wait="+bad, nil), http.StatusBadRequest, "wait must be…")
	}
	// Seconds work too.
	if r := e.do("POST", "/api/queues/"+q+"/claim?wait=0.01", nil); r.status != http.StatusNoContent {
		t.Fatalf("wait in seconds: %d %s", r.status, r.raw)
	}
}

// TestClaimLongPollQueueEnds: a long-poll on a queue that is ended while it
// waits, with nothing queued or running, answers 409 at once rather than
// 204, which a client waiting again would turn into a busy loop; a claim
// without wait there stays 204.
func TestClaimLongPollQueueEnds(t *testing.T) {
	e := newEnv(t, nil)
	_, q := e.fixture()
	results := make(chan polled, 2)
	e.longPoll(context.Background(), q, "w", "5m", results)
	until(t, "the worker to wait", func() bool { return e.store.Waiting(q) == 1 })
	if r := e.do("PUT", "/api/queues/"+q+"/end", nil); r.status != http.StatusOK {
		t.Fatalf("end queue: %d %s", r.status, r.raw)
	}
	if r := <-results; r.err != nil || r.status != http.StatusConflict {
		t.Fatalf("wait on a queue ended meanwhile: %+v", r)
	}
	r := e.do("POST", "/api/queues/"+q+"/claim?wait=5m", nil)
	wantError(t, r, http.StatusConflict, "Queue …")
	if msg, _ := r.body["error"].(string); !strings.Contains(msg, "is ended and has nothing queued or running") {
		t.Errorf("error %q does not say the queue is ended and drained", msg)
	}
	if r := e.do("POST", "/api/queues/"+q+"/claim", nil); r.status != http.StatusNoContent {
		t.Fatalf("claim without wait on an ended queue: %d %s", r.status, r.raw)
	}
}

// A worker that hangs up stops waiting: the next task goes to a live one.
func TestClaimLongPollClientGone(t *testing.T) {
	e := newEnv(t, nil)
	_, q := e.fixture()
	results := make(chan polled, 2)
	ctx, cancel := context.WithCancel(context.Background())
	e.longPoll(ctx, q, "gone", "5m", results)
	until(t, "the worker to wait", func() bool { return e.store.Waiting(q) == 1 })
	cancel()
	if r := <-results; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled poll: %+v", r)
	}
	until(t, "the departed worker to stop waiting", func() bool { return e.store.Waiting(q) == 0 })
	e.longPoll(context.Background(), q, "live", "5m", results)
	until(t, "the live worker to wait", func() bool { return e.store.Waiting(q) == 1 })
	task := e.task(q, nil)
	if r := <-results; r.status != http.StatusOK || r.task["id"] != task["id"] || r.task["attempts"] != 1.0 {
		t.Fatalf("live worker got %+v", r)
	}
}

// Shutdown does not sit out pending long-polls: they end with 204.
func TestClaimLongPollShutdown(t *testing.T) {
	e := newEnv(t, nil)
	_, q := e.fixture()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: httpd.New(httpd.Config{Store: e.store})}
	go srv.Serve(ln)
	done := make(chan int, 1)
	go func() {
		resp, err := http.Post("http://"+ln.Addr().String()+"/api/queues/"+q+"/claim?wait=5m", "application/json", nil)
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	until(t, "the worker to wait", func() bool { return e.store.Waiting(q) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v (a long-poll held it up)", err)
	}
	if status := <-done; status != http.StatusNoContent {
		t.Fatalf("long-poll during shutdown answered %d, want 204", status)
	}
}

func TestHeartbeatAndRelease(t *testing.T) {
	e := newEnv(t, nil)
	_, q := e.fixture()
	task := e.task(q, map[string]any{"timeout": 60})
	id := task["id"].(string)

	wantError(t, e.do("POST", "/api/tasks/"+id+"/heartbeat", nil), http.StatusConflict, "Cannot heartbeat task while status is queued")
	wantError(t, e.do("POST", "/api/tasks/"+id+"/release", nil), http.StatusConflict, "Cannot release task while status is queued")
	wantError(t, e.do("POST", "/api/tasks/tsk_000000000000/heartbeat", nil), http.StatusNotFound, "Task not found: tsk_000000000000")

	e.ok(http.StatusOK, "POST", "/api/queues/"+q+"/claim", map[string]any{"worker_id": "w1"})
	wantError(t, e.do("POST", "/api/tasks/"+id+"/heartbeat", map[string]any{"worker_id": "w2"}), http.StatusConflict,
		"Cannot heartbeat task: it is claimed by worker w1, not w2")
	wantError(t, e.do("POST", "/api/tasks/"+id+"/heartbeat", map[string]any{"worker": "w1"}), http.StatusBadRequest, "…")

	e.clock.Advance(10 * time.Second)
	lease := field(t, e.ok(http.StatusOK, "POST", "/api/tasks/"+id+"/heartbeat", map[string]any{"worker_id": "w1"}), "lease")
	now := store.NewTime(e.clock.Now())
	if lease["task_id"] != id || lease["worker_id"] != "w1" || lease["heartbeat_at"] != now.String() ||
		lease["auto_fail_at"] != store.NewTime(now.Add(2*time.Minute)).String() || lease["timeout"] != 60.0 {
		t.Fatalf("lease %v", lease)
	}
	// Without a worker_id any caller may heartbeat (sparkq touch).
	e.ok(http.StatusOK, "POST", "/api/tasks/"+id+"/heartbeat", nil)

	rel := e.ok(http.StatusOK, "POST", "/api/tasks/"+id+"/release", map[string]any{"worker_id": "w1"})
	if got := field(t, rel, "task"); got["status"] != "queued" || got["worker_id"] != nil || rel["message"] != "Task released" {
		t.Fatalf("release: %v", rel)
	}
	// Fail accepts result data.
	e.ok(http.StatusOK, "POST", "/api/tasks/"+id+"/claim", nil)
	failed := field(t, e.ok(http.StatusOK, "POST", "/api/tasks/"+id+"/fail",
		map[string]any{"error_message": "boom", "result_data": map[string]any{"log": "x"}}), "task")
	if failed["result"] != `{"log":"x"}` || failed["status"] != "failed" {
		t.Fatalf("fail with data: %v", failed)
	}
}

// ?wait is bounded: any well-formed value out of range, however large, is
// told the bound rather than that it is not a duration.
func TestClaimWaitBounds(t *testing.T) {
	e := newEnv(t, nil)
	_, q := e.fixture()
	tests := []struct{ wait, msg string }{
		{"9999999999999s", "wait must be at most 5m, got 9999999999999s"},
		{"99999999999999999999h", "wait must be at most 5m, got 99999999999999999999h"},
		{"2562048h", "wait must be at most 5m, got 2562048h"}, // just past time.Duration's range
		{"1e30", "wait must be at most 5m, got 1e30"},
		{"1e400", "wait must be at most 5m, got 1e400"}, // past float64's too
		{"9223372037", "wait must be at most 5m, got 9223372037"},
		{"10m", "wait must be at most 5m, got 10m"},
		{"300.5", "wait must be at most 5m, got 300.5"},
		{"-9999999999999s", "wait must be at least 0s, got -9999999999999s"},
		{"-1e30", "wait must be at least 0s, got -1e30"},
		{"-1s", "wait must be at least 0s, got -1s"},
		{"soon", `wait must be a duration like 30s or a number of seconds, got "soon"`},
		{"NaN", `wait must be a duration like 30s or a number of seconds, got "NaN"`},
	}
	for _, tc := range tests {
		t.Run(tc.wait, func(t *testing.T) {
			wantError(t, e.do("POST", "/api/queues/"+q+"/claim?wait="+url.QueryEscape(tc.wait), nil), http.StatusBadRequest, tc.msg)
		})
	}
	// The bounds themselves are accepted: a queued task is claimed at once.
	for _, wait := range []string{"5m", "300", "0", "0s"} {
		t.Run(wait, func(t *testing.T) {
			id := e.task(q, nil)["id"]
			r := e.do("POST", "/api/queues/"+q+"/claim?wait="+wait, nil)
			if r.status != http.StatusOK || field(t, r.body, "task")["id"] != id {
				t.Fatalf("wait=%s: %d %s", wait, r.status, r.raw)
			}
		})
	}
}
