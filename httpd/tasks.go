package httpd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/julienschmidt/httprouter"

	"github.com/sparkq/sparkq/store"
)

const (
	maxTaskListLimit = 1000
	maxBatchTasks    = 1000
	maxTaskTimeout   = 7 * 24 * 60 * 60 // seconds
	defaultWorkerID  = "api"
)

// taskList is the body of GET /api/tasks.
type taskList struct {
	Tasks []taskOut `json:"tasks"`
	// Truncated is true when the limit was capped or more rows follow.
	Truncated    bool `json:"truncated"`
	LimitApplied int  `json:"limit_applied"`
	MaxLimit     *int `json:"max_limit"`
	NextOffset   *int `json:"next_offset"`
}

func (s *server) listTasks(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	q := r.URL.Query()
	status := q.Get("status")
	if status == "claimed" {
		status = store.TaskRunning // the CLI's historical alias
	}
	switch status {
	case "", store.TaskQueued, store.TaskRunning, store.TaskSucceeded, store.TaskFailed:
	default:
		return store.Invalid("status", "Invalid status filter. Allowed values: claimed, failed, queued, running, succeeded")
	}
	limit, err := queryInt(q, "limit", 100, 1, maxInt)
	if err != nil {
		return err
	}
	offset, err := queryInt(q, "offset", 0, 0, maxInt)
	if err != nil {
		return err
	}
	applied := min(limit, maxTaskListLimit)
	f := store.TaskFilter{QueueID: q.Get("queue_id"), SessionID: q.Get("session_id"), Status: status}
	pg, err := s.store.ListTasks(r.Context(), f, store.Page{Limit: applied, Offset: offset})
	if err != nil {
		return err
	}
	out := taskList{
		Tasks:        newTaskOuts(pg.Tasks),
		Truncated:    limit > maxTaskListLimit || pg.More,
		LimitApplied: applied,
	}
	if limit > maxTaskListLimit {
		capped := maxTaskListLimit
		out.MaxLimit = &capped
	}
	if pg.More {
		next := offset + len(pg.Tasks)
		out.NextOffset = &next
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

func (s *server) createTask(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	body, err := readObject(r, false)
	if err != nil {
		return err
	}
	in, err := parseNewTask(body)
	if err != nil {
		return err
	}
	if err := s.applyRole(r.Context(), &in); err != nil {
		return err
	}
	t, err := s.store.Enqueue(r.Context(), in)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"task": newTaskOut(t)})
	return nil
}

// postTaskPath serves POST /api/tasks/:id, which only exists as the batch
// and quick-add routes; see routes.
func (s *server) postTaskPath(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	switch ps.ByName("id") {
	case "batch":
		return s.createTasks(w, r, ps)
	case "quick-add":
		return s.quickAdd(w, r, ps)
	}
	return methodNotAllowed(w, r)
}

// taskByID guards the GET (and HEAD), PUT and DELETE routes of
// /api/tasks/:id: batch and quick-add share that wildcard but are POST-only
// paths, not task ids.
func taskByID(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
		if postOnlyTaskPath(ps.ByName("id")) {
			return methodNotAllowed(w, r)
		}
		return h(w, r, ps)
	}
}

func postOnlyTaskPath(id string) bool { return id == "batch" || id == "quick-add" }

// taskPathAllow is the Allow header of /api/tasks/<id>. The router would
// list every method of the wildcard's routes, which is wrong for both
// kinds of path behind it: POST serves only batch and quick-add, and the
// other methods only task ids.
func taskPathAllow(path string) (string, bool) {
	id, ok := strings.CutPrefix(path, "/api/tasks/")
	switch {
	case !ok || id == "" || strings.Contains(id, "/"):
		return "", false
	case postOnlyTaskPath(id):
		return "OPTIONS, POST", true
	}
	return "DELETE, GET, HEAD, OPTIONS, PUT", true
}

// methodNotAllowed is the 405 of every route, the router's included. The
// router has set Allow already; only taskPathAllow's paths need another.
func methodNotAllowed(w http.ResponseWriter, r *http.Request) error {
	if allow, ok := taskPathAllow(r.URL.Path); ok {
		w.Header().Set("Allow", allow)
	}
	return errorf(http.StatusMethodNotAllowed, "Method not allowed: %s %s", r.Method, r.URL.Path)
}

