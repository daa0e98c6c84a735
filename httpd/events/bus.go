// Package events tells interested parties what changed in the store: a small
// in-process publish/subscribe bus, and a store.Store wrapper that publishes
// after every successful change. The dashboard's live updates (GET
// /api/events) read it; so can anything else that would otherwise poll.
//
// Delivery is best effort and never blocks a writer: each subscriber has a
// bounded buffer, and one that falls behind is dropped with a final Resync
// event, after which it should re-read whatever it shows and subscribe again.
package events

import (
	"context"
	"sync"
	"time"
)

// Event types. Task and queue events carry the ids they concern; events that
// affect many rows at once (purge, stale sweep, batch enqueue) carry Count.
const (
	TaskCreated   = "task.created"   // Enqueue, EnqueueBatch (one event per queue, Count tasks)
	TaskClaimed   = "task.claimed"   // Claim, ClaimNext, ClaimNextWait
	TaskCompleted = "task.completed" // Complete
	TaskFailed    = "task.failed"    // Fail; the reaper's auto-fail (Count, no ID)
	TaskRequeued  = "task.requeued"  // Requeue (ID is the new task), Rerun and Release (same task)
	TaskUpdated   = "task.updated"   // UpdateTask, Reset
	TaskStale     = "task.stale"     // the reaper warned Count running tasks
	TaskDeleted   = "task.deleted"   // DeleteTask
	TasksPurged   = "task.purged"    // Purge (Count, no ID)

	QueueCreated    = "queue.created"
	QueueUpdated    = "queue.updated"
	QueueEnded      = "queue.ended"
	QueueArchived   = "queue.archived"
	QueueUnarchived = "queue.unarchived"
	QueueDeleted    = "queue.deleted"

	SessionCreated = "session.created"
	SessionUpdated = "session.updated"
	SessionEnded   = "session.ended" // its active queues ended with it
	SessionDeleted = "session.deleted"

	RegistryChanged = "registry.changed" // tools or task classes

	// Resync is the last event a subscriber gets when it was dropped for
	// falling behind: events were lost, so re-read state and resubscribe.
	Resync = "resync"
)

// Event is one change. Only the fields that apply are set.
type Event struct {
	Seq       uint64    `json:"seq"` // assigned by Publish, increasing
	Type      string    `json:"type"`
	ID        string    `json:"id,omitempty"` // the task, queue or session changed
	QueueID   string    `json:"queue_id,omitempty"`
	SessionID string    `json:"session_id,omitempty"`
	Status    string    `json:"status,omitempty"` // a task's status after the change, a queue's state
	Count     int       `json:"count,omitempty"`  // rows affected, for bulk changes
	Time      time.Time `json:"time"`
}

// DefaultBuffer is the per-subscriber buffer when New is given none.
const DefaultBuffer = 256

// Bus fans events out to subscribers. The zero value is not usable; call New.
type Bus struct {
	buffer int
	now    func() time.Time

	mu     sync.Mutex
	seq    uint64
	subs   map[*subscriber]struct{}
	closed bool
}

type subscriber struct {
	ch   chan Event
	stop func() bool // stops the context watch; nil when there is none
}

// drop closes s and forgets it; b.mu must be held.
func (b *Bus) drop(s *subscriber) {
	delete(b.subs, s)
	close(s.ch)
	if s.stop != nil {
		s.stop()
	}
}

// New returns a bus whose subscribers may fall buffer events behind before
// they are dropped (DefaultBuffer when buffer <= 0).
func New(buffer int) *Bus {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	return &Bus{buffer: buffer, now: time.Now, subs: map[*subscriber]struct{}{}}
}

// Subscribe returns a channel of every event published from now on. It is
// closed when ctx ends, when the bus closes, or after a Resync event when the
// subscriber fell behind. On a closed bus it returns a closed channel.
func (b *Bus) Subscribe(ctx context.Context) <-chan Event {
	// One slot more than the buffer, so the final Resync always fits.
	s := &subscriber{ch: make(chan Event, b.buffer+1)}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		close(s.ch)
		return s.ch
	}
	b.subs[s] = struct{}{}
	s.stop = context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[s]; ok {
			b.drop(s)
		}
	})
	b.mu.Unlock()
	return s.ch
}

// Publish sends e to every subscriber without waiting for any of them. It
// sets e.Seq, and e.Time when zero. Publishing on a closed bus does nothing.
func (b *Bus) Publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.seq++
	e.Seq = b.seq
	if e.Time.IsZero() {
		e.Time = b.now().UTC()
	}
	for s := range b.subs {
		if len(s.ch) < b.buffer {
			s.ch <- e
			continue
		}
		// Full: drop it rather than make the writer wait.
		s.ch <- Event{Seq: e.Seq, Type: Resync, Time: e.Time}
		b.drop(s)
	}
}

// Close ends every subscription; later Subscribe calls get closed channels.
// The daemon closes the bus when it shuts down, which ends open event
// streams so that the HTTP server can drain.
func (b *Bus) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	for s := range b.subs {
		b.drop(s)
	}
}

// Subscribers reports how many subscriptions are open.
func (b *Bus) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
