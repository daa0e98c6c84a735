package httpd

import (
	"context"
	"errors"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/sparkq/sparkq/store"
)

// maxClaimWait bounds ?wait on POST /api/queues/:id/claim. Workers ask
// again when a wait ends, so a long bound buys nothing.
const maxClaimWait = 5 * time.Minute

// errClientGone means the caller of a long-poll disconnected: there is no
// one left to answer.
var errClientGone = errors.New("client went away")

// claimWaitParam reads ?wait: a Go duration ("30s", "1m") or a number of
// seconds ("30", "0.5"); absent means do not wait.
func claimWaitParam(r *http.Request) (time.Duration, error) {
	raw := strings.TrimSpace(r.URL.Query().Get("wait"))
	if raw == "" {
		return 0, nil
	}
	d, ok := parseWait(raw)
	switch {
	case !ok:
		return 0, store.Invalid("wait", "wait must be a duration like 30s or a number of seconds, got %q", raw)
	case d < 0:
		return 0, store.Invalid("wait", "wait must be at least 0s, got %s", raw)
	case d > maxClaimWait:
		return 0, store.Invalid("wait", "wait must be at most %s, got %s", shortDuration(maxClaimWait), raw)
	}
	return d, nil
}

// goDuration is the syntax time.ParseDuration accepts. A string of this
// form that it refuses anyway is too long for a time.Duration.
var goDuration = regexp.MustCompile(`^[-+]?(([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`)

// parseWait reads a Go duration or a number of seconds. A value beyond
// time.Duration's range (about 292 years) saturates at its end, so it is
// reported as out of bounds rather than as malformed.
func parseWait(raw string) (time.Duration, bool) {
	if d, err := time.ParseDuration(raw); err == nil {
		return d, true
	}
	if goDuration.MatchString(raw) {
		if raw[0] == '-' {
			return math.MinInt64, true
		}
		return math.MaxInt64, true
	}
	// ParseFloat returns ±Inf for numbers beyond float64 (ErrRange).
	secs, err := strconv.ParseFloat(raw, 64)
	if (err != nil && !errors.Is(err, strconv.ErrRange)) || math.IsNaN(secs) {
		return 0, false
	}
	// Converting a float64 outside int64 to time.Duration is undefined.
	switch ns := secs * float64(time.Second); {
	case ns >= math.MaxInt64:
		return math.MaxInt64, true
	case ns <= math.MinInt64:
		return math.MinInt64, true
	default:
		return time.Duration(ns), true
	}
}

// shortDuration drops the zero units time.Duration.String keeps: 5m, not
// 5m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// claimNextWait claims the oldest queued task, first waiting up to ?wait
// for one to be enqueued. The wait ends early when the client disconnects
// (errClientGone) or the server shuts down (no task: 204, the worker asks
// again elsewhere or later).
func (s *server) claimNextWait(r *http.Request, queueID, worker string) (store.Task, error) {
	wait, err := claimWaitParam(r)
	if err != nil {
		return store.Task{}, err
	}
	if wait == 0 {
		return s.store.ClaimNext(r.Context(), queueID, worker)
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(s.lifetimes.of(r), cancel)()
	t, err := s.store.ClaimNextWait(ctx, queueID, worker, wait)
	switch {
	case r.Context().Err() != nil:
		if err == nil {
			// Claimed just as the client left: nobody will work it, so put
			// it back rather than let it sit until the stale sweep.
			if _, rerr := s.store.Release(context.WithoutCancel(r.Context()), t.ID, worker); rerr != nil {
				s.log.Warn("release task claimed for a departed client", "task", t.ID, "err", rerr)
			}
		}
		return store.Task{}, errClientGone
	case err != nil && ctx.Err() != nil:
		return store.Task{}, store.Empty("No queued tasks in queue %s", queueID)
	}
	return t, err
}

// lifetimes gives each http.Server serving this handler a context that ends
// when its Shutdown begins. Long-polls wait on it: Shutdown waits for active
// requests, and would otherwise sit out every pending wait.
type lifetimes struct {
	mu sync.Mutex
	m  map[*http.Server]context.Context
}

func (l *lifetimes) of(r *http.Request) context.Context {
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	if srv == nil {
		return context.Background()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if ctx, ok := l.m[srv]; ok {
		return ctx
	}
	if l.m == nil {
		l.m = map[*http.Server]context.Context{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv.RegisterOnShutdown(cancel)
	l.m[srv] = ctx
	return ctx
}

// optionalWorker reads an optional {"worker_id"} body; "" means any worker.
func optionalWorker(r *http.Request) (string, error) {
	body, err := readObject(r, true)
	if err != nil {
		return "", err
	}
	if err := body.only("worker_id"); err != nil {
		return "", err
	}
	id, err := body.str("worker_id")
	if err != nil || id == nil {
		return "", err
	}
	return strings.TrimSpace(*id), nil
}

// heartbeatTask extends a running task's stale deadline. With a worker_id
// the task must be claimed by that worker (409 otherwise).
func (s *server) heartbeatTask(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	worker, err := optionalWorker(r)
	if err != nil {
		return err
	}
	lease, err := s.store.Heartbeat(r.Context(), ps.ByName("id"), worker)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"lease": lease})
	return nil
}

// releaseTask puts a running task back to queued at its old place.
func (s *server) releaseTask(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	worker, err := optionalWorker(r)
	if err != nil {
		return err
	}
	t, err := s.store.Release(r.Context(), ps.ByName("id"), worker)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"message": "Task released", "task": newTaskOut(t)})
	return nil
}
