package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/sparkq/sparkq/control"
	"github.com/sparkq/sparkq/daemon/config"
)

// Exit statuses.
const (
	exitOK         = 0
	exitError      = 1
	exitUsage      = 2 // the command line is wrong; nothing was done
	exitNotRunning = 3 // `status` only
)

// app is one invocation of the CLI: its I/O, the global flags and the
// command tree. Nothing is global, so tests could build several.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	// Global flags, bound on every command so they work in any position.
	configFlag string
	socketFlag string
	jsonOut    bool

	root *ffcli.Command
	// path is each command's full name ("session create"), for help text.
	path map[*ffcli.Command]string
	// helpFor is the command whose usage the flag package asked for last:
	// on -h or a flag error, main prints help or a hint for it.
	helpFor *ffcli.Command
	// cur is the leaf command being executed.
	cur *ffcli.Command
	// literal counts the arguments after "--": the flag package consumes
	// the "--" itself, so Exec must know which trailing arguments are not
	// flags (`sparkq session create -- -x`).
	literal int
	// timeout bounds one-shot commands (requestTimeout; tests shorten it).
	timeout time.Duration
	// systemConfigDirs are searched for sparkq.yml after the usual places:
	// config.SystemDir, the packaged daemon's; tests replace it.
	systemConfigDirs []string
	// args is the command line and loaded the configuration loadConfig
	// returned last, for advice on errors (explainAccess).
	args   []string
	loaded *config.Config
}

func newApp(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) *app {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv,
		path: map[*ffcli.Command]string{}, timeout: requestTimeout, systemConfigDirs: []string{config.SystemDir}}
	a.root = a.group("", "sparkq", "SparkQ command-line client",
		a.lifecycleCommands(),
		a.sessionCommands(),
		a.queueCommands(),
		a.taskCommands(),
		a.workerCommands(),
		a.catalogCommands(),
		[]*ffcli.Command{a.helpCommand(), a.serviceCommand()},
	)
	a.root.LongHelp = rootHelp
	return a
}

// run executes one command line and returns the exit status.
func (a *app) run(ctx context.Context, args []string) int {
	if cfg, rest, ok := serviceArgs(args); ok {
		return a.execService(cfg, rest)
	}
	a.args = args
	for i, arg := range args {
		if arg == "--" {
			a.literal = len(args) - i - 1
			break
		}
	}
	if err := a.root.Parse(args); err != nil {
		// Flags before the first argument failed to parse; the flag
		// package has called usageFunc for the command concerned.
		c := a.helpFor
		if c == nil {
			c = a.root
		}
		return a.report(a.flagError(c, err))
	}
	return a.report(a.root.Run(ctx))
}

// cmdSpec describes one leaf command.
type cmdSpec struct {
	name  string // last word of the command path
	args  string // positional synopsis, e.g. "TASK"
	short string
	long  string
	// minArgs/maxArgs bound the positional arguments (maxArgs -1: any).
	minArgs, maxArgs int
	// json adds --json: the command prints data.
	json bool
	// signals cancels the context on SIGINT/SIGTERM, for commands that wait.
	signals bool
	// unbounded exempts a command that runs for long on purpose (worker)
	// from the one-shot request timeout.
	unbounded bool
	flags     func(fs *flag.FlagSet)
	exec      func(ctx context.Context, args []string) error
}

