package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sparkq/sparkq/control"
	"github.com/sparkq/sparkq/daemon/config"
	"github.com/sparkq/sparkq/daemon/lockfile"
	"github.com/sparkq/sparkq/store"
)

// TestNotRunning: status exits 3, data commands say how to start sparkq.
func TestNotRunning(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	if r := f.run("status"); r.code != 3 || r.stdout != "SparkQ: not running\n" || r.stderr != "" {
		t.Fatalf("status:\n%s", r)
	}
	if r := f.run("status", "--json"); r.code != 3 || strings.TrimSpace(r.stdout) != "null" {
		t.Fatalf("status --json:\n%s", r)
	}
	const want = "Error: sparkq is not running — start it with `sparkq start`\n"
	for _, args := range [][]string{
		{"tasks"},
		{"task", "tsk_x", "--json"},
		{"session", "list"},
		{"session", "create", "s"},
		{"queue", "list"},
		{"queue", "create", "q", "--session", "s"},
		{"enqueue", "--queue", "q", "--tool", "run-bash", "--prompt", "x"},
		{"peek", "--queue", "q"},
		{"claim", "--queue", "q"},
		{"complete", "tsk_x", "--result", "x"},
		{"fail", "tsk_x", "--error", "x"},
		{"requeue", "tsk_x"},
		{"purge"},
		{"reload"},
	} {
		if r := f.run(args...); r.code != 1 || r.stderr != want || r.stdout != "" {
			t.Errorf("want exactly %q, exit 1:\n%s", want, r)
		}
	}
	if r := f.run("stop"); r.code != 0 || r.stdout != "sparkq is not running\n" {
		t.Fatalf("stop when not running:\n%s", r)
	}
	if r := f.run("version"); r.code != 0 || r.stdout != "sparkq test-version (commit test-commit)\n" {
		t.Fatalf("version:\n%s", r)
	}
	for _, args := range [][]string{{}, {"-h"}, {"--help"}} {
		r := f.run(args...)
		if r.code != 0 || !strings.Contains(r.stdout, "session create") || !strings.Contains(r.stdout, "enqueue") {
			t.Fatalf("help:\n%s", r)
		}
	}
	if r := f.run("enqueue", "-h"); r.code != 0 || !strings.Contains(r.stdout, "-q, -s, --queue, --stream QUEUE") {
		t.Fatalf("enqueue -h:\n%s", r)
	}
}

// TestStartStopRestart: start is idempotent, stop then start works, restart
// works whether or not the daemon runs.
func TestStartStopRestart(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	f.start() // registers the final stop
	pid := f.status().PID

	r := f.run("start")
	if want := fmt.Sprintf("sparkq is already running (PID %d, http://127.0.0.1:%d)\n", pid, f.port); r.code != 0 || r.stdout != want {
		t.Fatalf("second start, want %q:\n%s", want, r)
	}
	if got := f.status().PID; got != pid {
		t.Fatalf("second start replaced the daemon: PID %d, was %d", got, pid)
	}
	out := f.ok("status")
	for _, w := range []string{fmt.Sprintf("SparkQ: running (PID %d", pid), "version test-version",
		fmt.Sprintf("http://127.0.0.1:%d", f.port), "Database:", filepath.Join(f.dir, "data", "sparkq.db"), f.cfg, "Reaper:"} {
		if !strings.Contains(out, w) {
			t.Fatalf("status lacks %q:\n%s", w, out)
		}
	}

	if out := f.ok("stop"); out != fmt.Sprintf("SparkQ stopped (PID %d)\n", pid) {
		t.Fatalf("stop printed %q", out)
	}
	if r := f.run("status"); r.code != 3 {
		t.Fatalf("status after stop:\n%s", r)
	}
	if _, held, _ := lockfile.ReadPID(filepath.Join(f.dir, "data", "sparkq.lock")); held {
		t.Fatal("lock still held after stop")
	}

	r = f.run("start")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "SparkQ started (PID ") {
		t.Fatalf("start after stop:\n%s", r)
	}
	pid2 := f.status().PID
	if pid2 == pid {
		t.Fatalf("same PID %d after a restart", pid)
	}
	f.ok("session", "create", "survives")

	r = f.run("restart", "--wait", "60s")
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("SparkQ stopped (PID %d)\n", pid2)) ||
		!strings.Contains(r.stdout, "SparkQ started (PID ") {
		t.Fatalf("restart:\n%s", r)
	}
	if !strings.Contains(f.ok("session", "list"), "survives") {
		t.Fatal("data lost across restart")
	}

	// Restart when stopped just starts (GAP 73).
	f.ok("stop")
	r = f.run("restart", "--wait", "60s")
	if r.code != 0 || strings.Contains(r.stdout, "stopped") || !strings.HasPrefix(r.stdout, "SparkQ started (PID ") {
		t.Fatalf("restart when stopped:\n%s", r)
	}
}

