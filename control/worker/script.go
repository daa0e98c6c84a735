package worker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sparkq/sparkq/daemon/scripts"
	"github.com/sparkq/sparkq/store"
)

// TaskError is a reason to fail a task before or instead of running it;
// Type becomes the task's error type.
type TaskError struct {
	Type string
	Msg  string
}

func (e *TaskError) Error() string { return e.Type + ": " + e.Msg }

// errNotScript means the task names no script: a person or an agent works
// it, so the worker prints it.
var errNotScript = errors.New("task names no script")

// toolInterpreters are the tools whose tasks are scripts whatever the file
// looks like.
var toolInterpreters = map[string][]string{
	"run-bash":   {"bash"},
	"run-python": {"python3"},
}

// extInterpreters run a script without a #! line, by extension (the same
// extensions the script index lists).
var extInterpreters = map[string][]string{
	".sh": {"bash"}, ".bash": {"bash"}, ".py": {"python3"}, ".rb": {"ruby"}, ".pl": {"perl"}, ".js": {"node"},
}

// Script is a resolved script task: what to run.
type Script struct {
	Path string   // absolute, symlinks resolved, inside a script dir
	Args []string // from the payload's args
	// Argv is the whole command line: interpreter, Path, Args.
	Argv []string
}

// PlanScript decides how an exec worker runs t. Tasks of run-bash and
// run-python, and tasks of any tool whose payload names a script_path,
// are scripts; others return errNotScript. The script must resolve (with
// symlinks evaluated) inside one of dirs; a refusal is a *TaskError.
func PlanScript(t store.Task, dirs []string) (Script, error) {
	var payload struct {
		ScriptPath *string          `json:"script_path"`
		Args       *json.RawMessage `json:"args"`
	}
	json.Unmarshal([]byte(t.Payload), &payload) // a store payload is always an object
	interp, scriptTool := toolInterpreters[t.ToolName]
	if payload.ScriptPath == nil || strings.TrimSpace(*payload.ScriptPath) == "" {
		if scriptTool {
			return Script{}, &TaskError{"INVALID_TASK", fmt.Sprintf("a %s task needs script_path in its payload", t.ToolName)}
		}
		return Script{}, errNotScript
	}
	args, err := scriptArgs(payload.Args)
	if err != nil {
		return Script{}, err
	}
	name := strings.TrimSpace(*payload.ScriptPath)
	if len(dirs) == 0 {
		return Script{}, &TaskError{"SCRIPT_REFUSED", fmt.Sprintf("%s: no script_dirs are configured, so no script may run (add its folder to script_dirs in sparkq.yml)", name)}
	}
	path, err := scripts.Resolve(dirs, name)
	switch {
	case errors.Is(err, scripts.ErrOutside):
		return Script{}, &TaskError{"SCRIPT_REFUSED", fmt.Sprintf("%s is outside the configured script_dirs (%s)", name, strings.Join(dirs, ", "))}
	case err != nil:
		return Script{}, &TaskError{"SCRIPT_NOT_FOUND", fmt.Sprintf("%s was not found in the configured script_dirs (%s)", name, strings.Join(dirs, ", "))}
	}
	if t.ToolName == "run-python" && !onPath("python3") && onPath("python") {
		interp = []string{"python"}
	}
	if !scriptTool {
		if interp = shebang(path); interp == nil {
			interp = extInterpreters[strings.ToLower(filepath.Ext(path))]
		}
		if interp == nil {
			return Script{}, &TaskError{"NO_INTERPRETER", fmt.Sprintf("%s has no #! line and no known extension: cannot tell how to run it", path)}
		}
	}
	argv := append(append(append([]string{}, interp...), path), args...)
	return Script{Path: path, Args: args, Argv: argv}, nil
}

// scriptArgs reads the payload's args: a list of strings, numbers or
// booleans, passed as text.
func scriptArgs(raw *json.RawMessage) ([]string, error) {
	if raw == nil || string(*raw) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(*raw, &items); err != nil {
		return nil, &TaskError{"INVALID_TASK", "payload args must be a list of strings"}
	}
	out := make([]string, len(items))
	for i, item := range items {
		var s string
		switch item = bytes.TrimSpace(item); {
		case len(item) > 0 && item[0] == '"':
			json.Unmarshal(item, &s)
		case len(item) > 0 && (item[0] == '-' || item[0] >= '0' && item[0] <= '9' || item[0] == 't' || item[0] == 'f'):
			s = string(item)
		default:
			return nil, &TaskError{"INVALID_TASK", fmt.Sprintf("payload args[%d] must be a string, number or boolean, got %s", i, item)}
		}
		out[i] = s
	}
	return out, nil
}

func onPath(name string) bool { _, err := exec.LookPath(name); return err == nil }

