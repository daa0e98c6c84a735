package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
)

// Group commit. Every write is queued; whichever caller gets the writer
// connection becomes the leader and runs everything queued so far in one
// transaction, each write inside its own savepoint. Concurrent writers then
// share one commit (the costly part on SQLite) while each still succeeds or
// fails on its own.

// A leader alone in the queue yields once before committing, so writers
// that are a moment behind share its commit. Under steady concurrency this
// halves the commits; after loneLimit lone commits in a row (a single
// client) it stops yielding, as there is nobody to wait for.
const loneLimit = 8

// maxBatch bounds how many writes share one transaction.
const maxBatch = 256

type writeReq struct {
	ctx  context.Context
	fn   func(wtx) error
	err  error
	done chan struct{}
}

// writerConn is the single writer connection with its statements
// prepared once: the hot writes and the transaction control of runBatch.
// Transactions are driven by these statements rather than database/sql's
// Tx, which would re-wrap each statement for every use.
type writerConn struct {
	c     *sql.Conn
	stmts map[string]*sql.Stmt
}

const (
	qBegin      = `BEGIN IMMEDIATE`
	qCommit     = `COMMIT`
	qRollback   = `ROLLBACK`
	qSavepoint  = `SAVEPOINT w`
	qRelease    = `RELEASE w`
	qRollbackTo = `ROLLBACK TO w`
)

func newWriterConn(ctx context.Context, db *sql.DB) (*writerConn, error) {
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("open writer: %w", err)
	}
	w := &writerConn{c: c, stmts: make(map[string]*sql.Stmt)}
	for _, q := range append([]string{qBegin, qCommit, qRollback, qSavepoint, qRelease, qRollbackTo}, hotWrites...) {
		st, err := c.PrepareContext(ctx, q)
		if err != nil {
			w.close()
			return nil, fmt.Errorf("open writer: prepare: %w", err)
		}
		w.stmts[q] = st
	}
	return w, nil
}

// close finalizes the statements before the connection: SQLite keeps a
// connection with live statements open, and with it the WAL file.
func (w *writerConn) close() {
	for _, st := range w.stmts {
		st.Close()
	}
	w.c.Close()
}

// exec runs one of the prepared control statements.
func (w *writerConn) exec(q string) error {
	_, err := w.stmts[q].ExecContext(bg)
	return err
}

// wtx is a write transaction. It runs the hot statements prepared once on
// the writer, and ignores callers' contexts once a write has started: a
// cancelled statement would make SQLite roll back the whole shared
// transaction, including other callers' writes.
type wtx struct{ w *writerConn }

var bg = context.Background()

func (t wtx) ExecContext(_ context.Context, q string, args ...any) (sql.Result, error) {
	if st, ok := t.w.stmts[q]; ok {
		return st.ExecContext(bg, args...)
	}
	return t.w.c.ExecContext(bg, q, args...)
}

func (t wtx) QueryContext(_ context.Context, q string, args ...any) (*sql.Rows, error) {
	if st, ok := t.w.stmts[q]; ok {
		return st.QueryContext(bg, args...)
	}
	return t.w.c.QueryContext(bg, q, args...)
}

func (t wtx) QueryRowContext(_ context.Context, q string, args ...any) *sql.Row {
	if st, ok := t.w.stmts[q]; ok {
		return st.QueryRowContext(bg, args...)
	}
	return t.w.c.QueryRowContext(bg, q, args...)
}

// CommitStats reports how many write transactions committed and how many
// writes they carried; their ratio is the mean group-commit batch.
func (s *Store) CommitStats() (commits, writes int64) {
	return s.commits.Load(), s.batched.Load()
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
		if len(s.pending) == 1 && s.lone < loneLimit {
			s.pendMu.Unlock()
			runtime.Gosched()
			s.pendMu.Lock()
		}
		n := min(len(s.pending), maxBatch)
		if n == 1 {
			s.lone++
		} else {
			s.lone = 0
		}
		batch := make([]*writeReq, n)
		copy(batch, s.pending)
		s.pending = append(s.pending[:0], s.pending[n:]...)
		s.pendMu.Unlock()
		s.commits.Add(1)
		s.batched.Add(int64(n))
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
func (s *Store) runBatch(w *writerConn, batch []*writeReq) (connErr error) {
	finish := func(err error) {
		for _, r := range batch {
			if err != nil && r.err == nil {
				r.err = err
			}
			close(r.done)
		}
	}
	// abort ends a transaction that cannot commit; "no transaction is
	// active" after a failed COMMIT is expected and harmless.
	abort := func() { _ = w.exec(qRollback) }
	if err := w.exec(qBegin); err != nil {
		err = fmt.Errorf("begin: %w", err)
		finish(err)
		return err
	}
	tx := wtx{w: w}
	single := len(batch) == 1
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		if single {
			if r.err = r.fn(tx); r.err != nil {
				abort()
				finish(nil)
				return nil
			}
			break
		}
		if err := w.exec(qSavepoint); err != nil {
			abort()
			err = fmt.Errorf("savepoint: %w", err)
			finish(err)
			return err
		}
		var err error
		if r.err = r.fn(tx); r.err != nil {
			err = w.exec(qRollbackTo)
		}
		if err == nil {
			err = w.exec(qRelease)
		}
		if err != nil {
			// The transaction is unusable: nothing in it commits.
			abort()
			err = fmt.Errorf("write aborted (request %d of %d): %w", i+1, len(batch), err)
			for _, r := range batch {
				r.err = err
			}
			finish(nil)
			return err
		}
	}
	if err := w.exec(qCommit); err != nil {
		abort()
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
