package service

import (
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// specs are the installs the golden files show, one per scope.
var specs = map[string]map[Scope]Spec{
	"linux": {
		User: {Scope: User, Executable: "/home/ann/bin/sparkqd", ConfigFile: "/home/ann/work/sparkq.yml",
			WorkingDir: "/home/ann/work"},
		System: {Scope: System, Executable: "/opt/sparkq/bin/sparkqd", ConfigFile: "/srv/sparkq/sparkq.yml",
			WorkingDir: "/srv/sparkq", RunAs: "ann"},
	},
	"darwin": {
		User: {Scope: User, Executable: "/Users/ann/bin/sparkqd", ConfigFile: "/Users/ann/work/sparkq.yml",
			WorkingDir: "/Users/ann/work", LogDir: "/Users/ann/work/data/logs"},
		System: {Scope: System, Executable: "/usr/local/bin/sparkqd", ConfigFile: "/usr/local/etc/sparkq/sparkq.yml",
			WorkingDir: "/usr/local/var/sparkq", LogDir: "/usr/local/var/log/sparkq", RunAs: "_sparkq",
			Home: "/usr/local/var/sparkq"},
	},
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the rendered file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestRenderGolden(t *testing.T) {
	files := map[string]string{"linux": "sparkq-%s.service", "darwin": "com.sparkq.sparkqd-%s.plist"}
	for goos, byScope := range specs {
		for scope, spec := range byScope {
			name := strings.Replace(files[goos], "%s", string(scope), 1)
			t.Run(name, func(t *testing.T) {
				got, err := Render(goos, spec)
				if err != nil {
					t.Fatal(err)
				}
				golden(t, name, got)
				if !strings.Contains(got, marker) {
					t.Errorf("rendered file lacks the marker uninstall looks for")
				}
				if goos == "darwin" {
					checkPlist(t, got, spec)
				} else {
					checkUnit(t, got, spec)
				}
			})
		}
	}
}

// checkUnit reads the unit back the way systemd splits it.
func checkUnit(t *testing.T, unit string, spec Spec) {
	t.Helper()
	keys := map[string]string{}
	for _, line := range strings.Split(unit, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = v
		}
	}
	want := map[string]string{"Type": "notify", "Restart": "on-failure", "WorkingDirectory": spec.WorkingDir,
		"ExecStart": spec.Executable + " run --config " + spec.ConfigFile}
	if spec.Scope == System {
		want["User"], want["WantedBy"] = spec.RunAs, "multi-user.target"
	} else {
		want["WantedBy"] = "default.target"
	}
	for k, v := range want {
		if keys[k] != v {
			t.Errorf("%s=%q, want %q", k, keys[k], v)
		}
	}
}

func checkPlist(t *testing.T, text string, spec Spec) {
	t.Helper()
	p := parsePlist(t, text)
	args := []any{spec.Executable, "run", "--config", spec.ConfigFile, "--service-manager", "launchd", "--quiet"}
	out := spec.LogDir + "/" + LaunchdOutput
	want := map[string]any{
		"Label": LaunchdLabel, "RunAtLoad": true, "WorkingDirectory": spec.WorkingDir,
		"KeepAlive":       map[string]any{"SuccessfulExit": false},
		"StandardOutPath": out, "StandardErrorPath": out,
	}
	if spec.Scope == System {
		want["UserName"] = spec.RunAs
		want["EnvironmentVariables"] = map[string]any{"HOME": spec.Home}
	}
	for k, v := range want {
		if !equal(p[k], v) {
			t.Errorf("%s = %#v, want %#v", k, p[k], v)
		}
	}
	if !equal(p["ProgramArguments"], args) {
		t.Errorf("ProgramArguments = %#v, want %#v", p["ProgramArguments"], args)
	}
	if len(p) != len(want)+1 {
		t.Errorf("plist has %d keys, want %d: %v", len(p), len(want)+1, p)
	}
}

func TestRenderQuotesAwkwardPaths(t *testing.T) {
	spec := Spec{Scope: User, Executable: `/home/ann/my apps/sparkqd`, ConfigFile: `/home/ann/100% "real"/$HOME\x.yml`,
		WorkingDir: "/home/ann/100% <&>", LogDir: "/tmp/logs & more"}
	unit, err := Render("linux", spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`ExecStart="/home/ann/my apps/sparkqd" run --config "/home/ann/100%% \"real\"/$$HOME\\x.yml"`,
		"WorkingDirectory=/home/ann/100%% <&>",
	} {
		if !strings.Contains(unit, want+"\n") {
			t.Errorf("unit lacks line %q:\n%s", want, unit)
		}
	}
	plist, err := Render("darwin", spec)
	if err != nil {
		t.Fatal(err)
	}
	p := parsePlist(t, plist)
	if got := p["ProgramArguments"].([]any); got[0] != spec.Executable || got[3] != spec.ConfigFile {
		t.Errorf("ProgramArguments = %q", got)
	}
	if p["WorkingDirectory"] != spec.WorkingDir {
		t.Errorf("WorkingDirectory = %q", p["WorkingDirectory"])
	}
}

func TestRenderRefuses(t *testing.T) {
	good := specs["linux"][System]
	for name, mutate := range map[string]func(*Spec){
		"relative executable": func(s *Spec) { s.Executable = "bin/sparkqd" },
		"relative config":     func(s *Spec) { s.ConfigFile = "sparkq.yml" },
		"newline in path":     func(s *Spec) { s.WorkingDir = "/srv/x\nExecStartPre=/bin/evil" },
		"system without user": func(s *Spec) { s.RunAs = "" },
		"bad account name":    func(s *Spec) { s.RunAs = "ann\nUser=root" },
		"user with run-as":    func(s *Spec) { s.Scope = User },
		"unknown scope":       func(s *Spec) { s.Scope = "global" },
	} {
		t.Run(name, func(t *testing.T) {
			s := good
			mutate(&s)
			if out, err := Render("linux", s); err == nil {
				t.Fatalf("Render accepted it:\n%s", out)
			}
		})
	}
	if _, err := Render("windows", good); err == nil || !strings.Contains(err.Error(), "sparkq start") {
		t.Errorf("Render on windows: err = %v, want advice to use sparkq start", err)
	}
}

// parsePlist decodes the plist subset Render writes (dict, array, string,
// integer, true, false), failing on anything malformed: a stand-in for
// `plutil -lint`, which only exists on macOS.
func parsePlist(t *testing.T, text string) map[string]any {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(text))
	d.Strict = true
	var root any
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("plist is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "plist" {
			root = plistValue(t, d, nil)
		}
	}
	m, ok := root.(map[string]any)
	if !ok {
		t.Fatalf("plist root is %T, want a dict", root)
	}
	return m
}

