package httpd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/julienschmidt/httprouter"

	"github.com/sparkq/sparkq/daemon/scripts"
	"github.com/sparkq/sparkq/store"
)

// POST /api/tasks/quick-add (API.md §6.3): the dashboard's way to add a
// task from a prompt or a script. Deviations:
//   - script_path must resolve (symlinks included) to a file inside a
//     configured script_dirs directory, else 400 naming the allowed dirs;
//     the payload stores the resolved path (GAP 7);
//   - script_args are split like a shell would: '…' and "…" group words,
//     a backslash escapes the next character (GAP 7);
//   - the script header's timeout and task_class are used when present
//     (GAP 55);
//   - a queue default role that no longer exists is ignored and the task is
//     still created (GAP 32);
//   - unknown tools are refused (the store validates every task, GAP 27);
//   - the response's task has the same shape as every other task response.

// llmWordThreshold: prompts with fewer words go to the small model.
const llmWordThreshold = 50

func (s *server) quickAdd(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	ctx := r.Context()
	body, err := readObject(r, false)
	if err != nil {
		return err
	}
	if err := body.only("queue_id", "mode", "prompt", "tool_name", "script_path", "script_args", "agent_role_key"); err != nil {
		return err
	}
	queueID, err := body.requiredStr("queue_id")
	if err != nil {
		return err
	}
	mode, err := body.str("mode")
	if err != nil {
		return err
	}
	if mode == nil {
		return store.Invalid("mode", "mode is required")
	}
	strs := map[string]*string{}
	for _, k := range []string{"prompt", "tool_name", "script_path", "script_args", "agent_role_key"} {
		if strs[k], err = body.str(k); err != nil {
			return err
		}
	}

	q, err := s.store.FindQueue(ctx, queueID, "")
	if err != nil {
		return err
	}
	var role *store.AgentRole
	if q.DefaultAgentRoleKey != nil {
		role, err = s.store.ResolveAgentRole(ctx, *q.DefaultAgentRoleKey, true)
		if isKind(err, store.KindInvalid) {
			s.log.WarnContext(ctx, "quick-add: queue default role is gone, ignoring it", "queue", q.ID, "role", *q.DefaultAgentRoleKey)
			role, err = nil, nil
		}
		if err != nil {
			return err
		}
	}
	if key := strs["agent_role_key"]; key != nil && strings.TrimSpace(*key) != "" {
		if role, err = s.store.ResolveAgentRole(ctx, *key, false); err != nil {
			return err
		}
	}

	var in store.NewTask
	switch *mode {
	case "llm":
		in, err = s.quickLLM(q, role, strs["prompt"], strs["tool_name"])
	case "script":
		in, err = s.quickScript(r, q, strs["script_path"], strs["script_args"])
	default:
		return store.Invalid("mode", "Mode must be 'llm' or 'script'")
	}
	if err != nil {
		return err
	}
	t, err := s.store.Enqueue(ctx, in)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{
		"task_id":     t.ID,
		"friendly_id": store.FriendlyID(t.QueueName, t.ID),
		"tool":        t.ToolName,
		"task_class":  t.TaskClass,
		"timeout":     t.Timeout,
		"task":        newTaskOut(t),
	})
	return nil
}

// llmPayload is the payload of an LLM quick-add, in the original's order.
type llmPayload struct {
	Prompt               string `json:"prompt"`
	RawPrompt            string `json:"raw_prompt"`
	Mode                 string `json:"mode"`
	QueueInstructions    string `json:"queue_instructions,omitempty"`
	AgentRoleKey         string `json:"agent_role_key,omitempty"`
	AgentRoleLabel       string `json:"agent_role_label,omitempty"`
	AgentRoleDescription string `json:"agent_role_description,omitempty"`
}

