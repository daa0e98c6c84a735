package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
// Writes that end, archive or delete a queue tell all its waiters to look
// again (queuesChanged), without taking them out of line: a fresh claim
// would now fail (archived, deleted) or find nothing that can still come
// (ended and drained, see outlook), and a waiter should say so at once
// rather than sit out its timeout.
//
// A PostgreSQL backend would do the same with LISTEN/NOTIFY: the notify in
// the enqueueing transaction, the list in each process.

// waitSet is the waiter lists of all queues. The zero value is ready.
type waitSet struct {
	mu      sync.Mutex
	queues  map[string][]*waiter            // each sorted by ticket
	members map[string]map[*waiter]struct{} // every waiter, listed or woken
	ticket  uint64
	done    chan struct{} // closed by close; made on first use
	closed  bool
}

// waiter is one blocked ClaimNextWait call. Whenever it is not listed it
// has a wake-up token in wake that it has not taken yet: notify moves it
// out of the list and hands it the token in one step.
type waiter struct {
	queue  string
	ticket uint64
	wake   chan struct{} // capacity 1
	listed bool          // guarded by waitSet.mu
	// recheck (capacity 1) says the queue's state changed. It reaches
	// woken waiters too, which may have read the queue just before.
	recheck chan struct{}
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
	w := &waiter{queue: queue, ticket: ws.ticket, wake: make(chan struct{}, 1), recheck: make(chan struct{}, 1)}
	if !ws.closed {
		ws.insert(w)
		if ws.members == nil {
			ws.members = map[string]map[*waiter]struct{}{}
		}
		if ws.members[queue] == nil {
			ws.members[queue] = map[*waiter]struct{}{}
		}
		ws.members[queue][w] = struct{}{}
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
	if m := ws.members[w.queue]; m != nil {
		delete(m, w)
		if len(m) == 0 {
			delete(ws.members, w.queue)
		}
	}
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

// changed asks every waiter of queue to look at the queue again. They
// keep their places in line.
func (ws *waitSet) changed(queue string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for w := range ws.members[queue] {
		select {
		case w.recheck <- struct{}{}:
		default: // already told
		}
	}
}

// changedAll is changed for every queue with waiters.
func (ws *waitSet) changedAll() {
	ws.mu.Lock()
	queues := make([]string, 0, len(ws.members))
	for q := range ws.members {
		queues = append(queues, q)
	}
	ws.mu.Unlock()
	for _, q := range queues {
		ws.changed(q)
	}
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
	ws.queues, ws.members = nil, nil
}

// taskQueued wakes waiters after a committed write made n tasks of queue
// claimable.
func (s *Store) taskQueued(queueID string, n int) { s.waits.notify(queueID, n) }

// queuesChanged tells the waiters of queues to look again, after a
// committed write ended, archived or deleted them, or took a task out of
// running (a drained ended queue has nothing left to wait for).
func (s *Store) queuesChanged(queueIDs ...string) {
	for _, id := range queueIDs {
		s.waits.changed(id)
	}
}

// What waiting on a queue can still lead to.
const (
	queueOpen     = iota // a task may yet be queued: wait
	queueDrained         // ended, and nothing queued or running is left
	queueArchived        // claims fail
	queueGone            // deleted
)

// outlook reads whether a task may still become queued in a queue. An
// active queue takes new tasks. An ended one takes none (Enqueue, Requeue
// and Rerun refuse it), but a running task can still come back: Release
// puts it back, and a stale sweep followed by Reset to queued does too. So
// a waiter on an ended queue waits while it has running (or queued) tasks.
// A failed task alone is no reason to wait: only a person's Reset of an
// auto-failed task would queue it again.
func (s *Store) outlook(ctx context.Context, queueID string) (o int, name string, err error) {
	var state string
	var ended bool
	var queued, running int
	err = s.read(ctx, func(c *sql.Conn) error {
		return c.QueryRowContext(ctx, `SELECT name, state, ended, n_queued, n_running FROM queues WHERE id = ?`, queueID).
			Scan(&name, &state, &ended, &queued, &running)
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return queueGone, "", nil
	case err != nil:
		return 0, "", fmt.Errorf("read queue %s: %w", queueID, err)
	case state == store.QueueArchived:
		return queueArchived, name, nil
	case ended && queued == 0 && running == 0:
		return queueDrained, name, nil
	}
	return queueOpen, name, nil
}

// ClaimNextWait implements store.Store. It also ends, with what a claim
// would answer, when the queue is archived (conflict) or deleted (not
// found), and with a conflict when it is ended with nothing left that could
// come back, whether before or during the wait.
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
claim:
	for {
		t, err := s.ClaimNext(ctx, queueID, workerID)
		if !errors.Is(err, store.ErrEmpty) {
			return t, err
		}
		for fresh := true; ; fresh = false {
			switch o, name, oerr := s.outlook(ctx, queueID); {
			case oerr != nil && ctx.Err() != nil:
				return store.Task{}, ctx.Err()
			case oerr != nil:
				return store.Task{}, oerr
			case o == queueDrained && fresh:
				// A conflict, not "empty": a client that waits again on
				// an empty answer would otherwise spin, as this one comes
				// at once.
				return store.Task{}, store.Conflict("Queue %s is ended and has nothing queued or running: no task can arrive, so a wait would never end", name)
			case o != queueOpen:
				// Changed since the claim: a fresh one gives the answer
				// (and its wording).
				continue claim
			}
			select {
			case <-w.wake:
				s.waits.rejoin(w)
				continue claim
			case <-w.recheck:
				// Look again without claiming: still in line, so a task
				// queued meanwhile goes to whoever is first.
			case <-timer.C:
				return store.Task{}, err
			case <-closed:
				return store.Task{}, err
			case <-ctx.Done():
				return store.Task{}, ctx.Err()
			}
		}
	}
}

// Waiting reports how many ClaimNextWait calls wait on a queue right now.
func (s *Store) Waiting(queueID string) int { return s.waits.waiting(queueID) }