// createTasks enqueues a batch: every task is validated first and the store
// writes all of them or none.
func (s *server) createTasks(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	body, err := readObject(r, false)
	if err != nil {
		return err
	}
	if err := body.only("tasks"); err != nil {
		return err
	}
	raw := body.fields["tasks"]
	if jsonKind(raw) != '[' {
		return store.Invalid("tasks", "tasks must be a JSON array")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return store.Invalid("tasks", "tasks must be a JSON array")
	}
	switch {
	case len(items) == 0:
		return store.Invalid("tasks", "tasks must not be empty")
	case len(items) > maxBatchTasks:
		return store.Invalid("tasks", "tasks must contain at most %d items", maxBatchTasks)
	}
	in := make([]store.NewTask, len(items))
	for i, item := range items {
		name := fmt.Sprintf("tasks[%d]", i)
		o, err := parseObject(item, name+".", name)
		if err != nil {
			return err
		}
		if in[i], err = parseNewTask(o); err != nil {
			return err
		}
		if err := s.applyRole(r.Context(), &in[i]); err != nil {
			return batchItemError(i, err)
		}
	}
	ts, err := s.store.EnqueueBatch(r.Context(), in)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, map[string]any{"tasks": newTaskOuts(ts)})
	return nil
}

// batchItemError names the task of a batch that err is about: the
// message says "tasks[i]: " first and the field is the item's.
func batchItemError(i int, err error) error {
	var e *store.Error
	if !errors.As(err, &e) {
		return err
	}
	field := fmt.Sprintf("tasks[%d]", i)
	if e.Field != "" {
		field += "." + e.Field
	}
	return &store.Error{Kind: e.Kind, Field: field, Msg: fmt.Sprintf("tasks[%d]: %s", i, e.Msg)}
}

// parseNewTask reads one enqueue request. A caller either sends a payload
// object or lets the payload be built from prompt_path, metadata and prompt.
func parseNewTask(o object) (store.NewTask, error) {
	var in store.NewTask
	err := o.only("queue_id", "tool_name", "task_class", "timeout", "prompt_path", "metadata",
		"agent_role_key", "payload", "prompt")
	if err != nil {
		return in, err
	}
	if in.QueueID, err = o.requiredStr("queue_id"); err != nil {
		return in, err
	}
	if in.ToolName, err = o.requiredStr("tool_name"); err != nil {
		return in, err
	}
	in.ToolName = strings.TrimSpace(in.ToolName)
	class, err := o.str("task_class")
	if err != nil {
		return in, err
	}
	if class != nil {
		in.TaskClass = strings.TrimSpace(*class)
	}
	timeout, err := o.int("timeout", 1, maxTaskTimeout)
	if err != nil {
		return in, err
	}
	if timeout != nil {
		in.Timeout = *timeout
	}
	role, err := o.str("agent_role_key")
	if err != nil {
		return in, err
	}
	if role != nil && strings.TrimSpace(*role) != "" {
		key := strings.TrimSpace(*role)
		in.AgentRoleKey = &key
	}

	promptPath, err := o.str("prompt_path")
	if err != nil {
		return in, err
	}
	metadata, err := o.jsonObject("metadata")
	if err != nil {
		return in, err
	}
	prompt, err := o.str("prompt")
	if err != nil {
		return in, err
	}
	if raw := o.fields["payload"]; !isNull(raw) {
		// Tasks are read back with payload as a string, so accept that form
		// too: a task read from the API can be posted again as it is.
		p, err := updatedPayload(raw)
		if err != nil {
			return in, store.Invalid(o.name("payload"), "%s must be a JSON object", o.name("payload"))
		}
		if promptPath != nil || metadata != nil || prompt != nil {
			return in, store.Invalid(o.name("payload"), "%s cannot be combined with prompt_path, metadata or prompt", o.name("payload"))
		}
		in.Payload = p
		return in, nil
	}
	built, err := json.Marshal(struct {
		PromptPath *string         `json:"prompt_path"`
		Metadata   json.RawMessage `json:"metadata"`
		Prompt     *string         `json:"prompt,omitempty"`
	}{promptPath, metadata, prompt})
	if err != nil {
		return in, fmt.Errorf("build payload: %w", err)
	}
	in.Payload = string(built)
	return in, nil
}

func (s *server) getTask(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	t, err := s.store.GetTask(r.Context(), ps.ByName("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"task": newTaskOut(t)})
	return nil
}

func (s *server) updateTask(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	body, err := readObject(r, false)
	if err != nil {
		return err
	}
	if len(body.fields) == 0 {
		return store.Invalid("", "Update body must be a non-empty object")
	}
	if body.has("status") {
		return store.Invalid("status", "Status updates are not allowed. Use claim/complete/fail/requeue endpoints.")
	}
	if err := body.only("tool_name", "payload", "timeout", "agent_role_key"); err != nil {
		return err
	}
	var u store.TaskUpdate
	if u.ToolName, err = body.str("tool_name"); err != nil {
		return err
	}
	if u.ToolName != nil {
		name := strings.TrimSpace(*u.ToolName)
		if name == "" {
			return store.Invalid("tool_name", "tool_name cannot be empty")
		}
		u.ToolName = &name
	}
	if body.has("payload") {
		p, err := updatedPayload(body.fields["payload"])
		if err != nil {
			return err
		}
		u.Payload = &p
	}
	if u.Timeout, err = body.int("timeout", 1, maxTaskTimeout); err != nil {
		return err
	}
	if body.has("agent_role_key") {
		role, err := body.str("agent_role_key")
		if err != nil {
			return err
		}
		key := "" // null or blank clears the role
		if role != nil {
			key = strings.TrimSpace(*role)
		}
		u.AgentRoleKey = &key
	}
	t, err := s.store.UpdateTask(r.Context(), ps.ByName("id"), u)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"task": newTaskOut(t)})
	return nil
}

