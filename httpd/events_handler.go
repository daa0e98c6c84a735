package httpd

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/sparkq/sparkq/httpd/events"
	"github.com/sparkq/sparkq/store"
)

const (
	// sseRetry is the reconnect delay the browser is told to use, e.g.
	// while the daemon restarts.
	sseRetry = 2 * time.Second
	// maxThroughputMinutes bounds the chart's window: a day.
	maxThroughputMinutes = 24 * 60
)

// sseHeartbeat is how often an idle stream sends a comment, so proxies and
// the browser see a live connection; a variable so tests can shorten it.
var sseHeartbeat = 15 * time.Second

// streamEvents serves GET /api/events: the store's changes as server-sent
// events. Each event is "id: <seq>", "event: <type>" and "data: <JSON of
// events.Event>". The stream ends when the client goes, when the bus closes
// (daemon shutdown, so http.Server.Shutdown is not held up) or after a
// "resync" event (this client fell behind and lost events). Clients should
// re-read what they show each time the stream (re)opens.
func (s *server) streamEvents(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	if s.events == nil {
		return errorf(http.StatusServiceUnavailable, "Live updates are not enabled on this listener")
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	if r.Method == http.MethodHead {
		// A HEAD response has no body, so there is no stream to hold open.
		w.WriteHeader(http.StatusOK)
		return nil
	}
	// Subscribe before answering, so nothing published after the client
	// sees the stream open is missed.
	ch := s.events.Subscribe(r.Context())
	rc := http.NewResponseController(w)
	// A server-wide write timeout would cut a long stream; lift it for this
	// response (unsupported writers simply keep their default).
	_ = rc.SetWriteDeadline(time.Time{})
	w.WriteHeader(http.StatusOK)
	var buf bytes.Buffer
	buf.WriteString("retry: " + strconv.Itoa(int(sseRetry/time.Millisecond)) + "\n: connected\n\n")
	if !s.sseWrite(w, rc, &buf) {
		return nil
	}

	heartbeat := time.NewTicker(sseHeartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-heartbeat.C:
			buf.WriteString(": ping\n\n")
		case e, ok := <-ch:
			if !ok {
				return nil
			}
			// Send whatever else is already waiting in the same write.
			for more := true; more; {
				writeEvent(&buf, e)
				select {
				case e, more = <-ch:
					if !more {
						s.sseWrite(w, rc, &buf)
						return nil
					}
				default:
					more = false
				}
			}
		}
		if !s.sseWrite(w, rc, &buf) {
			return nil
		}
	}
}

func writeEvent(buf *bytes.Buffer, e events.Event) {
	data, err := json.Marshal(e)
	if err != nil {
		return // Event holds only strings, numbers and a time
	}
	buf.WriteString("id: " + strconv.FormatUint(e.Seq, 10) + "\nevent: " + e.Type + "\ndata: ")
	buf.Write(data)
	buf.WriteString("\n\n")
}

// sseWrite sends and flushes buf; false means the client is gone.
func (s *server) sseWrite(w http.ResponseWriter, rc *http.ResponseController, buf *bytes.Buffer) bool {
	_, err := w.Write(buf.Bytes())
	buf.Reset()
	if err == nil {
		err = rc.Flush()
	}
	if err != nil {
		s.log.Debug("event stream ended", "err", err)
		return false
	}
	return true
}

// throughputBucket is one minute of the dashboard's chart.
type throughputBucket struct {
	Minute    store.Time `json:"minute"`
	Succeeded int        `json:"succeeded"`
	Failed    int        `json:"failed"`
}

// throughput serves GET /api/stats/throughput?minutes=N (default 60): tasks
// finished per minute over the last N minutes, the current minute last,
// every minute present (zeros included).
func (s *server) throughput(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	minutes, err := queryInt(r.URL.Query(), "minutes", 60, 1, maxThroughputMinutes)
	if err != nil {
		return err
	}
	until := s.now().UTC().Truncate(time.Minute).Add(time.Minute)
	since := until.Add(-time.Duration(minutes) * time.Minute)
	counts, err := s.store.FinishedPerMinute(r.Context(), since, until)
	if err != nil {
		return err
	}
	buckets := make([]throughputBucket, minutes)
	for i := range buckets {
		buckets[i].Minute = store.NewTime(since.Add(time.Duration(i) * time.Minute))
	}
	var succeeded, failed int
	for _, c := range counts {
		i := int(c.Minute.Sub(since) / time.Minute)
		if i < 0 || i >= minutes {
			continue
		}
		buckets[i].Succeeded += c.Succeeded
		buckets[i].Failed += c.Failed
		succeeded += c.Succeeded
		failed += c.Failed
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{
		"minutes":   minutes,
		"since":     store.NewTime(since),
		"until":     store.NewTime(until),
		"succeeded": succeeded,
		"failed":    failed,
		"buckets":   buckets,
	})
	return nil
}
