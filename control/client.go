package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/sparkq/sparkq/store"
)

// baseURL is a placeholder host: the transport always dials the socket.
const baseURL = "http://sparkq"

const (
	dialTimeout    = 2 * time.Second
	requestTimeout = 60 * time.Second // backstop; callers bound requests with ctx
	maxErrorBody   = 64 << 10
)

// Sentinels for errors.Is on errors returned by Client. *Error also matches
// the store's sentinels of the same kind (store.ErrNotFound, …).
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid request")
	// ErrNotRunning means nothing answers on the control socket.
	ErrNotRunning = errors.New("sparkq is not running — start it with `sparkq start`")
)

// Error is an error response from the daemon.
type Error struct {
	Status  int
	Message string // without the envelope's "Error: " prefix
}

func (e *Error) Error() string { return e.Message }

// Is maps HTTP statuses back to error kinds.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound, store.ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrConflict, store.ErrConflict:
		return e.Status == http.StatusConflict
	case ErrInvalid, store.ErrInvalid:
		return e.Status == http.StatusBadRequest || e.Status == http.StatusRequestEntityTooLarge
	}
	return false
}

// notRunningError keeps the dial failure for errors.Is/As while printing the
// advice users need.
type notRunningError struct{ cause error }

func (e *notRunningError) Error() string   { return ErrNotRunning.Error() }
func (e *notRunningError) Unwrap() []error { return []error{ErrNotRunning, e.cause} }

// Client talks to the daemon over its Unix socket. Its methods mirror the
// store's, in domain types.
type Client struct {
	socket string
	hc     *http.Client
	// poll serves long-polls (ClaimNextWait): same transport, no client
	// timeout; each call sets a deadline of its wait plus pollMargin.
	poll *http.Client
}

// Dial returns a client for the daemon listening on socketPath. It does not
// connect until the first call.
func Dial(socketPath string) *Client {
	dialer := &net.Dialer{Timeout: dialTimeout}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", socketPath)
		},
		MaxIdleConns:       2,
		IdleConnTimeout:    30 * time.Second,
		DisableCompression: true,
	}
	return &Client{socket: socketPath, hc: &http.Client{Transport: tr, Timeout: requestTimeout}, poll: &http.Client{Transport: tr}}
}

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// errNoContent reports a 204 to the caller, which knows what it means.
var errNoContent = errors.New("no content")

// do sends one request. in, when not nil, is the JSON body; out, when not
// nil, receives the JSON response.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	return c.send(ctx, c.hc, method, path, query, in, out)
}

func (c *Client) send(ctx context.Context, hc *http.Client, method, path string, query url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s request: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	u := baseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("build %s %s request: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return &notRunningError{cause: err}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// The daemon went away mid-request (killed, restarting): the write
		// may or may not have been applied.
		return fmt.Errorf("lost the connection to the daemon during %s %s (the change may or may not have been applied; check with `sparkq status`): %w", method, path, err)
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusNoContent:
		return errNoContent
	case resp.StatusCode >= 400:
		return decodeError(resp)
	case out == nil:
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s %s response: %w", method, path, err)
	}
	return nil
}

func decodeError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var env struct {
		Error string `json:"error"`
	}
	msg := http.StatusText(resp.StatusCode)
	if json.Unmarshal(raw, &env) == nil && env.Error != "" {
		msg = env.Error
		if len(msg) > len("Error: ") && msg[:len("Error: ")] == "Error: " {
			msg = msg[len("Error: "):]
		}
	}
	return &Error{Status: resp.StatusCode, Message: msg}
}

func esc(s string) string { return url.PathEscape(s) }

