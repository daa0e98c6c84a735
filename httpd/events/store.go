package events

import (
	"context"
	"time"

	"github.com/sparkq/sparkq/store"
)

// Store is a store.Store that publishes an event on its bus after every
// successful change. Reads and methods it does not override pass straight
// through to the embedded store.
type Store struct {
	store.Store
	bus *Bus
}

// Wrap returns st publishing on bus. Give the wrapped store to everything
// that writes (the HTTP API and the reaper), so that no change goes unseen.
func Wrap(st store.Store, bus *Bus) *Store { return &Store{Store: st, bus: bus} }

var _ store.Store = (*Store)(nil)

func (s *Store) task(typ string, t store.Task) {
	s.bus.Publish(Event{Type: typ, ID: t.ID, QueueID: t.QueueID, Status: t.Status})
}

func (s *Store) queue(typ string, q store.Queue) {
	s.bus.Publish(Event{Type: typ, ID: q.ID, QueueID: q.ID, SessionID: q.SessionID, Status: q.State})
}

func (s *Store) session(typ string, v store.Session) {
	s.bus.Publish(Event{Type: typ, ID: v.ID, SessionID: v.ID, Status: v.Status})
}

// CreateSession implements store.Store.
func (s *Store) CreateSession(ctx context.Context, in store.NewSession) (store.Session, error) {
	v, err := s.Store.CreateSession(ctx, in)
	if err == nil {
		s.session(SessionCreated, v)
	}
	return v, err
}

// UpdateSession implements store.Store.
func (s *Store) UpdateSession(ctx context.Context, id string, u store.SessionUpdate) (store.Session, error) {
	v, err := s.Store.UpdateSession(ctx, id, u)
	if err == nil {
		s.session(SessionUpdated, v)
	}
	return v, err
}

// EndSession implements store.Store.
func (s *Store) EndSession(ctx context.Context, id string) (store.Session, error) {
	v, err := s.Store.EndSession(ctx, id)
	if err == nil {
		s.session(SessionEnded, v)
	}
	return v, err
}

// DeleteSession implements store.Store.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	err := s.Store.DeleteSession(ctx, id)
	if err == nil {
		s.bus.Publish(Event{Type: SessionDeleted, ID: id, SessionID: id})
	}
	return err
}

// CreateQueue implements store.Store.
func (s *Store) CreateQueue(ctx context.Context, in store.NewQueue) (store.Queue, error) {
	q, err := s.Store.CreateQueue(ctx, in)
	if err == nil {
		s.queue(QueueCreated, q)
	}
	return q, err
}

// UpdateQueue implements store.Store.
func (s *Store) UpdateQueue(ctx context.Context, id string, u store.QueueUpdate) (store.Queue, error) {
	q, err := s.Store.UpdateQueue(ctx, id, u)
	if err == nil {
		s.queue(QueueUpdated, q)
	}
	return q, err
}

// EndQueue implements store.Store.
func (s *Store) EndQueue(ctx context.Context, id string) (store.Queue, error) {
	q, err := s.Store.EndQueue(ctx, id)
	if err == nil {
		s.queue(QueueEnded, q)
	}
	return q, err
}

// ArchiveQueue implements store.Store.
func (s *Store) ArchiveQueue(ctx context.Context, id string) (store.Queue, error) {
	q, err := s.Store.ArchiveQueue(ctx, id)
	if err == nil {
		s.queue(QueueArchived, q)
	}
	return q, err
}

// UnarchiveQueue implements store.Store.
func (s *Store) UnarchiveQueue(ctx context.Context, id string) (store.Queue, error) {
	q, err := s.Store.UnarchiveQueue(ctx, id)
	if err == nil {
		s.queue(QueueUnarchived, q)
	}
	return q, err
}

// DeleteQueue implements store.Store.
func (s *Store) DeleteQueue(ctx context.Context, id string) error {
	err := s.Store.DeleteQueue(ctx, id)
	if err == nil {
		s.bus.Publish(Event{Type: QueueDeleted, ID: id, QueueID: id})
	}
	return err
}

// Enqueue implements store.Store.
func (s *Store) Enqueue(ctx context.Context, in store.NewTask) (store.Task, error) {
	t, err := s.Store.Enqueue(ctx, in)
	if err == nil {
		s.bus.Publish(Event{Type: TaskCreated, ID: t.ID, QueueID: t.QueueID, Status: t.Status, Count: 1})
	}
	return t, err
}

// EnqueueBatch implements store.Store. It publishes one event per queue
// rather than per task, so a large batch does not overrun subscribers; ID is
// set only when the queue got a single task.
func (s *Store) EnqueueBatch(ctx context.Context, in []store.NewTask) ([]store.Task, error) {
	ts, err := s.Store.EnqueueBatch(ctx, in)
	if err != nil {
		return ts, err
	}
	var order []string
	per := map[string][]string{}
	for _, t := range ts {
		if _, ok := per[t.QueueID]; !ok {
			order = append(order, t.QueueID)
		}
		per[t.QueueID] = append(per[t.QueueID], t.ID)
	}
	for _, q := range order {
		e := Event{Type: TaskCreated, QueueID: q, Status: store.TaskQueued, Count: len(per[q])}
		if len(per[q]) == 1 {
			e.ID = per[q][0]
		}
		s.bus.Publish(e)
	}
	return ts, nil
}

