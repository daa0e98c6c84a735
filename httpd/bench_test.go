//go:build unix

package httpd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sparkq/sparkq/httpd"
	"github.com/sparkq/sparkq/store"
	"github.com/sparkq/sparkq/store/sqlite"
)

// The HTTP benchmarks run the real handler on a real store over loopback
// TCP with keep-alive clients, and compare against the ceiling of this
// machine and client: a no-op handler answering a small JSON body over the
// same kind of connection. Each reports req/s (or cycles/s), the no-op
// rate measured in the same run (noop_req/s) and their ratio, and the rate
// of the same store calls made directly from as many goroutines
// (store_ops/s, store_cycles/s): the most the handler could reach.
//
//	go test -run '^$' -bench HTTP -benchtime 5s ./httpd/

// benchServer is a daemon-like setup: httpd.New on a fresh store.
func benchServer(b *testing.B) (*httptest.Server, *sqlite.Store, string) {
	b.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "sparkq.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	srv := httptest.NewServer(httpd.New(httpd.Config{Store: st}))
	b.Cleanup(srv.Close)
	c := benchClient(1)
	var sess, queue struct {
		Session struct{ ID string } `json:"session"`
		Queue   struct{ ID string } `json:"queue"`
	}
	mustPost(b, c, srv.URL+"/api/sessions", `{"name":"bench"}`, 200, &sess)
	mustPost(b, c, srv.URL+"/api/queues", `{"session_id":"`+sess.Session.ID+`","name":"bench"}`, 201, &queue)
	return srv, st, queue.Queue.ID
}

// benchClient keeps one connection per worker alive, like a pool of workers.
func benchClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
	}}
}

func mustPost(b *testing.B, c *http.Client, url, body string, want int, out any) {
	resp, err := c.Post(url, "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		b.Error(err)
		return
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != want {
		b.Errorf("POST %s: %d %s %v", url, resp.StatusCode, raw, err)
		return
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			b.Errorf("POST %s: %v", url, err)
		}
	}
}

// post sends a request and drains the answer, failing on another status.
func post(c *http.Client, url string, body []byte, want int) ([]byte, error) {
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != want {
		err = fmt.Errorf("POST %s: status %d: %s", url, resp.StatusCode, raw)
	}
	return raw, err
}

// cpuTime is the CPU time this process has used (user + system): the
// benchmarks share the machine with whatever else runs, so besides rates
// they report CPU per operation, which others' load barely changes.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rate is a measured throughput and the CPU it took per operation.
type rate struct {
	perSec float64
	cpuUS  float64 // µs of CPU (server and client together) per operation
}

// run spreads n operations over clients goroutines.
func run(b *testing.B, clients, n int, op func(c *http.Client) error) rate {
	b.Helper()
	c := benchClient(clients)
	defer c.CloseIdleConnections()
	var next atomic.Int64
	var wg sync.WaitGroup
	cpu0, start := cpuTime(), time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := op(c); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return rate{perSec: float64(n) / time.Since(start).Seconds(), cpuUS: float64((cpuTime() - cpu0).Microseconds()) / float64(n)}
}

