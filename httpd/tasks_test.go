package httpd_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sparkq/sparkq/store"
)

// taskKeys are the keys every task response carries (API.md §1.3 plus
// queue_name and auto_failed).
var taskKeys = []string{"id", "queue_id", "queue_name", "tool_name", "task_class", "payload", "payload_data",
	"agent_role_key", "worker_id", "metadata", "status", "timeout", "attempts", "result", "result_summary",
	"error", "error_message", "stdout", "stderr", "created_at", "updated_at", "started_at", "finished_at",
	"claimed_at", "completed_at", "failed_at", "stale_warned_at", "friendly_id", "prompt_preview", "raw_prompt",
	"prompt", "agent_role_label", "agent_role_description", "auto_failed"}

func (e *env) countTasks(queueID string) int {
	e.t.Helper()
	return len(e.ok(200, "GET", "/api/tasks?queue_id="+queueID, nil)["tasks"].([]any))
}

func TestCreateTask(t *testing.T) {
	e := newEnv(t, nil)
	_, qid := e.fixture()

	got := e.task(qid, map[string]any{
		"task_class": "LLM_LITE", "prompt_path": "prompts/a.md", "metadata": map[string]any{"k": "v"}, "timeout": 42,
	})
	for _, k := range taskKeys {
		if _, ok := got[k]; !ok {
			t.Errorf("task lacks %q", k)
		}
	}
	id := got["id"].(string)
	want := map[string]any{
		"queue_id": qid, "queue_name": "Back End", "tool_name": "run-bash", "task_class": "LLM_LITE",
		"status": "queued", "timeout": 42.0, "attempts": 0.0, "prompt_preview": "prompts/a.md",
		"friendly_id": "BACK END-" + id[len(id)-4:], "worker_id": nil, "auto_failed": false,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	var payload map[string]any
	if err := json.Unmarshal([]byte(got["payload"].(string)), &payload); err != nil {
		t.Fatalf("payload is not a JSON string: %v", got["payload"])
	}
	if payload["prompt_path"] != "prompts/a.md" || payload["metadata"].(map[string]any)["k"] != "v" {
		t.Errorf("payload = %v", payload)
	}
	if md := field(t, got, "metadata"); md["k"] != "v" {
		t.Errorf("metadata = %v", md)
	}
	pd := field(t, got, "payload_data")
	for _, k := range []string{"prompt", "raw_prompt", "prompt_path", "script_path", "args", "metadata", "queue_instructions",
		"agent_role_key", "agent_role_label", "agent_role_description", "mode"} {
		if _, ok := pd[k]; !ok {
			t.Errorf("payload_data lacks %q", k)
		}
	}

	// Defaults: task class and timeout come from the tool's class.
	def := e.task(qid, map[string]any{"prompt": "hi"})
	if def["task_class"] != "MEDIUM_SCRIPT" || def["timeout"] != 600.0 || def["prompt"] != "hi" || def["prompt_preview"] != "hi" {
		t.Errorf("defaulted task = %v", def)
	}

	// A caller-built payload is stored as given.
	own := e.task(qid, map[string]any{"payload": map[string]any{"prompt": "p", "raw_prompt": "r", "agent_role_label": "L", "args": []string{"a"}}})
	if own["prompt"] != "p" || own["raw_prompt"] != "r" || own["agent_role_label"] != "L" || own["metadata"] != nil {
		t.Errorf("own payload task = %v", own)
	}

	before := e.countTasks(qid)
	tests := []struct {
		name   string
		body   any
		status int
		msg    string
	}{
		{"payload array", map[string]any{"queue_id": qid, "tool_name": "run-bash", "payload": []int{1}}, 400, "payload must be a JSON object"},
		{"payload string", map[string]any{"queue_id": qid, "tool_name": "run-bash", "payload": "x"}, 400, "payload must be a JSON object"},
		{"payload number", map[string]any{"queue_id": qid, "tool_name": "run-bash", "payload": 3}, 400, "payload must be a JSON object"},
		{"payload and prompt", map[string]any{"queue_id": qid, "tool_name": "run-bash", "payload": map[string]any{}, "prompt": "x"}, 400, "payload cannot be combined with prompt_path, metadata or prompt"},
		{"metadata not object", map[string]any{"queue_id": qid, "tool_name": "run-bash", "metadata": "x"}, 400, "metadata must be a JSON object"},
		{"missing tool", map[string]any{"queue_id": qid}, 400, "tool_name is required"},
		{"missing queue", map[string]any{"tool_name": "run-bash"}, 400, "queue_id is required"},
		{"unknown queue", map[string]any{"queue_id": "que_000000000000", "tool_name": "run-bash"}, 404, "Queue not found: que_000000000000"},
		{"unknown tool", map[string]any{"queue_id": qid, "tool_name": "nope"}, 400, "unknown tool…"},
		{"unknown class", map[string]any{"queue_id": qid, "tool_name": "run-bash", "task_class": "NOPE"}, 400, "unknown task_class…"},
		{"timeout zero", map[string]any{"queue_id": qid, "tool_name": "run-bash", "timeout": 0}, 400, "timeout must be between 1 and 604800"},
		{"timeout too big", map[string]any{"queue_id": qid, "tool_name": "run-bash", "timeout": 604801}, 400, "timeout must be between 1 and 604800"},
		{"timeout float", `{"queue_id":"` + qid + `","tool_name":"run-bash","timeout":3.5}`, 400, "timeout must be an integer"},
		{"timeout bool", map[string]any{"queue_id": qid, "tool_name": "run-bash", "timeout": true}, 400, "timeout must be an integer"},
		{"tool not string", map[string]any{"queue_id": qid, "tool_name": 5}, 400, "tool_name must be a string"},
		{"unknown key", map[string]any{"queue_id": qid, "tool_name": "run-bash", "promt": "typo"}, 400, "unknown field: promt"},
		{"malformed", `{"queue_id":`, 400, "Invalid JSON body: …"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do("POST", "/api/tasks", tc.body), tc.status, tc.msg)
		})
	}
	if after := e.countTasks(qid); after != before {
		t.Errorf("rejected requests stored %d tasks", after-before)
	}
	wantError(t, e.do("GET", "/api/tasks/tsk_000000000000", nil), 404, "Task not found: tsk_000000000000")
	if got := field(t, e.ok(200, "GET", "/api/tasks/"+id, nil), "task"); got["id"] != id || got["status"] != "queued" {
		t.Errorf("get = %v", got)
	}
}

