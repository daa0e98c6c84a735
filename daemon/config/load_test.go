package config

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writeConfig writes content to <dir>/sparkq.yml and returns its path.
func writeConfig(t *testing.T, dir, content string) string {
	t.Helper()
	p := filepath.Join(dir, FileName)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLocate(t *testing.T) {
	root := t.TempDir()
	cwdWith := filepath.Join(root, "cwd-with-file")
	cwdEmpty := filepath.Join(root, "cwd-empty")
	repo := filepath.Join(root, "repo")
	etc := filepath.Join(root, "etc", "sparkq") // stands in for SystemDir
	emptyEtc := filepath.Join(root, "etc", "empty")
	for _, d := range []string{cwdWith, cwdEmpty, filepath.Join(repo, "bin"), etc, emptyEtc} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeConfig(t, cwdWith, "")
	writeConfig(t, repo, "")
	writeConfig(t, etc, "")
	// A folder named sparkq.yml is not a config file.
	if err := os.Mkdir(filepath.Join(emptyEtc, FileName), 0o755); err != nil {
		t.Fatal(err)
	}
	exeDir := filepath.Join(repo, "bin")
	noExe := filepath.Join(root, "no-repo", "bin")

	tests := []struct {
		name         string
		flag         string
		env          map[string]string
		cwd, exeDir  string
		fallback     []string
		want         string
		wantExplicit bool
	}{
		{"flag wins over everything", "/etc/x.yml", map[string]string{"SPARKQ_CONFIG": "/env.yml"}, cwdWith, exeDir, []string{etc}, "/etc/x.yml", true},
		{"relative flag is from cwd", "conf/a.yml", nil, cwdWith, exeDir, nil, filepath.Join(cwdWith, "conf/a.yml"), true},
		{"env beats cwd file", "", map[string]string{"SPARKQ_CONFIG": "/env.yml"}, cwdWith, exeDir, []string{etc}, "/env.yml", true},
		{"relative env is from cwd", "", map[string]string{"SPARKQ_CONFIG": "b.yml"}, cwdEmpty, exeDir, nil, filepath.Join(cwdEmpty, "b.yml"), true},
		{"env ~ expands", "", map[string]string{"SPARKQ_CONFIG": "~/c.yml", "HOME": "/home/u"}, cwdEmpty, exeDir, nil, "/home/u/c.yml", true},
		{"missing explicit file is still returned", "", map[string]string{"SPARKQ_CONFIG": filepath.Join(root, "nope.yml")}, cwdEmpty, "", []string{etc}, filepath.Join(root, "nope.yml"), true},
		{"cwd file beats repo root", "", nil, cwdWith, exeDir, []string{etc}, filepath.Join(cwdWith, FileName), false},
		{"repo root beside bin", "", nil, cwdEmpty, exeDir, nil, filepath.Join(repo, FileName), false},
		{"repo root beats the system dir", "", nil, cwdEmpty, exeDir, []string{etc}, filepath.Join(repo, FileName), false},
		{"system dir last", "", nil, cwdEmpty, noExe, []string{etc}, filepath.Join(etc, FileName), false},
		{"system dir without exe dir", "", nil, cwdEmpty, "", []string{etc}, filepath.Join(etc, FileName), false},
		{"fallbacks in order", "", nil, cwdEmpty, "", []string{emptyEtc, filepath.Join(root, "missing"), etc}, filepath.Join(etc, FileName), false},
		{"nothing found", "", nil, cwdEmpty, noExe, []string{emptyEtc}, "", false},
		{"no exe dir", "", nil, cwdEmpty, "", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			got, explicit := Locate(tt.flag, getenv, tt.cwd, tt.exeDir, tt.fallback...)
			if got != tt.want || explicit != tt.wantExplicit {
				t.Errorf("Locate = %q, %v; want %q, %v", got, explicit, tt.want, tt.wantExplicit)
			}
		})
	}
}

func TestLoadMissingExplicitFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "typo.yml")
	_, _, err := Load(p)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load(missing) error = %v, want fs.ErrNotExist", err)
	}
	for _, want := range []string{p, "not found", "sparkq setup", "--config/SPARKQ_CONFIG"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestLoadResolvesPaths(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	dir := t.TempDir()
	p := writeConfig(t, dir, `
server:
  api_token_file: secrets/token
database:
  path: db/q.db
control:
  socket: run/q.sock
queue_runner:
  lock_dir: ~/locks
log:
  file: ../logs/q.log
script_dirs: [tools, /opt/scripts]
`)
	c, warns, err := Load(p)
	if err != nil || len(warns) > 0 {
		t.Fatalf("Load: %v, warnings %v", err, warns)
	}
	for _, tt := range []struct{ name, got, want string }{
		{"File", c.File(), p},
		{"Dir", c.Dir(), dir},
		{"DBPath", c.DBPath(), filepath.Join(dir, "db/q.db")},
		{"DataDir", c.DataDir(), filepath.Join(dir, "db")},
		{"LockPath", c.LockPath(), filepath.Join(dir, "db/sparkq.lock")},
		{"SocketPath", c.SocketPath(), filepath.Join(dir, "run/q.sock")},
		{"LogPath", c.LogPath(), filepath.Join(filepath.Dir(dir), "logs/q.log")},
		{"api_token_file", c.Server.APITokenFile, filepath.Join(dir, "secrets/token")},
		{"lock_dir", c.QueueRunner.LockDir, filepath.Join(home, "locks")},
		{"script_dirs", strings.Join(c.ScriptDirs, ","), filepath.Join(dir, "tools") + ",/opt/scripts"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestLoadDerivedPathsFollowDatabase(t *testing.T) {
	dir := t.TempDir()
	c, _, err := Load(writeConfig(t, dir, "database:\n  path: d/x.db\n"))
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "d")
	if got, want := c.SocketPath(), filepath.Join(dataDir, "sparkq.sock"); got != want {
		t.Errorf("SocketPath = %q, want %q", got, want)
	}
	if got, want := c.LogPath(), filepath.Join(dataDir, "logs", "sparkq.log"); got != want {
		t.Errorf("LogPath = %q, want %q", got, want)
	}
}

func TestLoadValues(t *testing.T) {
	dir := t.TempDir()
	c, warns, err := Load(writeConfig(t, dir, `
server: {host: localhost, port: 8080, cors_origins: ["http://localhost:3000/"], cors_allow_credentials: true, max_body_bytes: 2048}
purge: {older_than_days: 7, interval: 90}
queue_runner: {poll_interval: 0.5, auto_fail_interval_seconds: 10, base_url: "http://h:1/"}
log: {level: debug}
script_dirs: only-one
task_classes:
  ZED: {timeout: 5}
  ALPHA: {timeout: 6, description: first}
tools:
  zz: {task_class: ZED}
  aa: {task_class: LLM_HEAVY}
features: {flags: {beta: true}}
defaults: {model: llm-haiku}
`))
	if err != nil || len(warns) > 0 {
		t.Fatalf("Load: %v, warnings %v", err, warns)
	}
	want := defaults(dir)
	want.file = filepath.Join(dir, FileName)
	want.Server = Server{Host: "localhost", Port: 8080, CORSOrigins: []string{"http://localhost:3000"},
		CORSAllowCredentials: true, AllowedHosts: []string{}, MaxBodyBytes: 2048}
	want.Purge = Purge{OlderThanDays: 7, Interval: 90 * time.Second}
	want.QueueRunner.PollInterval = 500 * time.Millisecond
	want.QueueRunner.AutoFailInterval = 10 * time.Second
	want.QueueRunner.BaseURL = "http://h:1"
	want.Log.Level = "debug"
	want.ScriptDirs = []string{filepath.Join(dir, "only-one")}
	// File order, not sorted: the UI and the DB seed list them as written.
	want.TaskClasses = []TaskClass{{Name: "ZED", Timeout: 5}, {Name: "ALPHA", Timeout: 6, Description: "first"}}
	want.Tools = []Tool{{Name: "zz", TaskClass: "ZED"}, {Name: "aa", TaskClass: "LLM_HEAVY"}}
	want.Features.Flags = map[string]any{"beta": true}
	want.Defaults.Model = "llm-haiku"
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load =\n%+v\nwant\n%+v", c, want)
	}
}

func TestLoadEmptyFileIsDefaults(t *testing.T) {
	for _, content := range []string{"", "# only a comment\n", "~\n", "server:\n"} {
		dir := t.TempDir()
		c, warns, err := Load(writeConfig(t, dir, content))
		if err != nil || len(warns) > 0 {
			t.Fatalf("Load(%q): %v, warnings %v", content, err, warns)
		}
		want := defaults(dir)
		want.file = filepath.Join(dir, FileName)
		if !reflect.DeepEqual(c, want) {
			t.Errorf("Load(%q) = %+v, want defaults %+v", content, c, want)
		}
	}
}

func TestLoadNoFileUsesDataHome(t *testing.T) {
	xdg := t.TempDir()
	t.Setenv("XDG_DATA_HOME", xdg)
	c, warns, err := Load("")
	if err != nil || len(warns) > 0 {
		t.Fatalf("Load(\"\"): %v, warnings %v", err, warns)
	}
	if c.File() != "" {
		t.Errorf("File() = %q, want empty", c.File())
	}
	if want := filepath.Join(xdg, "sparkq", "data", "sparkq.db"); c.DBPath() != want {
		t.Errorf("DBPath = %q, want %q", c.DBPath(), want)
	}
	if c.Server.Host != "127.0.0.1" {
		t.Errorf("default host = %q, want loopback", c.Server.Host)
	}
}

func TestDefaultDataHome(t *testing.T) {
	tests := []struct {
		env     map[string]string
		want    string
		wantErr bool
	}{
		{map[string]string{"XDG_DATA_HOME": "/x", "HOME": "/h"}, "/x/sparkq", false},
		{map[string]string{"XDG_DATA_HOME": "rel", "HOME": "/h"}, "/h/.local/share/sparkq", false},
		{map[string]string{"HOME": "/h"}, "/h/.local/share/sparkq", false},
		{map[string]string{}, "", true},
	}
	for _, tt := range tests {
		got, err := DefaultDataHome(func(k string) string { return tt.env[k] })
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("DefaultDataHome(%v) = %q, %v; want %q, err %v", tt.env, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name     string
		content  string
		wantLine int
		wantMsg  string // substring of the first error's Msg
	}{
		{"malformed yaml", "server:\n  host: a\n   port: 1\n", 3, "mapping values are not allowed"},
		{"missing colon", "project:\n  name: x\n  bad\nserver: {}\n", 3, "could not find expected ':'"},
		{"malformed on first line", "\tserver: 1\n", 1, "cannot start any token"},
		// yaml.v3 reports parser errors and the tab error 0-based.
		{"unclosed flow sequence", "database:\n  path: data/x.db\n  mode: [wal\n", 3, "did not find expected ',' or ']'"},
		{"tab indentation", "server:\n  port: 5005\n\tbad: x\n", 3, "tab character"},
		{"bad indentation", "a: 1\nb:\n  - x\n y: 2\n", 4, "did not find expected key"},
		{"unclosed flow map", "a: 1\nb: {x: 1\nc: 2\n", 2, "did not find expected ',' or '}'"},
		{"port not a number", "\n\nserver:\n  port: abc\n", 4, `server.port must be an integer between 1 and 65535, got "abc"`},
		{"port out of range", "server:\n  port: 70000\n", 2, `server.port must be an integer between 1 and 65535, got "70000"`},
		{"port is a float", "server:\n  port: 80.0\n", 2, `server.port must be an integer`},
		{"purge days negative", "purge:\n  older_than_days: -1\n", 2, `purge.older_than_days must be an integer of at least 1, got "-1"`},
		{"purge interval bad", "purge:\n  interval: soon\n", 2, `purge.interval must be a duration`},
		{"sweep interval too short", "queue_runner:\n  auto_fail_interval_seconds: 0.001\n", 2, `queue_runner.auto_fail_interval_seconds must be a number of seconds, at least 1, got "0.001"`},
		{"purge interval too short", "purge:\n  interval: 1ms\n", 2, `purge.interval must be a duration such as 30m or 1h (or a number of seconds), at least 1s, got "1ms"`},
		{"purge interval seconds too few", "purge:\n  older_than_days: 3\n  interval: 0.5\n", 3, `purge.interval must be a duration such as 30m or 1h (or a number of seconds), at least 1s, got "0.5"`},
		{"zero timeout", "task_classes:\n  X:\n    timeout: 0\n", 3, `task_classes.X.timeout must be an integer of at least 1, got "0"`},
		{"timeout missing", "task_classes:\n  X:\n    description: d\n", 2, `task_classes.X.timeout is required`},
		{"tool without class", "tools:\n  t: {description: d}\n", 2, `tools.t.task_class is required`},
		{"tool with unknown class", "tools:\n  t:\n    task_class: NOPE\n", 3, `tools.t.task_class must be one of FAST_SCRIPT, MEDIUM_SCRIPT, LLM_LITE, LLM_HEAVY, got "NOPE"`},
		{"tool class declared later is fine, other is not", "tools:\n  a: {task_class: MINE}\n  b: {task_class: OTHER}\ntask_classes:\n  MINE: {timeout: 1}\n", 3, `got "OTHER"`},
		{"database mode", "database:\n  mode: delete\n", 2, `database.mode must be "wal", got "delete"`},
		{"database path empty", "database:\n  path: \"\"\n", 2, `database.path must not be empty`},
		{"log level", "log:\n  level: verbose\n", 2, `log.level must be one of "debug", "info", "warn", "error", got "verbose"`},
		{"section wrong type", "server: 5\n", 1, `server must be a mapping of keys, got "5"`},
		{"top level list", "- a\n", 1, `the top level must be a mapping`},
		{"bool as string", "server:\n  cors_allow_credentials: \"true\"\n", 2, `server.cors_allow_credentials must be true or false`},
		{"list as scalar", "server:\n  cors_origins: http://a\n", 2, `server.cors_origins must be a list of strings`},
		{"bad origin", "server:\n  cors_origins: [localhost]\n", 2, `server.cors_origins entries must be origins`},
		{"bad base url", "queue_runner:\n  base_url: localhost:5005\n", 2, `queue_runner.base_url must be an http:// or https:// URL`},
		{"poll interval zero", "queue_runner:\n  poll_interval: 0\n", 2, `queue_runner.poll_interval must be a number of seconds greater than 0, got "0"`},
		{"tilde user", "database:\n  path: ~bob/q.db\n", 2, `~user paths are not supported`},
		{"duplicate key", "server:\n  port: 1\n  port: 2\n", 3, `duplicate key "server.port" (first defined on line 2)`},
		{"two documents", "a: 1\n---\nb: 2\n", 2, `only one YAML document`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeConfig(t, t.TempDir(), tt.content)
			_, _, err := Load(p)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load error = %v, want *Error", err)
			}
			if ce.File != p || ce.Line != tt.wantLine || !strings.Contains(ce.Msg, tt.wantMsg) {
				t.Errorf("error = %q (line %d), want %s:%d containing %q", ce, ce.Line, p, tt.wantLine, tt.wantMsg)
			}
			if prefix := p + ":" + strconv.Itoa(tt.wantLine) + ": "; !strings.HasPrefix(ce.Error(), prefix) {
				t.Errorf("Error() = %q, want prefix %q", ce.Error(), prefix)
			}
		})
	}
}

func TestLoadReportsEveryError(t *testing.T) {
	p := writeConfig(t, t.TempDir(), "server:\n  port: x\npurge:\n  older_than_days: 0\n")
	_, _, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), ":2: server.port") || !strings.Contains(err.Error(), ":4: purge.older_than_days") {
		t.Errorf("error = %v, want both problems", err)
	}
}

