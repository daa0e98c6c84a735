package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/sparkq/sparkq/store"
)

// The config table holds JSON values by (namespace, key). Two rows mirror
// tables: tools/all and task_classes/all. The tables are the truth; every
// change to them rewrites the mirrors in the same transaction, and writing
// a mirror row rewrites the table.
//
// Rows in the "_seed" namespace are private markers recording which one-time
// seeds ran, so a seed never runs again after users edit or empty a table
// (GAP 30, GAP 31). ListConfig hides them.
const (
	nsTools       = "tools"
	nsTaskClasses = "task_classes"
	keyAll        = "all"
	nsSeed        = "_seed"
)

func isMirror(ns, key string) bool {
	return key == keyAll && (ns == nsTools || ns == nsTaskClasses)
}

// ListConfig implements store.Catalog.
func (s *Store) ListConfig(ctx context.Context) (out []store.ConfigEntry, err error) {
	err = s.read(ctx, func(c *sql.Conn) error {
		rows, err := c.QueryContext(ctx, `SELECT namespace, key, value, updated_at, updated_by FROM config
			WHERE namespace <> ? ORDER BY namespace, key`, nsSeed)
		if err != nil {
			return fmt.Errorf("list config: %w", err)
		}
		defer rows.Close()
		out = []store.ConfigEntry{}
		for rows.Next() {
			var e store.ConfigEntry
			var value, updated string
			var by sql.NullString
			if err := rows.Scan(&e.Namespace, &e.Key, &value, &updated, &by); err != nil {
				return fmt.Errorf("list config: %w", err)
			}
			if json.Valid([]byte(value)) {
				e.Value = json.RawMessage(value)
			} else {
				// Written by something else: hand it over as a string.
				e.Value, _ = json.Marshal(value)
			}
			e.UpdatedAt, e.UpdatedBy = timeVal(updated), strPtr(by)
			out = append(out, e)
		}
		return rows.Err()
	})
	return out, err
}

// PutConfig implements store.Catalog.
func (s *Store) PutConfig(ctx context.Context, ns, key string, value json.RawMessage, actor string) error {
	if !json.Valid(value) {
		return store.Invalid("value", "value must be valid JSON")
	}
	value = compactJSON(value)
	mirror := isMirror(ns, key)
	err := s.write(ctx, func(tx wtx) error {
		now := s.stamp()
		if mirror {
			if err := syncTable(ctx, tx, ns, value, now); err != nil {
				return err
			}
			if err := writeMirrors(ctx, tx, now, actor); err != nil {
				return err
			}
		} else if err := putConfigRow(ctx, tx, ns, key, value, now, actor); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, "config.update."+ns+"."+key, map[string]any{"value": value})
	})
	if err != nil || !mirror {
		return err
	}
	return s.loadRegistry(ctx)
}

// ResetConfig implements store.Catalog. Resetting a mirror row replaces the
// table with the fallback set: entries missing from it are deleted, as in
// the original (GAP 43), but atomically and never a class still in use.
func (s *Store) ResetConfig(ctx context.Context, ns, key string, fallback json.RawMessage, actor string) error {
	mirror := isMirror(ns, key)
	if mirror && !json.Valid(fallback) {
		return store.Invalid("value", "fallback must be valid JSON")
	}
	err := s.write(ctx, func(tx wtx) error {
		now := s.stamp()
		if mirror {
			if err := syncTable(ctx, tx, ns, fallback, now); err != nil {
				return err
			}
			if err := writeMirrors(ctx, tx, now, actor); err != nil {
				return err
			}
		} else if _, err := tx.ExecContext(ctx, `DELETE FROM config WHERE namespace = ? AND key = ?`, ns, key); err != nil {
			return fmt.Errorf("delete config %s/%s: %w", ns, key, err)
		}
		return audit(ctx, tx, now, actor, "config.delete."+ns+"."+key, nil)
	})
	if err != nil || !mirror {
		return err
	}
	return s.loadRegistry(ctx)
}