func (f *fixture) status() control.Status {
	f.t.Helper()
	var st control.Status
	f.json(&st, "status")
	return st
}

// TestStartFailureShowsOutput: a daemon that cannot start is reported with
// its own words, and exit 1.
func TestStartFailureShowsOutput(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", f.port))
	if err != nil {
		t.Skipf("cannot hold port %d: %v", f.port, err)
	}
	defer l.Close()
	r := f.run("start", "--wait", "60s")
	if r.code != 1 || !strings.Contains(r.stderr, "sparkqd.out") ||
		!strings.Contains(r.stderr, fmt.Sprintf("listen on 127.0.0.1:%d", f.port)) ||
		!strings.Contains(r.stderr, "Error: sparkqd exited during startup") {
		t.Fatalf("start on a busy port:\n%s", r)
	}
	if r := f.run("status"); r.code != 3 {
		t.Fatalf("status after a failed start:\n%s", r)
	}
}

// TestStatusSocketDead: the lock is held but nothing answers on the socket.
func TestStatusSocketDead(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	lock, err := lockfile.Acquire(filepath.Join(f.dir, "data", "sparkq.lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	r := f.run("status")
	want := fmt.Sprintf("SparkQ: running (PID %d) but the control socket does not answer", os.Getpid())
	if r.code != 1 || !strings.HasPrefix(r.stdout, want) || !strings.Contains(r.stderr, "Suggestion:") {
		t.Fatalf("status with a dead socket, want %q:\n%s", want, r)
	}
}

// TestLongSocketPath: a data directory too deep for a Unix socket path
// still works, through the short fallback path both sides derive.
func TestLongSocketPath(t *testing.T) {
	t.Parallel()
	deep := filepath.Join(t.TempDir(), strings.Repeat("d", 60), strings.Repeat("e", 60))
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, deep)
	f.start()
	st := f.status()
	if len(st.Socket) > 103 || !strings.HasPrefix(st.Socket, os.TempDir()) {
		t.Fatalf("socket %q: want a short path in %s", st.Socket, os.TempDir())
	}
	f.ok("session", "create", "deep")
	if !strings.Contains(f.ok("session", "list"), "deep") {
		t.Fatal("session not listed")
	}
}

// TestSetup: setup writes a loadable file when there is none, and never
// overwrites one.
func TestSetup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	port := freePort(t)
	r := runIn(t, dir, env(dir), "", "setup", "--project-name", `My "quoted" project`, "--port", fmt.Sprint(port),
		"--host", "127.0.0.1", "--db", "state/q.db", "--repo-path", ".", "--prd-path", "docs/PRD.md",
		"--script-dir", "scripts", "--script-dir", "/opt/shared scripts")
	path := filepath.Join(dir, "sparkq.yml")
	if r.code != 0 || !strings.Contains(r.stdout, "Wrote "+path) || !strings.Contains(r.stdout, "Database ready: "+filepath.Join(dir, "state", "q.db")) ||
		!strings.Contains(r.stdout, "sparkq start\n") || !strings.Contains(r.stdout, "sparkq session create NAME") {
		t.Fatalf("setup:\n%s", r)
	}
	cfg, warns, err := config.Load(path)
	if err != nil || len(warns) > 0 {
		t.Fatalf("load written file: %v %v", err, warns)
	}
	if cfg.Project.Name != `My "quoted" project` || cfg.Server.Port != port || cfg.DBPath() != filepath.Join(dir, "state", "q.db") ||
		cfg.Project.RepoPath != "." || cfg.Project.PRDPath != "docs/PRD.md" ||
		strings.Join(cfg.ScriptDirs, "|") != filepath.Join(dir, "scripts")+"|/opt/shared scripts" {
		t.Fatalf("written config: %+v", cfg)
	}
	if _, err := os.Stat(cfg.DBPath()); err != nil {
		t.Fatalf("database not created: %v", err)
	}
	written, _ := os.ReadFile(path)
	if !strings.Contains(string(written), "# sparkq.yml: SparkQ configuration.") {
		t.Fatal("the default file's comments were lost")
	}

	// Existing file: kept byte for byte, whatever the flags say.
	custom := string(written) + "# my own edit\n"
	writeFile(t, path, custom)
	r = runIn(t, dir, env(dir), "", "setup", "--port", "1234", "--project-name", "other")
	if r.code != 0 || !strings.Contains(r.stdout, "Keeping existing "+path) || !strings.Contains(r.stdout, "not applied") {
		t.Fatalf("setup over an existing file:\n%s", r)
	}
	if now, _ := os.ReadFile(path); string(now) != custom {
		t.Fatal("setup changed an existing sparkq.yml")
	}

	// An existing broken file is kept too, and reported with its line.
	broken := filepath.Join(dir, "broken.yml")
	writeFile(t, broken, "server:\n  port: [\n")
	r = runIn(t, dir, env(dir), "", "setup", "--config", broken)
	if r.code != 1 || !strings.Contains(r.stderr, "Error: "+broken+":") {
		t.Fatalf("setup with a broken file:\n%s", r)
	}
	if now, _ := os.ReadFile(broken); string(now) != "server:\n  port: [\n" {
		t.Fatal("setup changed a broken sparkq.yml")
	}

	// SPARKQ_CONFIG names the target; a new folder is created; the daemon
	// then starts on that file.
	target := filepath.Join(dir, "nested", "conf", "sparkq.yml")
	port2 := freePort(t)
	e := env(dir, "SPARKQ_CONFIG="+target)
	r = runIn(t, dir, e, "", "setup", "--port", fmt.Sprint(port2))
	if r.code != 0 || !strings.Contains(r.stdout, "Wrote "+target) {
		t.Fatalf("setup with SPARKQ_CONFIG:\n%s", r)
	}
	if r := runIn(t, dir, e, "", "start", "--wait", "60s"); r.code != 0 {
		t.Fatalf("start on the new file:\n%s", r)
	}
	defer func() {
		if r := runIn(t, dir, e, "", "stop", "--wait", "30s"); r.code != 0 {
			t.Errorf("stop:\n%s", r)
		}
	}()
	r = runIn(t, dir, e, "", "status", "--json")
	var st control.Status
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil || st.ConfigFile != target ||
		st.HTTPAddr != fmt.Sprintf("http://127.0.0.1:%d", port2) || st.DBPath != filepath.Join(dir, "nested", "conf", "data", "sparkq.db") {
		t.Fatalf("status of the daemon set up with SPARKQ_CONFIG:\n%s", r)
	}
}

