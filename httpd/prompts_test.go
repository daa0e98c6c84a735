package httpd_test

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

func TestPrompts(t *testing.T) {
	e := newEnv(t, nil)
	list := e.ok(200, "GET", "/api/prompts", nil)["prompts"].([]any)
	if len(list) != 31 {
		t.Fatalf("%d seeded prompts, want 31", len(list))
	}
	var commands []string
	for _, p := range list {
		m := p.(map[string]any)
		commands = append(commands, m["command"].(string))
		if _, ok := m["template_text"]; ok {
			t.Fatalf("list entry carries template_text: %v", m)
		}
		if m["active"] != 1.0 || m["category"] == nil {
			t.Fatalf("seeded prompt %v", m)
		}
	}
	if !sort.StringsAreSorted(commands) {
		t.Errorf("not ordered by command: %v", commands)
	}

	p := field(t, e.ok(201, "POST", "/api/prompts", map[string]any{"command": " my-cmd ", "label": " Mine ", "template_text": " Do it. ", "description": "d"}), "prompt")
	id := p["id"].(string)
	if p["command"] != "my-cmd" || p["label"] != "Mine" || p["template_text"] != "Do it." || p["description"] != "d" || p["active"] != 1.0 {
		t.Fatalf("created %v", p)
	}
	if got := field(t, e.ok(200, "GET", "/api/prompts/"+id, nil), "prompt"); got["template_text"] != "Do it." {
		t.Errorf("get %v", got)
	}
	p = field(t, e.ok(200, "PUT", "/api/prompts/"+id, map[string]any{"active": false, "description": nil, "label": nil}), "prompt")
	if p["active"] != 0.0 || p["description"] != nil || p["label"] != "Mine" {
		t.Fatalf("updated %v", p)
	}
	p = field(t, e.ok(200, "PUT", "/api/prompts/"+id, map[string]any{"active": 1, "command": "renamed"}), "prompt")
	if p["active"] != 1.0 || p["command"] != "renamed" {
		t.Fatalf("updated %v", p)
	}

	const missing = "prm_000000000000"
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		msg    string
	}{
		{"create no command", "POST", "/api/prompts", map[string]any{"label": "x", "template_text": "x"}, 400, "Command is required"},
		{"create blank label", "POST", "/api/prompts", map[string]any{"command": "x", "label": " ", "template_text": "x"}, 400, "Label is required"},
		{"create blank template", "POST", "/api/prompts", map[string]any{"command": "x", "label": "x", "template_text": ""}, 400, "Template text is required"},
		{"create bad command", "POST", "/api/prompts", map[string]any{"command": "Bad_Cmd", "label": "x", "template_text": "x"}, 400, "Command must match pattern ^[a-z0-9][a-z0-9-]*$"},
		{"create duplicate", "POST", "/api/prompts", map[string]any{"command": "fix", "label": "x", "template_text": "x"}, 409, "Prompt command 'fix' already exists"},
		{"create category", "POST", "/api/prompts", map[string]any{"command": "x", "label": "x", "template_text": "x", "category": "c"}, 400, "unknown field: category"},
		{"get missing", "GET", "/api/prompts/" + missing, nil, 404, "Prompt not found"},
		{"update nothing", "PUT", "/api/prompts/" + id, map[string]any{"command": nil}, 400, "No fields provided to update prompt"},
		{"update blank command", "PUT", "/api/prompts/" + id, map[string]any{"command": " "}, 400, "Command cannot be empty"},
		{"update blank label", "PUT", "/api/prompts/" + id, map[string]any{"label": ""}, 400, "Label cannot be empty"},
		{"update blank template", "PUT", "/api/prompts/" + id, map[string]any{"template_text": "\t"}, 400, "Template text cannot be empty"},
		{"update bad command", "PUT", "/api/prompts/" + id, map[string]any{"command": "-x"}, 400, "Command must match pattern ^[a-z0-9][a-z0-9-]*$"},
		{"update duplicate", "PUT", "/api/prompts/" + id, map[string]any{"command": "fix"}, 409, "Prompt command 'fix' already exists"},
		{"update active type", "PUT", "/api/prompts/" + id, map[string]any{"active": "yes"}, 400, "active must be a boolean"},
		{"update missing", "PUT", "/api/prompts/" + missing, map[string]any{"label": "x"}, 404, "Prompt " + missing + " not found"},
		{"delete missing", "DELETE", "/api/prompts/" + missing, nil, 404, "Prompt " + missing + " not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, e.do(tc.method, tc.path, tc.body), tc.status, tc.msg)
		})
	}
	if got := e.ok(200, "DELETE", "/api/prompts/"+id, nil); got["message"] != "Prompt deleted successfully" {
		t.Errorf("delete = %v", got)
	}
}

