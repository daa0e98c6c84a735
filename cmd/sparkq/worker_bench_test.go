package main

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sparkq/sparkq/control"
	"github.com/sparkq/sparkq/store"
)

// BenchmarkWorkerWakeup measures how long a task takes to reach a worker
// that is already waiting for it: from the start of one client's enqueue to
// the return of another client's blocking claim (the call `sparkq worker`
// makes), against the real daemon over its control socket. It reports the
// median and 99th percentile.
//
//	go test -run '^$' -bench WorkerWakeup -benchtime 1000x ./cmd/sparkq/
func BenchmarkWorkerWakeup(b *testing.B) {
	f := startDaemon(b)
	f.ok("session", "create", "bench")
	f.ok("queue", "create", "q", "--session", "bench")
	var st control.Status
	f.json(&st, "status")
	ctx := context.Background()
	enqueuer, waiter := control.Dial(st.Socket), control.Dial(st.Socket)
	defer enqueuer.Close()
	defer waiter.Close()
	q, err := enqueuer.GetQueue(ctx, "q", "")
	if err != nil {
		b.Fatal(err)
	}

	type received struct {
		at time.Time
		id string
	}
	got := make(chan received)
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for {
			t, err := waiter.ClaimNextWait(wctx, q.ID, "bench-worker", 30*time.Second)
			switch {
			case errors.Is(err, store.ErrEmpty):
				continue
			case err != nil:
				close(got)
				return
			}
			got <- received{time.Now(), t.ID}
		}
	}()

	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		// Pace the loop so the worker is back to waiting: each sample is a
		// wake-up, not a claim that found the task already there.
		b.StopTimer()
		time.Sleep(2 * time.Millisecond)
		b.StartTimer()
		start := time.Now()
		task, err := enqueuer.Enqueue(ctx, control.EnqueueRequest{QueueID: q.ID, ToolName: "llm-haiku", Prompt: "wake up"})
		if err != nil {
			b.Fatal(err)
		}
		r, ok := <-got
		if !ok || r.id != task.ID {
			b.Fatalf("worker got %q, want %s", r.id, task.ID)
		}
		durations = append(durations, r.at.Sub(start))
	}
	b.StopTimer()
	slices.Sort(durations)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(durations[len(durations)/2]), "median-ms")
	b.ReportMetric(ms(durations[(len(durations)*99+99)/100-1]), "p99-ms")
	b.ReportMetric(0, "ns/op") // the loop's pacing makes ns/op meaningless
}
