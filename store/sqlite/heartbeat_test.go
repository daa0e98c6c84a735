package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/sparkq/sparkq/store"
)

// TestHeartbeatKeepsTaskAlive (fake clock): a task whose worker heartbeats
// survives well past 2x its timeout; its sibling, whose worker went silent,
// is auto-failed on time.
func TestHeartbeatKeepsTaskAlive(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := openTest(t, Options{Now: clk.Now})
	q := mustQueue(t, s, "beats")
	alive, _ := s.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash", Timeout: 60})
	dead, _ := s.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash", Timeout: 60})
	s.Claim(ctx, alive.ID, "w-alive")
	s.Claim(ctx, dead.ID, "w-dead")

	failedAt := time.Duration(0)
	for elapsed := 30 * time.Second; elapsed <= 5*time.Minute; elapsed += 30 * time.Second {
		clk.Add(30 * time.Second)
		lease, err := s.Heartbeat(ctx, alive.ID, "w-alive")
		if err != nil {
			t.Fatalf("heartbeat at %s: %v", elapsed, err)
		}
		if !lease.HeartbeatAt.Equal(clk.Now()) || !lease.AutoFailAt.Equal(clk.Now().Add(2*time.Minute)) ||
			!lease.StaleAt.Equal(clk.Now().Add(time.Minute)) || *lease.WorkerID != "w-alive" {
			t.Fatalf("lease at %s: %+v", elapsed, lease)
		}
		res, err := s.SweepStale(ctx, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		if res.Failed == 1 && failedAt == 0 {
			failedAt = elapsed
		}
		if got, _ := s.GetTask(ctx, alive.ID); got.Status != store.TaskRunning || got.StaleWarnedAt != nil {
			t.Fatalf("heartbeating task at %s: %s, warned %v", elapsed, got.Status, got.StaleWarnedAt)
		}
	}
	if failedAt != 2*time.Minute {
		t.Fatalf("silent task failed after %s, want 2m0s (2x its timeout)", failedAt)
	}
	if got, _ := s.GetTask(ctx, dead.ID); got.Status != store.TaskFailed || !got.AutoFailed {
		t.Fatalf("silent task: %+v", got)
	}

	// A heartbeat after a stale warning clears it.
	clk.Add(70 * time.Second)
	if r, _ := s.SweepStale(ctx, clk.Now()); r.Warned != 1 {
		t.Fatalf("warn: %+v", r)
	}
	s.Heartbeat(ctx, alive.ID, "")
	if got, _ := s.GetTask(ctx, alive.ID); got.StaleWarnedAt != nil {
		t.Fatal("heartbeat left the stale warning")
	}
	// A reset to running counts from the reset, not from an older
	// heartbeat.
	clk.Add(3 * time.Minute)
	if r, _ := s.SweepStale(ctx, clk.Now()); r.Failed != 1 {
		t.Fatalf("silent heartbeater not failed: %+v", r)
	}
	if _, err := s.Reset(ctx, alive.ID, store.TaskRunning); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.SweepStale(ctx, clk.Now()); r.Failed != 0 {
		t.Fatalf("reset task failed again at once: %+v", r)
	}
}

func TestHeartbeatAndReleaseRules(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	q := mustQueue(t, s, "rules")
	first, _ := s.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash"})
	second, _ := s.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash"})

	_, err := s.Heartbeat(ctx, first.ID, "")
	wantKind(t, err, store.KindConflict) // queued
	_, err = s.Heartbeat(ctx, "tsk_000000000000", "")
	wantKind(t, err, store.KindNotFound)
	_, err = s.Release(ctx, first.ID, "")
	wantKind(t, err, store.KindConflict)

	if _, err := s.ClaimNext(ctx, q.ID, "w1"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Heartbeat(ctx, first.ID, "w2")
	wantKind(t, err, store.KindConflict)
	_, err = s.Release(ctx, first.ID, "w2")
	wantKind(t, err, store.KindConflict)
	if _, err := s.Heartbeat(ctx, first.ID, "w1"); err != nil {
		t.Fatal(err)
	}

	// Release puts it back in front of the task queued after it.
	rel, err := s.Release(ctx, first.ID, "w1")
	if err != nil {
		t.Fatal(err)
	}
	if rel.Status != store.TaskQueued || rel.WorkerID != nil || rel.ClaimedAt != nil || rel.StartedAt != nil || rel.Attempts != 1 {
		t.Fatalf("released: %+v", rel)
	}
	next, err := s.ClaimNext(ctx, q.ID, "w3")
	if err != nil || next.ID != first.ID || next.Attempts != 2 {
		t.Fatalf("after release claimed %s (%v), want %s again", next.ID, err, first.ID)
	}
	if got, _ := s.GetQueue(ctx, q.ID); got.Stats.Queued != 1 || got.Stats.Running != 1 {
		t.Fatalf("counts after release: %+v", got.Stats)
	}
	if logs, _ := s.ListAudit(ctx, "task.release", 10); len(logs) != 1 {
		t.Fatalf("release audit entries: %d", len(logs))
	}
	_ = second

	// Fail keeps result data when given.
	data := "report"
	failed, err := s.Fail(ctx, first.ID, store.Failure{Message: "boom", Type: "X", Data: &data})
	if err != nil || failed.Result == nil || *failed.Result != "report" || *failed.Error != "X: boom" {
		t.Fatalf("fail with data: %+v %v", failed, err)
	}
	_, err = s.Heartbeat(ctx, first.ID, "w3")
	wantKind(t, err, store.KindConflict)
}
