//go:build unix

// Package lockfile keeps a second daemon off the same database: an
// exclusive flock(2) on a PID file, held for the daemon's whole life.
//
// The kernel drops a flock when its holder dies, however it dies, so a
// file left behind by a crash is never mistaken for a live daemon: only
// the lock says "running", the PID inside is just for messages.
package lockfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Lock is a held lockfile. Keep it until the daemon exits.
type Lock struct {
	path string
	f    *os.File
}

// HeldError means another live process holds the lock.
type HeldError struct {
	Path string
	PID  int // 0 if the holder has not written its PID yet
}

func (e *HeldError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("sparkq is already running (PID %d)", e.PID)
	}
	return fmt.Sprintf("sparkq is already running (lock %s is held)", e.Path)
}

const (
	// A lock can be held for a moment by a ReadPID probe or lost to a
	// releaser that unlinked the file (see Acquire); retry briefly before
	// concluding another daemon is running.
	attempts   = 5
	retryPause = 20 * time.Millisecond
)

// Acquire takes the lock at path, creating it (0600, parent dir 0700) if
// needed, and writes our PID into it. If another process holds it, the
// error is a *HeldError naming that process.
func Acquire(path string) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create lock directory: %w", err)
	}
	var held *HeldError
	for range attempts {
		l, err := tryAcquire(path)
		if err == nil {
			return l, nil
		}
		if !errors.As(err, &held) && !errors.Is(err, errReplaced) {
			return nil, err
		}
		time.Sleep(retryPause)
	}
	if held == nil {
		return nil, fmt.Errorf("lock %s: replaced repeatedly while acquiring it", path)
	}
	return nil, held
}

// errReplaced means the file we locked was unlinked or replaced before we
// got the lock, so holding it would protect nothing.
var errReplaced = errors.New("lockfile replaced")

func tryAcquire(path string) (*Lock, error) {
	// os.OpenFile sets O_CLOEXEC: children the daemon spawns must not
	// inherit, and so keep alive, the lock.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lockfile: %w", err)
	}
	return lockOpened(f, path)
}

// lockOpened locks f, opened earlier from path, and takes ownership of it:
// on failure f is closed.
func lockOpened(f *os.File, path string) (*Lock, error) {
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		pid := readPID(f)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &HeldError{Path: path, PID: pid}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// Between our open and our flock the previous holder may have released:
	// it unlinks the file first, so we would now hold a lock on a file no
	// one else can open, while a newcomer creates and locks a fresh one.
	// Only a lock on the inode currently at path counts.
	if same, err := isCurrent(f, path); err != nil || !same {
		f.Close()
		if err != nil {
			return nil, err
		}
		return nil, errReplaced
	}
	// Whatever a dead holder left is stale; replace it with our PID.
	if err := writePID(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("write PID to %s: %w", path, err)
	}
	return &Lock{path: path, f: f}, nil
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		return err
	}
	// Durable so a file left by a machine crash still names its last holder
	// for post-mortems. Correctness never depends on it: the flock does.
	return f.Sync()
}

// Path is where the lock lives.
func (l *Lock) Path() string { return l.path }

// Release removes the lockfile and then drops the lock. Safe to call twice.
//
// The order matters. If we unlocked first, another daemon could lock the
// same inode and write its PID, and our remove would then delete *its*
// file: a third daemon would create a fresh one and also "hold" the lock.
// Removing while still locked means anyone who opened the old inode finds,
// once their flock succeeds, that it is no longer at path and retries on a
// fresh file; and no reader ever sees our PID in a file we no longer hold.
func (l *Lock) Release() error {
	if l.f == nil {
		return nil
	}
	var errs []error
	// Only remove the file if it is still ours: someone may have deleted it
	// by hand and a new daemon created its own.
	if same, err := isCurrent(l.f, l.path); err != nil {
		errs = append(errs, err)
	} else if same {
		if err := os.Remove(l.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove lockfile: %w", err))
		}
	}
	// Closing the last descriptor drops the flock; unlock explicitly anyway
	// so a descriptor leaked to a child cannot keep it.
	if err := flock(l.f, syscall.LOCK_UN); err != nil {
		errs = append(errs, fmt.Errorf("unlock %s: %w", l.path, err))
	}
	if err := l.f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close lockfile: %w", err))
	}
	l.f = nil
	return errors.Join(errs...)
}

// ReadPID reports whether a live process holds the lock at path and, if so,
// its PID (0 if it has not written it yet). When nobody holds it, pid is 0
// even if a stale file names one: that process is gone and its number may
// already belong to someone else, so it must not be signalled.
func ReadPID(path string) (pid int, held bool, err error) {
	// Read-only is enough for flock and needs no write permission.
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("open lockfile: %w", err)
	}
	defer f.Close()
	// A shared lock succeeds only if no one holds the exclusive one. It is
	// dropped at once; Acquire retries across this brief window.
	switch err := flock(f, syscall.LOCK_SH|syscall.LOCK_NB); {
	case err == nil:
		if err := flock(f, syscall.LOCK_UN); err != nil {
			return 0, false, fmt.Errorf("unlock %s: %w", path, err)
		}
		return 0, false, nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		return readPID(f), true, nil
	default:
		return 0, false, fmt.Errorf("probe lock %s: %w", path, err)
	}
}

// readPID parses the file's content, 0 if it is empty or not a PID.
func readPID(f *os.File) int {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// isCurrent reports whether f is the file now at path.
func isCurrent(f *os.File, path string) (bool, error) {
	held, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("stat lockfile: %w", err)
	}
	now, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat lockfile: %w", err)
	}
	return os.SameFile(held, now), nil
}

// flock retries on EINTR, which a signal can cause even with LOCK_NB.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
