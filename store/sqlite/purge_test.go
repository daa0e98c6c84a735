package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/sparkq/sparkq/store"
)

// TestCountPurgeable counts exactly what Purge then deletes: finished
// tasks before the cutoff, never queued or running ones.
func TestCountPurgeable(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := openTest(t, Options{Now: clk.Now})
	q := mustQueue(t, s, "count")
	enqueueN(t, s, q.ID, 8)
	for i := range 5 {
		task, err := s.ClaimNext(ctx, q.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		switch i {
		case 0, 1:
			s.Complete(ctx, task.ID, store.Completion{Summary: "ok"})
		case 2:
			s.Fail(ctx, task.ID, store.Failure{Message: "no"})
		case 3:
			clk.Add(time.Hour)
			s.Complete(ctx, task.ID, store.Completion{Summary: "later"})
		}
	}
	// 3 finished at t0, 1 at t0+1h, 1 running, 3 queued.
	cutoff := clk.Now() // t0+1h: the later one finished at the cutoff, not before
	if n, err := s.CountPurgeable(ctx, cutoff); err != nil || n != 3 {
		t.Fatalf("CountPurgeable = %d, %v; want 3", n, err)
	}
	if n, _ := s.CountPurgeable(ctx, cutoff.Add(time.Microsecond)); n != 4 {
		t.Fatalf("CountPurgeable just after = %d, want 4", n)
	}
	if n, err := s.Purge(ctx, cutoff, 100); err != nil || n != 3 {
		t.Fatalf("Purge = %d, %v; want 3", n, err)
	}
	if n, _ := s.CountPurgeable(ctx, cutoff); n != 0 {
		t.Fatalf("CountPurgeable after the purge = %d", n)
	}
	if err := s.Checkpoint(ctx); err != nil {
		t.Fatalf("Checkpoint: %v", err)
	}
	if got, _ := s.GetQueue(ctx, q.ID); got.Stats != (store.QueueStats{Total: 5, Queued: 3, Running: 1, Succeeded: 1}) {
		t.Fatalf("after purge %+v", got.Stats)
	}
}
