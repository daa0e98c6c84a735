package openapigen

import "net/http"

const (
	get  = http.MethodGet
	post = http.MethodPost
	put  = http.MethodPut
	del  = http.MethodDelete

	notFound = http.StatusNotFound
	conflict = http.StatusConflict
)

// Reused pieces.
var (
	sessionID = pathParam("id", "Session id (ses_…) or, for GET, its name.")
	queueID   = pathParam("id", "Queue id (que_…).")
	taskID    = pathParam("id", "Task id (tsk_…).")

	taskResp    = wrap("task", ref("Task"))
	claimedResp = wrap("task", ref("ClaimedTask"))
	queueResp   = wrap("queue", ref("Queue"))
	sessionResp = wrap("session", ref("Session"))
	configResp  = object(m{"status": enum("ok"), "config": ref("Config")})
	okStatus    = object(m{"status": enum("ok")})

	modelProfile = withDesc(m{"type": []string{"string", "null"}, "enum": []any{"auto", "haiku-only", "codex-heavy", "sonnet-orchestrated", "", nil}},
		`null or "" means auto.`)

	workerBody = input(nil, m{"worker_id": withDesc(str(), `Stored as the task's worker_id; default "api".`)})
)

func html(desc string) resp {
	return resp{"description": desc, "content": m{"text/html": m{"schema": str()}}}
}

func redirect(to string) string { return "Redirect (307) to " + to + "." }

