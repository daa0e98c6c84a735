package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; never edit one that has shipped, append.
// The index+1 is the schema version it produces.
var migrations = []string{
	// 1: the initial schema.
	`
CREATE TABLE projects (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	repo_path TEXT,
	prd_path TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE TABLE sessions (
	id TEXT PRIMARY KEY,
	project_id TEXT NOT NULL REFERENCES projects(id),
	name TEXT NOT NULL,
	description TEXT,
	status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','ended')),
	started_at TEXT NOT NULL,
	ended_at TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
-- The CLI addresses sessions by name, so a name may only be live once.
CREATE UNIQUE INDEX sessions_active_name ON sessions(name) WHERE status = 'active';
CREATE INDEX sessions_started ON sessions(started_at);

CREATE TABLE queues (
	id TEXT PRIMARY KEY,
	session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	instructions TEXT,
	codex_session_id TEXT,
	default_agent_role_key TEXT,
	model_profile TEXT,
	llm_sessions TEXT,
	state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active','ended','archived')),
	ended INTEGER NOT NULL DEFAULT 0,
	-- Task counts kept by triggers so lists and dashboards never count rows.
	n_queued INTEGER NOT NULL DEFAULT 0,
	n_running INTEGER NOT NULL DEFAULT 0,
	n_succeeded INTEGER NOT NULL DEFAULT 0,
	n_failed INTEGER NOT NULL DEFAULT 0,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	UNIQUE (session_id, name)
);
CREATE INDEX queues_name ON queues(name);
CREATE INDEX queues_created ON queues(created_at);

CREATE TABLE tasks (
	-- seq orders the FIFO independently of the clock. A new row always gets
	-- max(seq)+1, so it queues behind every task that exists.
	seq INTEGER PRIMARY KEY,
	id TEXT NOT NULL UNIQUE,
	queue_id TEXT NOT NULL REFERENCES queues(id) ON DELETE CASCADE,
	tool_name TEXT NOT NULL,
	task_class TEXT NOT NULL,
	payload TEXT NOT NULL CHECK (json_valid(payload) AND json_type(payload) = 'object'),
	agent_role_key TEXT,
	status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued','running','succeeded','failed')),
	timeout INTEGER NOT NULL CHECK (timeout > 0),
	attempts INTEGER NOT NULL DEFAULT 0,
	worker_id TEXT,
	result TEXT,
	result_summary TEXT,
	error TEXT,
	auto_failed INTEGER NOT NULL DEFAULT 0,
	stdout TEXT,
	stderr TEXT,
	claimed_at TEXT,
	stale_warned_at TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	started_at TEXT,
	finished_at TEXT
);
-- Claims read only queued rows: a partial index stays small and a claim
-- moves one entry out of it rather than across a status-keyed index.
CREATE INDEX tasks_queued ON tasks(queue_id, seq) WHERE status = 'queued';
CREATE INDEX tasks_queue_seq ON tasks(queue_id, seq);
-- Only running tasks, for the stale sweep; kept small on purpose.
CREATE INDEX tasks_running ON tasks(claimed_at) WHERE status = 'running';
CREATE INDEX tasks_finished ON tasks(finished_at) WHERE status IN ('succeeded','failed');

CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks BEGIN
	UPDATE queues SET
		n_queued = n_queued + (NEW.status = 'queued'),
		n_running = n_running + (NEW.status = 'running'),
		n_succeeded = n_succeeded + (NEW.status = 'succeeded'),
		n_failed = n_failed + (NEW.status = 'failed')
	WHERE id = NEW.queue_id;
END;
CREATE TRIGGER tasks_count_update AFTER UPDATE OF status ON tasks WHEN OLD.status <> NEW.status BEGIN
	UPDATE queues SET
		n_queued = n_queued + (NEW.status = 'queued') - (OLD.status = 'queued'),
		n_running = n_running + (NEW.status = 'running') - (OLD.status = 'running'),
		n_succeeded = n_succeeded + (NEW.status = 'succeeded') - (OLD.status = 'succeeded'),
		n_failed = n_failed + (NEW.status = 'failed') - (OLD.status = 'failed')
	WHERE id = NEW.queue_id;
END;
CREATE TRIGGER tasks_count_delete AFTER DELETE ON tasks BEGIN
	UPDATE queues SET
		n_queued = n_queued - (OLD.status = 'queued'),
		n_running = n_running - (OLD.status = 'running'),
		n_succeeded = n_succeeded - (OLD.status = 'succeeded'),
		n_failed = n_failed - (OLD.status = 'failed')
	WHERE id = OLD.queue_id;
END;

CREATE TABLE agent_roles (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	key TEXT NOT NULL UNIQUE,
	label TEXT NOT NULL,
	description TEXT NOT NULL,
	active INTEGER NOT NULL DEFAULT 1,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE TABLE prompts (
	id TEXT PRIMARY KEY,
	command TEXT NOT NULL UNIQUE,
	label TEXT NOT NULL,
	template_text TEXT NOT NULL,
	description TEXT,
	category TEXT,
	active INTEGER NOT NULL DEFAULT 1,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE TABLE config (
	namespace TEXT NOT NULL,
	key TEXT NOT NULL,
	value TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	updated_by TEXT,
	PRIMARY KEY (namespace, key)
);

CREATE TABLE audit_log (
	id TEXT PRIMARY KEY,
	actor TEXT,
	action TEXT NOT NULL,
	details TEXT,
	created_at TEXT NOT NULL
);
CREATE INDEX audit_created ON audit_log(created_at);

CREATE TABLE task_classes (
	name TEXT PRIMARY KEY,
	timeout INTEGER NOT NULL CHECK (timeout > 0),
	description TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE TABLE tools (
	name TEXT PRIMARY KEY,
	description TEXT,
	task_class TEXT NOT NULL REFERENCES task_classes(name),
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE INDEX tools_task_class ON tools(task_class);
`,
	// 2: worker heartbeats. The stale sweep counts a running task's age from
	// the later of claimed_at and heartbeat_at.
	`
ALTER TABLE tasks ADD COLUMN heartbeat_at TEXT;
`,
	// 3: status filters on one queue (the dashboard's, the CLI's --status)
	// read a small partial index instead of scanning the whole queue.
	// Running tasks are keyed by queue (the sweep still reads all of them).
	// One index per status: SQLite can use a partial index only when the
	// query names the same condition.
	`
DROP INDEX tasks_running;
CREATE INDEX tasks_running ON tasks(queue_id, seq) WHERE status = 'running';
CREATE INDEX tasks_succeeded ON tasks(queue_id, seq) WHERE status = 'succeeded';
CREATE INDEX tasks_failed ON tasks(queue_id, seq) WHERE status = 'failed';
`,
}

// SchemaVersion is the version this build writes.
var SchemaVersion = len(migrations)

// migrate brings the database to SchemaVersion inside one transaction per
// step, refusing files written by a newer SparkQ.
func migrate(ctx context.Context, c *sql.Conn, path string) error {
	if _, err := c.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER NOT NULL,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	var have int
	if err := c.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > SchemaVersion {
		return fmt.Errorf("database %s has schema version %d but this SparkQ understands up to %d: upgrade SparkQ, or point database.path at another file", path, have, SchemaVersion)
	}
	for v := have; v < SchemaVersion; v++ {
		tx, err := c.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version(version, applied_at) VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ','now'))`, v+1); err != nil {
			tx.Rollback()
			return fmt.Errorf("record schema version %d: %w", v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit schema version %d: %w", v+1, err)
		}
	}
	return nil
}
