package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/sparkq/sparkq/store"
)

const sessionCols = `id, project_id, name, description, status, started_at, ended_at, created_at, updated_at`

func scanSession(row interface{ Scan(...any) error }) (store.Session, error) {
	var s store.Session
	var desc, ended sql.NullString
	var started, created, updated string
	if err := row.Scan(&s.ID, &s.ProjectID, &s.Name, &desc, &s.Status, &started, &ended, &created, &updated); err != nil {
		return s, err
	}
	s.Description = strPtr(desc)
	s.StartedAt, s.EndedAt = timeVal(started), timePtr(ended)
	s.CreatedAt, s.UpdatedAt = timeVal(created), timeVal(updated)
	return s, nil
}

func getSession(ctx context.Context, q querier, id string) (store.Session, error) {
	s, err := scanSession(q.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, store.NotFound("Session not found: %s", id)
	}
	if err != nil {
		return s, fmt.Errorf("get session %s: %w", id, err)
	}
	return s, nil
}

// CreateSession implements store.Store.
func (s *Store) CreateSession(ctx context.Context, in store.NewSession) (store.Session, error) {
	name, err := validName("name", "Session name", in.Name, true)
	if err != nil {
		return store.Session{}, err
	}
	var out store.Session
	err = s.write(ctx, func(tx wtx) error {
		now := s.stamp()
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO projects(id, name, created_at, updated_at) VALUES (?, 'default', ?, ?)`,
			store.DefaultProjectID, now, now); err != nil {
			return fmt.Errorf("ensure project: %w", err)
		}
		id := newID("ses_")
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions(`+sessionCols+`) VALUES (?, ?, ?, ?, 'active', ?, NULL, ?, ?)`,
			id, store.DefaultProjectID, name, nullString(in.Description), now, now, now)
		if isUnique(err) {
			return store.Conflict("an active session named %q already exists: pick another name or end it first", name)
		}
		if err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		out, err = getSession(ctx, tx, id)
		return err
	})
	return out, err
}

// GetSession implements store.Store.
func (s *Store) GetSession(ctx context.Context, id string) (out store.Session, err error) {
	err = s.read(ctx, func(c *sql.Conn) error {
		out, err = getSession(ctx, c, id)
		return err
	})
	return out, err
}

// FindSession implements store.Store: an id, else the active session with
// that name, else the only ended one with it.
func (s *Store) FindSession(ctx context.Context, idOrName string) (out store.Session, err error) {
	key, ok := text(idOrName)
	if !ok {
		return out, store.Invalid("session", "session is required")
	}
	err = s.read(ctx, func(c *sql.Conn) error {
		rows, err := c.QueryContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = ? OR name = ?
			ORDER BY id = ? DESC, status = 'active' DESC, started_at DESC LIMIT 3`, key, key, key)
		if err != nil {
			return fmt.Errorf("find session %q: %w", key, err)
		}
		defer rows.Close()
		var found []store.Session
		for rows.Next() {
			v, err := scanSession(rows)
			if err != nil {
				return fmt.Errorf("find session %q: %w", key, err)
			}
			found = append(found, v)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("find session %q: %w", key, err)
		}
		switch {
		case len(found) == 0:
			return store.NotFound("Session not found: %s", key)
		case found[0].ID == key || found[0].Status == store.SessionActive || len(found) == 1:
			out = found[0]
			return nil
		default:
			return store.Conflict("several ended sessions are named %q: use the session id instead", key)
		}
	})
	return out, err
}

// ListSessions implements store.Store, newest first.
func (s *Store) ListSessions(ctx context.Context, f store.SessionFilter, p store.Page) (out []store.Session, err error) {
	limit, offset := pageBounds(p, 100, 0)
	q := `SELECT ` + sessionCols + ` FROM sessions`
	var args []any
	if f.Status != "" {
		if f.Status != store.SessionActive && f.Status != store.SessionEnded {
			return nil, store.Invalid("status", "Invalid session status %q: use active or ended", f.Status)
		}
		q += ` WHERE status = ?`
		args = append(args, f.Status)
	}
	q += ` ORDER BY started_at DESC, rowid DESC LIMIT ? OFFSET ?`
	args = append(args, limit, offset)
	err = s.read(ctx, func(c *sql.Conn) error {
		rows, err := c.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("list sessions: %w", err)
		}
		defer rows.Close()
		out = []store.Session{}
		for rows.Next() {
			v, err := scanSession(rows)
			if err != nil {
				return fmt.Errorf("list sessions: %w", err)
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, err
}

// UpdateSession implements store.Store.
func (s *Store) UpdateSession(ctx context.Context, id string, u store.SessionUpdate) (out store.Session, err error) {
	if u.Name == nil && u.Description == nil {
		return out, store.Invalid("name", "No fields provided to update session")
	}
	var name string
	if u.Name != nil {
		if name, err = validName("name", "Session name", *u.Name, false); err != nil {
			return out, err
		}
	}
	err = s.write(ctx, func(tx wtx) error {
		if _, err := getSession(ctx, tx, id); err != nil {
			return err
		}
		now := s.stamp()
		if u.Name != nil {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET name = ?, updated_at = ? WHERE id = ?`, name, now, id)
			if isUnique(err) {
				return store.Conflict("an active session named %q already exists", name)
			}
			if err != nil {
				return fmt.Errorf("update session %s: %w", id, err)
			}
		}
		if u.Description != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE sessions SET description = ?, updated_at = ? WHERE id = ?`, *u.Description, now, id); err != nil {
				return fmt.Errorf("update session %s: %w", id, err)
			}
		}
		out, err = getSession(ctx, tx, id)
		return err
	})
	return out, err
}

// sessionQueues lists the ids of a session's queues.
func sessionQueues(ctx context.Context, tx wtx, sessionID string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM queues WHERE session_id = ?`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("list queues of session %s: %w", sessionID, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list queues of session %s: %w", sessionID, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list queues of session %s: %w", sessionID, err)
	}
	return ids, nil
}

// EndSession implements store.Store.
func (s *Store) EndSession(ctx context.Context, id string) (out store.Session, err error) {
	var queues []string
	err = s.write(ctx, func(tx wtx) error {
		cur, err := getSession(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.Status == store.SessionEnded {
			return store.Conflict("Session %s is already ended", cur.Name)
		}
		if queues, err = sessionQueues(ctx, tx, id); err != nil {
			return err
		}
		now := s.stamp()
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET status = 'ended', ended_at = ?, updated_at = ? WHERE id = ?`, now, now, id); err != nil {
			return fmt.Errorf("end session %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE queues SET state = 'ended', ended = 1, updated_at = ? WHERE session_id = ? AND state = 'active'`, now, id); err != nil {
			return fmt.Errorf("end queues of session %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE queues SET ended = 1, updated_at = ? WHERE session_id = ? AND state = 'archived'`, now, id); err != nil {
			return fmt.Errorf("end queues of session %s: %w", id, err)
		}
		out, err = getSession(ctx, tx, id)
		return err
	})
	if err == nil {
		s.queuesChanged(queues...) // its queues ended: blocked claims may have to end (wait.go)
	}
	return out, err
}

// DeleteSession implements store.Store; queues and tasks go with it.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	var queues []string
	err := s.write(ctx, func(tx wtx) error {
		var err error
		if queues, err = sessionQueues(ctx, tx, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete session %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.NotFound("Session not found: %s", id)
		}
		return nil
	})
	if err == nil {
		s.queuesChanged(queues...) // blocked claims on its queues end with not found
	}
	return err
}
