package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sparkq/sparkq/store"
)

const taskCols = `id, queue_id, (SELECT name FROM queues WHERE queues.id = tasks.queue_id), tool_name, task_class, payload,
	agent_role_key, status, timeout, attempts, worker_id, result, result_summary, error, auto_failed, stdout, stderr,
	created_at, updated_at, started_at, claimed_at, finished_at, stale_warned_at`

// Hot statements, prepared once on the writer (see Open). Each state change
// is one guarded statement on the happy path; only a miss reads the row to
// say why.
const (
	qGetTask    = `SELECT ` + taskCols + ` FROM tasks WHERE id = ?`
	qQueueState = `SELECT name, state FROM queues WHERE id = ?`
	qInsertTask = `INSERT INTO tasks(id, queue_id, tool_name, task_class, payload, agent_role_key, status, timeout, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)`
	claimSet = `status = 'running', attempts = attempts + 1, worker_id = ?, claimed_at = ?,
		started_at = COALESCE(started_at, ?), stale_warned_at = NULL, updated_at = ?`
	notArchived = `(SELECT state FROM queues WHERE queues.id = tasks.queue_id) <> 'archived'`
	qClaimNext  = `UPDATE tasks SET ` + claimSet + `
		WHERE seq = (SELECT seq FROM tasks WHERE queue_id = ? AND status = 'queued' ORDER BY seq LIMIT 1) AND ` + notArchived + `
		RETURNING ` + taskCols
	qClaim    = `UPDATE tasks SET ` + claimSet + ` WHERE id = ? AND status = 'queued' AND ` + notArchived + ` RETURNING ` + taskCols
	qComplete = `UPDATE tasks SET status = 'succeeded', result = ?, result_summary = ?,
		stdout = COALESCE(?, stdout), stderr = COALESCE(?, stderr), error = NULL, auto_failed = 0,
		finished_at = ?, updated_at = ? WHERE id = ? AND (status = 'running' OR (? AND status = 'failed' AND auto_failed = 1))
		RETURNING ` + taskCols
	qFail = `UPDATE tasks SET status = 'failed', error = ?, auto_failed = 0, result = COALESCE(?, result),
		stdout = COALESCE(?, stdout), stderr = COALESCE(?, stderr), finished_at = ?, updated_at = ?
		WHERE id = ? AND status = 'running' RETURNING ` + taskCols
)

var hotWrites = []string{qGetTask, qQueueState, qInsertTask, qClaimNext, qClaim, qComplete, qFail}

// MaxTimeout bounds a task's timeout (seconds): a week.
const MaxTimeout = 7 * 24 * 3600

func scanTask(row interface{ Scan(...any) error }) (store.Task, error) {
	var t store.Task
	var qname, role, worker, result, summary, errText, stdout, stderr sql.NullString
	var started, claimed, finished, warned sql.NullString
	var created, updated string
	err := row.Scan(&t.ID, &t.QueueID, &qname, &t.ToolName, &t.TaskClass, &t.Payload,
		&role, &t.Status, &t.Timeout, &t.Attempts, &worker, &result, &summary, &errText, &t.AutoFailed, &stdout, &stderr,
		&created, &updated, &started, &claimed, &finished, &warned)
	if err != nil {
		return t, err
	}
	t.QueueName = qname.String
	t.AgentRoleKey, t.WorkerID, t.Result, t.ResultSummary = strPtr(role), strPtr(worker), strPtr(result), strPtr(summary)
	t.Error, t.Stdout, t.Stderr = strPtr(errText), strPtr(stdout), strPtr(stderr)
	t.CreatedAt, t.UpdatedAt = timeVal(created), timeVal(updated)
	t.StartedAt, t.ClaimedAt, t.FinishedAt, t.StaleWarnedAt = timePtr(started), timePtr(claimed), timePtr(finished), timePtr(warned)
	return t, nil
}

