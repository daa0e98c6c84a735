package sqlite

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparkq/sparkq/store"
)

// waitFor polls cond until it holds; the deadline only stops a hung test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

type claimResult struct {
	worker string
	task   store.Task
	err    error
}

// startWaiter runs ClaimNextWait on its own goroutine and returns once the
// call is listed as a waiter (so arrival order is the call order).
func startWaiter(t *testing.T, ctx context.Context, s *Store, queueID, worker string, out chan<- claimResult) {
	t.Helper()
	before := s.waits.waiting(queueID)
	go func() {
		task, err := s.ClaimNextWait(ctx, queueID, worker, time.Minute)
		out <- claimResult{worker, task, err}
	}()
	waitFor(t, worker+" to wait", func() bool { return s.waits.waiting(queueID) == before+1 })
}

func TestClaimNextWaitExpires(t *testing.T) {
	s := openTest(t, Options{})
	q := mustQueue(t, s, "idle")
	_, err := s.ClaimNextWait(context.Background(), q.ID, "w", 20*time.Millisecond)
	wantKind(t, err, store.KindEmpty)
	if n := s.waits.waiting(q.ID); n != 0 {
		t.Fatalf("%d waiters left behind", n)
	}
	// Errors other than "empty" come back at once, waiting or not.
	_, err = s.ClaimNextWait(context.Background(), "que_000000000000", "w", time.Hour)
	wantKind(t, err, store.KindNotFound)
	// A task already queued is claimed without waiting.
	task, _ := s.Enqueue(context.Background(), store.NewTask{QueueID: q.ID, ToolName: "run-bash"})
	got, err := s.ClaimNextWait(context.Background(), q.ID, "w", time.Hour)
	if err != nil || got.ID != task.ID || got.Status != store.TaskRunning {
		t.Fatalf("claim of a queued task: %+v %v", got, err)
	}
}

// TestClaimNextWaitFIFO: waiters are served in the order they started to
// wait, one task each, whether tasks come one by one or in a batch.
func TestClaimNextWaitFIFO(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	q := mustQueue(t, s, "fifo")
	const workers = 8
	results := make(chan claimResult, workers)

	for i := range workers {
		startWaiter(t, ctx, s, q.ID, fmt.Sprintf("w%d", i), results)
	}
	for i := range workers {
		task, err := s.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash"})
		if err != nil {
			t.Fatal(err)
		}
		r := <-results
		if r.err != nil || r.task.ID != task.ID || r.worker != fmt.Sprintf("w%d", i) || *r.task.WorkerID != r.worker {
			t.Fatalf("task %d went to %s (%+v, %v), want w%d", i, r.worker, r.task, r.err, i)
		}
	}

	// 8 waiters, one batch of 8: each gets exactly one.
	for i := range workers {
		startWaiter(t, ctx, s, q.ID, fmt.Sprintf("b%d", i), results)
	}
	enqueueN(t, s, q.ID, workers)
	got := map[string]string{}
	for range workers {
		r := <-results
		if r.err != nil {
			t.Fatalf("%s: %v", r.worker, r.err)
		}
		if prev, dup := got[r.task.ID]; dup {
			t.Fatalf("task %s claimed by %s and %s", r.task.ID, prev, r.worker)
		}
		got[r.task.ID] = r.worker
	}
	if s.waits.waiting(q.ID) != 0 {
		t.Fatalf("waiters left: %d", s.waits.waiting(q.ID))
	}
}

