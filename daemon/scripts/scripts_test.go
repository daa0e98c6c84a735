package scripts

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseHeader(t *testing.T) {
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	tests := []struct {
		name string
		text string
		want Header
	}{
		{
			name: "spec example",
			text: `#!/usr/bin/env python3
# name: run-tests
# description: Runs the test suite with coverage.
#              Writes an HTML report.
# inputs: test_pattern (optional), min_coverage (optional)
# outputs: coverage_percent, report_path (required)
# tags: test, ci
# timeout: 300
# task_class: MEDIUM_SCRIPT
import sys
# name: ignored after code
`,
			want: Header{
				Name: str("run-tests"), Description: str("Runs the test suite with coverage. Writes an HTML report."),
				Inputs:  []Param{{Name: "test_pattern", Optional: true}, {Name: "min_coverage", Optional: true}},
				Outputs: []Param{{Name: "coverage_percent"}, {Name: "report_path", Required: true}},
				Tags:    []string{"test", "ci"}, Timeout: num(300), TaskClass: str("MEDIUM_SCRIPT"),
			},
		},
		{
			// GAP 54: the colon in a continuation line used to start a bogus
			// key "writes an html report" and drop the rest.
			name: "colon in continuation",
			text: "# description: Builds the site.\n# Writes an HTML report: see docs/report.md\n#   Note: slow on CI\n# tags: web\n",
			want: Header{Description: str("Builds the site. Writes an HTML report: see docs/report.md Note: slow on CI"), Tags: []string{"web"}},
		},
		{
			name: "url in continuation",
			text: "// description: Fetches\n// http://example.com/data\n",
			want: Header{Description: str("Fetches http://example.com/data"), Tags: []string{}},
		},
		{
			// An undeclared key written like a key still ends the current one.
			name: "unknown key ends value",
			text: "# description: Deploys.\n# Usage: deploy.sh ENV\n#   ENV is prod or dev\n# name: deploy\n",
			want: Header{Name: str("deploy"), Description: str("Deploys."), Tags: []string{}},
		},
		{
			name: "bad values",
			text: "#\n# Timeout: soon\n# TASK_CLASS: WEIRD\n# inputs:\n# tags: , ,\n\n# description:\n",
			want: Header{TaskClass: str("WEIRD"), Tags: []string{},
				Warnings: []string{"timeout is not an integer: soon", "task_class WEIRD is not a built-in class"}},
		},
		{
			name: "no header",
			text: "echo hi\n# name: not a header\n",
			want: Header{Tags: []string{}},
		},
		{
			name: "invalid utf-8 dropped",
			text: "# name: caf\xe9\n",
			want: Header{Name: str("caf"), Tags: []string{}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseHeader(strings.NewReader(tc.text))
			if !reflect.DeepEqual(got, tc.want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(tc.want)
				t.Errorf("got  %s\nwant %s", g, w)
			}
		})
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func names(list []Script) []string {
	out := []string{}
	for _, s := range list {
		out = append(out, s.Name)
	}
	return out
}

func TestScan(t *testing.T) {
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir, other, outside := filepath.Join(base, "scripts"), filepath.Join(base, "more"), filepath.Join(base, "outside")
	write(t, filepath.Join(dir, "a.sh"), "# name: alpha\n# description: first\necho\n")
	write(t, filepath.Join(dir, "b.PY"), "print()\n")
	write(t, filepath.Join(dir, "noext"), "#!/bin/sh\n# tags: x\n")
	write(t, filepath.Join(dir, "binary"), "\x7fELF")
	write(t, filepath.Join(dir, "notes.txt"), "# name: no\n")
	write(t, filepath.Join(dir, ".hidden.sh"), "")
	write(t, filepath.Join(dir, ".git", "hooks", "pre-commit.sh"), "")
	write(t, filepath.Join(dir, "node_modules", "m.js"), "")
	write(t, filepath.Join(dir, "sub", "c.rb"), "")
	write(t, filepath.Join(other, "d.pl"), "")
	write(t, filepath.Join(outside, "secret.sh"), "# name: secret\n")
	if err := os.Symlink(filepath.Join(outside, "secret.sh"), filepath.Join(dir, "escape.sh")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(other, "d.pl"), filepath.Join(dir, "link.pl")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "outdir")); err != nil {
		t.Fatal(err)
	}

	got := Scan([]string{dir, filepath.Join(base, "missing"), other})
	// d.pl is reached first through the symlink inside dir (its target is
	// inside a configured dir), then not listed again.
	if want := []string{"alpha", "b", "d", "noext", "c"}; !reflect.DeepEqual(names(got), want) {
		t.Fatalf("scanned %v, want %v", names(got), want)
	}
	if got[0].Path != filepath.Join(dir, "a.sh") || *got[0].Description != "first" || got[0].Inputs != nil {
		t.Errorf("entry = %+v", got[0])
	}
	if got[2].Path != filepath.Join(other, "d.pl") {
		t.Errorf("symlink path = %s, want its target", got[2].Path)
	}
	b, _ := json.Marshal(got[1])
	if string(b) != `{"path":"`+filepath.Join(dir, "b.PY")+`","name":"b","description":null,"inputs":null,"outputs":null,"tags":[],"timeout":null,"task_class":null}` {
		t.Errorf("json = %s", b)
	}
}

func TestIndexCache(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "sub", "a.sh"), "# name: a\n")
	x := NewIndex()
	if got := names(x.Scripts([]string{dir})); !reflect.DeepEqual(got, []string{"a"}) {
		t.Fatalf("first scan %v", got)
	}
	// An in-place edit changes no directory: the cache is kept...
	write(t, filepath.Join(dir, "sub", "a.sh"), "# name: renamed\n")
	past := time.Now().Add(-time.Hour)
	for _, d := range []string{dir, filepath.Join(dir, "sub")} {
		os.Chtimes(d, past, past)
	}
	x.Invalidate()
	if got := names(x.Scripts([]string{dir})); !reflect.DeepEqual(got, []string{"renamed"}) {
		t.Fatalf("after invalidate %v", got)
	}
	write(t, filepath.Join(dir, "sub", "a.sh"), "# name: edited again\n")
	if got := names(x.Scripts([]string{dir})); !reflect.DeepEqual(got, []string{"renamed"}) {
		t.Fatalf("cache not used: %v", got)
	}
	// ...while a new file in a subdirectory changes its time: rescanned.
	write(t, filepath.Join(dir, "sub", "b.sh"), "")
	if got := names(x.Scripts([]string{dir})); !reflect.DeepEqual(got, []string{"edited again", "b"}) {
		t.Fatalf("after adding a file %v", got)
	}
	// A dir that appears later is picked up.
	late := filepath.Join(t.TempDir(), "late")
	x.Scripts([]string{dir, late})
	write(t, filepath.Join(late, "z.sh"), "")
	if got := names(x.Scripts([]string{dir, late})); len(got) != 3 {
		t.Fatalf("late dir not scanned: %v", got)
	}
}

