package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sparkq/sparkq/control"
	"github.com/sparkq/sparkq/store"
)

// listTasks pages through `sparkq tasks --json` with --offset and returns
// every task, newest first.
func (f *fixture) listTasks(args ...string) []store.Task {
	f.t.Helper()
	const page = 300 // several pages for 1,000 tasks
	var all []store.Task
	for offset := 0; ; offset += page {
		var got []store.Task
		f.json(&got, append([]string{"tasks", "--limit", strconv.Itoa(page), "--offset", strconv.Itoa(offset)}, args...)...)
		all = append(all, got...)
		if len(got) < page {
			return all
		}
	}
}

// TestEndToEnd drives a whole work cycle through the CLI binary only:
// 1,000 `sparkq enqueue` processes, then 8 concurrent worker loops of
// `sparkq claim` + `sparkq complete` until the queue is empty.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	f := startDaemon(t)
	f.ok("session", "create", "e2e", "--description", "end-to-end test")
	f.ok("queue", "create", "work", "--session", "e2e", "--instructions", "Do the thing")
	// A queue of the same name elsewhere: every command below must say
	// which one it means.
	f.ok("session", "create", "other")
	f.ok("queue", "create", "work", "--session", "other")

	const (
		tasks     = 1000
		enqueuers = 4
		loops     = 8
	)
	var (
		mu       sync.Mutex
		enqueued = map[string]int{} // task id -> prompt number
		wg       sync.WaitGroup
	)
	for w := range enqueuers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < tasks; i += enqueuers {
				r := f.run("enqueue", "--queue", "work", "--session", "e2e", "--tool", "run-bash",
					"--prompt", fmt.Sprintf("task %d", i), "--metadata", fmt.Sprintf(`{"n": %d}`, i), "--json")
				var task store.Task
				if r.code != 0 || json.Unmarshal([]byte(r.stdout), &task) != nil {
					t.Errorf("enqueue %d:\n%s", i, r)
					return
				}
				mu.Lock()
				enqueued[task.ID] = i
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if len(enqueued) != tasks {
		t.Fatalf("enqueued %d distinct tasks, want %d", len(enqueued), tasks)
	}

	// The daemon's order is the enqueue order (the list is newest first).
	listed := f.listTasks("--queue", "work", "--session", "e2e")
	if len(listed) != tasks {
		t.Fatalf("listed %d tasks, want %d", len(listed), tasks)
	}
	position := map[string]int{}
	for i, task := range listed {
		position[task.ID] = len(listed) - 1 - i
		if _, ok := enqueued[task.ID]; !ok {
			t.Fatalf("listed unknown task %s", task.ID)
		}
		if task.Status != store.TaskQueued {
			t.Fatalf("task %s is %s before any claim", task.ID, task.Status)
		}
		var payload struct {
			RawPrompt string         `json:"raw_prompt"`
			Metadata  map[string]int `json:"metadata"`
		}
		if err := json.Unmarshal([]byte(task.Payload), &payload); err != nil ||
			payload.RawPrompt != fmt.Sprintf("task %d", enqueued[task.ID]) || payload.Metadata["n"] != enqueued[task.ID] {
			t.Fatalf("task %s payload %s does not match prompt %d", task.ID, task.Payload, enqueued[task.ID])
		}
	}

	// Drain with concurrent worker loops.
	claimed := make([][]string, loops)
	for l := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			worker := fmt.Sprintf("loop-%d", l)
			for {
				r := f.run("claim", "--queue", "work", "--session", "e2e", "--worker", worker, "--json")
				if r.code != 0 {
					t.Errorf("claim:\n%s", r)
					return
				}
				if strings.TrimSpace(r.stdout) == "null" {
					return
				}
				var task store.Task
				if err := json.Unmarshal([]byte(r.stdout), &task); err != nil {
					t.Errorf("decode claim: %v\n%s", err, r)
					return
				}
				if task.Status != store.TaskRunning || task.WorkerID == nil || *task.WorkerID != worker {
					t.Errorf("claimed task is %s by %v, want running by %s", task.Status, task.WorkerID, worker)
					return
				}
				claimed[l] = append(claimed[l], task.ID)
				if r := f.run("complete", task.ID, "--result", "done by "+worker, "--data", `{"ok": true}`); r.code != 0 {
					t.Errorf("complete:\n%s", r)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	claimedBy := map[string]string{}
	for l, ids := range claimed {
		worker := fmt.Sprintf("loop-%d", l)
		for i, id := range ids {
			if prev, dup := claimedBy[id]; dup {
				t.Errorf("task %s claimed by %s and %s", id, prev, worker)
			}
			claimedBy[id] = worker
			if i > 0 && position[id] <= position[ids[i-1]] {
				t.Errorf("%s claimed %s (position %d) after %s (position %d): not FIFO",
					worker, id, position[id], ids[i-1], position[ids[i-1]])
			}
		}
		t.Logf("%s handled %d tasks", worker, len(ids))
	}
	if len(claimedBy) != tasks {
		t.Fatalf("claimed %d distinct tasks, want %d", len(claimedBy), tasks)
	}

	// Every task succeeded exactly once, by the loop that claimed it.
	done := f.listTasks("--status", "succeeded", "--queue", "work", "--session", "e2e")
	if len(done) != tasks {
		t.Fatalf("%d succeeded tasks, want %d", len(done), tasks)
	}
	seen := map[string]bool{}
	for _, task := range done {
		if seen[task.ID] {
			t.Fatalf("task %s listed twice", task.ID)
		}
		seen[task.ID] = true
		worker := claimedBy[task.ID]
		if task.Attempts != 1 || deref(task.WorkerID) != worker || deref(task.ResultSummary) != "done by "+worker ||
			deref(task.Result) != `{"ok": true}` || task.FinishedAt == nil {
			t.Fatalf("task %s: attempts %d, worker %q, summary %q, result %q; want one attempt by %s",
				task.ID, task.Attempts, deref(task.WorkerID), deref(task.ResultSummary), deref(task.Result), worker)
		}
	}
	if others := f.listTasks("--queue", "work", "--session", "e2e", "--status", "queued"); len(others) != 0 {
		t.Fatalf("%d tasks still queued", len(others))
	}
	if out := f.ok("peek", "--queue", "work", "--session", "e2e"); out != "No queued tasks in queue 'work'\n" {
		t.Fatalf("peek on the drained queue printed %q", out)
	}
	var st control.Status
	f.json(&st, "status")
	if st.Counts.QueuedTasks != 0 || st.Counts.RunningTasks != 0 {
		t.Fatalf("status counts %+v, want nothing queued or running", st.Counts)
	}

	// The human views show the same.
	if out := f.ok("task", done[0].ID); !strings.Contains(out, "Status:         succeeded") ||
		!strings.Contains(out, `"raw_prompt": "task `) || !strings.Contains(out, "Summary:        done by loop-") {
		t.Fatalf("task detail:\n%s", out)
	}
	out := f.ok("tasks", "--queue", "work", "--session", "e2e", "--limit", "10")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 12 || !strings.HasPrefix(lines[0], "ID ") || lines[11] != "Showing 1–10; more: --offset 10" {
		t.Fatalf("tasks table:\n%s", out)
	}
	if !slices.ContainsFunc(lines[1:11], func(l string) bool { return strings.Contains(l, "succeeded") }) {
		t.Fatalf("tasks table shows no succeeded task:\n%s", out)
	}
}
