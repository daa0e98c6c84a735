package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/sparkq/sparkq/control"
	"github.com/sparkq/sparkq/control/worker"
	"github.com/sparkq/sparkq/store"
)

func (a *app) workerCommands() []*ffcli.Command {
	return []*ffcli.Command{a.workerCommand(), a.touchCommand(), a.releaseCommand()}
}

const workerHelp = `Claims the queue's tasks in order and hands them out the moment they are
enqueued (the daemon wakes the worker that has waited longest; nothing
polls). Each task is printed with everything needed to work it and the
commands that finish it; the worker then holds it, heartbeating so the
daemon does not auto-fail a long task, until someone completes or fails it,
and claims the next. --json prints one JSON object per task instead. An
agent that runs the worker and waits for it to exit should use --once: it
prints one task and exits, leaving the task to the agent.

With --exec, script tasks (run-bash, run-python, or any task whose payload
names a script_path with a #! line or a known extension) run here: the
script must lie inside a configured script_dirs folder (symlinks resolved);
it runs in its own process group from the current directory, with the
payload JSON on stdin and SPARKQ_TASK_ID, SPARKQ_QUEUE_ID, SPARKQ_QUEUE,
SPARKQ_ATTEMPT, SPARKQ_TIMEOUT, SPARKQ_WORKER_ID and SPARKQ_SOCKET set. Exit
0 completes the task, anything else fails it with the exit status and the
end of stderr; past the task's timeout the whole group is killed and the
task fails with TIMEOUT. The last 256 KiB of stdout and of stderr is kept.

Ctrl-C (or SIGTERM) stops claiming, gives a running task --grace to finish,
then fails it (or, with --release-on-exit, puts it back in the queue). A
second Ctrl-C gives up at once.

One worker per queue holds a lock (queue_runner.lock_dir, else the system
temp folder) unless --allow-multiple.`

