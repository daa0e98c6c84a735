package events

import (
	"context"
	"testing"
	"time"
)

// recv reads one event or fails after a generous bound (a hang, not a
// timing assertion).
func recv(t *testing.T, ch <-chan Event) (Event, bool) {
	t.Helper()
	select {
	case e, ok := <-ch:
		return e, ok
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
		return Event{}, false
	}
}

func TestPublishReachesEverySubscriber(t *testing.T) {
	b := New(8)
	ctx := t.Context()
	a, c := b.Subscribe(ctx), b.Subscribe(ctx)
	b.Publish(Event{Type: TaskCreated, ID: "tsk_1", QueueID: "que_1"})
	b.Publish(Event{Type: TaskClaimed, ID: "tsk_1", QueueID: "que_1", Status: "running"})
	for _, ch := range []<-chan Event{a, c} {
		e1, _ := recv(t, ch)
		e2, _ := recv(t, ch)
		if e1.Type != TaskCreated || e2.Type != TaskClaimed || e2.Status != "running" {
			t.Errorf("got %+v then %+v", e1, e2)
		}
		if e1.Seq == 0 || e2.Seq != e1.Seq+1 {
			t.Errorf("seq %d then %d, want increasing from 1", e1.Seq, e2.Seq)
		}
		if e1.Time.IsZero() {
			t.Error("time not set")
		}
	}
}

func TestSlowSubscriberIsDroppedWithResync(t *testing.T) {
	b := New(3)
	slow := b.Subscribe(t.Context())
	fast := b.Subscribe(t.Context())
	for i := 0; i < 10; i++ {
		b.Publish(Event{Type: TaskCreated})
		<-fast // keeps up
	}
	var got []string
	for e := range slow { // must end: the channel is closed after resync
		got = append(got, e.Type)
	}
	want := []string{TaskCreated, TaskCreated, TaskCreated, Resync}
	if len(got) != len(want) {
		t.Fatalf("slow subscriber got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("slow subscriber got %v, want %v", got, want)
		}
	}
	if n := b.Subscribers(); n != 1 {
		t.Errorf("%d subscribers, want the fast one only", n)
	}
	b.Publish(Event{Type: TaskDeleted})
	if e, _ := recv(t, fast); e.Type != TaskDeleted {
		t.Errorf("fast subscriber got %+v", e)
	}
}

func TestSubscriptionEndsWithContext(t *testing.T) {
	b := New(4)
	ctx, cancel := context.WithCancel(context.Background())
	ch := b.Subscribe(ctx)
	cancel()
	if _, ok := recv(t, ch); ok {
		t.Fatal("channel still open after cancel")
	}
	if n := b.Subscribers(); n != 0 {
		t.Errorf("%d subscribers after cancel", n)
	}
	b.Publish(Event{Type: TaskCreated}) // no panic on the removed subscriber
}

func TestCloseEndsSubscriptions(t *testing.T) {
	b := New(4)
	ch := b.Subscribe(t.Context())
	b.Close()
	if _, ok := recv(t, ch); ok {
		t.Fatal("channel open after Close")
	}
	b.Publish(Event{Type: TaskCreated}) // ignored
	b.Close()                           // idempotent
	if _, ok := recv(t, b.Subscribe(t.Context())); ok {
		t.Fatal("Subscribe on a closed bus returned an open channel")
	}
}

func TestPublishNeverBlocks(t *testing.T) {
	b := New(1)
	for i := 0; i < 4; i++ {
		b.Subscribe(t.Context()) // nobody reads
	}
	done := make(chan struct{})
	go func() {
		for i := 0; i < 1000; i++ {
			b.Publish(Event{Type: TaskCreated})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Publish blocked on subscribers that do not read")
	}
}
