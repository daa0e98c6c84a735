package reaper

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkq/sparkq/store"
	"github.com/sparkq/sparkq/store/sqlite"
)

// BenchmarkPurgeUnderLoad deletes 1,000,000 finished tasks with the
// reaper's batched purge while 4 clients keep enqueueing and claiming, and
// compares the clients' latencies during the purge with their latencies
// without one. p99_ratio (p99 during / p99 without) is what the purge batch
// size and checkpoint pacing are tuned for: it must stay at or below 5.
// Run it once:
//
//	go test -run '^$' -bench PurgeUnderLoad -benchtime 1x ./reaper/
//
// The clients run throughout. The old tasks come in purgeRounds groups of
// different ages, purged one group at a time with a quiet window before,
// between and after: latencies are "without" when they start in a quiet
// window and "during" when they start while PurgeBefore runs. Interleaving
// the two keeps a busy machine's drift out of the ratio.
//
// SPARKQ_BENCH_PURGE_TASKS and SPARKQ_BENCH_PURGE_BATCH override the number
// of old tasks and the batch size (default DefaultPurgeBatch), for tuning;
// SPARKQ_BENCH_PURGE_NO_CHECKPOINT=1 purges without the checkpoints, to
// show what they are for.
func BenchmarkPurgeUnderLoad(b *testing.B) {
	old := envInt(b, "SPARKQ_BENCH_PURGE_TASKS", 1_000_000)
	batch := envInt(b, "SPARKQ_BENCH_PURGE_BATCH", DefaultPurgeBatch)
	noCheckpoint := os.Getenv("SPARKQ_BENCH_PURGE_NO_CHECKPOINT") != ""
	const (
		clients = 4
		quiet   = 2 * time.Second // each window without a purge
	)
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		now := time.Now()
		st, queues := purgeBenchStore(b, old, clients, now)
		b.StartTimer()

		var purger Purger = st
		if noCheckpoint {
			purger = purgeOnly{st} // hides Checkpoint
		}
		var phase atomic.Int32 // 0 quiet, 1 purging
		var stop atomic.Bool
		per := make(chan [2][]sample, clients)
		for _, q := range queues {
			go func() { per <- runClient(b, st, q, &phase, &stop) }()
		}
		var purged int
		var purging time.Duration
		for round := range purgeRounds + 1 {
			time.Sleep(quiet)
			if round == purgeRounds {
				break
			}
			phase.Store(1)
			t0 := time.Now()
			n, err := PurgeBefore(ctx, purger, roundCutoff(now, round), batch)
			purging += time.Since(t0)
			phase.Store(0)
			if err != nil {
				stop.Store(true)
				b.Fatal(err)
			}
			purged += n
		}
		stop.Store(true)
		var base, during [2][]time.Duration // enqueue, claim
		for range clients {
			got := <-per
			for op := range 2 {
				for _, s := range got[op] {
					if s.purging {
						during[op] = append(during[op], s.d)
					} else {
						base[op] = append(base[op], s.d)
					}
				}
			}
		}
		if b.Failed() {
			b.FailNow()
		}
		if purged != old {
			b.Fatalf("purged %d of %d tasks", purged, old)
		}
		if left, err := st.CountPurgeable(ctx, time.Now()); err != nil || left != 0 {
			b.Fatalf("%d finished tasks left after the purge (%v)", left, err)
		}

		bAll, dAll := sorted(base[0], base[1]), sorted(during[0], during[1])
		ratio := pct(dAll, 99).Seconds() / pct(bAll, 99).Seconds()
		b.ReportMetric(float64(purged)/purging.Seconds(), "purged/s")
		b.ReportMetric(purging.Seconds(), "purge_s")
		b.ReportMetric(ms(pct(bAll, 50)), "base_p50_ms")
		b.ReportMetric(ms(pct(bAll, 99)), "base_p99_ms")
		b.ReportMetric(ms(pct(dAll, 50)), "purge_p50_ms")
		b.ReportMetric(ms(pct(dAll, 99)), "purge_p99_ms")
		b.ReportMetric(ratio, "p99_ratio")
		b.Logf("batch %d, checkpoints %v: %d tasks purged in %s (%d rounds) while %d clients enqueued and claimed: %d ops during the purge, %d without",
			batch, !noCheckpoint, purged, purging.Round(time.Millisecond), purgeRounds, clients, len(dAll), len(bAll))
		for op, name := range []string{"enqueue", "claim"} {
			bs, ds := sorted(base[op]), sorted(during[op])
			b.Logf("%-7s p50/p99 without: %s/%s, during: %s/%s", name, pct(bs, 50), pct(bs, 99), pct(ds, 50), pct(ds, 99))
		}
		if ratio > 5 {
			b.Logf("WARNING: p99 ratio %.2f is above 5", ratio)
		}
		st.Close()
	}
}

