package main

// These tests run the real sparkq and sparkqd binaries against a real
// daemon: TestMain builds both once, and each test gets its own config,
// port, database and socket in a temporary directory.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sparkq/sparkq/daemon/lockfile"
)

// binDir holds the sparkq and sparkqd binaries built by TestMain.
var binDir string

func TestMain(m *testing.M) {
	if lock := os.Getenv(holdLockEnv); lock != "" {
		holdLock(lock) // helper process for TestStopKillsUnresponsive
	}
	os.Exit(testMain(m))
}

// holdLockEnv makes the test binary act as a hung daemon: it takes the
// lock, ignores SIGTERM and never opens a socket.
const holdLockEnv = "CLI_TEST_HOLD_LOCK"

func holdLock(path string) {
	if _, err := lockfile.Acquire(path); err != nil {
		fmt.Fprintln(os.Stderr, "hold lock:", err)
		os.Exit(1)
	}
	signal.Ignore(syscall.SIGTERM)
	fmt.Println("holding")
	select {}
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sparkq-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "create bin dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	gobin, err := goTool()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, b := range []struct{ out, pkg string }{{"sparkq", "."}, {"sparkqd", "../sparkqd"}} {
		cmd := exec.Command(gobin, "build", "-o", filepath.Join(dir, b.out),
			"-ldflags", "-X main.version=test-version -X main.commit=test-commit", b.pkg)
		if b.out == "sparkq" {
			// As released: without cgo the CLI is a static binary, which
			// saves the dynamic loader's work on every run (~1 ms).
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", b.pkg, err, out)
			return 1
		}
	}
	binDir = dir
	return m.Run()
}

// goTool finds the go command that runs these tests.
func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		return "", errors.New("cannot find the go command: put it on PATH")
	}
	return p, nil
}

// result is one finished CLI run.
type result struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("sparkq %s\nexit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// env is the environment every run gets: the caller's, minus SPARKQ_*
// settings, with data defaults kept out of the real home directory.
func env(home string, extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "SPARKQ_") || strings.HasPrefix(kv, "XDG_DATA_HOME=") {
			continue
		}
		out = append(out, kv)
	}
	out = append(out, "XDG_DATA_HOME="+filepath.Join(home, "xdg"))
	return append(out, extra...)
}

// runIn runs the sparkq binary in dir with args.
func runIn(t testing.TB, dir string, environ []string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "sparkq"), args...)
	cmd.Dir = dir
	cmd.Env = environ
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run sparkq %v: %v", args, err)
	}
	return r
}

// fixture is one SparkQ installation: a config file, its data directory
// and, once started, its daemon.
type fixture struct {
	t    testing.TB
	dir  string
	cfg  string
	port int
}

// newFixture writes a sparkq.yml in a fresh directory under parent (a new
// temporary directory when parent is "").
func newFixture(t testing.TB, parent string) *fixture {
	t.Helper()
	dir := parent
	if dir == "" {
		dir = t.TempDir()
	}
	f := &fixture{t: t, dir: dir, cfg: filepath.Join(dir, "sparkq.yml"), port: freePort(t)}
	yml := fmt.Sprintf("server:\n  host: 127.0.0.1\n  port: %d\ndatabase:\n  path: data/sparkq.db\n", f.port)
	if err := os.WriteFile(f.cfg, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// startDaemon returns a fixture whose daemon runs until the test ends.
func startDaemon(t testing.TB) *fixture {
	t.Helper()
	f := newFixture(t, "")
	f.start()
	return f
}

func (f *fixture) start() {
	f.t.Helper()
	// Generous: a loaded machine may be slow to start a process.
	r := f.run("start", "--wait", "60s")
	if r.code != 0 || !strings.Contains(r.stdout, "SparkQ started (PID ") {
		f.t.Fatalf("start failed:\n%s", r)
	}
	f.t.Cleanup(func() {
		if r := f.run("stop", "--wait", "30s"); r.code != 0 {
			f.t.Errorf("stop failed:\n%s", r)
		}
	})
}

// run runs sparkq with this fixture's config. The --config comes first so
// that a --config in args wins.
func (f *fixture) run(args ...string) result {
	f.t.Helper()
	return runIn(f.t, f.dir, env(f.dir), "", append([]string{"--config", f.cfg}, args...)...)
}

// ok runs a command that must succeed and returns its stdout.
func (f *fixture) ok(args ...string) string {
	f.t.Helper()
	r := f.run(args...)
	if r.code != 0 {
		f.t.Fatalf("want exit 0:\n%s", r)
	}
	return r.stdout
}

// json runs a command with --json that must succeed and decodes its output.
func (f *fixture) json(v any, args ...string) {
	f.t.Helper()
	out := f.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		f.t.Fatalf("decode output of sparkq %v: %v\n%s", args, err, out)
	}
}

// freePort asks the kernel for a loopback port nobody uses right now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
