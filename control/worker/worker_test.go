package worker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sparkq/sparkq/control"
	"github.com/sparkq/sparkq/control/worker"
	"github.com/sparkq/sparkq/httpd"
	"github.com/sparkq/sparkq/store"
	"github.com/sparkq/sparkq/store/sqlite"
)

// helperEnv makes the test binary run a worker (see runHelper): the
// heartbeat test needs workers that are real processes it can kill.
const helperEnv = "SPARKQ_WORKER_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(runHelper())
	}
	os.Exit(m.Run())
}

// runHelper works the queue named by the environment in --watch print mode
// until killed.
func runHelper() int {
	c := control.Dial(os.Getenv("HELPER_SOCKET"))
	beat, _ := time.ParseDuration(os.Getenv("HELPER_HEARTBEAT"))
	w := worker.New(worker.Config{
		API: c, Queue: store.Queue{ID: os.Getenv("HELPER_QUEUE"), Name: "beats"}, WorkerID: os.Getenv("HELPER_WORKER"),
		Mode: worker.Watch, Heartbeat: beat, Out: os.Stdout, Log: os.Stdout,
	})
	if _, err := w.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// clock is a settable fake clock for the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// beats is the store with every successful heartbeat recorded.
type beats struct {
	*sqlite.Store
	mu   sync.Mutex
	last map[string]time.Time
}

func (b *beats) Heartbeat(ctx context.Context, taskID, workerID string) (store.Lease, error) {
	l, err := b.Store.Heartbeat(ctx, taskID, workerID)
	if err == nil {
		b.mu.Lock()
		b.last[taskID] = l.HeartbeatAt.Time
		b.mu.Unlock()
	}
	return l, err
}

func (b *beats) lastBeat(taskID string) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last[taskID]
}

type noControl struct{}

func (noControl) Status(context.Context) any   { return nil }
func (noControl) Reload(context.Context) error { return nil }
func (noControl) Shutdown()                    {}

// daemon is the real API and a real store on a real Unix socket.
type daemon struct {
	t      *testing.T
	store  *beats
	client *control.Client
	socket string
	clock  *clock
	queue  store.Queue
}

func startDaemon(t *testing.T) *daemon {
	t.Helper()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sparkq.db"), sqlite.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sockDir, err := os.MkdirTemp("", "sqw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	d := &daemon{t: t, store: &beats{Store: st, last: map[string]time.Time{}}, socket: filepath.Join(sockDir, "s.sock"), clock: clk}
	ln, err := control.Listen(d.socket)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: httpd.New(httpd.Config{Store: d.store, Control: noControl{}})}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	d.client = control.Dial(d.socket)
	t.Cleanup(func() {
		d.client.Close()
		srv.Close()
		<-done
	})
	sess, err := st.CreateSession(context.Background(), store.NewSession{Name: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if d.queue, err = st.CreateQueue(context.Background(), store.NewQueue{SessionID: sess.ID, Name: "work"}); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *daemon) enqueue(tool string, timeout int, payload string) store.Task {
	d.t.Helper()
	t, err := d.store.Enqueue(context.Background(), store.NewTask{QueueID: d.queue.ID, ToolName: tool, Timeout: timeout, Payload: payload})
	if err != nil {
		d.t.Fatal(err)
	}
	return t
}

func (d *daemon) task(id string) store.Task {
	d.t.Helper()
	t, err := d.store.GetTask(context.Background(), id)
	if err != nil {
		d.t.Fatal(err)
	}
	return t
}

// until polls cond; the deadline only stops a hung test.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// lines is a goroutine-safe writer that also hands out complete lines.
type lines struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	part []byte
	ch   chan string
}

func newLines() *lines { return &lines{ch: make(chan string, 100)} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	l.part = append(l.part, p...)
	for {
		i := bytes.IndexByte(l.part, '\n')
		if i < 0 {
			return len(p), nil
		}
		select {
		case l.ch <- string(l.part[:i]):
		default:
		}
		l.part = l.part[i+1:]
	}
}

