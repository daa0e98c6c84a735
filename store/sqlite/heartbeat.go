package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sparkq/sparkq/store"
)

// Heartbeat implements store.Store. It also clears a stale warning: the
// task is alive again. updated_at is left alone, as for the warning itself,
// so a heartbeat every few seconds does not reorder "recently changed" lists.
func (s *Store) Heartbeat(ctx context.Context, taskID, workerID string) (out store.Lease, err error) {
	worker := nullIfEmpty(workerID)
	err = s.write(ctx, func(tx wtx) error {
		now := s.stamp()
		var owner sql.NullString
		err := tx.QueryRowContext(ctx, `UPDATE tasks SET heartbeat_at = ?, stale_warned_at = NULL
			WHERE id = ? AND status = 'running' AND (? IS NULL OR worker_id = ?)
			RETURNING timeout, worker_id`, now, taskID, worker, worker).Scan(&out.Timeout, &owner)
		if errors.Is(err, sql.ErrNoRows) {
			return s.whyNotMine(ctx, tx, taskID, workerID, "heartbeat")
		}
		if err != nil {
			return fmt.Errorf("heartbeat task %s: %w", taskID, err)
		}
		beat := timeVal(now)
		limit := time.Duration(out.Timeout) * time.Second
		out.TaskID, out.WorkerID, out.HeartbeatAt = taskID, strPtr(owner), beat
		out.StaleAt, out.AutoFailAt = store.NewTime(beat.Add(limit)), store.NewTime(beat.Add(2*limit))
		return nil
	})
	return out, err
}

// Release implements store.Store. The task keeps its seq, so it goes back
// to its old place (usually the front); attempts keeps counting.
func (s *Store) Release(ctx context.Context, taskID, workerID string) (out store.Task, err error) {
	worker := nullIfEmpty(workerID)
	err = s.write(ctx, func(tx wtx) error {
		now := s.stamp()
		out, err = scanTask(tx.QueryRowContext(ctx, `UPDATE tasks SET status = 'queued', worker_id = NULL, claimed_at = NULL,
			heartbeat_at = NULL, stale_warned_at = NULL, started_at = NULL, updated_at = ?
			WHERE id = ? AND status = 'running' AND (? IS NULL OR worker_id = ?) RETURNING `+taskCols, now, taskID, worker, worker))
		if errors.Is(err, sql.ErrNoRows) {
			return s.whyNotMine(ctx, tx, taskID, workerID, "release")
		}
		if err != nil {
			return fmt.Errorf("release task %s: %w", taskID, err)
		}
		return audit(ctx, tx, now, "", "task.release", map[string]any{"task_id": taskID, "queue_id": out.QueueID, "worker_id": workerID})
	})
	if err != nil {
		return out, err
	}
	s.taskQueued(out.QueueID, 1)
	return out, nil
}

// whyNotMine explains why a guarded write on a running task matched nothing.
func (s *Store) whyNotMine(ctx context.Context, tx wtx, taskID, workerID, verb string) error {
	cur, err := getTask(ctx, tx, taskID)
	if err != nil {
		return err
	}
	if cur.Status != store.TaskRunning {
		return store.Conflict("Cannot %s task while status is %s", verb, cur.Status)
	}
	owner := "no worker"
	if cur.WorkerID != nil {
		owner = "worker " + *cur.WorkerID
	}
	return store.Conflict("Cannot %s task: it is claimed by %s, not %s", verb, owner, workerID)
}
