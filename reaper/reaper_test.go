package reaper

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sparkq/sparkq/daemon/config"
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
// claimed with timeout T is warned at T and failed at 2T, not before, with
// the documented error. A heartbeat-free task in another queue, claimed at
// the same moment with a longer timeout, is left alone throughout.
func TestRunFailsStaleOnSchedule(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk := newFakeClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	st, q := setup(t, clk)
	other, err := st.CreateQueue(ctx, store.NewQueue{SessionID: q.SessionID, Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	task, err := st.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash", Timeout: 90})
	if err != nil {
		t.Fatal(err)
	}
	bystander, err := st.Enqueue(ctx, store.NewTask{QueueID: other.ID, ToolName: "run-bash", Timeout: 600})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{task.ID, bystander.ID} {
		if _, err := st.Claim(ctx, id, "w"); err != nil {
			t.Fatal(err)
		}
	}
	r := New(st, Settings{SweepInterval: 30 * time.Second}, clk, nil)
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()

	get := func(id string) store.Task {
		got, err := st.GetTask(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	<-clk.waiting // first sweep done at start-up
	for elapsed := 30 * time.Second; elapsed <= 180*time.Second; elapsed += 30 * time.Second {
		clk.Advance(30 * time.Second)
		<-clk.waiting // the loop swept and sleeps again
		got := get(task.ID)
		switch {
		case elapsed < 90*time.Second:
			if got.StaleWarnedAt != nil || got.Status != store.TaskRunning {
				t.Fatalf("at %v: warned or failed too early: %+v", elapsed, got)
			}
		case elapsed < 180*time.Second:
			if got.StaleWarnedAt == nil || got.Status != store.TaskRunning {
				t.Fatalf("at %v: want warned and running, got %s warned=%v", elapsed, got.Status, got.StaleWarnedAt)
			}
			if want := clk.Now().Add(-(elapsed - 90*time.Second)); !got.StaleWarnedAt.Time.Equal(want) {
				t.Fatalf("at %v: warned at %v, want %v (the sweep at T)", elapsed, got.StaleWarnedAt.Time, want)
			}
		default:
			if got.Status != store.TaskFailed || got.Error == nil || *got.Error != "TIMEOUT: Task timeout (auto-failed)" ||
				!got.AutoFailed || got.FinishedAt == nil || !got.FinishedAt.Time.Equal(clk.Now()) {
				t.Fatalf("at %v: want auto-failed now, got %+v", elapsed, got)
			}
		}
		if b := get(bystander.ID); b.Status != store.TaskRunning || b.StaleWarnedAt != nil || b.Error != nil {
			t.Fatalf("at %v: the other queue's task was touched: %+v", elapsed, b)
		}
	}
	if s := r.Stats(); s.AutoFailed != 1 || s.Warned != 1 || s.Sweeps < 7 || s.LastAutoFailed != 1 {
		t.Fatalf("stats %+v", s)
	}
	cancel()
	<-done
}

// TestUpdateReplans: new settings apply to the running loop at once, not
// after the old interval has run out.
func TestUpdateReplans(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk := newFakeClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	st, _ := setup(t, clk)
	r := New(st, Settings{SweepInterval: time.Hour, PurgeInterval: 24 * time.Hour}, clk, nil)
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	<-clk.waiting // swept and purged at start-up
	if s := r.Stats(); s.Sweeps != 1 || s.Purges != 1 || s.SweepIntervalSeconds != 3600 {
		t.Fatalf("after start: %+v", s)
	}

	r.Update(Settings{SweepInterval: 10 * time.Second, PurgeInterval: 24 * time.Hour, RetentionDays: 7})
	<-clk.waiting // re-planned
	clk.Advance(10 * time.Second)
	<-clk.waiting
	s := r.Stats()
	if s.Sweeps != 2 || s.Purges != 1 || s.SweepIntervalSeconds != 10 || s.RetentionDays != 7 || s.PurgeBatch != DefaultPurgeBatch {
		t.Fatalf("10 s after the update: %+v", s)
	}
	cancel()
	<-done
}

// TestPurgeIntervalFloor: a purge interval below config.MinPurgeInterval,
// from New or Update, is raised to it, so Run waits between purges instead
// of purging without pause.
func TestPurgeIntervalFloor(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clk := newFakeClock(start)
	st, _ := setup(t, clk)
	r := New(st, Settings{SweepInterval: time.Hour, PurgeInterval: time.Millisecond}, clk, nil)
	if s := r.Stats(); s.PurgeIntervalSeconds != config.MinPurgeInterval.Seconds() {
		t.Fatalf("New with a 1ms purge interval: %+v", s)
	}
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	<-clk.waiting // purged at start-up, now waits for the next purge
	clk.mu.Lock()
	next := clk.waiters[len(clk.waiters)-1].at
	clk.mu.Unlock()
	if want := start.Add(config.MinPurgeInterval); !next.Equal(want) {
		t.Fatalf("the reaper sleeps until %v, want %v", next.Sub(start), want.Sub(start))
	}

	r.Update(Settings{SweepInterval: time.Hour, PurgeInterval: time.Nanosecond})
	<-clk.waiting // re-planned
	if s := r.Stats(); s.PurgeIntervalSeconds != config.MinPurgeInterval.Seconds() || s.Purges != 1 {
		t.Fatalf("after an update to 1ns: %+v", s)
	}
	cancel()
	<-done
}

// TestPurgeExactlyOldFinished: the purge deletes succeeded and failed
// tasks finished before the retention, in batches, and never a queued or
// running task or a younger finished one.
func TestPurgeExactlyOldFinished(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	st, q := setup(t, clk)
	var batch []store.NewTask
	for range 30 {
		batch = append(batch, store.NewTask{QueueID: q.ID, ToolName: "run-bash"})
	}
	if _, err := st.EnqueueBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	finish := func(n int) (ids []string) {
		for i := range n {
			task, err := st.ClaimNext(ctx, q.ID, "w")
			if err != nil {
				t.Fatal(err)
			}
			if i%3 == 0 {
				_, err = st.Fail(ctx, task.ID, store.Failure{Message: "no"})
			} else {
				_, err = st.Complete(ctx, task.ID, store.Completion{Summary: "ok"})
			}
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, task.ID)
		}
		return ids
	}
	old := finish(20) // finished at day 0
	clk.Advance(24 * time.Hour)
	young := finish(3)                                      // finished at day 1
	if _, err := st.ClaimNext(ctx, q.ID, "w"); err != nil { // one running, 6 queued
		t.Fatal(err)
	}

	r := New(st, Settings{RetentionDays: 3, PurgeBatch: 7}, clk, nil)
	clk.Advance(2*24*time.Hour - time.Second) // the old ones are 3 days - 1 s old
	if n, _ := st.CountPurgeable(ctx, clk.Now().Add(-3*24*time.Hour)); n != 0 {
		t.Fatalf("%d tasks purgeable before their time", n)
	}
	if n := r.Purge(ctx); n != 0 {
		t.Fatalf("purged %d tasks younger than retention", n)
	}
	clk.Advance(2 * time.Second)
	if n, _ := st.CountPurgeable(ctx, clk.Now().Add(-3*24*time.Hour)); n != 20 {
		t.Fatalf("%d purgeable, want the 20 old finished tasks", n)
	}
	if n := r.Purge(ctx); n != 20 {
		t.Fatalf("purged %d, want the 20 old finished tasks", n)
	}
	for _, id := range old {
		if _, err := st.GetTask(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("old task %s survived: %v", id, err)
		}
	}
	for _, id := range young {
		if _, err := st.GetTask(ctx, id); err != nil {
			t.Fatalf("young task %s: %v", id, err)
		}
	}
	got, _ := st.GetQueue(ctx, q.ID)
	if got.Stats != (store.QueueStats{Total: 10, Queued: 6, Running: 1, Succeeded: 2, Failed: 1}) {
		t.Fatalf("after the purge: %+v", got.Stats)
	}
	if s := r.Stats(); s.Purged != 20 || s.Purges != 2 || s.LastPurged != 20 {
		t.Fatalf("stats %+v", s)
	}
}

// countingPurger deletes from a pretend table of n rows.
type countingPurger struct {
	left, calls, checkpoints int
	limits                   []int
}

func (p *countingPurger) Purge(_ context.Context, _ time.Time, limit int) (int, error) {
	p.calls++
	p.limits = append(p.limits, limit)
	n := min(limit, p.left)
	p.left -= n
	return n, nil
}

func (p *countingPurger) Checkpoint(context.Context) error { p.checkpoints++; return nil }

func TestPurgeBeforeBatchesAndCheckpoints(t *testing.T) {
	ctx := context.Background()
	p := &countingPurger{left: 2*checkpointRows + 100}
	n, err := PurgeBefore(ctx, p, time.Now(), 0)
	if err != nil || n != 2*checkpointRows+100 {
		t.Fatalf("PurgeBefore = %d, %v", n, err)
	}
	// Batches of the default size until one comes back short; a checkpoint
	// after every checkpointRows deletions and one at the end.
	if want := (2*checkpointRows+100)/DefaultPurgeBatch + 1; p.calls != want || p.limits[0] != DefaultPurgeBatch {
		t.Fatalf("%d calls (limits %v...), want %d of %d", p.calls, p.limits[:1], want, DefaultPurgeBatch)
	}
	if p.checkpoints != 3 {
		t.Fatalf("%d checkpoints, want 3", p.checkpoints)
	}

	// Nothing to delete: one call, no checkpoint.
	p = &countingPurger{}
	if n, err := PurgeBefore(ctx, p, time.Now(), 10); n != 0 || err != nil || p.calls != 1 || p.checkpoints != 0 {
		t.Fatalf("empty purge: %d %v, %+v", n, err, p)
	}

	// A cancelled context stops between batches.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	p = &countingPurger{left: 100}
	if n, err := PurgeBefore(cctx, p, time.Now(), 10); n != 0 || !errors.Is(err, context.Canceled) || p.calls != 0 {
		t.Fatalf("cancelled purge: %d %v, %+v", n, err, p)
	}
}

// TestSweepIntervalFloor: a sweep interval below config.MinSweepInterval
// (a hand-edited row, or settings built in code) is raised to it.
func TestSweepIntervalFloor(t *testing.T) {
	clk := newFakeClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	st, _ := setup(t, clk)
	r := New(st, Settings{SweepInterval: time.Millisecond, PurgeInterval: time.Hour}, clk, nil)
	if s := r.Stats(); s.SweepIntervalSeconds != config.MinSweepInterval.Seconds() {
		t.Fatalf("New with a 1ms sweep interval: %+v", s)
	}
	r.Update(Settings{SweepInterval: time.Nanosecond, PurgeInterval: time.Hour})
	if s := r.Stats(); s.SweepIntervalSeconds != config.MinSweepInterval.Seconds() {
		t.Fatalf("after an update to 1ns: %+v", s)
	}
}
