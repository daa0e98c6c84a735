// Package worker is SparkQ's queue runner, behind `sparkq worker`. It
// claims a queue's tasks the moment they are enqueued (blocking claims: the
// daemon hands a task to the worker that has waited longest), prints each
// for a person or an AI agent to work, or with Exec runs script tasks
// itself, and heartbeats while a task runs so the daemon's stale sweep
// leaves it alone. It talks to the daemon only through an API (the control
// client), so the CLI links no server code.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/sparkq/sparkq/control"
	"github.com/sparkq/sparkq/store"
)

// API is what the worker needs from the daemon; *control.Client has it.
type API interface {
	ClaimNextWait(ctx context.Context, queueID, workerID string, wait time.Duration) (store.Task, error)
	Heartbeat(ctx context.Context, taskID, workerID string) (store.Lease, error)
	Complete(ctx context.Context, taskID string, c store.Completion) (store.Task, error)
	Fail(ctx context.Context, taskID string, f store.Failure) (store.Task, error)
	Release(ctx context.Context, taskID, workerID string) (store.Task, error)
	GetTask(ctx context.Context, id string) (store.Task, error)
	ListTasks(ctx context.Context, f store.TaskFilter, p store.Page) (control.TaskList, error)
}

var _ API = (*control.Client)(nil)

// Mode says when the worker stops.
type Mode int

// Modes.
const (
	UntilEmpty Mode = iota // work until the queue is empty (default)
	Once                   // handle at most one task
	Watch                  // run until stopped, waiting for new tasks
)

// Config configures a Worker. Zero durations take the defaults below.
type Config struct {
	API      API
	Queue    store.Queue
	WorkerID string
	Mode     Mode
	// Wait is how long Once and UntilEmpty wait for a task when the queue
	// is empty (0: not at all). Watch always waits.
	Wait time.Duration
	// Exec runs script tasks (see PlanScript) instead of printing them.
	Exec       bool
	ScriptDirs []string
	Dir        string // scripts' working directory ("" = the worker's)
	Socket     string // passed to scripts as SPARKQ_SOCKET
	// Heartbeat is the heartbeat period; 0 means a quarter of the task's
	// timeout, at most 30 s.
	Heartbeat time.Duration
	// Grace is how long a running task may still finish after Stop before
	// the worker gives up on it (default 10 s).
	Grace time.Duration
	// KillGrace is the pause between SIGTERM and SIGKILL (default 5 s).
	KillGrace time.Duration
	// ReleaseOnExit puts an unfinished task back to queued on Stop instead
	// of failing it.
	ReleaseOnExit bool
	MaxOutput     int // bytes of stdout and of stderr kept per task (default 256 KiB)
	// JSON prints one Record per task on Out; messages go to Log.
	JSON bool
	Out  io.Writer // the task stream
	Log  io.Writer // messages; in text mode usually the same as Out
	// CLI is how printed hints invoke sparkq (default "sparkq").
	CLI string
	// Check is how often a printed task is checked for completion while the
	// worker holds it (default 1 s).
	Check time.Duration
	// PollWait is the wait of each blocking claim in Watch mode (default
	// 30 s); the worker asks again when it ends.
	PollWait time.Duration
}

// Defaults.
const (
	defaultGrace    = 10 * time.Second
	defaultCheck    = time.Second
	defaultPollWait = 30 * time.Second
	maxHeartbeat    = 30 * time.Second
	// maxClaimWait is the daemon's bound on one blocking claim.
	maxClaimWait = 5 * time.Minute
	// reportPatience bounds retries of a result report while the daemon is
	// unreachable (a restart, say).
	reportPatience = time.Minute
)

