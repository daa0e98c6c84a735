package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkq/sparkq/store"
)

// snapshot is everything the daemon stores that a bad command could touch.
func (f *fixture) snapshot() string {
	f.t.Helper()
	var b strings.Builder
	for _, args := range [][]string{
		{"tasks", "--limit", "1000", "--json"},
		{"queue", "list", "--json"},
		{"session", "list", "--json"},
	} {
		b.WriteString(f.ok(args...))
	}
	return b.String()
}

// TestBadInput checks that every kind of bad input gets a clear, specific
// message and the documented exit status, and changes nothing.
func TestBadInput(t *testing.T) {
	t.Parallel()
	f := startDaemon(t)
	f.ok("session", "create", "s1")
	f.ok("queue", "create", "q1", "--session", "s1")
	f.ok("session", "create", "old")
	f.ok("session", "end", "old")
	enqueue := func() store.Task {
		var task store.Task
		f.json(&task, "enqueue", "--queue", "q1", "--tool", "run-bash", "--prompt", "p")
		return task
	}
	running, queued := enqueue(), enqueue()
	f.ok("claim", running.ID)

	dir := t.TempDir()
	badValue := filepath.Join(dir, "bad-value.yml")
	badSyntax := filepath.Join(dir, "bad-syntax.yml")
	writeFile(t, badValue, "server:\n  host: 127.0.0.1\n  port: not-a-number\n")
	writeFile(t, badSyntax, "database:\n  path: data/x.db\n  mode: \"wal\n")
	missing := filepath.Join(dir, "missing.yml")

	const notRunning = "Error: sparkq is not running"
	cases := []struct {
		name string
		args []string
		code int
		want []string // substrings of stderr
	}{
		// Unknown ids and names.
		{"unknown task", []string{"task", "tsk_nope"}, 1, []string{"Error: Task not found: tsk_nope", "Suggestion: list tasks with `sparkq tasks`"}},
		{"complete unknown task", []string{"complete", "tsk_nope", "--result", "x"}, 1, []string{"Error: Task not found: tsk_nope"}},
		{"requeue unknown task", []string{"requeue", "tsk_nope"}, 1, []string{"Error: Task not found: tsk_nope"}},
		{"unknown queue", []string{"enqueue", "--queue", "nope", "--tool", "run-bash"}, 1, []string{"Error: Queue not found: nope", "sparkq queue list"}},
		{"peek unknown queue", []string{"peek", "-q", "nope"}, 1, []string{"Error: Queue not found: nope"}},
		{"claim unknown queue", []string{"claim", "--queue", "nope"}, 1, []string{"Error: Queue not found: nope"}},
		{"end unknown queue", []string{"queue", "end", "nope"}, 1, []string{"Error: Queue not found: nope"}},
		{"unknown session", []string{"queue", "create", "qx", "--session", "nope"}, 1, []string{"Error: Session not found: nope", "sparkq session list"}},
		{"end unknown session", []string{"session", "end", "nope"}, 1, []string{"Error: Session not found: nope"}},
		{"tasks of unknown session", []string{"tasks", "--session", "nope"}, 1, []string{"Error: Session not found: nope"}},

		// Blank names.
		{"blank session name", []string{"session", "create", "  "}, 2, []string{"Error: session name is required", "Usage: sparkq session create"}},
		{"blank queue name", []string{"queue", "create", "", "--session", "s1"}, 2, []string{"Error: queue name is required"}},
		{"blank queue", []string{"enqueue", "--queue", " ", "--tool", "run-bash"}, 2, []string{"Error: --queue is required"}},

		// Conflicts.
		{"duplicate queue", []string{"queue", "create", "q1", "--session", "s1"}, 1, []string{`already has a queue named "q1"`, "Suggestion:"}},
		{"duplicate active session", []string{"session", "create", "s1"}, 1, []string{`active session named "s1" already exists`}},
		{"queue in ended session", []string{"queue", "create", "q2", "--session", "old"}, 1, []string{"Session old is ended"}},
		{"end ended session", []string{"session", "end", "old"}, 1, []string{"Session old is already ended"}},

		// Invalid transitions.
		{"complete queued task", []string{"complete", queued.ID, "--result", "x"}, 1, []string{"Error: Cannot complete task while status is queued", "sparkq task " + queued.ID}},
		{"fail queued task", []string{"fail", queued.ID, "--error", "x"}, 1, []string{"Error: Cannot fail task while status is queued"}},
		{"claim running task", []string{"claim", running.ID}, 1, []string{"Error: Cannot claim task while status is running", "only queued tasks can be claimed"}},
		{"requeue queued task", []string{"requeue", queued.ID}, 1, []string{"Error: Cannot requeue task while status is queued", "only finished"}},
		{"requeue running task", []string{"requeue", running.ID}, 1, []string{"Error: Cannot requeue task while status is running"}},
		{"rerun queued task", []string{"rerun", queued.ID}, 1, []string{"Error: Cannot rerun task while status is queued"}},

		// Payloads.
		{"array payload", []string{"enqueue", "-q", "q1", "-t", "run-bash", "--payload", "[1]"}, 2, []string{"Error: --payload must be a JSON object, got an array"}},
		{"string payload", []string{"enqueue", "-q", "q1", "-t", "run-bash", "--payload", `"x"`}, 2, []string{"Error: --payload must be a JSON object, got a string"}},
		{"broken payload", []string{"enqueue", "-q", "q1", "-t", "run-bash", "--payload", "{"}, 2, []string{"Error: --payload is not valid JSON"}},
		{"empty payload", []string{"enqueue", "-q", "q1", "-t", "run-bash", "--payload-file", "-"}, 2, []string{"Error: --payload-file (stdin) is not valid JSON: empty input"}},
		{"array metadata", []string{"enqueue", "-q", "q1", "-t", "run-bash", "--metadata", "[]"}, 2, []string{"Error: --metadata must be a JSON object, got an array"}},
		{"payload and prompt", []string{"enqueue", "-q", "q1", "-t", "run-bash", "--payload", "{}", "--prompt", "x"}, 2, []string{"cannot be combined with --prompt"}},
		{"missing prompt file", []string{"enqueue", "-q", "q1", "-t", "run-bash", "--prompt-file", filepath.Join(dir, "nope.md")}, 1, []string{"Error: prompt file not found: " + filepath.Join(dir, "nope.md")}},
		{"missing payload file", []string{"enqueue", "-q", "q1", "-t", "run-bash", "--payload-file", filepath.Join(dir, "nope.json")}, 1, []string{"Error: payload file not found: " + filepath.Join(dir, "nope.json")}},

		// Registry.
		{"unknown tool", []string{"enqueue", "-q", "q1", "-t", "nope"}, 1, []string{`Error: unknown tool "nope": known tools are`, "run-bash"}},
		{"unknown task class", []string{"enqueue", "-q", "q1", "-t", "run-bash", "--task-class", "HUGE"}, 1, []string{`unknown task_class "HUGE"`, "FAST_SCRIPT"}},
		{"negative timeout", []string{"enqueue", "-q", "q1", "-t", "run-bash", "--timeout", "-5"}, 2, []string{"Error: --timeout must be a number of seconds greater than 0"}},
		{"zero timeout", []string{"enqueue", "-q", "q1", "-t", "run-bash", "--timeout", "0"}, 2, []string{"Error: --timeout must be a number of seconds greater than 0, got 0 (leave it out for the class's timeout)"}},
		{"word timeout", []string{"enqueue", "-q", "q1", "-t", "run-bash", "--timeout", "soon"}, 2, []string{`invalid value "soon" for flag --timeout: must be a whole number`}},

		// Command-line shape.
		{"missing --tool", []string{"enqueue", "--queue", "q1"}, 2, []string{"Error: --tool is required", "Usage: sparkq enqueue", "sparkq enqueue -h"}},
		{"missing --queue", []string{"enqueue", "--tool", "run-bash"}, 2, []string{"Error: --queue is required"}},
		{"missing --result", []string{"complete", running.ID}, 2, []string{"Error: --result is required"}},
		{"missing --error", []string{"fail", running.ID}, 2, []string{"Error: --error is required"}},
		{"missing --session", []string{"queue", "create", "q3"}, 2, []string{"Error: --session is required"}},
		{"missing --yes", []string{"queue", "delete", "q1"}, 2, []string{"confirm with --yes"}},
		{"missing task argument", []string{"task"}, 2, []string{"Error: missing argument TASK", "Usage: sparkq task"}},
		{"extra argument", []string{"task", queued.ID, "more"}, 2, []string{`Error: unexpected argument "more"`}},
		{"unknown command", []string{"frobnicate"}, 2, []string{`Error: unknown command "frobnicate"`, "sparkq -h"}},
		{"unknown subcommand", []string{"queue", "frobnicate"}, 2, []string{`Error: unknown queue command "frobnicate"`}},
		{"unknown flag", []string{"tasks", "--frob"}, 2, []string{"Error: flag provided but not defined: --frob", "Usage: sparkq tasks"}},
		{"unknown flag after argument", []string{"task", queued.ID, "--frob"}, 2, []string{"Error: flag provided but not defined: --frob"}},
		{"bad integer", []string{"tasks", "--limit", "abc"}, 2, []string{`Error: invalid value "abc" for flag --limit`}},
		{"limit too large", []string{"tasks", "--limit", "5000"}, 2, []string{"Error: --limit must be between 1 and 1000"}},
		{"bad status", []string{"tasks", "--status", "done"}, 2, []string{`Error: invalid --status "done"`, "valid values: queued, running, claimed, succeeded, failed"}},
		{"bad duration", []string{"stop", "--wait", "soon"}, 2, []string{`invalid value "soon" for flag --wait`}},
		{"zero purge days", []string{"purge", "--older-than-days", "0"}, 2, []string{"Error: --older-than-days must be greater than 0"}},
		{"negative purge days", []string{"purge", "--older-than-days", "-3"}, 2, []string{"Error: --older-than-days must be greater than 0"}},

		// Configuration.
		{"malformed sparkq.yml", []string{"tasks", "--config", badValue}, 1, []string{"Error: " + badValue + ":3: server.port must be an integer between 1 and 65535"}},
		{"sparkq.yml syntax error", []string{"status", "--config", badSyntax}, 1, []string{"Error: " + badSyntax + ":3: found unexpected end of stream"}},
		{"missing --config file", []string{"tasks", "--config", missing}, 1, []string{"Error: config file " + missing + " not found"}},
	}

	before := f.snapshot()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.run(tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\n%s", r.code, tc.code, r)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q\n%s", w, r)
				}
			}
			if !strings.HasPrefix(r.stderr, "Error: ") || strings.Contains(r.stderr, "Unexpected error") ||
				strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, notRunning) {
				t.Errorf("stderr is not one clear error\n%s", r)
			}
			if r.stdout != "" {
				t.Errorf("stdout should be empty\n%s", r)
			}
			if s := f.run("status"); s.code != 0 {
				t.Fatalf("daemon not healthy after the command:\n%s", s)
			}
			if after := f.snapshot(); after != before {
				t.Fatalf("stored data changed:\nbefore: %s\nafter: %s", before, after)
			}
		})
	}

	// And the good paths still work on the same data.
	f.ok("complete", running.ID, "--result", "fine")
	var task store.Task
	f.json(&task, "task", running.ID)
	if task.Status != store.TaskSucceeded || deref(task.ResultSummary) != "fine" {
		t.Fatalf("task after complete: %+v", task)
	}
}