func TestListTasks(t *testing.T) {
	e := newEnv(t, nil)
	sid, qid := e.fixture()
	var ids []string
	for range 5 {
		ids = append(ids, e.task(qid, nil)["id"].(string))
	}
	otherQ := e.queue(e.session("s2"), "other")
	e.task(otherQ, nil)
	e.ok(200, "POST", "/api/tasks/"+ids[0]+"/claim", nil)

	list := func(query string) map[string]any { return e.ok(200, "GET", "/api/tasks?"+query, nil) }
	idsOf := func(body map[string]any) []string {
		var out []string
		for _, x := range body["tasks"].([]any) {
			out = append(out, x.(map[string]any)["id"].(string))
		}
		return out
	}

	tests := []struct {
		query     string
		ids       []string
		truncated bool
		applied   float64
		maxLimit  any
		next      any
	}{
		{"queue_id=" + qid, []string{ids[4], ids[3], ids[2], ids[1], ids[0]}, false, 100, nil, nil},
		{"queue_id=" + qid + "&limit=2", []string{ids[4], ids[3]}, true, 2, nil, 2.0},
		{"queue_id=" + qid + "&limit=2&offset=2", []string{ids[2], ids[1]}, true, 2, nil, 4.0},
		{"queue_id=" + qid + "&limit=2&offset=4", []string{ids[0]}, false, 2, nil, nil},
		{"queue_id=" + qid + "&limit=5000", []string{ids[4], ids[3], ids[2], ids[1], ids[0]}, true, 1000, 1000.0, nil},
		{"queue_id=" + qid + "&status=running", []string{ids[0]}, false, 100, nil, nil},
		{"queue_id=" + qid + "&status=claimed", []string{ids[0]}, false, 100, nil, nil},
		{"session_id=" + sid + "&status=queued&limit=10", []string{ids[4], ids[3], ids[2], ids[1]}, false, 10, nil, nil},
		{"queue_id=que_000000000000", nil, false, 100, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			body := list(tc.query)
			if got := idsOf(body); !slices.Equal(got, tc.ids) {
				t.Errorf("ids = %v, want %v", got, tc.ids)
			}
			if body["truncated"] != tc.truncated || body["limit_applied"] != tc.applied ||
				body["max_limit"] != tc.maxLimit || body["next_offset"] != tc.next {
				t.Errorf("meta = truncated %v limit_applied %v max_limit %v next_offset %v",
					body["truncated"], body["limit_applied"], body["max_limit"], body["next_offset"])
			}
		})
	}
	if all := list(""); len(all["tasks"].([]any)) != 6 {
		t.Errorf("unfiltered list has %d tasks, want 6", len(all["tasks"].([]any)))
	}

	errs := []struct{ query, msg string }{
		{"status=bogus", "Invalid status filter. Allowed values: claimed, failed, queued, running, succeeded"},
		{"limit=0", "limit must be at least 1"},
		{"limit=abc", "limit must be an integer"},
		{"offset=-1", "offset must be at least 0"},
	}
	for _, tc := range errs {
		wantError(t, e.do("GET", "/api/tasks?"+tc.query, nil), 400, tc.msg)
	}
}

