package httpd_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkq/sparkq/daemon/config"
	"github.com/sparkq/sparkq/daemon/scripts"
	"github.com/sparkq/sparkq/httpd"
	"github.com/sparkq/sparkq/store"
	"github.com/sparkq/sparkq/store/sqlite"
)

const testYAML = `
purge:
  older_than_days: 7
queue_runner:
  poll_interval: 12
  auto_fail_interval_seconds: 45
task_classes:
  QUICK:
    timeout: 10
    description: Quick
  MEDIUM_SCRIPT:
    timeout: 600
tools:
  checker:
    task_class: QUICK
    description: Checks
  run-bash:
    task_class: MEDIUM_SCRIPT
features:
  flags: {beta: true}
defaults:
  model: llm-haiku
`

// daemonSeed is what the daemon seeds a new database with.
func daemonSeed(cfg config.Config) *sqlite.Seed {
	seed := &sqlite.Seed{Config: httpd.ConfigSeed(cfg)}
	for _, c := range cfg.TaskClasses {
		var d *string
		if c.Description != "" {
			d = &c.Description
		}
		seed.TaskClasses = append(seed.TaskClasses, store.TaskClass{Name: c.Name, Timeout: c.Timeout, Description: d})
	}
	for _, t := range cfg.Tools {
		seed.Tools = append(seed.Tools, store.Tool{Name: t.Name, TaskClass: t.TaskClass})
	}
	return seed
}

func jsonEq(t *testing.T, what string, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %s: %v", want, err)
	}
	if !reflect.DeepEqual(got, w) {
		g, _ := json.Marshal(got)
		t.Errorf("%s = %s, want %s", what, g, want)
	}
}

func TestGetConfig(t *testing.T) {
	cfg := loadSettings(t, testYAML)
	e := newSeededEnv(t, daemonSeed(cfg), withSettings(cfg))
	got := e.ok(200, "GET", "/api/config", nil)
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if strings.Join(keys, " ") != "database defaults features purge queue_runner server stale_handling task_classes tools ui" {
		t.Fatalf("keys = %v", keys)
	}
	jsonEq(t, "purge", got["purge"], `{"older_than_days": 7}`)
	jsonEq(t, "queue_runner", got["queue_runner"], `{"poll_interval": 12, "auto_fail_interval_seconds": 45, "base_url": null}`)
	jsonEq(t, "tools", got["tools"], `{"checker": {"description": null, "task_class": "QUICK"}, "run-bash": {"description": null, "task_class": "MEDIUM_SCRIPT"}}`)
	jsonEq(t, "task_classes", got["task_classes"], `{"QUICK": {"timeout": 10, "description": "Quick"}, "MEDIUM_SCRIPT": {"timeout": 600, "description": null}}`)
	jsonEq(t, "ui", got["ui"], `{"build_id": "test-build"}`)
	jsonEq(t, "features", got["features"], `{"flags": {"beta": true}}`)
	jsonEq(t, "defaults", got["defaults"], `{"queue": {}, "model": "llm-haiku"}`)
	jsonEq(t, "stale_handling", got["stale_handling"], `{"warn_multiplier": 1, "fail_multiplier": 2, "auto_fail_interval_seconds": 45}`)
	if db := got["database"].(map[string]any); db["path"] != cfg.DBPath() || db["mode"] != "wal" {
		t.Errorf("database = %v", db)
	}
	if srv := got["server"].(map[string]any); srv["port"] != 5005.0 || srv["host"] != "127.0.0.1" {
		t.Errorf("server = %v", srv)
	}

	// The database wins over sparkq.yml, and a deleted row falls back to it.
	e.ok(200, "PUT", "/api/config/purge/config", map[string]any{"value": map[string]any{"older_than_days": 2}})
	e.ok(200, "PUT", "/api/config/ui/build_id", map[string]any{"value": "b999"})
	got = e.ok(200, "GET", "/api/config", nil)
	jsonEq(t, "purge after PUT", got["purge"], `{"older_than_days": 2}`)
	jsonEq(t, "ui after PUT", got["ui"], `{"build_id": "b999"}`)
	got = field(t, e.ok(200, "DELETE", "/api/config/purge/config", nil), "config")
	jsonEq(t, "purge after DELETE", got["purge"], `{"older_than_days": 7}`)
}

