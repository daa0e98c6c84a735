package control

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/sparkq/sparkq/daemon/scripts"
	"github.com/sparkq/sparkq/store"
)

// Configuration, prompts, the script index and quick-add: the settings
// side of the API, for `sparkq config-export`, `sparkq prompts`,
// `sparkq scripts` and `sparkq quick-add`.

// Config is GET /api/config: the merged configuration, each top-level
// section as the daemon sent it (tools, task_classes, purge, queue_runner,
// features, defaults, …).
func (c *Client) Config(ctx context.Context) (map[string]json.RawMessage, error) {
	var out map[string]json.RawMessage
	err := c.do(ctx, http.MethodGet, "/api/config", nil, nil, &out)
	return out, err
}

// ListPrompts lists the prompt library (inactive prompts too) by command.
// The list leaves out each prompt's template: GetPrompt has it.
func (c *Client) ListPrompts(ctx context.Context) ([]store.Prompt, error) {
	var out struct{ Prompts []store.Prompt }
	err := c.do(ctx, http.MethodGet, "/api/prompts", nil, nil, &out)
	return out.Prompts, err
}

// GetPrompt fetches a prompt by id.
func (c *Client) GetPrompt(ctx context.Context, id string) (store.Prompt, error) {
	var out struct{ Prompt store.Prompt }
	err := c.do(ctx, http.MethodGet, "/api/prompts/"+esc(id), nil, nil, &out)
	return out.Prompt, err
}

// CreatePrompt adds a prompt; ErrConflict when its command exists.
func (c *Client) CreatePrompt(ctx context.Context, in store.NewPrompt) (store.Prompt, error) {
	var out struct{ Prompt store.Prompt }
	body := map[string]any{"command": in.Command, "label": in.Label, "template_text": in.TemplateText}
	if in.Description != nil {
		body["description"] = *in.Description
	}
	err := c.do(ctx, http.MethodPost, "/api/prompts", nil, body, &out)
	return out.Prompt, err
}

// DeletePrompt deletes a prompt by id.
func (c *Client) DeletePrompt(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/api/prompts/"+esc(id), nil, nil, nil)
}

// ScriptIndex is the daemon's index of the scripts under its script_dirs
// (GET /api/scripts/index), in walk order.
func (c *Client) ScriptIndex(ctx context.Context) ([]scripts.Script, error) {
	var out []scripts.Script
	err := c.do(ctx, http.MethodGet, "/api/scripts/index", nil, nil, &out)
	return out, err
}

// QuickAddRequest is the body of POST /api/tasks/quick-add: Mode "llm"
// needs Prompt (ToolName optional: chosen by the prompt's length), mode
// "script" needs ScriptPath inside a configured script dir.
type QuickAddRequest struct {
	QueueID      string `json:"queue_id"`
	Mode         string `json:"mode"`
	Prompt       string `json:"prompt,omitempty"`
	ToolName     string `json:"tool_name,omitempty"`
	ScriptPath   string `json:"script_path,omitempty"`
	ScriptArgs   string `json:"script_args,omitempty"`
	AgentRoleKey string `json:"agent_role_key,omitempty"`
}

// QuickAdd creates a task the way the dashboard does.
func (c *Client) QuickAdd(ctx context.Context, in QuickAddRequest) (store.Task, error) {
	var out struct{ Task store.Task }
	err := c.do(ctx, http.MethodPost, "/api/tasks/quick-add", nil, in, &out)
	return out.Task, err
}
