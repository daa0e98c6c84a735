package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparkq/sparkq/store"
)

// clock is a settable fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "data", "sparkq.db"), opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustQueue(t testing.TB, s *Store, name string) store.Queue {
	t.Helper()
	ctx := context.Background()
	sess, err := s.CreateSession(ctx, store.NewSession{Name: "s-" + name})
	if err != nil {
		t.Fatal(err)
	}
	q, err := s.CreateQueue(ctx, store.NewQueue{SessionID: sess.ID, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func enqueueN(t testing.TB, s *Store, queueID string, n int) []store.Task {
	t.Helper()
	var out []store.Task
	for i := 0; i < n; i += 500 {
		batch := make([]store.NewTask, 0, 500)
		for j := i; j < min(n, i+500); j++ {
			batch = append(batch, store.NewTask{QueueID: queueID, ToolName: "run-bash", Payload: fmt.Sprintf(`{"n":%d}`, j)})
		}
		got, err := s.EnqueueBatch(context.Background(), batch)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got...)
	}
	return out
}

func wantKind(t *testing.T, err error, kind store.Kind) {
	t.Helper()
	if store.KindOf(err) != kind {
		t.Fatalf("want %v error, got %v (%v)", kind, store.KindOf(err), err)
	}
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	q := mustQueue(t, s, "work")
	if q.Status() != store.ActivityIdle || q.State != store.QueueActive {
		t.Fatalf("new queue status %s state %s", q.Status(), q.State)
	}
	task, err := s.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "llm-haiku", Payload: `{"prompt":"hi"}`})
	if err != nil {
		t.Fatal(err)
	}
	if task.Status != store.TaskQueued || task.TaskClass != "LLM_LITE" || task.Timeout != 480 || task.QueueName != "work" {
		t.Fatalf("enqueued task: %+v", task)
	}
	if !strings.HasPrefix(task.ID, "tsk_") || len(task.ID) != 16 {
		t.Fatalf("task id %q", task.ID)
	}
	if got := store.FriendlyID(task.QueueName, task.ID); got != "WORK-"+task.ID[12:] {
		t.Fatalf("friendly id %s", got)
	}
	// Invalid transitions before claim.
	_, err = s.Complete(ctx, task.ID, store.Completion{Summary: "x"})
	wantKind(t, err, store.KindConflict)
	_, err = s.Fail(ctx, task.ID, store.Failure{Message: "x"})
	wantKind(t, err, store.KindConflict)

	claimed, err := s.ClaimNext(ctx, q.ID, "w1")
	if err != nil {
		t.Fatal(err)
	}
	if claimed.ID != task.ID || claimed.Status != store.TaskRunning || claimed.Attempts != 1 || claimed.WorkerID == nil || *claimed.WorkerID != "w1" || claimed.ClaimedAt == nil {
		t.Fatalf("claimed: %+v", claimed)
	}
	_, err = s.Claim(ctx, task.ID, "w2")
	wantKind(t, err, store.KindConflict)
	_, err = s.ClaimNext(ctx, q.ID, "w2")
	if !errors.Is(err, store.ErrEmpty) {
		t.Fatalf("claim from empty queue: %v", err)
	}
	_, err = s.Complete(ctx, task.ID, store.Completion{Summary: "   "})
	wantKind(t, err, store.KindInvalid)
	data := `{"ok":true}`
	done, err := s.Complete(ctx, task.ID, store.Completion{Summary: "all good", Data: &data})
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != store.TaskSucceeded || *done.ResultSummary != "all good" || *done.Result != data || done.FinishedAt == nil {
		t.Fatalf("completed: %+v", done)
	}
	got, _ := s.GetTask(ctx, task.ID)
	if *got.ResultSummary != "all good" || *got.WorkerID != "w1" {
		t.Fatalf("stored task lost summary or worker: %+v", got)
	}
	_, err = s.Complete(ctx, task.ID, store.Completion{Summary: "again"})
	wantKind(t, err, store.KindConflict)

	clone, err := s.Requeue(ctx, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if clone.ID == task.ID || clone.Status != store.TaskQueued || clone.Payload != task.Payload || clone.Attempts != 0 {
		t.Fatalf("requeue clone: %+v", clone)
	}
	orig, _ := s.GetTask(ctx, task.ID)
	if orig.Status != store.TaskSucceeded {
		t.Fatalf("requeue changed the original: %s", orig.Status)
	}
	_, err = s.Requeue(ctx, clone.ID)
	wantKind(t, err, store.KindConflict)

	rerun, err := s.Rerun(ctx, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rerun.Status != store.TaskQueued || rerun.Result != nil || rerun.ClaimedAt != nil || rerun.Attempts != 0 {
		t.Fatalf("rerun: %+v", rerun)
	}
	// Rerun keeps its FIFO position: it is older than the clone.
	next, err := s.ClaimNext(ctx, q.ID, "w")
	if err != nil || next.ID != task.ID {
		t.Fatalf("after rerun want %s first, got %s (%v)", task.ID, next.ID, err)
	}
	failed, err := s.Fail(ctx, next.ID, store.Failure{Message: "boom", Type: "RuntimeError"})
	if err != nil || *failed.Error != "RuntimeError: boom" || failed.AutoFailed {
		t.Fatalf("fail: %+v %v", failed, err)
	}
	_, err = s.Reset(ctx, failed.ID, "running")
	wantKind(t, err, store.KindConflict) // a manual failure is not auto-failed

	if err := s.DeleteTask(ctx, clone.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetTask(ctx, clone.ID)
	wantKind(t, err, store.KindNotFound)
}

func TestQueueStatsAndStates(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	q := mustQueue(t, s, "stats")
	enqueueN(t, s, q.ID, 3)
	a, _ := s.ClaimNext(ctx, q.ID, "")
	b, _ := s.ClaimNext(ctx, q.ID, "")
	s.Complete(ctx, a.ID, store.Completion{Summary: "ok"})
	s.Fail(ctx, b.ID, store.Failure{Message: "no"})
	got, err := s.GetQueue(ctx, q.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := store.QueueStats{Total: 3, Queued: 1, Running: 0, Succeeded: 1, Failed: 1}
	if got.Stats != want || got.Status() != store.ActivityPlanned {
		t.Fatalf("stats %+v status %s", got.Stats, got.Status())
	}
	c, _ := s.GetCounts(ctx)
	if c.QueuedTasks != 1 || c.Queues != 1 || c.Sessions != 1 {
		t.Fatalf("counts %+v", c)
	}

	// end → enqueue refused but claims still drain; archive → claims refused;
	// unarchive keeps it ended.
	if _, err := s.EndQueue(ctx, q.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash"})
	wantKind(t, err, store.KindConflict)
	if _, err := s.ArchiveQueue(ctx, q.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.ClaimNext(ctx, q.ID, "")
	wantKind(t, err, store.KindConflict)
	un, err := s.UnarchiveQueue(ctx, q.ID)
	if err != nil || un.State != store.QueueEnded {
		t.Fatalf("unarchive of an ended queue: %s %v", un.State, err)
	}
	if _, err := s.ClaimNext(ctx, q.ID, ""); err != nil {
		t.Fatalf("ended queue should still drain: %v", err)
	}
	_, err = s.EndQueue(ctx, q.ID)
	wantKind(t, err, store.KindConflict)
}

// GetCounts is a test alias that keeps the call sites short.
func (s *Store) GetCounts(ctx context.Context) (store.Counts, error) { return s.Counts(ctx) }

func TestBadInputChangesNothing(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	q := mustQueue(t, s, "bad")
	cases := []struct {
		name  string
		task  store.NewTask
		field string
	}{
		{"array payload", store.NewTask{QueueID: q.ID, ToolName: "run-bash", Payload: `[1]`}, "payload"},
		{"string payload", store.NewTask{QueueID: q.ID, ToolName: "run-bash", Payload: `"x"`}, "payload"},
		{"broken payload", store.NewTask{QueueID: q.ID, ToolName: "run-bash", Payload: `{"a":`}, "payload"},
		{"unknown tool", store.NewTask{QueueID: q.ID, ToolName: "nope"}, "tool_name"},
		{"blank tool", store.NewTask{QueueID: q.ID, ToolName: " "}, "tool_name"},
		{"unknown class", store.NewTask{QueueID: q.ID, ToolName: "run-bash", TaskClass: "HUGE"}, "task_class"},
		{"negative timeout", store.NewTask{QueueID: q.ID, ToolName: "run-bash", Timeout: -1}, "timeout"},
	}
	for _, c := range cases {
		_, err := s.Enqueue(ctx, c.task)
		var e *store.Error
		if !errors.As(err, &e) || e.Kind != store.KindInvalid || e.Field != c.field {
			t.Errorf("%s: want invalid %s, got %v", c.name, c.field, err)
		}
	}
	_, err := s.Enqueue(ctx, store.NewTask{QueueID: "que_missing", ToolName: "run-bash"})
	wantKind(t, err, store.KindNotFound)
	// A batch with one bad task stores none.
	_, err = s.EnqueueBatch(ctx, []store.NewTask{{QueueID: q.ID, ToolName: "run-bash"}, {QueueID: q.ID, ToolName: "run-bash", Payload: "[]"}})
	wantKind(t, err, store.KindInvalid)
	page, _ := s.ListTasks(ctx, store.TaskFilter{QueueID: q.ID}, store.Page{})
	if len(page.Tasks) != 0 {
		t.Fatalf("bad input stored %d tasks", len(page.Tasks))
	}

	_, err = s.CreateSession(ctx, store.NewSession{Name: "  "})
	wantKind(t, err, store.KindInvalid)
	_, err = s.CreateSession(ctx, store.NewSession{Name: "s-bad"})
	wantKind(t, err, store.KindConflict) // active duplicate
	_, err = s.CreateQueue(ctx, store.NewQueue{SessionID: q.SessionID, Name: "bad"})
	wantKind(t, err, store.KindConflict)
	_, err = s.CreateQueue(ctx, store.NewQueue{SessionID: q.SessionID, Name: ""})
	wantKind(t, err, store.KindInvalid)
	_, err = s.CreateQueue(ctx, store.NewQueue{SessionID: "ses_nope", Name: "x"})
	wantKind(t, err, store.KindNotFound)
	for _, id := range []string{"tsk_nope", ""} {
		_, err = s.Claim(ctx, id, "")
		wantKind(t, err, store.KindNotFound)
		_, err = s.Complete(ctx, id, store.Completion{Summary: "x"})
		wantKind(t, err, store.KindNotFound)
	}
	// The DB itself refuses a non-object payload even past the Go checks.
	err = s.write(ctx, func(tx wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tasks(id, queue_id, tool_name, task_class, payload, status, timeout, created_at, updated_at)
			VALUES ('tsk_x', ?, 'run-bash', 'MEDIUM_SCRIPT', '[1]', 'queued', 5, 'a', 'a')`, q.ID)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "CHECK") {
		t.Fatalf("schema accepted a non-object payload: %v", err)
	}
}

func TestSessionEndAndCascade(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	q := mustQueue(t, s, "c")
	tasks := enqueueN(t, s, q.ID, 5)
	sess, err := s.EndSession(ctx, q.SessionID)
	if err != nil || sess.Status != store.SessionEnded || sess.EndedAt == nil {
		t.Fatalf("end session: %+v %v", sess, err)
	}
	got, _ := s.GetQueue(ctx, q.ID)
	if got.State != store.QueueEnded {
		t.Fatalf("ending a session left its queue %s", got.State)
	}
	_, err = s.CreateQueue(ctx, store.NewQueue{SessionID: sess.ID, Name: "late"})
	wantKind(t, err, store.KindConflict)
	// The name is free again once the session ended.
	if _, err := s.CreateSession(ctx, store.NewSession{Name: sess.Name}); err != nil {
		t.Fatalf("reuse ended session name: %v", err)
	}
	if err := s.DeleteSession(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetQueue(ctx, q.ID)
	wantKind(t, err, store.KindNotFound)
	_, err = s.GetTask(ctx, tasks[0].ID)
	wantKind(t, err, store.KindNotFound)
}

func TestFindByName(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	a, _ := s.CreateSession(ctx, store.NewSession{Name: "alpha"})
	b, _ := s.CreateSession(ctx, store.NewSession{Name: "beta"})
	qa, _ := s.CreateQueue(ctx, store.NewQueue{SessionID: a.ID, Name: "jobs"})
	qb, _ := s.CreateQueue(ctx, store.NewQueue{SessionID: b.ID, Name: "jobs"})
	_, err := s.FindQueue(ctx, "jobs", "")
	wantKind(t, err, store.KindConflict)
	got, err := s.FindQueue(ctx, "jobs", "beta")
	if err != nil || got.ID != qb.ID {
		t.Fatalf("find by name in session: %v %v", got.ID, err)
	}
	got, err = s.FindQueue(ctx, qa.ID, "")
	if err != nil || got.ID != qa.ID {
		t.Fatalf("find by id: %v", err)
	}
	gs, err := s.FindSession(ctx, "alpha")
	if err != nil || gs.ID != a.ID {
		t.Fatalf("find session: %v", err)
	}
}

func TestFIFOAndListPaging(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	q := mustQueue(t, s, "fifo")
	tasks := enqueueN(t, s, q.ID, 25)
	page, err := s.ListTasks(ctx, store.TaskFilter{QueueID: q.ID}, store.Page{Limit: 10})
	if err != nil || len(page.Tasks) != 10 || !page.More || page.Tasks[0].ID != tasks[24].ID {
		t.Fatalf("page 1: %d more=%v %v", len(page.Tasks), page.More, err)
	}
	page, _ = s.ListTasks(ctx, store.TaskFilter{QueueID: q.ID}, store.Page{Limit: 10, Offset: 20})
	if len(page.Tasks) != 5 || page.More {
		t.Fatalf("last page: %d more=%v", len(page.Tasks), page.More)
	}
	if p, _ := s.Peek(ctx, q.ID); p.ID != tasks[0].ID {
		t.Fatalf("peek: %s", p.ID)
	}
	for i := range tasks {
		got, err := s.ClaimNext(ctx, q.ID, "w")
		if err != nil || got.ID != tasks[i].ID {
			t.Fatalf("claim %d: want %s got %s (%v)", i, tasks[i].ID, got.ID, err)
		}
	}
}

// TestClaimExactlyOnce: 16 goroutines drain one queue of 10,000 tasks; no
// task is handed out twice and none is lost.
func TestClaimExactlyOnce(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	q := mustQueue(t, s, "race")
	const n, workers = 10000, 16
	tasks := enqueueN(t, s, q.ID, n)
	var mu sync.Mutex
	seen := make(map[string]int, n)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				task, err := s.ClaimNext(ctx, q.ID, fmt.Sprintf("w%d", w))
				if errors.Is(err, store.ErrEmpty) {
					return
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				seen[task.ID]++
				mu.Unlock()
				if _, err := s.Complete(ctx, task.ID, store.Completion{Summary: "ok"}); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("claimed %d distinct tasks, want %d", len(seen), n)
	}
	for _, task := range tasks {
		if seen[task.ID] != 1 {
			t.Fatalf("task %s claimed %d times", task.ID, seen[task.ID])
		}
	}
	got, _ := s.GetQueue(ctx, q.ID)
	if got.Stats.Succeeded != n || got.Stats.Queued != 0 || got.Stats.Running != 0 {
		t.Fatalf("final stats %+v", got.Stats)
	}
}

func TestSweepStale(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := openTest(t, Options{Now: clk.Now})
	q := mustQueue(t, s, "stale")
	other := mustQueue(t, s, "other")
	task, _ := s.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash", Timeout: 60})
	calm, _ := s.Enqueue(ctx, store.NewTask{QueueID: other.ID, ToolName: "run-bash", Timeout: 600})
	s.Claim(ctx, task.ID, "w")
	s.Claim(ctx, calm.ID, "w")

	clk.Add(59 * time.Second)
	if r, _ := s.SweepStale(ctx, clk.Now()); r != (store.SweepResult{}) {
		t.Fatalf("before 1x: %+v", r)
	}
	clk.Add(time.Second)
	if r, _ := s.SweepStale(ctx, clk.Now()); r != (store.SweepResult{Warned: 1}) {
		t.Fatalf("at 1x: %+v", r)
	}
	got, _ := s.GetTask(ctx, task.ID)
	if got.StaleWarnedAt == nil || got.Status != store.TaskRunning {
		t.Fatalf("warned task: %+v", got)
	}
	clk.Add(59 * time.Second)
	if r, _ := s.SweepStale(ctx, clk.Now()); r != (store.SweepResult{}) {
		t.Fatalf("just before 2x: %+v", r)
	}
	clk.Add(time.Second)
	if r, _ := s.SweepStale(ctx, clk.Now()); r != (store.SweepResult{Failed: 1}) {
		t.Fatalf("at 2x: %+v", r)
	}
	got, _ = s.GetTask(ctx, task.ID)
	if got.Status != store.TaskFailed || !got.AutoFailed || *got.Error != store.AutoFailError {
		t.Fatalf("auto-failed task: %+v", got)
	}
	if c, _ := s.GetTask(ctx, calm.ID); c.Status != store.TaskRunning || c.StaleWarnedAt != nil {
		t.Fatalf("task in another queue touched: %+v", c)
	}
	logs, _ := s.ListAudit(ctx, "task.auto_fail", 10)
	if len(logs) != 1 {
		t.Fatalf("want one auto_fail audit entry, got %d", len(logs))
	}
	// Reset to running restarts the stale clock: the next sweep keeps it.
	reset, err := s.Reset(ctx, task.ID, "running")
	if err != nil || reset.Status != store.TaskRunning {
		t.Fatalf("reset: %v", err)
	}
	if r, _ := s.SweepStale(ctx, clk.Now()); r.Failed != 0 {
		t.Fatalf("reset task failed again at once: %+v", r)
	}
	// A late completion of an auto-failed task is accepted.
	clk.Add(121 * time.Second)
	s.SweepStale(ctx, clk.Now())
	done, err := s.Complete(ctx, task.ID, store.Completion{Summary: "late"})
	if err != nil || done.Status != store.TaskSucceeded || done.Error != nil {
		t.Fatalf("late complete: %+v %v", done, err)
	}
}

func TestPurge(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := openTest(t, Options{Now: clk.Now})
	q := mustQueue(t, s, "purge")
	enqueueN(t, s, q.ID, 6)
	for i := 0; i < 4; i++ {
		task, _ := s.ClaimNext(ctx, q.ID, "")
		if i%2 == 0 {
			s.Complete(ctx, task.ID, store.Completion{Summary: "ok"})
		} else if i == 1 {
			s.Fail(ctx, task.ID, store.Failure{Message: "no"})
		}
	}
	// now: 2 succeeded, 1 failed, 1 running, 2 queued — all "old".
	clk.Add(4 * 24 * time.Hour)
	n, err := s.Purge(ctx, clk.Now().Add(-3*24*time.Hour), 2)
	if err != nil || n != 2 {
		t.Fatalf("first batch: %d %v", n, err)
	}
	n, _ = s.Purge(ctx, clk.Now().Add(-3*24*time.Hour), 2)
	if n != 1 {
		t.Fatalf("second batch: %d", n)
	}
	got, _ := s.GetQueue(ctx, q.ID)
	if got.Stats != (store.QueueStats{Total: 3, Queued: 2, Running: 1}) {
		t.Fatalf("after purge %+v", got.Stats)
	}
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	q := mustQueue(t, s, "keep")
	s.Close()

	// Reopening keeps data and does not re-run migrations.
	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetQueue(ctx, q.ID); err != nil {
		t.Fatalf("data lost on reopen: %v", err)
	}
	// Pretend a newer SparkQ wrote the file.
	s.write(ctx, func(tx wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO schema_version VALUES (?, 'x')`, SchemaVersion+1)
		return err
	})
	s.Close()
	_, err = Open(ctx, path, Options{})
	if err == nil || !strings.Contains(err.Error(), "upgrade SparkQ") {
		t.Fatalf("newer schema accepted: %v", err)
	}
}

func TestSeedOnlyOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "seed.db")
	desc := "mine"
	seed := &Seed{TaskClasses: []store.TaskClass{{Name: "QUICK", Timeout: 5}}, Tools: []store.Tool{{Name: "t1", TaskClass: "QUICK", Description: &desc}, {Name: "t2", TaskClass: "LLM_LITE"}}}
	s, err := Open(ctx, path, Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	task, err := s.Enqueue(ctx, store.NewTask{QueueID: mustQueue(t, s, "q").ID, ToolName: "t1"})
	if err != nil || task.Timeout != 5 || task.TaskClass != "QUICK" {
		t.Fatalf("seeded class timeout not used: %+v %v", task, err)
	}
	if err := s.DeleteTool(ctx, "t2"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path, Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tools, _ := s.ListTools(ctx)
	if len(tools) != 1 || tools[0].Name != "t1" {
		t.Fatalf("reseeded over user edits: %+v", tools)
	}
}

// Names found by a fresh user that could not be addressed or displayed.
func TestNameValidation(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	q := mustQueue(t, s, "names")
	for _, name := range []string{"que_669edd0dfa4b", "ses_0123456789ab", "line\nbreak", "tab\there", strings.Repeat("x", 201)} {
		_, err := s.CreateQueue(ctx, store.NewQueue{SessionID: q.SessionID, Name: name})
		wantKind(t, err, store.KindInvalid)
		_, err = s.CreateSession(ctx, store.NewSession{Name: name})
		wantKind(t, err, store.KindInvalid)
	}
	for _, name := range []string{"añadir ✨", strings.Repeat("y", 200), "-dash", "que_short"} {
		if _, err := s.CreateQueue(ctx, store.NewQueue{SessionID: q.SessionID, Name: name}); err != nil {
			t.Errorf("valid name %q refused: %v", name, err)
		}
	}
}

// An ended queue takes no new tasks by any route, requeue and rerun included.
func TestEndedQueueRefusesRequeueAndRerun(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	q := mustQueue(t, s, "ended")
	task := enqueueN(t, s, q.ID, 1)[0]
	s.Claim(ctx, task.ID, "w")
	s.Complete(ctx, task.ID, store.Completion{Summary: "ok"})
	if _, err := s.EndQueue(ctx, q.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.Requeue(ctx, task.ID)
	wantKind(t, err, store.KindConflict)
	_, err = s.Rerun(ctx, task.ID)
	wantKind(t, err, store.KindConflict)
	got, _ := s.GetQueue(ctx, q.ID)
	if got.Stats.Total != 1 || got.Stats.Queued != 0 {
		t.Fatalf("ended queue gained work: %+v", got.Stats)
	}
}

// A status filter on one queue must read a partial index, not scan the
// queue: the dashboard took a second per page on a 600k-task queue.
func TestStatusFilterUsesIndex(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	want := map[string]string{
		store.TaskQueued: "tasks_queued", store.TaskRunning: "tasks_running",
		store.TaskSucceeded: "tasks_succeeded", store.TaskFailed: "tasks_failed",
	}
	for status, index := range want {
		q, args, err := listTasksQuery(store.TaskFilter{QueueID: "que_x", Status: status})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := s.rdb.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, append(args, 10, 0)...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if got := strings.Join(plan, "; "); !strings.Contains(got, "INDEX "+index+" ") || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("status %s: plan %q, want index %s without a sort", status, got, index)
		}
	}
}