// leaf builds a command from spec under the group path parent.
func (a *app) leaf(parent string, s cmdSpec) *ffcli.Command {
	path := strings.TrimSpace(parent + " " + s.name)
	fs := a.flagSet(path, s.json)
	if s.flags != nil {
		s.flags(fs)
	}
	c := &ffcli.Command{
		Name:       s.name,
		ShortUsage: strings.TrimSpace("sparkq " + path + " [flags] " + s.args),
		ShortHelp:  s.short,
		LongHelp:   s.long,
		FlagSet:    fs,
		UsageFunc:  a.usageFunc,
	}
	a.path[c] = path
	c.Exec = func(ctx context.Context, rest []string) error {
		// The flag package stops at the first positional argument; accept
		// flags after it too (`sparkq task ID --json`).
		lit := min(a.literal, len(rest))
		pos, err := parseInterspersed(fs, rest[:len(rest)-lit])
		if err != nil {
			return a.flagError(c, err)
		}
		pos = append(pos, rest[len(rest)-lit:]...)
		switch {
		case len(pos) < s.minArgs:
			return usageErr(c, "missing %s", missingArg(s.args, len(pos)))
		case s.maxArgs >= 0 && len(pos) > s.maxArgs:
			return usageErr(c, "unexpected argument %q", pos[s.maxArgs])
		}
		for i, p := range pos {
			if strings.TrimSpace(p) == "" {
				return usageErr(c, "%s is required (the argument is empty)", argLabel(path, argName(s.args, i)))
			}
		}
		a.cur = c
		if s.signals {
			var stop context.CancelFunc
			ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
		} else if !s.unbounded {
			// A frozen daemon must not hang a one-shot command forever.
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, a.timeout)
			defer cancel()
		}
		err = s.exec(ctx, pos)
		if errors.Is(err, context.DeadlineExceeded) && !s.signals && !s.unbounded {
			return failf("check `sparkq status` and the daemon log", "the daemon did not answer within %s", a.timeout)
		}
		return err
	}
	return c
}

// group builds a command that only holds subcommands.
func (a *app) group(parent, name, short string, subs ...[]*ffcli.Command) *ffcli.Command {
	path := strings.TrimSpace(parent + " " + name)
	if parent == "" && name == "sparkq" {
		path = ""
	}
	c := &ffcli.Command{
		Name:       name,
		ShortUsage: strings.Join(strings.Fields("sparkq "+path+" <command> [flags] [args]"), " "),
		ShortHelp:  short,
		FlagSet:    a.flagSet(path, true),
		UsageFunc:  a.usageFunc,
	}
	for _, s := range subs {
		c.Subcommands = append(c.Subcommands, s...)
	}
	a.path[c] = path
	c.Exec = func(_ context.Context, rest []string) error {
		pos, err := parseInterspersed(c.FlagSet, rest)
		if err != nil {
			return a.flagError(c, err)
		}
		if len(pos) == 0 {
			fmt.Fprint(a.stdout, a.usageFunc(c))
			return nil
		}
		what := "command"
		if path != "" {
			what = path + " command"
		}
		return usageErr(c, "unknown %s %q", what, pos[0])
	}
	return c
}

// flagSet returns a flag set carrying the global flags.
func (a *app) flagSet(path string, withJSON bool) *flag.FlagSet {
	fs := flag.NewFlagSet("sparkq "+path, flag.ContinueOnError)
	// The flag package prints errors and usage itself; we print both our
	// way (report and usageFunc), so it writes nowhere.
	fs.SetOutput(io.Discard)
	fs.StringVar(&a.configFlag, "config", a.configFlag, "read the configuration from `PATH` (env SPARKQ_CONFIG; default ./sparkq.yml)")
	fs.StringVar(&a.socketFlag, "socket", a.socketFlag, "the daemon's control socket `PATH` (env SPARKQ_SOCKET)")
	if withJSON {
		fs.BoolVar(&a.jsonOut, "json", a.jsonOut, "print machine-readable JSON")
	}
	return fs
}

// parseInterspersed parses flags wherever they appear among positional
// arguments; "--" ends flag parsing.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		arg := args[0]
		switch {
		case arg == "--":
			return append(pos, args[1:]...), nil
		case len(arg) < 2 || arg[0] != '-':
			pos = append(pos, arg)
			args = args[1:]
		default:
			if err := fs.Parse(args); err != nil {
				return nil, err
			}
			rest := fs.Args()
			if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
				return append(pos, rest...), nil
			}
			args = rest
		}
	}
	return pos, nil
}

// requestTimeout bounds one-shot commands (not start/stop/worker, which wait
// on purpose).
const requestTimeout = 60 * time.Second

