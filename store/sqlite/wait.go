package sqlite

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/sparkq/sparkq/store"
)

// Blocking claims. A caller of ClaimNextWait that finds its queue empty
// joins the queue's waiter list and sleeps; every write that makes tasks
// queued wakes as many waiters as it queued tasks, after its commit, in the
// order they started waiting. A woken waiter claims through the ordinary
// guarded UPDATE, so hand-off needs no extra locking: if someone else got
// the task first, the waiter goes back to its old place in the list (its
// ticket), ahead of everyone who came later.
//
// A PostgreSQL backend would do the same with LISTEN/NOTIFY: the notify in
// the enqueueing transaction, the list in each process.

// waitSet is the waiter lists of all queues. The zero value is ready.
type waitSet struct {
	mu     sync.Mutex
	queues map[string][]*waiter // each sorted by ticket
	ticket uint64
	done   chan struct{} // closed by close; made on first use
	closed bool
}

// waiter is one blocked ClaimNextWait call. Whenever it is not listed it
// has a wake-up token in wake that it has not taken yet: notify moves it
// out of the list and hands it the token in one step.
type waiter struct {
	queue  string
	ticket uint64
	wake   chan struct{} // capacity 1
	listed bool          // guarded by waitSet.mu
}

// join lists a new waiter at the back of queue's list. It returns a channel
// closed when the store closes.
func (ws *waitSet) join(queue string) (*waiter, <-chan struct{}) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.done == nil {
		ws.done = make(chan struct{})
	}
	ws.ticket++
	w := &waiter{queue: queue, ticket: ws.ticket, wake: make(chan struct{}, 1)}
	if !ws.closed {
		ws.insert(w)
	}
	return w, ws.done
}

// rejoin puts a woken waiter back at its place: by ticket, so ahead of
// everyone who started waiting after it.
func (ws *waitSet) rejoin(w *waiter) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if !ws.closed {
		ws.insert(w)
	}
}

func (ws *waitSet) insert(w *waiter) {
	if ws.queues == nil {
		ws.queues = map[string][]*waiter{}
	}
	list := ws.queues[w.queue]
	i, _ := slices.BinarySearchFunc(list, w.ticket, func(x *waiter, t uint64) int {
		switch {
		case x.ticket < t:
			return -1
		case x.ticket > t:
			return 1
		}
		return 0
	})
	ws.queues[w.queue] = slices.Insert(list, i, w)
	w.listed = true
}

// leave removes a waiter that is done. One that was woken but is leaving
// without having acted on it (it got a task anyway, timed out, or its
// caller went away) passes the wake-up on, so no queued task is left
// waiting for a worker that is gone.
func (ws *waitSet) leave(w *waiter) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if w.listed {
		list := ws.queues[w.queue]
		if i := slices.Index(list, w); i >= 0 {
			list = slices.Delete(list, i, i+1)
		}
		ws.store(w.queue, list)
		w.listed = false
		return
	}
	select {
	case <-w.wake:
		ws.wakeLocked(w.queue, 1)
	default: // the store closed before it was listed
	}
}

// notify wakes up to n waiters of queue, oldest first.
func (ws *waitSet) notify(queue string, n int) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.wakeLocked(queue, n)
}

func (ws *waitSet) wakeLocked(queue string, n int) {
	list := ws.queues[queue]
	n = min(n, len(list))
	if n <= 0 {
		return
	}
	for _, w := range list[:n] {
		w.listed = false
		w.wake <- struct{}{} // never blocks: a listed waiter holds no token
	}
	ws.store(queue, slices.Delete(list, 0, n))
}

func (ws *waitSet) store(queue string, list []*waiter) {
	if len(list) == 0 {
		delete(ws.queues, queue)
		return
	}
	ws.queues[queue] = list
}

// waiting reports how many callers wait on queue (for tests and status).
func (ws *waitSet) waiting(queue string) int {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return len(ws.queues[queue])
}

// close ends every wait; later waits return at once.
func (ws *waitSet) close() {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.closed {
		return
	}
	ws.closed = true
	if ws.done == nil {
		ws.done = make(chan struct{})
	}
	close(ws.done)
	for _, list := range ws.queues {
		for _, w := range list {
			w.listed = false
		}
	}
	ws.queues = nil
}

// taskQueued wakes waiters after a committed write made n tasks of queue
// claimable.
func (s *Store) taskQueued(queueID string, n int) { s.waits.notify(queueID, n) }

// ClaimNextWait implements store.Store.
func (s *Store) ClaimNextWait(ctx context.Context, queueID, workerID string, wait time.Duration) (store.Task, error) {
	if wait <= 0 {
		return s.ClaimNext(ctx, queueID, workerID)
	}
	// Listed before the first attempt: a task queued between an empty
	// claim and joining the list would otherwise wake nobody.
	w, closed := s.waits.join(queueID)
	defer s.waits.leave(w)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		t, err := s.ClaimNext(ctx, queueID, workerID)
		if !errors.Is(err, store.ErrEmpty) {
			return t, err
		}
		select {
		case <-w.wake:
			s.waits.rejoin(w)
		case <-timer.C:
			return store.Task{}, err
		case <-closed:
			return store.Task{}, err
		case <-ctx.Done():
			return store.Task{}, ctx.Err()
		}
	}
}

// Waiting reports how many ClaimNextWait calls wait on a queue right now.
func (s *Store) Waiting(queueID string) int { return s.waits.waiting(queueID) }