// A handler without Settings runs on built-in defaults.
func TestGetConfigDefaults(t *testing.T) {
	e := newEnv(t, nil)
	got := e.ok(200, "GET", "/api/config", nil)
	jsonEq(t, "purge", got["purge"], `{"older_than_days": 3}`)
	jsonEq(t, "queue_runner", got["queue_runner"], `{"poll_interval": 30, "auto_fail_interval_seconds": 30, "base_url": null}`)
	jsonEq(t, "defaults", got["defaults"], `{"queue": {}, "model": "llm-sonnet"}`)
	if len(got["tools"].(map[string]any)) != 7 {
		t.Errorf("tools = %v", got["tools"])
	}
}

func TestPutConfigValidation(t *testing.T) {
	e := newEnv(t, nil)
	put := func(path string) string { return "/api/config/" + path }
	v := func(x any) map[string]any { return map[string]any{"value": x} }
	tests := []struct {
		name string
		path string
		body any
		msg  string
	}{
		{"purge not object", put("purge/config"), v(3), "purge config must be an object"},
		{"purge missing days", put("purge/config"), v(map[string]any{}), "older_than_days must be a positive integer"},
		{"purge zero", put("purge/config"), v(map[string]any{"older_than_days": 0}), "older_than_days must be a positive integer"},
		// GAP 42: JSON true is not an integer; neither is 3.0 nor "3".
		{"purge true", put("purge/config"), `{"value": {"older_than_days": true}}`, "older_than_days must be a positive integer"},
		{"purge float", put("purge/config"), `{"value": {"older_than_days": 3.0}}`, "older_than_days must be a positive integer"},
		{"purge exponent", put("purge/config"), `{"value": {"older_than_days": 3e0}}`, "older_than_days must be a positive integer"},
		{"purge string", put("purge/config"), v(map[string]any{"older_than_days": "3"}), "older_than_days must be a positive integer"},
		{"purge huge", put("purge/config"), v(map[string]any{"older_than_days": 99999}), "older_than_days must be at most 36500"},
		{"runner not object", put("queue_runner/config"), v([]int{}), "queue_runner config must be an object"},
		{"runner poll", put("queue_runner/config"), v(map[string]any{"poll_interval": -1}), "poll_interval must be a positive integer"},
		{"runner auto fail", put("queue_runner/config"), v(map[string]any{"auto_fail_interval_seconds": 1.5}), "auto_fail_interval_seconds must be a positive integer"},
		{"runner base_url", put("queue_runner/config"), v(map[string]any{"base_url": ""}), "base_url must be a non-empty string when provided"},
		{"runner base_url scheme", put("queue_runner/config"), v(map[string]any{"base_url": "ftp://x"}), `base_url must be an http:// or https:// URL, got "ftp://x"`},
		{"tools not object", put("tools/all"), v([]int{}), "tools must be an object keyed by tool name"},
		{"tools blank name", put("tools/all"), v(map[string]any{" ": map[string]any{"task_class": "X"}}), "tool names must be non-empty strings"},
		{"tools entry", put("tools/all"), v(map[string]any{"t": 1}), "tool 't' config must be an object"},
		{"tools class", put("tools/all"), v(map[string]any{"t": map[string]any{"task_class": ""}}), "tool 't' missing task_class"},
		{"tools description", put("tools/all"), v(map[string]any{"t": map[string]any{"task_class": "LLM_LITE", "description": 5}}), "tool 't' description must be a string"},
		{"classes not object", put("task_classes/all"), v("x"), "task_classes must be an object keyed by class name"},
		{"classes blank name", put("task_classes/all"), v(map[string]any{"": map[string]any{"timeout": 1}}), "task_class names must be non-empty strings"},
		{"classes entry", put("task_classes/all"), v(map[string]any{"C": nil}), "task_class 'C' config must be an object"},
		{"classes timeout", put("task_classes/all"), `{"value": {"C": {"timeout": true}}}`, "task_class 'C' timeout must be > 0"},
		{"build id", put("ui/build_id"), v(" "), "build_id must be a non-empty string"},
		{"flags", put("features/flags"), v([]int{}), "feature flags must be an object"},
		{"queue defaults", put("defaults/queue"), v(nil), "queue defaults must be an object"},
		{"default model", put("defaults/model"), v(5), "default model must be a non-empty string"},
		// GAP 42: namespaces are matched case-sensitively.
		{"upper-case namespace", put("PURGE/config"), v(map[string]any{"older_than_days": 3}), "Unsupported config namespace/key: PURGE/config"},
		{"unsupported", put("project/config"), v(map[string]any{}), "Unsupported config namespace/key: project/config"},
		{"value missing", put("purge/config"), map[string]any{}, "value is required"},
		{"unknown body key", put("purge/config"), map[string]any{"value": 1, "x": 2}, "unknown field: x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do("PUT", tc.path, tc.body), 400, tc.msg)
		})
	}
	wantError(t, e.do("DELETE", "/api/config/Purge/config", nil), 400, "Unsupported config namespace/key: Purge/config")
	if logs := e.ok(200, "GET", "/api/audit?action_prefix=config.", nil)["logs"].([]any); len(logs) != 0 {
		t.Errorf("refused writes audited: %v", logs)
	}

	// Each supported pair accepts a good value and answers the full config.
	for path, value := range map[string]any{
		"purge/config":        map[string]any{"older_than_days": 5},
		"queue_runner/config": map[string]any{"poll_interval": 5, "base_url": "http://127.0.0.1:5005"},
		"ui/build_id":         "b1",
		"features/flags":      map[string]any{"x": true},
		"defaults/queue":      map[string]any{"instructions": "hi"},
		"defaults/model":      "llm-codex",
	} {
		got := e.ok(200, "PUT", put(path), v(value))
		if got["status"] != "ok" || got["config"] == nil {
			t.Errorf("PUT %s = %v", path, got)
		}
	}
	logs := e.ok(200, "GET", "/api/audit?action_prefix=config.update.defaults.model", nil)["logs"].([]any)
	if len(logs) != 1 || logs[0].(map[string]any)["actor"] != "api" {
		t.Fatalf("audit = %v", logs)
	}
	jsonEq(t, "audit details", logs[0].(map[string]any)["details"], `{"value": "llm-codex"}`)
}

