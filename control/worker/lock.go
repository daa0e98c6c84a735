package worker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sparkq/sparkq/daemon/lockfile"
)

// LockedError means another live worker holds the queue's lock.
type LockedError struct {
	Path string
	PID  int // 0 when the holder has not written it yet
}

func (e *LockedError) Error() string {
	holder := "another worker"
	if e.PID > 0 {
		holder = fmt.Sprintf("another worker (PID %d)", e.PID)
	}
	return fmt.Sprintf("%s is already working this queue (lock %s)", holder, e.Path)
}

// LockPath is the lock file of a queue's worker in dir ("" = the system
// temporary directory).
func LockPath(dir, queueID string) string {
	if dir == "" {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "sparkq-worker-"+queueID+".lock")
}

// LockQueue takes the queue's worker lock, so that two terminals do not
// work one queue by accident. It is an flock: a worker that dies, however
// it dies, drops it. Release it when the worker exits.
func LockQueue(dir, queueID string) (*lockfile.Lock, error) {
	path := LockPath(dir, queueID)
	l, err := lockfile.Acquire(path)
	var held *lockfile.HeldError
	if errors.As(err, &held) {
		return nil, &LockedError{Path: path, PID: held.PID}
	}
	if err != nil {
		return nil, fmt.Errorf("lock queue %s: %w", queueID, err)
	}
	return l, nil
}