func TestResolve(t *testing.T) {
	base, _ := filepath.EvalSymlinks(t.TempDir())
	dir, outside := filepath.Join(base, "scripts"), filepath.Join(base, "outside")
	write(t, filepath.Join(dir, "tools", "run.sh"), "")
	write(t, filepath.Join(outside, "evil.sh"), "")
	os.Symlink(filepath.Join(outside, "evil.sh"), filepath.Join(dir, "evil.sh"))
	dirs := []string{filepath.Join(base, "nope"), dir}
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"tools/run.sh", filepath.Join(dir, "tools", "run.sh"), nil},
		{filepath.Join(dir, "tools", "..", "tools", "run.sh"), filepath.Join(dir, "tools", "run.sh"), nil},
		{"../outside/evil.sh", "", ErrOutside},
		{filepath.Join(outside, "evil.sh"), "", ErrOutside},
		{"evil.sh", "", ErrOutside}, // symlink leading out
		{"/etc/passwd", "", ErrOutside},
		{"missing.sh", "", ErrNotFound},
		{filepath.Join(dir, "missing.sh"), "", ErrNotFound},
		{"tools", "", ErrNotFound}, // a directory is not a script
	}
	for _, tc := range tests {
		got, err := Resolve(dirs, tc.in)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("Resolve(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestSearch(t *testing.T) {
	d := "Deploys the Site"
	all := []Script{{Name: "deploy", Description: &d, Tags: []string{}}, {Name: "x", Tags: []string{"CI"}}, {Name: "y", Tags: []string{}}}
	for q, want := range map[string][]string{"site": {"deploy"}, "ci": {"x"}, "none": {}, "": {"deploy", "x", "y"}} {
		if got := names(Search(all, q)); !reflect.DeepEqual(got, want) {
			t.Errorf("Search(%q) = %v, want %v", q, got, want)
		}
	}
}