// An integer too large for int64 is still an integer: it gets the field's
// "at most" message, not "must be an integer" (and a hugely negative one
// the message for values below the range). Nothing refused is stored.
func TestHugeIntegers(t *testing.T) {
	e := newEnv(t, nil)
	_, qid := e.fixture()
	const huge = "99999999999999999999" // > math.MaxInt64
	value := func(json string) string { return `{"value": ` + json + `}` }
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		msg    string
	}{
		{"purge days", "PUT", "/api/config/purge/config", value(`{"older_than_days": ` + huge + `}`), "older_than_days must be at most 36500"},
		{"purge days int64", "PUT", "/api/config/purge/config", value(`{"older_than_days": 9223372036854775807}`), "older_than_days must be at most 36500"},
		{"purge days negative", "PUT", "/api/config/purge/config", value(`{"older_than_days": -` + huge + `}`), "older_than_days must be a positive integer"},
		{"runner poll", "PUT", "/api/config/queue_runner/config", value(`{"poll_interval": ` + huge + `}`), "poll_interval must be at most 31536000"},
		{"runner auto fail", "PUT", "/api/config/queue_runner/config", value(`{"auto_fail_interval_seconds": ` + huge + `}`), "auto_fail_interval_seconds must be at most 31536000"},
		{"class row timeout", "PUT", "/api/config/task_classes/all", value(`{"C": {"timeout": ` + huge + `}}`), "task_class 'C' timeout must be at most 604800 seconds"},
		{"class row negative", "PUT", "/api/config/task_classes/all", value(`{"C": {"timeout": -` + huge + `}}`), "task_class 'C' timeout must be > 0"},
		{"validate purge", "POST", "/api/config/validate", value(`{"purge": {"config": {"older_than_days": ` + huge + `}}}`), "older_than_days must be at most 36500"},
		{"class timeout", "POST", "/api/task-classes", `{"name": "X", "timeout": ` + huge + `}`, "timeout must be at most 604800 seconds"},
		{"class timeout over int32", "POST", "/api/task-classes", `{"name": "X", "timeout": 99999999999}`, "timeout must be at most 604800 seconds"},
		{"class put timeout", "PUT", "/api/task-classes/X", `{"timeout": ` + huge + `}`, "timeout must be at most 604800 seconds"},
		{"class put negative", "PUT", "/api/task-classes/X", `{"timeout": -` + huge + `}`, "timeout must be > 0"},
		{"task timeout", "POST", "/api/tasks", `{"queue_id": "` + qid + `", "tool_name": "run-bash", "timeout": ` + huge + `}`, "timeout must be between 1 and 604800"},
		{"purge now", "POST", "/api/purge", `{"older_than_days": ` + huge + `}`, "older_than_days must be between 1 and 36500"},
		{"audit limit", "GET", "/api/audit?limit=" + huge, "", "limit must be at most 200"},
		{"throughput minutes", "GET", "/api/stats/throughput?minutes=" + huge, "", "minutes must be at most 1440"},
		{"sessions offset negative", "GET", "/api/sessions?offset=-" + huge, "", "offset must be at least 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			wantError(t, e.do(tc.method, tc.path, body), 400, tc.msg)
		})
	}
	if logs := e.ok(200, "GET", "/api/audit?action_prefix=config.", nil)["logs"].([]any); len(logs) != 0 {
		t.Errorf("refused writes audited: %v", logs)
	}
	if n := e.countTasks(qid); n != 0 {
		t.Errorf("refused task stored (%d tasks)", n)
	}
}

