package control_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkq/sparkq/control"
	"github.com/sparkq/sparkq/httpd"
	"github.com/sparkq/sparkq/store"
	"github.com/sparkq/sparkq/store/sqlite"
)

type fakeDaemon struct {
	reloadErr error
	shutdown  chan struct{}
}

func (d *fakeDaemon) Status(context.Context) any {
	return control.Status{PID: 4242, Version: "test-build", Socket: "s", Counts: store.Counts{Sessions: 1},
		Reaper: json.RawMessage(`{"warned":0}`)}
}
func (d *fakeDaemon) Reload(context.Context) error { return d.reloadErr }
func (d *fakeDaemon) Shutdown()                    { close(d.shutdown) }

// serve runs the real API with a real store on a real Unix socket and
// returns a client for it.
func serve(t *testing.T, configure func(*httpd.Config)) (*control.Client, *fakeDaemon) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sparkq.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	daemon := &fakeDaemon{shutdown: make(chan struct{})}
	cfg := httpd.Config{Store: st, Version: "test-build", Control: daemon}
	if configure != nil {
		configure(&cfg)
	}
	path := filepath.Join(socketDir(t), "sparkq.sock")
	ln, err := control.Listen(path)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := &http.Server{Handler: httpd.New(cfg)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	c := control.Dial(path)
	t.Cleanup(func() {
		c.Close()
		srv.Close()
		<-done
	})
	return c, daemon
}