// Summary counts what a run did.
type Summary struct {
	Claimed   int `json:"claimed"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Released  int `json:"released"`
}

// Worker is one queue runner. Run it once.
type Worker struct {
	cfg      Config
	out, log io.Writer

	mu      sync.Mutex
	stopped bool
	reason  string
	stopCh  chan struct{} // closed by the first Stop
	abortCh chan struct{} // closed by the second Stop
	cancel  context.CancelFunc
	sum     Summary
}

// New returns a worker for cfg.
func New(cfg Config) *Worker {
	if cfg.Grace <= 0 {
		cfg.Grace = defaultGrace
	}
	if cfg.Check <= 0 {
		cfg.Check = defaultCheck
	}
	if cfg.PollWait <= 0 {
		cfg.PollWait = defaultPollWait
	}
	if cfg.MaxOutput <= 0 {
		cfg.MaxOutput = defaultMaxOutput
	}
	if cfg.CLI == "" {
		cfg.CLI = "sparkq"
	}
	w := &Worker{cfg: cfg, out: cfg.Out, log: cfg.Log, stopCh: make(chan struct{}), abortCh: make(chan struct{})}
	if w.out == nil {
		w.out = io.Discard
	}
	if w.log == nil {
		w.log = io.Discard
	}
	return w
}

// Stop asks the worker to leave: it claims nothing more, lets a running
// task finish within Grace, then fails or releases it. A second Stop skips
// what is left of the grace period.
func (w *Worker) Stop(reason string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.stopped, w.reason = true, reason
		close(w.stopCh)
		if w.cancel != nil {
			w.cancel()
		}
		return
	}
	select {
	case <-w.abortCh:
	default:
		close(w.abortCh)
	}
}

func (w *Worker) isStopped() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stopped
}

func (w *Worker) logf(format string, args ...any) {
	prefix := "[worker] "
	fmt.Fprintf(w.log, prefix+format+"\n", args...)
}

// Run works the queue until the mode says stop, Stop is called or ctx ends
// (which abandons a running task at once, as a second Stop does).
func (w *Worker) Run(ctx context.Context) (Summary, error) {
	claimCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	w.mu.Lock()
	w.cancel = cancel
	if w.stopped {
		cancel()
	}
	w.mu.Unlock()

	w.banner()
	var backoff time.Duration
	for {
		if w.isStopped() || ctx.Err() != nil {
			w.logf("Stopped. Processed %s.", Tasks(w.sum.Claimed))
			return w.sum, nil
		}
		t, err := w.claim(claimCtx)
		switch {
		case err == nil:
			backoff = 0
			w.sum.Claimed++
			w.handle(ctx, t)
			if w.cfg.Mode == Once {
				return w.sum, nil
			}
		case w.isStopped() || ctx.Err() != nil:
			w.releaseOrphans(ctx)
		case errors.Is(err, store.ErrEmpty) && w.cfg.Mode == Watch:
			// the wait ended; wait again
		case errors.Is(err, store.ErrEmpty) && w.cfg.Mode == Once:
			w.logf("No tasks available in queue '%s'.", w.cfg.Queue.Name)
			return w.sum, nil
		case errors.Is(err, store.ErrEmpty):
			w.logf("Queue is empty. Processed %s.", Tasks(w.sum.Claimed))
			return w.sum, nil
		case transient(err) && w.cfg.Mode == Watch:
			backoff = min(max(2*backoff, 500*time.Millisecond), 30*time.Second)
			w.logf("Cannot reach the daemon (%v); trying again in %s.", err, backoff)
			select {
			case <-time.After(backoff):
			case <-claimCtx.Done():
			}
		default:
			return w.sum, fmt.Errorf("claim from queue %s: %w", w.cfg.Queue.Name, err)
		}
	}
}

// claim takes the next task, waiting as the mode says.
func (w *Worker) claim(ctx context.Context) (store.Task, error) {
	if w.cfg.Mode == Watch {
		return w.cfg.API.ClaimNextWait(ctx, w.cfg.Queue.ID, w.cfg.WorkerID, w.cfg.PollWait)
	}
	deadline := time.Now().Add(w.cfg.Wait)
	for {
		wait := min(time.Until(deadline), maxClaimWait)
		if wait < time.Millisecond {
			wait = 0
		}
		t, err := w.cfg.API.ClaimNextWait(ctx, w.cfg.Queue.ID, w.cfg.WorkerID, wait)
		if !errors.Is(err, store.ErrEmpty) || wait == 0 || time.Until(deadline) <= 0 {
			return t, err
		}
	}
}

// releaseOrphans puts back tasks claimed for this worker that it never
// received: a claim cut short by Stop may have succeeded on the daemon
// just as the worker hung up. Worker ids are unique per process (they end
// with the PID), so only this worker's tasks match.
func (w *Worker) releaseOrphans(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	list, err := w.cfg.API.ListTasks(ctx, store.TaskFilter{QueueID: w.cfg.Queue.ID, Status: store.TaskRunning}, store.Page{Limit: 1000})
	if err != nil {
		return
	}
	for _, t := range list.Tasks {
		if !sameWorker(t, w.cfg.WorkerID) {
			continue
		}
		if _, err := w.cfg.API.Release(ctx, t.ID, w.cfg.WorkerID); err == nil {
			w.sum.Released++
			w.logf("Released %s: it was claimed for this worker just as it stopped.", t.ID)
		}
	}
}

// handle works one claimed task.
func (w *Worker) handle(ctx context.Context, t store.Task) {
	if w.cfg.Exec {
		plan, err := PlanScript(t, w.cfg.ScriptDirs)
		var te *TaskError
		switch {
		case err == nil:
			w.execute(ctx, t, plan)
			return
		case errors.As(err, &te):
			w.printTask(t, showRefused, nil)
			w.logf("Refusing to run task %s: %s", t.ID, te.Msg)
			w.finish(ctx, t, nil, func(ctx context.Context) (store.Task, error) {
				return w.cfg.API.Fail(ctx, t.ID, store.Failure{Type: te.Type, Message: te.Msg})
			})
			return
		}
	}
	w.printTask(t, showWork, nil)
	if w.cfg.JSON {
		w.emit(Record{Outcome: OutcomeClaimed, Task: t, Commands: w.commands(t)})
	}
	if w.cfg.Mode == Once {
		w.logf("Claimed %s; this worker exits now, so nothing heartbeats it: finish it within %s of claiming "+
			"(the daemon fails it after 2x its timeout), or extend it with `%s touch %s`.", t.ID, seconds(t.Timeout), w.cfg.CLI, t.ID)
		return
	}
	w.follow(ctx, t)
}

// heartbeatEvery is the heartbeat period for t.
func (w *Worker) heartbeatEvery(t store.Task) time.Duration {
	if w.cfg.Heartbeat > 0 {
		return w.cfg.Heartbeat
	}
	return min(time.Duration(t.Timeout)*time.Second/4, maxHeartbeat)
}

// gone reports an answer meaning the task is no longer ours to work: it
// finished, was deleted, or someone else claimed it.
func gone(err error) bool {
	return errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound)
}

// transient reports an error worth retrying: the daemon unreachable or
// failing, not refusing.
func transient(err error) bool {
	var ce *control.Error
	if errors.As(err, &ce) {
		return ce.Status >= 500
	}
	switch store.KindOf(err) {
	case store.KindNotFound, store.KindConflict, store.KindInvalid, store.KindEmpty:
		return false
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// follow holds a printed task while someone works it: it heartbeats, and
// returns once the task is completed or failed (by anyone).
func (w *Worker) follow(ctx context.Context, t store.Task) {
	every := w.heartbeatEvery(t)
	w.logf("Waiting for %s to be completed or failed; heartbeating every %s. Ctrl-C stops the worker.", t.ID, every)
	beat, check := time.NewTicker(every), time.NewTicker(w.cfg.Check)
	defer beat.Stop()
	defer check.Stop()
	stopCh := w.stopCh
	var grace <-chan time.Time
	for {
		select {
		case <-beat.C:
			if _, err := w.cfg.API.Heartbeat(ctx, t.ID, w.cfg.WorkerID); gone(err) {
				w.settled(ctx, t)
				return
			} else if err != nil && ctx.Err() == nil {
				w.logf("Heartbeat for %s failed: %v", t.ID, err)
			}
		case <-check.C:
			cur, err := w.cfg.API.GetTask(ctx, t.ID)
			switch {
			case errors.Is(err, store.ErrNotFound):
				w.logf("Task %s was deleted.", t.ID)
				return
			case err == nil && (cur.Status != store.TaskRunning || !sameWorker(cur, w.cfg.WorkerID)):
				w.report(cur)
				return
			}
		case <-stopCh:
			stopCh = nil
			grace = time.After(w.cfg.Grace)
			w.logf("Stopping: waiting up to %s for %s to be finished.", w.cfg.Grace, t.ID)
		case <-grace:
			w.leave(ctx, t, Outcome{}, nil, fmt.Sprintf("nobody completed or failed it within the %s grace period", w.cfg.Grace))
			return
		case <-w.abortCh:
			w.leave(ctx, t, Outcome{}, nil, "nobody had completed or failed it")
			return
		case <-ctx.Done():
			w.leave(ctx, t, Outcome{}, nil, "nobody had completed or failed it")
			return
		}
	}
}

func sameWorker(t store.Task, id string) bool { return t.WorkerID != nil && *t.WorkerID == id }

// settled looks up a task that stopped heartbeating and reports it.
func (w *Worker) settled(ctx context.Context, t store.Task) {
	if cur, err := w.cfg.API.GetTask(ctx, t.ID); err == nil {
		w.report(cur)
		return
	}
	w.logf("Task %s is no longer running.", t.ID)
}

// report tells what became of a printed task that someone else finished.
func (w *Worker) report(t store.Task) {
	switch {
	case t.Status == store.TaskSucceeded:
		w.sum.Succeeded++
		w.logf("Task %s succeeded.", t.ID)
	case t.Status == store.TaskFailed:
		w.sum.Failed++
		w.logf("Task %s failed: %s", t.ID, deref(t.Error))
	default:
		w.logf("Task %s is %s (worker %s) and no longer held by this worker.", t.ID, t.Status, deref(t.WorkerID))
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Causes of ending a script early.
var (
	errTaskGone      = errors.New("task no longer running")
	errWorkerStopped = errors.New("worker stopped")
)

// execute runs a script task and records its outcome.
func (w *Worker) execute(ctx context.Context, t store.Task, plan Script) {
	w.printTask(t, showRun, &plan)
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go w.heartbeat(runCtx, t, func() { cancel(errTaskGone) })
	go func() {
		select {
		case <-w.stopCh:
		case <-runCtx.Done():
			return
		}
		select {
		case <-time.After(w.cfg.Grace):
		case <-w.abortCh:
		case <-runCtx.Done():
			return
		}
		cancel(errWorkerStopped)
	}()
	env := []string{
		"SPARKQ_TASK_ID=" + t.ID,
		"SPARKQ_QUEUE_ID=" + t.QueueID,
		"SPARKQ_QUEUE=" + t.QueueName,
		"SPARKQ_TOOL=" + t.ToolName,
		"SPARKQ_TASK_CLASS=" + t.TaskClass,
		"SPARKQ_ATTEMPT=" + strconv.Itoa(t.Attempts),
		"SPARKQ_TIMEOUT=" + strconv.Itoa(t.Timeout),
		"SPARKQ_WORKER_ID=" + w.cfg.WorkerID,
	}
	if w.cfg.Socket != "" {
		env = append(env, "SPARKQ_SOCKET="+w.cfg.Socket)
	}
	out := Run(runCtx, RunSpec{
		Argv: plan.Argv, Dir: w.cfg.Dir, Env: env, Stdin: []byte(t.Payload),
		Timeout: time.Duration(t.Timeout) * time.Second, KillGrace: w.cfg.KillGrace, MaxOutput: w.cfg.MaxOutput,
	})
	cause := context.Cause(runCtx)
	cancel(nil) // ends the heartbeats before the result is recorded
	rep := newExecReport(plan.Argv, out)
	data, _ := json.Marshal(rep)
	result := string(data)
	stdout, stderr := optional(out.Stdout), optional(out.Stderr)
	took := out.Duration.Round(time.Millisecond)

	switch {
	case out.Stopped && errors.Is(cause, errTaskGone):
		w.logf("Task %s is no longer running (finished, deleted or claimed elsewhere): its script was stopped.", t.ID)
		if w.cfg.JSON {
			w.emit(Record{Outcome: OutcomeAbandoned, Task: t, Exec: rep})
		}
	case out.Stopped:
		w.leave(ctx, t, out, rep, fmt.Sprintf("its script was killed after running %s", took))
	case out.OK():
		w.logf("Succeeded: exit 0 after %s (stdout %s, stderr %s).", took, size(out.StdoutBytes), size(out.StderrBytes))
		w.finish(ctx, t, rep, func(ctx context.Context) (store.Task, error) {
			return w.cfg.API.Complete(ctx, t.ID, store.Completion{Summary: fmt.Sprintf("exit 0 after %s", took),
				Data: &result, Stdout: stdout, Stderr: stderr})
		})
	default:
		f := store.Failure{Data: &result, Stdout: stdout, Stderr: stderr}
		switch {
		case out.TimedOut:
			f.Type, f.Message = "TIMEOUT", fmt.Sprintf("script ran past the task's timeout of %s: its process group was killed", seconds(t.Timeout))
		case out.StartErr != nil:
			f.Type, f.Message = "EXEC_ERROR", fmt.Sprintf("cannot run %s: %v", shellJoin(plan.Argv), out.StartErr)
		case out.Signal != "":
			f.Type, f.Message = "SCRIPT_FAILED", fmt.Sprintf("killed by signal %s after %s", out.Signal, took)
		default:
			f.Type, f.Message = "SCRIPT_FAILED", fmt.Sprintf("exit status %d after %s", out.ExitCode, took)
		}
		if tail := lastLines(out.Stderr, 20, 2000); tail != "" {
			f.Message += "; stderr:\n" + tail
		}
		w.logf("Failed: %s: %s", f.Type, f.Message)
		w.finish(ctx, t, rep, func(ctx context.Context) (store.Task, error) { return w.cfg.API.Fail(ctx, t.ID, f) })
	}
}

// heartbeat keeps t's claim alive until ctx ends; gone is called when the
// daemon says the task is no longer this worker's.
func (w *Worker) heartbeat(ctx context.Context, t store.Task, onGone func()) {
	tick := time.NewTicker(w.heartbeatEvery(t))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		_, err := w.cfg.API.Heartbeat(ctx, t.ID, w.cfg.WorkerID)
		switch {
		case gone(err):
			// Auto-failed because heartbeats did not get through (the
			// daemon was away)? A late completion still counts, so let the
			// script finish. Anything else means hands off.
			if cur, err := w.cfg.API.GetTask(ctx, t.ID); err == nil && cur.Status == store.TaskFailed && cur.AutoFailed {
				w.logf("Task %s was auto-failed while its script ran; letting it finish, its result will still be recorded.", t.ID)
				return
			}
			onGone()
			return
		case err != nil && ctx.Err() == nil:
			w.logf("Heartbeat for %s failed: %v", t.ID, err)
		}
	}
}

// leave gives up a task the worker holds because the worker is stopping:
// it releases it back to the queue (ReleaseOnExit) or fails it.
func (w *Worker) leave(ctx context.Context, t store.Task, out Outcome, rep *ExecReport, what string) {
	w.mu.Lock()
	reason := w.reason
	w.mu.Unlock()
	if reason == "" {
		reason = "stopped"
	}
	if w.cfg.ReleaseOnExit {
		w.logf("Releasing %s back to the queue (%s).", t.ID, what)
		got, err := w.retry(ctx, "release "+t.ID, func(ctx context.Context) (store.Task, error) {
			return w.cfg.API.Release(ctx, t.ID, w.cfg.WorkerID)
		})
		switch {
		case err != nil:
			w.logf("Could not release %s: %v", t.ID, err)
		default:
			w.sum.Released++
			if w.cfg.JSON {
				w.emit(Record{Outcome: OutcomeReleased, Task: got, Exec: rep})
			}
		}
		return
	}
	f := store.Failure{Type: "WORKER_STOPPED",
		Message: fmt.Sprintf("worker %s stopped (%s) while holding the task: %s", w.cfg.WorkerID, reason, what),
		Stdout:  optional(out.Stdout), Stderr: optional(out.Stderr)}
	if rep != nil {
		b, _ := json.Marshal(rep)
		data := string(b)
		f.Data = &data
	}
	w.logf("Failing %s: %s", t.ID, f.Message)
	w.finish(ctx, t, rep, func(ctx context.Context) (store.Task, error) { return w.cfg.API.Fail(ctx, t.ID, f) })
}

// finish records a task's outcome through record, retrying while the
// daemon is unreachable, and emits the task's record.
func (w *Worker) finish(ctx context.Context, t store.Task, rep *ExecReport, record func(context.Context) (store.Task, error)) {
	got, err := w.retry(ctx, "record the result of "+t.ID, record)
	var ce *control.Error
	if errors.As(err, &ce) && ce.Status == http.StatusRequestEntityTooLarge {
		// Never leave the task running because its output did not fit:
		// fail it with a short explanation instead.
		w.logf("The result of %s is larger than the daemon accepts (%v); failing it without the output.", t.ID, err)
		got, err = w.retry(ctx, "record the result of "+t.ID, func(ctx context.Context) (store.Task, error) {
			return w.cfg.API.Fail(ctx, t.ID, store.Failure{Type: "RESULT_TOO_LARGE",
				Message: "the task's output and result exceed the daemon's request size limit: lower the worker's --max-output or raise server.max_body_bytes"})
		})
	}
	r := Record{Task: got, Exec: rep}
	switch {
	case err != nil:
		w.logf("Could not record the result of %s: %v", t.ID, err)
		r.Task, r.Outcome, r.Error = t, OutcomeAbandoned, err.Error()
	case got.Status == store.TaskSucceeded:
		w.sum.Succeeded++
		r.Outcome = OutcomeSucceeded
	default:
		w.sum.Failed++
		r.Outcome = OutcomeFailed
	}
	if w.cfg.JSON {
		w.emit(r)
	}
}

// retry calls fn until it succeeds, fails for good, or reportPatience
// passes. It keeps going after ctx ends: a result is worth recording.
func (w *Worker) retry(ctx context.Context, what string, fn func(context.Context) (store.Task, error)) (store.Task, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reportPatience)
	defer cancel()
	delay := 250 * time.Millisecond
	for {
		t, err := fn(ctx)
		if err == nil || !transient(err) || ctx.Err() != nil {
			return t, err
		}
		w.logf("Could not %s (%v); trying again in %s.", what, err, delay)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return t, err
		}
		delay = min(2*delay, 5*time.Second)
	}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Tasks counts tasks in words: "1 task", "2 tasks".
func Tasks(n int) string {
	if n == 1 {
		return "1 task"
	}
	return fmt.Sprintf("%d tasks", n)
}
