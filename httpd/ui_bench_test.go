package httpd_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sparkq/sparkq/store"
	"github.com/sparkq/sparkq/store/sqlite"
)

// BenchmarkDashboardFirstPaint measures, in real Chromium, how long the
// dashboard takes from navigation to the first frame painted with its data
// (the page sets data-ready then), over a store of many tasks:
//
//	go test -run '^$' -bench DashboardFirstPaint -benchtime 20x ./httpd/
//
// SPARKQ_UI_BENCH_TASKS sets the store size (default 1,000,000). Filling it
// takes a minute or two; SPARKQ_UI_BENCH_DB names a database file to keep
// and reuse between runs (it is filled only when it has no tasks yet).
// Metrics: ready-ms (data painted), fcp-ms (first contentful paint, the
// page shell) and tasks-api-ms (the task page request), medians. The
// dashboard is loaded in a new tab each time (a new renderer process) and
// by reloading one tab; the queue views by reloading.
func BenchmarkDashboardFirstPaint(b *testing.B) {
	chromiumPath(b)
	n := 1_000_000
	if v := os.Getenv("SPARKQ_UI_BENCH_TASKS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("SPARKQ_UI_BENCH_TASKS=%q: want a positive number", v)
		}
	}
	path := os.Getenv("SPARKQ_UI_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "sparkq.db")
	}
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	big := fillStore(b, st, n)

	ls := startLive(b, "127.0.0.1:0", st)
	br := newBrowser(b)
	for _, view := range []struct {
		name, path string
		newTab     bool // a fresh tab (and renderer) per load, else reloads in one tab
	}{
		{"dashboard-newtab", "/ui/", true},
		{"dashboard-reload", "/ui/", false},
		{"queue-succeeded", "/ui/queues/" + big + "?status=succeeded", false},
		{"queue-running", "/ui/queues/" + big + "?status=running", false},
		{"queue-page-100", "/ui/queues/" + big + "?offset=2475", false},
	} {
		b.Run(fmt.Sprintf("%s/tasks=%d", view.name, n), func(b *testing.B) {
			var ready, fcp, api []float64
			for range b.N {
				m := func() paint {
					if !view.newTab {
						return measurePaint(b, br.ctx, ls.url+view.path)
					}
					tab, cancel := chromedp.NewContext(br.ctx)
					defer cancel()
					return measurePaint(b, tab, ls.url+view.path)
				}()
				ready, fcp, api = append(ready, m.Ready), append(fcp, m.FCP), append(api, m.TasksAPI)
			}
			b.ReportMetric(median(ready), "ready-ms")
			b.ReportMetric(median(fcp), "fcp-ms")
			b.ReportMetric(median(api), "tasks-api-ms")
		})
	}
	br.noProblems()
}

type paint struct {
	Ready    float64 `json:"ready"`
	FCP      float64 `json:"fcp"`
	TasksAPI float64 `json:"tasks"`
}

// measurePaint loads url in the tab of ctx and reads the page's own
// timings (milliseconds since navigation start).
func measurePaint(b *testing.B, tab context.Context, url string) paint {
	b.Helper()
	ctx, stop := context.WithTimeout(tab, time.Minute)
	defer stop()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		b.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.documentElement.dataset.ready === 'true'`)); err != nil {
		state, _ := chromedp.Run(tab, chromedp.Evaluate[string](`location.href + ' ' + document.visibilityState + ' rendered=' + window.__sparkqRendered + ' | ' + document.body.innerText.slice(0, 300)`))
		b.Fatalf("page never got ready: %v\npage: %s", err, state)
	}
	m, err := chromedp.Run(ctx, chromedp.Evaluate[paint](`({
		ready: window.__sparkqReady,
		fcp: (performance.getEntriesByName('first-contentful-paint')[0] || {startTime: 0}).startTime,
		tasks: (performance.getEntriesByType('resource').find(r => r.name.includes('/api/tasks?')) || {duration: 0}).duration,
	})`))
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// fillStore gives st n tasks through the store's own API, unless it has
// tasks already, and returns the id of the biggest queue (the newest, so
// the dashboard opens on it). 4 sessions of 5 queues; the last queue holds
// 60% of the tasks. A few thousand are claimed and finished (some failed),
// a few left running, so every status and the throughput chart have data.
func fillStore(b *testing.B, st *sqlite.Store, n int) string {
	b.Helper()
	ctx := context.Background()
	if qs, err := st.ListQueues(ctx, store.QueueFilter{}, store.Page{Limit: 1}); err == nil && len(qs) == 1 && qs[0].Stats.Total > 0 {
		b.Logf("reusing %s: %d tasks in the newest queue", st.Path(), qs[0].Stats.Total)
		return qs[0].ID
	}
	start := time.Now()
	var queues []string
	for s := 0; s < 4; s++ {
		sess, err := st.CreateSession(ctx, store.NewSession{Name: fmt.Sprintf("session-%d", s)})
		if err != nil {
			b.Fatal(err)
		}
		for q := 0; q < 5; q++ {
			qu, err := st.CreateQueue(ctx, store.NewQueue{SessionID: sess.ID, Name: fmt.Sprintf("queue-%d-%d", s, q)})
			if err != nil {
				b.Fatal(err)
			}
			queues = append(queues, qu.ID)
		}
	}
	big := queues[len(queues)-1]
	const batch = 5000
	tasks := make([]store.NewTask, 0, batch)
	flush := func() {
		if len(tasks) == 0 {
			return
		}
		if _, err := st.EnqueueBatch(ctx, tasks); err != nil {
			b.Fatal(err)
		}
		tasks = tasks[:0]
	}
	for i := 0; i < n; i++ {
		q := big
		if i%5 >= 3 { // 40% spread over the other queues
			q = queues[i%(len(queues)-1)]
		}
		tasks = append(tasks, store.NewTask{QueueID: q, ToolName: "llm-haiku",
			Payload: fmt.Sprintf(`{"prompt":"Task %d: add pagination to the users endpoint, then cover it with table-driven tests","mode":"chat"}`, i)})
		if len(tasks) == batch {
			flush()
		}
	}
	flush()
	enqueued := time.Since(start)

	// Finish some, concurrently as workers would.
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 1500; i++ {
				q := queues[(w*7+i)%len(queues)]
				if i%3 == 0 {
					q = big
				}
				t, err := st.ClaimNext(ctx, q, fmt.Sprintf("w%d", w))
				if err != nil {
					continue
				}
				switch {
				case i%50 == 0:
					_, err = st.Fail(ctx, t.ID, store.Failure{Message: "tests failed"})
				case i%100 == 1:
					// leave running
				default:
					_, err = st.Complete(ctx, t.ID, store.Completion{Summary: "done"})
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	b.Logf("filled %s with %d tasks in %v (enqueue %v)", st.Path(), n, time.Since(start).Round(time.Second), enqueued.Round(time.Second))
	return big
}