// argName is the synopsis word for positional argument i ("TASK").
func argName(synopsis string, i int) string {
	words := strings.Fields(strings.NewReplacer("[", "", "]", "", "...", "", "…", "").Replace(synopsis))
	if i < len(words) {
		return words[i]
	}
	if len(words) > 0 {
		return words[len(words)-1]
	}
	return "argument"
}

// argLabel names a positional argument in messages: "queue name" for the
// NAME of `queue create`, "task" for TASK.
func argLabel(path, word string) string {
	if word == "NAME" {
		return strings.Fields(path)[0] + " name"
	}
	return strings.ToLower(word)
}

// missingArg names the first missing positional argument of synopsis.
func missingArg(synopsis string, have int) string {
	words := strings.Fields(synopsis)
	var required []string
	for _, w := range words {
		if !strings.HasPrefix(w, "[") {
			required = append(required, w)
		}
	}
	if have < len(required) {
		return "argument " + required[have]
	}
	return "argument"
}

// cliError is an error with an exit status and an optional suggestion.
type cliError struct {
	code  int
	msg   string // printed as "Error: msg"; empty prints nothing
	hint  string // printed as "Suggestion: hint"
	cmd   *ffcli.Command
	cause error
}

func (e *cliError) Error() string { return e.msg }
func (e *cliError) Unwrap() error { return e.cause }

// usageErr reports a wrong command line (exit 2).
func usageErr(c *ffcli.Command, format string, args ...any) error {
	return &cliError{code: exitUsage, msg: fmt.Sprintf(format, args...), cmd: c}
}

// usagef reports a wrong command line for the running command.
func (a *app) usagef(format string, args ...any) error {
	return usageErr(a.cur, format, args...)
}

// failf reports a failure (exit 1) with a suggestion.
func failf(hint, format string, args ...any) error {
	return &cliError{code: exitError, msg: fmt.Sprintf(format, args...), hint: hint}
}

// exitWith ends the command with code after it printed its own message.
func exitWith(code int) error { return &cliError{code: code} }

// flagError turns a flag-parsing error into a usage error.
func (a *app) flagError(c *ffcli.Command, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return flag.ErrHelp
	}
	return usageErr(c, "%s", flagMessage(err))
}

func flagMessage(err error) string {
	// ff prefixes "error parsing commandline arguments: ".
	if inner := errors.Unwrap(err); inner != nil {
		err = inner
	}
	// The flag package names every flag with one dash; we document long
	// names with two. Compiled here: only error paths pay for it.
	return regexp.MustCompile(`(^|[ :])-([A-Za-z][\w-]+)`).ReplaceAllString(err.Error(), "$1--$2")
}

// report prints err the way users should see it and returns the status.
func (a *app) report(err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		c := a.helpFor
		if c == nil {
			c = a.root
		}
		fmt.Fprint(a.stdout, a.usageFunc(c))
		return exitOK
	}
	if errors.Is(err, control.ErrNotRunning) {
		fmt.Fprintln(a.stderr, "Error: "+control.ErrNotRunning.Error())
		return exitError
	}
	if access := a.explainAccess(err); access != nil {
		err = access
	}
	var ce *cliError
	if !errors.As(err, &ce) {
		ce = &cliError{code: exitError, msg: err.Error()}
	}
	if ce.msg != "" {
		fmt.Fprintln(a.stderr, "Error: "+indentRest(ce.msg))
	}
	hint := ce.hint
	if ce.code == exitUsage && ce.cmd != nil {
		fmt.Fprintln(a.stderr, "Usage: "+ce.cmd.ShortUsage)
		if hint == "" {
			hint = fmt.Sprintf("see `%s -h`", strings.TrimSpace("sparkq "+a.path[ce.cmd]))
		}
	}
	if hint != "" {
		fmt.Fprintln(a.stderr, "Suggestion: "+hint)
	}
	return ce.code
}