func (s *server) quickLLM(q store.Queue, role *store.AgentRole, prompt, tool *string) (store.NewTask, error) {
	in := store.NewTask{QueueID: q.ID}
	if prompt == nil || *prompt == "" {
		return in, store.Invalid("prompt", "Prompt required for LLM mode")
	}
	text := strings.TrimSpace(*prompt)
	if text == "" {
		return in, store.Invalid("prompt", "Prompt must not be empty or whitespace")
	}
	switch {
	case tool != nil && strings.TrimSpace(*tool) != "":
		in.ToolName = strings.TrimSpace(*tool) // its registered class applies
	case len(strings.Fields(text)) < llmWordThreshold:
		in.ToolName, in.TaskClass = "llm-haiku", "LLM_LITE"
	default:
		in.ToolName, in.TaskClass = "llm-sonnet", "LLM_HEAVY"
	}
	p := llmPayload{RawPrompt: text, Mode: "chat"}
	if q.Instructions != nil {
		p.QueueInstructions = strings.TrimSpace(*q.Instructions)
	}
	var parts []string
	if role != nil {
		p.AgentRoleKey, p.AgentRoleLabel, p.AgentRoleDescription = role.Key, role.Label, role.Description
		in.AgentRoleKey = &role.Key
		parts = append(parts, strings.TrimSpace(role.Description))
	}
	parts = append(parts, p.QueueInstructions, text)
	p.Prompt = joinNonEmpty(parts, "\n\n")
	b, err := json.Marshal(p)
	if err != nil {
		return in, fmt.Errorf("encode payload: %w", err)
	}
	in.Payload = string(b)
	return in, nil
}

func joinNonEmpty(parts []string, sep string) string {
	kept := parts[:0:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, sep)
}

func (s *server) quickScript(r *http.Request, q store.Queue, path, rawArgs *string) (store.NewTask, error) {
	in := store.NewTask{QueueID: q.ID, TaskClass: "MEDIUM_SCRIPT"}
	if path == nil || *path == "" {
		return in, store.Invalid("script_path", "Script path required for script mode")
	}
	p := strings.TrimSpace(*path)
	if p == "" {
		return in, store.Invalid("script_path", "Script path must not be empty or whitespace")
	}
	dirs := s.yaml().ScriptDirs
	if len(dirs) == 0 {
		return in, store.Invalid("script_path", "No script_dirs are configured: add the folder holding %s to script_dirs in sparkq.yml", p)
	}
	resolved, err := scripts.Resolve(dirs, p)
	switch {
	case errors.Is(err, scripts.ErrOutside):
		return in, store.Invalid("script_path", "script_path %s is outside the configured script_dirs: %s", p, strings.Join(dirs, ", "))
	case errors.Is(err, scripts.ErrNotFound):
		return in, store.Invalid("script_path", "script_path %s was not found in the configured script_dirs: %s", p, strings.Join(dirs, ", "))
	case err != nil:
		return in, err
	}
	var args []string
	if rawArgs != nil {
		if args, err = splitArgs(*rawArgs); err != nil {
			return in, store.Invalid("script_args", "script_args: %v", err)
		}
	}
	if args == nil {
		args = []string{}
	}
	in.ToolName = "run-bash"
	if strings.HasSuffix(p, ".py") {
		in.ToolName = "run-python"
	}
	if f, err := os.Open(resolved); err == nil {
		h := scripts.ParseHeader(f)
		f.Close()
		if h.TaskClass != nil {
			if err := s.checkClass(r, *h.TaskClass); err != nil {
				return in, err
			}
			in.TaskClass = *h.TaskClass
		}
		if h.Timeout != nil && *h.Timeout > 0 {
			in.Timeout = *h.Timeout
		}
	}
	b, err := json.Marshal(struct {
		ScriptPath string   `json:"script_path"`
		Args       []string `json:"args"`
	}{resolved, args})
	if err != nil {
		return in, fmt.Errorf("encode payload: %w", err)
	}
	in.Payload = string(b)
	return in, nil
}

// checkClass refuses a script header naming a class that does not exist.
func (s *server) checkClass(r *http.Request, class string) error {
	classes, err := s.store.ListTaskClasses(r.Context())
	if err != nil {
		return err
	}
	names := make([]string, len(classes))
	for i, c := range classes {
		if c.Name == class {
			return nil
		}
		names[i] = c.Name
	}
	return store.Invalid("script_path", "the script header's task_class %q is not a known task class (known: %s)", class, strings.Join(names, ", "))
}

// splitArgs splits a command line into words like a POSIX shell, without
// expansions: whitespace separates words; '…' keeps everything literally;
// "…" keeps everything except that \" and \\ are escapes; outside quotes a
// backslash makes the next character literal.
func splitArgs(s string) ([]string, error) {
	var out []string
	var word bytes.Buffer
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				out = append(out, word.String())
				word.Reset()
				inWord = false
			}
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("unterminated ' quote")
			}
			word.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				word.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New(`unterminated " quote`)
			}
			inWord = true
		case c == '\\':
			if i+1 == len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			word.WriteByte(s[i])
			inWord = true
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, word.String())
	}
	return out, nil
}
