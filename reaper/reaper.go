// Package reaper is the daemon's background maintenance: it fails tasks whose
// claims went stale and purges old finished tasks, each on its own schedule.
// Time comes from an injectable clock so tests never sleep.
package reaper

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/sparkq/sparkq/daemon/config"
	"github.com/sparkq/sparkq/store"
)

// Backend is what the reaper needs from the store.
type Backend interface {
	SweepStale(ctx context.Context, now time.Time) (store.SweepResult, error)
	Purge(ctx context.Context, cutoff time.Time, limit int) (int, error)
}

// Clock tells time and makes tickers; Real is the wall clock.
type Clock interface {
	Now() time.Time
	// After returns a channel that fires once d has passed.
	After(d time.Duration) <-chan time.Time
}

// Real is the wall clock.
type Real struct{}

// Now implements Clock.
func (Real) Now() time.Time { return time.Now() }

// After implements Clock.
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Settings are the reaper's knobs; they may change at run time (reload,
// or a config row written through the API): see Resolve.
type Settings struct {
	SweepInterval time.Duration // stale sweep period (default 30 s, at least config.MinSweepInterval)
	PurgeInterval time.Duration // purge period (default 1 h, at least config.MinPurgeInterval)
	RetentionDays int           // finished tasks older than this go (default 3)
	PurgeBatch    int           // rows per purge transaction (default DefaultPurgeBatch)
}

// Built-in defaults, used when neither the database nor sparkq.yml sets a
// value.
const (
	DefaultSweepInterval = 30 * time.Second
	DefaultPurgeInterval = time.Hour
	DefaultRetentionDays = 3
	// DefaultPurgeBatch bounds how long one purge transaction holds the
	// single writer, and so how long a claim or enqueue can wait behind
	// it. BenchmarkPurgeUnderLoad tuned it, with PurgeBefore's checkpoint
	// every checkpointRows deletions: 1,000,000 deletions keep 4
	// concurrent clients' p99 at about 3x their p99 without a purge
	// (1,000 per batch: over 5x).
	DefaultPurgeBatch = 250
)

func (s Settings) withDefaults() Settings {
	if s.SweepInterval <= 0 {
		s.SweepInterval = DefaultSweepInterval
	}
	if s.PurgeInterval <= 0 {
		s.PurgeInterval = DefaultPurgeInterval
	}
	// sparkq.yml refuses shorter ones; this also covers hand-built
	// settings, which would otherwise make Run purge without pause.
	s.PurgeInterval = max(s.PurgeInterval, config.MinPurgeInterval)
	s.SweepInterval = max(s.SweepInterval, config.MinSweepInterval)
	if s.RetentionDays <= 0 {
		s.RetentionDays = DefaultRetentionDays
	}
	if s.PurgeBatch <= 0 {
		s.PurgeBatch = DefaultPurgeBatch
	}
	return s
}

// Stats are running totals and the last run's counts, for logs and
// `sparkq status`.
type Stats struct {
	Sweeps     int64     `json:"sweeps"`
	Warned     int64     `json:"warned"`
	AutoFailed int64     `json:"auto_failed"`
	Purges     int64     `json:"purges"`
	Purged     int64     `json:"purged"`
	LastSweep  time.Time `json:"last_sweep"`
	LastPurge  time.Time `json:"last_purge"`
	LastError  string    `json:"last_error,omitempty"`
	// What the last sweep and the last purge did.
	LastWarned     int `json:"last_warned"`
	LastAutoFailed int `json:"last_auto_failed"`
	LastPurged     int `json:"last_purged"`
	// The settings in effect (they follow config writes and reloads).
	SweepIntervalSeconds float64 `json:"sweep_interval_seconds"`
	PurgeIntervalSeconds float64 `json:"purge_interval_seconds"`
	RetentionDays        int     `json:"retention_days"`
	PurgeBatch           int     `json:"purge_batch"`
}

// Reaper runs the background jobs.
type Reaper struct {
	store Backend
	clock Clock
	log   *slog.Logger

	mu       sync.Mutex
	settings Settings
	stats    Stats
	changed  chan struct{}
}