func TestTaskLifecycle(t *testing.T) {
	e := newEnv(t, nil)
	_, qid := e.fixture()
	id := e.task(qid, map[string]any{"prompt": "do it"})["id"].(string)
	path := "/api/tasks/" + id

	claimed := field(t, e.ok(200, "POST", path+"/claim", map[string]any{"worker_id": "worker-1"}), "task")
	if claimed["status"] != "running" || claimed["attempts"] != 1.0 || claimed["worker_id"] != "worker-1" ||
		claimed["prompt_text"] != "do it" || claimed["claimed_at"] == nil || claimed["started_at"] == nil {
		t.Fatalf("claim = %v", claimed)
	}
	// worker_id is persisted (GAP 23).
	if got := field(t, e.ok(200, "GET", path, nil), "task"); got["worker_id"] != "worker-1" {
		t.Errorf("stored worker_id = %v", got["worker_id"])
	}
	wantError(t, e.do("POST", path+"/claim", nil), 409, "Cannot claim task while status is running")
	wantError(t, e.do("POST", path+"/complete", map[string]any{"result_summary": "  "}), 400, "result_summary is required")
	wantError(t, e.do("POST", path+"/complete", map[string]any{}), 400, "result_summary is required")
	wantError(t, e.do("POST", path+"/complete", map[string]any{"result_summary": "x", "result": "y"}), 400, "unknown field: result")

	done := field(t, e.ok(200, "POST", path+"/complete", map[string]any{
		"result_summary": "done", "result_data": map[string]any{"ok": true}, "stdout": "out",
	}), "task")
	if done["status"] != "succeeded" || done["result_summary"] != "done" || done["result"] != `{"ok":true}` ||
		done["stdout"] != "out" || done["completed_at"] != done["finished_at"] || done["completed_at"] == nil || done["failed_at"] != nil {
		t.Fatalf("complete = %v", done)
	}
	wantError(t, e.do("POST", path+"/complete", map[string]any{"result_summary": "again"}), 409, "Cannot complete task while status is succeeded")
	wantError(t, e.do("POST", path+"/fail", map[string]any{"error_message": "late"}), 409, "Cannot fail task while status is succeeded")
	wantError(t, e.do("POST", path+"/reset", nil), 409, "Task is not auto-failed or already recovered")
	wantError(t, e.do("POST", path+"/reset", map[string]any{"target_status": "done"}), 400, "target_status must be 'running' or 'queued'")

	// Requeue and retry clone to a new task; the original stays.
	for _, action := range []string{"requeue", "retry"} {
		clone := field(t, e.ok(200, "POST", path+"/"+action, nil), "task")
		if clone["id"] == id || clone["status"] != "queued" || clone["payload"] != done["payload"] || clone["attempts"] != 0.0 {
			t.Errorf("%s = %v", action, clone)
		}
	}
	// Rerun resets in place.
	rerun := field(t, e.ok(200, "POST", path+"/rerun", nil), "task")
	if rerun["id"] != id || rerun["status"] != "queued" || rerun["result"] != nil || rerun["result_summary"] != nil ||
		rerun["worker_id"] != nil || rerun["attempts"] != 0.0 || rerun["created_at"] != claimed["created_at"] {
		t.Errorf("rerun = %v", rerun)
	}
	wantError(t, e.do("POST", path+"/rerun", nil), 409, "Cannot rerun task while status is queued")
	wantError(t, e.do("POST", path+"/requeue", nil), 409, "Cannot requeue task while status is queued")
	wantError(t, e.do("POST", path+"/retry", nil), 409, "Cannot requeue task while status is queued")
	wantError(t, e.do("POST", path+"/fail", map[string]any{"error_message": "x"}), 409, "Cannot fail task while status is queued")
	wantError(t, e.do("POST", path+"/complete", map[string]any{"result_summary": "x"}), 409, "Cannot complete task while status is queued")

	// Fail after a fresh claim.
	e.ok(200, "POST", path+"/claim", nil)
	wantError(t, e.do("POST", path+"/fail", map[string]any{"error_message": ""}), 400, "error_message is required")
	failed := field(t, e.ok(200, "POST", path+"/fail", map[string]any{"error_message": "boom", "error_type": "RuntimeError", "stderr": "trace"}), "task")
	if failed["status"] != "failed" || failed["error"] != "RuntimeError: boom" || failed["error_message"] != "RuntimeError: boom" ||
		failed["failed_at"] == nil || failed["completed_at"] != nil || failed["stderr"] != "trace" || failed["auto_failed"] != false {
		t.Errorf("fail = %v", failed)
	}

	// Operations on unknown tasks are 404.
	for _, op := range []struct{ method, path string }{
		{"POST", "/claim"}, {"POST", "/complete"}, {"POST", "/fail"}, {"POST", "/reset"},
		{"POST", "/requeue"}, {"POST", "/retry"}, {"POST", "/rerun"}, {"DELETE", ""}, {"PUT", ""},
	} {
		var body any
		switch op.path {
		case "/complete":
			body = map[string]any{"result_summary": "x"}
		case "/fail":
			body = map[string]any{"error_message": "x"}
		case "":
			if op.method == "PUT" {
				body = map[string]any{"timeout": 5}
			}
		}
		wantError(t, e.do(op.method, "/api/tasks/tsk_000000000000"+op.path, body), 404, "Task not found: tsk_000000000000")
	}

	if body := e.ok(200, "DELETE", path, nil); body["message"] != "Task deleted" {
		t.Errorf("delete = %v", body)
	}
	wantError(t, e.do("GET", path, nil), 404, "Task not found: "+id)
}

