// Package sqlite implements store.Store on an embedded SQLite file (WAL).
// One writer connection serialises every change, so concurrent writers wait
// in Go for their turn instead of failing with "database is locked"; a pool
// of read-only connections serves reads alongside it.
package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/puddle/v2"
	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"

	"github.com/sparkq/sparkq/store"
)

// Options tune Open. The zero value is ready to use.
type Options struct {
	// Readers is the size of the read-only pool (default: 2×CPUs, at least 4).
	Readers int
	// Now is the clock (default time.Now); tests inject a fake one.
	Now func() time.Time
	// Seed fills task classes and tools when both tables are empty; nil
	// means the built-in defaults.
	Seed *Seed
}

// Seed is the initial configuration of task classes and tools.
type Seed struct {
	TaskClasses []store.TaskClass
	Tools       []store.Tool
	// Config rows (from sparkq.yml) are stored once, on the first open of
	// a database, for keys not stored yet; see seedCatalog.
	Config []store.ConfigEntry
}

// Store is the SQLite backend.
type Store struct {
	path    string
	now     func() time.Time
	wdb     *sql.DB
	rdb     *sql.DB
	writer  *puddle.Pool[*writerConn]
	readers *puddle.Pool[*sql.Conn]

	// registry caches tools and task classes for enqueue; only this
	// process writes them, so it is refreshed on every change.
	mu      sync.RWMutex
	tools   map[string]store.Tool
	classes map[string]store.TaskClass

	// pending writes wait here for a leader to run them (see write).
	pendMu  sync.Mutex
	pending []*writeReq
	lone    int // consecutive lone batches, see loneLimit
	commits atomic.Int64
	batched atomic.Int64

	// waits holds the callers blocked in ClaimNextWait (see wait.go).
	waits waitSet

	ids taskIDs
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path, migrates it and
// seeds defaults.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("open store: database path is empty")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("open store: create folder: %w", err)
	}
	s := &Store{path: abs, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	// Ids follow the real clock even under a test's fake one, so two
	// stores opened on one file never reuse each other's ids.
	s.ids.now = time.Now
	readers := opts.Readers
	if readers <= 0 {
		readers = max(4, 2*runtime.NumCPU())
	}

	// Create the file with private permissions before SQLite does.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}
	f.Close()

	s.wdb, err = sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}
	s.wdb.SetMaxOpenConns(1)
	s.rdb, err = sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		s.wdb.Close()
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}
	s.rdb.SetMaxOpenConns(readers)
	s.rdb.SetMaxIdleConns(readers)

	if err := s.migrate(ctx); err != nil {
		s.closeDBs()
		return nil, err
	}
	s.writer, err = puddle.NewPool(&puddle.Config[*writerConn]{
		Constructor: func(ctx context.Context) (*writerConn, error) { return newWriterConn(ctx, s.wdb) },
		Destructor:  func(w *writerConn) { w.close() },
		MaxSize:     1,
	})
	if err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("open store: writer pool: %w", err)
	}
	s.readers, err = puddle.NewPool(&puddle.Config[*sql.Conn]{
		Constructor: func(ctx context.Context) (*sql.Conn, error) { return s.rdb.Conn(ctx) },
		Destructor:  func(c *sql.Conn) { c.Close() },
		MaxSize:     int32(readers),
	})
	if err != nil {
		s.writer.Close()
		s.closeDBs()
		return nil, fmt.Errorf("open store: reader pool: %w", err)
	}

	if err := s.seed(ctx, opts.Seed); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.seedCatalog(ctx, opts.Seed); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.loadRegistry(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	c, err := s.wdb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("open store %s: %w", s.path, err)
	}
	defer c.Close()
	return migrate(ctx, c, s.path)
}

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// Checkpoint less often: each one fsyncs, and pages rewritten many
	// times between checkpoints are copied to the main file only once.
	q.Add("_pragma", "wal_autocheckpoint(10000)")
	q.Add("_pragma", "cache_size(-32000)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		// Take the write lock at BEGIN so a transaction never fails halfway
		// on lock upgrade.
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Path is the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Close checkpoints the WAL into the main file and closes every connection.
func (s *Store) Close() error {
	s.waits.close() // blocked ClaimNextWait calls return at once
	var errs []error
	if s.writer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := s.withWriter(ctx, func(c *sql.Conn) error {
			_, err := c.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
			return err
		})
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("checkpoint: %w", err))
		}
		s.writer.Close()
	}
	if s.readers != nil {
		s.readers.Close()
	}
	errs = append(errs, s.closeDBs())
	return errors.Join(errs...)
}