// noopRate is the ceiling for clients concurrent clients: a handler that
// reads the same request body and answers {"ok":true}. It is measured right
// before the benchmark it serves, over n requests, so both see the same
// machine load.
func noopRate(b *testing.B, clients, n int, body []byte) rate {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}` + "\n"))
	}))
	defer srv.Close()
	op := func(c *http.Client) error { _, err := post(c, srv.URL, body, 200); return err }
	run(b, clients, clients*50, op) // open the connections
	return run(b, clients, n, op)
}

// sampleSize is how many operations the reference measurements take: as
// many as the benchmark, within bounds.
func sampleSize(n int) int { return min(max(n, 1000), 20000) }

var enqueueBody = `{"queue_id":"%s","tool_name":"run-bash","prompt":"Add pagination to /users"}`

// storeRate is the store's own rate for the same work, called directly
// from clients goroutines on a fresh store: what the handler could reach
// at best. Measured right before the benchmark it serves, over n operations.
func storeRate(b *testing.B, clients, n int, op func(st *sqlite.Store, queueID string) error) rate {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "store.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	sess, err := st.CreateSession(ctx, store.NewSession{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	q, err := st.CreateQueue(ctx, store.NewQueue{SessionID: sess.ID, Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	cpu0, start := cpuTime(), time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := op(st, q.ID); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return rate{perSec: float64(n) / time.Since(start).Seconds(), cpuUS: float64((cpuTime() - cpu0).Microseconds()) / float64(n)}
}

var benchTask = store.NewTask{ToolName: "run-bash", Payload: `{"prompt_path":null,"metadata":null,"prompt":"Add pagination to /users"}`}

func storeEnqueue(st *sqlite.Store, q string) error {
	t := benchTask
	t.QueueID = q
	_, err := st.Enqueue(context.Background(), t)
	return err
}

func storeCycle(st *sqlite.Store, q string) error {
	ctx := context.Background()
	if err := storeEnqueue(st, q); err != nil {
		return err
	}
	t, err := st.ClaimNext(ctx, q, "bench")
	if err != nil {
		return err
	}
	_, err = st.Complete(ctx, t.ID, store.Completion{Summary: "done"})
	return err
}

// BenchmarkHTTPEnqueue measures POST /api/tasks.
func BenchmarkHTTPEnqueue(b *testing.B) {
	for _, clients := range []int{1, 8} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			srv, st, q := benchServer(b)
			body := []byte(fmt.Sprintf(enqueueBody, q))
			ceiling := noopRate(b, clients, sampleSize(b.N), body)
			direct := storeRate(b, clients, sampleSize(b.N)/2, storeEnqueue)
			op := func(c *http.Client) error { _, err := post(c, srv.URL+"/api/tasks", body, 200); return err }
			b.ResetTimer()
			c0, w0 := st.CommitStats()
			got := run(b, clients, b.N, op)
			reportBatch(b, st, c0, w0)
			report(b, "req/s", got, ceiling, 1, direct)
		})
	}
}

// BenchmarkHTTPCycle measures full task cycles by 8 workers: enqueue,
// claim the queue's next task (POST /api/queues/{id}/claim), complete it.
// ratio_to_noop compares with a third of the no-op rate (three requests
// per cycle).
func BenchmarkHTTPCycle(b *testing.B) {
	const clients = 8
	srv, st, q := benchServer(b)
	body := []byte(fmt.Sprintf(enqueueBody, q))
	ceiling := noopRate(b, clients, sampleSize(b.N), body)
	direct := storeRate(b, clients, sampleSize(b.N)/4, storeCycle)
	claimURL := srv.URL + "/api/queues/" + q + "/claim"
	claimBody := []byte(`{"worker_id":"bench"}`)
	done := []byte(`{"result_summary":"done"}`)
	op := func(c *http.Client) error {
		if _, err := post(c, srv.URL+"/api/tasks", body, 200); err != nil {
			return err
		}
		raw, err := post(c, claimURL, claimBody, 200)
		if err != nil {
			return err
		}
		var claimed struct {
			Task struct{ ID string } `json:"task"`
		}
		if err := json.Unmarshal(raw, &claimed); err != nil {
			return err
		}
		_, err = post(c, srv.URL+"/api/tasks/"+claimed.Task.ID+"/complete", done, 200)
		return err
	}
	b.ResetTimer()
	c0, w0 := st.CommitStats()
	got := run(b, clients, b.N, op)
	reportBatch(b, st, c0, w0)
	report(b, "cycles/s", got, ceiling, 3, direct)
}

// report states the benchmark's rate against the no-op ceiling (of which
// one operation costs perOp requests) and against the bare store, both by
// throughput and by CPU per operation. On a machine shared with other
// work the CPU figures are the steadier ones: cpu_ratio_to_noop is the
// throughput ratio an otherwise idle, CPU-bound machine would show.
func report(b *testing.B, unit string, got, noop rate, perOp float64, direct rate) {
	b.ReportMetric(got.perSec, unit)
	b.ReportMetric(noop.perSec, "noop_req/s")
	b.ReportMetric(got.perSec/(noop.perSec/perOp), "ratio_to_noop")
	b.ReportMetric(direct.perSec, "store_ops/s")
	b.ReportMetric(got.cpuUS, "cpu_µs/op")
	b.ReportMetric(noop.cpuUS, "noop_cpu_µs/req")
	b.ReportMetric(direct.cpuUS, "store_cpu_µs/op")
	b.ReportMetric(noop.cpuUS*perOp/got.cpuUS, "cpu_ratio_to_noop")
}

// reportBatch states the mean group-commit batch since c0 commits carrying
// w0 writes: how many requests shared one SQLite commit.
func reportBatch(b *testing.B, st *sqlite.Store, c0, w0 int64) {
	c1, w1 := st.CommitStats()
	if c1 > c0 {
		b.ReportMetric(float64(w1-w0)/float64(c1-c0), "writes/commit")
	}
}

// BenchmarkHandlerEnqueue splits one enqueue's cost without the network:
// the whole handler (parse, store, encode) in process, and the bare store
// call, each with its allocations.
func BenchmarkHandlerEnqueue(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "sparkq.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	sess, err := st.CreateSession(ctx, store.NewSession{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	q, err := st.CreateQueue(ctx, store.NewQueue{SessionID: sess.ID, Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	h := httpd.New(httpd.Config{Store: st})
	body := fmt.Sprintf(enqueueBody, q.ID)
	b.Run("handler", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			req := httptest.NewRequest("POST", "/api/tasks", strings.NewReader(body))
			req.Host = "127.0.0.1"
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
		}
	})
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := storeEnqueue(st, q.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}