// TestClaimWithoutQueue lists the queues to choose from (exit 2).
func TestClaimWithoutQueue(t *testing.T) {
	t.Parallel()
	f := startDaemon(t)
	r := f.run("claim")
	if r.code != 2 || !strings.Contains(r.stderr, "no active queues") {
		t.Fatalf("claim with no queues:\n%s", r)
	}
	f.ok("session", "create", "s")
	var q store.Queue
	f.json(&q, "queue", "create", "pick-me", "--session", "s")
	r = f.run("claim")
	if r.code != 2 || !strings.Contains(r.stderr, "Available queues (specify with --queue):\n- pick-me ("+q.ID+")\n") {
		t.Fatalf("claim without --queue:\n%s", r)
	}
	if r := f.run("claim", "--queue", "pick-me", "--json"); r.code != 0 || strings.TrimSpace(r.stdout) != "null" {
		t.Fatalf("claim on an empty queue:\n%s", r)
	}
	if out := f.ok("claim", "--queue", "pick-me"); out != "No queued tasks in queue 'pick-me'\n" {
		t.Fatalf("claim on an empty queue printed %q", out)
	}
}

// TestCompleteResultIsText: --result is never read as a file (GAP 76), and
// data comes from --data-file.
func TestCompleteResultIsText(t *testing.T) {
	t.Parallel()
	f := startDaemon(t)
	f.ok("session", "create", "s")
	f.ok("queue", "create", "q", "--session", "s")
	file := filepath.Join(f.dir, "result.json")
	writeFile(t, file, `{"summary": "from the file", "rows": 3}`)
	var a, b store.Task
	f.json(&a, "enqueue", "-q", "q", "-t", "run-bash")
	f.json(&b, "enqueue", "-q", "q", "-t", "run-bash", "--payload", `{"script_path": "x.sh", "args": ["1"]}`)
	f.ok("claim", "-q", "q")
	f.ok("claim", "-q", "q")

	f.ok("complete", a.ID, "--result", file) // a path, but only text
	f.json(&a, "task", a.ID)
	if deref(a.ResultSummary) != file || deref(a.Result) != file {
		t.Fatalf("summary %q result %q: want the text %q", deref(a.ResultSummary), deref(a.Result), file)
	}
	f.ok("complete", b.ID, "--result-file", file)
	f.json(&b, "task", b.ID)
	if deref(b.ResultSummary) != "from the file" || !strings.Contains(deref(b.Result), `"rows": 3`) {
		t.Fatalf("summary %q result %q", deref(b.ResultSummary), deref(b.Result))
	}
	var payload map[string]any
	if err := json.Unmarshal([]byte(b.Payload), &payload); err != nil || payload["script_path"] != "x.sh" {
		t.Fatalf("payload %s not kept as given", b.Payload)
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
