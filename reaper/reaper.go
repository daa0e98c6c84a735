// Package reaper is the daemon's background maintenance: it fails tasks whose
// claims went stale and purges old finished tasks, each on its own schedule.
// Time comes from an injectable clock so tests never sleep.
package reaper

import (
	"context"
	"log/slog"
	"sync"
	"time"

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

// Settings are the reaper's knobs; they may change at run time (reload).
type Settings struct {
	SweepInterval time.Duration // stale sweep period (default 30 s)
	PurgeInterval time.Duration // purge period (default 1 h)
	RetentionDays int           // finished tasks older than this go (default 3)
	PurgeBatch    int           // rows per purge transaction (default 5,000)
}

func (s Settings) withDefaults() Settings {
	if s.SweepInterval <= 0 {
		s.SweepInterval = 30 * time.Second
	}
	if s.PurgeInterval <= 0 {
		s.PurgeInterval = time.Hour
	}
	if s.RetentionDays <= 0 {
		s.RetentionDays = 3
	}
	if s.PurgeBatch <= 0 {
		s.PurgeBatch = 5000
	}
	return s
}

// Stats are running totals, for logs and `sparkq status`.
type Stats struct {
	Sweeps     int64     `json:"sweeps"`
	Warned     int64     `json:"warned"`
	AutoFailed int64     `json:"auto_failed"`
	Purges     int64     `json:"purges"`
	Purged     int64     `json:"purged"`
	LastSweep  time.Time `json:"last_sweep"`
	LastPurge  time.Time `json:"last_purge"`
	LastError  string    `json:"last_error,omitempty"`
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

// Stats returns a copy of the totals.
func (r *Reaper) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

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
	if err != nil {
		r.stats.LastError = err.Error()
	}
	r.mu.Unlock()
	switch {
	case err != nil && ctx.Err() == nil:
		r.log.Error("stale sweep failed", "err", err)
	case res.Warned > 0 || res.Failed > 0:
		r.log.Info("stale sweep", "warned", res.Warned, "auto_failed", res.Failed)
	}
	return res
}

// Purge deletes finished tasks past retention, one bounded batch per
// transaction so claims and enqueues interleave with a large purge.
func (r *Reaper) Purge(ctx context.Context) int {
	s := r.current()
	cutoff := r.clock.Now().Add(-time.Duration(s.RetentionDays) * 24 * time.Hour)
	total := 0
	var err error
	for ctx.Err() == nil {
		var n int
		n, err = r.store.Purge(ctx, cutoff, s.PurgeBatch)
		total += n
		if err != nil || n < s.PurgeBatch {
			break
		}
	}
	r.mu.Lock()
	r.stats.Purges++
	r.stats.Purged += int64(total)
	r.stats.LastPurge = r.clock.Now()
	if err != nil {
		r.stats.LastError = err.Error()
	}
	r.mu.Unlock()
	switch {
	case err != nil && ctx.Err() == nil:
		r.log.Error("purge failed", "deleted", total, "err", err)
	case total > 0:
		r.log.Info("purged finished tasks", "deleted", total, "older_than_days", s.RetentionDays)
	}
	return total
}