func TestClientWorkflow(t *testing.T) {
	c, daemon := serve(t, nil)
	ctx := context.Background()

	h, err := c.Health(ctx)
	if err != nil || h.Status != "ok" || h.BuildID != "test-build" {
		t.Fatalf("Health = %+v, %v", h, err)
	}
	st, err := c.Status(ctx)
	if err != nil || st.PID != 4242 || st.Counts.Sessions != 1 || string(st.Reaper) != `{"warned":0}` {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	if err := c.Reload(ctx); err != nil {
		t.Fatalf("Reload: %v", err)
	}

	desc := "demo"
	sess, err := c.CreateSession(ctx, store.NewSession{Name: "work", Description: &desc})
	if err != nil || sess.Name != "work" || sess.Status != store.SessionActive || *sess.Description != "demo" {
		t.Fatalf("CreateSession = %+v, %v", sess, err)
	}
	if got, err := c.GetSession(ctx, "work"); err != nil || got.ID != sess.ID {
		t.Fatalf("GetSession by name = %+v, %v", got, err)
	}
	if list, err := c.ListSessions(ctx, store.SessionFilter{Status: store.SessionActive}, store.Page{}); err != nil || len(list) != 1 {
		t.Fatalf("ListSessions = %v, %v", list, err)
	}

	instr := "Be brief."
	q, err := c.CreateQueue(ctx, store.NewQueue{SessionID: sess.ID, Name: "main", Instructions: &instr})
	if err != nil || q.Name != "main" || q.State != store.QueueActive || q.SessionID != sess.ID {
		t.Fatalf("CreateQueue = %+v, %v", q, err)
	}
	if got, err := c.GetQueue(ctx, "main", "work"); err != nil || got.ID != q.ID {
		t.Fatalf("GetQueue by name = %+v, %v", got, err)
	}

	first, err := c.Enqueue(ctx, control.EnqueueRequest{QueueID: q.ID, ToolName: "run-bash", Prompt: "hello",
		Metadata: json.RawMessage(`{"k":"v"}`), Timeout: 30})
	if err != nil || first.Status != store.TaskQueued || first.Timeout != 30 || first.QueueName != "main" {
		t.Fatalf("Enqueue = %+v, %v", first, err)
	}
	var payload map[string]any
	if err := json.Unmarshal([]byte(first.Payload), &payload); err != nil || payload["prompt"] != "hello" {
		t.Errorf("payload = %s", first.Payload)
	}
	batch, err := c.EnqueueBatch(ctx, []control.EnqueueRequest{
		{QueueID: q.ID, ToolName: "run-bash", Payload: json.RawMessage(`{"prompt":"two"}`)},
		{QueueID: q.ID, ToolName: "run-bash"},
	})
	if err != nil || len(batch) != 2 || batch[0].Payload != `{"prompt":"two"}` {
		t.Fatalf("EnqueueBatch = %+v, %v", batch, err)
	}

	page, err := c.ListTasks(ctx, store.TaskFilter{QueueID: q.ID}, store.Page{Limit: 2})
	if err != nil || len(page.Tasks) != 2 || !page.Truncated || page.NextOffset == nil || *page.NextOffset != 2 {
		t.Fatalf("ListTasks page 1 = %+v, %v", page, err)
	}
	page, err = c.ListTasks(ctx, store.TaskFilter{QueueID: q.ID}, store.Page{Limit: 2, Offset: *page.NextOffset})
	if err != nil || len(page.Tasks) != 1 || page.Truncated || page.NextOffset != nil || page.Tasks[0].ID != first.ID {
		t.Fatalf("ListTasks page 2 = %+v, %v", page, err)
	}

	if peeked, err := c.Peek(ctx, q.ID); err != nil || peeked.ID != first.ID {
		t.Fatalf("Peek = %+v, %v", peeked, err)
	}
	claimed, err := c.ClaimNext(ctx, q.ID, "cli-1")
	if err != nil || claimed.ID != first.ID || claimed.Status != store.TaskRunning || *claimed.WorkerID != "cli-1" {
		t.Fatalf("ClaimNext = %+v, %v", claimed, err)
	}
	data := `{"n":1}`
	done, err := c.Complete(ctx, claimed.ID, store.Completion{Summary: "ok", Data: &data})
	if err != nil || done.Status != store.TaskSucceeded || *done.ResultSummary != "ok" || *done.Result != data || done.FinishedAt == nil {
		t.Fatalf("Complete = %+v, %v", done, err)
	}

	second, err := c.Claim(ctx, batch[0].ID, "")
	if err != nil || *second.WorkerID != "api" {
		t.Fatalf("Claim = %+v, %v", second, err)
	}
	failed, err := c.Fail(ctx, second.ID, store.Failure{Message: "boom", Type: "RuntimeError"})
	if err != nil || failed.Status != store.TaskFailed || *failed.Error != "RuntimeError: boom" {
		t.Fatalf("Fail = %+v, %v", failed, err)
	}
	clone, err := c.Requeue(ctx, failed.ID)
	if err != nil || clone.ID == failed.ID || clone.Status != store.TaskQueued {
		t.Fatalf("Requeue = %+v, %v", clone, err)
	}
	again, err := c.Rerun(ctx, failed.ID)
	if err != nil || again.ID != failed.ID || again.Status != store.TaskQueued {
		t.Fatalf("Rerun = %+v, %v", again, err)
	}
	if got, err := c.GetTask(ctx, again.ID); err != nil || got.Status != store.TaskQueued {
		t.Fatalf("GetTask = %+v, %v", got, err)
	}
	if res, err := c.Purge(ctx, 1, true); err != nil || res != (control.PurgeResult{OlderThanDays: 1, DryRun: true}) {
		t.Fatalf("Purge dry run = %+v, %v", res, err)
	}
	if res, err := c.Purge(ctx, 0, false); err != nil || res != (control.PurgeResult{OlderThanDays: 3}) {
		t.Fatalf("Purge = %+v, %v", res, err)
	}

	queues, err := c.ListQueues(ctx, store.QueueFilter{SessionID: sess.ID}, store.Page{})
	if err != nil || len(queues) != 1 || queues[0].Stats.Total != 4 || queues[0].Stats.Succeeded != 1 || queues[0].Status() != store.ActivityPlanned {
		t.Fatalf("ListQueues = %+v, %v", queues, err)
	}
	for _, step := range []struct {
		do    func(context.Context, string) (store.Queue, error)
		state string
	}{{c.ArchiveQueue, store.QueueArchived}, {c.UnarchiveQueue, store.QueueActive}, {c.EndQueue, store.QueueEnded}} {
		if got, err := step.do(ctx, q.ID); err != nil || got.State != step.state {
			t.Fatalf("queue lifecycle to %s = %+v, %v", step.state, got, err)
		}
	}
	if ended, err := c.EndSession(ctx, sess.ID); err != nil || ended.Status != store.SessionEnded {
		t.Fatalf("EndSession = %+v, %v", ended, err)
	}
	if err := c.DeleteQueue(ctx, q.ID); err != nil {
		t.Fatalf("DeleteQueue: %v", err)
	}

	if err := c.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	<-daemon.shutdown
}

func TestClientErrors(t *testing.T) {
	c, daemon := serve(t, func(cfg *httpd.Config) { cfg.MaxBodyBytes = 512 })
	ctx := context.Background()
	sess, err := c.CreateSession(ctx, store.NewSession{Name: "s"})
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.CreateQueue(ctx, store.NewQueue{SessionID: sess.ID, Name: "q"})
	if err != nil {
		t.Fatal(err)
	}
	task, err := c.Enqueue(ctx, control.EnqueueRequest{QueueID: q.ID, ToolName: "run-bash"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Claim(ctx, task.ID, "w"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		call   func() error
		kind   error // control sentinel
		same   error // equivalent store sentinel
		status int
		msg    string // exact, without "Error: "; "" to skip
	}{
		{"unknown task", func() error { _, err := c.GetTask(ctx, "tsk_000000000000"); return err },
			control.ErrNotFound, store.ErrNotFound, 404, "Task not found: tsk_000000000000"},
		{"unknown session name", func() error { _, err := c.GetSession(ctx, "nope"); return err },
			control.ErrNotFound, store.ErrNotFound, 404, "Session not found: nope"},
		{"duplicate session", func() error { _, err := c.CreateSession(ctx, store.NewSession{Name: "s"}); return err },
			control.ErrConflict, store.ErrConflict, 409, ""},
		{"claim running task", func() error { _, err := c.Claim(ctx, task.ID, "x"); return err },
			control.ErrConflict, store.ErrConflict, 409, "Cannot claim task while status is running"},
		{"blank session name", func() error { _, err := c.CreateSession(ctx, store.NewSession{Name: " "}); return err },
			control.ErrInvalid, store.ErrInvalid, 400, "name is required"},
		{"non-object payload", func() error {
			_, err := c.Enqueue(ctx, control.EnqueueRequest{QueueID: q.ID, ToolName: "run-bash", Payload: json.RawMessage(`[1]`)})
			return err
		}, control.ErrInvalid, store.ErrInvalid, 400, "payload must be a JSON object"},
		{"body too large", func() error {
			_, err := c.Enqueue(ctx, control.EnqueueRequest{QueueID: q.ID, ToolName: "run-bash", Prompt: strings.Repeat("x", 600)})
			return err
		}, control.ErrInvalid, store.ErrInvalid, 413, "Request body too large (limit 512 bytes)"},
		{"config error on reload", func() error {
			daemon.reloadErr = store.Invalid("port", "port must be a number")
			defer func() { daemon.reloadErr = nil }()
			return c.Reload(ctx)
		}, control.ErrInvalid, store.ErrInvalid, 400, "port must be a number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, tc.kind) || !errors.Is(err, tc.same) {
				t.Fatalf("err = %v, want errors.Is %v and %v", err, tc.kind, tc.same)
			}
			var ce *control.Error
			if !errors.As(err, &ce) || ce.Status != tc.status {
				t.Fatalf("err = %#v, want *control.Error with status %d", err, tc.status)
			}
			if tc.msg != "" && ce.Message != tc.msg {
				t.Errorf("message %q, want %q", ce.Message, tc.msg)
			}
			for _, other := range []error{control.ErrNotFound, control.ErrConflict, control.ErrInvalid, control.ErrNotRunning} {
				if other != tc.kind && errors.Is(err, other) {
					t.Errorf("err also matches %v", other)
				}
			}
		})
	}

	t.Run("empty queue", func(t *testing.T) {
		if _, err := c.ClaimNext(ctx, q.ID, "w"); !errors.Is(err, store.ErrEmpty) {
			t.Errorf("ClaimNext on empty queue: %v, want store.ErrEmpty", err)
		}
		if _, err := c.Peek(ctx, q.ID); !errors.Is(err, store.ErrEmpty) {
			t.Errorf("Peek on empty queue: %v, want store.ErrEmpty", err)
		}
		if _, err := c.ClaimNext(ctx, "que_000000000000", "w"); !errors.Is(err, control.ErrNotFound) {
			t.Errorf("ClaimNext on unknown queue: %v, want ErrNotFound", err)
		}
	})
}

func TestClientNotRunning(t *testing.T) {
	dir := socketDir(t)
	stale := filepath.Join(dir, "stale.sock")
	staleSocket(t, stale)

	for name, path := range map[string]string{"no socket file": filepath.Join(dir, "missing.sock"), "stale socket": stale} {
		t.Run(name, func(t *testing.T) {
			c := control.Dial(path)
			defer c.Close()
			_, err := c.Health(context.Background())
			if !errors.Is(err, control.ErrNotRunning) {
				t.Fatalf("err = %v, want ErrNotRunning", err)
			}
			if want := "sparkq is not running — start it with `sparkq start`"; err.Error() != want {
				t.Errorf("message %q, want %q", err, want)
			}
			if errors.Is(err, control.ErrNotFound) {
				t.Errorf("not-running error also matches ErrNotFound")
			}
		})
	}
}

func TestErrorIs(t *testing.T) {
	tests := []struct {
		status int
		kind   error
	}{
		{404, control.ErrNotFound},
		{409, control.ErrConflict},
		{400, control.ErrInvalid},
		{413, control.ErrInvalid},
		{500, nil},
	}
	for _, tc := range tests {
		err := error(&control.Error{Status: tc.status, Message: "m"})
		for _, k := range []error{control.ErrNotFound, control.ErrConflict, control.ErrInvalid} {
			if got := errors.Is(err, k); got != (k == tc.kind) {
				t.Errorf("status %d: errors.Is(%v) = %v", tc.status, k, got)
			}
		}
	}
}
