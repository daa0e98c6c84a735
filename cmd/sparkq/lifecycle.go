package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/sparkq/sparkq/control"
	"github.com/sparkq/sparkq/daemon/config"
	"github.com/sparkq/sparkq/daemon/lockfile"
)

const (
	pollEvery   = 50 * time.Millisecond
	statusLimit = 5 * time.Second // one status request
	tailLines   = 20
)

func (a *app) lifecycleCommands() []*ffcli.Command {
	return []*ffcli.Command{
		a.setupCommand(),
		a.runCommand(),
		a.startCommand(),
		a.stopCommand(),
		a.restartCommand(),
		a.statusCommand(),
		a.reloadCommand(),
		a.versionCommand(),
	}
}

// daemonFlags are the listen overrides passed on to sparkqd.
type daemonFlags struct {
	host string
	port int
}

func (d *daemonFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&d.host, "host", "", "HTTP listen `ADDRESS` (overrides server.host)")
	fs.IntVar(&d.port, "port", 0, "HTTP `PORT` (overrides server.port)")
}

func (d *daemonFlags) check(a *app) error {
	if d.port < 0 || d.port > 65535 {
		return a.usagef("--port must be between 1 and 65535, got %d", d.port)
	}
	return nil
}

// daemonArgs is the sparkqd command line for cmd ("run" or "init"). The
// config file is always named so that the daemon reads exactly what the
// CLI read.
func (a *app) daemonArgs(cmd string, cfg config.Config, d daemonFlags) []string {
	args := []string{cmd}
	if cfg.File() != "" {
		args = append(args, "--config", cfg.File())
	}
	if d.host != "" {
		args = append(args, "--host", d.host)
	}
	if d.port != 0 {
		args = append(args, "--port", strconv.Itoa(d.port))
	}
	if a.socketFlag != "" {
		abs, err := filepath.Abs(a.socketFlag)
		if err != nil {
			abs = a.socketFlag
		}
		args = append(args, "--socket", abs)
	}
	return args
}

// sparkqd is the daemon binary installed beside this one.
func sparkqd() (string, error) {
	dir := exeDir()
	if dir == "" {
		return "", errors.New("cannot locate the sparkq binary, so cannot find sparkqd beside it")
	}
	p := filepath.Join(dir, "sparkqd")
	if fi, err := os.Stat(p); err != nil || fi.IsDir() {
		return "", failf("install sparkqd in the same folder as sparkq", "sparkqd not found at %s", p)
	}
	return p, nil
}

func (a *app) runCommand() *ffcli.Command {
	var d daemonFlags
	return a.leaf("", cmdSpec{
		name: "run", maxArgs: 0,
		short: "Run the daemon in the foreground (Ctrl-C stops it)",
		flags: d.bind,
		exec: func(ctx context.Context, _ []string) error {
			if err := d.check(a); err != nil {
				return err
			}
			cfg, err := a.loadLaunchConfig()
			if err != nil {
				return err
			}
			bin, err := sparkqd()
			if err != nil {
				return err
			}
			// Replace this process so signals reach the daemon directly.
			argv := append([]string{bin}, a.daemonArgs("run", cfg, d)...)
			if err := syscall.Exec(bin, argv, os.Environ()); err != nil {
				return fmt.Errorf("exec %s: %w", bin, err)
			}
			return nil
		},
	})
}

func (a *app) startCommand() *ffcli.Command {
	var (
		d    daemonFlags
		wait time.Duration
	)
	return a.leaf("", cmdSpec{
		name: "start", maxArgs: 0, signals: true,
		short: "Start the daemon in the background",
		long: `Starts sparkqd detached and waits until its control socket answers.
Its early output goes to <data dir>/logs/sparkqd.out. Already running: says
so and exits 0.`,
		flags: func(fs *flag.FlagSet) {
			d.bind(fs)
			fs.DurationVar(&wait, "wait", 5*time.Second, "how long to wait (a `DURATION` such as 5s) for the daemon to answer")
		},
		exec: func(ctx context.Context, _ []string) error {
			if err := d.check(a); err != nil {
				return err
			}
			if wait <= 0 {
				return a.usagef("--wait must be greater than 0")
			}
			cfg, err := a.loadLaunchConfig()
			if err != nil {
				return err
			}
			return a.start(ctx, cfg, d, wait)
		},
	})
}