func getTask(ctx context.Context, q querier, id string) (store.Task, error) {
	t, err := scanTask(q.QueryRowContext(ctx, qGetTask, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, store.NotFound("Task not found: %s", id)
	}
	if err != nil {
		return t, fmt.Errorf("get task %s: %w", id, err)
	}
	return t, nil
}

// validPayload reports whether p is a JSON object.
func validPayload(p string) bool {
	p = strings.TrimSpace(p)
	return strings.HasPrefix(p, "{") && json.Valid([]byte(p))
}

// resolve checks a new task against the registry and fills its class and
// timeout: explicit timeout, else the class's, else the built-in default.
func (s *Store) resolve(in store.NewTask) (store.NewTask, error) {
	if _, ok := text(in.QueueID); !ok {
		return in, store.Invalid("queue_id", "queue_id is required")
	}
	tool, ok := text(in.ToolName)
	if !ok {
		return in, store.Invalid("tool_name", "tool_name is required")
	}
	in.ToolName = tool
	if strings.TrimSpace(in.Payload) == "" {
		in.Payload = "{}"
	}
	if !validPayload(in.Payload) {
		return in, store.Invalid("payload", "payload must be a JSON object, like {\"prompt\": \"...\"}")
	}
	if in.Timeout < 0 || in.Timeout > MaxTimeout {
		return in, store.Invalid("timeout", "timeout must be between 1 and %d seconds, got %d", MaxTimeout, in.Timeout)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tools[tool]
	if !ok {
		return in, store.Invalid("tool_name", "unknown tool %q: known tools are %s (add tools under tools: in sparkq.yml)", tool, s.toolNames())
	}
	class := strings.TrimSpace(in.TaskClass)
	if class == "" {
		class = t.TaskClass
	}
	c, ok := s.classes[class]
	if !ok {
		return in, store.Invalid("task_class", "unknown task_class %q: known classes are %s", class, s.classNames())
	}
	in.TaskClass = class
	if in.Timeout == 0 {
		in.Timeout = c.Timeout
	}
	return in, nil
}

// insertTask writes a new queued task and returns it as stored. The row is
// built here rather than read back (RETURNING): one durable enqueue is the
// hottest write there is.
func (s *Store) insertTask(ctx context.Context, tx wtx, in store.NewTask, queueName, now string) (store.Task, error) {
	id := s.ids.next()
	for attempt := 0; ; attempt++ {
		_, err := tx.ExecContext(ctx, qInsertTask,
			id, in.QueueID, in.ToolName, in.TaskClass, in.Payload, nullString(in.AgentRoleKey), in.Timeout, now, now)
		if isUnique(err) && attempt < 3 {
			// Only a clock set back below ids already issued gets here;
			// a random id then avoids walking through the used range.
			id = newID("tsk_")
			continue
		}
		if err != nil {
			return store.Task{}, fmt.Errorf("insert task: %w", err)
		}
		at := timeVal(now)
		return store.Task{ID: id, QueueID: in.QueueID, QueueName: queueName, ToolName: in.ToolName, TaskClass: in.TaskClass,
			Payload: in.Payload, AgentRoleKey: in.AgentRoleKey, Status: store.TaskQueued, Timeout: in.Timeout,
			CreatedAt: at, UpdatedAt: at}, nil
	}
}

// queueState reads a queue's state for a write, inside its transaction.
func queueState(ctx context.Context, tx wtx, id string) (name, state string, err error) {
	err = tx.QueryRowContext(ctx, qQueueState, id).Scan(&name, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", store.NotFound("Queue not found: %s", id)
	}
	if err != nil {
		return "", "", fmt.Errorf("read queue %s: %w", id, err)
	}
	return name, state, nil
}

func acceptsTasks(name, state string) error {
	if state != store.QueueActive {
		return store.Conflict("Queue %s is %s: it accepts no new tasks (create a new queue%s)", name, state,
			map[bool]string{true: " or unarchive it", false: ""}[state == store.QueueArchived])
	}
	return nil
}

// Enqueue implements store.Store.
func (s *Store) Enqueue(ctx context.Context, in store.NewTask) (store.Task, error) {
	out, err := s.enqueue(ctx, []store.NewTask{in}, false)
	if err != nil {
		return store.Task{}, err
	}
	return out[0], nil
}

// EnqueueBatch implements store.Store. Its errors name the task they are
// about: "tasks[i]: …", field tasks[i].<field>.
func (s *Store) EnqueueBatch(ctx context.Context, in []store.NewTask) ([]store.Task, error) {
	return s.enqueue(ctx, in, true)
}

// enqueue writes in, all or nothing; batch says whether errors name the
// item (a single Enqueue keeps the original API's messages).
func (s *Store) enqueue(ctx context.Context, in []store.NewTask, batch bool) ([]store.Task, error) {
	if len(in) == 0 {
		return nil, store.Invalid("tasks", "tasks must not be empty")
	}
	item := func(i int, err error) error {
		var e *store.Error
		if !batch || !errors.As(err, &e) {
			return err
		}
		return &store.Error{Kind: e.Kind, Field: fmt.Sprintf("tasks[%d].%s", i, e.Field), Msg: fmt.Sprintf("tasks[%d]: %s", i, e.Msg)}
	}
	resolved := make([]store.NewTask, len(in))
	for i, t := range in {
		r, err := s.resolve(t)
		if err != nil {
			return nil, item(i, err)
		}
		resolved[i] = r
	}
	out := make([]store.Task, 0, len(in))
	err := s.write(ctx, func(tx wtx) error {
		now := s.stamp()
		names := map[string]string{}
		for i, t := range resolved {
			name, checked := names[t.QueueID]
			if !checked {
				var state string
				var err error
				if name, state, err = queueState(ctx, tx, t.QueueID); err == nil {
					err = acceptsTasks(name, state)
				}
				var e *store.Error
				if errors.As(err, &e) {
					// The queue is the task's: its errors are about queue_id.
					err = item(i, &store.Error{Kind: e.Kind, Field: "queue_id", Msg: e.Msg})
				}
				if err != nil {
					return err
				}
				names[t.QueueID] = name
			}
			task, err := s.insertTask(ctx, tx, t, name, now)
			if err != nil {
				return err
			}
			out = append(out, task)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.notifyQueued(out)
	return out, nil
}

// notifyQueued wakes waiting claimers for newly queued tasks (see wait.go).
func (s *Store) notifyQueued(tasks []store.Task) {
	if len(tasks) == 1 {
		s.taskQueued(tasks[0].QueueID, 1)
		return
	}
	per := map[string]int{}
	for _, t := range tasks {
		per[t.QueueID]++
	}
	for q, n := range per {
		s.taskQueued(q, n)
	}
}

// GetTask implements store.Store.
func (s *Store) GetTask(ctx context.Context, id string) (out store.Task, err error) {
	err = s.read(ctx, func(c *sql.Conn) error {
		out, err = getTask(ctx, c, id)
		return err
	})
	return out, err
}

// ListTasks implements store.Store, newest first.
func (s *Store) ListTasks(ctx context.Context, f store.TaskFilter, p store.Page) (out store.TaskPage, err error) {
	limit, offset := pageBounds(p, 100, 1000)
	q, args, err := listTasksQuery(f)
	if err != nil {
		return out, err
	}
	args = append(args, limit+1, offset)
	err = s.read(ctx, func(c *sql.Conn) error {
		rows, err := c.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("list tasks: %w", err)
		}
		defer rows.Close()
		out.Tasks = make([]store.Task, 0, min(limit, 128))
		for rows.Next() {
			t, err := scanTask(rows)
			if err != nil {
				return fmt.Errorf("list tasks: %w", err)
			}
			out.Tasks = append(out.Tasks, t)
		}
		return rows.Err()
	})
	if len(out.Tasks) > limit {
		out.Tasks, out.More = out.Tasks[:limit], true
	}
	return out, err
}

// statusIndex names the partial index holding one queue's tasks of a status.
var statusIndex = map[string]string{
	store.TaskQueued: "tasks_queued", store.TaskRunning: "tasks_running",
	store.TaskSucceeded: "tasks_succeeded", store.TaskFailed: "tasks_failed",
}

// listTasksQuery builds ListTasks' query, newest first; the caller appends
// LIMIT and OFFSET arguments.
func listTasksQuery(f store.TaskFilter) (string, []any, error) {
	from := `tasks`
	if f.QueueID != "" {
		// Without statistics SQLite prefers (queue_id, seq) for any status;
		// the partial index of that status is far smaller on a big queue.
		if idx, ok := statusIndex[f.Status]; ok {
			from += ` INDEXED BY ` + idx
		}
	}
	q := `SELECT ` + taskCols + ` FROM ` + from + ` WHERE 1=1`
	var args []any
	if f.QueueID != "" {
		q += ` AND queue_id = ?`
		args = append(args, f.QueueID)
	}
	if f.SessionID != "" {
		q += ` AND queue_id IN (SELECT id FROM queues WHERE session_id = ?)`
		args = append(args, f.SessionID)
	}
	if f.Status != "" {
		switch f.Status {
		case store.TaskQueued, store.TaskRunning, store.TaskSucceeded, store.TaskFailed:
		default:
			return "", nil, store.Invalid("status", "Invalid status filter. Allowed values: failed, queued, running, succeeded")
		}
		// The status is inlined (it was checked against the fixed set above):
		// SQLite only uses a partial index when the query names its constant.
		q += ` AND status = '` + f.Status + `'`
	}
	return q + ` ORDER BY seq DESC LIMIT ? OFFSET ?`, args, nil
}

// Peek implements store.Store.
func (s *Store) Peek(ctx context.Context, queueID string) (out store.Task, err error) {
	err = s.read(ctx, func(c *sql.Conn) error {
		var name string
		if err := c.QueryRowContext(ctx, `SELECT name FROM queues WHERE id = ?`, queueID).Scan(&name); errors.Is(err, sql.ErrNoRows) {
			return store.NotFound("Queue not found: %s", queueID)
		} else if err != nil {
			return fmt.Errorf("peek queue %s: %w", queueID, err)
		}
		out, err = scanTask(c.QueryRowContext(ctx, `SELECT `+taskCols+` FROM tasks WHERE queue_id = ? AND status = 'queued' ORDER BY seq LIMIT 1`, queueID))
		if errors.Is(err, sql.ErrNoRows) {
			return store.Empty("No queued tasks in queue %s", name)
		}
		return err
	})
	return out, err
}

// ClaimNext implements store.Store. The single writer plus a guarded
// UPDATE make the claim atomic: no two callers get the same task.
func (s *Store) ClaimNext(ctx context.Context, queueID, workerID string) (out store.Task, err error) {
	err = s.write(ctx, func(tx wtx) error {
		now := s.stamp()
		out, err = scanTask(tx.QueryRowContext(ctx, qClaimNext, nullIfEmpty(workerID), now, now, now, queueID))
		if !errors.Is(err, sql.ErrNoRows) {
			if err != nil {
				return fmt.Errorf("claim next in queue %s: %w", queueID, err)
			}
			return nil
		}
		name, state, err := queueState(ctx, tx, queueID)
		if err != nil {
			return err
		}
		if state == store.QueueArchived {
			return store.Conflict("Queue %s is archived: unarchive it to claim its tasks", name)
		}
		return store.Empty("No queued tasks in queue %s", name)
	})
	return out, err
}

// Claim implements store.Store.
func (s *Store) Claim(ctx context.Context, taskID, workerID string) (out store.Task, err error) {
	err = s.write(ctx, func(tx wtx) error {
		now := s.stamp()
		out, err = scanTask(tx.QueryRowContext(ctx, qClaim, nullIfEmpty(workerID), now, now, now, taskID))
		if !errors.Is(err, sql.ErrNoRows) {
			if err != nil {
				return fmt.Errorf("claim task %s: %w", taskID, err)
			}
			return nil
		}
		cur, err := getTask(ctx, tx, taskID)
		if err != nil {
			return err
		}
		if cur.Status != store.TaskQueued {
			return store.Conflict("Cannot claim task while status is %s", cur.Status)
		}
		return store.Conflict("Queue %s is archived: unarchive it to claim its tasks", cur.QueueName)
	})
	return out, err
}

func nullIfEmpty(s string) any {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return s
}

// Complete implements store.Store. A task the reaper auto-failed may still
// be completed by a worker that finished late.
func (s *Store) Complete(ctx context.Context, taskID string, c store.Completion) (out store.Task, err error) {
	summary, ok := text(c.Summary)
	if !ok {
		return out, store.Invalid("result_summary", "Result summary is required")
	}
	result := summary
	if c.Data != nil {
		result = *c.Data
	}
	err = s.write(ctx, func(tx wtx) error {
		now := s.stamp()
		complete := func(late bool) (store.Task, error) {
			return scanTask(tx.QueryRowContext(ctx, qComplete, result, summary, nullString(c.Stdout), nullString(c.Stderr), now, now, taskID, late))
		}
		out, err = complete(false)
		if !errors.Is(err, sql.ErrNoRows) {
			if err != nil {
				return fmt.Errorf("complete task %s: %w", taskID, err)
			}
			return nil
		}
		cur, err := getTask(ctx, tx, taskID)
		if err != nil {
			return err
		}
		if cur.Status != store.TaskFailed || !cur.AutoFailed {
			return store.Conflict("Cannot complete task while status is %s", cur.Status)
		}
		if out, err = complete(true); err != nil {
			return fmt.Errorf("complete task %s: %w", taskID, err)
		}
		return audit(ctx, tx, now, "", "task.reset_auto_fail", map[string]any{"task_id": taskID, "via": "complete"})
	})
	if err == nil {
		s.queuesChanged(out.QueueID) // a task left running: see outlook in wait.go
	}
	return out, err
}

// Fail implements store.Store; only running tasks can fail.
func (s *Store) Fail(ctx context.Context, taskID string, f store.Failure) (out store.Task, err error) {
	msg, ok := text(f.Message)
	if !ok {
		return out, store.Invalid("error_message", "Error message is required")
	}
	if typ, ok := text(f.Type); ok {
		msg = typ + ": " + msg
	}
	err = s.write(ctx, func(tx wtx) error {
		now := s.stamp()
		out, err = scanTask(tx.QueryRowContext(ctx, qFail, msg, nullString(f.Data), nullString(f.Stdout), nullString(f.Stderr), now, now, taskID))
		if !errors.Is(err, sql.ErrNoRows) {
			if err != nil {
				return fmt.Errorf("fail task %s: %w", taskID, err)
			}
			return nil
		}
		cur, err := getTask(ctx, tx, taskID)
		if err != nil {
			return err
		}
		return store.Conflict("Cannot fail task while status is %s", cur.Status)
	})
	if err == nil {
		s.queuesChanged(out.QueueID) // a task left running: see outlook in wait.go
	}
	return out, err
}

func finished(status string) bool { return status == store.TaskSucceeded || status == store.TaskFailed }

// Requeue implements store.Store.
func (s *Store) Requeue(ctx context.Context, taskID string) (out store.Task, err error) {
	err = s.write(ctx, func(tx wtx) error {
		cur, err := getTask(ctx, tx, taskID)
		if err != nil {
			return err
		}
		if !finished(cur.Status) {
			return store.Conflict("Cannot requeue task while status is %s", cur.Status)
		}
		name, state, err := queueState(ctx, tx, cur.QueueID)
		if err != nil {
			return err
		} else if err := acceptsTasks(name, state); err != nil {
			return err
		}
		now := s.stamp()
		out, err = s.insertTask(ctx, tx, store.NewTask{QueueID: cur.QueueID, ToolName: cur.ToolName, TaskClass: cur.TaskClass,
			Payload: cur.Payload, AgentRoleKey: cur.AgentRoleKey, Timeout: cur.Timeout}, name, now)
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, "", "task.retry", map[string]any{"original_task_id": taskID, "new_task_id": out.ID,
			"queue_id": cur.QueueID, "tool_name": cur.ToolName})
	})
	if err == nil {
		s.taskQueued(out.QueueID, 1)
	}
	return out, err
}

// Rerun implements store.Store.
func (s *Store) Rerun(ctx context.Context, taskID string) (out store.Task, err error) {
	err = s.write(ctx, func(tx wtx) error {
		cur, err := getTask(ctx, tx, taskID)
		if err != nil {
			return err
		}
		if !finished(cur.Status) {
			return store.Conflict("Cannot rerun task while status is %s", cur.Status)
		}
		if name, state, err := queueState(ctx, tx, cur.QueueID); err != nil {
			return err
		} else if err := acceptsTasks(name, state); err != nil {
			return err
		}
		now := s.stamp()
		out, err = scanTask(tx.QueryRowContext(ctx, `UPDATE tasks SET status = 'queued', attempts = 0, worker_id = NULL,
			claimed_at = NULL, stale_warned_at = NULL, started_at = NULL, finished_at = NULL, result = NULL, result_summary = NULL,
			error = NULL, auto_failed = 0, stdout = NULL, stderr = NULL, updated_at = ? WHERE id = ? RETURNING `+taskCols, now, taskID))
		if err != nil {
			return fmt.Errorf("rerun task %s: %w", taskID, err)
		}
		return audit(ctx, tx, now, "", "task.rerun", map[string]any{"task_id": taskID, "previous_status": cur.Status, "queue_id": cur.QueueID})
	})
	if err == nil {
		s.taskQueued(out.QueueID, 1)
	}
	return out, err
}

// Reset implements store.Store. Going back to running restarts the stale
// clock, so the reaper does not fail it again at once.
func (s *Store) Reset(ctx context.Context, taskID, target string) (out store.Task, err error) {
	target = strings.ToLower(strings.TrimSpace(target))
	if target == "" {
		target = store.TaskRunning
	}
	if target != store.TaskRunning && target != store.TaskQueued {
		return out, store.Invalid("target_status", "target_status must be 'running' or 'queued'")
	}
	err = s.write(ctx, func(tx wtx) error {
		cur, err := getTask(ctx, tx, taskID)
		if err != nil {
			return err
		}
		if cur.Status != store.TaskFailed || !cur.AutoFailed {
			return store.Conflict("Task is not auto-failed or already recovered")
		}
		now := s.stamp()
		claimed, worker := any(now), any(nullString(cur.WorkerID))
		if target == store.TaskQueued {
			claimed, worker = nil, nil
		}
		out, err = scanTask(tx.QueryRowContext(ctx, `UPDATE tasks SET status = ?, error = NULL, auto_failed = 0, finished_at = NULL,
			stale_warned_at = NULL, claimed_at = ?, worker_id = ?, updated_at = ? WHERE id = ? RETURNING `+taskCols,
			target, claimed, worker, now, taskID))
		if err != nil {
			return fmt.Errorf("reset task %s: %w", taskID, err)
		}
		return audit(ctx, tx, now, "", "task.reset_auto_fail", map[string]any{"task_id": taskID, "target_status": target})
	})
	if err == nil && out.Status == store.TaskQueued {
		s.taskQueued(out.QueueID, 1)
	}
	return out, err
}

// UpdateTask implements store.Store; a running task cannot be edited.
func (s *Store) UpdateTask(ctx context.Context, id string, u store.TaskUpdate) (out store.Task, err error) {
	if u.Payload != nil && !validPayload(*u.Payload) {
		return out, store.Invalid("payload", "payload must be a JSON object")
	}
	if u.Timeout != nil && (*u.Timeout <= 0 || *u.Timeout > MaxTimeout) {
		return out, store.Invalid("timeout", "timeout must be between 1 and %d seconds, got %d", MaxTimeout, *u.Timeout)
	}
	if u.ToolName != nil {
		name, ok := text(*u.ToolName)
		if !ok {
			return out, store.Invalid("tool_name", "tool_name cannot be empty")
		}
		s.mu.RLock()
		_, known := s.tools[name]
		names := s.toolNames()
		s.mu.RUnlock()
		if !known {
			return out, store.Invalid("tool_name", "unknown tool %q: known tools are %s", name, names)
		}
		u.ToolName = &name
	}
	err = s.write(ctx, func(tx wtx) error {
		cur, err := getTask(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.Status == store.TaskRunning {
			return store.Conflict("Cannot edit task while status is running: fail or complete it first")
		}
		out, err = scanTask(tx.QueryRowContext(ctx, `UPDATE tasks SET tool_name = COALESCE(?, tool_name), payload = COALESCE(?, payload),
			timeout = COALESCE(?, timeout), agent_role_key = CASE WHEN ? THEN ? ELSE agent_role_key END, updated_at = ?
			WHERE id = ? RETURNING `+taskCols,
			nullString(u.ToolName), nullString(u.Payload), intOrNil(u.Timeout), u.AgentRoleKey != nil, nullIfEmptyPtr(u.AgentRoleKey), s.stamp(), id))
		if err != nil {
			return fmt.Errorf("update task %s: %w", id, err)
		}
		return nil
	})
	return out, err
}

func intOrNil(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func nullIfEmptyPtr(p *string) any {
	if p == nil {
		return nil
	}
	return nullIfEmpty(*p)
}

// DeleteTask implements store.Store.
func (s *Store) DeleteTask(ctx context.Context, id string) error {
	var queueID string
	err := s.write(ctx, func(tx wtx) error {
		err := tx.QueryRowContext(ctx, `DELETE FROM tasks WHERE id = ? RETURNING queue_id`, id).Scan(&queueID)
		if errors.Is(err, sql.ErrNoRows) {
			return store.NotFound("Task not found: %s", id)
		}
		if err != nil {
			return fmt.Errorf("delete task %s: %w", id, err)
		}
		return nil
	})
	if err == nil {
		s.queuesChanged(queueID) // it may have been the last one running
	}
	return err
}

// SweepStale implements store.Store.
func (s *Store) SweepStale(ctx context.Context, now time.Time) (res store.SweepResult, err error) {
	err = s.write(ctx, func(tx wtx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, claimed_at, heartbeat_at, timeout, stale_warned_at IS NOT NULL FROM tasks INDEXED BY tasks_running WHERE status = 'running'`)
		if err != nil {
			return fmt.Errorf("scan running tasks: %w", err)
		}
		type running struct {
			id, claimed string
			beat        sql.NullString
			timeout     int
			warned      bool
		}
		var all []running
		for rows.Next() {
			var r running
			var claimed sql.NullString
			if err := rows.Scan(&r.id, &claimed, &r.beat, &r.timeout, &r.warned); err != nil {
				rows.Close()
				return fmt.Errorf("scan running tasks: %w", err)
			}
			r.claimed = claimed.String
			all = append(all, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("scan running tasks: %w", err)
		}
		stamp := store.NewTime(now).String()
		for _, r := range all {
			since, err := store.ParseTime(r.claimed)
			if err != nil || r.timeout <= 0 {
				continue
			}
			// A worker's heartbeat restarts the clock. The later of the two
			// counts: a reset to running re-stamps claimed_at but leaves an
			// older heartbeat behind.
			if beat, err := store.ParseTime(r.beat.String); r.beat.Valid && err == nil && beat.After(since.Time) {
				since = beat
			}
			limit := time.Duration(r.timeout) * time.Second
			switch age := now.Sub(since.Time); {
			case age >= 2*limit:
				// Guard on claimed_at and heartbeat_at so a task completed,
				// re-claimed or heartbeaten since the scan is never overwritten.
				n, err := tx.ExecContext(ctx, `UPDATE tasks SET status = 'failed', error = ?, auto_failed = 1,
					finished_at = ?, updated_at = ? WHERE id = ? AND status = 'running' AND claimed_at = ? AND heartbeat_at IS ?`,
					store.AutoFailError, stamp, stamp, r.id, r.claimed, r.beat)
				if err != nil {
					return fmt.Errorf("auto-fail task %s: %w", r.id, err)
				}
				if k, _ := n.RowsAffected(); k == 1 {
					res.Failed++
					if err := audit(ctx, tx, stamp, "", "task.auto_fail", map[string]any{"task_id": r.id,
						"timeout_seconds": r.timeout, "claimed_at": r.claimed, "error": store.AutoFailError}); err != nil {
						return err
					}
				}
			case age >= limit && !r.warned:
				if _, err := tx.ExecContext(ctx, `UPDATE tasks SET stale_warned_at = ? WHERE id = ? AND status = 'running' AND claimed_at = ? AND heartbeat_at IS ?`,
					stamp, r.id, r.claimed, r.beat); err != nil {
					return fmt.Errorf("warn stale task %s: %w", r.id, err)
				}
				res.Warned++
			}
		}
		return nil
	})
	if res.Failed > 0 {
		s.waits.changedAll() // tasks left running; rare enough to tell every queue
	}
	return res, err
}

// Purge implements store.Store.
func (s *Store) Purge(ctx context.Context, cutoff time.Time, limit int) (n int, err error) {
	if limit <= 0 {
		limit = 10000
	}
	err = s.write(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM tasks WHERE seq IN (SELECT seq FROM tasks
			WHERE status IN ('succeeded','failed') AND finished_at < ? LIMIT ?)`, store.NewTime(cutoff).String(), limit)
		if err != nil {
			return fmt.Errorf("purge tasks: %w", err)
		}
		k, _ := res.RowsAffected()
		n = int(k)
		return nil
	})
	return n, err
}

// Counts implements store.Store.
func (s *Store) Counts(ctx context.Context) (out store.Counts, err error) {
	err = s.read(ctx, func(c *sql.Conn) error {
		return c.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM sessions), (SELECT COUNT(*) FROM queues),
			(SELECT COALESCE(SUM(n_queued), 0) FROM queues), (SELECT COALESCE(SUM(n_running), 0) FROM queues)`).
			Scan(&out.Sessions, &out.Queues, &out.QueuedTasks, &out.RunningTasks)
	})
	if err != nil {
		err = fmt.Errorf("count: %w", err)
	}
	return out, err
}