// shebang returns the interpreter named by a file's #! line, nil if none.
func shebang(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	line, _ := bufio.NewReader(io.LimitReader(f, 512)).ReadString('\n')
	rest, ok := strings.CutPrefix(line, "#!")
	if !ok {
		return nil
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return nil
	}
	return fields
}

// RunSpec is one script run.
type RunSpec struct {
	Argv      []string
	Dir       string   // working directory ("" = the worker's)
	Env       []string // added to the worker's environment
	Stdin     []byte
	Timeout   time.Duration // 0 = none
	KillGrace time.Duration // SIGTERM to SIGKILL; default 5 s
	MaxOutput int           // bytes kept per stream; default 256 KiB
}

// Outcome is how a run ended.
type Outcome struct {
	ExitCode    int    // -1 when killed by a signal or not started
	Signal      string // the signal that ended it, if any
	TimedOut    bool   // killed for running past Timeout
	Stopped     bool   // killed because ctx ended
	StartErr    error  // the command could not start
	Duration    time.Duration
	Stdout      string // the last MaxOutput bytes, with a marker if cut
	Stderr      string
	StdoutBytes int64 // everything written, kept or not
	StderrBytes int64
}

// OK reports a clean exit 0.
func (o Outcome) OK() bool { return o.StartErr == nil && o.ExitCode == 0 && !o.TimedOut && !o.Stopped }

const (
	defaultKillGrace = 5 * time.Second
	// Both streams plus the result must fit the daemon's request body cap
	// (1 MiB by default) when the worker records them.
	defaultMaxOutput = 256 << 10
	// outputDrain bounds how long we read output after the process group
	// is gone: only a process that left the group can hold a pipe longer.
	outputDrain = 2 * time.Second
)

// Run runs a script in its own process group. The group, children
// included, is killed when the script exits (nothing it started outlives
// it), when Timeout passes, or when ctx ends: SIGTERM first, SIGKILL after
// KillGrace.
func Run(ctx context.Context, spec RunSpec) Outcome {
	killGrace, maxOut := spec.KillGrace, spec.MaxOutput
	if killGrace <= 0 {
		killGrace = defaultKillGrace
	}
	if maxOut <= 0 {
		maxOut = defaultMaxOutput
	}
	stdout, stderr := newTail(maxOut), newTail(maxOut)
	out := Outcome{ExitCode: -1}
	finish := func() Outcome {
		out.Stdout, out.Stderr = stdout.String(), stderr.String()
		out.StdoutBytes, out.StderrBytes = stdout.Total(), stderr.Total()
		return out
	}

	cmd := exec.Command(spec.Argv[0], spec.Argv[1:]...)
	cmd.Dir = spec.Dir
	cmd.Env = append(os.Environ(), spec.Env...)
	cmd.Stdin = bytes.NewReader(spec.Stdin)
	// A child that never reads stdin must not keep Wait from returning.
	cmd.WaitDelay = time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Our own pipes, so Wait returns when the process exits and we read
	// what is left after killing the group.
	outR, outW, err := os.Pipe()
	if err != nil {
		out.StartErr = err
		return finish()
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		out.StartErr = err
		return finish()
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	start := time.Now()
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		out.StartErr = err
		return finish()
	}
	var copies sync.WaitGroup
	for _, c := range []struct {
		dst io.Writer
		src *os.File
	}{{stdout, outR}, {stderr, errR}} {
		copies.Add(1)
		go func() {
			defer copies.Done()
			io.Copy(c.dst, c.src)
		}()
	}
	pgid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var timeout <-chan time.Time
	if spec.Timeout > 0 {
		timer := time.NewTimer(spec.Timeout)
		defer timer.Stop()
		timeout = timer.C
	}
	var waitErr error
	select {
	case waitErr = <-exited:
	case <-timeout:
		out.TimedOut = true
		waitErr = terminate(pgid, exited, killGrace)
	case <-ctx.Done():
		out.Stopped = true
		waitErr = terminate(pgid, exited, killGrace)
	}
	out.Duration = time.Since(start)
	// Whatever the script left running in its group goes with it.
	syscall.Kill(-pgid, syscall.SIGKILL)

	drained := make(chan struct{})
	go func() { copies.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(outputDrain):
		outR.Close() // unblocks the copies
		errR.Close()
		<-drained
	}
	outR.Close()
	errR.Close()

	if cmd.ProcessState != nil {
		out.ExitCode = cmd.ProcessState.ExitCode()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			out.Signal = ws.Signal().String()
		}
	} else if waitErr != nil {
		out.StartErr = waitErr
	}
	return finish()
}

// terminate asks the process group to stop, then forces it.
func terminate(pgid int, exited <-chan error, grace time.Duration) error {
	syscall.Kill(-pgid, syscall.SIGTERM)
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case err := <-exited:
		return err
	case <-timer.C:
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
	return <-exited
}
