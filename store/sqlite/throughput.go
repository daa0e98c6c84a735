package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/sparkq/sparkq/store"
)

// qFinishedPerMinute groups by the minute prefix of finished_at, which is
// stored in store.TimeLayout, so "2006-01-02T15:04" names the UTC minute.
// The status terms match the partial index tasks_finished, so only rows
// of the window are visited, never the whole table.
const qFinishedPerMinute = `SELECT substr(finished_at, 1, 16) AS minute,
	SUM(status = 'succeeded'), SUM(status = 'failed')
	FROM tasks INDEXED BY tasks_finished
	WHERE status IN ('succeeded','failed') AND finished_at >= ? AND finished_at < ?
	GROUP BY minute ORDER BY minute`

// FinishedPerMinute implements store.Store.
func (s *Store) FinishedPerMinute(ctx context.Context, since, until time.Time) (out []store.MinuteCount, err error) {
	if !since.Before(until) {
		return nil, nil
	}
	err = s.read(ctx, func(c *sql.Conn) error {
		rows, err := c.QueryContext(ctx, qFinishedPerMinute, store.NewTime(since).String(), store.NewTime(until).String())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var minute string
			var m store.MinuteCount
			if err := rows.Scan(&minute, &m.Succeeded, &m.Failed); err != nil {
				return err
			}
			t, err := time.Parse("2006-01-02T15:04", minute)
			if err != nil {
				continue // not written by this store; skip rather than fail the chart
			}
			m.Minute = t.UTC()
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("count finished tasks per minute: %w", err)
	}
	return out, nil
}
