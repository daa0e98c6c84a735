package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sparkq/sparkq/daemon/config"
	"github.com/sparkq/sparkq/daemon/scripts"
	"github.com/sparkq/sparkq/store"
)

// api calls the fixture daemon's HTTP API and decodes a JSON answer into
// out (when not nil); the status must be 2xx.
func (f *fixture) api(method, path string, body any, out any) {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, fmt.Sprintf("http://127.0.0.1:%d%s", f.port, path), rd)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		f.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			f.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
}

// registry is what a daemon's /api/tools, /api/task-classes and the
// database-backed sections of /api/config say, without timestamps.
type registry struct {
	Tools   map[string][2]string // name -> class, description
	Classes map[string]string    // name -> "timeout description"
	Config  map[string]json.RawMessage
}

func (f *fixture) registry() registry {
	f.t.Helper()
	var tools struct{ Tools []store.Tool }
	var classes struct {
		TaskClasses []store.TaskClass `json:"task_classes"`
	}
	var cfg map[string]json.RawMessage
	f.api("GET", "/api/tools", nil, &tools)
	f.api("GET", "/api/task-classes", nil, &classes)
	f.api("GET", "/api/config", nil, &cfg)
	r := registry{Tools: map[string][2]string{}, Classes: map[string]string{}, Config: map[string]json.RawMessage{}}
	for _, t := range tools.Tools {
		r.Tools[t.Name] = [2]string{t.TaskClass, deref(t.Description)}
	}
	for _, c := range classes.TaskClasses {
		r.Classes[c.Name] = fmt.Sprintf("%d %s", c.Timeout, deref(c.Description))
	}
	for _, k := range []string{"purge", "queue_runner", "features", "defaults"} {
		var v any
		json.Unmarshal(cfg[k], &v)
		r.Config[k], _ = json.Marshal(v) // canonical: keys sorted
	}
	return r
}

// TestConfigExportRoundTrip: the database-backed configuration of one
// installation, edited through the API, exported with config-export and
// used as the sparkq.yml of a fresh installation (sparkq setup --config),
// gives the new daemon the same tools, task classes and settings.
func TestConfigExportRoundTrip(t *testing.T) {
	t.Parallel()
	f := startDaemon(t)
	f.api("POST", "/api/task-classes", map[string]any{"name": "CUSTOM", "timeout": 77, "description": "Custom: with a colon"}, nil)
	f.api("POST", "/api/task-classes", map[string]any{"name": "123", "timeout": 5}, nil)
	f.api("POST", "/api/tools", map[string]any{"name": "my-tool", "task_class": "CUSTOM", "description": "true"}, nil)
	f.api("POST", "/api/tools", map[string]any{"name": "null", "task_class": "123"}, nil)
	f.api("PUT", "/api/tools/run-bash", map[string]any{"task_class": "FAST_SCRIPT", "description": "Bash, but quick"}, nil)
	f.api("DELETE", "/api/tools/llm-codex", nil, nil)
	f.api("PUT", "/api/task-classes/LLM_HEAVY", map[string]any{"timeout": 1500, "description": nil}, nil)
	f.api("PUT", "/api/config/purge/config", map[string]any{"value": map[string]any{"older_than_days": 11}}, nil)
	f.api("PUT", "/api/config/queue_runner/config", map[string]any{"value": map[string]any{
		"poll_interval": 7, "auto_fail_interval_seconds": 13, "base_url": "http://127.0.0.1:9"}}, nil)
	f.api("PUT", "/api/config/features/flags", map[string]any{"value": map[string]any{"beta": true, "n": 2, "list": []any{"a", 1.5}}}, nil)
	f.api("PUT", "/api/config/defaults/queue", map[string]any{"value": map[string]any{"instructions": "Be brief"}}, nil)
	f.api("PUT", "/api/config/defaults/model", map[string]any{"value": "llm-haiku"}, nil)
	want := f.registry()

	out := filepath.Join(t.TempDir(), "exported.yml")
	if got := f.ok("config-export", "--output", out); got != "Wrote config to "+out+"\n" {
		t.Fatalf("config-export --output printed %q", got)
	}
	exported, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if stdout := f.ok("config-export"); stdout != string(exported) {
		t.Fatalf("stdout and --output differ:\n%s\n---\n%s", stdout, exported)
	}
	if r := f.run("config-export", "-o", out); r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("config-export over an existing file:\n%s", r)
	}
	f.ok("config-export", "-o", out, "--force")
	if _, warns, err := config.Load(out); err != nil || len(warns) > 0 {
		t.Fatalf("exported file does not load cleanly: %v %v\n%s", err, warns, exported)
	}

	// A fresh installation whose sparkq.yml is the export.
	dir := t.TempDir()
	fresh := filepath.Join(dir, "sparkq.yml")
	writeFile(t, fresh, string(exported))
	r := runIn(t, dir, env(dir), "", "setup", "--config", fresh)
	if r.code != 0 || !strings.Contains(r.stdout, "Keeping existing "+fresh) {
		t.Fatalf("setup --config with the export:\n%s", r)
	}
	g := &fixture{t: t, dir: dir, cfg: fresh, port: freePort(t)}
	if r := g.run("start", "--wait", "60s", "--port", fmt.Sprint(g.port)); r.code != 0 {
		t.Fatalf("start the fresh installation:\n%s", r)
	}
	t.Cleanup(func() { g.run("stop", "--wait", "30s") })
	if got := g.registry(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after the round trip:\n%+v\nwant\n%+v\nexport:\n%s", got, want, exported)
	}
	for _, c := range []string{"CUSTOM", "123"} {
		if _, ok := want.Classes[c]; !ok {
			t.Fatalf("class %s missing from %v", c, want.Classes)
		}
	}
}