// start launches the daemon unless it is already running.
func (a *app) start(ctx context.Context, cfg config.Config, d daemonFlags, wait time.Duration) error {
	c := control.Dial(cfg.SocketPath())
	defer c.Close()
	if st, err := status(ctx, c); err == nil {
		fmt.Fprintf(a.stdout, "sparkq is already running (PID %d, %s)\n", st.PID, st.HTTPAddr)
		return nil
	}
	// A daemon holding the lock but not answering yet may be starting up:
	// give it the same wait rather than racing it.
	if pid, held, _ := lockfile.ReadPID(cfg.LockPath()); held {
		if st, ok := a.waitStatus(ctx, c, wait, nil); ok {
			fmt.Fprintf(a.stdout, "sparkq is already running (PID %d, %s)\n", st.PID, st.HTTPAddr)
			return nil
		}
		return failf("check its log "+cfg.LogPath()+", or stop it with `sparkq stop`",
			"sparkq (PID %d) holds %s but its control socket %s does not answer", pid, cfg.LockPath(), cfg.SocketPath())
	}

	bin, err := sparkqd()
	if err != nil {
		return err
	}
	logDir := filepath.Join(cfg.DataDir(), "logs")
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		return fmt.Errorf("create log folder: %w", err)
	}
	outPath := filepath.Join(logDir, "sparkqd.out")
	out, err := os.OpenFile(outPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open %s: %w", outPath, err)
	}
	defer out.Close()
	outStart := fileSize(outPath)
	logStart := fileSize(cfg.LogPath())
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer devnull.Close()

	args := append(a.daemonArgs("run", cfg, d), "--quiet")
	fmt.Fprintf(out, "--- %s sparkq start: %s %s\n", time.Now().Format(time.RFC3339), bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, out, out
	// Its own session: no terminal signals, and it outlives us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	st, ok := a.waitStatus(ctx, c, wait, exited)
	if ok {
		if st.PID == cmd.Process.Pid {
			fmt.Fprintf(a.stdout, "SparkQ started (PID %d, %s)\n", st.PID, st.HTTPAddr)
		} else {
			// Another start won the race; ours exits on the lock.
			fmt.Fprintf(a.stdout, "sparkq is already running (PID %d, %s)\n", st.PID, st.HTTPAddr)
		}
		return nil
	}
	select {
	case err := <-exited:
		a.showStartOutput(outPath, outStart, cfg.LogPath(), logStart)
		return failf("fix the problem above and run `sparkq start` again",
			"sparkqd exited during startup (%v)", exitText(err))
	default:
	}
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted while waiting for sparkqd (PID %d); it keeps starting in the background", cmd.Process.Pid)
	}
	a.showStartOutput(outPath, outStart, cfg.LogPath(), logStart)
	return failf("it may just be slow: check again with `sparkq status`, or stop it with `sparkq stop`",
		"sparkqd (PID %d) did not answer within %s; it is still running", cmd.Process.Pid, wait)
}