func putConfigRow(ctx context.Context, tx wtx, ns, key string, value json.RawMessage, now, by string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO config(namespace, key, value, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		ns, key, string(value), now, nullIfEmpty(by))
	if err != nil {
		return fmt.Errorf("write config %s/%s: %w", ns, key, err)
	}
	return nil
}

func compactJSON(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw
	}
	return buf.Bytes()
}

// writeMirrors rewrites tools/all and task_classes/all from the tables.
func writeMirrors(ctx context.Context, tx wtx, now, by string) error {
	type classOut struct {
		Timeout     int     `json:"timeout"`
		Description *string `json:"description"`
	}
	type toolOut struct {
		TaskClass   string  `json:"task_class"`
		Description *string `json:"description"`
	}
	classes := map[string]classOut{}
	tools := map[string]toolOut{}
	rows, err := tx.QueryContext(ctx, `SELECT name, timeout, description FROM task_classes`)
	if err != nil {
		return fmt.Errorf("mirror task classes: %w", err)
	}
	for rows.Next() {
		var name string
		var c classOut
		var desc sql.NullString
		if err := rows.Scan(&name, &c.Timeout, &desc); err != nil {
			rows.Close()
			return fmt.Errorf("mirror task classes: %w", err)
		}
		c.Description = strPtr(desc)
		classes[name] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("mirror task classes: %w", err)
	}
	rows, err = tx.QueryContext(ctx, `SELECT name, task_class, description FROM tools`)
	if err != nil {
		return fmt.Errorf("mirror tools: %w", err)
	}
	for rows.Next() {
		var name string
		var t toolOut
		var desc sql.NullString
		if err := rows.Scan(&name, &t.TaskClass, &desc); err != nil {
			rows.Close()
			return fmt.Errorf("mirror tools: %w", err)
		}
		t.Description = strPtr(desc)
		tools[name] = t
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("mirror tools: %w", err)
	}
	for ns, v := range map[string]any{nsTaskClasses: classes, nsTools: tools} {
		b, err := json.Marshal(v) // map keys are sorted
		if err != nil {
			return fmt.Errorf("mirror %s: %w", ns, err)
		}
		if err := putConfigRow(ctx, tx, ns, keyAll, b, now, by); err != nil {
			return err
		}
	}
	return nil
}

// entrySpec is one entry of a tools/all or task_classes/all value. A
// description that is absent keeps the stored one; null or "" clears it.
type entrySpec struct {
	TaskClass   string
	Timeout     int
	Description *string
	HasDesc     bool
}

// parseEntries decodes a tools/all or task_classes/all value. The API has
// validated it already; this only guards the store's own invariants.
func parseEntries(ns string, raw json.RawMessage) (map[string]entrySpec, error) {
	var m map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, store.Invalid("value", "%s must be an object keyed by name", ns)
	}
	out := make(map[string]entrySpec, len(m))
	for name, fields := range m {
		if strings.TrimSpace(name) != name || name == "" {
			return nil, store.Invalid("value", "%s names must be non-empty and have no surrounding spaces: %q", ns, name)
		}
		var e entrySpec
		if raw, ok := fields["description"]; ok {
			e.HasDesc = true
			if err := json.Unmarshal(raw, &e.Description); err != nil {
				return nil, store.Invalid("value", "%s '%s' description must be a string", ns, name)
			}
		}
		if ns == nsTools {
			if err := json.Unmarshal(fields["task_class"], &e.TaskClass); err != nil || strings.TrimSpace(e.TaskClass) == "" {
				return nil, store.Invalid("value", "tool '%s' missing task_class", name)
			}
		} else {
			if err := json.Unmarshal(fields["timeout"], &e.Timeout); err != nil || e.Timeout <= 0 {
				return nil, store.Invalid("value", "task_class '%s' timeout must be > 0", name)
			}
			if e.Timeout > MaxTimeout {
				return nil, store.Invalid("value", "task_class '%s' timeout must be at most %d seconds", name, MaxTimeout)
			}
		}
		out[name] = e
	}
	return out, nil
}