func TestUpdateTask(t *testing.T) {
	e := newEnv(t, nil)
	_, qid := e.fixture()
	id := e.task(qid, nil)["id"].(string)
	path := "/api/tasks/" + id

	tests := []struct {
		name   string
		body   any
		status int
		msg    string
	}{
		{"empty object", map[string]any{}, 400, "Update body must be a non-empty object"},
		{"status key", map[string]any{"status": "succeeded"}, 400, "Status updates are not allowed. Use claim/complete/fail/requeue endpoints."},
		{"unknown key", map[string]any{"task_id": "x"}, 400, "unknown field: task_id"},
		{"payload array", map[string]any{"payload": []int{1}}, 400, "payload must be a JSON object"},
		{"payload array string", map[string]any{"payload": "[1]"}, 400, "payload must be a JSON object"},
		{"payload text", map[string]any{"payload": "not json"}, 400, "payload must be a JSON object"},
		{"payload empty", map[string]any{"payload": ""}, 400, "payload cannot be empty"},
		{"payload null", map[string]any{"payload": nil}, 400, "payload must be a JSON object"},
		{"timeout zero", map[string]any{"timeout": 0}, 400, "timeout must be between 1 and 604800"},
		{"tool blank", map[string]any{"tool_name": " "}, 400, "tool_name cannot be empty"},
		{"tool unknown", map[string]any{"tool_name": "nope"}, 400, "unknown tool…"},
		{"not an object", `"x"`, 400, "request body must be a JSON object"},
		{"malformed", `{`, 400, "Invalid JSON body: …"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do("PUT", path, tc.body), tc.status, tc.msg)
		})
	}
	before := field(t, e.ok(200, "GET", path, nil), "task")
	if before["tool_name"] != "run-bash" || before["timeout"] != 600.0 {
		t.Fatalf("rejected updates changed the task: %v", before)
	}

	got := field(t, e.ok(200, "PUT", path, map[string]any{
		"tool_name": "llm-haiku", "payload": `{"prompt": "new"}`, "timeout": 99, "agent_role_key": "reviewer",
	}), "task")
	if got["tool_name"] != "llm-haiku" || got["payload"] != `{"prompt": "new"}` || got["prompt"] != "new" ||
		got["timeout"] != 99.0 || got["agent_role_key"] != "reviewer" {
		t.Errorf("update = %v", got)
	}
	got = field(t, e.ok(200, "PUT", path, map[string]any{"payload": map[string]any{"prompt": "obj"}, "agent_role_key": nil}), "task")
	if got["prompt"] != "obj" || got["agent_role_key"] != nil {
		t.Errorf("update with object payload = %v", got)
	}

	e.ok(200, "POST", path+"/claim", nil)
	wantError(t, e.do("PUT", path, map[string]any{"timeout": 5}), 409, "Cannot edit task while status is running…")
}