func TestConfigToolsAndClassesRows(t *testing.T) {
	cfg := loadSettings(t, testYAML)
	e := newSeededEnv(t, daemonSeed(cfg), withSettings(cfg))
	_, qid := e.fixture()

	// tools/all replaces the tools table in one transaction.
	got := field(t, e.ok(200, "PUT", "/api/config/tools/all", map[string]any{"value": map[string]any{
		"run-bash": map[string]any{"task_class": "QUICK", "description": "Bash"},
		"llm":      map[string]any{"task_class": "MEDIUM_SCRIPT"},
	}}), "config")
	jsonEq(t, "tools", got["tools"], `{"run-bash": {"task_class": "QUICK", "description": "Bash"}, "llm": {"task_class": "MEDIUM_SCRIPT", "description": null}}`)
	if tools := e.ok(200, "GET", "/api/tools", nil)["tools"].([]any); len(tools) != 2 {
		t.Fatalf("tools table = %v", tools)
	}
	if task := e.task(qid, nil); task["timeout"] != 10.0 || task["task_class"] != "QUICK" {
		t.Errorf("enqueue did not see the new registry: %v", task)
	}
	wantError(t, e.do("PUT", "/api/config/tools/all", map[string]any{"value": map[string]any{"x": map[string]any{"task_class": "NOPE"}}}), 404, "task_class 'NOPE' does not exist")

	// GAP 15: dropping a class in use changes nothing, not even the new one.
	r := e.do("PUT", "/api/config/task_classes/all", map[string]any{"value": map[string]any{"NEW": map[string]any{"timeout": 5}, "MEDIUM_SCRIPT": map[string]any{"timeout": 600}}})
	wantError(t, r, 409, "Cannot delete task_class in use by tools: QUICK is used by run-bash")
	classes := e.ok(200, "GET", "/api/task-classes", nil)["task_classes"].([]any)
	if len(classes) != 2 {
		t.Fatalf("partial write: %v", classes)
	}

	// DELETE tools/all resets the table to sparkq.yml's tools (GAP 43:
	// atomic, and the row keeps mirroring the table).
	got = field(t, e.ok(200, "DELETE", "/api/config/tools/all", nil), "config")
	jsonEq(t, "tools after reset", got["tools"], `{"checker": {"task_class": "QUICK", "description": "Checks"}, "run-bash": {"task_class": "MEDIUM_SCRIPT", "description": null}}`)
	e.ok(201, "POST", "/api/task-classes", map[string]any{"name": "EXTRA", "timeout": 3})
	got = field(t, e.ok(200, "DELETE", "/api/config/task_classes/all", nil), "config")
	if _, ok := got["task_classes"].(map[string]any)["EXTRA"]; ok {
		t.Errorf("reset kept EXTRA: %v", got["task_classes"])
	}
	logs := e.ok(200, "GET", "/api/audit?action_prefix=config.delete.", nil)["logs"].([]any)
	if len(logs) != 2 {
		t.Errorf("delete audits = %v", logs)
	}
}

func TestConfigValidate(t *testing.T) {
	e := newEnv(t, nil)
	ok := e.ok(200, "POST", "/api/config/validate", map[string]any{"value": map[string]any{
		"purge": map[string]any{"config": map[string]any{"older_than_days": 1}},
		"ui":    map[string]any{"build_id": "x"},
	}})
	if ok["status"] != "ok" {
		t.Fatalf("validate = %v", ok)
	}
	tests := []struct {
		name string
		body any
		msg  string
	}{
		{"no body", nil, "Invalid JSON body: body is empty"},
		{"value missing", map[string]any{}, "value must be an object with namespace->key maps"},
		{"value not object", map[string]any{"value": 1}, "value must be an object with namespace->key maps"},
		{"namespace not object", map[string]any{"value": map[string]any{"purge": 1}}, "Namespace purge must map to an object of key/value"},
		{"bad pair", map[string]any{"value": map[string]any{"purge": map[string]any{"config": map[string]any{}}}}, "older_than_days must be a positive integer"},
		{"unsupported", map[string]any{"value": map[string]any{"defaults": map[string]any{"other": 1}}}, "Unsupported config namespace/key: defaults/other"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do("POST", "/api/config/validate", tc.body), 400, tc.msg)
		})
	}
	if logs := e.ok(200, "GET", "/api/audit?action_prefix=config.", nil)["logs"].([]any); len(logs) != 0 {
		t.Errorf("validate wrote: %v", logs)
	}
}