// syncTable makes the tools or task_classes table equal to value.
func syncTable(ctx context.Context, tx wtx, ns string, value json.RawMessage, now string) error {
	want, err := parseEntries(ns, value)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	table := "tools"
	if ns == nsTaskClasses {
		table = "task_classes"
	}
	have, err := columnStrings(ctx, tx, `SELECT name FROM `+table+` ORDER BY name`)
	if err != nil {
		return fmt.Errorf("sync %s: %w", table, err)
	}
	var drop []string
	for _, n := range have {
		if _, ok := want[n]; !ok {
			drop = append(drop, n)
		}
	}
	if ns == nsTools {
		for _, n := range names {
			e := want[n]
			if err := upsertTool(ctx, tx, n, e.TaskClass, e.Description, e.HasDesc, now); err != nil {
				return err
			}
		}
		for _, n := range drop {
			if _, err := tx.ExecContext(ctx, `DELETE FROM tools WHERE name = ?`, n); err != nil {
				return fmt.Errorf("sync tools: delete %s: %w", n, err)
			}
		}
		return nil
	}
	for _, n := range names {
		e := want[n]
		if err := upsertClass(ctx, tx, n, e.Timeout, e.Description, e.HasDesc, now); err != nil {
			return err
		}
	}
	for _, n := range drop {
		if err := refuseIfUsed(ctx, tx, n); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM task_classes WHERE name = ?`, n); err != nil {
			return fmt.Errorf("sync task classes: delete %s: %w", n, err)
		}
	}
	return nil
}

func columnStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// refuseIfUsed is a conflict when tools still name the class.
func refuseIfUsed(ctx context.Context, q querier, class string) error {
	users, err := columnStrings(ctx, q, `SELECT name FROM tools WHERE task_class = ? ORDER BY name`, class)
	if err != nil {
		return fmt.Errorf("check tools of task class %s: %w", class, err)
	}
	if len(users) > 0 {
		return store.Conflict("Cannot delete task_class in use by tools: %s is used by %s", class, strings.Join(users, ", "))
	}
	return nil
}

// descArg is the description to write: NULL for nil or blank.
func descArg(d *string) any { return trimmedOrNil(d) }

func upsertClass(ctx context.Context, tx wtx, name string, timeout int, desc *string, setDesc bool, now string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO task_classes(name, timeout, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET timeout = excluded.timeout,
			description = CASE WHEN ? THEN excluded.description ELSE task_classes.description END,
			updated_at = excluded.updated_at`,
		name, timeout, descArg(desc), now, now, setDesc)
	if err != nil {
		return fmt.Errorf("write task class %s: %w", name, err)
	}
	return nil
}

func upsertTool(ctx context.Context, tx wtx, name, class string, desc *string, setDesc bool, now string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM task_classes WHERE name = ?`, class).Scan(&n); err != nil {
		return fmt.Errorf("write tool %s: %w", name, err)
	}
	if n == 0 {
		return store.NotFound("task_class '%s' does not exist", class)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO tools(name, description, task_class, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET task_class = excluded.task_class,
			description = CASE WHEN ? THEN excluded.description ELSE tools.description END,
			updated_at = excluded.updated_at`,
		name, descArg(desc), class, now, now, setDesc)
	if err != nil {
		return fmt.Errorf("write tool %s: %w", name, err)
	}
	return nil
}

func exists(ctx context.Context, q querier, query string, args ...any) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}

