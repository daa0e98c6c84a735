package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/sparkq/sparkq/store"
)

func TestFinishedPerMinute(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 3, 4, 10, 0, 30, 0, time.UTC)}
	s := openTest(t, Options{Now: clk.Now})
	q := mustQueue(t, s, "chart")
	tasks := enqueueN(t, s, q.ID, 6)
	finish := func(i int, ok bool) {
		t.Helper()
		if _, err := s.Claim(ctx, tasks[i].ID, "w"); err != nil {
			t.Fatal(err)
		}
		var err error
		if ok {
			_, err = s.Complete(ctx, tasks[i].ID, store.Completion{Summary: "done"})
		} else {
			_, err = s.Fail(ctx, tasks[i].ID, store.Failure{Message: "boom"})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	finish(0, true) // 10:00
	finish(1, false)
	clk.Add(time.Minute) // 10:01
	finish(2, true)
	finish(3, true)
	clk.Add(2 * time.Minute) // 10:03
	finish(4, true)
	if _, err := s.Claim(ctx, tasks[5].ID, "w"); err != nil { // running: not counted
		t.Fatal(err)
	}

	got, err := s.FinishedPerMinute(ctx, time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC), time.Date(2026, 3, 4, 10, 3, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.MinuteCount{
		{Minute: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC), Succeeded: 1, Failed: 1},
		{Minute: time.Date(2026, 3, 4, 10, 1, 0, 0, time.UTC), Succeeded: 2},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v (10:03 is outside [since, until))", got, want)
	}
	for i := range want {
		if !got[i].Minute.Equal(want[i].Minute) || got[i].Succeeded != want[i].Succeeded || got[i].Failed != want[i].Failed {
			t.Errorf("minute %d: got %+v, want %+v", i, got[i], want[i])
		}
	}

	if got, err := s.FinishedPerMinute(ctx, clk.Now(), clk.Now()); err != nil || len(got) != 0 {
		t.Errorf("empty window: got %v, %v", got, err)
	}
}