// TestPurgeCommand: --older-than and its alias --older-than-days, --dry-run,
// and the daemon's retention (database over sparkq.yml) as the default.
func TestPurgeCommand(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	yml, _ := os.ReadFile(f.cfg)
	writeFile(t, f.cfg, string(yml)+"purge:\n  older_than_days: 4\n")
	f.start()
	f.ok("session", "create", "s")
	f.ok("queue", "create", "q", "--session", "s")
	var task store.Task
	f.json(&task, "enqueue", "--queue", "q", "--tool", "run-bash", "--prompt", "x")
	// The hint names the flag the README and the worker use.
	if out := f.ok("claim", "--queue", "q"); !strings.Contains(out, "Finish with: sparkq complete "+task.ID+" --summary ") {
		t.Fatalf("claim's hint should suggest complete --summary:\n%s", out)
	}
	f.ok("complete", task.ID, "--result", "done")

	if out := f.ok("purge", "--dry-run"); out != "Would delete 0 finished tasks older than 4 day(s) (dry run: nothing was deleted)\n" {
		t.Fatalf("purge --dry-run: %q", out)
	}
	f.api("PUT", "/api/config/purge/config", map[string]any{"value": map[string]any{"older_than_days": 9}}, nil)
	var res map[string]any
	f.json(&res, "purge", "--dry-run")
	if fmt.Sprint(res) != "map[dry_run:true older_than_days:9 would_delete:0]" {
		t.Fatalf("purge --dry-run --json after PUT: %v", res)
	}
	for _, flag := range []string{"--older-than", "--older-than-days"} {
		res = nil
		f.json(&res, "purge", flag, "2")
		if fmt.Sprint(res) != "map[deleted:0 dry_run:false older_than_days:2]" {
			t.Fatalf("purge %s 2: %v", flag, res)
		}
		if r := f.run("purge", flag, "0"); r.code != 2 || !strings.Contains(r.stderr, flag+" must be greater than 0") {
			t.Fatalf("purge %s 0:\n%s", flag, r)
		}
	}
	// The young finished task is still there.
	if got := f.ok("task", task.ID); !strings.Contains(got, task.ID) {
		t.Fatalf("task after purges:\n%s", got)
	}
}