// TestClaimNextWaitWakers: every write that queues a task wakes a waiter.
func TestClaimNextWaitWakers(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := openTest(t, Options{Now: clk.Now})
	q := mustQueue(t, s, "wake")
	must := func(task store.Task, err error) store.Task {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return task
	}
	// running enqueues a task and claims it (no one waits yet).
	running := func() store.Task {
		task := must(s.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash", Timeout: 10}))
		must(s.Claim(ctx, task.ID, "holder"))
		return task
	}
	finished := func() store.Task {
		task := running()
		return must(s.Complete(ctx, task.ID, store.Completion{Summary: "ok"}))
	}
	results := make(chan claimResult, 1)
	for _, tc := range []struct {
		name  string
		setup func() (trigger func() store.Task)
	}{
		{"enqueue", func() func() store.Task {
			return func() store.Task { return must(s.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash"})) }
		}},
		{"rerun", func() func() store.Task {
			task := finished()
			return func() store.Task { return must(s.Rerun(ctx, task.ID)) }
		}},
		{"requeue", func() func() store.Task {
			task := finished()
			return func() store.Task { return must(s.Requeue(ctx, task.ID)) }
		}},
		{"release", func() func() store.Task {
			task := running()
			return func() store.Task { return must(s.Release(ctx, task.ID, "holder")) }
		}},
		{"reset", func() func() store.Task {
			task := running()
			clk.Add(time.Minute)
			if r, _ := s.SweepStale(ctx, clk.Now()); r.Failed != 1 {
				t.Fatalf("sweep: %+v", r)
			}
			return func() store.Task { return must(s.Reset(ctx, task.ID, store.TaskQueued)) }
		}},
	} {
		trigger := tc.setup()
		startWaiter(t, ctx, s, q.ID, tc.name, results)
		want := trigger()
		r := <-results
		if r.err != nil || r.task.ID != want.ID || r.task.Status != store.TaskRunning {
			t.Fatalf("%s: waiter got %+v %v, want %s", tc.name, r.task, r.err, want.ID)
		}
		must(s.Complete(ctx, r.task.ID, store.Completion{Summary: "ok"}))
	}
}

func TestClaimNextWaitCancelAndClose(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	q := mustQueue(t, s, "cancel")
	goroutines := runtime.NumGoroutine()

	cctx, cancel := context.WithCancel(ctx)
	results := make(chan claimResult, 4)
	startWaiter(t, cctx, s, q.ID, "gone", results)
	cancel()
	if r := <-results; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled wait returned %v", r.err)
	}
	if s.waits.waiting(q.ID) != 0 {
		t.Fatal("cancelled waiter still listed")
	}
	// A task queued later is not lost to the departed waiter.
	startWaiter(t, ctx, s, q.ID, "next", results)
	task, _ := s.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash"})
	if r := <-results; r.err != nil || r.task.ID != task.ID {
		t.Fatalf("next waiter: %+v %v", r.task, r.err)
	}
	waitFor(t, "waiter goroutines to end", func() bool { return runtime.NumGoroutine() <= goroutines })

	// Closing the store ends every wait.
	startWaiter(t, ctx, s, q.ID, "closing", results)
	s.Close()
	if r := <-results; r.err == nil {
		t.Fatalf("wait survived Close: %+v", r.task)
	}
}

// TestWaitSetPassesWakeOn: a woken waiter that leaves without claiming
// hands its wake-up to the next one.
func TestWaitSetPassesWakeOn(t *testing.T) {
	var ws waitSet
	a, _ := ws.join("q")
	b, _ := ws.join("q")
	ws.notify("q", 1)
	select {
	case <-b.wake:
		t.Fatal("second waiter woken first")
	default:
	}
	ws.leave(a) // woken, but gone
	select {
	case <-b.wake:
	default:
		t.Fatal("wake-up lost with the departed waiter")
	}
	// A woken waiter that rejoins goes ahead of later arrivals.
	c, _ := ws.join("q")
	ws.rejoin(b)
	ws.notify("q", 1)
	select {
	case <-b.wake:
	default:
		t.Fatal("rejoined waiter lost its place")
	}
	ws.rejoin(b)
	ws.leave(b)
	ws.leave(c)
	if ws.waiting("q") != 0 {
		t.Fatalf("left %d", ws.waiting("q"))
	}
}

// TestClaimNextWaitRace: many waiters and many enqueuers at once; every task
// is claimed exactly once and no waiter is left behind.
func TestClaimNextWaitRace(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	q := mustQueue(t, s, "race")
	const workers, perWorker = 8, 25
	var (
		mu      sync.Mutex
		claimed = map[string]bool{}
		wg      sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perWorker {
				task, err := s.ClaimNextWait(ctx, q.ID, fmt.Sprintf("w%d", w), time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if claimed[task.ID] {
					t.Errorf("task %s claimed twice", task.ID)
				}
				claimed[task.ID] = true
				mu.Unlock()
			}
		}()
	}
	for i := range workers * perWorker {
		if _, err := s.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash", Payload: fmt.Sprintf(`{"n":%d}`, i)}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if len(claimed) != workers*perWorker || s.waits.waiting(q.ID) != 0 {
		t.Fatalf("claimed %d, waiting %d", len(claimed), s.waits.waiting(q.ID))
	}
}

// result takes one waiter's answer; the deadline only stops a hung test.
func result(t *testing.T, results <-chan claimResult) claimResult {
	t.Helper()
	select {
	case r := <-results:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("a waiter never returned")
		return claimResult{}
	}
}

// TestClaimNextWaitQueueGoes: waiters blocked on a queue that is archived
// or deleted end with what a claim would say, long before their timeout;
// on a queue ended with nothing left they end with a conflict (an empty
// answer at once would make a client that waits again spin).
func TestClaimNextWaitQueueGoes(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		change func(s *Store, q store.Queue) error
		want   store.Kind
	}{
		{"archive queue", func(s *Store, q store.Queue) error { _, err := s.ArchiveQueue(ctx, q.ID); return err }, store.KindConflict},
		{"delete queue", func(s *Store, q store.Queue) error { return s.DeleteQueue(ctx, q.ID) }, store.KindNotFound},
		{"delete session", func(s *Store, q store.Queue) error { return s.DeleteSession(ctx, q.SessionID) }, store.KindNotFound},
		{"end queue", func(s *Store, q store.Queue) error { _, err := s.EndQueue(ctx, q.ID); return err }, store.KindConflict},
		{"end session", func(s *Store, q store.Queue) error { _, err := s.EndSession(ctx, q.SessionID); return err }, store.KindConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, Options{})
			q := mustQueue(t, s, "goes")
			other := mustQueue(t, s, "stays")
			results := make(chan claimResult, 3)
			startWaiter(t, ctx, s, q.ID, "a", results)
			startWaiter(t, ctx, s, q.ID, "b", results)
			startWaiter(t, ctx, s, other.ID, "other", results)
			if err := tc.change(s, q); err != nil {
				t.Fatal(err)
			}
			_, fresh := s.ClaimNext(ctx, q.ID, "fresh")
			ended := strings.HasPrefix(tc.name, "end ")
			if ended {
				wantKind(t, fresh, store.KindEmpty) // claiming without a wait stays "nothing now"
			} else {
				wantKind(t, fresh, tc.want)
			}
			for range 2 {
				r := result(t, results)
				if r.worker == "other" {
					t.Fatalf("waiter on another queue returned: %+v %v", r.task, r.err)
				}
				wantKind(t, r.err, tc.want)
				switch {
				case ended && !strings.Contains(r.err.Error(), "Queue goes is ended and has nothing queued or running"):
					t.Fatalf("%s got %q, want it to say the queue is ended and drained", r.worker, r.err)
				case !ended && r.err.Error() != fresh.Error():
					t.Fatalf("%s got %q, a claim says %q", r.worker, r.err, fresh)
				}
			}
			if n := s.waits.waiting(q.ID); n != 0 {
				t.Fatalf("%d waiters left behind", n)
			}
			// The other queue's waiter still waits, and still gets its task.
			task, err := s.Enqueue(ctx, store.NewTask{QueueID: other.ID, ToolName: "run-bash"})
			if err != nil {
				t.Fatal(err)
			}
			if r := result(t, results); r.err != nil || r.task.ID != task.ID {
				t.Fatalf("other waiter: %+v %v", r.task, r.err)
			}
			// A wait that starts now ends at once too.
			go func() {
				task, err := s.ClaimNextWait(ctx, q.ID, "late", time.Hour)
				results <- claimResult{"late", task, err}
			}()
			wantKind(t, result(t, results).err, tc.want)
		})
	}
}

