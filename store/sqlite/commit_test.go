package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparkq/sparkq/store"
)

// TestGroupCommitIsolatesFailures queues writes behind a held writer so one
// leader runs them all in one transaction, then checks that a write that
// fails after changing rows leaves nothing behind while its neighbours
// commit.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	q := mustQueue(t, s, "gc")

	res, err := s.writer.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c0, w0 := s.CommitStats()
	const n = 12
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.write(ctx, func(tx wtx) error {
				task, err := s.insertTask(ctx, tx, store.NewTask{QueueID: q.ID, ToolName: "run-bash", TaskClass: "standard",
					Payload: fmt.Sprintf(`{"n":%d}`, i), Timeout: 60}, q.Name, s.stamp())
				if err != nil {
					return err
				}
				if i%3 == 0 {
					return fmt.Errorf("write %d gives up after inserting %s", i, task.ID)
				}
				return nil
			})
		}()
	}
	waitFor(t, "all writes to queue", func() bool {
		s.pendMu.Lock()
		defer s.pendMu.Unlock()
		return len(s.pending) == n
	})
	res.Release()
	wg.Wait()

	page, err := s.ListTasks(ctx, store.TaskFilter{QueueID: q.ID}, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string]bool{}
	for _, task := range page.Tasks {
		kept[task.Payload] = true
	}
	for i, err := range errs {
		payload := fmt.Sprintf(`{"n":%d}`, i)
		if i%3 == 0 {
			if err == nil || !strings.Contains(err.Error(), "gives up") {
				t.Errorf("write %d: want its own error, got %v", i, err)
			}
			if kept[payload] {
				t.Errorf("write %d failed but its task was committed", i)
			}
		} else {
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
			if !kept[payload] {
				t.Errorf("write %d succeeded but its task is missing", i)
			}
		}
	}
	if len(page.Tasks) != n-n/3 {
		t.Errorf("%d tasks stored, want %d", len(page.Tasks), n-n/3)
	}
	got, err := s.GetQueue(ctx, q.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Stats.Queued != n-n/3 {
		t.Errorf("queue counter says %d queued, want %d (rolled-back inserts must not count)", got.Stats.Queued, n-n/3)
	}
	c1, w1 := s.CommitStats()
	if c1-c0 != 1 || w1-w0 != n {
		t.Errorf("%d writes took %d commits, want all %d in one", w1-w0, c1-c0, n)
	}
}

// TestEnqueueReturnsStoredTask: the task Enqueue builds (it no longer reads
// the row back) must be exactly what a later read returns.
func TestEnqueueReturnsStoredTask(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	q := mustQueue(t, s, "echo")
	role := "reviewer"
	ins := []store.NewTask{
		{QueueID: q.ID, ToolName: "run-bash", Payload: `{"prompt": "x", "n": [1, 2]}`},
		{QueueID: q.ID, ToolName: "llm-haiku", Timeout: 42},
		{QueueID: q.ID, ToolName: "run-bash", AgentRoleKey: &role, Payload: "  {}  "},
	}
	one, err := s.Enqueue(ctx, ins[0])
	if err != nil {
		t.Fatal(err)
	}
	many, err := s.EnqueueBatch(ctx, ins[1:])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimNext(ctx, q.ID, "w"); err != nil {
		t.Fatal(err)
	}
	done, err := s.Complete(ctx, one.ID, store.Completion{Summary: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Requeue(ctx, done.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range append([]store.Task{one, again}, many...) {
		stored, err := s.GetTask(ctx, got.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == one.ID {
			// one has moved on since; compare what Enqueue answered with
			// the row as it was: only the later state fields differ.
			stored.Status, stored.Attempts, stored.WorkerID = store.TaskQueued, 0, nil
			stored.Result, stored.ResultSummary, stored.UpdatedAt = nil, nil, stored.CreatedAt
			stored.StartedAt, stored.ClaimedAt, stored.FinishedAt = nil, nil, nil
		}
		if !reflect.DeepEqual(got, stored) {
			t.Errorf("Enqueue answered\n%+v\nbut the store holds\n%+v", got, stored)
		}
	}
}

// TestTaskIDsAscend: ids grow with issue order (they append to the id
// index), keep the original shape, and a clash after the clock was set back
// falls back to a random id instead of failing the enqueue.
func TestTaskIDsAscend(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	q := mustQueue(t, s, "ids")
	tasks := enqueueN(t, s, q.ID, 600)
	for i, task := range tasks {
		if len(task.ID) != 16 || !strings.HasPrefix(task.ID, "tsk_") || strings.Trim(task.ID[4:], "0123456789abcdef") != "" {
			t.Fatalf("id %q: want tsk_ and 12 lowercase hex digits", task.ID)
		}
		if i > 0 && task.ID <= tasks[i-1].ID {
			t.Fatalf("id %d (%s) does not follow %s", i, task.ID, tasks[i-1].ID)
		}
	}

	// The clock goes back: the next id is one already used.
	var used uint64
	fmt.Sscanf(tasks[0].ID, "tsk_%x", &used)
	s.ids.mu.Lock()
	s.ids.last = used - 1
	s.ids.now = func() time.Time { return time.UnixMicro(int64(used - 1)) }
	s.ids.mu.Unlock()
	got, err := s.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash"})
	if err != nil {
		t.Fatalf("enqueue after the clock went back: %v", err)
	}
	if got.ID == tasks[0].ID {
		t.Fatalf("id %s issued twice", got.ID)
	}
	if _, err := s.GetTask(ctx, got.ID); err != nil {
		t.Fatal(err)
	}
}

// TestFailedWriteLeavesWriterUsable: a write whose statement fails inside
// a lone transaction is rolled back and the next write works.
func TestFailedWriteLeavesWriterUsable(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	q := mustQueue(t, s, "after")
	boom := errors.New("boom")
	err := s.write(ctx, func(tx wtx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE queues SET name = 'renamed' WHERE id = ?`, q.ID); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("want boom, got %v", err)
	}
	got, err := s.GetQueue(ctx, q.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != q.Name {
		t.Fatalf("failed write was committed: name %q", got.Name)
	}
	if _, err := s.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash"}); err != nil {
		t.Fatalf("writer unusable after a failed write: %v", err)
	}
}

// TestCloseRemovesWAL: Close leaves only the database file. The writer's
// prepared statements once kept its connection, and so the WAL, alive.
func TestCloseRemovesWAL(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sparkq.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	q := mustQueue(t, s, "wal")
	enqueueN(t, s, q.ID, 10)
	if _, err := s.ClaimNext(ctx, q.ID, "w"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind after Close (err=%v)", path+suffix, err)
		}
	}
}