func TestLoadWarnings(t *testing.T) {
	p := writeConfig(t, t.TempDir(), `server:
  port: 5005
  hots: x
servr:
  host: y
task_classes:
  X: {timeout: 1, colour: red}
tools:
  t: {task_class: X}
`)
	c, warns, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []Warning{
		{p, 3, `unknown key "server.hots" (ignored; did you mean "host"?)`},
		{p, 4, `unknown key "servr" (ignored; did you mean "server"?)`},
		{p, 7, `unknown key "task_classes.X.colour" (ignored)`},
	}
	if !reflect.DeepEqual(warns, want) {
		t.Errorf("warnings =\n%v\nwant\n%v", warns, want)
	}
	if got := warns[1].String(); got != p+`:4: unknown key "servr" (ignored; did you mean "server"?)` {
		t.Errorf("String() = %q", got)
	}
	if c.Server.Host != "127.0.0.1" {
		t.Errorf("unknown section changed host to %q", c.Server.Host)
	}
}

func TestLoadWarnsOnUnauthenticatedWildcardHost(t *testing.T) {
	tests := []struct {
		content   string
		wantWarns int
	}{
		{"server:\n  host: 0.0.0.0\n", 1},
		{"server:\n  host: 0.0.0.0\n  api_token_file: tok\n", 0},
		{"server:\n  host: ::1\n", 0},
		{"server:\n  host: localhost\n", 0},
	}
	for _, tt := range tests {
		_, warns, err := Load(writeConfig(t, t.TempDir(), tt.content))
		if err != nil || len(warns) != tt.wantWarns {
			t.Errorf("Load(%q) = %v, warnings %v; want %d warnings", tt.content, err, warns, tt.wantWarns)
		}
	}
}

