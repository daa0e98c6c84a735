package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// Group commit. Every write is queued; whichever caller gets the writer
// connection becomes the leader and runs everything queued so far in one
// transaction, each write inside its own savepoint. Concurrent writers then
// share one commit (the costly part on SQLite) while each still succeeds or
// fails on its own.

// maxBatch bounds how many writes share one transaction.
const maxBatch = 256

type writeReq struct {
	ctx  context.Context
	fn   func(wtx) error
	err  error
	done chan struct{}
}

// wtx is a write transaction. It runs the hot statements prepared once on
// the writer, and ignores callers' contexts once a write has started: a
// cancelled statement would make SQLite roll back the whole shared
// transaction, including other callers' writes.
type wtx struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

var bg = context.Background()

func (w wtx) ExecContext(_ context.Context, q string, args ...any) (sql.Result, error) {
	if st, ok := w.stmts[q]; ok {
		return w.tx.StmtContext(bg, st).ExecContext(bg, args...)
	}
	return w.tx.ExecContext(bg, q, args...)
}

func (w wtx) QueryContext(_ context.Context, q string, args ...any) (*sql.Rows, error) {
	if st, ok := w.stmts[q]; ok {
		return w.tx.StmtContext(bg, st).QueryContext(bg, args...)
	}
	return w.tx.QueryContext(bg, q, args...)
}

func (w wtx) QueryRowContext(_ context.Context, q string, args ...any) *sql.Row {
	if st, ok := w.stmts[q]; ok {
		return w.tx.StmtContext(bg, st).QueryRowContext(bg, args...)
	}
	return w.tx.QueryRowContext(bg, q, args...)
}

// write runs fn in a write transaction, possibly shared with other writes;
// fn's changes commit only if it returns nil.
func (s *Store) write(ctx context.Context, fn func(wtx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan struct{})}
	s.pendMu.Lock()
	s.pending = append(s.pending, req)
	s.pendMu.Unlock()

	res, err := s.writer.Acquire(ctx)
	if err != nil {
		if s.unqueue(req) {
			return fmt.Errorf("wait for writer: %w", err)
		}
		<-req.done // a leader already took it
		return req.err
	}
	for {
		select {
		case <-req.done:
			res.Release()
			return req.err
		default:
		}
		s.pendMu.Lock()
		n := min(len(s.pending), maxBatch)
		batch := make([]*writeReq, n)
		copy(batch, s.pending)
		s.pending = append(s.pending[:0], s.pending[n:]...)
		s.pendMu.Unlock()
		if err := s.runBatch(res.Value(), batch); err != nil {
			res.Destroy()
			// Our own request may not have been in the batch; fail it too.
			if s.unqueue(req) {
				return err
			}
			<-req.done
			return req.err
		}
	}
}

func (s *Store) unqueue(req *writeReq) bool {
	s.pendMu.Lock()
	defer s.pendMu.Unlock()
	for i, r := range s.pending {
		if r == req {
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			return true
		}
	}
	return false
}

// runBatch runs batch in one transaction and signals every request. It
// returns an error only when the connection itself is in doubt.
func (s *Store) runBatch(c *sql.Conn, batch []*writeReq) (connErr error) {
	finish := func(err error) {
		for _, r := range batch {
			if err != nil && r.err == nil {
				r.err = err
			}
			close(r.done)
		}
	}
	tx, err := c.BeginTx(bg, nil)
	if err != nil {
		err = fmt.Errorf("begin: %w", err)
		finish(err)
		return err
	}
	w := wtx{tx: tx, stmts: s.stmts}
	single := len(batch) == 1
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		if single {
			if r.err = r.fn(w); r.err != nil {
				tx.Rollback()
				finish(nil)
				return nil
			}
			break
		}
		if _, err := tx.ExecContext(bg, `SAVEPOINT w`); err != nil {
			tx.Rollback()
			err = fmt.Errorf("savepoint: %w", err)
			finish(err)
			return err
		}
		if r.err = r.fn(w); r.err != nil {
			_, err = tx.ExecContext(bg, `ROLLBACK TO w`)
		}
		if err == nil {
			_, err = tx.ExecContext(bg, `RELEASE w`)
		}
		if err != nil {
			// The transaction is unusable: nothing in it commits.
			tx.Rollback()
			err = fmt.Errorf("write aborted (request %d of %d): %w", i+1, len(batch), err)
			for _, r := range batch {
				r.err = err
			}
			finish(nil)
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		err = fmt.Errorf("commit: %w", err)
		for _, r := range batch {
			r.err = err
		}
		finish(nil)
		return err
	}
	finish(nil)
	return nil
}