// plistValue reads the next value; end is set when the enclosing element
// closes instead.
func plistValue(t *testing.T, d *xml.Decoder, end *bool) any {
	t.Helper()
	for {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("plist: %v", err)
		}
		switch tok := tok.(type) {
		case xml.EndElement:
			if end == nil {
				t.Fatalf("plist: unexpected </%s>", tok.Name.Local)
			}
			*end = true
			return nil
		case xml.StartElement:
			switch tok.Name.Local {
			case "string", "integer", "key":
				var s string
				if err := d.DecodeElement(&s, &tok); err != nil {
					t.Fatal(err)
				}
				return s
			case "true", "false":
				d.Skip()
				return tok.Name.Local == "true"
			case "array":
				arr := []any{}
				for {
					var done bool
					v := plistValue(t, d, &done)
					if done {
						return arr
					}
					arr = append(arr, v)
				}
			case "dict":
				m := map[string]any{}
				for {
					var done bool
					k := plistValue(t, d, &done)
					if done {
						return m
					}
					key, ok := k.(string)
					if !ok {
						t.Fatalf("plist: dict key is %T", k)
					}
					if _, dup := m[key]; dup {
						t.Fatalf("plist: duplicate key %q", key)
					}
					m[key] = plistValue(t, d, nil)
				}
			default:
				t.Fatalf("plist: unexpected <%s>", tok.Name.Local)
			}
		}
	}
}

func equal(a, b any) bool {
	switch b := b.(type) {
	case map[string]any:
		am, ok := a.(map[string]any)
		if !ok || len(am) != len(b) {
			return false
		}
		for k, v := range b {
			if !equal(am[k], v) {
				return false
			}
		}
		return true
	case []any:
		as, ok := a.([]any)
		if !ok || len(as) != len(b) {
			return false
		}
		for i := range b {
			if !equal(as[i], b[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// TestShippedPlist: launchd/com.sparkq.sparkqd.plist, the reviewed plist in
// the darwin tarballs, is what `sparkq service install --system` writes
// for the /usr/local layout, so hand copies and installs agree.
func TestShippedPlist(t *testing.T) {
	want, err := Render("darwin", specs["darwin"][System])
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := os.ReadFile(filepath.Join("..", "..", "launchd", LaunchdLabel+".plist"))
	if err != nil {
		t.Fatal(err)
	}
	if string(shipped) != want {
		t.Errorf("launchd/%s.plist differs from the rendered system plist; copy testdata/com.sparkq.sparkqd-system.plist over it", LaunchdLabel)
	}
}