// Status is what GET /control/status reports about the daemon.
type Status struct {
	PID            int             `json:"pid"`
	Version        string          `json:"version"`
	StartedAt      time.Time       `json:"started_at"`
	Uptime         string          `json:"uptime"`
	HTTPAddr       string          `json:"http_addr"`
	Socket         string          `json:"socket"`
	DBPath         string          `json:"db_path"`
	ConfigFile     string          `json:"config_file"`
	ServiceManager string          `json:"service_manager"`
	Counts         store.Counts    `json:"counts"`
	Reaper         json.RawMessage `json:"reaper"`
}

// Health is the body of GET /health.
type Health struct {
	Status    string `json:"status"`
	Timestamp string `json:"timestamp"`
	BuildID   string `json:"build_id"`
}

// Status asks the daemon about itself.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var out Status
	err := c.do(ctx, http.MethodGet, "/control/status", nil, nil, &out)
	return out, err
}

// Shutdown asks the daemon to stop; it returns once the daemon accepted.
func (c *Client) Shutdown(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/control/shutdown", nil, nil, nil)
}

// Reload asks the daemon to re-read its configuration.
func (c *Client) Reload(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/control/reload", nil, nil, nil)
}

// Health checks that the daemon answers.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var out Health
	err := c.do(ctx, http.MethodGet, "/health", nil, nil, &out)
	return out, err
}

func pageQuery(q url.Values, p store.Page) url.Values {
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Offset > 0 {
		q.Set("offset", strconv.Itoa(p.Offset))
	}
	return q
}

// CreateSession starts a session.
func (c *Client) CreateSession(ctx context.Context, in store.NewSession) (store.Session, error) {
	var out struct{ Session store.Session }
	body := map[string]any{"name": in.Name, "description": in.Description}
	err := c.do(ctx, http.MethodPost, "/api/sessions", nil, body, &out)
	return out.Session, err
}

// GetSession finds a session by id or name.
func (c *Client) GetSession(ctx context.Context, idOrName string) (store.Session, error) {
	var out struct{ Session store.Session }
	err := c.do(ctx, http.MethodGet, "/api/sessions/"+esc(idOrName), nil, nil, &out)
	return out.Session, err
}

// ListSessions lists sessions, newest first.
func (c *Client) ListSessions(ctx context.Context, f store.SessionFilter, p store.Page) ([]store.Session, error) {
	q := url.Values{}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	var out struct{ Sessions []store.Session }
	err := c.do(ctx, http.MethodGet, "/api/sessions", pageQuery(q, p), nil, &out)
	return out.Sessions, err
}

// EndSession ends a session and its active queues.
func (c *Client) EndSession(ctx context.Context, id string) (store.Session, error) {
	var out struct{ Session store.Session }
	err := c.do(ctx, http.MethodPut, "/api/sessions/"+esc(id)+"/end", nil, nil, &out)
	return out.Session, err
}

// DeleteSession deletes a session with its queues and tasks.
func (c *Client) DeleteSession(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/api/sessions/"+esc(id), nil, nil, nil)
}

// CreateQueue adds a queue to a session.
func (c *Client) CreateQueue(ctx context.Context, in store.NewQueue) (store.Queue, error) {
	var out struct{ Queue store.Queue }
	body := map[string]any{
		"session_id":             in.SessionID,
		"name":                   in.Name,
		"instructions":           in.Instructions,
		"default_agent_role_key": in.DefaultAgentRoleKey,
	}
	err := c.do(ctx, http.MethodPost, "/api/queues", nil, body, &out)
	return out.Queue, err
}

// GetQueue finds a queue by id or name; session (id or name, may be empty)
// narrows a name used in several sessions.
func (c *Client) GetQueue(ctx context.Context, idOrName, session string) (store.Queue, error) {
	q := url.Values{}
	if session != "" {
		q.Set("session", session)
	}
	var out struct{ Queue store.Queue }
	err := c.do(ctx, http.MethodGet, "/api/queues/"+esc(idOrName), q, nil, &out)
	return out.Queue, err
}