// TestScriptsCommands: the daemon's index through the CLI; a symlink that
// leads out of the script dirs is never listed.
func TestScriptsCommands(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	yml, _ := os.ReadFile(f.cfg)
	writeFile(t, f.cfg, string(yml)+"script_dirs: [scripts]\n")
	writeFile := func(t *testing.T, path, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(f.dir, "scripts", "lint.sh"), "#!/bin/sh\n# name: lint\n# description: Lints the code\n# tags: ci, style\n")
	writeFile(t, filepath.Join(f.dir, "scripts", "sub", "report.py"), "# description: Coverage report\n# tags: ci\n")
	writeFile(t, filepath.Join(f.dir, "scripts", "bare.rb"), "puts 1\n")
	writeFile(t, filepath.Join(f.dir, "outside", "secret.sh"), "# name: secret\n")
	if err := os.Symlink(filepath.Join(f.dir, "outside", "secret.sh"), filepath.Join(f.dir, "scripts", "escape.sh")); err != nil {
		t.Fatal(err)
	}
	f.start()

	want := "Scripts (3 total):\n" +
		"  bare                           —\n" +
		"  lint                           Lints the code                 ci, style\n" +
		"  report                         Coverage report                ci\n"
	if out := f.ok("scripts", "list"); out != want {
		t.Fatalf("scripts list:\n%s\nwant:\n%s", out, want)
	}
	var list []scripts.Script
	f.json(&list, "scripts", "list")
	if len(list) != 3 || list[1].Path != filepath.Join(f.dir, "scripts", "lint.sh") || strings.Join(list[1].Tags, ",") != "ci,style" {
		t.Fatalf("scripts list --json: %+v", list)
	}
	if out := f.ok("scripts", "search", "CI"); !strings.HasPrefix(out, "Search results for 'CI' (2 matches):\n") || strings.Contains(out, "bare") {
		t.Fatalf("scripts search CI:\n%s", out)
	}
	if out := f.ok("scripts", "search", "style"); !strings.HasPrefix(out, "Search results for 'style' (1 match):\n  lint") {
		t.Fatalf("scripts search style:\n%s", out)
	}
	if out := f.ok("scripts", "search", "secret"); out != "No scripts found matching 'secret'.\n" {
		t.Fatalf("scripts search secret: %q", out)
	}

	// quick-add runs only scripts inside the dirs.
	f.ok("session", "create", "s")
	f.ok("queue", "create", "q", "--session", "s")
	var task store.Task
	f.json(&task, "quick-add", "--queue", "q", "--script", "lint.sh", "--args", "--fix 'a b'")
	if task.ToolName != "run-bash" || !strings.Contains(task.Payload, filepath.Join(f.dir, "scripts", "lint.sh")) ||
		!strings.Contains(task.Payload, `"a b"`) {
		t.Fatalf("quick-add --script: %+v", task)
	}
	if r := f.run("quick-add", "--queue", "q", "--script", "escape.sh"); r.code != 1 || !strings.Contains(r.stderr, "Error: ") {
		t.Fatalf("quick-add of an escaping symlink:\n%s", r)
	}
	out := f.ok("quick-add", "--queue", "q", "--prompt", "Summarise the README")
	if !strings.Contains(out, "enqueued to queue 'q': llm-haiku, LLM_LITE") {
		t.Fatalf("quick-add --prompt: %q", out)
	}
	if r := f.run("quick-add", "--queue", "q"); r.code != 2 {
		t.Fatalf("quick-add without --prompt or --script:\n%s", r)
	}
}