func TestDefaultYAML(t *testing.T) {
	top, err := os.ReadFile(filepath.Join("..", "..", FileName))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(top, DefaultYAML()) {
		t.Errorf("top-level %s differs from daemon/config/default.yml; copy it over", FileName)
	}

	// The documented values must be the code's defaults: loading the file
	// changes nothing.
	xdg := t.TempDir()
	t.Setenv("XDG_DATA_HOME", xdg)
	dir := filepath.Join(xdg, "sparkq")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	c, warns, err := Load(writeConfig(t, dir, string(DefaultYAML())))
	if err != nil || len(warns) > 0 {
		t.Fatalf("Load(default.yml): %v, warnings %v", err, warns)
	}
	noFile, _, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	c.file = ""
	if !reflect.DeepEqual(c, noFile) {
		t.Errorf("default.yml loads as\n%+v\nbut built-in defaults are\n%+v", c, noFile)
	}
}

func TestDefaultYAMLIsACopy(t *testing.T) {
	b := DefaultYAML()
	b[0] = 'X'
	if DefaultYAML()[0] == 'X' {
		t.Error("DefaultYAML returned the embedded slice itself")
	}
}

// TestPurgeIntervalAtMinimum: the shortest purge.interval still loads, as a
// duration and as a number of seconds.
func TestPurgeIntervalAtMinimum(t *testing.T) {
	for _, v := range []string{"1s", "1", "1.0", "1000ms"} {
		c, _, err := Load(writeConfig(t, t.TempDir(), "purge:\n  interval: "+v+"\n"))
		if err != nil || c.Purge.Interval != MinPurgeInterval {
			t.Errorf("interval %s: %v, %v; want %v", v, c.Purge.Interval, err, MinPurgeInterval)
		}
	}
}