// ListQueues lists queues with their task counts, newest first.
func (c *Client) ListQueues(ctx context.Context, f store.QueueFilter, p store.Page) ([]store.Queue, error) {
	q := url.Values{}
	if f.SessionID != "" {
		q.Set("session_id", f.SessionID)
	}
	if f.State != "" {
		q.Set("state", f.State)
	}
	var out struct{ Queues []store.Queue }
	err := c.do(ctx, http.MethodGet, "/api/queues", pageQuery(q, p), nil, &out)
	return out.Queues, err
}

// UpdateQueue renames a queue or changes its instructions.
func (c *Client) UpdateQueue(ctx context.Context, id string, u store.QueueUpdate) (store.Queue, error) {
	body := map[string]any{}
	if u.Name != nil {
		body["name"] = *u.Name
	}
	if u.Instructions != nil {
		body["instructions"] = *u.Instructions
	}
	var out struct{ Queue store.Queue }
	err := c.do(ctx, http.MethodPut, "/api/queues/"+esc(id), nil, body, &out)
	return out.Queue, err
}

func (c *Client) queueAction(ctx context.Context, id, action string) (store.Queue, error) {
	var out struct{ Queue store.Queue }
	err := c.do(ctx, http.MethodPut, "/api/queues/"+esc(id)+"/"+action, nil, nil, &out)
	return out.Queue, err
}

// EndQueue ends a queue.
func (c *Client) EndQueue(ctx context.Context, id string) (store.Queue, error) {
	return c.queueAction(ctx, id, "end")
}

// ArchiveQueue archives a queue.
func (c *Client) ArchiveQueue(ctx context.Context, id string) (store.Queue, error) {
	return c.queueAction(ctx, id, "archive")
}

// UnarchiveQueue restores an archived queue to its previous state.
func (c *Client) UnarchiveQueue(ctx context.Context, id string) (store.Queue, error) {
	return c.queueAction(ctx, id, "unarchive")
}

// DeleteQueue deletes a queue and its tasks.
func (c *Client) DeleteQueue(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/api/queues/"+esc(id), nil, nil, nil)
}

// EnqueueRequest describes a task to add. Either Payload (a JSON object) is
// given, or the daemon builds the payload from PromptPath, Metadata and
// Prompt.
type EnqueueRequest struct {
	QueueID      string          `json:"queue_id"`
	ToolName     string          `json:"tool_name"`
	TaskClass    string          `json:"task_class,omitempty"`
	Timeout      int             `json:"timeout,omitempty"` // 0: the class's timeout
	AgentRoleKey string          `json:"agent_role_key,omitempty"`
	Payload      json.RawMessage `json:"payload,omitempty"`
	PromptPath   string          `json:"prompt_path,omitempty"`
	Prompt       string          `json:"prompt,omitempty"`
	Metadata     json.RawMessage `json:"metadata,omitempty"`
}

// Enqueue adds a task at the back of its queue.
func (c *Client) Enqueue(ctx context.Context, in EnqueueRequest) (store.Task, error) {
	var out struct{ Task store.Task }
	err := c.do(ctx, http.MethodPost, "/api/tasks", nil, in, &out)
	return out.Task, err
}

// EnqueueBatch adds all tasks or, on any error, none.
func (c *Client) EnqueueBatch(ctx context.Context, in []EnqueueRequest) ([]store.Task, error) {
	var out struct{ Tasks []store.Task }
	err := c.do(ctx, http.MethodPost, "/api/tasks/batch", nil, map[string]any{"tasks": in}, &out)
	return out.Tasks, err
}

// GetTask fetches a task by id.
func (c *Client) GetTask(ctx context.Context, id string) (store.Task, error) {
	var out struct{ Task store.Task }
	err := c.do(ctx, http.MethodGet, "/api/tasks/"+esc(id), nil, nil, &out)
	return out.Task, err
}