// TestClaimNextWaitEndedQueue: on an ended queue a running task can still
// come back (Release), so waiters keep waiting, in order, while one runs;
// once nothing is queued or running a wait ends at once.
func TestClaimNextWaitEndedQueue(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	q := mustQueue(t, s, "ended")
	tasks := enqueueN(t, s, q.ID, 2)
	for _, task := range tasks {
		if _, err := s.Claim(ctx, task.ID, "holder"); err != nil {
			t.Fatal(err)
		}
	}
	results := make(chan claimResult, 2)
	startWaiter(t, ctx, s, q.ID, "before", results)
	if _, err := s.EndQueue(ctx, q.ID); err != nil {
		t.Fatal(err)
	}
	startWaiter(t, ctx, s, q.ID, "after", results)
	for i, want := range []string{"before", "after"} {
		if _, err := s.Release(ctx, tasks[i].ID, "holder"); err != nil {
			t.Fatal(err)
		}
		r := result(t, results)
		if r.err != nil || r.worker != want || r.task.ID != tasks[i].ID {
			t.Fatalf("release %d: %s got %+v %v, want %s to get %s", i, r.worker, r.task, r.err, want, tasks[i].ID)
		}
	}
	for _, task := range tasks {
		if _, err := s.Complete(ctx, task.ID, store.Completion{Summary: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing left that could come back: no waiting.
	go func() {
		task, err := s.ClaimNextWait(ctx, q.ID, "drained", time.Hour)
		results <- claimResult{"drained", task, err}
	}()
	wantKind(t, result(t, results).err, store.KindConflict)
	if n := s.waits.waiting(q.ID); n != 0 {
		t.Fatalf("%d waiters left behind", n)
	}
}

// TestWaitSetChanged: a state change reaches every waiter of the queue,
// listed or already woken, and takes none out of line.
func TestWaitSetChanged(t *testing.T) {
	var ws waitSet
	a, _ := ws.join("q")
	b, _ := ws.join("q")
	c, _ := ws.join("other")
	ws.notify("q", 1) // a is woken, no longer listed
	ws.changed("q")
	ws.changed("q") // a second change before they look: one token is enough
	for _, w := range []*waiter{a, b} {
		select {
		case <-w.recheck:
		default:
			t.Fatalf("waiter %d not told", w.ticket)
		}
	}
	select {
	case <-c.recheck:
		t.Fatal("waiter of another queue told")
	default:
	}
	if ws.waiting("q") != 1 {
		t.Fatalf("listed: %d", ws.waiting("q"))
	}
	<-a.wake // as ClaimNextWait does before it rejoins
	ws.rejoin(a)
	ws.notify("q", 1)
	select {
	case <-a.wake:
	default:
		t.Fatal("a lost its place")
	}
	ws.leave(a) // passes its wake-up on to b
	ws.leave(b)
	ws.leave(c)
	if len(ws.members) != 0 || len(ws.queues) != 0 {
		t.Fatalf("left behind: %v %v", ws.members, ws.queues)
	}
}

// TestClaimNextWaitEndedQueueLastTaskLeaves: on an ended queue, waiters
// wait while a task runs; when the last running task leaves running
// (completed, failed, deleted or auto-failed by the sweep) they end with
// the drained conflict at once, not at their timeout.
func TestClaimNextWaitEndedQueueLastTaskLeaves(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		leave func(s *Store, c *clock, id string) error
	}{
		{"complete", func(s *Store, _ *clock, id string) error {
			_, err := s.Complete(ctx, id, store.Completion{Summary: "done"})
			return err
		}},
		{"fail", func(s *Store, _ *clock, id string) error {
			_, err := s.Fail(ctx, id, store.Failure{Message: "broke"})
			return err
		}},
		{"delete", func(s *Store, _ *clock, id string) error { return s.DeleteTask(ctx, id) }},
		{"sweep", func(s *Store, c *clock, _ string) error {
			c.Add(time.Hour)
			res, err := s.SweepStale(ctx, c.Now())
			if err == nil && res.Failed != 1 {
				err = fmt.Errorf("sweep failed %d tasks, want 1", res.Failed)
			}
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
			s := openTest(t, Options{Now: c.Now})
			q := mustQueue(t, s, "last")
			if _, err := s.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash", Timeout: 60}); err != nil {
				t.Fatal(err)
			}
			running, err := s.ClaimNext(ctx, q.ID, "w")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.EndQueue(ctx, q.ID); err != nil {
				t.Fatal(err)
			}
			results := make(chan claimResult, 1)
			startWaiter(t, ctx, s, q.ID, "waiting", results)
			select {
			case r := <-results:
				t.Fatalf("waiter returned while a task still runs: %+v %v", r.task, r.err)
			default:
			}
			if err := tc.leave(s, c, running.ID); err != nil {
				t.Fatal(err)
			}
			r := result(t, results)
			wantKind(t, r.err, store.KindConflict)
			if !strings.Contains(r.err.Error(), "is ended and has nothing queued or running") {
				t.Fatalf("waiter got %q, want the drained conflict", r.err)
			}
		})
	}
}
