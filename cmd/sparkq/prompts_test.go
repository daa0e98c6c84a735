package main

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/sparkq/sparkq/store"
)

// TestPromptsListJSON: `prompts list --json` carries every prompt in full,
// template text included (it printed "template_text": "" because the list
// endpoint leaves the text out), in the list's order and with the same
// objects as `prompts show --json`.
func TestPromptsListJSON(t *testing.T) {
	t.Parallel()
	f := startDaemon(t)
	f.ok("prompts", "add", "zz-multi", "--label", "Multi", "--text", "Line one {{x}}\nline two.\n", "--description", "d")

	var raw []map[string]json.RawMessage
	f.json(&raw, "prompts", "list")
	var list []store.Prompt
	f.json(&list, "prompts", "list")
	if len(list) < 2 || len(raw) != len(list) {
		t.Fatalf("%d prompts listed", len(list))
	}
	for i, p := range list {
		if _, ok := raw[i]["template_text"]; !ok || p.TemplateText == "" {
			t.Errorf("prompt >%s: no template text in the JSON list: %s", p.Command, raw[i]["template_text"])
		}
		if i > 0 && list[i-1].Command > p.Command {
			t.Errorf("not ordered by command: %s before %s", list[i-1].Command, p.Command)
		}
	}
	last := list[len(list)-1]
	var shown store.Prompt
	f.json(&shown, "prompts", "show", "zz-multi")
	if last.Command != "zz-multi" || last.TemplateText != "Line one {{x}}\nline two." || !reflect.DeepEqual(last, shown) {
		t.Errorf("listed %+v\nshown  %+v", last, shown)
	}
}
