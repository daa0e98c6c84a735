package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sparkq/sparkq/control"
	"github.com/sparkq/sparkq/daemon/config"
	"github.com/sparkq/sparkq/store"
)

var sparkqd string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sparkqd-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sparkqd = filepath.Join(dir, "sparkqd")
	build := exec.Command("go", "build", "-o", sparkqd, "github.com/sparkq/sparkq/cmd/sparkqd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build sparkqd:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// instance is one daemon's config on disk.
type instance struct {
	cfgPath string
	cfg     config.Config
}

func newInstance(t *testing.T) instance {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "sparkq.yml")
	yml := fmt.Sprintf("server:\n  port: %d\ndatabase:\n  path: data/sparkq.db\n", freePort(t))
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return instance{cfgPath: path, cfg: cfg}
}

// proc is a running sparkqd.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when it exits
	err  error         // its exit status, once done
}

// start runs sparkqd and waits until its socket answers.
func (in instance) start(t *testing.T) (*proc, *control.Client) {
	t.Helper()
	p := &proc{cmd: exec.Command(sparkqd, "run", "--quiet", "--config", in.cfgPath), done: make(chan struct{})}
	var stderr bytes.Buffer
	p.cmd.Stderr = &stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			p.cmd.Process.Kill()
		}
	})
	c := control.Dial(in.cfg.SocketPath())
	for i := 0; ; i++ {
		if _, err := c.Status(context.Background()); err == nil {
			return p, c
		}
		select {
		case <-p.done:
			t.Fatalf("sparkqd exited early: %v\n%s", p.err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if i > 1500 {
			t.Fatalf("sparkqd did not answer within 30 s\n%s", stderr.String())
		}
	}
}

func TestSecondDaemonRefused(t *testing.T) {
	in := newInstance(t)
	first, _ := in.start(t)
	out, err := exec.Command(sparkqd, "run", "--quiet", "--config", in.cfgPath).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("second daemon: want exit 1, got %v\n%s", err, out)
	}
	want := fmt.Sprintf("already running (PID %d)", first.cmd.Process.Pid)
	if !strings.Contains(string(out), want) {
		t.Fatalf("second daemon said %q, want it to contain %q", out, want)
	}
}

func TestCleanShutdownRemovesSocketAndLock(t *testing.T) {
	in := newInstance(t)
	p, c := in.start(t)
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-p.done
	if p.err != nil {
		t.Fatalf("daemon exit: %v", p.err)
	}
	for _, p := range []string{in.cfg.SocketPath(), in.cfg.LockPath(), in.cfg.DBPath() + "-wal"} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind after clean shutdown (err=%v)", p, err)
		}
	}
}

// TestCrashRecovery kills the daemon with SIGKILL under an enqueue/claim
// load, restarts it on the same files, and checks that every acknowledged
// write survived and nothing is half-written.
func TestCrashRecovery(t *testing.T) {
	in := newInstance(t)
	p, c := in.start(t)
	ctx := context.Background()
	sess, err := c.CreateSession(ctx, store.NewSession{Name: "crash"})
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.CreateQueue(ctx, store.NewQueue{SessionID: sess.ID, Name: "load"})
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	enqueued := map[string]int{} // id -> sequence number in its payload
	completed := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(2)
		go func(w int) { // producer
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				task, err := c.Enqueue(ctx, control.EnqueueRequest{QueueID: q.ID, ToolName: "run-bash",
					Payload: json.RawMessage(fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))})
				if err != nil {
					return // the daemon died: unacknowledged
				}
				mu.Lock()
				enqueued[task.ID] = i
				mu.Unlock()
			}
		}(w)
		go func(w int) { // consumer
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				task, err := c.ClaimNext(ctx, q.ID, fmt.Sprintf("w%d", w))
				if errors.Is(err, store.ErrEmpty) {
					time.Sleep(time.Millisecond)
					continue
				}
				if err != nil {
					return
				}
				if _, err := c.Complete(ctx, task.ID, store.Completion{Summary: "ok"}); err != nil {
					return
				}
				mu.Lock()
				completed[task.ID] = true
				mu.Unlock()
			}
		}(w)
	}
	// Kill once a fair amount of work has been acknowledged.
	for {
		mu.Lock()
		n := len(completed)
		mu.Unlock()
		if n >= 300 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	close(stop)
	wg.Wait()
	if _, err := os.Stat(in.cfg.LockPath()); err != nil {
		t.Fatalf("a killed daemon should leave its lockfile behind: %v", err)
	}

	_, c2 := in.start(t) // takes over the stale lock and socket
	for id, i := range enqueued {
		task, err := c2.GetTask(ctx, id)
		if err != nil {
			t.Fatalf("acknowledged enqueue %s lost: %v", id, err)
		}
		var p struct{ I int }
		if err := json.Unmarshal([]byte(task.Payload), &p); err != nil || p.I != i {
			t.Fatalf("task %s payload %q damaged", id, task.Payload)
		}
		if completed[id] && task.Status != store.TaskSucceeded {
			t.Fatalf("acknowledged completion of %s lost: status %s", id, task.Status)
		}
	}
	// Every stored task is whole and the queue's counters agree with the rows.
	total, offset := 0, 0
	for {
		page, err := c2.ListTasks(ctx, store.TaskFilter{QueueID: q.ID}, store.Page{Limit: 1000, Offset: offset})
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range page.Tasks {
			if !json.Valid([]byte(task.Payload)) || task.CreatedAt.IsZero() {
				t.Fatalf("half-written task %+v", task)
			}
			if task.Status == store.TaskSucceeded && (task.FinishedAt == nil || task.ResultSummary == nil) {
				t.Fatalf("half-completed task %+v", task)
			}
			if task.Status == store.TaskRunning && task.ClaimedAt == nil {
				t.Fatalf("half-claimed task %+v", task)
			}
		}
		total += len(page.Tasks)
		if page.NextOffset == nil {
			break
		}
		offset = *page.NextOffset
	}
	got, err := c2.GetQueue(ctx, q.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Stats.Total != total || total < len(enqueued) {
		t.Fatalf("queue counts %d tasks, rows %d, acknowledged %d", got.Stats.Total, total, len(enqueued))
	}
	t.Logf("acknowledged %d enqueues and %d completions before SIGKILL; all present after restart", len(enqueued), len(completed))
}
