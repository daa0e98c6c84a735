package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sparkq/sparkq/store"
)

const queueCols = `id, session_id, name, instructions, codex_session_id, default_agent_role_key, model_profile,
	state, ended, n_queued, n_running, n_succeeded, n_failed, created_at, updated_at, llm_sessions`

func scanQueue(row interface{ Scan(...any) error }) (store.Queue, error) {
	var q store.Queue
	var instr, codex, role, profile, llm sql.NullString
	var created, updated string
	err := row.Scan(&q.ID, &q.SessionID, &q.Name, &instr, &codex, &role, &profile,
		&q.State, &q.Ended, &q.Stats.Queued, &q.Stats.Running, &q.Stats.Succeeded, &q.Stats.Failed, &created, &updated, &llm)
	if err != nil {
		return q, err
	}
	if llm.Valid {
		// Unreadable text reads as no sessions rather than failing the queue.
		q.LLMSessions = json.RawMessage("{}")
		if strings.HasPrefix(strings.TrimSpace(llm.String), "{") && json.Valid([]byte(llm.String)) {
			q.LLMSessions = json.RawMessage(llm.String)
		}
	}
	q.Instructions, q.CodexSessionID, q.DefaultAgentRoleKey, q.ModelProfile = strPtr(instr), strPtr(codex), strPtr(role), strPtr(profile)
	q.Stats.Total = q.Stats.Queued + q.Stats.Running + q.Stats.Succeeded + q.Stats.Failed
	q.CreatedAt, q.UpdatedAt = timeVal(created), timeVal(updated)
	return q, nil
}

