package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/sparkq/sparkq/store"
)

// DefaultSeed is the built-in configuration: the four task classes and the
// seven default tools.
func DefaultSeed() *Seed {
	seed := &Seed{}
	for name, timeout := range store.DefaultClassTimeouts {
		seed.TaskClasses = append(seed.TaskClasses, store.TaskClass{Name: name, Timeout: timeout})
	}
	for name, class := range store.DefaultTools {
		seed.Tools = append(seed.Tools, store.Tool{Name: name, TaskClass: class})
	}
	return seed
}

// seed fills task classes and tools once, when both tables are empty, so
// later edits are never overwritten by a restart.
func (s *Store) seed(ctx context.Context, seed *Seed) error {
	if seed == nil {
		seed = DefaultSeed()
	}
	return s.write(ctx, func(tx wtx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM task_classes) + (SELECT COUNT(*) FROM tools)`).Scan(&n); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		now := s.stamp()
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO projects(id, name, created_at, updated_at) VALUES (?, 'default', ?, ?)`,
			store.DefaultProjectID, now, now); err != nil {
			return fmt.Errorf("seed project: %w", err)
		}
		if n > 0 {
			return nil
		}
		classes := map[string]bool{}
		for _, c := range seed.TaskClasses {
			if c.Timeout <= 0 {
				return fmt.Errorf("seed task class %s: timeout must be > 0", c.Name)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO task_classes(name, timeout, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
				c.Name, c.Timeout, nullString(c.Description), now, now); err != nil {
				return fmt.Errorf("seed task class %s: %w", c.Name, err)
			}
			classes[c.Name] = true
		}
		for _, t := range seed.Tools {
			if !classes[t.TaskClass] {
				// A tool may name a built-in class the seed left out.
				timeout, ok := store.DefaultClassTimeouts[t.TaskClass]
				if !ok {
					return fmt.Errorf("seed tool %s: task class %q is not defined", t.Name, t.TaskClass)
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO task_classes(name, timeout, created_at, updated_at) VALUES (?, ?, ?, ?)`,
					t.TaskClass, timeout, now, now); err != nil {
					return fmt.Errorf("seed task class %s: %w", t.TaskClass, err)
				}
				classes[t.TaskClass] = true
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO tools(name, description, task_class, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
				t.Name, nullString(t.Description), t.TaskClass, now, now); err != nil {
				return fmt.Errorf("seed tool %s: %w", t.Name, err)
			}
		}
		return nil
	})
}

func (s *Store) loadRegistry(ctx context.Context) error {
	classes, err := s.ListTaskClasses(ctx)
	if err != nil {
		return err
	}
	tools, err := s.ListTools(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.classes = make(map[string]store.TaskClass, len(classes))
	for _, c := range classes {
		s.classes[c.Name] = c
	}
	s.tools = make(map[string]store.Tool, len(tools))
	for _, t := range tools {
		s.tools[t.Name] = t
	}
	return nil
}

// toolNames and classNames need s.mu held.
func (s *Store) toolNames() string  { return sortedKeys(s.tools) }
func (s *Store) classNames() string { return sortedKeys(s.classes) }
func sortedKeys[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return "(none)"
	}
	return strings.Join(keys, ", ")
}

// ListTaskClasses implements store.Store, by name.
func (s *Store) ListTaskClasses(ctx context.Context) (out []store.TaskClass, err error) {
	err = s.read(ctx, func(c *sql.Conn) error {
		rows, err := c.QueryContext(ctx, `SELECT name, timeout, description, created_at, updated_at FROM task_classes ORDER BY name`)
		if err != nil {
			return fmt.Errorf("list task classes: %w", err)
		}
		defer rows.Close()
		out = []store.TaskClass{}
		for rows.Next() {
			var v store.TaskClass
			var desc sql.NullString
			var created, updated string
			if err := rows.Scan(&v.Name, &v.Timeout, &desc, &created, &updated); err != nil {
				return fmt.Errorf("list task classes: %w", err)
			}
			v.Description, v.CreatedAt, v.UpdatedAt = strPtr(desc), timeVal(created), timeVal(updated)
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, err
}

// PutTaskClass implements store.Store (create or replace; see saveTaskClass).
func (s *Store) PutTaskClass(ctx context.Context, c store.TaskClass) (store.TaskClass, error) {
	return s.saveTaskClass(ctx, c, false)
}

// DeleteTaskClass implements store.Store; refused while a tool uses it.
func (s *Store) DeleteTaskClass(ctx context.Context, name string) error {
	err := s.write(ctx, func(tx wtx) error {
		var used int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tools WHERE task_class = ?`, name).Scan(&used); err != nil {
			return fmt.Errorf("delete task class %s: %w", name, err)
		}
		if used > 0 {
			return refuseIfUsed(ctx, tx, name)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM task_classes WHERE name = ?`, name)
		if err != nil {
			return fmt.Errorf("delete task class %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.NotFound("Task class not found: %s", name)
		}
		now := s.stamp()
		if err := writeMirrors(ctx, tx, now, "api"); err != nil {
			return err
		}
		return audit(ctx, tx, now, "api", "task_class.delete", map[string]any{"name": name})
	})
	if err != nil {
		return err
	}
	return s.loadRegistry(ctx)
}

// ListTools implements store.Store, by name.
func (s *Store) ListTools(ctx context.Context) (out []store.Tool, err error) {
	err = s.read(ctx, func(c *sql.Conn) error {
		rows, err := c.QueryContext(ctx, `SELECT name, description, task_class, created_at, updated_at FROM tools ORDER BY name`)
		if err != nil {
			return fmt.Errorf("list tools: %w", err)
		}
		defer rows.Close()
		out = []store.Tool{}
		for rows.Next() {
			var v store.Tool
			var desc sql.NullString
			var created, updated string
			if err := rows.Scan(&v.Name, &desc, &v.TaskClass, &created, &updated); err != nil {
				return fmt.Errorf("list tools: %w", err)
			}
			v.Description, v.CreatedAt, v.UpdatedAt = strPtr(desc), timeVal(created), timeVal(updated)
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, err
}

// PutTool implements store.Store (create or replace; see saveTool).
func (s *Store) PutTool(ctx context.Context, t store.Tool) (store.Tool, error) {
	return s.saveTool(ctx, t, false)
}

// DeleteTool implements store.Store.
func (s *Store) DeleteTool(ctx context.Context, name string) error {
	err := s.write(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM tools WHERE name = ?`, name)
		if err != nil {
			return fmt.Errorf("delete tool %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.NotFound("Tool not found: %s", name)
		}
		now := s.stamp()
		if err := writeMirrors(ctx, tx, now, "api"); err != nil {
			return err
		}
		return audit(ctx, tx, now, "api", "tool.delete", map[string]any{"name": name})
	})
	if err != nil {
		return err
	}
	return s.loadRegistry(ctx)
}

func audit(ctx context.Context, tx wtx, now, actor, action string, details any) error {
	var d any
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			return fmt.Errorf("audit %s: %w", action, err)
		}
		d = string(b)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log(id, actor, action, details, created_at) VALUES (?, ?, ?, ?, ?)`,
		newID("audit_"), nullIfEmpty(actor), action, d, now); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// Audit implements store.Store.
func (s *Store) Audit(ctx context.Context, actor, action string, details any) error {
	return s.write(ctx, func(tx wtx) error { return audit(ctx, tx, s.stamp(), actor, action, details) })
}

// ListAudit implements store.Store, newest first.
func (s *Store) ListAudit(ctx context.Context, prefix string, limit int) (out []store.AuditEntry, err error) {
	if limit <= 0 {
		limit = 50
	}
	err = s.read(ctx, func(c *sql.Conn) error {
		// Escape LIKE wildcards so the prefix is taken literally.
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix)
		rows, err := c.QueryContext(ctx, `SELECT id, actor, action, details, created_at FROM audit_log
			WHERE action LIKE ? ESCAPE '\' ORDER BY created_at DESC, rowid DESC LIMIT ?`, esc+"%", limit)
		if err != nil {
			return fmt.Errorf("list audit: %w", err)
		}
		defer rows.Close()
		out = []store.AuditEntry{}
		for rows.Next() {
			var e store.AuditEntry
			var actor, details sql.NullString
			var created string
			if err := rows.Scan(&e.ID, &actor, &e.Action, &details, &created); err != nil {
				return fmt.Errorf("list audit: %w", err)
			}
			e.Actor, e.CreatedAt = strPtr(actor), timeVal(created)
			if details.Valid && json.Valid([]byte(details.String)) {
				e.Details = json.RawMessage(details.String)
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	return out, err
}