func TestEnqueueBatch(t *testing.T) {
	e := newEnv(t, nil)
	sid, qid := e.fixture()
	ended, archived := e.queue(sid, "Ended"), e.queue(sid, "Archived")
	e.ok(200, "PUT", "/api/queues/"+ended+"/end", nil)
	e.ok(200, "PUT", "/api/queues/"+archived+"/archive", nil)

	body := e.ok(http.StatusCreated, "POST", "/api/tasks/batch", map[string]any{"tasks": []any{
		map[string]any{"queue_id": qid, "tool_name": "run-bash", "prompt": "a"},
		map[string]any{"queue_id": qid, "tool_name": "llm-haiku", "payload": map[string]any{"prompt": "b"}},
	}})
	tasks := body["tasks"].([]any)
	if len(tasks) != 2 || tasks[0].(map[string]any)["prompt"] != "a" || tasks[1].(map[string]any)["prompt"] != "b" {
		t.Fatalf("batch = %v", body)
	}
	for _, k := range taskKeys {
		if _, ok := tasks[0].(map[string]any)[k]; !ok {
			t.Errorf("batch task lacks %q", k)
		}
	}

	tooMany := make([]any, 1001)
	for i := range tooMany {
		tooMany[i] = map[string]any{"queue_id": qid, "tool_name": "run-bash"}
	}
	tests := []struct {
		name   string
		body   any
		status int
		msg    string
	}{
		{"bad payload in item 1", map[string]any{"tasks": []any{
			map[string]any{"queue_id": qid, "tool_name": "run-bash"},
			map[string]any{"queue_id": qid, "tool_name": "run-bash", "payload": []int{1}},
		}}, 400, "tasks[1].payload must be a JSON object"},
		{"missing tool in item 0", map[string]any{"tasks": []any{map[string]any{"queue_id": qid}}}, 400, "tasks[0].tool_name is required"},
		{"item not object", map[string]any{"tasks": []any{"x"}}, 400, "tasks[0] must be a JSON object"},
		// Queue errors name their item as validation errors do.
		{"unknown queue in item 1", map[string]any{"tasks": []any{
			map[string]any{"queue_id": qid, "tool_name": "run-bash"},
			map[string]any{"queue_id": "que_000000000000", "tool_name": "run-bash"},
		}}, 404, "tasks[1]: Queue not found: que_000000000000"},
		{"ended queue in item 2", map[string]any{"tasks": []any{
			map[string]any{"queue_id": qid, "tool_name": "run-bash"},
			map[string]any{"queue_id": qid, "tool_name": "run-bash"},
			map[string]any{"queue_id": ended, "tool_name": "run-bash"},
		}}, 409, "tasks[2]: Queue Ended is ended: it accepts no new tasks (create a new queue)"},
		{"archived queue in item 0", map[string]any{"tasks": []any{
			map[string]any{"queue_id": archived, "tool_name": "run-bash"},
			map[string]any{"queue_id": qid, "tool_name": "run-bash"},
		}}, 409, "tasks[0]: Queue Archived is archived: it accepts no new tasks (create a new queue or unarchive it)"},
		{"unknown tool in item 1", map[string]any{"tasks": []any{
			map[string]any{"queue_id": qid, "tool_name": "run-bash"},
			map[string]any{"queue_id": qid, "tool_name": "nope"},
		}}, 400, `tasks[1]: unknown tool "nope"…`},
		// A batch of one says tasks[0] too.
		{"unknown queue alone", map[string]any{"tasks": []any{
			map[string]any{"queue_id": "que_000000000000", "tool_name": "run-bash"},
		}}, 404, "tasks[0]: Queue not found: que_000000000000"},
		{"ended queue alone", map[string]any{"tasks": []any{
			map[string]any{"queue_id": ended, "tool_name": "run-bash"},
		}}, 409, "tasks[0]: Queue Ended is ended…"},
		{"unknown tool alone", map[string]any{"tasks": []any{
			map[string]any{"queue_id": qid, "tool_name": "nope"},
		}}, 400, `tasks[0]: unknown tool "nope"…`},
		{"empty", map[string]any{"tasks": []any{}}, 400, "tasks must not be empty"},
		{"not array", map[string]any{"tasks": map[string]any{}}, 400, "tasks must be a JSON array"},
		{"too many", map[string]any{"tasks": tooMany}, 400, "tasks must contain at most 1000 items"},
		{"unknown key", map[string]any{"tasks": []any{}, "atomic": true}, 400, "unknown field: atomic"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do("POST", "/api/tasks/batch", tc.body), tc.status, tc.msg)
		})
	}
	if n := e.countTasks(qid); n != 2 {
		t.Errorf("queue holds %d tasks after rejected batches, want 2 (all-or-nothing)", n)
	}
	// A single enqueue keeps its messages unprefixed.
	wantError(t, e.do("POST", "/api/tasks", map[string]any{"queue_id": "que_000000000000", "tool_name": "run-bash"}),
		404, "Queue not found: que_000000000000")
	wantError(t, e.do("POST", "/api/tasks", map[string]any{"queue_id": ended, "tool_name": "run-bash"}),
		409, "Queue Ended is ended: it accepts no new tasks (create a new queue)")

	// The store names the offending field of the item, for other callers.
	for i, in := range [][]store.NewTask{
		{{QueueID: qid, ToolName: "run-bash"}, {QueueID: "que_000000000000", ToolName: "run-bash"}},
		{{QueueID: qid, ToolName: "run-bash"}, {QueueID: archived, ToolName: "run-bash"}},
	} {
		_, err := e.store.EnqueueBatch(context.Background(), in)
		var se *store.Error
		if !errors.As(err, &se) || se.Field != "tasks[1].queue_id" {
			t.Errorf("batch %d: error %#v, want field tasks[1].queue_id", i, err)
		}
	}
}

