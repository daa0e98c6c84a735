package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sparkq/sparkq/control/worker"
	"github.com/sparkq/sparkq/store"
)

// startWorkerDaemon is startDaemon with a script dir and a lock dir.
func startWorkerDaemon(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, "")
	for _, d := range []string{"scripts", "locks"} {
		if err := os.Mkdir(filepath.Join(f.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := os.OpenFile(f.cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(cfg, "script_dirs: [scripts]\nqueue_runner:\n  lock_dir: locks\n")
	cfg.Close()
	f.start()
	f.ok("session", "create", "s")
	f.ok("queue", "create", "q", "--session", "s", "--instructions", "Keep it short.")
	return f
}

// background runs `sparkq worker …` and returns its stdout lines.
type background struct {
	cmd    *exec.Cmd
	lines  chan string
	done   chan error
	stderr *bytes.Buffer // complete once done has sent
}

func (f *fixture) background(args ...string) *background {
	f.t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "sparkq"), append([]string{"--config", f.cfg}, args...)...)
	cmd.Dir, cmd.Env = f.dir, env(f.dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		f.t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	b := &background{cmd: cmd, lines: make(chan string, 1000), done: make(chan error, 1), stderr: &stderr}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			b.lines <- sc.Text()
		}
		io.Copy(io.Discard, stdout)
		b.done <- cmd.Wait()
	}()
	f.t.Cleanup(func() {
		cmd.Process.Kill()
		<-b.done
		if f.t.Failed() {
			f.t.Logf("worker stderr:\n%s", stderr.String())
		}
	})
	return b
}

// expect reads lines until one contains want and returns it.
func (b *background) expect(t *testing.T, want string) string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l := <-b.lines:
			if strings.Contains(l, want) {
				return l
			}
		case <-timeout:
			t.Fatalf("worker never printed %q", want)
		}
	}
}

func TestWorkerCommand(t *testing.T) {
	t.Parallel()
	f := startWorkerDaemon(t)
	os.WriteFile(filepath.Join(f.dir, "scripts", "hi.sh"), []byte("echo \"hi $1 from $SPARKQ_TASK_ID\"\n"), 0o755)
	os.WriteFile(filepath.Join(f.dir, "scripts", "no.sh"), []byte("echo nope >&2\nexit 4\n"), 0o755)

	// --exec --json drains script tasks, one JSON line each.
	var ok, bad store.Task
	f.json(&ok, "enqueue", "--queue", "q", "--tool", "run-bash", "--payload", `{"script_path":"hi.sh","args":["you"]}`)
	f.json(&bad, "enqueue", "--queue", "q", "--tool", "run-bash", "--payload", `{"script_path":"no.sh"}`)
	r := f.run("worker", "--queue", "q", "--exec", "--json")
	if r.code != 0 {
		t.Fatalf("worker --exec:\n%s", r)
	}
	recs := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(recs) != 2 {
		t.Fatalf("want 2 JSON lines:\n%s", r)
	}
	for i, want := range []struct{ id, outcome string }{{ok.ID, "succeeded"}, {bad.ID, "failed"}} {
		var rec worker.Record
		if err := json.Unmarshal([]byte(recs[i]), &rec); err != nil || rec.Task.ID != want.id || rec.Outcome != want.outcome {
			t.Fatalf("line %d: %s (%v)", i, recs[i], err)
		}
	}
	if !strings.Contains(r.stderr, "Queue is empty. Processed 2 tasks.") {
		t.Fatalf("messages should go to stderr with --json:\n%s", r)
	}
	var got store.Task
	f.json(&got, "task", ok.ID)
	if got.Status != store.TaskSucceeded || deref(got.Stdout) != "hi you from "+ok.ID+"\n" {
		t.Fatalf("script task: %+v", got)
	}

	// --once on an empty queue says so.
	if out := f.ok("worker", "--queue", "q", "--once"); !strings.Contains(out, "No tasks available in queue 'q'") {
		t.Fatalf("--once on empty queue:\n%s", out)
	}

	// A watching worker holds the queue's lock and gets tasks as they come.
	w := f.background("worker", "--queue", "q", "--watch", "--release-on-exit", "--grace", "100ms")
	w.expect(t, "Keep it short.") // the queue's instructions, once
	r = f.run("worker", "--queue", "q", "--once")
	if r.code != 1 || !strings.Contains(r.stderr, fmt.Sprintf("another worker (PID %d) is already working this queue", w.cmd.Process.Pid)) ||
		!strings.Contains(r.stderr, "--allow-multiple") {
		t.Fatalf("second worker on a locked queue:\n%s", r)
	}
	var llm store.Task
	f.json(&llm, "enqueue", "--queue", "q", "--tool", "llm-haiku", "--prompt", "Summarise the diff")
	w.expect(t, "--- Task Q-"+llm.ID[len(llm.ID)-4:]+" ("+llm.ID+") ---")
	w.expect(t, "Summarise the diff")
	w.expect(t, "Complete: sparkq --config "+f.cfg+" complete "+llm.ID)
	w.expect(t, "Waiting for "+llm.ID)
	if out := f.ok("touch", llm.ID); !strings.Contains(out, "auto-failed from") {
		t.Fatalf("touch:\n%s", out)
	}

	// SIGTERM with --release-on-exit puts the held task back.
	w.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-w.done; err != nil {
		t.Fatalf("worker exit: %v", err)
	}
	w.done <- nil // for the cleanup
	f.json(&got, "task", llm.ID)
	if got.Status != store.TaskQueued || got.Attempts != 1 {
		t.Fatalf("after SIGTERM: %s attempts %d", got.Status, got.Attempts)
	}

	// fail takes result data from stdin.
	f.ok("claim", "--queue", "q")
	r = runIn(t, f.dir, env(f.dir), "line 1\nline 2\n", "--config", f.cfg, "fail", llm.ID, "--summary", "did not work", "--data-file", "-", "--json")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &got) != nil || deref(got.Result) != "line 1\nline 2\n" || deref(got.Error) != "did not work" {
		t.Fatalf("fail --data-file -:\n%s", r)
	}
	// release: only running tasks.
	if r := f.run("release", llm.ID); r.code != 1 || !strings.Contains(r.stderr, "Cannot release task while status is failed") {
		t.Fatalf("release of a failed task:\n%s", r)
	}
}