func (l *lines) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }

func (l *lines) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-l.ch:
		return s
	case <-time.After(30 * time.Second):
		t.Fatalf("no line; output so far:\n%s", l.String())
		return ""
	}
}

func record(t *testing.T, line string) worker.Record {
	t.Helper()
	var r worker.Record
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatalf("not a record: %q: %v", line, err)
	}
	return r
}

// TestWorkerExec drains a queue of script tasks with real child processes:
// success, failure, timeout and a refused script, one JSON line each.
func TestWorkerExec(t *testing.T) {
	d := startDaemon(t)
	root := t.TempDir()
	dir := filepath.Join(root, "scripts")
	os.Mkdir(dir, 0o755)
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("ok.sh", `echo "task=$SPARKQ_TASK_ID queue=$SPARKQ_QUEUE/$SPARKQ_QUEUE_ID attempt=$SPARKQ_ATTEMPT timeout=$SPARKQ_TIMEOUT worker=$SPARKQ_WORKER_ID socket=$SPARKQ_SOCKET arg=$1"
cat
`)
	write("fail.sh", "echo working\necho 'no such widget' >&2\nexit 7\n")
	write("hang.sh", "while :; do sleep 1; done\n")
	os.WriteFile(filepath.Join(root, "evil.sh"), []byte("touch pwned\n"), 0o755)

	ok := d.enqueue("run-bash", 0, `{"script_path":"ok.sh","args":["x y"]}`)
	bad := d.enqueue("run-bash", 0, `{"script_path":"fail.sh"}`)
	slow := d.enqueue("run-bash", 1, `{"script_path":"hang.sh"}`)
	evil := d.enqueue("run-bash", 0, `{"script_path":"../evil.sh"}`)

	out, log := newLines(), newLines()
	w := worker.New(worker.Config{
		API: d.client, Queue: d.queue, WorkerID: "w1", Exec: true, ScriptDirs: []string{dir}, Dir: root,
		Socket: d.socket, KillGrace: 50 * time.Millisecond, JSON: true, Out: out, Log: log,
	})
	sum, err := w.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum != (worker.Summary{Claimed: 4, Succeeded: 1, Failed: 3}) {
		t.Fatalf("summary %+v\n%s", sum, log)
	}
	wantOutcomes := []string{"succeeded", "failed", "failed", "failed"}
	for i, want := range []store.Task{ok, bad, slow, evil} {
		r := record(t, out.next(t))
		if r.Task.ID != want.ID || r.Outcome != wantOutcomes[i] {
			t.Fatalf("record %d: %s %s, want %s %s", i, r.Task.ID, r.Outcome, want.ID, wantOutcomes[i])
		}
	}
	if _, err := os.Stat(filepath.Join(root, "pwned")); err == nil {
		t.Fatal("the refused script ran")
	}

	got := d.task(ok.ID)
	wantOut := fmt.Sprintf("task=%s queue=work/%s attempt=1 timeout=600 worker=w1 socket=%s arg=x y\n%s", ok.ID, d.queue.ID, d.socket, ok.Payload)
	if got.Status != store.TaskSucceeded || *got.Stdout != wantOut || *got.ResultSummary == "" {
		t.Fatalf("ok task: %s stdout %q", got.Status, deref(got.Stdout))
	}
	var rep worker.ExecReport
	if err := json.Unmarshal([]byte(*got.Result), &rep); err != nil || rep.ExitCode != 0 || rep.Argv[0] != "bash" {
		t.Fatalf("result %q: %v", *got.Result, err)
	}
	for _, tc := range []struct {
		task   store.Task
		prefix string
	}{
		{bad, "SCRIPT_FAILED: exit status 7 after "},
		{slow, "TIMEOUT: script ran past the task's timeout of 1s"},
		{evil, "SCRIPT_REFUSED: ../evil.sh is outside the configured script_dirs"},
	} {
		got := d.task(tc.task.ID)
		if got.Status != store.TaskFailed || !strings.HasPrefix(deref(got.Error), tc.prefix) {
			t.Fatalf("task %s: %s %q, want error %q…", tc.task.ID, got.Status, deref(got.Error), tc.prefix)
		}
	}
	if e := deref(d.task(bad.ID).Error); !strings.HasSuffix(e, "stderr:\nno such widget") || deref(d.task(bad.ID).Stdout) != "working\n" {
		t.Fatalf("failed task error %q", e)
	}
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// TestWorkerWatch: a waiting worker gets a task the moment another client
// enqueues it, holds it while someone works it, then waits for the next.
func TestWorkerWatch(t *testing.T) {
	d := startDaemon(t)
	out, log := newLines(), newLines()
	w := worker.New(worker.Config{API: d.client, Queue: d.queue, WorkerID: "w1", Mode: worker.Watch,
		Heartbeat: 5 * time.Millisecond, Check: 5 * time.Millisecond, JSON: true, Out: out, Log: log})
	type result struct {
		sum worker.Summary
		err error
	}
	done := make(chan result, 1)
	go func() { s, err := w.Run(context.Background()); done <- result{s, err} }()

	ctx := context.Background()
	for i := range 3 {
		until(t, "the worker to wait", func() bool { return d.store.Waiting(d.queue.ID) == 1 })
		task, err := d.client.Enqueue(ctx, control.EnqueueRequest{QueueID: d.queue.ID, ToolName: "llm-haiku", Prompt: fmt.Sprintf("job %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		r := record(t, out.next(t))
		if r.Outcome != "claimed" || r.Task.ID != task.ID || *r.Prompt != fmt.Sprintf("job %d", i) || r.Commands == nil ||
			r.Commands.Complete != `sparkq complete `+task.ID+` --summary "<summary>" [--data-file FILE, - for stdin]` {
			t.Fatalf("record %+v", r)
		}
		// It heartbeats while held.
		until(t, "a heartbeat", func() bool { return !d.store.lastBeat(task.ID).IsZero() })
		if _, err := d.client.Complete(ctx, task.ID, store.Completion{Summary: "done"}); err != nil {
			t.Fatal(err)
		}
	}
	until(t, "the worker to wait again", func() bool { return d.store.Waiting(d.queue.ID) == 1 })
	w.Stop("test")
	r := <-done
	if r.err != nil || r.sum != (worker.Summary{Claimed: 3, Succeeded: 3}) {
		t.Fatalf("Run = %+v, %v\n%s", r.sum, r.err, log)
	}
}

// TestWorkerStop: stopping gives a running script the grace period, then
// fails its task, or releases it with ReleaseOnExit; a printed task is
// handled the same way.
func TestWorkerStop(t *testing.T) {
	for _, tc := range []struct {
		name    string
		exec    bool
		release bool
	}{
		{"script fails", true, false},
		{"script released", true, true},
		{"printed released", false, true},
		{"printed fails", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := startDaemon(t)
			dir := t.TempDir()
			pidFile := filepath.Join(dir, "pid")
			os.WriteFile(filepath.Join(dir, "long.sh"), []byte("echo $$ > \""+pidFile+"\"\necho started\nwhile :; do sleep 1; done\n"), 0o755)
			task := d.enqueue("run-bash", 0, `{"script_path":"long.sh"}`)
			log := newLines()
			w := worker.New(worker.Config{API: d.client, Queue: d.queue, WorkerID: "w1", Mode: worker.Watch, Exec: tc.exec,
				ScriptDirs: []string{dir}, Grace: 20 * time.Millisecond, KillGrace: 20 * time.Millisecond,
				ReleaseOnExit: tc.release, Out: log, Log: log})
			done := make(chan worker.Summary, 1)
			go func() { s, _ := w.Run(context.Background()); done <- s }()
			until(t, "the task to be claimed", func() bool { return d.task(task.ID).Status == store.TaskRunning })
			pid := 0
			if !tc.exec {
				until(t, "the task to be printed", func() bool { return strings.Contains(log.String(), "Waiting for "+task.ID) })
			}
			if tc.exec {
				until(t, "the script to start", func() bool {
					b, _ := os.ReadFile(pidFile)
					pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
					return pid > 0
				})
			}
			w.Stop("SIGTERM")
			sum := <-done
			got := d.task(task.ID)
			switch {
			case tc.release:
				if got.Status != store.TaskQueued || got.WorkerID != nil || sum.Released != 1 {
					t.Fatalf("released: %s %+v\n%s", got.Status, sum, log)
				}
			default:
				if got.Status != store.TaskFailed || !strings.HasPrefix(deref(got.Error), "WORKER_STOPPED: worker w1 stopped (SIGTERM) while holding the task") {
					t.Fatalf("failed: %s %q\n%s", got.Status, deref(got.Error), log)
				}
			}
			// The script was our child and has been reaped: it must be gone.
			if tc.exec && syscall.Kill(pid, 0) == nil {
				t.Fatalf("script %d survived the stop", pid)
			}
			if tc.exec && !tc.release && deref(got.Stdout) != "started\n" {
				t.Fatalf("stdout of the stopped script: %q", deref(got.Stdout))
			}
		})
	}
}

// cutShort claims for real, then reports the claim as cut short by Stop,
// as when the worker hangs up while the daemon answers.
type cutShort struct {
	*control.Client
	w    *worker.Worker
	task chan string
}

func (c *cutShort) ClaimNextWait(ctx context.Context, queueID, workerID string, wait time.Duration) (store.Task, error) {
	t, err := c.Client.ClaimNextWait(ctx, queueID, workerID, wait)
	if err == nil {
		c.task <- t.ID
		c.w.Stop("test")
		return store.Task{}, context.Canceled
	}
	return t, err
}

// TestWorkerReleasesOrphan: a task claimed for the worker that it never
// received goes back to the queue when the worker stops.
func TestWorkerReleasesOrphan(t *testing.T) {
	d := startDaemon(t)
	task := d.enqueue("llm-haiku", 0, `{"prompt":"x"}`)
	api := &cutShort{Client: d.client, task: make(chan string, 1)}
	log := newLines()
	api.w = worker.New(worker.Config{API: api, Queue: d.queue, WorkerID: "w1", Mode: worker.Watch, Out: log, Log: log})
	sum, err := api.w.Run(context.Background())
	if err != nil || <-api.task != task.ID || sum.Released != 1 {
		t.Fatalf("Run = %+v, %v\n%s", sum, err, log)
	}
	if got := d.task(task.ID); got.Status != store.TaskQueued {
		t.Fatalf("orphan is %s", got.Status)
	}
}

// TestWorkerTaskFailedElsewhere: failing a running script's task from
// outside (the dashboard's fail button) stops the script.
func TestWorkerTaskFailedElsewhere(t *testing.T) {
	d := startDaemon(t)
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	os.WriteFile(filepath.Join(dir, "long.sh"), []byte("echo $$ > \""+pidFile+"\"\nwhile :; do sleep 1; done\n"), 0o755)
	task := d.enqueue("run-bash", 0, `{"script_path":"long.sh"}`)
	out, log := newLines(), newLines()
	w := worker.New(worker.Config{API: d.client, Queue: d.queue, WorkerID: "w1", Exec: true, ScriptDirs: []string{dir},
		Heartbeat: 5 * time.Millisecond, KillGrace: 20 * time.Millisecond, JSON: true, Out: out, Log: log})
	done := make(chan worker.Summary, 1)
	go func() { s, _ := w.Run(context.Background()); done <- s }()
	until(t, "the script to start", func() bool { _, err := os.Stat(pidFile); return err == nil })
	if _, err := d.client.Fail(context.Background(), task.ID, store.Failure{Message: "cancelled by hand"}); err != nil {
		t.Fatal(err)
	}
	r := record(t, out.next(t))
	if r.Outcome != "abandoned" || r.Task.ID != task.ID || r.Exec == nil || r.Exec.Signal != "terminated" {
		t.Fatalf("record %+v", r)
	}
	if got := d.task(task.ID); deref(got.Error) != "cancelled by hand" {
		t.Fatalf("the worker overwrote the failure: %q", deref(got.Error))
	}
	if sum := <-done; sum.Claimed != 1 || sum.Failed != 0 {
		t.Fatalf("summary %+v", sum)
	}
}

// TestHeartbeatFakeClock: with the store on a fake clock, a task whose
// worker process heartbeats is never auto-failed, even 5x past its
// timeout, while the task of a worker process that was killed is failed at
// 2x, as usual.
func TestHeartbeatFakeClock(t *testing.T) {
	d := startDaemon(t)
	ctx := context.Background()
	startHelper := func(workerID string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"=1", "HELPER_SOCKET="+d.socket, "HELPER_QUEUE="+d.queue.ID,
			"HELPER_WORKER="+workerID, "HELPER_HEARTBEAT=5ms")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			if t.Failed() {
				t.Logf("worker %s output:\n%s", workerID, out.String())
			}
		})
		return cmd
	}
	claimedBy := func(id, worker string) func() bool {
		return func() bool {
			got := d.task(id)
			return got.Status == store.TaskRunning && got.WorkerID != nil && *got.WorkerID == worker
		}
	}

	live := d.enqueue("llm-haiku", 60, `{"prompt":"keep me"}`)
	startHelper("live")
	until(t, "the live worker to claim", claimedBy(live.ID, "live"))
	dead := d.enqueue("llm-haiku", 60, `{"prompt":"lose me"}`)
	doomed := startHelper("dead")
	until(t, "the doomed worker to claim", claimedBy(dead.ID, "dead"))
	doomed.Process.Kill() // SIGKILL: no goodbye, no more heartbeats
	doomed.Wait()

	failedAt := time.Duration(0)
	for elapsed := 30 * time.Second; elapsed <= 5*time.Minute; elapsed += 30 * time.Second {
		d.clock.Add(30 * time.Second)
		now := d.clock.Now()
		until(t, "a heartbeat after the clock moved", func() bool { return !d.store.lastBeat(live.ID).Before(now) })
		res, err := d.store.SweepStale(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if res.Failed > 0 && failedAt == 0 {
			failedAt = elapsed
		}
		if got := d.task(live.ID); got.Status != store.TaskRunning || got.StaleWarnedAt != nil {
			t.Fatalf("heartbeating task after %s: %s (warned %v)", elapsed, got.Status, got.StaleWarnedAt)
		}
	}
	if got := d.task(dead.ID); got.Status != store.TaskFailed || !got.AutoFailed || failedAt != 2*time.Minute {
		t.Fatalf("dead worker's task: %s auto_failed=%v after %s, want auto-failed after 2m0s", got.Status, got.AutoFailed, failedAt)
	}
}

func TestLockQueue(t *testing.T) {
	dir := t.TempDir()
	l, err := worker.LockQueue(dir, "que_1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = worker.LockQueue(dir, "que_1")
	var held *worker.LockedError
	if !errors.As(err, &held) || held.PID != os.Getpid() || !strings.Contains(err.Error(), fmt.Sprintf("PID %d", os.Getpid())) {
		t.Fatalf("second lock: %v", err)
	}
	other, err := worker.LockQueue(dir, "que_2")
	if err != nil {
		t.Fatalf("another queue: %v", err)
	}
	other.Release()
	l.Release()
	again, err := worker.LockQueue(dir, "que_1")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again.Release()
}

func TestTasksWord(t *testing.T) {
	for n, want := range map[int]string{0: "0 tasks", 1: "1 task", 2: "2 tasks"} {
		if got := worker.Tasks(n); got != want {
			t.Errorf("Tasks(%d) = %q, want %q", n, got, want)
		}
	}
}