// TestSetupEditsDefault keeps the edit targets of the default file in
// sync with config.DefaultYAML: every flag must find its line.
func TestSetupEditsDefault(t *testing.T) {
	dir := t.TempDir()
	text, want, err := configText(dir, dir, setupValues{projectName: "p", repoPath: "r", prdPath: "d", host: "localhost",
		db: "x.db", port: 1, scriptDirs: stringList{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sparkq.yml")
	writeFile(t, path, text)
	if err := checkWritten(path, want); err != nil {
		t.Fatal(err)
	}
}

// TestNoServerDependencies: the CLI links neither SQLite nor server code.
func TestNoServerDependencies(t *testing.T) {
	t.Parallel()
	gobin, err := goTool()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(gobin, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case strings.HasPrefix(dep, "modernc.org/sqlite"),
			strings.Contains(dep, "httprouter"),
			strings.HasPrefix(dep, "github.com/sparkq/sparkq/httpd"),
			strings.HasPrefix(dep, "github.com/sparkq/sparkq/store/sqlite"),
			dep == "github.com/sparkq/sparkq/daemon":
			t.Errorf("sparkq links %s", dep)
		}
	}
	if !strings.Contains(string(out), "github.com/sparkq/sparkq/control\n") {
		t.Fatalf("go list output does not look right:\n%s", out)
	}
}

// TestRunForeground: `sparkq run` becomes the daemon (same PID), and a
// signal stops it.
func TestRunForeground(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	cmd := exec.Command(filepath.Join(binDir, "sparkq"), "run", "--config", f.cfg)
	cmd.Dir, cmd.Env = f.dir, env(f.dir)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	eventually(t, "the foreground daemon to answer", func() bool { return f.run("status").code == 0 })
	if pid := f.status().PID; pid != cmd.Process.Pid {
		t.Fatalf("daemon PID %d, want the sparkq process itself (%d): run must exec sparkqd", pid, cmd.Process.Pid)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		t.Fatalf("daemon exit after SIGTERM: %v\n%s", err, out.String())
	}
	exited <- nil
	if !strings.Contains(out.String(), "sparkq started") {
		t.Fatalf("foreground run logged nothing to its terminal:\n%s", out.String())
	}
	if r := f.run("status"); r.code != 3 {
		t.Fatalf("status after SIGTERM:\n%s", r)
	}
}

// TestStartSlowDaemon: a daemon that has not answered when --wait ends is
// reported, and left running (GAP 80).
func TestStartSlowDaemon(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	t.Cleanup(func() { f.run("stop", "--wait", "30s") })
	r := f.run("start", "--wait", "1ns")
	if r.code != 1 || !strings.Contains(r.stderr, "did not answer within 1ns; it is still running") ||
		!strings.Contains(r.stderr, "sparkq status") {
		t.Fatalf("start with no time to answer:\n%s", r)
	}
	eventually(t, "the slow daemon to answer", func() bool { return f.run("status").code == 0 })
}

// TestStopKillsUnresponsive: a process that holds the lock but neither
// answers nor obeys SIGTERM is killed.
func TestStopKillsUnresponsive(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	lock := filepath.Join(f.dir, "data", "sparkq.lock")
	hung := exec.Command(os.Args[0])
	hung.Env = append(os.Environ(), holdLockEnv+"="+lock)
	stdout, err := hung.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := hung.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- hung.Wait() }()
	defer func() {
		hung.Process.Kill()
		<-exited
	}()
	buf := make([]byte, 8)
	if n, err := stdout.Read(buf); err != nil || string(buf[:n]) != "holding\n" {
		t.Fatalf("helper did not take the lock: %q %v", buf[:n], err)
	}

	r := f.run("stop", "--wait", "500ms")
	want := fmt.Sprintf("SparkQ stopped (PID %d)\n", hung.Process.Pid)
	if r.code != 0 || r.stdout != want || !strings.Contains(r.stderr, "sending SIGTERM") || !strings.Contains(r.stderr, "sending SIGKILL") {
		t.Fatalf("stop of a hung daemon, want %q:\n%s", want, r)
	}
	if err := <-exited; err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("helper exit: %v, want killed", err)
	}
	exited <- nil
}