// updatedPayload accepts a payload as a JSON object or, as the original
// edit dialog sends it, as a string holding a JSON object.
func updatedPayload(raw json.RawMessage) (string, error) {
	switch jsonKind(raw) {
	case '{':
		return string(bytes.TrimSpace(raw)), nil
	case '"':
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return "", store.Invalid("payload", "payload must be a JSON object")
		}
		text = strings.TrimSpace(text)
		if text == "" {
			return "", store.Invalid("payload", "payload cannot be empty")
		}
		if !json.Valid([]byte(text)) || jsonKind([]byte(text)) != '{' {
			return "", store.Invalid("payload", "payload must be a JSON object")
		}
		return text, nil
	}
	return "", store.Invalid("payload", "payload must be a JSON object")
}

func (s *server) deleteTask(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	if err := s.store.DeleteTask(r.Context(), ps.ByName("id")); err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"message": "Task deleted"})
	return nil
}

// workerID reads the optional {"worker_id"} claim body; a claim without
// one is recorded as defaultWorkerID.
func workerID(r *http.Request) (string, error) {
	id, err := optionalWorker(r)
	if err != nil || id != "" {
		return id, err
	}
	return defaultWorkerID, nil
}

func (s *server) claimTask(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	worker, err := workerID(r)
	if err != nil {
		return err
	}
	t, err := s.store.Claim(r.Context(), ps.ByName("id"), worker)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"task": newClaimedTaskOut(t)})
	return nil
}

func (s *server) completeTask(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	body, err := readObject(r, false)
	if err != nil {
		return err
	}
	if err := body.only("result_summary", "result_data", "stdout", "stderr"); err != nil {
		return err
	}
	var c store.Completion
	if c.Summary, err = body.requiredStr("result_summary"); err != nil {
		return err
	}
	if c.Data, err = resultData(body); err != nil {
		return err
	}
	if c.Stdout, err = body.str("stdout"); err != nil {
		return err
	}
	if c.Stderr, err = body.str("stderr"); err != nil {
		return err
	}
	t, err := s.store.Complete(r.Context(), ps.ByName("id"), c)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"task": newTaskOut(t)})
	return nil
}

// resultData reads the optional result_data: any JSON value; non-strings are
// kept as JSON text.
func resultData(body object) (*string, error) {
	raw := body.fields["result_data"]
	if isNull(raw) {
		return nil, nil
	}
	data := string(compact(raw))
	if jsonKind(raw) == '"' {
		if err := json.Unmarshal(raw, &data); err != nil {
			return nil, store.Invalid("result_data", "result_data must be valid JSON")
		}
	}
	return &data, nil
}

func (s *server) failTask(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	body, err := readObject(r, false)
	if err != nil {
		return err
	}
	if err := body.only("error_message", "error_type", "result_data", "stdout", "stderr"); err != nil {
		return err
	}
	var f store.Failure
	if f.Message, err = body.requiredStr("error_message"); err != nil {
		return err
	}
	if f.Data, err = resultData(body); err != nil {
		return err
	}
	typ, err := body.str("error_type")
	if err != nil {
		return err
	}
	if typ != nil {
		f.Type = strings.TrimSpace(*typ)
	}
	if f.Stdout, err = body.str("stdout"); err != nil {
		return err
	}
	if f.Stderr, err = body.str("stderr"); err != nil {
		return err
	}
	t, err := s.store.Fail(r.Context(), ps.ByName("id"), f)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"task": newTaskOut(t)})
	return nil
}

func (s *server) resetTask(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	body, err := readObject(r, true)
	if err != nil {
		return err
	}
	if err := body.only("target_status"); err != nil {
		return err
	}
	target := store.TaskRunning
	v, err := body.str("target_status")
	if err != nil {
		return err
	}
	if v != nil {
		target = strings.ToLower(strings.TrimSpace(*v))
	}
	if target != store.TaskRunning && target != store.TaskQueued {
		return store.Invalid("target_status", "target_status must be 'running' or 'queued'")
	}
	t, err := s.store.Reset(r.Context(), ps.ByName("id"), target)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"task": newTaskOut(t)})
	return nil
}

// requeueTask serves requeue and its alias retry: clone to the back.
func (s *server) requeueTask(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	t, err := s.store.Requeue(r.Context(), ps.ByName("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"task": newTaskOut(t)})
	return nil
}

// rerunTask puts a finished task back in place.
func (s *server) rerunTask(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	t, err := s.store.Rerun(r.Context(), ps.ByName("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"task": newTaskOut(t)})
	return nil
}
