package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"

	"github.com/sparkq/sparkq/store"
)

const promptCols = `id, command, label, template_text, description, category, active, created_at, updated_at`

// commandPattern is what a prompt command may look like: it is typed after
// ">" in the dashboard.
const commandPattern = `^[a-z0-9][a-z0-9-]*$`

var commandRe = regexp.MustCompile(commandPattern)

func scanPrompt(row interface{ Scan(...any) error }) (store.Prompt, error) {
	var p store.Prompt
	var desc, category sql.NullString
	var created, updated string
	var active bool
	if err := row.Scan(&p.ID, &p.Command, &p.Label, &p.TemplateText, &desc, &category, &active, &created, &updated); err != nil {
		return p, err
	}
	p.Active = store.IntBool(active)
	p.Description, p.Category = strPtr(desc), strPtr(category)
	p.CreatedAt, p.UpdatedAt = timeVal(created), timeVal(updated)
	return p, nil
}

// getPrompt reports a missing prompt with notFound, as each endpoint words
// it differently.
func getPrompt(ctx context.Context, q querier, id, notFound string) (store.Prompt, error) {
	p, err := scanPrompt(q.QueryRowContext(ctx, `SELECT `+promptCols+` FROM prompts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, store.NotFound("%s", notFound)
	}
	if err != nil {
		return p, fmt.Errorf("get prompt %s: %w", id, err)
	}
	return p, nil
}

// ListPrompts implements store.Catalog.
func (s *Store) ListPrompts(ctx context.Context) (out []store.Prompt, err error) {
	err = s.read(ctx, func(c *sql.Conn) error {
		rows, err := c.QueryContext(ctx, `SELECT `+promptCols+` FROM prompts ORDER BY command`)
		if err != nil {
			return fmt.Errorf("list prompts: %w", err)
		}
		defer rows.Close()
		out = []store.Prompt{}
		for rows.Next() {
			p, err := scanPrompt(rows)
			if err != nil {
				return fmt.Errorf("list prompts: %w", err)
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	return out, err
}

// GetPrompt implements store.Catalog.
func (s *Store) GetPrompt(ctx context.Context, id string) (out store.Prompt, err error) {
	err = s.read(ctx, func(c *sql.Conn) error {
		out, err = getPrompt(ctx, c, id, "Prompt not found")
		return err
	})
	return out, err
}

// CreatePrompt implements store.Catalog; values are stored trimmed.
func (s *Store) CreatePrompt(ctx context.Context, in store.NewPrompt) (out store.Prompt, err error) {
	cmd, ok := text(in.Command)
	if !ok {
		return out, store.Invalid("command", "Command is required")
	}
	label, ok := text(in.Label)
	if !ok {
		return out, store.Invalid("label", "Label is required")
	}
	tmpl, ok := text(in.TemplateText)
	if !ok {
		return out, store.Invalid("template_text", "Template text is required")
	}
	if !commandRe.MatchString(cmd) {
		return out, store.Invalid("command", "Command must match pattern %s", commandPattern)
	}
	err = s.write(ctx, func(tx wtx) error {
		id, now := newID("prm_"), s.stamp()
		_, err := tx.ExecContext(ctx, `INSERT INTO prompts(id, command, label, template_text, description, active, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 1, ?, ?)`, id, cmd, label, tmpl, trimmedOrNil(in.Description), now, now)
		if isUnique(err) {
			return store.Conflict("Prompt command '%s' already exists", cmd)
		}
		if err != nil {
			return fmt.Errorf("create prompt %s: %w", cmd, err)
		}
		out, err = getPrompt(ctx, tx, id, "Prompt not found")
		return err
	})
	return out, err
}

// UpdatePrompt implements store.Catalog.
func (s *Store) UpdatePrompt(ctx context.Context, id string, u store.PromptUpdate) (out store.Prompt, err error) {
	if u.Command == nil && u.Label == nil && u.TemplateText == nil && u.Description == nil && u.Active == nil {
		return out, store.Invalid("", "No fields provided to update prompt")
	}
	var cmd, label, tmpl string
	for _, f := range []struct {
		in    *string
		out   *string
		field string
		empty string
	}{
		{u.Command, &cmd, "command", "Command cannot be empty"},
		{u.Label, &label, "label", "Label cannot be empty"},
		{u.TemplateText, &tmpl, "template_text", "Template text cannot be empty"},
	} {
		if f.in == nil {
			continue
		}
		v, ok := text(*f.in)
		if !ok {
			return out, store.Invalid(f.field, "%s", f.empty)
		}
		*f.out = v
	}
	if u.Command != nil && !commandRe.MatchString(cmd) {
		return out, store.Invalid("command", "Command must match pattern %s", commandPattern)
	}
	notFound := fmt.Sprintf("Prompt %s not found", id)
	err = s.write(ctx, func(tx wtx) error {
		if _, err := getPrompt(ctx, tx, id, notFound); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE prompts SET
			command = CASE WHEN ? THEN ? ELSE command END,
			label = CASE WHEN ? THEN ? ELSE label END,
			template_text = CASE WHEN ? THEN ? ELSE template_text END,
			description = CASE WHEN ? THEN ? ELSE description END,
			active = COALESCE(?, active), updated_at = ? WHERE id = ?`,
			u.Command != nil, cmd, u.Label != nil, label, u.TemplateText != nil, tmpl,
			u.Description != nil, trimmedOrNil(u.Description), boolOrNil(u.Active), s.stamp(), id)
		if isUnique(err) {
			return store.Conflict("Prompt command '%s' already exists", cmd)
		}
		if err != nil {
			return fmt.Errorf("update prompt %s: %w", id, err)
		}
		out, err = getPrompt(ctx, tx, id, notFound)
		return err
	})
	return out, err
}

// DeletePrompt implements store.Catalog.
func (s *Store) DeletePrompt(ctx context.Context, id string) error {
	return s.write(ctx, func(tx wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM prompts WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete prompt %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.NotFound("Prompt %s not found", id)
		}
		return nil
	})
}

// trimmedOrNil stores a trimmed optional text, blank as NULL.
func trimmedOrNil(p *string) any {
	if p == nil {
		return nil
	}
	if v, ok := text(*p); ok {
		return v
	}
	return nil
}

// seedPrompts inserts the built-in prompts.
func seedPrompts(ctx context.Context, tx wtx, now string) error {
	for _, p := range builtinPrompts {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO prompts(id, command, label, template_text, description, category, active, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)`, newID("prm_"), p.command, p.label, p.template, p.description, p.category, now, now); err != nil {
			return fmt.Errorf("seed prompt %s: %w", p.command, err)
		}
	}
	return nil
}