// batch and quick-add are POST-only paths beside the task ids under
// /api/tasks/: other methods get 405 and an Allow header saying so, while
// a task id is served as before and its Allow leaves POST out.
func TestPostOnlyTaskPaths(t *testing.T) {
	e := newEnv(t, nil)
	_, qid := e.fixture()
	id := e.task(qid, nil)["id"].(string)
	gone := e.task(qid, nil)["id"].(string)

	const postOnly, taskID = "OPTIONS, POST", "DELETE, GET, HEAD, OPTIONS, PUT"
	tests := []struct {
		method, path string
		body         any
		status       int
		allow        string // "": no Allow header
	}{
		{"GET", "/api/tasks/batch", nil, 405, postOnly},
		{"HEAD", "/api/tasks/batch", nil, 405, postOnly},
		{"PUT", "/api/tasks/batch", map[string]any{"timeout": 5}, 405, postOnly},
		{"DELETE", "/api/tasks/batch", nil, 405, postOnly},
		{"PATCH", "/api/tasks/batch", nil, 405, postOnly},
		{"OPTIONS", "/api/tasks/batch", nil, 200, postOnly},
		{"GET", "/api/tasks/quick-add", nil, 405, postOnly},
		{"HEAD", "/api/tasks/quick-add", nil, 405, postOnly},
		{"PUT", "/api/tasks/quick-add", map[string]any{"timeout": 5}, 405, postOnly},
		{"DELETE", "/api/tasks/quick-add", nil, 405, postOnly},
		{"OPTIONS", "/api/tasks/quick-add", nil, 200, postOnly},
		// Task ids: still served, and POST is not among their methods.
		{"GET", "/api/tasks/" + id, nil, 200, ""},
		{"HEAD", "/api/tasks/" + id, nil, 200, ""},
		{"PUT", "/api/tasks/" + id, map[string]any{"timeout": 5}, 200, ""},
		{"DELETE", "/api/tasks/" + gone, nil, 200, ""},
		{"GET", "/api/tasks/" + gone, nil, 404, ""},
		{"POST", "/api/tasks/" + id, nil, 405, taskID},
		{"PATCH", "/api/tasks/" + id, nil, 405, taskID},
		{"OPTIONS", "/api/tasks/" + id, nil, 200, taskID},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			var r response
			if tc.method == "HEAD" { // no body to decode
				resp, raw := e.send(tc.method, tc.path, nil)
				r = response{status: resp.StatusCode, header: resp.Header, raw: raw}
			} else {
				r = e.do(tc.method, tc.path, tc.body)
			}
			switch {
			case tc.status == 405 && tc.method != "HEAD":
				wantError(t, r, 405, "Method not allowed: "+tc.method+" "+tc.path)
			case r.status != tc.status:
				t.Fatalf("status %d, want %d; body %s", r.status, tc.status, r.raw)
			case tc.method == "HEAD" && len(r.raw) != 0:
				t.Errorf("HEAD sent a body: %s", r.raw)
			}
			if got := r.header.Get("Allow"); got != tc.allow {
				t.Errorf("Allow %q, want %q", got, tc.allow)
			}
		})
	}
	if got := field(t, e.ok(200, "GET", "/api/tasks/"+id, nil), "task"); got["timeout"] != 5.0 {
		t.Errorf("PUT by id did not update the task: %v", got)
	}
	// The POST routes themselves still work.
	e.ok(http.StatusCreated, "POST", "/api/tasks/batch", map[string]any{"tasks": []any{map[string]any{"queue_id": qid, "tool_name": "run-bash"}}})
	e.ok(200, "POST", "/api/tasks/quick-add", map[string]any{"queue_id": qid, "mode": "llm", "prompt": "hello"})
}

