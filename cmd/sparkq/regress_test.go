package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparkq/sparkq/store"
)

// Problems a fresh user found, each with the input that showed it.
func TestFreshUserRegressions(t *testing.T) {
	f := startDaemon(t)
	f.ok("session", "create", "work")

	// "--" ends flags: a name may start with a dash.
	if out := f.ok("queue", "create", "--session", "work", "--", "-dash"); !strings.Contains(out, "-dash") {
		t.Fatalf("queue named -dash: %s", out)
	}
	// A blank id is a usage error, not an empty task.
	for _, args := range [][]string{{"task", ""}, {"complete", " ", "--summary", "x"}, {"queue", "end", ""}, {"session", "end", ""}} {
		r := f.run(args...)
		if r.code != 2 || !strings.Contains(r.stderr, "is required (the argument is empty)") {
			t.Errorf("blank argument: want exit 2 naming it:\n%s", r)
		}
	}
	// A name shaped like an id is refused, so ids always resolve to the
	// object they name.
	r := f.run("queue", "create", "que_669edd0dfa4b", "--session", "work")
	if r.code != 1 || !strings.Contains(r.stderr, "looks like an id") {
		t.Errorf("id-shaped name: want a clear refusal:\n%s", r)
	}
}

// A broken sparkq.yml must not keep `status` and `stop` from reaching a
// daemon whose socket is named explicitly.
func TestBrokenConfigWithExplicitSocket(t *testing.T) {
	f := startDaemon(t)
	var st struct {
		Socket string `json:"socket"`
	}
	f.json(&st, "status")
	broken := filepath.Join(t.TempDir(), "sparkq.yml")
	if err := os.WriteFile(broken, []byte("server:\n  port: abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runIn(t, f.dir, env(f.dir), "", "--config", broken, "status")
	if r.code != 1 || !strings.Contains(r.stderr, "sparkq.yml:2") {
		t.Fatalf("broken config without --socket: want file:line error:\n%s", r)
	}
	r = runIn(t, f.dir, env(f.dir), "", "--config", broken, "--socket", st.Socket, "status")
	if r.code != 0 || !strings.Contains(r.stderr, "Warning:") {
		t.Fatalf("broken config with --socket: want status to work with a warning:\n%s", r)
	}
}

// `sparkq service …` reaches sparkqd service with its own flags intact and
// the CLI's --config made absolute for install.
func TestServicePassthrough(t *testing.T) {
	cases := []struct {
		args     []string
		wantCfg  string
		wantRest []string
	}{
		{[]string{"service", "status", "--json"}, "", []string{"status", "--json"}},
		{[]string{"--config", "x.yml", "service", "install", "--user"}, "x.yml", []string{"install", "--user"}},
		{[]string{"--json", "--config=y.yml", "service", "install"}, "y.yml", []string{"install"}},
	}
	for _, c := range cases {
		cfg, rest, ok := serviceArgs(c.args)
		if !ok || cfg != c.wantCfg || strings.Join(rest, " ") != strings.Join(c.wantRest, " ") {
			t.Errorf("serviceArgs(%q) = %q %q %v", c.args, cfg, rest, ok)
		}
	}
	for _, args := range [][]string{{"status"}, {"task", "service"}, {"--config"}} {
		if _, _, ok := serviceArgs(args); ok {
			t.Errorf("serviceArgs(%q) took a non-service command", args)
		}
	}
	// Through the real binaries: an unknown action is sparkqd's usage error.
	r := runIn(t, t.TempDir(), env(t.TempDir()), "", "service", "bogus")
	if r.code != 2 || !strings.Contains(r.stderr, "service") {
		t.Fatalf("sparkq service bogus: want sparkqd's usage error (exit 2):\n%s", r)
	}
}

// A worker runs past the one-shot request timeout (it once died at 60 s,
// killing a script that was within its own timeout).
func TestWorkerOutlivesRequestTimeout(t *testing.T) {
	f := startWorkerDaemon(t)
	os.WriteFile(filepath.Join(f.dir, "scripts", "slow.sh"), []byte("sleep 3\necho done\n"), 0o755)
	f.ok("enqueue", "--queue", "q", "--tool", "run-bash", "--payload", `{"script_path":"slow.sh"}`)
	var stdout, stderr strings.Builder
	a := newApp(strings.NewReader(""), &stdout, &stderr, func(k string) string {
		if strings.HasPrefix(k, "SPARKQ_") {
			return ""
		}
		return os.Getenv(k)
	})
	a.timeout = time.Second
	if code := a.run(context.Background(), []string{"--config", f.cfg, "worker", "--queue", "q", "--exec", "--once"}); code != 0 {
		t.Fatalf("worker exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	var tasks []store.Task
	f.json(&tasks, "tasks", "--queue", "q")
	if len(tasks) != 1 || tasks[0].Status != store.TaskSucceeded {
		t.Fatalf("slow script task: %+v\nworker stderr:\n%s", tasks, stderr.String())
	}
}

// Output far over the daemon's 1 MiB body cap still ends the task: it once
// stayed running because the result could not be recorded.
func TestWorkerHugeOutputIsRecorded(t *testing.T) {
	f := startWorkerDaemon(t)
	os.WriteFile(filepath.Join(f.dir, "scripts", "big.sh"), []byte("head -c 5000000 /dev/zero | tr '\\0' x\necho\necho tail-line\n"), 0o755)
	var task store.Task
	f.json(&task, "enqueue", "--queue", "q", "--tool", "run-bash", "--payload", `{"script_path":"big.sh"}`)
	if r := f.run("worker", "--queue", "q", "--exec", "--once"); r.code != 0 {
		t.Fatalf("worker:\n%s", r)
	}
	var got store.Task
	f.json(&got, "task", task.ID)
	if got.Status != store.TaskSucceeded || got.Stdout == nil || len(*got.Stdout) > 300<<10 || !strings.Contains(*got.Stdout, "tail-line") {
		n := 0
		if got.Stdout != nil {
			n = len(*got.Stdout)
		}
		t.Fatalf("huge output: status %s, stdout %d bytes", got.Status, n)
	}
}

// Breaking sparkq.yml while the daemon runs must not cut agents off from
// it: complete/fail kept failing with the file's error.
func TestBrokenConfigStillReachesRunningDaemon(t *testing.T) {
	f := startDaemon(t)
	f.ok("session", "create", "s")
	yml, err := os.ReadFile(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.cfg, append(yml, []byte("server: [\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	r := f.run("session", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "s") || !strings.Contains(r.stderr, "sparkq.yml:") || !strings.Contains(r.stderr, "running daemon") {
		t.Fatalf("broken config with a running daemon:\n%s", r)
	}
	// With no daemon there, the file's error is still the answer.
	g := newFixture(t, "")
	os.WriteFile(g.cfg, []byte("server: [\n"), 0o644)
	if r := g.run("session", "list"); r.code != 1 || !strings.Contains(r.stderr, "sparkq.yml:") {
		t.Fatalf("broken config, no daemon: want the file's error:\n%s", r)
	}
}