// ClaimNext implements store.Store.
func (s *Store) ClaimNext(ctx context.Context, queueID, workerID string) (store.Task, error) {
	t, err := s.Store.ClaimNext(ctx, queueID, workerID)
	if err == nil {
		s.task(TaskClaimed, t)
	}
	return t, err
}

// Claim implements store.Store.
func (s *Store) Claim(ctx context.Context, taskID, workerID string) (store.Task, error) {
	t, err := s.Store.Claim(ctx, taskID, workerID)
	if err == nil {
		s.task(TaskClaimed, t)
	}
	return t, err
}

// ClaimNextWait implements store.Store: a long-poll claim is a claim too.
func (s *Store) ClaimNextWait(ctx context.Context, queueID, workerID string, wait time.Duration) (store.Task, error) {
	t, err := s.Store.ClaimNextWait(ctx, queueID, workerID, wait)
	if err == nil {
		s.task(TaskClaimed, t)
	}
	return t, err
}

// Release implements store.Store: the task is queued again.
func (s *Store) Release(ctx context.Context, taskID, workerID string) (store.Task, error) {
	t, err := s.Store.Release(ctx, taskID, workerID)
	if err == nil {
		s.task(TaskRequeued, t)
	}
	return t, err
}

// Complete implements store.Store.
func (s *Store) Complete(ctx context.Context, taskID string, c store.Completion) (store.Task, error) {
	t, err := s.Store.Complete(ctx, taskID, c)
	if err == nil {
		s.task(TaskCompleted, t)
	}
	return t, err
}

// Fail implements store.Store.
func (s *Store) Fail(ctx context.Context, taskID string, f store.Failure) (store.Task, error) {
	t, err := s.Store.Fail(ctx, taskID, f)
	if err == nil {
		s.task(TaskFailed, t)
	}
	return t, err
}

// Requeue implements store.Store; the event names the new task.
func (s *Store) Requeue(ctx context.Context, taskID string) (store.Task, error) {
	t, err := s.Store.Requeue(ctx, taskID)
	if err == nil {
		s.task(TaskRequeued, t)
	}
	return t, err
}

// Rerun implements store.Store.
func (s *Store) Rerun(ctx context.Context, taskID string) (store.Task, error) {
	t, err := s.Store.Rerun(ctx, taskID)
	if err == nil {
		s.task(TaskRequeued, t)
	}
	return t, err
}

// Reset implements store.Store.
func (s *Store) Reset(ctx context.Context, taskID, target string) (store.Task, error) {
	t, err := s.Store.Reset(ctx, taskID, target)
	if err == nil {
		s.task(TaskUpdated, t)
	}
	return t, err
}

// UpdateTask implements store.Store.
func (s *Store) UpdateTask(ctx context.Context, id string, u store.TaskUpdate) (store.Task, error) {
	t, err := s.Store.UpdateTask(ctx, id, u)
	if err == nil {
		s.task(TaskUpdated, t)
	}
	return t, err
}

// DeleteTask implements store.Store. It looks the task up first so the
// event can say which queue lost it.
func (s *Store) DeleteTask(ctx context.Context, id string) error {
	var queueID string
	if t, err := s.Store.GetTask(ctx, id); err == nil {
		queueID = t.QueueID
	}
	err := s.Store.DeleteTask(ctx, id)
	if err == nil {
		s.bus.Publish(Event{Type: TaskDeleted, ID: id, QueueID: queueID})
	}
	return err
}

// SweepStale implements store.Store. The sweep reports counts, not ids, so
// its events carry Count only.
func (s *Store) SweepStale(ctx context.Context, now time.Time) (store.SweepResult, error) {
	res, err := s.Store.SweepStale(ctx, now)
	if err == nil {
		if res.Failed > 0 {
			s.bus.Publish(Event{Type: TaskFailed, Status: store.TaskFailed, Count: res.Failed})
		}
		if res.Warned > 0 {
			s.bus.Publish(Event{Type: TaskStale, Status: store.TaskRunning, Count: res.Warned})
		}
	}
	return res, err
}

// Purge implements store.Store.
func (s *Store) Purge(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	n, err := s.Store.Purge(ctx, cutoff, limit)
	if err == nil && n > 0 {
		s.bus.Publish(Event{Type: TasksPurged, Count: n})
	}
	return n, err
}

// PutTaskClass implements store.Store.
func (s *Store) PutTaskClass(ctx context.Context, c store.TaskClass) (store.TaskClass, error) {
	v, err := s.Store.PutTaskClass(ctx, c)
	if err == nil {
		s.bus.Publish(Event{Type: RegistryChanged, ID: v.Name})
	}
	return v, err
}

// DeleteTaskClass implements store.Store.
func (s *Store) DeleteTaskClass(ctx context.Context, name string) error {
	err := s.Store.DeleteTaskClass(ctx, name)
	if err == nil {
		s.bus.Publish(Event{Type: RegistryChanged, ID: name})
	}
	return err
}

// PutTool implements store.Store.
func (s *Store) PutTool(ctx context.Context, t store.Tool) (store.Tool, error) {
	v, err := s.Store.PutTool(ctx, t)
	if err == nil {
		s.bus.Publish(Event{Type: RegistryChanged, ID: v.Name})
	}
	return v, err
}

// DeleteTool implements store.Store.
func (s *Store) DeleteTool(ctx context.Context, name string) error {
	err := s.Store.DeleteTool(ctx, name)
	if err == nil {
		s.bus.Publish(Event{Type: RegistryChanged, ID: name})
	}
	return err
}