func TestTaskClassesAndToolsCRUD(t *testing.T) {
	e := newEnv(t, nil)
	c := field(t, e.ok(201, "POST", "/api/task-classes", map[string]any{"name": " BATCH ", "timeout": 60, "description": "Batch jobs"}), "task_class")
	if c["name"] != "BATCH" || c["timeout"] != 60.0 || c["description"] != "Batch jobs" {
		t.Fatalf("created %v", c)
	}
	// PUT without description keeps it; null clears it; PUT creates.
	c = field(t, e.ok(200, "PUT", "/api/task-classes/BATCH", map[string]any{"timeout": 90}), "task_class")
	if c["timeout"] != 90.0 || c["description"] != "Batch jobs" {
		t.Fatalf("put %v", c)
	}
	c = field(t, e.ok(200, "PUT", "/api/task-classes/BATCH", map[string]any{"name": "BATCH", "timeout": 90, "description": nil}), "task_class")
	if c["description"] != nil {
		t.Fatalf("put null description %v", c)
	}
	e.ok(200, "PUT", "/api/task-classes/NIGHTLY", map[string]any{"timeout": 3600})

	tool := field(t, e.ok(201, "POST", "/api/tools", map[string]any{"name": "batcher", "task_class": "BATCH", "description": "B"}), "tool")
	if tool["name"] != "batcher" || tool["task_class"] != "BATCH" || tool["description"] != "B" {
		t.Fatalf("tool %v", tool)
	}
	tool = field(t, e.ok(200, "PUT", "/api/tools/batcher", map[string]any{"task_class": "NIGHTLY"}), "tool")
	if tool["task_class"] != "NIGHTLY" || tool["description"] != "B" {
		t.Fatalf("tool put %v", tool)
	}

	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		msg    string
	}{
		// GAP 41: POST does not overwrite, PUT does not rename, missing names 404.
		{"class exists", "POST", "/api/task-classes", map[string]any{"name": "BATCH", "timeout": 1}, 409, "task_class 'BATCH' already exists"},
		{"class blank name", "POST", "/api/task-classes", map[string]any{"name": " ", "timeout": 1}, 400, "name is required"},
		{"class zero timeout", "POST", "/api/task-classes", map[string]any{"name": "X", "timeout": 0}, 400, "timeout must be > 0"},
		{"class no timeout", "POST", "/api/task-classes", map[string]any{"name": "X"}, 400, "timeout is required"},
		{"class float timeout", "POST", "/api/task-classes", `{"name": "X", "timeout": 1.5}`, 400, "timeout must be an integer"},
		{"class rename", "PUT", "/api/task-classes/BATCH", map[string]any{"name": "OTHER", "timeout": 1}, 400, `name in the body ("OTHER") must match the name in the path ("BATCH")…`},
		{"class put zero", "PUT", "/api/task-classes/BATCH", map[string]any{"timeout": -1}, 400, "timeout must be > 0"},
		{"class delete missing", "DELETE", "/api/task-classes/NOPE", nil, 404, "Task class not found: NOPE"},
		{"class delete in use", "DELETE", "/api/task-classes/NIGHTLY", nil, 409, "Cannot delete task_class in use by tools: NIGHTLY is used by batcher"},
		{"tool exists", "POST", "/api/tools", map[string]any{"name": "batcher", "task_class": "BATCH"}, 409, "tool 'batcher' already exists"},
		{"tool blank name", "POST", "/api/tools", map[string]any{"name": "", "task_class": "BATCH"}, 400, "name is required"},
		{"tool no class", "POST", "/api/tools", map[string]any{"name": "t"}, 400, "task_class is required"},
		{"tool unknown class", "POST", "/api/tools", map[string]any{"name": "t", "task_class": "NOPE"}, 404, "task_class 'NOPE' does not exist"},
		{"tool put no class", "PUT", "/api/tools/batcher", map[string]any{"task_class": " "}, 400, "task_class required for tool"},
		{"tool rename", "PUT", "/api/tools/batcher", map[string]any{"name": "b2", "task_class": "BATCH"}, 400, "name in the body…"},
		{"tool put unknown class", "PUT", "/api/tools/new", map[string]any{"task_class": "NOPE"}, 404, "task_class 'NOPE' does not exist"},
		{"tool delete missing", "DELETE", "/api/tools/nope", nil, 404, "Tool not found: nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do(tc.method, tc.path, tc.body), tc.status, tc.msg)
		})
	}

	if got := e.ok(200, "DELETE", "/api/tools/batcher", nil); got["status"] != "ok" {
		t.Errorf("delete tool = %v", got)
	}
	if got := e.ok(200, "DELETE", "/api/task-classes/NIGHTLY", nil); got["status"] != "ok" {
		t.Errorf("delete class = %v", got)
	}
	// Every change kept the mirror rows (GET /api/config reads the tables;
	// the rows are checked in the store tests) and was audited.
	var actions []string
	for _, l := range e.ok(200, "GET", "/api/audit?limit=200", nil)["logs"].([]any) {
		actions = append(actions, l.(map[string]any)["action"].(string))
	}
	want := "task_class.delete tool.delete tool.update tool.create task_class.create task_class.update task_class.update task_class.create"
	if strings.Join(actions, " ") != want {
		t.Errorf("audit = %v\nwant %s", actions, want)
	}
}