// TestConcurrentClaims races 8 clients over the same 200 tasks: each task is
// claimed exactly once and every losing attempt is a 409.
func TestConcurrentClaims(t *testing.T) {
	e := newEnv(t, nil)
	_, qid := e.fixture()
	items := make([]any, 200)
	for i := range items {
		items[i] = map[string]any{"queue_id": qid, "tool_name": "run-bash"}
	}
	var ids []string
	for _, x := range e.ok(http.StatusCreated, "POST", "/api/tasks/batch", map[string]any{"tasks": items})["tasks"].([]any) {
		ids = append(ids, x.(map[string]any)["id"].(string))
	}

	const clients = 8
	type result struct {
		worker string
		id     string
		status int
		owner  string
	}
	results := make(chan result, clients*len(ids))
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			worker := fmt.Sprintf("w%d", c)
			// Each client walks the list from a different start so
			// they collide throughout, not only at the front.
			for i := range ids {
				id := ids[(i+c*len(ids)/clients)%len(ids)]
				req, _ := http.NewRequest("POST", e.srv.URL+"/api/tasks/"+id+"/claim",
					strings.NewReader(`{"worker_id":"`+worker+`"}`))
				resp, err := e.hc.Do(req)
				if err != nil {
					t.Errorf("claim %s: %v", id, err)
					return
				}
				var body struct {
					Task struct {
						WorkerID string `json:"worker_id"`
					}
				}
				json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				results <- result{worker, id, resp.StatusCode, body.Task.WorkerID}
			}
		}()
	}
	wg.Wait()
	close(results)

	winners := map[string]string{}
	for r := range results {
		switch r.status {
		case http.StatusOK:
			if prev, dup := winners[r.id]; dup {
				t.Errorf("task %s claimed by %s and %s", r.id, prev, r.worker)
			}
			if r.owner != r.worker {
				t.Errorf("task %s: response worker_id %q, want %q", r.id, r.owner, r.worker)
			}
			winners[r.id] = r.worker
		case http.StatusConflict:
		default:
			t.Errorf("claim %s by %s: status %d", r.id, r.worker, r.status)
		}
	}
	if len(winners) != len(ids) {
		t.Errorf("%d of %d tasks claimed", len(winners), len(ids))
	}
	for _, x := range e.ok(200, "GET", "/api/tasks?queue_id="+qid+"&limit=1000", nil)["tasks"].([]any) {
		task := x.(map[string]any)
		if task["status"] != "running" || task["attempts"] != 1.0 || task["worker_id"] != winners[task["id"].(string)] {
			t.Errorf("task %v: status %v attempts %v worker %v", task["id"], task["status"], task["attempts"], task["worker_id"])
		}
	}
}
