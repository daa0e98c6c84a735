package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/sparkq/sparkq/store"
)

// CountPurgeable implements store.Store. It reads the same rows Purge
// deletes (through the tasks_finished index), on a read connection, so a
// dry run never waits for the writer.
func (s *Store) CountPurgeable(ctx context.Context, cutoff time.Time) (n int, err error) {
	err = s.read(ctx, func(c *sql.Conn) error {
		return c.QueryRowContext(ctx, `SELECT COUNT(*) FROM tasks INDEXED BY tasks_finished
			WHERE status IN ('succeeded','failed') AND finished_at < ?`, store.NewTime(cutoff).String()).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("count purgeable tasks: %w", err)
	}
	return n, nil
}

// Checkpoint implements store.Store with a PASSIVE checkpoint run on a
// read connection: the copy of WAL frames into the database file and its
// fsync happen beside the writer, which keeps committing meanwhile. Without
// it a large purge fills the WAL and every automatic checkpoint runs inside
// a commit, holding each waiting claim and enqueue for tens of
// milliseconds.
func (s *Store) Checkpoint(ctx context.Context) error {
	return s.read(ctx, func(c *sql.Conn) error {
		var busy, frames, copied int
		if err := c.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		return nil
	})
}