type fakeReloader struct {
	calls atomic.Int32
	err   error
}

func (f *fakeReloader) Reload(context.Context) error { f.calls.Add(1); return f.err }

func TestReload(t *testing.T) {
	e := newEnv(t, nil)
	wantError(t, e.do("POST", "/api/reload", nil), 501, "Configuration reload is not available on this server")

	dir := t.TempDir()
	script := filepath.Join(dir, "a.sh")
	os.WriteFile(script, []byte("# name: before\n"), 0o600)
	past := time.Now().Add(-time.Hour)
	os.Chtimes(dir, past, past)
	cfg := config.Config{ScriptDirs: []string{dir}}
	fr := &fakeReloader{}
	idx := scripts.NewIndex()
	e = newEnv(t, func(c *httpd.Config) {
		c.Reloader, c.Scripts = fr, idx
		c.Settings = func() config.Config { return cfg }
	})
	list := func() string {
		s := e.array("/api/scripts/index")
		if len(s) != 1 {
			t.Fatalf("index %v", s)
		}
		return s[0]["name"].(string)
	}
	if got := list(); got != "before" {
		t.Fatalf("index name %q", got)
	}
	os.WriteFile(script, []byte("# name: after\n"), 0o600) // in place: no dir change
	os.Chtimes(dir, past, past)
	if got := list(); got != "before" {
		t.Fatalf("cache not used: %q", got)
	}
	got := e.ok(200, "POST", "/api/reload", nil)
	if got["status"] != "ok" || got["message"] != "Configuration reloaded" || fr.calls.Load() != 1 {
		t.Fatalf("reload = %v (%d calls)", got, fr.calls.Load())
	}
	if got := list(); got != "after" {
		t.Fatalf("reload did not refresh the script index: %q", got)
	}
	fr.err = &store.Error{Kind: store.KindInvalid, Msg: "reload failed, configuration unchanged: sparkq.yml:3: bad"}
	wantError(t, e.do("POST", "/api/reload", nil), 400, "reload failed, configuration unchanged: sparkq.yml:3: bad")
	fr.err = errors.New("disk on fire")
	wantError(t, e.do("POST", "/api/reload", nil), 500, "Internal server error")
}

// POST /api/purge without a body uses the purge/config row, then sparkq.yml.
func TestPurgeRetentionFromConfig(t *testing.T) {
	cfg := loadSettings(t, "purge:\n  older_than_days: 5\n")
	e := newSeededEnv(t, nil, withSettings(cfg)) // no config rows seeded: sparkq.yml applies
	_, qid := e.fixture()
	id := e.task(qid, nil)["id"].(string)
	e.ok(200, "POST", "/api/tasks/"+id+"/claim", nil)
	e.ok(200, "POST", "/api/tasks/"+id+"/complete", map[string]any{"result_summary": "ok"})
	e.clock.Advance(4 * 24 * time.Hour)
	if p := e.ok(200, "POST", "/api/purge", nil); p["deleted"] != 0.0 {
		t.Fatalf("purged with sparkq.yml's 5 days: %v", p)
	}
	e.ok(200, "PUT", "/api/config/purge/config", map[string]any{"value": map[string]any{"older_than_days": 2}})
	if p := e.ok(200, "POST", "/api/purge", nil); p["deleted"] != 1.0 {
		t.Fatalf("purge with the stored 2 days: %v", p)
	}
}