func (s *Store) closeDBs() error {
	var errs []error
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	if s.wdb != nil {
		errs = append(errs, s.wdb.Close())
	}
	return errors.Join(errs...)
}

func (s *Store) withWriter(ctx context.Context, fn func(*sql.Conn) error) error {
	res, err := s.writer.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("wait for writer: %w", err)
	}
	err = fn(res.Value().c)
	if errors.Is(err, sql.ErrConnDone) {
		res.Destroy()
	} else {
		res.Release()
	}
	return err
}

// read runs fn on a read-only connection (a consistent snapshot when fn
// needs one should open its own transaction).
func (s *Store) read(ctx context.Context, fn func(*sql.Conn) error) error {
	res, err := s.readers.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("wait for reader: %w", err)
	}
	err = fn(res.Value())
	if errors.Is(err, sql.ErrConnDone) {
		res.Destroy()
	} else {
		res.Release()
	}
	return err
}

// querier is what both *sql.Conn and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) stamp() string { return store.NewTime(s.now()).String() }

// taskIDs issues task ids that grow with time: "tsk_" and 12 hex digits
// (48 bits) of microseconds since the Unix epoch, bumped past the last one
// issued. Ascending ids append to the id index instead of dirtying a random
// page of it per task, which keeps a batch's commit small. The 48 bits wrap
// every 8.9 years; a clash with a task kept that long is caught by the
// UNIQUE constraint and retried with a random id (insertTask).
type taskIDs struct {
	mu   sync.Mutex
	last uint64
	now  func() time.Time
}

func (g *taskIDs) next() string {
	const mask = 1<<48 - 1
	v := uint64(g.now().UnixMicro()) & mask
	g.mu.Lock()
	if v <= g.last && g.last-v < mask/2 {
		v = (g.last + 1) & mask
	}
	g.last = v
	g.mu.Unlock()
	return fmt.Sprintf("tsk_%012x", v)
}

func newID(prefix string) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // cannot happen on supported OSes
	}
	return prefix + hex.EncodeToString(b[:])
}

func isUnique(err error) bool {
	var e *sqlite3.Error
	return errors.As(err, &e) && (e.Code() == sqlite3lib.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// text trims s and reports whether anything is left.
func text(s string) (string, bool) {
	s = strings.TrimSpace(s)
	return s, s != ""
}

// maxNameLen bounds session and queue names (in characters).
const maxNameLen = 200

var idLike = regexp.MustCompile(`^(ses|que|tsk|prm|prj)_[0-9a-f]{12}$`)

// validName checks a session or queue name: trimmed, present, printable,
// bounded, and not shaped like an id (the CLI resolves ids before names, so
// such a name could never be addressed). label is e.g. "Queue name".
func validName(field, label, s string, required bool) (string, error) {
	name, ok := text(s)
	switch {
	case !ok && required:
		return "", store.Invalid(field, "%s is required", label)
	case !ok:
		return "", store.Invalid(field, "%s cannot be empty", label)
	case utf8.RuneCountInString(name) > maxNameLen:
		return "", store.Invalid(field, "%s is too long: at most %d characters", label, maxNameLen)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", store.Invalid(field, "%s must not contain control characters (newlines, tabs)", label)
	case idLike.MatchString(name):
		return "", store.Invalid(field, "%s %q looks like an id: choose a name that does not", label, name)
	}
	return name, nil
}

func nullString(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func strPtr(ns sql.NullString) *string {
	if !ns.Valid {
		return nil
	}
	v := ns.String
	return &v
}

func timeVal(s string) store.Time {
	t, err := store.ParseTime(s)
	if err != nil {
		return store.Time{}
	}
	return t
}

func timePtr(ns sql.NullString) *store.Time {
	if !ns.Valid || ns.String == "" {
		return nil
	}
	t := timeVal(ns.String)
	return &t
}

func pageBounds(p store.Page, def, maxLimit int) (int, int) {
	limit := p.Limit
	if limit <= 0 {
		limit = def
	}
	if maxLimit > 0 && limit > maxLimit {
		limit = maxLimit
	}
	return limit, max(p.Offset, 0)
}
