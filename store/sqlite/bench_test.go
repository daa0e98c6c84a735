package sqlite

import (
	"context"
	"testing"

	"github.com/sparkq/sparkq/store"
)

// BenchmarkCycle measures one full task cycle: enqueue, claim, complete.
// Report ops/s as cycles per second.
func BenchmarkCycle(b *testing.B) {
	ctx := context.Background()
	s := openTest(b, Options{})
	q := mustQueue(b, s, "bench")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash", Payload: `{"prompt":"x"}`}); err != nil {
			b.Fatal(err)
		}
		t, err := s.ClaimNext(ctx, q.ID, "w")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Complete(ctx, t.ID, store.Completion{Summary: "ok"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cycles/s")
}

func BenchmarkEnqueue(b *testing.B) {
	ctx := context.Background()
	s := openTest(b, Options{})
	q := mustQueue(b, s, "bench")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash", Payload: `{"prompt":"x"}`}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
}

func BenchmarkClaimComplete(b *testing.B) {
	ctx := context.Background()
	s := openTest(b, Options{})
	q := mustQueue(b, s, "bench")
	enqueueN(b, s, q.ID, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t, err := s.ClaimNext(ctx, q.ID, "w")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Complete(ctx, t.ID, store.Completion{Summary: "ok"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
}

// BenchmarkCycleParallel runs full cycles from many goroutines at once.
func BenchmarkCycleParallel(b *testing.B) {
	ctx := context.Background()
	s := openTest(b, Options{})
	q := mustQueue(b, s, "bench")
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash", Payload: `{"prompt":"x"}`}); err != nil {
				b.Error(err)
				return
			}
			t, err := s.ClaimNext(ctx, q.ID, "w")
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := s.Complete(ctx, t.ID, store.Completion{Summary: "ok"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cycles/s")
}