func TestCacheBusterAndIndexPages(t *testing.T) {
	vars := map[string]string{}
	e := newEnv(t, func(c *httpd.Config) { c.Getenv = func(k string) string { return vars[k] } })
	start := e.clock.Now().Unix()
	script := func() string {
		r := e.do("GET", "/ui-cache-buster.js", nil)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/javascript") {
			t.Fatalf("cache buster %d %q", r.status, r.header.Get("Content-Type"))
		}
		return string(r.raw)
	}
	want := `window.__SPARKQ_ENV__ = "dev";
window.__SPARKQ_CACHE_BUSTER__ = "` + jsonNum(start) + `";
window.__SPARKQ_BUILD_ID__ = "test-build";
window.__BUILD_ID__ = window.__SPARKQ_BUILD_ID__;
`
	if got := script(); got != want {
		t.Errorf("dev script:\n%s\nwant\n%s", got, want)
	}
	vars["APP_ENV"] = "production"
	e.ok(200, "PUT", "/api/config/ui/build_id", map[string]any{"value": `b"</script>`})
	got := script()
	if !strings.Contains(got, `window.__SPARKQ_ENV__ = "prod";`) || !strings.Contains(got, `window.__SPARKQ_CACHE_BUSTER__ = "b\"\u003c/script\u003e";`) {
		t.Errorf("prod script:\n%s", got)
	}
	vars["SPARKQ_CACHE_BUSTER"] = "cb1"
	vars["SPARKQ_ENV"] = "test"
	if got := script(); !strings.Contains(got, `"test"`) || !strings.Contains(got, `__SPARKQ_CACHE_BUSTER__ = "cb1"`) {
		t.Errorf("override script:\n%s", got)
	}
	r := e.do("GET", "/ui-cache-buster.js", nil)
	if r.header.Get("Cache-Control") != "no-cache, no-store, must-revalidate, max-age=0" || r.header.Get("Pragma") != "no-cache" {
		t.Errorf("test env headers %v", r.header)
	}

	index := e.do("GET", "/ui/", nil)
	for _, p := range []string{"/dashboard", "/settings"} {
		r := e.do("GET", p, nil)
		if r.status != 200 || string(r.raw) != string(index.raw) || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: %d %q", p, r.status, r.header.Get("Content-Type"))
		}
	}
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

// array GETs a route answering a bare JSON array of objects.
func (e *env) array(path string) []map[string]any {
	e.t.Helper()
	resp, err := e.hc.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var out []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		e.t.Fatalf("GET %s: status %d, decode: %v", path, resp.StatusCode, err)
	}
	return out
}