// TaskList is one page of ListTasks.
type TaskList struct {
	Tasks []store.Task `json:"tasks"`
	// Truncated is true when more tasks exist than were returned.
	Truncated    bool `json:"truncated"`
	LimitApplied int  `json:"limit_applied"`
	// NextOffset is the offset of the next page, nil on the last one.
	NextOffset *int `json:"next_offset"`
}

// ListTasks lists tasks, newest first. The daemon caps a page at 1000.
func (c *Client) ListTasks(ctx context.Context, f store.TaskFilter, p store.Page) (TaskList, error) {
	q := url.Values{}
	if f.QueueID != "" {
		q.Set("queue_id", f.QueueID)
	}
	if f.SessionID != "" {
		q.Set("session_id", f.SessionID)
	}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	var out TaskList
	err := c.do(ctx, http.MethodGet, "/api/tasks", pageQuery(q, p), nil, &out)
	return out, err
}

// taskCall posts to a task endpoint that answers {"task": …}; a 204 becomes
// a store.ErrEmpty-kind error.
func (c *Client) taskCall(ctx context.Context, method, path string, in any, what string) (store.Task, error) {
	var out struct{ Task store.Task }
	err := c.do(ctx, method, path, nil, in, &out)
	if errors.Is(err, errNoContent) {
		return store.Task{}, store.Empty("%s: no queued tasks", what)
	}
	return out.Task, err
}

// Peek returns the task ClaimNext would claim; store.ErrEmpty when none.
func (c *Client) Peek(ctx context.Context, queueID string) (store.Task, error) {
	return c.taskCall(ctx, http.MethodGet, "/api/queues/"+esc(queueID)+"/peek", nil, "queue "+queueID)
}

// ClaimNext claims the queue's oldest queued task; store.ErrEmpty when none.
func (c *Client) ClaimNext(ctx context.Context, queueID, workerID string) (store.Task, error) {
	return c.taskCall(ctx, http.MethodPost, "/api/queues/"+esc(queueID)+"/claim",
		workerBody(workerID), "queue "+queueID)
}

// pollMargin is how long a long-poll may take beyond its wait before the
// client gives up on the daemon.
const pollMargin = 30 * time.Second

// ClaimNextWait is ClaimNext that, on an empty queue, waits up to wait for
// a task to be enqueued (the daemon bounds wait to 5 minutes). It returns
// store.ErrEmpty when the wait ends without one.
func (c *Client) ClaimNextWait(ctx context.Context, queueID, workerID string, wait time.Duration) (store.Task, error) {
	if wait <= 0 {
		return c.ClaimNext(ctx, queueID, workerID)
	}
	ctx, cancel := context.WithTimeout(ctx, wait+pollMargin)
	defer cancel()
	var out struct{ Task store.Task }
	q := url.Values{"wait": {wait.String()}}
	err := c.send(ctx, c.poll, http.MethodPost, "/api/queues/"+esc(queueID)+"/claim", q, workerBody(workerID), &out)
	if errors.Is(err, errNoContent) {
		return store.Task{}, store.Empty("queue %s: no queued tasks", queueID)
	}
	return out.Task, err
}

// Heartbeat extends a running task's stale deadline. A non-empty workerID
// must be the one that claimed it (ErrConflict otherwise, and when the task
// is not running).
func (c *Client) Heartbeat(ctx context.Context, taskID, workerID string) (store.Lease, error) {
	var out struct{ Lease store.Lease }
	err := c.do(ctx, http.MethodPost, "/api/tasks/"+esc(taskID)+"/heartbeat", nil, workerBody(workerID), &out)
	return out.Lease, err
}

// Release puts a running task back to queued at its old place in the queue.
func (c *Client) Release(ctx context.Context, taskID, workerID string) (store.Task, error) {
	return c.taskCall(ctx, http.MethodPost, "/api/tasks/"+esc(taskID)+"/release", workerBody(workerID), "task "+taskID)
}