// indentRest indents continuation lines of a multi-line message.
func indentRest(msg string) string {
	return strings.ReplaceAll(strings.TrimRight(msg, "\n"), "\n", "\n  ")
}

// loadConfig locates and reads sparkq.yml as the daemon does, and applies
// the overrides that move the socket (--socket, SPARKQ_SOCKET, SPARKQ_DB).
// The packaged daemon's config comes last, so that on a machine with the
// .deb or .rpm `sparkq status` finds it without --config.
func (a *app) loadConfig() (config.Config, error) { return a.loadConfigFrom(a.systemConfigDirs) }

// loadLaunchConfig is loadConfig for commands that start a daemon (run,
// start, restart): they never fall back to the packaged service's config,
// or `sudo sparkq start` in a folder without sparkq.yml would start a
// second, root-owned daemon on the service's data.
func (a *app) loadLaunchConfig() (config.Config, error) { return a.loadConfigFrom(nil) }

func (a *app) loadConfigFrom(systemDirs []string) (config.Config, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return config.Config{}, fmt.Errorf("find working directory: %w", err)
	}
	path, _ := config.Locate(a.configFlag, a.getenv, cwd, exeDir(), systemDirs...)
	cfg, warns, err := config.Load(path)
	for _, w := range warns {
		fmt.Fprintln(a.stderr, "Warning: "+w.String())
	}
	o := config.Overrides{Socket: a.socketFlag, DBPath: a.getenv("SPARKQ_DB")}
	if o.Socket == "" {
		o.Socket = a.getenv("SPARKQ_SOCKET")
	}
	if err != nil && o.Socket != "" {
		// The socket was named explicitly, so a broken file must not stop
		// `sparkq stop` or `status` from reaching the daemon.
		fmt.Fprintf(a.stderr, "Warning: %v (ignored: using the socket %s)\n", err, o.Socket)
		cfg, _, err = config.Load("")
	}
	if err != nil && o.Socket == "" && path != "" {
		// A daemon started before the file broke keeps serving; agents'
		// complete/fail must keep reaching it. Its socket is most likely
		// at the default place for that file.
		if fb, fbErr := config.FallbackFor(path); fbErr == nil && socketAnswers(fb.SocketPath()) {
			fmt.Fprintf(a.stderr, "Warning: %v\n  (reaching the running daemon at %s; fix the file before it restarts)\n", err, fb.SocketPath())
			cfg, err = fb, nil
		}
	}
	if err != nil {
		return cfg, &cliError{code: exitError, msg: err.Error(), cause: err,
			hint: "fix the file (see `sparkq setup` for a commented default), or point --config/SPARKQ_CONFIG elsewhere"}
	}
	if err := cfg.Apply(o); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	a.loaded = &cfg
	return cfg, nil
}

// socketAnswers reports whether something accepts connections on the Unix
// socket at path.
func socketAnswers(path string) bool {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// dial loads the configuration and returns a client for its socket.
func (a *app) dial() (*control.Client, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	return control.Dial(cfg.SocketPath()), nil
}

// exeDir is the folder of the running binary ("" if unknown).
func exeDir() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return filepath.Dir(exe)
}

// hints are the suggestions printed with daemon errors, by error kind.
type hints struct {
	notFound, conflict, invalid string
}

// explain adds the matching suggestion to a daemon error.
func explain(err error, h hints) error {
	if err == nil || errors.Is(err, control.ErrNotRunning) {
		return err
	}
	var hint string
	switch {
	case errors.Is(err, control.ErrNotFound):
		hint = h.notFound
	case errors.Is(err, control.ErrConflict):
		hint = h.conflict
	case errors.Is(err, control.ErrInvalid):
		hint = h.invalid
	}
	return &cliError{code: exitError, msg: err.Error(), hint: hint, cause: err}
}

var (
	taskHints    = hints{notFound: "list tasks with `sparkq tasks`"}
	queueHints   = hints{notFound: "list queues with `sparkq queue list`"}
	sessionHints = hints{notFound: "list sessions with `sparkq session list`"}
)