// TestQueueAndSessionLifecycle walks queues and sessions through their
// states with the CLI.
func TestQueueAndSessionLifecycle(t *testing.T) {
	t.Parallel()
	f := startDaemon(t)
	f.ok("session", "create", "life", "-d", "lifecycle")
	f.ok("queue", "create", "a", "-s", "life", "-i", "Keep it short")
	f.ok("queue", "create", "b", "-s", "life")
	var task store.Task
	f.json(&task, "enqueue", "-q", "a", "-t", "quick-check", "--timeout", "30")
	if task.TaskClass != "FAST_SCRIPT" || task.Timeout != 30 {
		t.Fatalf("enqueued %s/%d, want FAST_SCRIPT/30", task.TaskClass, task.Timeout)
	}
	if out := f.ok("peek", "-q", "a"); !strings.Contains(out, task.ID) || !strings.Contains(out, "Prompt: Keep it short") {
		t.Fatalf("peek:\n%s", out)
	}

	if out := f.ok("queue", "archive", "a"); !strings.Contains(out, "archived") {
		t.Fatalf("archive printed %q", out)
	}
	if r := f.run("claim", "-q", "a"); r.code != 1 || !strings.Contains(r.stderr, "archived") || !strings.Contains(r.stderr, "sparkq queue unarchive a") {
		t.Fatalf("claim from an archived queue:\n%s", r)
	}
	var archived []store.Queue
	f.json(&archived, "queue", "list", "--status", "archived")
	if len(archived) != 1 || archived[0].Name != "a" {
		t.Fatalf("archived queues: %+v", archived)
	}
	f.ok("queue", "unarchive", "a")
	f.ok("claim", "-q", "a")
	f.ok("fail", task.ID, "--error", "boom", "--error-type", "test", "--stderr", "trace")
	f.json(&task, "task", task.ID)
	if task.Status != store.TaskFailed || deref(task.Error) != "test: boom" || deref(task.Stderr) != "trace" {
		t.Fatalf("failed task: %+v", task)
	}
	var again store.Task
	f.json(&again, "requeue", task.ID)
	if again.ID == task.ID || again.Status != store.TaskQueued {
		t.Fatalf("requeue gave %+v", again)
	}
	f.json(&task, "rerun", task.ID)
	if task.Status != store.TaskQueued || task.Attempts != 0 {
		t.Fatalf("rerun gave %+v", task)
	}

	f.ok("queue", "end", "b")
	if r := f.run("enqueue", "-q", "b", "-t", "run-bash"); r.code != 1 || !strings.Contains(r.stderr, "Queue b is ended") {
		t.Fatalf("enqueue into an ended queue:\n%s", r)
	}
	if out := f.ok("queue", "delete", "b", "--yes"); !strings.Contains(out, "Deleted queue b") {
		t.Fatalf("delete printed %q", out)
	}
	out := f.ok("queue", "list")
	if !strings.Contains(out, "NAME") || !strings.Contains(out, "life") || strings.Contains(out, "\nb ") {
		t.Fatalf("queue list:\n%s", out)
	}

	if out := f.ok("session", "end", "life"); !strings.Contains(out, "Ended session: life") {
		t.Fatalf("session end printed %q", out)
	}
	var ended []store.Session
	f.json(&ended, "session", "list", "--status", "ended")
	if len(ended) != 1 || ended[0].Name != "life" || deref(ended[0].Description) != "lifecycle" {
		t.Fatalf("ended sessions: %+v", ended)
	}
	if out := f.ok("purge", "--older-than-days", "1"); out != "Deleted 0 finished tasks older than 1 day(s)\n" {
		t.Fatalf("purge printed %q", out)
	}
	if out := f.ok("purge"); out != "Deleted 0 finished tasks older than 3 day(s)\n" {
		t.Fatalf("purge with the configured default printed %q", out)
	}
	if out := f.ok("reload"); out != "Configuration reloaded\n" {
		t.Fatalf("reload printed %q", out)
	}
}

