package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/sparkq/sparkq/store"
)

const roleCols = `id, key, label, description, active, created_at, updated_at`

// roleKeyPattern keeps keys usable in URL paths and on the command line.
var roleKeyPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

func scanRole(row interface{ Scan(...any) error }) (store.AgentRole, error) {
	var r store.AgentRole
	var created, updated string
	if err := row.Scan(&r.ID, &r.Key, &r.Label, &r.Description, &r.Active, &created, &updated); err != nil {
		return r, err
	}
	r.CreatedAt, r.UpdatedAt = timeVal(created), timeVal(updated)
	return r, nil
}

func getRole(ctx context.Context, q querier, key string) (store.AgentRole, error) {
	r, err := scanRole(q.QueryRowContext(ctx, `SELECT `+roleCols+` FROM agent_roles WHERE key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return r, store.NotFound("Agent role not found: %s", key)
	}
	if err != nil {
		return r, fmt.Errorf("get agent role %s: %w", key, err)
	}
	return r, nil
}

// resolveRole applies the role rules shared by queues and tasks (see
// store.Catalog.ResolveAgentRole); field names the input in errors.
func resolveRole(ctx context.Context, q querier, field, key string, allowInactive bool) (*store.AgentRole, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return nil, nil
	}
	r, err := getRole(ctx, q, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, store.Invalid(field, "Agent role not found: %s", key)
	}
	if err != nil {
		return nil, err
	}
	if !r.Active && !allowInactive {
		return nil, store.Invalid(field, "Agent role '%s' is not active", key)
	}
	return &r, nil
}

// ListAgentRoles implements store.Catalog, by label.
func (s *Store) ListAgentRoles(ctx context.Context, activeOnly bool) (out []store.AgentRole, err error) {
	q := `SELECT ` + roleCols + ` FROM agent_roles`
	if activeOnly {
		q += ` WHERE active = 1`
	}
	q += ` ORDER BY label, key`
	err = s.read(ctx, func(c *sql.Conn) error {
		rows, err := c.QueryContext(ctx, q)
		if err != nil {
			return fmt.Errorf("list agent roles: %w", err)
		}
		defer rows.Close()
		out = []store.AgentRole{}
		for rows.Next() {
			r, err := scanRole(rows)
			if err != nil {
				return fmt.Errorf("list agent roles: %w", err)
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}

// GetAgentRole implements store.Catalog.
func (s *Store) GetAgentRole(ctx context.Context, key string) (out store.AgentRole, err error) {
	err = s.read(ctx, func(c *sql.Conn) error {
		out, err = getRole(ctx, c, strings.TrimSpace(key))
		return err
	})
	return out, err
}

// ResolveAgentRole implements store.Catalog.
func (s *Store) ResolveAgentRole(ctx context.Context, key string, allowInactive bool) (out *store.AgentRole, err error) {
	if strings.TrimSpace(key) == "" {
		return nil, nil
	}
	err = s.read(ctx, func(c *sql.Conn) error {
		out, err = resolveRole(ctx, c, "agent_role_key", key, allowInactive)
		return err
	})
	return out, err
}

// CreateAgentRole implements store.Catalog. Values are trimmed before they
// are checked, so whitespace-only input is refused (GAP 33).
func (s *Store) CreateAgentRole(ctx context.Context, in store.NewAgentRole) (out store.AgentRole, err error) {
	key, ok := text(in.Key)
	if !ok {
		return out, store.Invalid("key", "key is required")
	}
	if !roleKeyPattern.MatchString(key) {
		return out, store.Invalid("key", "key must be 1 to 64 letters, digits, '_', '-' or '.', starting with a letter or digit (got %q)", key)
	}
	label, ok := text(in.Label)
	if !ok {
		return out, store.Invalid("label", "label is required")
	}
	desc, ok := text(in.Description)
	if !ok {
		return out, store.Invalid("description", "description is required")
	}
	err = s.write(ctx, func(tx wtx) error {
		now := s.stamp()
		_, err := tx.ExecContext(ctx, `INSERT INTO agent_roles(key, label, description, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
			key, label, desc, in.Active, now, now)
		if isUnique(err) {
			return store.Conflict("Agent role already exists: %s", key)
		}
		if err != nil {
			return fmt.Errorf("create agent role %s: %w", key, err)
		}
		out, err = getRole(ctx, tx, key)
		return err
	})
	return out, err
}

