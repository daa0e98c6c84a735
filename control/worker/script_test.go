package worker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sparkq/sparkq/store"
)

// writeScript writes an executable script into dir.
func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// alive reports whether pid is a live process (a zombie counts as dead).
func alive(pid int) bool {
	if stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		// pid (comm) S ...: the state follows the last ')'.
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		return len(fields) > 0 && fields[0] != "Z"
	} else if _, err := os.Stat("/proc/self"); err == nil {
		return false // /proc works, and the process is gone
	}
	return syscall.Kill(pid, 0) == nil
}

// readPID waits for a script to write a PID into path.
func readPID(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && perr == nil && pid > 0 {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("no PID in %s", path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitDead(t *testing.T, pid int, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("%s (PID %d) is still alive", what, pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRunSuccessAndFailure(t *testing.T) {
	dir := t.TempDir()
	ok := writeScript(t, dir, "ok.sh", "#!/bin/sh\nread line\necho \"out $1 $SPARKQ_TEST\"\necho \"got $line\"\necho oops >&2\n")
	out := Run(context.Background(), RunSpec{Argv: []string{"sh", ok, "arg"}, Env: []string{"SPARKQ_TEST=env"}, Stdin: []byte("payload\n")})
	if !out.OK() || out.ExitCode != 0 || out.Stdout != "out arg env\ngot payload\n" || out.Stderr != "oops\n" || out.StdoutBytes != 24 {
		t.Fatalf("success: %+v", out)
	}

	bad := writeScript(t, dir, "bad.sh", "#!/bin/sh\necho partial\necho 'it broke' >&2\nexit 3\n")
	out = Run(context.Background(), RunSpec{Argv: []string{"sh", bad}})
	if out.OK() || out.ExitCode != 3 || out.TimedOut || out.Stdout != "partial\n" || out.Stderr != "it broke\n" {
		t.Fatalf("failure: %+v", out)
	}

	out = Run(context.Background(), RunSpec{Argv: []string{filepath.Join(dir, "missing-interpreter")}})
	if out.OK() || out.StartErr == nil {
		t.Fatalf("missing interpreter: %+v", out)
	}

	sig := writeScript(t, dir, "sig.sh", "#!/bin/sh\nkill -SEGV $$\n")
	out = Run(context.Background(), RunSpec{Argv: []string{"sh", sig}})
	if out.OK() || out.Signal != "segmentation fault" || out.ExitCode != -1 {
		t.Fatalf("signal: %+v", out)
	}
}

// TestRunTimeoutKillsGroup: past the timeout the script and everything it
// started die, even a child that ignores SIGTERM.
func TestRunTimeoutKillsGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	script := writeScript(t, dir, "hang.sh", `#!/bin/sh
sh -c 'trap "" TERM; while :; do sleep 1; done' &
echo $! > "$1"
wait
`)
	out := Run(context.Background(), RunSpec{Argv: []string{"sh", script, pidFile}, Timeout: 200 * time.Millisecond, KillGrace: 100 * time.Millisecond})
	if !out.TimedOut || out.OK() || out.Stopped {
		t.Fatalf("outcome %+v", out)
	}
	waitDead(t, readPID(t, pidFile), "the script's child")
}

// TestRunReapsLeftovers: a script that exits leaving a background child
// behind ends at once, and the child is killed.
func TestRunReapsLeftovers(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	script := writeScript(t, dir, "bg.sh", "#!/bin/sh\nsleep 1000 &\necho $! > \"$1\"\necho done\n")
	out := Run(context.Background(), RunSpec{Argv: []string{"sh", script, pidFile}})
	if !out.OK() || out.Stdout != "done\n" {
		t.Fatalf("outcome %+v", out)
	}
	waitDead(t, readPID(t, pidFile), "the leftover child")
}

// TestRunStopped: ending ctx kills the group, as when a worker stops.
func TestRunStopped(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "self.pid")
	script := writeScript(t, dir, "wait.sh", "#!/bin/sh\necho $$ > \"$1\"\nwhile :; do sleep 1; done\n")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Outcome)
	go func() { done <- Run(ctx, RunSpec{Argv: []string{"sh", script, pidFile}}) }()
	pid := readPID(t, pidFile)
	cancel()
	out := <-done
	if !out.Stopped || out.TimedOut || out.OK() || out.Signal != "terminated" {
		t.Fatalf("outcome %+v", out)
	}
	waitDead(t, pid, "the script")
}

// TestRunHugeOutput: output is bounded, the end is kept, totals are right.
func TestRunHugeOutput(t *testing.T) {
	dir := t.TempDir()
	// 5 MiB on stdout (lines of 1 KiB), 3 MiB on stderr, then a last line.
	script := writeScript(t, dir, "loud.sh", `#!/bin/sh
line=$(head -c 1023 /dev/zero | tr '\0' x)
i=0; while [ $i -lt 5120 ]; do echo "$line"; i=$((i+1)); done
i=0; while [ $i -lt 3072 ]; do echo "$line" >&2; i=$((i+1)); done
echo THE-END
`)
	const max = 64 << 10
	out := Run(context.Background(), RunSpec{Argv: []string{"sh", script}, MaxOutput: max})
	if !out.OK() {
		t.Fatalf("outcome %+v", out.StartErr)
	}
	if out.StdoutBytes != 5<<20+8 || out.StderrBytes != 3<<20 {
		t.Fatalf("totals %d / %d", out.StdoutBytes, out.StderrBytes)
	}
	for name, s := range map[string]string{"stdout": out.Stdout, "stderr": out.Stderr} {
		marker, kept, ok := strings.Cut(s, "]\n")
		if !ok || !strings.HasPrefix(marker, "[sparkq: output truncated, first ") || len(kept) != max {
			t.Fatalf("%s: %d bytes kept, marker %q", name, len(kept), marker)
		}
	}
	if !strings.HasSuffix(out.Stdout, "xxx\nTHE-END\n") {
		t.Fatalf("stdout does not end with the last line: %q", out.Stdout[len(out.Stdout)-40:])
	}
}

func TestPlanScript(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "scripts")
	os.Mkdir(dir, 0o755)
	outside := writeScript(t, root, "evil.sh", "#!/bin/sh\necho pwned\n")
	writeScript(t, dir, "lint.sh", "echo lint\n")
	writeScript(t, dir, "tool", "#!/usr/bin/env python3 -u\nprint(1)\n")
	writeScript(t, dir, "notes.txt", "just text\n")
	if err := os.Symlink(outside, filepath.Join(dir, "link.sh")); err != nil {
		t.Fatal(err)
	}
	real := func(p string) string { r, _ := filepath.EvalSymlinks(p); return r }
	lint, tool := real(filepath.Join(dir, "lint.sh")), real(filepath.Join(dir, "tool"))
	task := func(tool, payload string) store.Task { return store.Task{ToolName: tool, Payload: payload} }
	dirs := []string{dir}

	for _, tc := range []struct {
		name     string
		task     store.Task
		dirs     []string
		wantArgv []string
		wantErr  string // TaskError type, or "not script"
	}{
		{"run-bash relative", task("run-bash", `{"script_path":"lint.sh","args":["a b",2,true]}`), dirs,
			[]string{"bash", lint, "a b", "2", "true"}, ""},
		{"run-bash absolute", task("run-bash", `{"script_path":"`+lint+`"}`), dirs, []string{"bash", lint}, ""},
		{"shebang", task("quick-check", `{"script_path":"tool"}`), dirs, []string{"/usr/bin/env", "python3", "-u", tool}, ""},
		{"extension", task("custom", `{"script_path":"lint.sh"}`), dirs, []string{"bash", lint}, ""},
		{"no interpreter", task("custom", `{"script_path":"notes.txt"}`), dirs, nil, "NO_INTERPRETER"},
		{"llm task", task("llm-haiku", `{"prompt":"hi"}`), dirs, nil, "not script"},
		{"run-bash without script", task("run-bash", `{"prompt":"hi"}`), dirs, nil, "INVALID_TASK"},
		{"bad args", task("run-bash", `{"script_path":"lint.sh","args":"a b"}`), dirs, nil, "INVALID_TASK"},
		{"nested args", task("run-bash", `{"script_path":"lint.sh","args":[{"a":1}]}`), dirs, nil, "INVALID_TASK"},
		{"absolute outside", task("run-bash", `{"script_path":"`+outside+`"}`), dirs, nil, "SCRIPT_REFUSED"},
		{"dot-dot escape", task("run-bash", `{"script_path":"../evil.sh"}`), dirs, nil, "SCRIPT_REFUSED"},
		{"symlink out", task("run-bash", `{"script_path":"link.sh"}`), dirs, nil, "SCRIPT_REFUSED"},
		{"missing", task("run-bash", `{"script_path":"nope.sh"}`), dirs, nil, "SCRIPT_NOT_FOUND"},
		{"no dirs", task("run-bash", `{"script_path":"lint.sh"}`), nil, nil, "SCRIPT_REFUSED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := PlanScript(tc.task, tc.dirs)
			var te *TaskError
			switch {
			case tc.wantErr == "not script":
				if !errors.Is(err, errNotScript) {
					t.Fatalf("err = %v, want errNotScript", err)
				}
			case tc.wantErr != "":
				if !errors.As(err, &te) || te.Type != tc.wantErr {
					t.Fatalf("err = %v, want %s", err, tc.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case strings.Join(plan.Argv, "|") != strings.Join(tc.wantArgv, "|"):
				t.Fatalf("argv %q, want %q", plan.Argv, tc.wantArgv)
			}
		})
	}
}