func getQueue(ctx context.Context, q querier, id string) (store.Queue, error) {
	v, err := scanQueue(q.QueryRowContext(ctx, `SELECT `+queueCols+` FROM queues WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, store.NotFound("Queue not found: %s", id)
	}
	if err != nil {
		return v, fmt.Errorf("get queue %s: %w", id, err)
	}
	return v, nil
}

// CreateQueue implements store.Store.
func (s *Store) CreateQueue(ctx context.Context, in store.NewQueue) (out store.Queue, err error) {
	name, err := validName("name", "Queue name", in.Name, true)
	if err != nil {
		return out, err
	}
	if _, ok := text(in.SessionID); !ok {
		return out, store.Invalid("session_id", "session_id is required")
	}
	var profile any
	if in.ModelProfile != nil {
		p, err := modelProfile(*in.ModelProfile)
		if err != nil {
			return out, err
		}
		profile = p
	}
	err = s.write(ctx, func(tx wtx) error {
		sess, err := getSession(ctx, tx, in.SessionID)
		if err != nil {
			return err
		}
		if sess.Status != store.SessionActive {
			return store.Conflict("Session %s is ended: queues can only be created in an active session", sess.Name)
		}
		var roleKey any
		if in.DefaultAgentRoleKey != nil {
			// Checked inside the transaction, so the role cannot vanish
			// between the check and the insert.
			role, err := resolveRole(ctx, tx, "default_agent_role_key", *in.DefaultAgentRoleKey, false)
			if err != nil {
				return err
			}
			if role != nil {
				roleKey = role.Key
			}
		}
		id, now := newID("que_"), s.stamp()
		_, err = tx.ExecContext(ctx, `INSERT INTO queues(id, session_id, name, instructions, default_agent_role_key, model_profile, state, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?)`, id, sess.ID, name, nullString(in.Instructions), roleKey, profile, now, now)
		if isUnique(err) {
			return store.Conflict("Queue name must be unique: session %s already has a queue named %q", sess.Name, name)
		}
		if err != nil {
			return fmt.Errorf("create queue: %w", err)
		}
		out, err = getQueue(ctx, tx, id)
		return err
	})
	return out, err
}

// GetQueue implements store.Store.
func (s *Store) GetQueue(ctx context.Context, id string) (out store.Queue, err error) {
	err = s.read(ctx, func(c *sql.Conn) error {
		out, err = getQueue(ctx, c, id)
		return err
	})
	return out, err
}

// FindQueue implements store.Store: an id, else a name (narrowed to one
// session when given); an ambiguous name is a conflict naming the sessions.
func (s *Store) FindQueue(ctx context.Context, idOrName, session string) (out store.Queue, err error) {
	key, ok := text(idOrName)
	if !ok {
		return out, store.Invalid("queue", "queue is required")
	}
	var sessionID string
	if session != "" {
		sess, err := s.FindSession(ctx, session)
		if err != nil {
			return out, err
		}
		sessionID = sess.ID
	}
	err = s.read(ctx, func(c *sql.Conn) error {
		q := `SELECT ` + queueCols + ` FROM queues WHERE (id = ? OR name = ?)`
		args := []any{key, key}
		if sessionID != "" {
			q += ` AND session_id = ?`
			args = append(args, sessionID)
		}
		q += ` ORDER BY id = ? DESC, created_at DESC LIMIT 10`
		args = append(args, key)
		rows, err := c.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("find queue %q: %w", key, err)
		}
		defer rows.Close()
		var found []store.Queue
		for rows.Next() {
			v, err := scanQueue(rows)
			if err != nil {
				return fmt.Errorf("find queue %q: %w", key, err)
			}
			found = append(found, v)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("find queue %q: %w", key, err)
		}
		switch {
		case len(found) == 0:
			return store.NotFound("Queue not found: %s", key)
		case found[0].ID == key || len(found) == 1:
			out = found[0]
			return nil
		}
		// Prefer the one live queue of that name if the others are done.
		var live []store.Queue
		for _, q := range found {
			if q.State == store.QueueActive {
				live = append(live, q)
			}
		}
		if len(live) == 1 {
			out = live[0]
			return nil
		}
		return store.Conflict("%d queues are named %q in different sessions: name the session (--session) or use the queue id", len(found), key)
	})
	return out, err
}

// ListQueues implements store.Store, newest first.
func (s *Store) ListQueues(ctx context.Context, f store.QueueFilter, p store.Page) (out []store.Queue, err error) {
	limit, offset := pageBounds(p, 100, 0)
	q := `SELECT ` + queueCols + ` FROM queues WHERE 1=1`
	var args []any
	if f.SessionID != "" {
		q += ` AND session_id = ?`
		args = append(args, f.SessionID)
	}
	if f.State != "" {
		switch f.State {
		case store.QueueActive, store.QueueEnded, store.QueueArchived:
		default:
			return nil, store.Invalid("status", "Invalid queue status %q: use active, ended or archived", f.State)
		}
		q += ` AND state = ?`
		args = append(args, f.State)
	}
	q += ` ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?`
	args = append(args, limit, offset)
	err = s.read(ctx, func(c *sql.Conn) error {
		rows, err := c.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("list queues: %w", err)
		}
		defer rows.Close()
		out = []store.Queue{}
		for rows.Next() {
			v, err := scanQueue(rows)
			if err != nil {
				return fmt.Errorf("list queues: %w", err)
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, err
}

// UpdateQueue implements store.Store.
func (s *Store) UpdateQueue(ctx context.Context, id string, u store.QueueUpdate) (out store.Queue, err error) {
	if u.Name == nil && u.Instructions == nil && !u.ClearInstructions && u.DefaultAgentRoleKey == nil && u.ModelProfile == nil {
		return out, store.Invalid("name", "No fields provided to update queue")
	}
	var name string
	if u.Name != nil {
		if name, err = validName("name", "Queue name", *u.Name, false); err != nil {
			return out, err
		}
	}
	var profile string
	if u.ModelProfile != nil {
		var err error
		if profile, err = modelProfile(*u.ModelProfile); err != nil {
			return out, err
		}
	}
	err = s.write(ctx, func(tx wtx) error {
		if _, err := getQueue(ctx, tx, id); err != nil {
			return err
		}
		now := s.stamp()
		if u.DefaultAgentRoleKey != nil {
			role, err := resolveRole(ctx, tx, "default_agent_role_key", *u.DefaultAgentRoleKey, false)
			if err != nil {
				return err
			}
			var key any
			if role != nil {
				key = role.Key
			}
			if _, err := tx.ExecContext(ctx, `UPDATE queues SET default_agent_role_key = ?, updated_at = ? WHERE id = ?`, key, now, id); err != nil {
				return fmt.Errorf("update queue %s: %w", id, err)
			}
		}
		if u.ModelProfile != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE queues SET model_profile = ?, updated_at = ? WHERE id = ?`, profile, now, id); err != nil {
				return fmt.Errorf("update queue %s: %w", id, err)
			}
		}
		if u.ClearInstructions && u.Instructions == nil {
			if _, err := tx.ExecContext(ctx, `UPDATE queues SET instructions = NULL, updated_at = ? WHERE id = ?`, now, id); err != nil {
				return fmt.Errorf("update queue %s: %w", id, err)
			}
		}
		if u.Name != nil {
			_, err := tx.ExecContext(ctx, `UPDATE queues SET name = ?, updated_at = ? WHERE id = ?`, name, now, id)
			if isUnique(err) {
				return store.Conflict("Queue name must be unique: this session already has a queue named %q", name)
			}
			if err != nil {
				return fmt.Errorf("update queue %s: %w", id, err)
			}
		}
		if u.Instructions != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE queues SET instructions = ?, updated_at = ? WHERE id = ?`, *u.Instructions, now, id); err != nil {
				return fmt.Errorf("update queue %s: %w", id, err)
			}
		}
		out, err = getQueue(ctx, tx, id)
		return err
	})
	return out, err
}

// EndQueue implements store.Store. An ended queue accepts no new tasks but
// still hands out the ones it has, so workers can drain it.
func (s *Store) EndQueue(ctx context.Context, id string) (store.Queue, error) {
	return s.setQueueState(ctx, id, func(q store.Queue) (string, bool, error) {
		if q.Ended {
			return "", false, store.Conflict("Queue %s is already ended", q.Name)
		}
		if q.State == store.QueueArchived {
			return store.QueueArchived, true, nil
		}
		return store.QueueEnded, true, nil
	})
}

// ArchiveQueue implements store.Store.
func (s *Store) ArchiveQueue(ctx context.Context, id string) (store.Queue, error) {
	return s.setQueueState(ctx, id, func(q store.Queue) (string, bool, error) {
		if q.State == store.QueueArchived {
			return "", false, store.Conflict("Queue %s is already archived", q.Name)
		}
		return store.QueueArchived, q.Ended, nil
	})
}

// UnarchiveQueue implements store.Store; an ended queue stays ended.
func (s *Store) UnarchiveQueue(ctx context.Context, id string) (store.Queue, error) {
	return s.setQueueState(ctx, id, func(q store.Queue) (string, bool, error) {
		if q.State != store.QueueArchived {
			return "", false, store.Conflict("Queue %s is not archived", q.Name)
		}
		if q.Ended {
			return store.QueueEnded, true, nil
		}
		return store.QueueActive, false, nil
	})
}

func (s *Store) setQueueState(ctx context.Context, id string, next func(store.Queue) (string, bool, error)) (out store.Queue, err error) {
	err = s.write(ctx, func(tx wtx) error {
		q, err := getQueue(ctx, tx, id)
		if err != nil {
			return err
		}
		state, ended, err := next(q)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE queues SET state = ?, ended = ?, updated_at = ? WHERE id = ?`, state, ended, s.stamp(), id); err != nil {
			return fmt.Errorf("update queue %s: %w", id, err)
		}
		out, err = getQueue(ctx, tx, id)
		return err
	})
	if err == nil {
		s.queuesChanged(id) // blocked claims may have to end (wait.go)
	}
	return out, err
}

// DeleteQueue implements store.Store; its tasks go with it.
func (s *Store) DeleteQueue(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM queues WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete queue %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.NotFound("Queue not found: %s", id)
		}
		return nil
	})
	if err == nil {
		s.queuesChanged(id) // its blocked claims end with not found
	}
	return err
}