// TestWorkerSurvivesRestart: stopping the daemon does not wait out a
// worker's long-poll, and a --watch worker picks up again once the daemon
// is back.
func TestWorkerSurvivesRestart(t *testing.T) {
	t.Parallel()
	f := startWorkerDaemon(t)
	w := f.background("worker", "--queue", "q", "--watch")
	w.expect(t, "watching for new tasks")
	// Give the worker's long-poll time to reach the daemon; were it not
	// there yet, the check below would pass without proving anything, but
	// it could not fail for that reason.
	time.Sleep(200 * time.Millisecond)
	if r := f.run("stop", "--wait", "30s"); r.code != 0 {
		t.Fatalf("stop:\n%s", r)
	}
	log, err := os.ReadFile(filepath.Join(f.dir, "data", "logs", "sparkq.log"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(log), "in-flight requests cut off") {
		t.Fatalf("shutdown waited out the worker's long-poll:\n%s", log)
	}
	w.expect(t, "Cannot reach the daemon")
	f.start()
	var task store.Task
	f.json(&task, "enqueue", "--queue", "q", "--tool", "llm-haiku", "--prompt", "after the restart")
	w.expect(t, "--- Task Q-"+task.ID[len(task.ID)-4:]+" ("+task.ID+") ---")
}

// exit waits for a background worker to end and returns its exit code and
// what it printed meanwhile; the deadline only stops a hung test.
func (b *background) exit(t *testing.T) (code int, stdout, stderr string) {
	t.Helper()
	var lines []string
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l := <-b.lines:
			lines = append(lines, l)
		case err := <-b.done:
			b.done <- err // for the cleanup
			for len(b.lines) > 0 {
				lines = append(lines, <-b.lines)
			}
			code = b.cmd.ProcessState.ExitCode()
			return code, strings.Join(lines, "\n"), b.stderr.String()
		case <-timeout:
			t.Fatalf("worker never exited; printed:\n%s", strings.Join(lines, "\n"))
		}
	}
}

// TestWorkerQueueGoes: a worker whose queue is archived, deleted or ended
// (with nothing left) while it waits exits, saying why, instead of waiting
// or asking again forever.
func TestWorkerQueueGoes(t *testing.T) {
	t.Parallel()
	f := startWorkerDaemon(t)
	for _, tc := range []struct {
		queue  string
		change []string
		code   int
		says   []string
	}{
		{"gone", []string{"queue", "delete", "gone", "--session", "s", "--yes"}, 1, []string{"Queue not found", "sparkq queue list"}},
		{"shelved", []string{"queue", "archive", "shelved", "--session", "s"}, 1, []string{"archived", "sparkq queue unarchive shelved"}},
		{"done", []string{"queue", "end", "done", "--session", "s"}, 0, []string{"Queue 'done' is ended and has no tasks left. Processed 0 tasks."}},
	} {
		f.ok("queue", "create", tc.queue, "--session", "s")
		w := f.background("worker", "--queue", tc.queue, "--session", "s", "--watch")
		w.expect(t, "watching for new tasks")
		// Let the long-poll reach the daemon, so the change comes while it
		// waits; were it late, the worker must still exit the same way.
		time.Sleep(200 * time.Millisecond)
		f.ok(tc.change...)
		code, stdout, stderr := w.exit(t)
		for _, want := range tc.says {
			if code != tc.code || !strings.Contains(stdout+stderr, want) {
				t.Fatalf("%s: exit %d, want %d saying %q\nstdout:\n%s\nstderr:\n%s", tc.queue, code, tc.code, want, stdout, stderr)
			}
		}
	}
	// A worker that starts on an ended queue with nothing left stops at once,
	// however long it was told to wait.
	for _, args := range [][]string{{"--watch"}, {"--wait", "1h"}, {"--once", "--wait", "1h"}} {
		w := f.background(append([]string{"worker", "--queue", "done", "--session", "s"}, args...)...)
		code, stdout, stderr := w.exit(t)
		if code != 0 || !strings.Contains(stdout, "Queue 'done' is ended and has no tasks left.") {
			t.Fatalf("worker %v on a drained queue: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
		}
	}
}
