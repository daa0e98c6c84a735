package httpd_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func payloadOf(t *testing.T, task map[string]any) map[string]any {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal([]byte(task["payload"].(string)), &p); err != nil {
		t.Fatalf("payload %v: %v", task["payload"], err)
	}
	return p
}

func TestQuickAddLLM(t *testing.T) {
	e := newEnv(t, nil)
	sid := e.session("s1")
	qid := field(t, e.ok(201, "POST", "/api/queues", map[string]any{
		"session_id": sid, "name": "Back End", "instructions": "  Answer briefly.  ", "default_agent_role_key": "python_engineer",
	}), "queue")["id"].(string)
	plain := e.queue(sid, "plain")

	got := e.ok(200, "POST", "/api/tasks/quick-add", map[string]any{"queue_id": qid, "mode": "llm", "prompt": "  Fix the bug  "})
	task := field(t, got, "task")
	id := got["task_id"].(string)
	if got["tool"] != "llm-haiku" || got["task_class"] != "LLM_LITE" || got["timeout"] != 480.0 ||
		got["friendly_id"] != "BACK END-"+id[len(id)-4:] || task["id"] != id || task["status"] != "queued" {
		t.Fatalf("quick-add = %v", got)
	}
	role := field(t, e.ok(200, "GET", "/api/queues/"+qid, nil), "queue")["default_agent_role_key"]
	if role != "python_engineer" || task["agent_role_key"] != "python_engineer" || task["agent_role_label"] != "Python Engineer" {
		t.Errorf("role on task: %v", task)
	}
	p := payloadOf(t, task)
	desc := p["agent_role_description"].(string)
	if p["prompt"] != desc+"\n\nAnswer briefly.\n\nFix the bug" || p["raw_prompt"] != "Fix the bug" || p["mode"] != "chat" ||
		p["queue_instructions"] != "Answer briefly." || p["agent_role_key"] != "python_engineer" || !strings.HasPrefix(desc, "You are acting as") {
		t.Errorf("payload = %v", p)
	}
	if !strings.HasPrefix(task["payload"].(string), `{"prompt":`) {
		t.Errorf("payload key order: %s", task["payload"])
	}

	// 50 words: the large model; an explicit override role; no instructions.
	long := strings.TrimSpace(strings.Repeat("word ", 50))
	got = e.ok(200, "POST", "/api/tasks/quick-add", map[string]any{"queue_id": plain, "mode": "llm", "prompt": long, "agent_role_key": "qa_strategist"})
	p = payloadOf(t, field(t, got, "task"))
	if got["tool"] != "llm-sonnet" || got["task_class"] != "LLM_HEAVY" || got["timeout"] != 1200.0 || p["agent_role_key"] != "qa_strategist" {
		t.Errorf("long prompt = %v", got)
	}
	if _, ok := p["queue_instructions"]; ok {
		t.Errorf("empty instructions in payload: %v", p)
	}
	// A named tool brings its own class; a blank override uses the default.
	got = e.ok(200, "POST", "/api/tasks/quick-add", map[string]any{"queue_id": qid, "mode": "llm", "prompt": "x", "tool_name": "llm-codex", "agent_role_key": " "})
	if got["tool"] != "llm-codex" || got["task_class"] != "LLM_HEAVY" || payloadOf(t, field(t, got, "task"))["agent_role_key"] != "python_engineer" {
		t.Errorf("named tool = %v", got)
	}
	got = e.ok(200, "POST", "/api/tasks/quick-add", map[string]any{"queue_id": plain, "mode": "llm", "prompt": "just this"})
	if p := payloadOf(t, field(t, got, "task")); p["prompt"] != "just this" || len(p) != 3 {
		t.Errorf("bare payload = %v", p)
	}

	e.ok(200, "POST", "/api/agent-roles", map[string]any{"key": "off", "label": "Off", "description": "x", "active": false})
	tests := []struct {
		name   string
		body   any
		status int
		msg    string
	}{
		{"unknown queue", map[string]any{"queue_id": "que_000000000000", "mode": "llm", "prompt": "x"}, 404, "Queue not found: que_000000000000"},
		{"no queue", map[string]any{"mode": "llm", "prompt": "x"}, 400, "queue_id is required"},
		{"no mode", map[string]any{"queue_id": qid, "prompt": "x"}, 400, "mode is required"},
		{"bad mode", map[string]any{"queue_id": qid, "mode": "LLM", "prompt": "x"}, 400, "Mode must be 'llm' or 'script'"},
		{"no prompt", map[string]any{"queue_id": qid, "mode": "llm"}, 400, "Prompt required for LLM mode"},
		{"empty prompt", map[string]any{"queue_id": qid, "mode": "llm", "prompt": ""}, 400, "Prompt required for LLM mode"},
		{"blank prompt", map[string]any{"queue_id": qid, "mode": "llm", "prompt": " \n "}, 400, "Prompt must not be empty or whitespace"},
		{"unknown role", map[string]any{"queue_id": qid, "mode": "llm", "prompt": "x", "agent_role_key": "nobody"}, 400, "Agent role not found: nobody"},
		{"inactive role", map[string]any{"queue_id": qid, "mode": "llm", "prompt": "x", "agent_role_key": "off"}, 400, "Agent role 'off' is not active"},
		{"unknown tool", map[string]any{"queue_id": qid, "mode": "llm", "prompt": "x", "tool_name": "gpt"}, 400, `unknown tool "gpt"…`},
		{"prompt not string", map[string]any{"queue_id": qid, "mode": "llm", "prompt": 5}, 400, "prompt must be a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do("POST", "/api/tasks/quick-add", tc.body), tc.status, tc.msg)
		})
	}

	// An inactive default role still applies (the queue chose it).
	e.ok(200, "PUT", "/api/agent-roles/python_engineer", map[string]any{"active": false})
	got = e.ok(200, "POST", "/api/tasks/quick-add", map[string]any{"queue_id": qid, "mode": "llm", "prompt": "x"})
	if payloadOf(t, field(t, got, "task"))["agent_role_key"] != "python_engineer" {
		t.Errorf("inactive default dropped: %v", got)
	}
	// GAP 32: a default role that no longer exists (a row from before roles
	// were protected) is ignored and the task is still created.
	sqlExec(t, e, `UPDATE queues SET default_agent_role_key = 'ghost' WHERE id = ?`, qid)
	got = e.ok(200, "POST", "/api/tasks/quick-add", map[string]any{"queue_id": qid, "mode": "llm", "prompt": "x"})
	if p := payloadOf(t, field(t, got, "task")); p["agent_role_key"] != nil || p["prompt"] != "Answer briefly.\n\nx" {
		t.Errorf("dangling default = %v", p)
	}
	// GET /api/tasks/quick-add is not an unknown task but a POST-only path
	// (TestPostOnlyTaskPaths).
	r := e.do("GET", "/api/tasks/quick-add", nil)
	wantError(t, r, 405, "Method not allowed: GET /api/tasks/quick-add")
	if allow := r.header.Get("Allow"); allow != "OPTIONS, POST" {
		t.Errorf("Allow %q, want OPTIONS, POST", allow)
	}
}