// saveTaskClass writes one class; create refuses an existing name.
func (s *Store) saveTaskClass(ctx context.Context, c store.TaskClass, create bool) (store.TaskClass, error) {
	name, ok := text(c.Name)
	if !ok {
		return c, store.Invalid("name", "name is required")
	}
	if c.Timeout <= 0 {
		return c, store.Invalid("timeout", "timeout must be > 0")
	}
	if c.Timeout > MaxTimeout {
		return c, store.Invalid("timeout", "timeout must be at most %d seconds", MaxTimeout)
	}
	err := s.write(ctx, func(tx wtx) error {
		found, err := exists(ctx, tx, `SELECT COUNT(*) FROM task_classes WHERE name = ?`, name)
		if err != nil {
			return fmt.Errorf("write task class %s: %w", name, err)
		}
		if found && create {
			return store.Conflict("task_class '%s' already exists", name)
		}
		now := s.stamp()
		if err := upsertClass(ctx, tx, name, c.Timeout, c.Description, c.Description != nil, now); err != nil {
			return err
		}
		if err := writeMirrors(ctx, tx, now, "api"); err != nil {
			return err
		}
		action := "task_class.create"
		if found {
			action = "task_class.update"
		}
		return audit(ctx, tx, now, "api", action, map[string]any{"name": name})
	})
	if err != nil {
		return c, err
	}
	if err := s.loadRegistry(ctx); err != nil {
		return c, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.classes[name], nil
}

// saveTool writes one tool; create refuses an existing name.
func (s *Store) saveTool(ctx context.Context, t store.Tool, create bool) (store.Tool, error) {
	name, ok := text(t.Name)
	if !ok {
		return t, store.Invalid("name", "name is required")
	}
	class, ok := text(t.TaskClass)
	if !ok {
		return t, store.Invalid("task_class", "task_class is required")
	}
	err := s.write(ctx, func(tx wtx) error {
		found, err := exists(ctx, tx, `SELECT COUNT(*) FROM tools WHERE name = ?`, name)
		if err != nil {
			return fmt.Errorf("write tool %s: %w", name, err)
		}
		if found && create {
			return store.Conflict("tool '%s' already exists", name)
		}
		now := s.stamp()
		if err := upsertTool(ctx, tx, name, class, t.Description, t.Description != nil, now); err != nil {
			return err
		}
		if err := writeMirrors(ctx, tx, now, "api"); err != nil {
			return err
		}
		action := "tool.create"
		if found {
			action = "tool.update"
		}
		return audit(ctx, tx, now, "api", action, map[string]any{"name": name})
	})
	if err != nil {
		return t, err
	}
	if err := s.loadRegistry(ctx); err != nil {
		return t, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.tools[name], nil
}

// CreateTaskClass implements store.Catalog.
func (s *Store) CreateTaskClass(ctx context.Context, c store.TaskClass) (store.TaskClass, error) {
	return s.saveTaskClass(ctx, c, true)
}

// CreateTool implements store.Catalog.
func (s *Store) CreateTool(ctx context.Context, t store.Tool) (store.Tool, error) {
	return s.saveTool(ctx, t, true)
}

// seedCatalog runs the one-time seeds of a database: configuration rows
// from sparkq.yml (only keys not yet stored), the built-in agent roles (when
// none exist) and the built-in prompts (when none exist). Each records a
// marker so it never runs again; that is what keeps user edits and
// deletions (GAP 30, GAP 31).
func (s *Store) seedCatalog(ctx context.Context, seed *Seed) error {
	return s.write(ctx, func(tx wtx) error {
		now := s.stamp()
		done := func(what string) (bool, error) {
			return exists(ctx, tx, `SELECT COUNT(*) FROM config WHERE namespace = ? AND key = ?`, nsSeed, what)
		}
		mark := func(what string) error {
			return putConfigRow(ctx, tx, nsSeed, what, json.RawMessage(`"`+now+`"`), now, "seed")
		}
		steps := []struct {
			what string
			run  func() error
		}{
			{"config", func() error {
				if seed != nil {
					for _, e := range seed.Config {
						if isMirror(e.Namespace, e.Key) || strings.HasPrefix(e.Namespace, "_") || !json.Valid(e.Value) {
							continue
						}
						if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO config(namespace, key, value, updated_at, updated_by) VALUES (?, ?, ?, ?, 'seed')`,
							e.Namespace, e.Key, string(compactJSON(e.Value)), now); err != nil {
							return fmt.Errorf("seed config %s/%s: %w", e.Namespace, e.Key, err)
						}
					}
				}
				return writeMirrors(ctx, tx, now, "seed")
			}},
			{"agent_roles", func() error {
				if has, err := exists(ctx, tx, `SELECT COUNT(*) FROM agent_roles`); err != nil || has {
					return err
				}
				return seedRoles(ctx, tx, now)
			}},
			{"prompts", func() error {
				if has, err := exists(ctx, tx, `SELECT COUNT(*) FROM prompts`); err != nil || has {
					return err
				}
				return seedPrompts(ctx, tx, now)
			}},
		}
		for _, st := range steps {
			ok, err := done(st.what)
			if err != nil {
				return fmt.Errorf("seed %s: %w", st.what, err)
			}
			if ok {
				continue
			}
			if err := st.run(); err != nil {
				return err
			}
			if err := mark(st.what); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetCodexSession implements store.Catalog.
func (s *Store) SetCodexSession(ctx context.Context, queueID, sessionID string) (out store.Queue, err error) {
	sid, ok := text(sessionID)
	if !ok {
		return out, store.Invalid("session_id", "session_id is required")
	}
	err = s.write(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE queues SET codex_session_id = ?, updated_at = ? WHERE id = ?`, sid, s.stamp(), queueID)
		if err != nil {
			return fmt.Errorf("set codex session of queue %s: %w", queueID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.NotFound("Queue not found: %s", queueID)
		}
		out, err = getQueue(ctx, tx, queueID)
		return err
	})
	return out, err
}

func readLLMSessions(ctx context.Context, q querier, queueID string) (map[string]json.RawMessage, error) {
	var raw sql.NullString
	err := q.QueryRowContext(ctx, `SELECT llm_sessions FROM queues WHERE id = ?`, queueID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.NotFound("Queue not found: %s", queueID)
	}
	if err != nil {
		return nil, fmt.Errorf("read llm sessions of queue %s: %w", queueID, err)
	}
	m := map[string]json.RawMessage{}
	if raw.Valid {
		// Unreadable text is treated as empty, as the original did.
		if err := json.Unmarshal([]byte(raw.String), &m); err != nil || m == nil {
			m = map[string]json.RawMessage{}
		}
	}
	return m, nil
}

// LLMSessions implements store.Catalog; an unknown queue is not found
// rather than an empty object (GAP 62).
func (s *Store) LLMSessions(ctx context.Context, queueID string) (out json.RawMessage, err error) {
	err = s.read(ctx, func(c *sql.Conn) error {
		m, err := readLLMSessions(ctx, c, queueID)
		if err != nil {
			return err
		}
		out, err = json.Marshal(m)
		return err
	})
	return out, err
}

// PutLLMSession implements store.Catalog. The read-modify-write happens in
// one write transaction, so concurrent updates of different LLMs of the
// same queue cannot lose each other (GAP 14).
func (s *Store) PutLLMSession(ctx context.Context, queueID, llmName string, entry map[string]json.RawMessage) (out json.RawMessage, err error) {
	name, ok := text(llmName)
	if !ok {
		return nil, store.Invalid("llm_name", "llm_name is required")
	}
	err = s.write(ctx, func(tx wtx) error {
		m, err := readLLMSessions(ctx, tx, queueID)
		if err != nil {
			return err
		}
		now := s.stamp()
		e := make(map[string]json.RawMessage, len(entry)+1)
		for k, v := range entry {
			e[k] = v
		}
		e["last_updated"] = json.RawMessage(`"` + now + `"`)
		if out, err = json.Marshal(e); err != nil {
			return fmt.Errorf("encode llm session: %w", err)
		}
		m[name] = out
		all, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("encode llm sessions: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE queues SET llm_sessions = ?, updated_at = ? WHERE id = ?`, string(all), now, queueID); err != nil {
			return fmt.Errorf("write llm sessions of queue %s: %w", queueID, err)
		}
		return nil
	})
	return out, err
}

// modelProfile validates a queue's model profile; "" means "auto".
func modelProfile(p string) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return "auto", nil
	}
	if !slices.Contains(store.ModelProfiles, p) {
		return "", store.Invalid("model_profile", "Invalid model_profile. Must be one of: %s", strings.Join(store.ModelProfiles, ", "))
	}
	return p, nil
}
