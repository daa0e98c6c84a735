package reaper

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sparkq/sparkq/store"
	"github.com/sparkq/sparkq/store/sqlite"
)

// fakeClock fires After channels only when the test advances it, and tells
// the test when the reaper is waiting.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	waiting chan struct{}
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(t time.Time) *fakeClock {
	return &fakeClock{now: t, waiting: make(chan struct{}, 100)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	c.waiting <- struct{}{}
	return ch
}

// Advance moves time on and fires due timers.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

func setup(t *testing.T, clk *fakeClock) (*sqlite.Store, store.Queue) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "r.db"), sqlite.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sess, err := st.CreateSession(ctx, store.NewSession{Name: "s"})
	if err != nil {
		t.Fatal(err)
	}
	q, err := st.CreateQueue(ctx, store.NewQueue{SessionID: sess.ID, Name: "q"})
	if err != nil {
		t.Fatal(err)
	}
	return st, q
}

// TestRunFailsStaleOnSchedule drives the real loop with a fake clock: a task
// claimed with timeout T is warned at T and failed at 2T, not before.
func TestRunFailsStaleOnSchedule(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk := newFakeClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	st, q := setup(t, clk)
	task, err := st.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash", Timeout: 90})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Claim(ctx, task.ID, "w"); err != nil {
		t.Fatal(err)
	}
	r := New(st, Settings{SweepInterval: 30 * time.Second}, clk, nil)
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()

	status := func() store.Task {
		got, err := st.GetTask(ctx, task.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	<-clk.waiting // first sweep done at start-up
	for elapsed := 30 * time.Second; elapsed <= 180*time.Second; elapsed += 30 * time.Second {
		clk.Advance(30 * time.Second)
		<-clk.waiting // the loop swept and sleeps again
		got := status()
		switch {
		case elapsed < 90*time.Second:
			if got.StaleWarnedAt != nil || got.Status != store.TaskRunning {
				t.Fatalf("at %v: warned or failed too early: %+v", elapsed, got)
			}
		case elapsed < 180*time.Second:
			if got.StaleWarnedAt == nil || got.Status != store.TaskRunning {
				t.Fatalf("at %v: want warned and running, got %s warned=%v", elapsed, got.Status, got.StaleWarnedAt)
			}
		default:
			if got.Status != store.TaskFailed || got.Error == nil || *got.Error != "TIMEOUT: Task timeout (auto-failed)" {
				t.Fatalf("at %v: want auto-failed, got %+v", elapsed, got)
			}
		}
	}
	if s := r.Stats(); s.AutoFailed != 1 || s.Warned != 1 || s.Sweeps < 7 {
		t.Fatalf("stats %+v", s)
	}
	cancel()
	<-done
}

func TestPurgeInBatchesKeepsUnfinished(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	st, q := setup(t, clk)
	var batch []store.NewTask
	for i := 0; i < 25; i++ {
		batch = append(batch, store.NewTask{QueueID: q.ID, ToolName: "run-bash"})
	}
	if _, err := st.EnqueueBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 21; i++ {
		task, err := st.ClaimNext(ctx, q.ID, "w")
		if err != nil {
			t.Fatal(err)
		}
		if i < 20 {
			st.Complete(ctx, task.ID, store.Completion{Summary: "ok"})
		}
	}
	r := New(st, Settings{RetentionDays: 3, PurgeBatch: 7}, clk, nil)
	clk.Advance(3*24*time.Hour - time.Second)
	if n := r.Purge(ctx); n != 0 {
		t.Fatalf("purged %d tasks younger than retention", n)
	}
	clk.Advance(2 * time.Second)
	if n := r.Purge(ctx); n != 20 {
		t.Fatalf("purged %d, want the 20 finished tasks", n)
	}
	got, _ := st.GetQueue(ctx, q.ID)
	if got.Stats.Queued != 4 || got.Stats.Running != 1 || got.Stats.Total != 5 {
		t.Fatalf("unfinished tasks touched: %+v", got.Stats)
	}
	if s := r.Stats(); s.Purged != 20 || s.Purges != 2 {
		t.Fatalf("stats %+v", s)
	}
}