// TestPromptsCommands: add, list, show (by command or id), rm.
func TestPromptsCommands(t *testing.T) {
	t.Parallel()
	f := startDaemon(t)
	out := f.ok("prompts", "add", "my-check", "--label", "My check", "--text", "Check {{thing}}\ncarefully.", "--description", "Mine")
	if !strings.HasPrefix(out, "Prompt >my-check added (prm_") {
		t.Fatalf("prompts add: %q", out)
	}
	if r := f.run("prompts", "add", "my-check", "--label", "Again", "--text", "x"); r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("duplicate prompts add:\n%s", r)
	}
	if r := f.run("prompts", "add", "Bad Command", "--label", "x", "--text", "x"); r.code != 1 || !strings.Contains(r.stderr, "Command must match") {
		t.Fatalf("prompts add with a bad command:\n%s", r)
	}
	if r := f.run("prompts", "add", "x"); r.code != 2 {
		t.Fatalf("prompts add without --label:\n%s", r)
	}
	list := f.ok("prompts", "list")
	if !strings.Contains(list, "my-check") || !strings.Contains(list, "My check") {
		t.Fatalf("prompts list:\n%s", list)
	}
	if got := f.ok("prompts", "show", ">my-check"); got != "# >my-check: My check (Mine)\nCheck {{thing}}\ncarefully.\n" {
		t.Fatalf("prompts show: %q", got)
	}
	var p store.Prompt
	f.json(&p, "prompts", "show", "my-check")
	if p.TemplateText != "Check {{thing}}\ncarefully." || !bool(p.Active) {
		t.Fatalf("prompts show --json: %+v", p)
	}
	var byID store.Prompt
	f.json(&byID, "prompts", "show", p.ID)
	if byID.ID != p.ID {
		t.Fatalf("prompts show ID: %+v", byID)
	}
	if out := f.ok("prompts", "rm", p.ID); out != "Prompt >my-check deleted ("+p.ID+")\n" {
		t.Fatalf("prompts rm: %q", out)
	}
	if r := f.run("prompts", "show", "my-check"); r.code != 1 || !strings.Contains(r.stderr, "Prompt not found: my-check") {
		t.Fatalf("prompts show after rm:\n%s", r)
	}
}

// TestReloadCommand: a good file applies; a broken one is refused with
// file:line (by the CLI, or by the daemon when the socket is named) and the
// daemon keeps serving its previous configuration.
func TestReloadCommand(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	base, _ := os.ReadFile(f.cfg)
	for _, s := range []string{"one/a.sh", "two/b.sh"} {
		p := filepath.Join(f.dir, s)
		os.MkdirAll(filepath.Dir(p), 0o700)
		writeFile(t, p, "# tags: x\n")
	}
	writeFile(t, f.cfg, string(base)+"script_dirs: [one]\n")
	f.start()
	if out := f.ok("scripts", "list"); !strings.Contains(out, "  a ") {
		t.Fatalf("before reload:\n%s", out)
	}
	writeFile(t, f.cfg, string(base)+"script_dirs: [two]\n")
	if out := f.ok("reload"); out != "Configuration reloaded\n" {
		t.Fatalf("reload: %q", out)
	}
	if out := f.ok("scripts", "list"); !strings.Contains(out, "  b ") || strings.Contains(out, "  a ") {
		t.Fatalf("after reload:\n%s", out)
	}

	line := strings.Count(string(base), "\n") + 2
	writeFile(t, f.cfg, string(base)+"script_dirs: [one]\npurge:\n  older_than_days: soon\n")
	r := f.run("reload")
	if want := fmt.Sprintf("%s:%d: purge.older_than_days", f.cfg, line+1); r.code != 1 || !strings.Contains(r.stderr, want) ||
		!strings.Contains(r.stderr, "keeps its current") {
		t.Fatalf("reload of a broken file, want %q:\n%s", want, r)
	}
	sock := filepath.Join(f.dir, "data", "sparkq.sock")
	r = f.run("reload", "--socket", sock)
	if want := fmt.Sprintf("reload failed, configuration unchanged: %s:%d:", f.cfg, line+1); r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Fatalf("reload of a broken file through the socket, want %q:\n%s", want, r)
	}
	if out := f.ok("scripts", "list", "--socket", sock); !strings.Contains(out, "  b ") {
		t.Fatalf("after refused reloads:\n%s", out)
	}
	writeFile(t, f.cfg, string(base)+"script_dirs: [two]\n") // lets the cleanup's stop read it
}

// TestScriptsListSaysWhere: an empty list names the script_dirs searched
// and which of them do not exist, the usual reason for finding nothing.
func TestScriptsListSaysWhere(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "")
	base, _ := os.ReadFile(f.cfg)
	os.MkdirAll(filepath.Join(f.dir, "empty"), 0o700)
	writeFile(t, f.cfg, string(base)+"script_dirs: [empty, missing]\n")
	f.start()
	want := fmt.Sprintf("No scripts found. Looked in script_dirs: %s, %s (does not exist)\n",
		filepath.Join(f.dir, "empty"), filepath.Join(f.dir, "missing"))
	if out := f.ok("scripts", "list"); out != want {
		t.Fatalf("scripts list: got %q, want %q", out, want)
	}
}
