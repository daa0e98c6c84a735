//go:build unix

package lockfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// holdEnv makes the test binary act as a lock holder instead of running
// tests: flock belongs to an open file description, so "another process"
// must really be another process.
const holdEnv = "LOCKFILE_TEST_HOLD"

func TestMain(m *testing.M) {
	if path := os.Getenv(holdEnv); path != "" {
		os.Exit(hold(path))
	}
	os.Exit(m.Run())
}

// hold acquires path, prints "locked", then waits for a command on stdin:
// "release" releases and exits, "crash" exits still holding the lock, as a
// killed daemon would.
func hold(path string) int {
	l, err := Acquire(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "holder:", err)
		return 1
	}
	fmt.Println("locked")
	cmd, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	if cmd == "crash\n" {
		return 0
	}
	if err := l.Release(); err != nil {
		fmt.Fprintln(os.Stderr, "holder:", err)
		return 1
	}
	return 0
}

type holder struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startHolder runs a child that holds the lock at path, returning once it
// reports the lock taken (no timing assumptions: it blocks on the pipe).
func startHolder(t *testing.T, path string) *holder {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), holdEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &holder{cmd: cmd, stdin: stdin}
	t.Cleanup(func() { h.stop(t, "release") })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("holder did not lock: %q, %v", line, err)
	}
	return h
}

// stop sends cmd to the holder and waits for it to exit.
func (h *holder) stop(t *testing.T, cmd string) {
	t.Helper()
	if h.cmd.ProcessState != nil {
		return
	}
	fmt.Fprintln(h.stdin, cmd)
	h.stdin.Close()
	if err := h.cmd.Wait(); err != nil {
		t.Errorf("holder exited: %v", err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAcquireRelease(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "data")
	path := filepath.Join(dir, "sparkq.lock")

	l, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := readFile(t, path), strconv.Itoa(os.Getpid())+"\n"; got != want {
		t.Errorf("lockfile content = %q, want %q", got, want)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, dir: 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode = %o, want %o", p, got, want)
		}
	}
	// A separate open file description sees the lock even in this process.
	if pid, held, err := ReadPID(path); pid != os.Getpid() || !held || err != nil {
		t.Errorf("ReadPID while held = %d, %v, %v; want %d, true, nil", pid, held, err, os.Getpid())
	}

	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lockfile still present after Release: %v", err)
	}
	if pid, held, err := ReadPID(path); pid != 0 || held || err != nil {
		t.Errorf("ReadPID after Release = %d, %v, %v; want 0, false, nil", pid, held, err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("second Release = %v, want nil", err)
	}
}

func TestAcquireHeldByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sparkq.lock")
	h := startHolder(t, path)
	childPID := h.cmd.Process.Pid

	_, err := Acquire(path)
	var held *HeldError
	if !errors.As(err, &held) || held.PID != childPID {
		t.Fatalf("Acquire while held = %v, want *HeldError{PID: %d}", err, childPID)
	}
	if want := fmt.Sprintf("sparkq is already running (PID %d)", childPID); err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if pid, isHeld, err := ReadPID(path); pid != childPID || !isHeld || err != nil {
		t.Errorf("ReadPID = %d, %v, %v; want %d, true, nil", pid, isHeld, err, childPID)
	}

	h.stop(t, "release")
	l, err := Acquire(path)
	if err != nil {
		t.Fatalf("Acquire after holder released: %v", err)
	}
	defer l.Release()
	if got, want := readFile(t, path), strconv.Itoa(os.Getpid())+"\n"; got != want {
		t.Errorf("lockfile content = %q, want %q", got, want)
	}
}

func TestAcquireTakesOverFileOfDeadProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sparkq.lock")
	h := startHolder(t, path)
	deadPID := h.cmd.Process.Pid
	h.stop(t, "crash") // exits without Release: the file stays, the lock goes

	if got := readFile(t, path); got != strconv.Itoa(deadPID)+"\n" {
		t.Fatalf("crashed holder left %q, want its PID %d", got, deadPID)
	}
	// The dead PID must not be reported: it may be reused by now.
	if pid, held, err := ReadPID(path); pid != 0 || held || err != nil {
		t.Errorf("ReadPID of stale file = %d, %v, %v; want 0, false, nil", pid, held, err)
	}
	l, err := Acquire(path)
	if err != nil {
		t.Fatalf("Acquire over stale file: %v", err)
	}
	defer l.Release()
	if got, want := readFile(t, path), strconv.Itoa(os.Getpid())+"\n"; got != want {
		t.Errorf("lockfile content = %q, want %q", got, want)
	}
}

func TestAcquireOverwritesStaleContent(t *testing.T) {
	tests := []struct{ name, content string }{
		{"empty", ""},
		{"garbage", "not a pid"},
		{"longer than ours", "123456789012345678901234567890\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sparkq.lock")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			l, err := Acquire(path)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Release()
			if got, want := readFile(t, path), strconv.Itoa(os.Getpid())+"\n"; got != want {
				t.Errorf("lockfile content = %q, want %q", got, want)
			}
		})
	}
}

func TestAcquireTwiceInOneProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sparkq.lock")
	l, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	var held *HeldError
	if _, err := Acquire(path); !errors.As(err, &held) || held.PID != os.Getpid() {
		t.Errorf("second Acquire = %v, want *HeldError with our PID", err)
	}
}

// A racer that opened the file just before the holder released must not
// end up "holding" the unlinked inode next to a newcomer on the fresh file.
func TestLockOnReleasedFileIsRefused(t *testing.T) {
	for _, newcomer := range []bool{false, true} {
		t.Run(fmt.Sprintf("newcomer=%v", newcomer), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sparkq.lock")
			first, err := Acquire(path)
			if err != nil {
				t.Fatal(err)
			}
			racer, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := first.Release(); err != nil {
				t.Fatal(err)
			}
			if newcomer {
				l, err := Acquire(path)
				if err != nil {
					t.Fatal(err)
				}
				defer l.Release()
			}
			if l, err := lockOpened(racer, path); !errors.Is(err, errReplaced) {
				if l != nil {
					l.Release()
				}
				t.Errorf("locking the released inode = %v, want errReplaced", err)
			}
		})
	}
}

func TestReleaseLeavesAReplacedFileAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sparkq.lock")
	l, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	// Someone deletes our file by hand and another daemon creates its own.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("42\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "42\n" {
		t.Errorf("Release touched a file it does not own: %q", got)
	}
}

func TestReadPIDMissingFile(t *testing.T) {
	pid, held, err := ReadPID(filepath.Join(t.TempDir(), "nope.lock"))
	if pid != 0 || held || err != nil {
		t.Errorf("ReadPID(missing) = %d, %v, %v; want 0, false, nil", pid, held, err)
	}
}

func TestHeldErrorMessage(t *testing.T) {
	tests := []struct {
		err  *HeldError
		want string
	}{
		{&HeldError{Path: "/d/sparkq.lock", PID: 7}, "sparkq is already running (PID 7)"},
		{&HeldError{Path: "/d/sparkq.lock"}, "sparkq is already running (lock /d/sparkq.lock is held)"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