// TestFileInputDropsBOM: files saved with a UTF-8 byte order mark (some
// Windows editors add one) are read as their text, not refused as invalid
// JSON or stored with the mark.
func TestFileInputDropsBOM(t *testing.T) {
	t.Parallel()
	f := startDaemon(t)
	f.ok("session", "create", "bom")
	f.ok("queue", "create", "q", "-s", "bom")
	payload := filepath.Join(f.dir, "payload.json")
	writeFile(t, payload, "\xef\xbb\xbf{\"prompt\": \"hi\"}\n")
	prompt := filepath.Join(f.dir, "prompt.txt")
	writeFile(t, prompt, "\xef\xbb\xbfSay hi")
	var a, b store.Task
	f.json(&a, "enqueue", "-q", "q", "-t", "run-bash", "--payload-file", payload)
	f.json(&b, "enqueue", "-q", "q", "-t", "run-bash", "--prompt-file", prompt)
	for _, task := range []store.Task{a, b} {
		if strings.Contains(task.Payload, "\ufeff") || !strings.Contains(task.Payload, "hi") {
			t.Errorf("payload %q: want the file's text without the byte order mark", task.Payload)
		}
	}
	if !strings.Contains(b.Payload, `"Say hi"`) {
		t.Errorf("prompt payload %q: want the prompt \"Say hi\"", b.Payload)
	}
}