// New builds a reaper; clock nil means the wall clock.
func New(b Backend, s Settings, clock Clock, log *slog.Logger) *Reaper {
	if clock == nil {
		clock = Real{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reaper{store: b, clock: clock, log: log, settings: s.withDefaults(), changed: make(chan struct{}, 1)}
}

// Update swaps the settings; the loops pick them up at once.
func (r *Reaper) Update(s Settings) {
	r.mu.Lock()
	r.settings = s.withDefaults()
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// Stats returns a copy of the totals, with the settings in effect.
func (r *Reaper) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, s := r.stats, r.settings
	st.SweepIntervalSeconds, st.PurgeIntervalSeconds = s.SweepInterval.Seconds(), s.PurgeInterval.Seconds()
	st.RetentionDays, st.PurgeBatch = s.RetentionDays, s.PurgeBatch
	return st
}

// Settings returns the settings in effect.
func (r *Reaper) Settings() Settings { return r.current() }

func (r *Reaper) current() Settings {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.settings
}

// Run sweeps at once and then on schedule until ctx ends; purges run on
// their own, slower schedule, starting with one at start-up.
func (r *Reaper) Run(ctx context.Context) {
	nextSweep, nextPurge := r.clock.Now(), r.clock.Now()
	for {
		now := r.clock.Now()
		s := r.current()
		if !now.Before(nextSweep) {
			r.Sweep(ctx)
			nextSweep = now.Add(s.SweepInterval)
		}
		if !now.Before(nextPurge) {
			r.Purge(ctx)
			nextPurge = now.Add(s.PurgeInterval)
		}
		wait := min(nextSweep.Sub(now), nextPurge.Sub(now))
		select {
		case <-ctx.Done():
			return
		case <-r.changed:
			// Re-plan with the new intervals, counted from now.
			now = r.clock.Now()
			s = r.current()
			nextSweep, nextPurge = minTime(nextSweep, now.Add(s.SweepInterval)), minTime(nextPurge, now.Add(s.PurgeInterval))
		case <-r.clock.After(wait):
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Sweep runs one stale pass now.
func (r *Reaper) Sweep(ctx context.Context) store.SweepResult {
	res, err := r.store.SweepStale(ctx, r.clock.Now())
	r.mu.Lock()
	r.stats.Sweeps++
	r.stats.LastSweep = r.clock.Now()
	r.stats.Warned += int64(res.Warned)
	r.stats.AutoFailed += int64(res.Failed)
	r.stats.LastWarned, r.stats.LastAutoFailed = res.Warned, res.Failed
	if err != nil {
		r.stats.LastError = err.Error()
	}
	r.mu.Unlock()
	switch {
	case err != nil && ctx.Err() == nil:
		r.log.Error("stale sweep failed", "err", err)
	case res.Warned > 0 || res.Failed > 0:
		r.log.Info("stale sweep", "warned", res.Warned, "auto_failed", res.Failed)
	default:
		// Every 30 s by default: only worth a line when debugging.
		r.log.Debug("stale sweep", "warned", 0, "auto_failed", 0)
	}
	return res
}

// Purge deletes finished tasks past retention, one bounded batch per
// transaction so claims and enqueues interleave with a large purge.
func (r *Reaper) Purge(ctx context.Context) int {
	s := r.current()
	start := r.clock.Now()
	total, err := PurgeBefore(ctx, r.store, start.Add(-time.Duration(s.RetentionDays)*24*time.Hour), s.PurgeBatch)
	r.mu.Lock()
	r.stats.Purges++
	r.stats.Purged += int64(total)
	r.stats.LastPurged = total
	r.stats.LastPurge = r.clock.Now()
	if err != nil {
		r.stats.LastError = err.Error()
	}
	r.mu.Unlock()
	switch {
	case err != nil && ctx.Err() == nil:
		r.log.Error("purge failed", "deleted", total, "err", err)
	default:
		r.log.Info("purge", "deleted", total, "older_than_days", s.RetentionDays, "batch", s.PurgeBatch,
			"took", r.clock.Now().Sub(start).Round(time.Millisecond))
	}
	return total
}

// Purger is the store method PurgeBefore drives. When it also has
// Checkpoint(ctx) error (store.Store does), PurgeBefore checkpoints as it
// goes.
type Purger interface {
	Purge(ctx context.Context, cutoff time.Time, limit int) (int, error)
}

type checkpointer interface {
	Checkpoint(ctx context.Context) error
}

// checkpointRows is how many deletions PurgeBefore lets pile up in the
// write-ahead log before it checkpoints (BenchmarkPurgeUnderLoad).
const checkpointRows = 10_000

// PurgeBefore deletes every succeeded or failed task that finished before
// cutoff, batch rows per transaction (batch <= 0: DefaultPurgeBatch), and
// returns how many it deleted. It stops early when ctx ends. The periodic
// purge and POST /api/purge both use it.
//
// Two things keep claims and enqueues moving meanwhile: each batch is a
// short transaction of its own, and every checkpointRows deletions the log
// is checkpointed beside the writer. Without the checkpoints the writer
// copies the log itself, inside some client's commit, and that stall, not
// the deletes, is what clients would wait for.
func PurgeBefore(ctx context.Context, p Purger, cutoff time.Time, batch int) (int, error) {
	if batch <= 0 {
		batch = DefaultPurgeBatch
	}
	ck, _ := p.(checkpointer)
	total, sinceCheckpoint := 0, 0
	for ctx.Err() == nil {
		n, err := p.Purge(ctx, cutoff, batch)
		total += n
		sinceCheckpoint += n
		if err != nil {
			return total, fmt.Errorf("purge tasks finished before %s: %w", cutoff.UTC().Format(time.RFC3339), err)
		}
		if ck != nil && sinceCheckpoint > 0 && (n < batch || sinceCheckpoint >= checkpointRows) {
			// Best effort: when it fails, the writer checkpoints as usual.
			_ = ck.Checkpoint(ctx)
			sinceCheckpoint = 0
		}
		if n < batch {
			break
		}
		// Let writes that queued behind this batch commit on their own
		// rather than in one transaction with the next batch.
		runtime.Gosched()
	}
	return total, ctx.Err()
}