func (a *app) workerCommand() *ffcli.Command {
	var (
		queue, session, workerID        string
		once, untilEmpty, watch         bool
		execute, release, allowMultiple bool
		wait, grace, heartbeat          time.Duration
		maxOutput                       int
	)
	return a.leaf("", cmdSpec{
		name: "worker", maxArgs: 0, json: true, unbounded: true,
		short: "Work a queue: print each task as it arrives, or run script tasks",
		long:  workerHelp,
		flags: func(fs *flag.FlagSet) {
			queueFlags(fs, &queue, &session)
			fs.BoolVar(&once, "once", false, "handle at most one task, then exit")
			fs.BoolVar(&untilEmpty, "until-empty", false, "work until the queue is empty, then exit (the default)")
			fs.BoolVar(&watch, "watch", false, "run until stopped, taking each new task as it is enqueued")
			fs.DurationVar(&wait, "wait", 0, "with --once or --until-empty: wait up to `DURATION` for a task when the queue is empty")
			fs.BoolVar(&execute, "exec", false, "run script tasks instead of printing them")
			fs.DurationVar(&grace, "grace", 10*time.Second, "on Ctrl-C/SIGTERM, let a running task finish for up to `DURATION`")
			fs.BoolVar(&release, "release-on-exit", false, "put an unfinished task back in the queue when stopped, instead of failing it")
			fs.BoolVar(&allowMultiple, "allow-multiple", false, "do not take the per-queue worker lock")
			fs.StringVar(&workerID, "worker", "", "worker `ID` recorded on claimed tasks (default worker-<host>-<queue>-<pid>)")
			fs.DurationVar(&heartbeat, "heartbeat", 0, "heartbeat every `DURATION`; 0 means a quarter of the task's timeout, at most 30s")
			fs.IntVar(&maxOutput, "max-output", 256<<10, "keep the last `BYTES` of a script's stdout and of its stderr")
		},
		exec: func(ctx context.Context, _ []string) error {
			mode := worker.UntilEmpty
			switch n := btoi(once) + btoi(untilEmpty) + btoi(watch); {
			case n > 1:
				return a.usagef("give one of --once, --until-empty and --watch")
			case once:
				mode = worker.Once
			case watch:
				mode = worker.Watch
			}
			switch {
			case strings.TrimSpace(queue) == "":
				return a.usagef("--queue is required")
			case wait < 0 || grace < 0 || heartbeat < 0:
				return a.usagef("--wait, --grace and --heartbeat must not be negative")
			case wait > 0 && mode == worker.Watch:
				return a.usagef("--wait applies to --once and --until-empty; --watch always waits")
			case maxOutput < 1024:
				return a.usagef("--max-output must be at least 1024 bytes, got %d", maxOutput)
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			c := control.Dial(cfg.SocketPath())
			defer c.Close()
			q, err := resolveQueue(ctx, c, queue, session)
			if err != nil {
				return err
			}
			if !allowMultiple {
				dir := a.getenv("SPARKQ_RUNNER_LOCK_DIR")
				if dir == "" {
					dir = cfg.QueueRunner.LockDir
				}
				lock, err := worker.LockQueue(dir, q.ID)
				var held *worker.LockedError
				if errors.As(err, &held) {
					return failf("stop the other worker, or pass --allow-multiple to run several on purpose",
						"queue '%s': %s", q.Name, held.Error())
				}
				if err != nil {
					return err
				}
				defer lock.Release()
			}
			if workerID == "" {
				host, _ := os.Hostname()
				workerID = fmt.Sprintf("worker-%s-%s-%d", host, strings.ReplaceAll(q.Name, " ", "_"), os.Getpid())
			}
			cwd, _ := os.Getwd()
			log := a.stdout
			if a.jsonOut {
				log = a.stderr
			}
			w := worker.New(worker.Config{
				API: endedQueueAPI{c}, Queue: q, WorkerID: workerID, Mode: mode, Wait: wait,
				Exec: execute, ScriptDirs: cfg.ScriptDirs, Dir: cwd, Socket: cfg.SocketPath(),
				Heartbeat: heartbeat, Grace: grace, ReleaseOnExit: release, MaxOutput: maxOutput,
				JSON: a.jsonOut, Out: a.stdout, Log: log, CLI: a.cliPrefix(),
			})
			sigs := make(chan os.Signal, 2)
			signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
			defer signal.Stop(sigs)
			done := make(chan struct{})
			defer close(done)
			go func() {
				for n := 0; ; n++ {
					select {
					case s := <-sigs:
						if n == 0 {
							fmt.Fprintf(a.stderr, "\n[worker] %s: stopping; send it again to give up on a running task at once\n", s)
						} else {
							fmt.Fprintf(a.stderr, "\n[worker] %s: giving up on the running task\n", s)
						}
						w.Stop(s.String())
					case <-done:
						return
					}
				}
			}()
			sum, err := w.Run(ctx)
			var drained *queueDrainedError
			if errors.As(err, &drained) {
				fmt.Fprintf(log, "[worker] Queue '%s' is ended and has no tasks left. Processed %s.\n", q.Name, worker.Tasks(sum.Claimed))
				return nil
			}
			if err != nil {
				return explain(err, hints{conflict: "unarchive the queue with `sparkq queue unarchive " + q.Name + "`",
					notFound: queueHints.notFound})
			}
			return nil
		},
	})
}

// endedQueueAPI stops a worker cleanly (exit 0) at an ended queue with
// nothing queued or running: nothing can arrive there, and the daemon
// refuses such a wait with a conflict, which would otherwise be an error.
type endedQueueAPI struct{ *control.Client }

// queueDrainedError says an ended queue has nothing left to hand out.
type queueDrainedError struct{ queue string }

func (e *queueDrainedError) Error() string {
	return fmt.Sprintf("queue %s is ended and has no queued or running tasks", e.queue)
}

// Unwrap makes it a conflict, which the worker takes as final rather than
// as a daemon to retry.
func (e *queueDrainedError) Unwrap() error { return store.ErrConflict }

func (c endedQueueAPI) ClaimNextWait(ctx context.Context, queueID, workerID string, wait time.Duration) (store.Task, error) {
	t, err := c.Client.ClaimNextWait(ctx, queueID, workerID, wait)
	if wait <= 0 || !(errors.Is(err, store.ErrEmpty) || errors.Is(err, store.ErrConflict)) {
		return t, err
	}
	// The daemon answers a wait there with a conflict, like an archived
	// queue's; and an empty answer may be a timeout just as the queue
	// drained. The queue's state tells them apart.
	q, qerr := c.Client.GetQueue(ctx, queueID, "")
	if qerr == nil && q.State == store.QueueEnded && q.Stats.Queued == 0 && q.Stats.Running == 0 {
		return t, &queueDrainedError{queue: q.Name}
	}
	return t, err
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// cliPrefix is how printed hints should invoke sparkq so that they reach the
// same daemon: with --config or --socket when this run had them.
func (a *app) cliPrefix() string {
	words := []string{"sparkq"}
	if a.configFlag != "" {
		words = append(words, "--config", shellQuote(a.configFlag))
	}
	if a.socketFlag != "" {
		words = append(words, "--socket", shellQuote(a.socketFlag))
	}
	return strings.Join(words, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (a *app) touchCommand() *ffcli.Command {
	var workerID string
	return a.leaf("", cmdSpec{
		name: "touch", args: "TASK", minArgs: 1, maxArgs: 1, json: true,
		short: "Heartbeat a running task: restart its stale clock",
		long: `The daemon warns about a running task after its timeout and auto-fails it
after twice its timeout, counted from its claim or its last heartbeat. Touch
a task you are still working on to keep it. sparkq worker does this by
itself while it holds a task.`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&workerID, "worker", "", "only if the task is claimed by worker `ID`")
		},
		exec: func(ctx context.Context, args []string) error {
			c, err := a.dial()
			if err != nil {
				return err
			}
			lease, err := c.Heartbeat(ctx, args[0], workerID)
			if err != nil {
				return explain(err, hints{notFound: taskHints.notFound,
					conflict: "only running (claimed) tasks can be touched; see `sparkq task " + args[0] + "`"})
			}
			if a.jsonOut {
				return a.printJSON(lease)
			}
			fmt.Fprintf(a.stdout, "Task %s heartbeat at %s: stale from %s, auto-failed from %s unless touched again\n",
				lease.TaskID, lease.HeartbeatAt, lease.StaleAt, lease.AutoFailAt)
			return nil
		},
	})
}

func (a *app) releaseCommand() *ffcli.Command {
	var workerID string
	return a.leaf("", cmdSpec{
		name: "release", args: "TASK", minArgs: 1, maxArgs: 1, json: true,
		short: "Put a running task back in its queue, at its old place",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&workerID, "worker", "", "only if the task is claimed by worker `ID`")
		},
		exec: func(ctx context.Context, args []string) error {
			c, err := a.dial()
			if err != nil {
				return err
			}
			t, err := c.Release(ctx, args[0], workerID)
			if err != nil {
				return explain(err, hints{notFound: taskHints.notFound,
					conflict: "only running (claimed) tasks can be released; see `sparkq task " + args[0] + "`"})
			}
			if a.jsonOut {
				return a.printJSON(t)
			}
			fmt.Fprintf(a.stdout, "Task %s (%s) released back to queue '%s'\n", t.ID, store.FriendlyID(t.QueueName, t.ID), t.QueueName)
			return nil
		},
	})
}