// purgeOnly is a Purger without Checkpoint.
type purgeOnly struct{ p Purger }

func (p purgeOnly) Purge(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return p.p.Purge(ctx, cutoff, limit)
}

// purgeRounds is how many age groups the old tasks come in.
const purgeRounds = 5

// groupFinished is when the tasks of age group g finished: group 0 is the
// oldest, all are older than the default retention.
func groupFinished(now time.Time, g int) time.Time {
	return now.Add(-time.Duration(10+purgeRounds-g) * 24 * time.Hour)
}

// roundCutoff purges group round and every older one.
func roundCutoff(now time.Time, round int) time.Time {
	return groupFinished(now, round).Add(time.Hour)
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// purgeBenchStore opens a store holding old finished tasks (9 in 10
// succeeded, 1 failed) in purgeRounds age groups of consecutive rows, and
// one empty queue per client. The old tasks are generated inside SQLite, 100,000 per
// transaction, through a second connection to the file: a test-only
// shortcut that takes seconds where a million enqueue/claim/complete
// cycles would take many minutes.
func purgeBenchStore(b *testing.B, old, clients int, now time.Time) (*sqlite.Store, []store.Queue) {
	b.Helper()
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "bench.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	sess, err := st.CreateSession(ctx, store.NewSession{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	history, err := st.CreateQueue(ctx, store.NewQueue{SessionID: sess.ID, Name: "history"})
	if err != nil {
		b.Fatal(err)
	}
	var queues []store.Queue
	for i := range clients {
		q, err := st.CreateQueue(ctx, store.NewQueue{SessionID: sess.ID, Name: fmt.Sprintf("client-%d", i)})
		if err != nil {
			b.Fatal(err)
		}
		queues = append(queues, q)
	}

	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	const chunk = 100_000
	for g := range purgeRounds {
		finished := store.NewTime(groupFinished(now, g)).String()
		first, end := old*g/purgeRounds, old*(g+1)/purgeRounds
		for from := first; from < end; from += chunk {
			to := min(end, from+chunk) - 1
			_, err := db.ExecContext(ctx, `WITH RECURSIVE c(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM c WHERE x < ?)
				INSERT INTO tasks(id, queue_id, tool_name, task_class, payload, status, timeout, attempts, result_summary, error,
					created_at, updated_at, started_at, claimed_at, finished_at)
				SELECT printf('tsk_old%08x', x), ?, 'run-bash', 'MEDIUM_SCRIPT', '{"prompt":"old"}',
					CASE WHEN x % 10 = 0 THEN 'failed' ELSE 'succeeded' END, 600, 1, 'ok',
					CASE WHEN x % 10 = 0 THEN 'Error: no' END, ?, ?, ?, ?, ? FROM c`,
				from, to, history.ID, finished, finished, finished, finished, finished)
			if err != nil {
				b.Fatalf("generate old tasks: %v", err)
			}
		}
	}
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	if n, err := st.CountPurgeable(ctx, now); err != nil || n != old {
		b.Fatalf("generated %d old tasks, want %d: %v", n, old, err)
	}
	return st, queues
}

// sample is one client operation's latency, and whether a purge ran when
// it started.
type sample struct {
	d       time.Duration
	purging bool
}

// runClient enqueues a task and claims the queue's next one until stop,
// and returns the enqueue and the claim latencies.
func runClient(b *testing.B, st *sqlite.Store, q store.Queue, phase *atomic.Int32, stop *atomic.Bool) (out [2][]sample) {
	ctx := context.Background()
	for !stop.Load() {
		p := phase.Load() == 1
		t0 := time.Now()
		if _, err := st.Enqueue(ctx, store.NewTask{QueueID: q.ID, ToolName: "run-bash", Payload: `{"prompt":"x"}`}); err != nil {
			b.Error(err)
			return out
		}
		t1 := time.Now()
		out[0] = append(out[0], sample{t1.Sub(t0), p})
		p = phase.Load() == 1
		if _, err := st.ClaimNext(ctx, q.ID, "w"); err != nil {
			b.Error(err)
			return out
		}
		out[1] = append(out[1], sample{time.Since(t1), p})
	}
	return out
}

// sorted joins and sorts latency lists.
func sorted(lists ...[]time.Duration) []time.Duration {
	var all []time.Duration
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.Sort(all)
	return all
}

// pct is the p-th percentile of sorted samples.
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