func TestQuickAddScript(t *testing.T) {
	cfg := loadSettings(t, "script_dirs: [scripts, more]\n")
	dir, outside := cfg.ScriptDirs[0], filepath.Join(cfg.Dir(), "outside")
	files := map[string]string{
		filepath.Join(dir, "deploy.sh"):          "#!/bin/sh\necho\n",
		filepath.Join(dir, "tools", "check.py"):  "# timeout: 42\n# task_class: FAST_SCRIPT\n",
		filepath.Join(dir, "weird.sh"):           "# task_class: NOPE\n",
		filepath.Join(outside, "evil.sh"):        "",
		filepath.Join(cfg.Dir(), "more", "x.sh"): "# timeout: -5\n",
	}
	for p, body := range files {
		os.MkdirAll(filepath.Dir(p), 0o700)
		os.WriteFile(p, []byte(body), 0o700)
	}
	os.Symlink(filepath.Join(outside, "evil.sh"), filepath.Join(dir, "evil.sh"))
	e := newEnv(t, withSettings(cfg))
	sid := e.session("s1")
	qid := field(t, e.ok(201, "POST", "/api/queues", map[string]any{"session_id": sid, "name": "q", "default_agent_role_key": "python_engineer"}), "queue")["id"].(string)

	add := func(body map[string]any) map[string]any {
		t.Helper()
		body["queue_id"], body["mode"] = qid, "script"
		return e.ok(200, "POST", "/api/tasks/quick-add", body)
	}
	got := add(map[string]any{"script_path": " deploy.sh ", "script_args": `--env prod 'two words' "say \"hi\"" a\ b ""`})
	p := payloadOf(t, field(t, got, "task"))
	if got["tool"] != "run-bash" || got["task_class"] != "MEDIUM_SCRIPT" || got["timeout"] != 600.0 {
		t.Errorf("script = %v", got)
	}
	wantArgs := []any{"--env", "prod", "two words", `say "hi"`, "a b", ""}
	if p["script_path"] != filepath.Join(dir, "deploy.sh") || !reflect.DeepEqual(p["args"], wantArgs) || len(p) != 2 {
		t.Errorf("payload = %v", p)
	}
	if task := field(t, got, "task"); task["agent_role_key"] != nil {
		t.Errorf("role applied to a script: %v", task)
	}
	// GAP 55: the header's timeout and class are used; .py runs python.
	got = add(map[string]any{"script_path": filepath.Join(dir, "tools", "check.py")})
	if got["tool"] != "run-python" || got["task_class"] != "FAST_SCRIPT" || got["timeout"] != 42.0 {
		t.Errorf("header = %v", got)
	}
	if args := payloadOf(t, field(t, got, "task"))["args"]; !reflect.DeepEqual(args, []any{}) {
		t.Errorf("args = %v", args)
	}
	// A non-positive header timeout is ignored; the second dir is searched.
	if got = add(map[string]any{"script_path": "x.sh"}); got["timeout"] != 600.0 {
		t.Errorf("bad header timeout = %v", got)
	}

	dirs := dir + ", " + filepath.Join(cfg.Dir(), "more")
	tests := []struct {
		name string
		body map[string]any
		msg  string
	}{
		{"no path", map[string]any{}, "Script path required for script mode"},
		{"blank path", map[string]any{"script_path": "  "}, "Script path must not be empty or whitespace"},
		// GAP 7: only files inside script_dirs.
		{"outside", map[string]any{"script_path": filepath.Join(outside, "evil.sh")}, "script_path " + filepath.Join(outside, "evil.sh") + " is outside the configured script_dirs: " + dirs},
		{"dot-dot", map[string]any{"script_path": "../outside/evil.sh"}, "script_path ../outside/evil.sh is outside the configured script_dirs: " + dirs},
		{"symlink out", map[string]any{"script_path": "evil.sh"}, "script_path evil.sh is outside…"},
		{"system file", map[string]any{"script_path": "/etc/passwd"}, "script_path /etc/passwd is outside…"},
		{"missing", map[string]any{"script_path": "nope.sh"}, "script_path nope.sh was not found in the configured script_dirs: " + dirs},
		{"open quote", map[string]any{"script_path": "deploy.sh", "script_args": `'oops`}, "script_args: unterminated ' quote"},
		{"open double quote", map[string]any{"script_path": "deploy.sh", "script_args": `"oops`}, `script_args: unterminated " quote`},
		{"trailing backslash", map[string]any{"script_path": "deploy.sh", "script_args": `a\`}, "script_args: trailing backslash"},
		{"unknown header class", map[string]any{"script_path": "weird.sh"}, `the script header's task_class "NOPE" is not a known task class…`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.body["queue_id"], tc.body["mode"] = qid, "script"
			wantError(t, e.do("POST", "/api/tasks/quick-add", tc.body), 400, tc.msg)
		})
	}

	noDirs := newEnv(t, nil)
	_, q2 := noDirs.fixture()
	wantError(t, noDirs.do("POST", "/api/tasks/quick-add", map[string]any{"queue_id": q2, "mode": "script", "script_path": "a.sh"}),
		400, "No script_dirs are configured: add the folder holding a.sh to script_dirs in sparkq.yml")
}

func TestScriptsIndex(t *testing.T) {
	cfg := loadSettings(t, "script_dirs: scripts\n")
	dir := cfg.ScriptDirs[0]
	os.MkdirAll(filepath.Join(dir, ".git"), 0o700)
	os.WriteFile(filepath.Join(dir, ".git", "hook.sh"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, "run.sh"), []byte("# name: runner\n# inputs: a (required), b\n# timeout: 9\n"), 0o600)
	e := newEnv(t, withSettings(cfg))
	got := e.array("/api/scripts/index")
	want := []map[string]any{{
		"path": filepath.Join(dir, "run.sh"), "name": "runner", "description": nil,
		"inputs":  []any{map[string]any{"name": "a", "required": true, "optional": false}, map[string]any{"name": "b", "required": false, "optional": false}},
		"outputs": nil, "tags": []any{}, "timeout": 9.0, "task_class": nil,
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("index = %v", got)
	}
	// No dirs: an empty array, not null.
	if got := newEnv(t, nil).array("/api/scripts/index"); got == nil || len(got) != 0 {
		t.Errorf("no dirs = %v", got)
	}
}