// UpdateAgentRole implements store.Catalog.
func (s *Store) UpdateAgentRole(ctx context.Context, key string, u store.AgentRoleUpdate) (out store.AgentRole, err error) {
	if u.Label == nil && u.Description == nil && u.Active == nil {
		return out, store.Invalid("", "No fields provided to update agent role")
	}
	var label, desc string
	if u.Label != nil {
		var ok bool
		if label, ok = text(*u.Label); !ok {
			return out, store.Invalid("label", "label cannot be empty")
		}
	}
	if u.Description != nil {
		var ok bool
		if desc, ok = text(*u.Description); !ok {
			return out, store.Invalid("description", "description cannot be empty")
		}
	}
	err = s.write(ctx, func(tx wtx) error {
		if _, err := getRole(ctx, tx, key); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE agent_roles SET
			label = CASE WHEN ? THEN ? ELSE label END,
			description = CASE WHEN ? THEN ? ELSE description END,
			active = COALESCE(?, active), updated_at = ? WHERE key = ?`,
			u.Label != nil, label, u.Description != nil, desc, boolOrNil(u.Active), s.stamp(), key)
		if err != nil {
			return fmt.Errorf("update agent role %s: %w", key, err)
		}
		out, err = getRole(ctx, tx, key)
		return err
	})
	return out, err
}

// DeleteAgentRole implements store.Catalog. A role that is some queue's
// default is refused: quick-add on those queues would otherwise name a role
// that no longer exists (GAP 32).
func (s *Store) DeleteAgentRole(ctx context.Context, key string) error {
	return s.write(ctx, func(tx wtx) error {
		if _, err := getRole(ctx, tx, key); err != nil {
			return err
		}
		if err := refuseIfDefault(ctx, tx, key); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM agent_roles WHERE key = ?`, key); err != nil {
			return fmt.Errorf("delete agent role %s: %w", key, err)
		}
		return nil
	})
}

// refuseIfDefault is a conflict naming the queues whose default role is key.
func refuseIfDefault(ctx context.Context, tx wtx, key string) error {
	const show = 10
	rows, err := tx.QueryContext(ctx, `SELECT id, name, COUNT(*) OVER () FROM queues WHERE default_agent_role_key = ? ORDER BY name, id LIMIT ?`, key, show)
	if err != nil {
		return fmt.Errorf("check queues using agent role %s: %w", key, err)
	}
	defer rows.Close()
	var names []string
	total := 0
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name, &total); err != nil {
			return fmt.Errorf("check queues using agent role %s: %w", key, err)
		}
		names = append(names, fmt.Sprintf("%q (%s)", name, id))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check queues using agent role %s: %w", key, err)
	}
	if total == 0 {
		return nil
	}
	list := strings.Join(names, ", ")
	if total > len(names) {
		list += fmt.Sprintf(" and %d more", total-len(names))
	}
	return store.Conflict("Agent role '%s' is the default role of queue(s) %s: change their default_agent_role_key first", key, list)
}

func boolOrNil(p *bool) any {
	if p == nil {
		return nil
	}
	return *p
}

// seedRoles inserts the built-in roles.
func seedRoles(ctx context.Context, tx wtx, now string) error {
	for _, r := range builtinRoles {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO agent_roles(key, label, description, active, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)`,
			r.key, r.label, r.description, now, now); err != nil {
			return fmt.Errorf("seed agent role %s: %w", r.key, err)
		}
	}
	return nil
}
