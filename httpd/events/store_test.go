package events_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sparkq/sparkq/httpd/events"
	"github.com/sparkq/sparkq/store"
	"github.com/sparkq/sparkq/store/sqlite"
)

func TestStorePublishesChanges(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sparkq.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bus := events.New(256)
	ch := bus.Subscribe(t.Context())
	s := events.Wrap(st, bus)

	sess, err := s.CreateSession(ctx, store.NewSession{Name: "s"})
	must(t, err)
	q, err := s.CreateQueue(ctx, store.NewQueue{SessionID: sess.ID, Name: "q"})
	must(t, err)
	task, err := s.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash"})
	must(t, err)
	_, err = s.EnqueueBatch(ctx, []store.NewTask{{QueueID: q.ID, ToolName: "run-bash"}, {QueueID: q.ID, ToolName: "run-bash"}})
	must(t, err)
	_, err = s.Claim(ctx, task.ID, "w")
	must(t, err)
	_, err = s.Complete(ctx, task.ID, store.Completion{Summary: "ok"})
	must(t, err)
	claimed, err := s.ClaimNext(ctx, q.ID, "w")
	must(t, err)
	_, err = s.Fail(ctx, claimed.ID, store.Failure{Message: "no"})
	must(t, err)
	clone, err := s.Requeue(ctx, claimed.ID)
	must(t, err)
	must(t, s.DeleteTask(ctx, clone.ID))
	_, err = s.ArchiveQueue(ctx, q.ID)
	must(t, err)
	_, err = s.UnarchiveQueue(ctx, q.ID)
	must(t, err)
	n, err := s.Purge(ctx, time.Now().Add(time.Hour), 100)
	must(t, err)
	if n != 2 {
		t.Fatalf("purged %d, want 2", n)
	}
	if _, err := s.Claim(ctx, "tsk_missing00000", "w"); err == nil { // failures publish nothing
		t.Fatal("claimed a missing task")
	}
	_, err = s.EndSession(ctx, sess.ID)
	must(t, err)

	want := []events.Event{
		{Type: events.SessionCreated, ID: sess.ID, SessionID: sess.ID, Status: "active"},
		{Type: events.QueueCreated, ID: q.ID, QueueID: q.ID, SessionID: sess.ID, Status: "active"},
		{Type: events.TaskCreated, ID: task.ID, QueueID: q.ID, Status: "queued", Count: 1},
		{Type: events.TaskCreated, QueueID: q.ID, Status: "queued", Count: 2},
		{Type: events.TaskClaimed, ID: task.ID, QueueID: q.ID, Status: "running"},
		{Type: events.TaskCompleted, ID: task.ID, QueueID: q.ID, Status: "succeeded"},
		{Type: events.TaskClaimed, ID: claimed.ID, QueueID: q.ID, Status: "running"},
		{Type: events.TaskFailed, ID: claimed.ID, QueueID: q.ID, Status: "failed"},
		{Type: events.TaskRequeued, ID: clone.ID, QueueID: q.ID, Status: "queued"},
		{Type: events.TaskDeleted, ID: clone.ID, QueueID: q.ID},
		{Type: events.QueueArchived, ID: q.ID, QueueID: q.ID, SessionID: sess.ID, Status: "archived"},
		{Type: events.QueueUnarchived, ID: q.ID, QueueID: q.ID, SessionID: sess.ID, Status: "active"},
		{Type: events.TasksPurged, Count: 2},
		{Type: events.SessionEnded, ID: sess.ID, SessionID: sess.ID, Status: "ended"},
	}
	for i, w := range want {
		var got events.Event
		select {
		case got = <-ch:
		default:
			t.Fatalf("event %d missing, want %+v", i, w)
		}
		got.Seq, got.Time = 0, time.Time{}
		if got != w {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got, w)
		}
	}
	select {
	case e := <-ch:
		t.Errorf("unexpected event %+v", e)
	default:
	}
}

func TestSweepPublishesCounts(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sparkq.db"), sqlite.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bus := events.New(16)
	ch := bus.Subscribe(t.Context())
	s := events.Wrap(st, bus)
	sess, err := st.CreateSession(ctx, store.NewSession{Name: "s"})
	must(t, err)
	q, err := st.CreateQueue(ctx, store.NewQueue{SessionID: sess.ID, Name: "q"})
	must(t, err)
	task, err := st.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash", Timeout: 10})
	must(t, err)
	_, err = st.Claim(ctx, task.ID, "w")
	must(t, err)

	if _, err := s.SweepStale(ctx, now.Add(time.Second)); err != nil { // nothing stale: no event
		t.Fatal(err)
	}
	res, err := s.SweepStale(ctx, now.Add(time.Minute))
	must(t, err)
	if res.Failed != 1 {
		t.Fatalf("sweep %+v, want one auto-fail", res)
	}
	select {
	case e := <-ch:
		if e.Type != events.TaskFailed || e.Count != 1 || e.ID != "" {
			t.Errorf("got %+v, want task.failed with count 1", e)
		}
	default:
		t.Fatal("no event for the auto-fail")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Long-poll claims and releases change what the dashboard shows too.
func TestWaitClaimAndReleasePublish(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sparkq.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bus := events.New(64)
	s := events.Wrap(st, bus)
	sess, err := s.CreateSession(ctx, store.NewSession{Name: "s"})
	must(t, err)
	q, err := s.CreateQueue(ctx, store.NewQueue{SessionID: sess.ID, Name: "q"})
	must(t, err)
	task, err := s.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash"})
	must(t, err)
	ch := bus.Subscribe(t.Context())
	_, err = s.ClaimNextWait(ctx, q.ID, "w", time.Second)
	must(t, err)
	_, err = s.Release(ctx, task.ID, "w")
	must(t, err)
	for _, want := range []events.Event{
		{Type: events.TaskClaimed, ID: task.ID, QueueID: q.ID, Status: "running"},
		{Type: events.TaskRequeued, ID: task.ID, QueueID: q.ID, Status: "queued"},
	} {
		var got events.Event
		select {
		case got = <-ch:
		default:
			t.Fatalf("missing event %+v", want)
		}
		got.Seq, got.Time = 0, time.Time{}
		if got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	}
}