// operations lists every route of the API (API.md §2–§11 plus SparkQ's
// additions). Keep it in the order of the router in httpd.go.
func operations() []op {
	return []op{
		// ---- system & static (§2) ----
		{method: get, path: "/", id: "root", tag: "dashboard", summary: "Redirect to the dashboard",
			ok: map[int]any{307: redirect("/ui/")}, public: true},
		{method: get, path: "/ui", id: "uiRedirect", tag: "dashboard", summary: "Redirect to /ui/",
			ok: map[int]any{307: redirect("/ui/")}, public: true},
		{method: get, path: "/ui/{file}", id: "uiAsset", tag: "dashboard", summary: "Dashboard page and assets",
			desc:   "`/ui/` is the dashboard; other paths (which may contain slashes) are its scripts, styles and images.",
			params: []m{pathParam("file", "Asset path below /ui/.")},
			ok:     map[int]any{200: resp{"description": "The file.", "content": m{"*/*": m{}}}},
			errs:   []int{notFound}, public: true},
		{method: get, path: "/dashboard", id: "dashboardPage", tag: "dashboard", summary: "Dashboard (deep link)",
			ok: map[int]any{200: html("The dashboard page.")}, public: true},
		{method: get, path: "/settings", id: "settingsPage", tag: "dashboard", summary: "Dashboard settings (deep link)",
			ok: map[int]any{200: html("The dashboard page.")}, public: true},
		{method: get, path: "/ui-cache-buster.js", id: "uiCacheBuster", tag: "dashboard", summary: "Dashboard build id script",
			desc: "Assigns window.__SPARKQ_ENV__, __SPARKQ_CACHE_BUSTER__, __SPARKQ_BUILD_ID__ and __BUILD_ID__.",
			ok:   map[int]any{200: resp{"description": "JavaScript.", "content": m{"application/javascript": m{"schema": str()}}}}, public: true},
		{method: get, path: "/health", id: "health", tag: "system", summary: "Liveness",
			ok: map[int]any{200: ref("Health")}, public: true},
		{method: get, path: "/api/version", id: "version", tag: "system", summary: "Build id",
			ok: map[int]any{200: ref("Version")}},
		{method: get, path: "/stats", id: "stats", tag: "system", summary: "Row counts",
			ok: map[int]any{200: ref("Counts")}},
		{method: get, path: "/api/events", id: "events", tag: "dashboard", summary: "Live changes (server-sent events)",
			desc: "A text/event-stream: each event has `id: <seq>`, `event: <type>` and `data: <Event JSON>`. " +
				"After a `resync` event the stream ends: re-read what you show and reconnect.",
			ok:   map[int]any{200: resp{"description": "The stream.", "content": m{"text/event-stream": m{"schema": ref("Event")}}}},
			errs: []int{http.StatusServiceUnavailable}},
		{method: get, path: "/api/stats/throughput", id: "throughput", tag: "dashboard", summary: "Finished tasks per minute",
			params: []m{query("minutes", "Window, current minute last.", m{"type": "integer", "minimum": 1, "maximum": 1440, "default": 60})},
			ok:     map[int]any{200: ref("Throughput")}, errs: []int{http.StatusBadRequest}},
		{method: get, path: "/api/build-prompts", id: "listBuildPrompts", tag: "prompts", summary: "Prompt files in _build/prompts",
			ok: map[int]any{200: wrap("prompts", arrayOf(object(m{"name": str(), "path": str()})))}},
		{method: get, path: "/openapi.json", id: "openapi", tag: "docs", summary: "This document",
			ok: map[int]any{200: typ("object")}, public: true},
		{method: get, path: "/docs", id: "docsPage", tag: "docs", summary: "Interactive API reference (Swagger UI, offline)",
			ok: map[int]any{200: html("The viewer page.")}, public: true},
		{method: get, path: "/docs/{file}", id: "docsAsset", tag: "docs", summary: "Viewer assets",
			params: []m{pathParam("file", "Asset path below /docs/.")},
			ok:     map[int]any{200: resp{"description": "The file.", "content": m{"*/*": m{}}}},
			errs:   []int{notFound}, public: true},
		{method: get, path: "/redoc", id: "redoc", tag: "docs", summary: "Redirect to /docs",
			ok: map[int]any{307: redirect("/docs")}, public: true},

		// ---- sessions (§3) ----
		{method: get, path: "/api/sessions", id: "listSessions", tag: "sessions", summary: "List sessions, newest first",
			params: []m{limitParam(100, 0), offsetParam, query("status", "Only sessions in this status.", enum("active", "ended"))},
			ok:     map[int]any{200: wrap("sessions", arrayOf(ref("Session")))}, errs: []int{http.StatusBadRequest}},
		{method: post, path: "/api/sessions", id: "createSession", tag: "sessions", summary: "Create a session",
			desc: "Answers 200 (not 201), as the original did. Names of active sessions are unique (409).",
			body: input([]string{"name"}, m{"name": str(), "description": str()}),
			ok:   map[int]any{200: sessionResp}, errs: []int{conflict}},
		{method: get, path: "/api/sessions/{id}", id: "getSession", tag: "sessions", summary: "Get a session by id or name",
			params: []m{sessionID}, ok: map[int]any{200: sessionResp}, errs: []int{notFound}},
		{method: put, path: "/api/sessions/{id}", id: "updateSession", tag: "sessions", summary: "Rename or redescribe a session",
			params: []m{sessionID}, body: input(nil, m{"name": str(), "description": str()}),
			ok: map[int]any{200: sessionResp}, errs: []int{notFound, conflict}},
		{method: del, path: "/api/sessions/{id}", id: "deleteSession", tag: "sessions", summary: "Delete a session with its queues and tasks",
			params: []m{sessionID}, ok: map[int]any{200: ref("Message")}, errs: []int{notFound}},
		{method: put, path: "/api/sessions/{id}/end", id: "endSession", tag: "sessions", summary: "End a session (and its queues)",
			params: []m{sessionID}, ok: map[int]any{200: object(m{"message": str(), "session": ref("Session")})}, errs: []int{notFound}},

		// ---- agent roles (§4) ----
		{method: get, path: "/api/agent-roles", id: "listAgentRoles", tag: "agent-roles", summary: "List agent roles by label",
			params: []m{query("active_only", "Leave out inactive roles.", m{"type": "boolean", "default": true})},
			ok:     map[int]any{200: wrap("roles", arrayOf(ref("AgentRole")))}, errs: []int{http.StatusBadRequest}},
		{method: post, path: "/api/agent-roles", id: "createAgentRole", tag: "agent-roles", summary: "Create an agent role",
			body: input([]string{"key", "label", "description"}, m{"key": str(), "label": str(), "description": str(), "active": boolean()}),
			ok:   map[int]any{200: wrap("role", ref("AgentRole"))}, errs: []int{conflict}},
		{method: put, path: "/api/agent-roles/{key}", id: "updateAgentRole", tag: "agent-roles", summary: "Update an agent role",
			params: []m{pathParam("key", "Role key.")},
			body:   input(nil, m{"label": str(), "description": str(), "active": boolean()}),
			ok:     map[int]any{200: wrap("role", ref("AgentRole"))}, errs: []int{notFound}},
		{method: del, path: "/api/agent-roles/{key}", id: "deleteAgentRole", tag: "agent-roles", summary: "Delete an agent role",
			params: []m{pathParam("key", "Role key.")}, ok: map[int]any{200: ref("Message")}, errs: []int{notFound, conflict}},

		// ---- queues (§5) ----
		{method: get, path: "/api/queues", id: "listQueues", tag: "queues", summary: "List queues, newest first, with stats",
			params: []m{query("session_id", "Only this session's queues.", str()),
				query("state", "Only queues in this stored state.", enum("active", "ended", "archived")),
				limitParam(100, 0), offsetParam},
			ok: map[int]any{200: wrap("queues", arrayOf(ref("Queue")))}, errs: []int{http.StatusBadRequest}},
		{method: post, path: "/api/queues", id: "createQueue", tag: "queues", summary: "Create a queue in a session",
			body: input([]string{"session_id", "name"}, m{"session_id": str(), "name": str(), "instructions": str(),
				"default_agent_role_key": withDesc(str(), "Must name an active agent role; blank means none."), "model_profile": modelProfile}),
			ok: map[int]any{201: queueResp}, errs: []int{notFound, conflict}},
		{method: get, path: "/api/queues/{id}", id: "getQueue", tag: "queues", summary: "Get a queue by id or name",
			params: []m{pathParam("id", "Queue id (que_…) or name."), query("session", "Session id or name, to pick among queues of the same name.", str())},
			ok:     map[int]any{200: queueResp}, errs: []int{notFound, conflict}},
		{method: put, path: "/api/queues/{id}", id: "updateQueue", tag: "queues", summary: "Change a queue's name, instructions, default role or model profile",
			params: []m{queueID}, body: input(nil, m{
				"name":                   withDesc(orNull(str()), "null: unchanged."),
				"instructions":           withDesc(orNull(str()), "null clears them."),
				"default_agent_role_key": withDesc(orNull(str()), "null or blank clears the role."),
				"model_profile":          modelProfile,
			}),
			ok: map[int]any{200: queueResp}, errs: []int{notFound, conflict}},
		{method: del, path: "/api/queues/{id}", id: "deleteQueue", tag: "queues", summary: "Delete a queue and its tasks",
			params: []m{queueID}, ok: map[int]any{200: ref("Message")}, errs: []int{notFound}},
		{method: put, path: "/api/queues/{id}/end", id: "endQueue", tag: "queues", summary: "End a queue: no new tasks, queued ones drain",
			params: []m{queueID}, ok: map[int]any{200: object(m{"message": str(), "queue": ref("Queue")})}, errs: []int{notFound}},
		{method: put, path: "/api/queues/{id}/archive", id: "archiveQueue", tag: "queues", summary: "Archive a queue",
			params: []m{queueID}, ok: map[int]any{200: object(m{"message": str(), "queue": ref("Queue")})}, errs: []int{notFound}},
		{method: put, path: "/api/queues/{id}/unarchive", id: "unarchiveQueue", tag: "queues", summary: "Unarchive a queue (an ended queue stays ended)",
			params: []m{queueID}, ok: map[int]any{200: object(m{"message": str(), "queue": ref("Queue")})}, errs: []int{notFound}},
		{method: post, path: "/api/queues/{id}/claim", id: "claimNext", tag: "queues", summary: "Claim the queue's oldest queued task",
			desc: "Atomic FIFO claim: each task is handed out exactly once, however many workers ask at the same time. " +
				"With ?wait the request waits (long-poll) for a task to be enqueued before answering 204. " +
				"A wait ends early when the queue is archived (409) or deleted (404), and answers 409 at once " +
				"when the queue is ended with nothing queued or running, as no task can arrive there.",
			params: []m{queueID, query("wait", `How long to wait for a task: a duration ("30s") or seconds, at most 5m; default 0.`, str())},
			body:   workerBody, bodyOptional: true,
			ok: map[int]any{200: claimedResp, 204: "The queue has no queued task."}, errs: []int{notFound, conflict}},
		{method: get, path: "/api/queues/{id}/peek", id: "peek", tag: "queues", summary: "Show the task claim would hand out",
			params: []m{queueID}, ok: map[int]any{200: taskResp, 204: "The queue has no queued task."}, errs: []int{notFound}},
		{method: post, path: "/api/queues/{id}/codex-session", id: "setCodexSession", tag: "queues", summary: "Record the queue's Codex session",
			params: []m{queueID}, body: input([]string{"session_id"}, m{"session_id": str()}),
			ok:   map[int]any{200: object(m{"status": enum("ok"), "queue_id": str(), "codex_session_id": str()})},
			errs: []int{notFound}},
		{method: get, path: "/api/queues/{id}/llm-sessions", id: "getLLMSessions", tag: "queues", summary: "The queue's LLM sessions",
			params: []m{queueID}, ok: map[int]any{200: object(m{"queue_id": str(), "llm_sessions": typ("object")})}, errs: []int{notFound}},
		{method: put, path: "/api/queues/{id}/llm-sessions/{llm_name}", id: "setLLMSession", tag: "queues", summary: "Record one LLM session of the queue",
			params: []m{queueID, pathParam("llm_name", "LLM name, e.g. claude.")},
			body:   input([]string{"session_id"}, m{"session_id": str(), "metadata": typ("object")}),
			ok: map[int]any{200: object(m{"status": enum("ok"), "queue_id": str(), "llm_name": str(),
				"session_data": withDesc(typ("object"), "{session_id, …metadata}")})},
			errs: []int{notFound}},

		// ---- tasks (§6) ----
		{method: get, path: "/api/tasks", id: "listTasks", tag: "tasks", summary: "List tasks, newest first",
			params: []m{query("queue_id", "Only this queue's tasks.", str()),
				query("session_id", "Only tasks of this session's queues.", str()),
				query("status", `Only tasks in this status ("claimed" means running).`, enum("queued", "running", "succeeded", "failed", "claimed")),
				query("limit", "Page size; values above 1000 are capped (truncated: true, max_limit: 1000).", m{"type": "integer", "minimum": 1, "default": 100}),
				offsetParam},
			ok: map[int]any{200: ref("TaskList")}, errs: []int{http.StatusBadRequest}},
		{method: post, path: "/api/tasks", id: "createTask", tag: "tasks", summary: "Enqueue a task",
			desc: "Answers 200 (not 201), as the original did. Ended or archived queues refuse new tasks (409).",
			body: ref("NewTask"), ok: map[int]any{200: taskResp}, errs: []int{notFound, conflict}},
		{method: post, path: "/api/tasks/batch", id: "createTasks", tag: "tasks", summary: "Enqueue up to 1000 tasks at once (all or none)",
			body: input([]string{"tasks"}, m{"tasks": m{"type": "array", "minItems": 1, "maxItems": 1000, "items": ref("NewTask")}}),
			ok:   map[int]any{201: wrap("tasks", arrayOf(ref("Task")))}, errs: []int{notFound, conflict}},
		{method: post, path: "/api/tasks/quick-add", id: "quickAdd", tag: "tasks", summary: "Enqueue from a prompt or a script (the dashboard's quick add)",
			body: input([]string{"queue_id", "mode"}, m{
				"queue_id":       str(),
				"mode":           enum("llm", "script"),
				"prompt":         withDesc(str(), "llm mode: the prompt."),
				"tool_name":      withDesc(str(), "llm mode: default by prompt length (llm-haiku < 50 words ≤ llm-sonnet)."),
				"script_path":    withDesc(str(), "script mode: the script."),
				"script_args":    withDesc(str(), "script mode: arguments separated by spaces."),
				"agent_role_key": withDesc(str(), "llm mode: role for this task; default the queue's."),
			}),
			ok: map[int]any{200: object(m{"task_id": str(), "friendly_id": str(), "tool": str(), "task_class": str(),
				"timeout": integer(), "task": ref("Task")})},
			errs: []int{notFound, conflict}},
		{method: get, path: "/api/tasks/{id}", id: "getTask", tag: "tasks", summary: "Get a task",
			params: []m{taskID}, ok: map[int]any{200: taskResp}, errs: []int{notFound}},
		{method: put, path: "/api/tasks/{id}", id: "updateTask", tag: "tasks", summary: "Edit a task's tool, payload, timeout or role",
			desc:   "status cannot be changed here: use claim, complete, fail, requeue, rerun or reset.",
			params: []m{taskID},
			body: input(nil, m{
				"tool_name":      str(),
				"payload":        withDesc(m{"type": []string{"object", "string"}}, "A JSON object, or a string holding one."),
				"timeout":        m{"type": "integer", "minimum": 1, "maximum": 604800},
				"agent_role_key": withDesc(orNull(str()), "null or blank clears the role."),
			}),
			ok: map[int]any{200: taskResp}, errs: []int{notFound, conflict}},
		{method: del, path: "/api/tasks/{id}", id: "deleteTask", tag: "tasks", summary: "Delete a task (any status)",
			params: []m{taskID}, ok: map[int]any{200: ref("Message")}, errs: []int{notFound}},
		{method: post, path: "/api/tasks/{id}/claim", id: "claimTask", tag: "tasks", summary: "Claim this queued task",
			params: []m{taskID}, body: workerBody, bodyOptional: true,
			ok: map[int]any{200: claimedResp}, errs: []int{notFound, conflict}},
		{method: post, path: "/api/tasks/{id}/complete", id: "completeTask", tag: "tasks", summary: "Complete a running task",
			desc:   "An auto-failed task (stale claim) can still be completed by its worker.",
			params: []m{taskID},
			body: input([]string{"result_summary"}, m{
				"result_summary": str(),
				"result_data":    withDesc(m{}, "Any JSON value; stored as result (non-strings as JSON text)."),
				"stdout":         str(),
				"stderr":         str(),
			}),
			ok: map[int]any{200: taskResp}, errs: []int{notFound, conflict}},
		{method: post, path: "/api/tasks/{id}/fail", id: "failTask", tag: "tasks", summary: "Fail a running task",
			params: []m{taskID},
			body: input([]string{"error_message"}, m{
				"error_message": str(),
				"error_type":    withDesc(str(), `Stored as "<error_type>: <error_message>".`),
				"stdout":        str(),
				"stderr":        str(),
			}),
			ok: map[int]any{200: taskResp}, errs: []int{notFound, conflict}},
		{method: post, path: "/api/tasks/{id}/reset", id: "resetTask", tag: "tasks", summary: "Recover an auto-failed task",
			params: []m{taskID}, body: input(nil, m{"target_status": m{"type": "string", "enum": []string{"running", "queued"}, "default": "running"}}),
			bodyOptional: true, ok: map[int]any{200: taskResp}, errs: []int{notFound, conflict}},
		{method: post, path: "/api/tasks/{id}/heartbeat", id: "heartbeatTask", tag: "tasks", summary: "Extend a running task's stale deadline",
			desc:   "Workers on long tasks call this well within the task's timeout. With worker_id the task must be claimed by that worker (409 otherwise).",
			params: []m{taskID}, body: input(nil, m{"worker_id": str()}), bodyOptional: true,
			ok: map[int]any{200: wrap("lease", ref("Lease"))}, errs: []int{notFound, conflict}},
		{method: post, path: "/api/tasks/{id}/release", id: "releaseTask", tag: "tasks", summary: "Give a running task back (queued, at its old place)",
			params: []m{taskID}, body: input(nil, m{"worker_id": withDesc(str(), "When set, the task must be claimed by this worker.")}), bodyOptional: true,
			ok: map[int]any{200: object(m{"message": str(), "task": ref("Task")})}, errs: []int{notFound, conflict}},
		{method: post, path: "/api/tasks/{id}/requeue", id: "requeueTask", tag: "tasks", summary: "Clone a finished task to the back of its queue",
			params: []m{taskID}, ok: map[int]any{200: wrap("task", withDesc(ref("Task"), "The new task."))}, errs: []int{notFound, conflict}},
		{method: post, path: "/api/tasks/{id}/retry", id: "retryTask", tag: "tasks", summary: "Same as requeue",
			params: []m{taskID}, ok: map[int]any{200: taskResp}, errs: []int{notFound, conflict}},
		{method: post, path: "/api/tasks/{id}/rerun", id: "rerunTask", tag: "tasks", summary: "Put a finished task back in its place in the queue",
			params: []m{taskID}, ok: map[int]any{200: taskResp}, errs: []int{notFound, conflict}},

		// ---- audit (§7) ----
		{method: get, path: "/api/audit", id: "listAudit", tag: "system", summary: "Audit log, newest first",
			params: []m{query("action_prefix", "Only actions starting with this.", str()),
				query("limit", "Rows.", m{"type": "integer", "minimum": 1, "maximum": 200, "default": 50})},
			ok: map[int]any{200: wrap("logs", arrayOf(ref("AuditEntry")))}, errs: []int{http.StatusBadRequest}},

		// ---- configuration (§8) ----
		{method: get, path: "/api/config", id: "getConfig", tag: "config", summary: "The merged configuration",
			ok: map[int]any{200: ref("Config")}},
		{method: put, path: "/api/config/{namespace}/{key}", id: "putConfig", tag: "config", summary: "Store one configuration value",
			desc: "Supported pairs: purge/config, queue_runner/config, tools/all, task_classes/all, ui/build_id, features/flags, defaults/queue, defaults/model.\n\n" +
				"The value replaces the stored one. Structured values accept only their known keys; any other key is a 400 naming it and the known keys, and nothing is stored:\n" +
				"- purge/config: `{older_than_days}` (required integer, 1–36500). `purge.interval` is a sparkq.yml setting only.\n" +
				"- queue_runner/config: `{poll_interval?, auto_fail_interval_seconds?, base_url?}` (positive integers; an http(s) URL). " +
				"A key left out or null is not stored and falls back on its own to sparkq.yml, then the default; GET /api/config shows every key with the value in effect. " +
				"To change one key and keep the others stored, send them all. `lock_dir` is a sparkq.yml setting only.\n" +
				"- tools/all: `{<name>: {task_class, description?}}`; task_classes/all: `{<name>: {timeout, description?}}`. They replace the tables.",
			params: []m{pathParam("namespace", "e.g. purge."), pathParam("key", "e.g. config.")},
			body:   input([]string{"value"}, m{"value": withDesc(m{}, "Validated per pair.")}),
			ok:     map[int]any{200: configResp}, errs: []int{notFound, conflict}},
		{method: del, path: "/api/config/{namespace}/{key}", id: "deleteConfig", tag: "config", summary: "Drop a stored value (back to sparkq.yml)",
			params: []m{pathParam("namespace", "e.g. purge."), pathParam("key", "e.g. config.")},
			ok:     map[int]any{200: configResp}, errs: []int{http.StatusBadRequest, conflict}},
		{method: post, path: "/api/config/validate", id: "validateConfig", tag: "config", summary: "Dry-run validation of values",
			body: input([]string{"value"}, m{"value": withDesc(typ("object"), "{namespace: {key: value}}")}),
			ok:   map[int]any{200: okStatus}},
		{method: post, path: "/api/purge", id: "purge", tag: "system", summary: "Delete finished tasks older than N days",
			desc: "Deletes succeeded and failed tasks that finished more than older_than_days ago, in bounded batches. " +
				"With dry_run it only counts them (would_delete instead of deleted).",
			body: input(nil, m{
				"older_than_days": withDesc(m{"type": "integer", "minimum": 1, "maximum": 36500},
					"Default: the retention in effect (purge/config row, else sparkq.yml purge.older_than_days, else 3)."),
				"dry_run": withDesc(m{"type": "boolean", "default": false}, "Count, delete nothing."),
			}), bodyOptional: true,
			ok: map[int]any{200: m{"type": "object", "required": []string{"dry_run", "message", "older_than_days", "status"},
				"properties": m{"status": enum("ok"), "message": str(), "older_than_days": integer(), "dry_run": boolean(),
					"deleted":      withDesc(integer(), "Tasks deleted (without dry_run)."),
					"would_delete": withDesc(integer(), "Tasks a purge would delete (dry_run only)."),
				}}}},
		{method: post, path: "/api/reload", id: "reload", tag: "config", summary: "Re-read sparkq.yml",
			ok: map[int]any{200: ref("StatusMessage")}, errs: []int{http.StatusBadRequest}},

		// ---- task classes & tools (§9) ----
		{method: get, path: "/api/task-classes", id: "listTaskClasses", tag: "registry", summary: "List task classes",
			ok: map[int]any{200: wrap("task_classes", arrayOf(ref("TaskClass")))}},
		{method: post, path: "/api/task-classes", id: "createTaskClass", tag: "registry", summary: "Create a task class",
			body: input([]string{"name", "timeout"}, m{"name": str(), "timeout": m{"type": "integer", "minimum": 1}, "description": str()}),
			ok:   map[int]any{201: wrap("task_class", ref("TaskClass"))}, errs: []int{conflict}},
		{method: put, path: "/api/task-classes/{name}", id: "updateTaskClass", tag: "registry", summary: "Update a task class",
			params: []m{pathParam("name", "Class name.")},
			body:   input([]string{"timeout"}, m{"name": str(), "timeout": m{"type": "integer", "minimum": 1}, "description": str()}),
			ok:     map[int]any{200: wrap("task_class", ref("TaskClass"))}, errs: []int{notFound, conflict}},
		{method: del, path: "/api/task-classes/{name}", id: "deleteTaskClass", tag: "registry", summary: "Delete an unused task class",
			params: []m{pathParam("name", "Class name.")}, ok: map[int]any{200: okStatus}, errs: []int{notFound, conflict}},
		{method: get, path: "/api/tools", id: "listTools", tag: "registry", summary: "List tools",
			ok: map[int]any{200: wrap("tools", arrayOf(ref("Tool")))}},
		{method: post, path: "/api/tools", id: "createTool", tag: "registry", summary: "Create a tool",
			body: input([]string{"name", "task_class"}, m{"name": str(), "task_class": str(), "description": str()}),
			ok:   map[int]any{201: wrap("tool", ref("Tool"))}, errs: []int{notFound, conflict}},
		{method: put, path: "/api/tools/{name}", id: "updateTool", tag: "registry", summary: "Update a tool",
			params: []m{pathParam("name", "Tool name.")},
			body:   input([]string{"task_class"}, m{"name": str(), "task_class": str(), "description": str()}),
			ok:     map[int]any{200: wrap("tool", ref("Tool"))}, errs: []int{notFound, conflict}},
		{method: del, path: "/api/tools/{name}", id: "deleteTool", tag: "registry", summary: "Delete a tool",
			params: []m{pathParam("name", "Tool name.")}, ok: map[int]any{200: okStatus}, errs: []int{notFound}},

		// ---- prompts (§10) ----
		{method: get, path: "/api/prompts", id: "listPrompts", tag: "prompts", summary: "List prompt templates (or prompt files)",
			params: []m{query("source", "db (default) lists templates without template_text; build/file/files lists the file names in _build/prompts.",
				enum("db", "build", "file", "files"))},
			ok: map[int]any{200: wrap("prompts", m{"oneOf": []m{arrayOf(ref("PromptSummary")), arrayOf(str())}})}},
		{method: post, path: "/api/prompts", id: "createPrompt", tag: "prompts", summary: "Create a prompt template",
			body: input([]string{"command", "label", "template_text"}, m{"command": m{"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
				"label": str(), "template_text": str(), "description": str()}),
			ok: map[int]any{201: wrap("prompt", ref("Prompt"))}, errs: []int{conflict}},
		{method: get, path: "/api/prompts/{id}", id: "getPrompt", tag: "prompts", summary: "Get a prompt template, or a prompt file's text",
			desc:   "An id ending in .md (or source=build/file/files) reads _build/prompts/<id>: {content, filename}.",
			params: []m{pathParam("id", "prm_… id, or a file name ending in .md."), query("source", "See listPrompts.", enum("db", "build", "file", "files"))},
			ok: map[int]any{200: m{"oneOf": []m{wrap("prompt", ref("Prompt")),
				object(m{"content": str(), "filename": str()})}}},
			errs: []int{notFound}},
		{method: put, path: "/api/prompts/{id}", id: "updatePrompt", tag: "prompts", summary: "Update a prompt template",
			params: []m{pathParam("id", "prm_… id.")},
			body: input(nil, m{"command": m{"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"}, "label": str(),
				"template_text": str(), "description": str(), "active": boolean()}),
			ok: map[int]any{200: wrap("prompt", ref("Prompt"))}, errs: []int{notFound, conflict}},
		{method: del, path: "/api/prompts/{id}", id: "deletePrompt", tag: "prompts", summary: "Delete a prompt template",
			params: []m{pathParam("id", "prm_… id.")}, ok: map[int]any{200: ref("Message")}, errs: []int{notFound}},

		// ---- scripts (§11) ----
		{method: get, path: "/api/scripts/index", id: "scriptsIndex", tag: "scripts", summary: "Scripts in the script folders, with their header metadata",
			desc: "A bare JSON array, as the original sent.",
			ok:   map[int]any{200: arrayOf(ref("ScriptEntry"))}},

		// ---- control socket ----
		{method: get, path: "/control/status", id: "controlStatus", tag: "control (socket only)", summary: "Daemon status",
			ok: map[int]any{200: ref("ControlStatus")}, socket: true},
		{method: post, path: "/control/reload", id: "controlReload", tag: "control (socket only)", summary: "Re-read sparkq.yml (log level, reaper schedule)",
			desc: "A broken file changes nothing and answers 400 naming file:line.",
			ok:   map[int]any{200: ref("StatusMessage")}, errs: []int{http.StatusBadRequest}, socket: true},
		{method: post, path: "/control/shutdown", id: "controlShutdown", tag: "control (socket only)", summary: "Stop the daemon",
			desc: "Answers first, then drains in-flight requests and exits.",
			ok:   map[int]any{202: ref("StatusMessage")}, socket: true},
	}
}
