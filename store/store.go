// Package store defines SparkQ's persistence contract in domain terms: the
// entities, their lifecycle rules and the errors callers can act on. It holds
// no driver code, so light clients (the CLI) can share these types without
// linking a database; backends live in subpackages (store/sqlite).
package store

import (
	"context"
	"encoding/json"
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
	DefaultAgentRoleKey *string
}

// QueueUpdate changes named fields; nil means unchanged.
type QueueUpdate struct {
	Name         *string
	Instructions *string
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
	// EnqueueBatch stores all tasks in one transaction, or none.
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
	// past 2x, counted from their latest claim.
	SweepStale(ctx context.Context, now time.Time) (SweepResult, error)
	// Purge deletes at most limit finished tasks that finished before cutoff.
	Purge(ctx context.Context, cutoff time.Time, limit int) (int, error)
	Counts(ctx context.Context) (Counts, error)

	ListTaskClasses(ctx context.Context) ([]TaskClass, error)
	PutTaskClass(ctx context.Context, c TaskClass) (TaskClass, error)
	DeleteTaskClass(ctx context.Context, name string) error
	ListTools(ctx context.Context) ([]Tool, error)
	PutTool(ctx context.Context, t Tool) (Tool, error)
	DeleteTool(ctx context.Context, name string) error

	Audit(ctx context.Context, actor, action string, details any) error
	ListAudit(ctx context.Context, actionPrefix string, limit int) ([]AuditEntry, error)

	Close() error
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