// The structured rows refuse keys nobody reads, naming the key and the
// known ones, and store nothing (they used to be kept and ignored).
func TestPutConfigUnknownKeys(t *testing.T) {
	cfg := loadSettings(t, testYAML)
	e := newSeededEnv(t, daemonSeed(cfg), withSettings(cfg))
	before := e.ok(200, "GET", "/api/config", nil)
	rows := func() []store.ConfigEntry {
		t.Helper()
		r, err := e.store.ListConfig(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	stored := rows()
	v := func(x any) map[string]any { return map[string]any{"value": x} }
	tests := []struct {
		name string
		path string
		body any
		msg  string
	}{
		{"purge typo", "purge/config", v(map[string]any{"older_than_days": 3, "older_then_days": 4}),
			"unknown key in purge config: older_then_days (known keys: older_than_days)"},
		{"purge typo only", "purge/config", v(map[string]any{"older_than_day": 3}),
			"unknown key in purge config: older_than_day (known keys: older_than_days)"},
		// purge.interval has no database value: the reaper reads sparkq.yml.
		{"purge interval", "purge/config", v(map[string]any{"older_than_days": 3, "interval": 0.5}),
			"unknown key in purge config: interval (known keys: older_than_days); purge.interval is set in sparkq.yml, not stored in the database"},
		{"runner typo", "queue_runner/config", v(map[string]any{"poll_intervall": 5}),
			"unknown key in queue_runner config: poll_intervall (known keys: auto_fail_interval_seconds, base_url, poll_interval)"},
		{"runner lock dir", "queue_runner/config", v(map[string]any{"lock_dir": "/tmp"}),
			"unknown key in queue_runner config: lock_dir (known keys: auto_fail_interval_seconds, base_url, poll_interval); queue_runner.lock_dir is set in sparkq.yml, not stored in the database"},
		{"tool entry", "tools/all", v(map[string]any{"t": map[string]any{"task_class": "QUICK", "timeout": 5}}),
			"unknown key in tool 't' config: timeout (known keys: description, task_class)"},
		{"class entry", "task_classes/all", v(map[string]any{"C": map[string]any{"timeout": 5, "descripton": "x"}}),
			"unknown key in task_class 'C' config: descripton (known keys: description, timeout)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do("PUT", "/api/config/"+tc.path, tc.body), 400, tc.msg)
			ns, key, _ := strings.Cut(tc.path, "/")
			dry := map[string]any{"value": map[string]any{ns: map[string]any{key: tc.body.(map[string]any)["value"]}}}
			wantError(t, e.do("POST", "/api/config/validate", dry), 400, tc.msg)
		})
	}
	if got := rows(); !reflect.DeepEqual(got, stored) {
		t.Errorf("refused writes changed the rows:\n%v\nwant\n%v", got, stored)
	}
	if after := e.ok(200, "GET", "/api/config", nil); !reflect.DeepEqual(after, before) {
		t.Errorf("refused writes changed the config:\n%v\nwant\n%v", after, before)
	}
	if logs := e.ok(200, "GET", "/api/audit?action_prefix=config.", nil)["logs"].([]any); len(logs) != 0 {
		t.Errorf("refused writes audited: %v", logs)
	}
}

// PUT replaces a structured row, as the original did; GET /api/config shows
// every key, a key the row leaves out (or sets to null) falling back to
// sparkq.yml, then the default, on its own — what the reaper follows. A
// partial queue_runner PUT used to make the other keys vanish from the view.
func TestQueueRunnerPartialPut(t *testing.T) {
	cfg := loadSettings(t, testYAML) // poll 12, auto-fail 45, no base_url
	e := newSeededEnv(t, daemonSeed(cfg), withSettings(cfg))
	put := func(value string) map[string]any {
		t.Helper()
		return field(t, e.ok(200, "PUT", "/api/config/queue_runner/config", `{"value": `+value+`}`), "config")
	}
	row := func() string {
		t.Helper()
		rows, err := e.store.ListConfig(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Namespace == "queue_runner" && r.Key == "config" {
				return string(r.Value)
			}
		}
		return ""
	}
	steps := []struct {
		name, value, row, view string
		sweep                  float64
	}{
		{"poll only", `{"poll_interval": 5}`, `{"poll_interval":5}`,
			`{"poll_interval": 5, "auto_fail_interval_seconds": 45, "base_url": null}`, 45},
		{"replaces, not merges", `{"auto_fail_interval_seconds": 60, "base_url": "http://127.0.0.1:5077"}`,
			`{"auto_fail_interval_seconds":60,"base_url":"http://127.0.0.1:5077"}`,
			`{"poll_interval": 12, "auto_fail_interval_seconds": 60, "base_url": "http://127.0.0.1:5077"}`, 60},
		{"null is unset", `{"poll_interval": null, "auto_fail_interval_seconds": 7, "base_url": null}`,
			`{"poll_interval":null,"auto_fail_interval_seconds":7,"base_url":null}`,
			`{"poll_interval": 12, "auto_fail_interval_seconds": 7, "base_url": null}`, 7},
		{"empty object", `{}`, `{}`,
			`{"poll_interval": 12, "auto_fail_interval_seconds": 45, "base_url": null}`, 45},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got := put(st.value)
			jsonEq(t, "queue_runner", got["queue_runner"], st.view)
			if sweep := got["stale_handling"].(map[string]any)["auto_fail_interval_seconds"]; sweep != st.sweep {
				t.Errorf("stale_handling.auto_fail_interval_seconds = %v, want %v", sweep, st.sweep)
			}
			if r := row(); r != st.row {
				t.Errorf("stored row %s, want %s", r, st.row)
			}
			jsonEq(t, "GET queue_runner", e.ok(200, "GET", "/api/config", nil)["queue_runner"], st.view)
		})
	}

	// Rows written before unknown keys were refused: the view leaves them
	// out, so reading the view and writing it back works.
	for _, legacy := range []struct{ ns, value, view string }{
		{"queue_runner", `{"poll_interval": 9, "lock_dir": "/tmp/x"}`, `{"poll_interval": 9, "auto_fail_interval_seconds": 45, "base_url": null}`},
		{"purge", `{"older_than_days": 4, "interval": "1s"}`, `{"older_than_days": 4}`},
	} {
		if err := e.store.PutConfig(context.Background(), legacy.ns, "config", json.RawMessage(legacy.value), "test"); err != nil {
			t.Fatal(err)
		}
		view := e.ok(200, "GET", "/api/config", nil)[legacy.ns]
		jsonEq(t, legacy.ns+" over a legacy row", view, legacy.view)
		e.ok(200, "PUT", "/api/config/"+legacy.ns+"/config", map[string]any{"value": view})
	}
}