// waitStatus polls the daemon until it answers, the wait ends, ctx is
// cancelled, or exited (if not nil) reports that the child died. It leaves
// an exit on exited for the caller.
func (a *app) waitStatus(ctx context.Context, c *control.Client, wait time.Duration, exited chan error) (control.Status, bool) {
	deadline := time.Now().Add(wait)
	for {
		if st, err := status(ctx, c); err == nil {
			return st, true
		}
		if exited != nil {
			select {
			case err := <-exited:
				// One last look: another daemon may have won the lock.
				st, serr := status(ctx, c)
				exited <- err
				return st, serr == nil
			default:
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return control.Status{}, false
		}
		select {
		case <-ctx.Done():
		case <-time.After(pollEvery):
		}
	}
}

func status(ctx context.Context, c *control.Client) (control.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, statusLimit)
	defer cancel()
	return c.Status(ctx)
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// showStartOutput prints what sparkqd wrote since this start.
func (a *app) showStartOutput(outPath string, outFrom int64, logPath string, logFrom int64) {
	for _, f := range []struct {
		path string
		from int64
	}{{outPath, outFrom}, {logPath, logFrom}} {
		lines := tail(f.path, f.from, tailLines)
		if len(lines) == 0 {
			fmt.Fprintf(a.stderr, "(nothing new in %s)\n", f.path)
			continue
		}
		fmt.Fprintf(a.stderr, "Last lines of %s:\n", f.path)
		for _, l := range lines {
			fmt.Fprintln(a.stderr, "  "+l)
		}
	}
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// tail returns the last n lines of path written after offset from.
func tail(path string, from int64, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return nil
	}
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return lines
}

func (a *app) stopCommand() *ffcli.Command {
	var wait time.Duration
	return a.leaf("", cmdSpec{
		name: "stop", maxArgs: 0, signals: true,
		short: "Stop the daemon (exits 0 if it was not running)",
		long: `Asks the daemon to shut down over its socket and waits until it has
released its lockfile. If the socket is dead but a process still holds the
lock, it is sent SIGTERM, then SIGKILL after --wait. When sparkq is not
running, stop says so and exits 0, so scripts can call it unconditionally.`,
		flags: func(fs *flag.FlagSet) {
			fs.DurationVar(&wait, "wait", 10*time.Second, "how long to wait (a `DURATION`) for the daemon to exit")
		},
		exec: func(ctx context.Context, _ []string) error {
			if wait <= 0 {
				return a.usagef("--wait must be greater than 0")
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			pid, running, err := a.stop(ctx, cfg, wait)
			if err != nil {
				return err
			}
			if !running {
				fmt.Fprintln(a.stdout, "sparkq is not running")
				return nil
			}
			fmt.Fprintf(a.stdout, "SparkQ stopped (PID %d)\n", pid)
			return nil
		},
	})
}

// stop shuts the daemon down; running reports whether there was one.
func (a *app) stop(ctx context.Context, cfg config.Config, wait time.Duration) (pid int, running bool, err error) {
	lock := cfg.LockPath()
	pid, held, err := lockfile.ReadPID(lock)
	if err != nil {
		return 0, false, err
	}
	c := control.Dial(cfg.SocketPath())
	defer c.Close()
	if st, err := status(ctx, c); err == nil {
		pid = st.PID
	}
	sctx, cancel := context.WithTimeout(ctx, statusLimit)
	err = c.Shutdown(sctx)
	cancel()
	switch {
	case err == nil:
		if a.waitReleased(ctx, lock, wait) {
			return pid, true, nil
		}
		if pid <= 0 {
			return pid, true, failf("look at its log "+cfg.LogPath(), "sparkq accepted the shutdown but still holds %s after %s", lock, wait)
		}
		fmt.Fprintf(a.stderr, "sparkq (PID %d) did not exit within %s after the shutdown request\n", pid, wait)
	case errors.Is(err, control.ErrNotRunning):
		if !held {
			return 0, false, nil
		}
		if pid <= 0 {
			return 0, true, failf("", "%s is locked by a process that has not written its PID; cannot stop it", lock)
		}
		fmt.Fprintf(a.stderr, "sparkq (PID %d) holds %s but its control socket does not answer; sending SIGTERM\n", pid, lock)
	default:
		if !held || pid <= 0 {
			return pid, held, fmt.Errorf("ask sparkq to shut down: %w", err)
		}
		fmt.Fprintf(a.stderr, "shutdown request failed (%v); sending SIGTERM to PID %d\n", err, pid)
	}
	return pid, true, a.kill(ctx, pid, lock, wait)
}

// kill sends SIGTERM, then SIGKILL if the lock is still held after wait.
func (a *app) kill(ctx context.Context, pid int, lock string, wait time.Duration) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal PID %d: %w", pid, err)
	}
	if a.waitReleased(ctx, lock, wait) {
		return nil
	}
	fmt.Fprintf(a.stderr, "PID %d still running after %s; sending SIGKILL\n", pid, wait)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill PID %d: %w", pid, err)
	}
	if a.waitReleased(ctx, lock, wait) {
		return nil
	}
	return failf("", "PID %d still holds %s after SIGKILL", pid, lock)
}