// Claim claims a queued task by id; ErrConflict when it is not queued.
func (c *Client) Claim(ctx context.Context, taskID, workerID string) (store.Task, error) {
	return c.taskCall(ctx, http.MethodPost, "/api/tasks/"+esc(taskID)+"/claim",
		workerBody(workerID), "task "+taskID)
}

func workerBody(workerID string) any {
	if workerID == "" {
		return nil
	}
	return map[string]string{"worker_id": workerID}
}

// Complete records a running task's success.
func (c *Client) Complete(ctx context.Context, taskID string, in store.Completion) (store.Task, error) {
	body := map[string]any{
		"result_summary": in.Summary,
		"result_data":    in.Data,
		"stdout":         in.Stdout,
		"stderr":         in.Stderr,
	}
	return c.taskCall(ctx, http.MethodPost, "/api/tasks/"+esc(taskID)+"/complete", body, "task "+taskID)
}

// Fail records a running task's failure.
func (c *Client) Fail(ctx context.Context, taskID string, in store.Failure) (store.Task, error) {
	body := map[string]any{
		"error_message": in.Message,
		"result_data":   in.Data,
		"stdout":        in.Stdout,
		"stderr":        in.Stderr,
	}
	if in.Type != "" {
		body["error_type"] = in.Type
	}
	return c.taskCall(ctx, http.MethodPost, "/api/tasks/"+esc(taskID)+"/fail", body, "task "+taskID)
}

// Requeue clones a finished task into a new queued task at the back.
func (c *Client) Requeue(ctx context.Context, taskID string) (store.Task, error) {
	return c.taskCall(ctx, http.MethodPost, "/api/tasks/"+esc(taskID)+"/requeue", nil, "task "+taskID)
}

// Rerun puts a finished task back to queued in place.
func (c *Client) Rerun(ctx context.Context, taskID string) (store.Task, error) {
	return c.taskCall(ctx, http.MethodPost, "/api/tasks/"+esc(taskID)+"/rerun", nil, "task "+taskID)
}

// Reset recovers an auto-failed task to target ("running" or "queued").
func (c *Client) Reset(ctx context.Context, taskID, target string) (store.Task, error) {
	var body any
	if target != "" {
		body = map[string]string{"target_status": target}
	}
	return c.taskCall(ctx, http.MethodPost, "/api/tasks/"+esc(taskID)+"/reset", body, "task "+taskID)
}

// DeleteTask deletes a task in any status.
func (c *Client) DeleteTask(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/api/tasks/"+esc(id), nil, nil, nil)
}

// ListTools lists the registered tools.
func (c *Client) ListTools(ctx context.Context) ([]store.Tool, error) {
	var out struct{ Tools []store.Tool }
	err := c.do(ctx, http.MethodGet, "/api/tools", nil, nil, &out)
	return out.Tools, err
}

// ListTaskClasses lists the task classes.
func (c *Client) ListTaskClasses(ctx context.Context) ([]store.TaskClass, error) {
	var out struct {
		TaskClasses []store.TaskClass `json:"task_classes"`
	}
	err := c.do(ctx, http.MethodGet, "/api/task-classes", nil, nil, &out)
	return out.TaskClasses, err
}

// PurgeResult is what POST /api/purge did, or with DryRun would do.
type PurgeResult struct {
	OlderThanDays int  `json:"older_than_days"`
	DryRun        bool `json:"dry_run"`
	Deleted       int  `json:"deleted"`
	WouldDelete   int  `json:"would_delete"`
}

// Purge deletes succeeded and failed tasks that finished more than days
// ago (0: the retention in effect on the daemon); with dryRun it only
// counts them.
func (c *Client) Purge(ctx context.Context, days int, dryRun bool) (PurgeResult, error) {
	body := map[string]any{"dry_run": dryRun}
	if days > 0 {
		body["older_than_days"] = days
	}
	var out PurgeResult
	err := c.do(ctx, http.MethodPost, "/api/purge", nil, body, &out)
	return out, err
}