func TestBuildPrompts(t *testing.T) {
	cfg := loadSettings(t, "")
	dir := filepath.Join(cfg.Dir(), "_build", "prompts")
	for name, body := range map[string]string{"b.md": "B", "A.MD": "A", "notes.txt": "x", "sub/c.md": "C"} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o700)
		os.WriteFile(p, []byte(body), 0o600)
	}
	os.WriteFile(filepath.Join(cfg.Dir(), "secret.md"), []byte("secret"), 0o600)
	if err := os.Symlink(filepath.Join(cfg.Dir(), "secret.md"), filepath.Join(dir, "link.md")); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, withSettings(cfg))

	got := e.ok(200, "GET", "/api/build-prompts", nil)["prompts"].([]any)
	want := []any{
		map[string]any{"name": "A.MD", "path": "_build/prompts/A.MD"},
		map[string]any{"name": "b.md", "path": "_build/prompts/b.md"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("build-prompts = %v", got)
	}
	for _, src := range []string{"build", "FILE", "files"} {
		if got := e.ok(200, "GET", "/api/prompts?source="+src, nil)["prompts"].([]any); !reflect.DeepEqual(got, []any{"A.MD", "b.md"}) {
			t.Errorf("source=%s: %v", src, got)
		}
	}
	if got := e.ok(200, "GET", "/api/prompts/b.md", nil); got["content"] != "B" || got["filename"] != "b.md" {
		t.Errorf("file = %v", got)
	}
	if got := e.ok(200, "GET", "/api/prompts/A.MD?source=build", nil); got["content"] != "A" {
		t.Errorf("file = %v", got)
	}
	tests := []struct {
		path   string
		status int
		msg    string
	}{
		{"/api/prompts/nope.md?source=build", 404, "Prompt file not found"},
		{"/api/prompts/notes.txt?source=file", 404, "Prompt file not found"},
		{"/api/prompts/..%5Csecret.md?source=build", 404, "Prompt file not found"},
		{"/api/prompts/link.md?source=build", 404, "Prompt file not found"}, // symlink out of the folder
		{"/api/prompts/..?source=build", 404, "Prompt file not found"},
		// Without an explicit source a missing file falls back to the database.
		{"/api/prompts/nope.md", 404, "Prompt not found"},
		{"/api/prompts/link.md", 404, "Prompt not found"},
	}
	for _, tc := range tests {
		wantError(t, e.do("GET", tc.path, nil), tc.status, tc.msg)
	}

	// No folder, or no settings at all: empty lists.
	for _, e := range []*env{newEnv(t, withSettings(loadSettings(t, ""))), newEnv(t, nil)} {
		if got := e.ok(200, "GET", "/api/build-prompts", nil)["prompts"].([]any); len(got) != 0 {
			t.Errorf("build-prompts = %v", got)
		}
		if got := e.ok(200, "GET", "/api/prompts?source=build", nil)["prompts"].([]any); len(got) != 0 {
			t.Errorf("source=build = %v", got)
		}
	}
}