// waitReleased polls the lockfile until nobody holds it.
func (a *app) waitReleased(ctx context.Context, lock string, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for {
		if _, held, err := lockfile.ReadPID(lock); err == nil && !held {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		select {
		case <-ctx.Done():
		case <-time.After(pollEvery):
		}
	}
}

func (a *app) restartCommand() *ffcli.Command {
	var (
		d    daemonFlags
		wait time.Duration
	)
	return a.leaf("", cmdSpec{
		name: "restart", maxArgs: 0, signals: true,
		short: "Stop the daemon if it runs, then start it",
		flags: func(fs *flag.FlagSet) {
			d.bind(fs)
			fs.DurationVar(&wait, "wait", 10*time.Second, "how long to wait (a `DURATION`) for the daemon to stop, and to start")
		},
		exec: func(ctx context.Context, _ []string) error {
			if err := d.check(a); err != nil {
				return err
			}
			if wait <= 0 {
				return a.usagef("--wait must be greater than 0")
			}
			cfg, err := a.loadLaunchConfig()
			if err != nil {
				return err
			}
			pid, running, err := a.stop(ctx, cfg, wait)
			if err != nil {
				return err
			}
			if running {
				fmt.Fprintf(a.stdout, "SparkQ stopped (PID %d)\n", pid)
			}
			return a.start(ctx, cfg, d, wait)
		},
	})
}

// reaperStats mirrors the daemon's reaper report.
type reaperStats struct {
	Sweeps     int64     `json:"sweeps"`
	Warned     int64     `json:"warned"`
	AutoFailed int64     `json:"auto_failed"`
	Purges     int64     `json:"purges"`
	Purged     int64     `json:"purged"`
	LastSweep  time.Time `json:"last_sweep"`
	LastPurge  time.Time `json:"last_purge"`
	LastError  string    `json:"last_error"`
	// The settings in effect (database over sparkq.yml over defaults).
	SweepInterval float64 `json:"sweep_interval_seconds"`
	PurgeInterval float64 `json:"purge_interval_seconds"`
	RetentionDays int     `json:"retention_days"`
}

func (a *app) statusCommand() *ffcli.Command {
	return a.leaf("", cmdSpec{
		name: "status", maxArgs: 0, json: true,
		short: "Show whether the daemon runs, and its details (exit 3: not running)",
		exec: func(ctx context.Context, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			c := control.Dial(cfg.SocketPath())
			defer c.Close()
			st, err := status(ctx, c)
			if err != nil {
				pid, held, lerr := lockfile.ReadPID(cfg.LockPath())
				switch {
				case lerr == nil && held:
					fmt.Fprintf(a.stdout, "SparkQ: running (PID %d) but the control socket does not answer (%s)\n", pid, cfg.SocketPath())
					return &cliError{code: exitError, hint: "if it was started with another --socket or SPARKQ_SOCKET, pass the same; else look at its log " + cfg.LogPath() + " (`sparkq stop` can end it)"}
				case errors.Is(err, control.ErrNotRunning):
					if a.jsonOut {
						a.printJSON(nil)
					} else {
						fmt.Fprintln(a.stdout, "SparkQ: not running")
					}
					return exitWith(exitNotRunning)
				}
				return fmt.Errorf("ask sparkq for its status: %w", err)
			}
			if a.jsonOut {
				return a.printJSON(st)
			}
			return printStatus(a.stdout, st)
		},
	})
}

func printStatus(w io.Writer, st control.Status) error {
	var b strings.Builder
	fmt.Fprintf(&b, "SparkQ: running (PID %d, version %s)\n", st.PID, st.Version)
	row := func(k, v string) { fmt.Fprintf(&b, "  %-10s %s\n", k+":", v) }
	row("Uptime", fmt.Sprintf("%s (since %s)", st.Uptime, st.StartedAt.Local().Format("2006-01-02 15:04:05")))
	row("HTTP", st.HTTPAddr)
	row("Socket", st.Socket)
	row("Database", st.DBPath)
	row("Config", orDash(st.ConfigFile))
	if st.ServiceManager != "" {
		row("Service", st.ServiceManager)
	}
	n := st.Counts
	row("Counts", fmt.Sprintf("%d session(s), %d queue(s), %d queued task(s), %d running task(s)",
		n.Sessions, n.Queues, n.QueuedTasks, n.RunningTasks))
	var r reaperStats
	if len(st.Reaper) > 0 && json.Unmarshal(st.Reaper, &r) == nil {
		row("Reaper", fmt.Sprintf("%d sweep(s), last %s: %d warned, %d auto-failed",
			r.Sweeps, ago(r.LastSweep), r.Warned, r.AutoFailed))
		row("Purge", fmt.Sprintf("%d run(s), last %s: %d task(s) deleted", r.Purges, ago(r.LastPurge), r.Purged))
		if r.RetentionDays > 0 {
			row("Schedule", fmt.Sprintf("sweep every %s; purge every %s of tasks finished over %d day(s) ago",
				time.Duration(r.SweepInterval*float64(time.Second)), time.Duration(r.PurgeInterval*float64(time.Second)), r.RetentionDays))
		}
		if r.LastError != "" {
			row("Last error", r.LastError)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (a *app) reloadCommand() *ffcli.Command {
	return a.leaf("", cmdSpec{
		name: "reload", maxArgs: 0,
		short: "Make the running daemon re-read sparkq.yml",
		long: `Re-reads sparkq.yml and the script index without a restart. A file with
errors is refused with its line number and the daemon keeps its current
configuration. Values stored in the database (set through the API or the
dashboard) keep winning over the file; see "Which value wins" in README.md.`,
		exec: func(ctx context.Context, _ []string) error {
			c, err := a.dial()
			if ce := (*cliError)(nil); errors.As(err, &ce) && ce.cause != nil {
				// The file is broken: the daemon would refuse it too.
				ce.hint = "fix the file and run `sparkq reload` again; the running daemon keeps its current configuration"
			}
			if err != nil {
				return err
			}
			if err := c.Reload(ctx); err != nil {
				return explain(err, hints{invalid: "fix sparkq.yml and run `sparkq reload` again; the daemon keeps its current settings"})
			}
			fmt.Fprintln(a.stdout, "Configuration reloaded")
			return nil
		},
	})
}

func (a *app) versionCommand() *ffcli.Command {
	return a.leaf("", cmdSpec{
		name: "version", maxArgs: 0, json: true,
		short: "Print the CLI's version",
		exec: func(context.Context, []string) error {
			if a.jsonOut {
				return a.printJSON(map[string]string{"version": version, "commit": commit})
			}
			fmt.Fprintf(a.stdout, "sparkq %s (commit %s)\n", version, commit)
			return nil
		},
	})
}
