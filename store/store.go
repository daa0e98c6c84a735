// Package store defines SparkQ's persistence contract in domain terms: the
// entities, their lifecycle rules and the errors callers can act on. It holds
// no driver code, so light clients (the CLI) can share these types without
// linking a database; backends live in subpackages (store/sqlite).
package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Task statuses.
const (
	TaskQueued    = "queued"
	TaskRunning   = "running"
	TaskSucceeded = "succeeded"
	TaskFailed    = "failed"
)

// Session and queue lifecycle states.
const (
	SessionActive = "active"
	SessionEnded  = "ended"

	QueueActive   = "active"
	QueueEnded    = "ended"
	QueueArchived = "archived"
)

// Queue activity (derived from its tasks, never stored).
const (
	ActivityRunning = "active"  // has running tasks
	ActivityPlanned = "planned" // has queued tasks, none running
	ActivityIdle    = "idle"
)

// DefaultProjectID is the project every session belongs to.
const DefaultProjectID = "prj_default"

// AutoFailError is the error text written when the reaper fails a stale task.
const AutoFailError = "TIMEOUT: Task timeout (auto-failed)"

// Session groups queues for one stream of work.
type Session struct {
	ID          string  `json:"id"`
	ProjectID   string  `json:"project_id"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	Status      string  `json:"status"`
	StartedAt   Time    `json:"started_at"`
	EndedAt     *Time   `json:"ended_at"`
	CreatedAt   Time    `json:"created_at"`
	UpdatedAt   Time    `json:"updated_at"`
}

// Queue is a FIFO of tasks inside a session. Names are unique per session.
type Queue struct {
	ID                  string  `json:"id"`
	SessionID           string  `json:"session_id"`
	Name                string  `json:"name"`
	Instructions        *string `json:"instructions"`
	CodexSessionID      *string `json:"codex_session_id"`
	DefaultAgentRoleKey *string `json:"default_agent_role_key"`
	ModelProfile        *string `json:"model_profile"`
	// LLMSessions maps an LLM name to its session entry (null when none).
	LLMSessions json.RawMessage `json:"llm_sessions"`
	// State is the stored lifecycle: active, ended or archived.
	State string `json:"state"`
	// Ended stays true while an ended queue is archived, so unarchiving
	// restores "ended" rather than silently reopening it.
	Ended     bool       `json:"-"`
	Stats     QueueStats `json:"stats"`
	CreatedAt Time       `json:"created_at"`
	UpdatedAt Time       `json:"updated_at"`
}

// Status is what clients display: archived and ended win, otherwise the
// queue's activity (active when something runs, planned when work waits, idle).
func (q Queue) Status() string {
	switch {
	case q.State != QueueActive:
		return q.State
	case q.Stats.Running > 0:
		return ActivityRunning
	case q.Stats.Queued > 0:
		return ActivityPlanned
	default:
		return ActivityIdle
	}
}

// QueueStats counts a queue's tasks by status.
type QueueStats struct {
	Total     int `json:"total"`
	Queued    int `json:"queued"`
	Running   int `json:"running"`
	Succeeded int `json:"done"`
	Failed    int `json:"failed"`
}

// Task is one unit of work. Payload is the JSON object given at enqueue, kept
// as text so it round-trips byte for byte.
type Task struct {
	ID            string  `json:"id"`
	QueueID       string  `json:"queue_id"`
	QueueName     string  `json:"queue_name"`
	ToolName      string  `json:"tool_name"`
	TaskClass     string  `json:"task_class"`
	Payload       string  `json:"payload"`
	AgentRoleKey  *string `json:"agent_role_key"`
	Status        string  `json:"status"`
	Timeout       int     `json:"timeout"`
	Attempts      int     `json:"attempts"`
	WorkerID      *string `json:"worker_id"`
	Result        *string `json:"result"`
	ResultSummary *string `json:"result_summary"`
	Error         *string `json:"error"`
	AutoFailed    bool    `json:"auto_failed"`
	Stdout        *string `json:"stdout"`
	Stderr        *string `json:"stderr"`
	CreatedAt     Time    `json:"created_at"`
	UpdatedAt     Time    `json:"updated_at"`
	StartedAt     *Time   `json:"started_at"`
	ClaimedAt     *Time   `json:"claimed_at"`
	FinishedAt    *Time   `json:"finished_at"`
	StaleWarnedAt *Time   `json:"stale_warned_at"`
}

// TaskClass names a timeout policy.
type TaskClass struct {
	Name        string  `json:"name"`
	Timeout     int     `json:"timeout"`
	Description *string `json:"description"`
	CreatedAt   Time    `json:"created_at"`
	UpdatedAt   Time    `json:"updated_at"`
}

// Tool names something that executes tasks; it belongs to a task class.
type Tool struct {
	Name        string  `json:"name"`
	Description *string `json:"description"`
	TaskClass   string  `json:"task_class"`
	CreatedAt   Time    `json:"created_at"`
	UpdatedAt   Time    `json:"updated_at"`
}

// AuditEntry records a notable change.
type AuditEntry struct {
	ID        string          `json:"id"`
	Actor     *string         `json:"actor"`
	Action    string          `json:"action"`
	Details   json.RawMessage `json:"details"`
	CreatedAt Time            `json:"created_at"`
}

// Counts are database-wide totals.
type Counts struct {
	Sessions     int `json:"sessions"`
	Queues       int `json:"queues"`
	QueuedTasks  int `json:"queued_tasks"`
	RunningTasks int `json:"running_tasks"`
}

// NewSession is the input to CreateSession.
type NewSession struct {
	Name        string
	Description *string
}

// SessionUpdate changes named fields; nil means unchanged.
type SessionUpdate struct {
	Name        *string
	Description *string
}

// NewQueue is the input to CreateQueue.
type NewQueue struct {
	SessionID           string
	Name                string
	Instructions        *string
	DefaultAgentRoleKey *string // must name an active role; nil or blank: none
	ModelProfile        *string // one of ModelProfiles; "" means "auto"
}

// QueueUpdate changes named fields; nil means unchanged.
type QueueUpdate struct {
	Name         *string
	Instructions *string
	// ClearInstructions sets instructions to null (Instructions must be nil).
	ClearInstructions bool
	// DefaultAgentRoleKey: "" clears the default, else an active role's key.
	DefaultAgentRoleKey *string
	// ModelProfile: one of ModelProfiles; "" means "auto".
	ModelProfile *string
}

// NewTask is the input to Enqueue. Timeout 0 means "resolve from the task
// class"; TaskClass "" means "the tool's class".
type NewTask struct {
	QueueID      string
	ToolName     string
	TaskClass    string
	Payload      string
	AgentRoleKey *string
	Timeout      int
}

// TaskUpdate edits a task's definition; nil means unchanged.
type TaskUpdate struct {
	ToolName     *string
	Payload      *string
	Timeout      *int
	AgentRoleKey *string
}

// Completion is the outcome of a successful task.
type Completion struct {
	Summary string
	Data    *string
	Stdout  *string
	Stderr  *string
}

// Failure is the outcome of a failed task.
type Failure struct {
	Message string
	Type    string
	Data    *string // result data (e.g. a report); nil keeps the stored result
	Stdout  *string
	Stderr  *string
}

// SessionFilter narrows ListSessions.
type SessionFilter struct {
	Status string
}

// QueueFilter narrows ListQueues.
type QueueFilter struct {
	SessionID string
	State     string
}

// TaskFilter narrows ListTasks. Empty fields match everything.
type TaskFilter struct {
	QueueID   string
	SessionID string
	Status    string
}

// Page selects a window of a list. Limit 0 means the backend default.
type Page struct {
	Limit  int
	Offset int
}

// TaskPage is one window of ListTasks; More says whether rows follow it.
type TaskPage struct {
	Tasks []Task
	More  bool
}

// SweepResult reports what one stale sweep did.
type SweepResult struct {
	Warned int
	Failed int
}

// Store is everything SparkQ persists. Implementations must make every
// method safe for concurrent use and every state change atomic.
type Store interface {
	CreateSession(ctx context.Context, in NewSession) (Session, error)
	GetSession(ctx context.Context, id string) (Session, error)
	// FindSession resolves an id or a name (active sessions first).
	FindSession(ctx context.Context, idOrName string) (Session, error)
	ListSessions(ctx context.Context, f SessionFilter, p Page) ([]Session, error)
	UpdateSession(ctx context.Context, id string, u SessionUpdate) (Session, error)
	// EndSession ends the session and every queue in it that is still active.
	EndSession(ctx context.Context, id string) (Session, error)
	DeleteSession(ctx context.Context, id string) error

	CreateQueue(ctx context.Context, in NewQueue) (Queue, error)
	GetQueue(ctx context.Context, id string) (Queue, error)
	// FindQueue resolves an id or a name; sessionIDOrName may narrow a name.
	FindQueue(ctx context.Context, idOrName, sessionIDOrName string) (Queue, error)
	ListQueues(ctx context.Context, f QueueFilter, p Page) ([]Queue, error)
	UpdateQueue(ctx context.Context, id string, u QueueUpdate) (Queue, error)
	EndQueue(ctx context.Context, id string) (Queue, error)
	ArchiveQueue(ctx context.Context, id string) (Queue, error)
	UnarchiveQueue(ctx context.Context, id string) (Queue, error)
	DeleteQueue(ctx context.Context, id string) error

	Enqueue(ctx context.Context, in NewTask) (Task, error)
	// EnqueueBatch stores all tasks in one transaction, or none; an error
	// names the task it is about ("tasks[i]: ...", field tasks[i].<field>).
	EnqueueBatch(ctx context.Context, in []NewTask) ([]Task, error)
	GetTask(ctx context.Context, id string) (Task, error)
	ListTasks(ctx context.Context, f TaskFilter, p Page) (TaskPage, error)
	// Peek returns the task ClaimNext would claim, without claiming it.
	Peek(ctx context.Context, queueID string) (Task, error)
	// ClaimNext atomically claims the oldest queued task of a queue; it
	// returns ErrEmpty when there is none.
	ClaimNext(ctx context.Context, queueID, workerID string) (Task, error)
	Claim(ctx context.Context, taskID, workerID string) (Task, error)
	Complete(ctx context.Context, taskID string, c Completion) (Task, error)
	Fail(ctx context.Context, taskID string, f Failure) (Task, error)
	// Requeue clones a finished task into a new queued task at the back.
	Requeue(ctx context.Context, taskID string) (Task, error)
	// Rerun puts a finished task back to queued in place, keeping its position.
	Rerun(ctx context.Context, taskID string) (Task, error)
	// Reset recovers an auto-failed task to running or queued.
	Reset(ctx context.Context, taskID, target string) (Task, error)
	UpdateTask(ctx context.Context, id string, u TaskUpdate) (Task, error)
	DeleteTask(ctx context.Context, id string) error

	// SweepStale warns running tasks past 1x their timeout and fails those
	// past 2x, counted from their latest claim or heartbeat.
	SweepStale(ctx context.Context, now time.Time) (SweepResult, error)
	// Purge deletes at most limit finished tasks that finished before cutoff.
	Purge(ctx context.Context, cutoff time.Time, limit int) (int, error)
	Counts(ctx context.Context) (Counts, error)

	ListTaskClasses(ctx context.Context) ([]TaskClass, error)
	// PutTaskClass creates or replaces a class; a nil Description keeps the
	// current one and "" clears it.
	PutTaskClass(ctx context.Context, c TaskClass) (TaskClass, error)
	DeleteTaskClass(ctx context.Context, name string) error
	ListTools(ctx context.Context) ([]Tool, error)
	// PutTool creates or replaces a tool; Description as in PutTaskClass.
	PutTool(ctx context.Context, t Tool) (Tool, error)
	DeleteTool(ctx context.Context, name string) error

	Audit(ctx context.Context, actor, action string, details any) error
	ListAudit(ctx context.Context, actionPrefix string, limit int) ([]AuditEntry, error)

	// --- workers: blocking claim, heartbeats, release (control/worker) ---
	// ClaimNextWait is ClaimNext that waits up to wait for a task when the
	// queue is empty. Waiting callers of a queue are served in the order they
	// started waiting. It returns ErrEmpty when the wait ends without a task
	// and ctx's error when ctx ends first; wait <= 0 does not wait.
	ClaimNextWait(ctx context.Context, queueID, workerID string, wait time.Duration) (Task, error)
	// Heartbeat tells the stale sweep that a running task's worker is alive:
	// the sweep counts from the later of the claim and the last heartbeat.
	// A non-empty workerID must match the claim's. KindConflict when the
	// task is not running (or is claimed by another worker).
	Heartbeat(ctx context.Context, taskID, workerID string) (Lease, error)
	// Release puts a running task back to queued at its old place in the
	// queue and clears its claim (a worker leaving without finishing it).
	// A non-empty workerID must match the claim's.
	Release(ctx context.Context, taskID, workerID string) (Task, error)
	// --- end workers ---

	// --- dashboard: throughput chart (httpd/ui) ---
	// FinishedPerMinute counts the tasks that finished in [since, until)
	// per UTC minute, oldest first; minutes with none are left out.
	FinishedPerMinute(ctx context.Context, since, until time.Time) ([]MinuteCount, error)
	// --- end dashboard ---

	// --- reaper: purge preview (sparkq purge --dry-run) ---
	// CountPurgeable counts the tasks Purge would delete for cutoff, in all
	// batches: succeeded and failed tasks that finished before cutoff.
	CountPurgeable(ctx context.Context, cutoff time.Time) (int, error)
	// Checkpoint moves committed changes from the write-ahead log into the
	// database file without holding up writers. A long purge calls it
	// between batches, so the writer never has to do that copy itself in
	// the middle of someone's claim.
	Checkpoint(ctx context.Context) error
	// --- end reaper ---

	// --- catalog: agent roles, prompts, config rows, LLM sessions (see Catalog) ---
	Catalog
	// --- end catalog ---

	Close() error
}

// Lease is a running task's claim as the stale sweep sees it after a
// heartbeat: unless another heartbeat comes first, the sweep warns about
// the task from StaleAt and fails it from AutoFailAt.
type Lease struct {
	TaskID      string  `json:"task_id"`
	WorkerID    *string `json:"worker_id"`
	Timeout     int     `json:"timeout"`
	HeartbeatAt Time    `json:"heartbeat_at"`
	StaleAt     Time    `json:"stale_at"`
	AutoFailAt  Time    `json:"auto_fail_at"`
}

// MinuteCount is how many tasks finished in one UTC minute.
type MinuteCount struct {
	Minute    time.Time
	Succeeded int
	Failed    int
}

// FriendlyID is the short display name of a task: QUEUE-abcd.
func FriendlyID(queueName, taskID string) string {
	suffix := taskID
	if len(suffix) > 4 {
		suffix = suffix[len(suffix)-4:]
	}
	return strings.ToUpper(queueName) + "-" + suffix
}

// DefaultClassTimeouts are the built-in per-class timeouts in seconds.
var DefaultClassTimeouts = map[string]int{
	"FAST_SCRIPT":   120,
	"MEDIUM_SCRIPT": 600,
	"LLM_LITE":      480,
	"LLM_HEAVY":     1200,
}

// FallbackTimeout applies when a task's class has no timeout.
const FallbackTimeout = 300

// DefaultTools are seeded when the configuration names none.
var DefaultTools = map[string]string{
	"run-bash":     "MEDIUM_SCRIPT",
	"run-python":   "MEDIUM_SCRIPT",
	"llm-haiku":    "LLM_LITE",
	"llm-sonnet":   "LLM_HEAVY",
	"llm-codex":    "LLM_HEAVY",
	"quick-check":  "FAST_SCRIPT",
	"script-index": "MEDIUM_SCRIPT",
}

// ---- Catalog: agent roles, prompts, configuration rows, queue LLM sessions
// and create-only tools/task classes. Every change to tools or task classes
// (here, PutTool/PutTaskClass/Delete*, and the tools/all and task_classes/all
// config rows) rewrites the mirror config rows and writes an audit entry in
// the same transaction.

// Catalog is the part of Store behind the settings, prompts and roles API.
type Catalog interface {
	ListAgentRoles(ctx context.Context, activeOnly bool) ([]AgentRole, error)
	GetAgentRole(ctx context.Context, key string) (AgentRole, error)
	// ResolveAgentRole applies the role rules of queue and task creation: a
	// blank key is no role (nil, nil); an unknown key, or an inactive one
	// unless allowInactive, is KindInvalid.
	ResolveAgentRole(ctx context.Context, key string, allowInactive bool) (*AgentRole, error)
	CreateAgentRole(ctx context.Context, in NewAgentRole) (AgentRole, error)
	UpdateAgentRole(ctx context.Context, key string, u AgentRoleUpdate) (AgentRole, error)
	// DeleteAgentRole refuses (KindConflict) while a queue uses the role as
	// its default_agent_role_key.
	DeleteAgentRole(ctx context.Context, key string) error

	// ListPrompts returns every prompt (inactive too) by command.
	ListPrompts(ctx context.Context) ([]Prompt, error)
	GetPrompt(ctx context.Context, id string) (Prompt, error)
	CreatePrompt(ctx context.Context, in NewPrompt) (Prompt, error)
	UpdatePrompt(ctx context.Context, id string, u PromptUpdate) (Prompt, error)
	DeletePrompt(ctx context.Context, id string) error

	// CreateTaskClass and CreateTool refuse (KindConflict) an existing name.
	CreateTaskClass(ctx context.Context, c TaskClass) (TaskClass, error)
	CreateTool(ctx context.Context, t Tool) (Tool, error)

	// ListConfig returns the stored configuration rows.
	ListConfig(ctx context.Context) ([]ConfigEntry, error)
	// PutConfig stores one row; the caller validates the value. For
	// tools/all and task_classes/all the tables are made equal to the value
	// in the same transaction: everything changes or nothing does.
	PutConfig(ctx context.Context, namespace, key string, value json.RawMessage, actor string) error
	// ResetConfig deletes a row so readers fall back to sparkq.yml. The
	// tools/all and task_classes/all rows mirror their tables, so for those
	// the tables are synced to fallback instead (same rules as PutConfig).
	ResetConfig(ctx context.Context, namespace, key string, fallback json.RawMessage, actor string) error

	SetCodexSession(ctx context.Context, queueID, sessionID string) (Queue, error)
	// LLMSessions returns the queue's llm_sessions object ({} when none).
	LLMSessions(ctx context.Context, queueID string) (json.RawMessage, error)
	// PutLLMSession replaces one LLM's entry of a queue (stamping
	// last_updated) and returns the stored entry.
	PutLLMSession(ctx context.Context, queueID, llmName string, entry map[string]json.RawMessage) (json.RawMessage, error)
}

// AgentRole is a persona; its description opens prompts composed for it.
type AgentRole struct {
	ID          int64  `json:"id"`
	Key         string `json:"key"`
	Label       string `json:"label"`
	Description string `json:"description"`
	Active      bool   `json:"active"`
	CreatedAt   Time   `json:"created_at"`
	UpdatedAt   Time   `json:"updated_at"`
}

// NewAgentRole is the input to CreateAgentRole.
type NewAgentRole struct {
	Key, Label, Description string
	Active                  bool
}

// AgentRoleUpdate changes named fields; nil means unchanged.
type AgentRoleUpdate struct {
	Label       *string
	Description *string
	Active      *bool
}

// Prompt is a text-expander template (">command" in the dashboard). On the
// wire active is 0 or 1, as the original sent it.
type Prompt struct {
	ID           string  `json:"id"`
	Command      string  `json:"command"`
	Label        string  `json:"label"`
	TemplateText string  `json:"template_text"`
	Description  *string `json:"description"`
	Category     *string `json:"category"`
	Active       IntBool `json:"active"`
	CreatedAt    Time    `json:"created_at"`
	UpdatedAt    Time    `json:"updated_at"`
}

// IntBool is a bool sent as 0 or 1; it also accepts true and false.
type IntBool bool

// MarshalJSON implements json.Marshaler.
func (b IntBool) MarshalJSON() ([]byte, error) {
	if b {
		return []byte("1"), nil
	}
	return []byte("0"), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *IntBool) UnmarshalJSON(raw []byte) error {
	switch string(raw) {
	case "1", "true":
		*b = true
	case "0", "false", "null":
		*b = false
	default:
		return fmt.Errorf("active must be 0, 1, true or false, got %s", raw)
	}
	return nil
}

// NewPrompt is the input to CreatePrompt.
type NewPrompt struct {
	Command, Label, TemplateText string
	Description                  *string
}

// PromptUpdate changes named fields; nil means unchanged. Description ""
// clears it.
type PromptUpdate struct {
	Command, Label, TemplateText, Description *string
	Active                                    *bool
}

// ConfigEntry is one stored configuration value.
type ConfigEntry struct {
	Namespace string          `json:"namespace"`
	Key       string          `json:"key"`
	Value     json.RawMessage `json:"value"`
	UpdatedAt Time            `json:"updated_at"`
	UpdatedBy *string         `json:"updated_by"`
}

// ModelProfiles are the accepted queue model profiles; the queue runner
// shows them, nothing enforces them.
var ModelProfiles = []string{"auto", "haiku-only", "codex-heavy", "sonnet-orchestrated"}
