package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed default.yml
var defaultYAML []byte

// DefaultYAML is a commented sparkq.yml documenting every key with its
// default; `sparkq setup` writes it and the repository ships a copy.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }

// FileName is the config file name looked up in the working directory and
// the repository root.
const FileName = "sparkq.yml"

// Error is a problem in a config file, located by line (0 when unknown).
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Warning is a tolerated problem, such as an unknown key.
type Warning struct {
	File string
	Line int
	Msg  string
}

func (w Warning) String() string { return (&Error{w.File, w.Line, w.Msg}).Error() }

// notFoundError keeps errors.Is(err, fs.ErrNotExist) working while the
// message tells the user how to fix it.
type notFoundError struct{ path string }

func (e *notFoundError) Error() string {
	return fmt.Sprintf("config file %s not found: create it with `sparkq setup` or fix --config/SPARKQ_CONFIG", e.path)
}

func (e *notFoundError) Unwrap() error { return fs.ErrNotExist }

// SystemDir holds the sparkq.yml of the packaged service: the .deb and .rpm
// install /etc/sparkq/sparkq.yml and systemd/sparkq.service names it.
const SystemDir = "/etc/sparkq"

// Locate picks the config file: the --config flag, then $SPARKQ_CONFIG (both
// relative to cwd and used even if missing, so Load reports the typo), then
// <cwd>/sparkq.yml, then the repository root <exeDir>/../sparkq.yml because
// binaries are built into <repo>/bin/, then sparkq.yml in each of
// fallbackDirs in turn (the CLI passes SystemDir to find the packaged
// daemon). It returns "" when nothing exists (defaults apply); explicit
// reports whether the user named the file.
func Locate(flagPath string, getenv func(string) string, cwd, exeDir string, fallbackDirs ...string) (path string, explicit bool) {
	for _, p := range []string{flagPath, getenv("SPARKQ_CONFIG")} {
		if p == "" {
			continue
		}
		// Expand ~ here too: env files (systemd, launchd) do not.
		if home := getenv("HOME"); home != "" && (p == "~" || strings.HasPrefix(p, "~/")) {
			p = filepath.Join(home, p[1:])
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(cwd, p)
		}
		return filepath.Clean(p), true
	}
	candidates := []string{filepath.Join(cwd, FileName)}
	if exeDir != "" {
		candidates = append(candidates, filepath.Join(exeDir, "..", FileName))
	}
	for _, dir := range fallbackDirs {
		candidates = append(candidates, filepath.Join(dir, FileName))
	}
	for _, p := range candidates {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return filepath.Clean(p), false
		}
	}
	return "", false
}

// Load reads the config file at path (from Locate) over the defaults and
// resolves relative paths against the file's folder. With path "" it returns
// the defaults rooted at DefaultDataHome. Problems that would change
// behaviour are errors (each an *Error with file:line, joined); unknown keys
// are only warnings.
func Load(path string) (Config, []Warning, error) {
	if path == "" {
		home, err := DefaultDataHome(os.Getenv)
		if err != nil {
			return Config{}, nil, err
		}
		c := defaults(home)
		return c, nil, c.Validate()
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, nil, &notFoundError{path}
	}
	if err != nil {
		return Config{}, nil, fmt.Errorf("read config: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Config{}, nil, fmt.Errorf("read config %s: %w", path, err)
	}
	c := defaults(filepath.Dir(abs))
	c.file = abs
	d := &decoder{file: path, dir: c.dir}
	d.document(data, &c)
	if len(d.errs) > 0 {
		return Config{}, d.warns, errors.Join(d.errs...)
	}
	if err := c.Validate(); err != nil {
		return Config{}, d.warns, fmt.Errorf("%s: %w", path, err)
	}
	return c, d.warns, nil
}

// FallbackFor is the configuration the file at path would give with none of
// its keys: defaults resolved against its folder. The CLI uses it to still
// reach a running daemon when someone has since broken the file.
func FallbackFor(path string) (Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Config{}, fmt.Errorf("resolve %s: %w", path, err)
	}
	c := defaults(filepath.Dir(abs))
	c.file = abs
	return c, nil
}

// decoder walks the yaml.Node tree by hand so every problem can name its
// line and key path, and unknown keys can be warnings rather than errors.
type decoder struct {
	file  string
	dir   string
	errs  []error
	warns []Warning
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) warnf(n *yaml.Node, format string, args ...any) {
	d.warns = append(d.warns, Warning{File: d.file, Line: n.Line, Msg: fmt.Sprintf(format, args...)})
}

// yaml.v3 syntax errors read "yaml: line N: msg".
var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (d *decoder) document(data []byte, c *Config) {
	doc, err := parse(data)
	if err != nil {
		d.errs = append(d.errs, d.syntaxError(data, err))
		return
	}
	if doc != nil {
		d.root(doc, c)
	}
}

// parse returns the root node of the only document in data (nil if empty).
func parse(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, fmt.Errorf("yaml: line %d: only one YAML document is allowed", extra.Line)
	case !errors.Is(err, io.EOF):
		return nil, err
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// oneBased corrects yaml.v3's line numbers: scanner errors come 1-based,
// but parser errors ("did not find expected …") and the tab-indentation
// error carry the 0-based line of the construct that failed.
func oneBased(line int, msg string) int {
	if strings.HasPrefix(msg, "did not find expected") || strings.Contains(msg, "tab character") {
		return line + 1
	}
	return line
}

func (d *decoder) syntaxError(data []byte, err error) *Error {
	msg := err.Error()
	if m := syntaxLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: d.file, Line: oneBased(line, m[2]), Msg: m[2]}
	}
	// yaml.v3 omits the line when the problem is on the first line (it
	// treats line 0 as unknown). A leading blank line changes no meaning,
	// so parse again shifted by one to learn it.
	if _, err2 := parse(append([]byte("\n"), data...)); err2 != nil {
		if m := syntaxLine.FindStringSubmatch(err2.Error()); m != nil && m[2] == strings.TrimPrefix(msg, "yaml: ") {
			line, _ := strconv.Atoi(m[1])
			return &Error{File: d.file, Line: oneBased(line-1, m[2]), Msg: m[2]}
		}
	}
	return &Error{File: d.file, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

// field handles one known key; val has aliases resolved and is never null.
type field func(key string, val *yaml.Node)

// mapping calls fields[k] for each key of n in file order. Null values are
// skipped (a bare "key:" means "use the default"); unknown keys warn.
func (d *decoder) mapping(n *yaml.Node, path string, fields map[string]field) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping of keys, got %s", orTop(path), describe(n))
		return
	}
	d.pairs(n, path, func(key string, k, v *yaml.Node) {
		f, ok := fields[k.Value]
		if !ok {
			d.warnf(k, "unknown key %q (ignored%s)", key, suggest(k.Value, fields))
			return
		}
		if v = resolve(v); !isNull(v) {
			f(key, v)
		}
	})
}

// pairs iterates a mapping's key/value nodes, rejecting what a Go map could
// not represent: duplicate keys, non-scalar keys and merge keys.
func (d *decoder) pairs(n *yaml.Node, path string, each func(key string, k, v *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		switch {
		case k.Kind != yaml.ScalarNode:
			d.errorf(k, "%s: keys must be plain names, got %s", orTop(path), describe(k))
			continue
		case k.Tag == "!!merge":
			d.errorf(k, "%s: YAML merge keys (<<) are not supported", orTop(path))
			continue
		}
		key := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.errorf(k, "duplicate key %q (first defined on line %d)", key, first)
			continue
		}
		seen[k.Value] = k.Line
		each(key, k, v)
	}
}

func (d *decoder) root(n *yaml.Node, c *Config) {
	d.mapping(n, "", map[string]field{
		"project": func(key string, v *yaml.Node) {
			d.mapping(v, key, map[string]field{
				"name":      d.str(&c.Project.Name),
				"repo_path": d.str(&c.Project.RepoPath),
				"prd_path":  d.str(&c.Project.PRDPath),
			})
		},
		"server":   func(key string, v *yaml.Node) { d.server(v, key, &c.Server) },
		"database": func(key string, v *yaml.Node) { d.database(v, key, &c.Database) },
		"control": func(key string, v *yaml.Node) {
			d.mapping(v, key, map[string]field{"socket": d.path(&c.Control.Socket)})
		},
		"purge": func(key string, v *yaml.Node) {
			d.mapping(v, key, map[string]field{
				"older_than_days": d.intField(&c.Purge.OlderThanDays, 1, math.MaxInt32),
				"interval":        d.duration(&c.Purge.Interval, MinPurgeInterval),
			})
		},
		"queue_runner": func(key string, v *yaml.Node) {
			q := &c.QueueRunner
			d.mapping(v, key, map[string]field{
				"poll_interval":              d.seconds(&q.PollInterval),
				"auto_fail_interval_seconds": d.secondsAtLeast(&q.AutoFailInterval, MinSweepInterval),
				"base_url":                   d.baseURL(&q.BaseURL),
				"lock_dir":                   d.path(&q.LockDir),
			})
		},
		"log": func(key string, v *yaml.Node) {
			d.mapping(v, key, map[string]field{
				"level": d.oneOf(&c.Log.Level, "debug", "info", "warn", "error"),
				"file":  d.path(&c.Log.File),
			})
		},
		"script_dirs": func(key string, v *yaml.Node) {
			var dirs []string
			if !d.strList(key, v, true, &dirs) {
				return
			}
			c.ScriptDirs = c.ScriptDirs[:0]
			for _, s := range dirs {
				if p, ok := d.resolvePath(key, v, s); ok {
					c.ScriptDirs = append(c.ScriptDirs, p)
				}
			}
		},
		"sparkq_scripts_dir": d.str(&c.SparkQScriptsDir),
		"task_classes":       func(key string, v *yaml.Node) { d.taskClasses(v, key, c) },
		"tools":              func(key string, v *yaml.Node) { d.tools(v, key, c) },
		"features": func(key string, v *yaml.Node) {
			d.mapping(v, key, map[string]field{"flags": d.anyMap(&c.Features.Flags)})
		},
		"defaults": func(key string, v *yaml.Node) {
			d.mapping(v, key, map[string]field{
				"queue": d.anyMap(&c.Defaults.Queue),
				"model": d.str(&c.Defaults.Model),
			})
		},
	})
	d.checkToolClasses(n, c)
}

func (d *decoder) server(n *yaml.Node, path string, s *Server) {
	var hostNode *yaml.Node
	d.mapping(n, path, map[string]field{
		"host": func(key string, v *yaml.Node) {
			if d.scalar(key, v, "a host name or IP address") {
				if strings.TrimSpace(v.Value) == "" || strings.ContainsAny(v.Value, " \t/") {
					d.errorf(v, "%s must be a host name or IP address, got %q", key, v.Value)
					return
				}
				s.Host, hostNode = v.Value, v
			}
		},
		"port":                   d.intField(&s.Port, 1, 65535),
		"cors_origins":           d.origins(&s.CORSOrigins),
		"cors_allow_credentials": d.boolean(&s.CORSAllowCredentials),
		"allowed_hosts": func(key string, v *yaml.Node) {
			d.strList(key, v, false, &s.AllowedHosts)
		},
		"api_token_file": d.path(&s.APITokenFile),
		"max_body_bytes": d.int64Field(&s.MaxBodyBytes, 1, math.MaxInt64),
	})
	// The original listened on 0.0.0.0 with no authentication at all.
	if hostNode != nil && !isLoopback(s.Host) && s.APITokenFile == "" {
		d.warnf(hostNode, "server.host %q exposes the API beyond this machine without authentication; set server.api_token_file", s.Host)
	}
}

func (d *decoder) database(n *yaml.Node, path string, db *Database) {
	d.mapping(n, path, map[string]field{
		"path": func(key string, v *yaml.Node) {
			if !d.scalar(key, v, "a path") {
				return
			}
			if v.Value == "" {
				d.errorf(v, "%s must not be empty", key)
				return
			}
			if p, ok := d.resolvePath(key, v, v.Value); ok {
				db.Path = p
			}
		},
		// SQLite WAL is what gives readers and the single writer
		// concurrency; other modes are not supported.
		"mode": d.oneOf(&db.Mode, "wal"),
	})
}

func (d *decoder) taskClasses(n *yaml.Node, path string, c *Config) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping of class name to {timeout, description}, got %s", path, describe(n))
		return
	}
	c.TaskClasses = []TaskClass{} // present in the file: replaces the built-ins
	d.pairs(n, path, func(key string, k, v *yaml.Node) {
		tc := TaskClass{Name: k.Value}
		if strings.TrimSpace(tc.Name) == "" {
			d.errorf(k, "%s: class names must not be empty", path)
			return
		}
		hasTimeout := false
		d.mapping(v, key, map[string]field{
			"timeout": func(key string, v *yaml.Node) {
				hasTimeout = true
				d.intField(&tc.Timeout, 1, math.MaxInt32)(key, v)
			},
			"description": d.str(&tc.Description),
		})
		if !hasTimeout {
			d.errorf(k, "%s.timeout is required (seconds, greater than 0)", key)
		}
		// Kept even when invalid so tools naming it are not reported too;
		// any error discards the whole Config anyway.
		c.TaskClasses = append(c.TaskClasses, tc)
	})
}

func (d *decoder) tools(n *yaml.Node, path string, c *Config) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping of tool name to {task_class, description}, got %s", path, describe(n))
		return
	}
	c.Tools = []Tool{}
	d.pairs(n, path, func(key string, k, v *yaml.Node) {
		t := Tool{Name: k.Value}
		if strings.TrimSpace(t.Name) == "" {
			d.errorf(k, "%s: tool names must not be empty", path)
			return
		}
		d.mapping(v, key, map[string]field{
			"task_class":  d.str(&t.TaskClass),
			"description": d.str(&t.Description),
		})
		if t.TaskClass == "" {
			d.errorf(k, "%s.task_class is required", key)
			return
		}
		c.Tools = append(c.Tools, t)
	})
}

// checkToolClasses runs after the whole file is read because task_classes
// may come after tools.
func (d *decoder) checkToolClasses(root *yaml.Node, c *Config) {
	known := map[string]bool{}
	var names []string
	for _, tc := range append(slices.Clone(builtinClasses), c.TaskClasses...) {
		if !known[tc.Name] {
			known[tc.Name] = true
			names = append(names, tc.Name)
		}
	}
	for _, t := range c.Tools {
		if known[t.TaskClass] {
			continue
		}
		n := findNode(root, "tools", t.Name, "task_class")
		d.errorf(n, "tools.%s.task_class must be one of %s, got %q", t.Name, strings.Join(names, ", "), t.TaskClass)
	}
}

// Scalar field decoders. Each returns a field that reports "key must be
// <what is allowed>, got <what was found>" on the value's line.

func (d *decoder) scalar(key string, v *yaml.Node, want string) bool {
	if v.Kind != yaml.ScalarNode {
		d.errorf(v, "%s must be %s, got %s", key, want, describe(v))
		return false
	}
	return true
}

// str accepts any scalar: `name: 2024` is meant as a string.
func (d *decoder) str(dst *string) field {
	return func(key string, v *yaml.Node) {
		if d.scalar(key, v, "a string") {
			*dst = v.Value
		}
	}
}

func (d *decoder) oneOf(dst *string, allowed ...string) field {
	return func(key string, v *yaml.Node) {
		if !d.scalar(key, v, "a string") {
			return
		}
		if !slices.Contains(allowed, v.Value) {
			d.errorf(v, "%s must be %s, got %q", key, quotedList(allowed), v.Value)
			return
		}
		*dst = v.Value
	}
}

func (d *decoder) boolean(dst *bool) field {
	return func(key string, v *yaml.Node) {
		var b bool
		if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" || v.Decode(&b) != nil {
			d.errorf(v, "%s must be true or false, got %s", key, describe(v))
			return
		}
		*dst = b
	}
}

func (d *decoder) int64Field(dst *int64, lo, hi int64) field {
	return func(key string, v *yaml.Node) {
		var i int64
		// Tag check first: Decode would accept 30.0 for an int.
		if v.Kind != yaml.ScalarNode || v.Tag != "!!int" || v.Decode(&i) != nil || i < lo || i > hi {
			d.errorf(v, "%s must be %s, got %s", key, intRange(lo, hi), describe(v))
			return
		}
		*dst = i
	}
}

func (d *decoder) intField(dst *int, lo, hi int64) field {
	return func(key string, v *yaml.Node) {
		var i int64
		d.int64Field(&i, lo, hi)(key, v)
		if i != 0 {
			*dst = int(i)
		}
	}
}

// seconds reads a positive number of seconds (fractions allowed).
func (d *decoder) seconds(dst *time.Duration) field {
	return func(key string, v *yaml.Node) {
		f, ok := d.positiveSeconds(v)
		if !ok {
			d.errorf(v, "%s must be a number of seconds greater than 0, got %s", key, describe(v))
			return
		}
		*dst = f
	}
}

// secondsAtLeast reads a number of seconds (fractions allowed) of at
// least lo.
func (d *decoder) secondsAtLeast(dst *time.Duration, lo time.Duration) field {
	return func(key string, v *yaml.Node) {
		f, ok := d.positiveSeconds(v)
		if !ok || f < lo {
			d.errorf(v, "%s must be a number of seconds, at least %g, got %s", key, lo.Seconds(), describe(v))
			return
		}
		*dst = f
	}
}

// duration reads a Go duration string ("90s", "1h") or a number of
// seconds, of at least lo.
func (d *decoder) duration(dst *time.Duration, lo time.Duration) field {
	return func(key string, v *yaml.Node) {
		dur, ok := d.positiveSeconds(v)
		if !ok && v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
			parsed, err := time.ParseDuration(v.Value)
			dur, ok = parsed, err == nil && parsed > 0
		}
		if !ok || dur < lo {
			d.errorf(v, "%s must be a duration such as 30m or 1h (or a number of seconds), at least %s, got %s", key, lo, describe(v))
			return
		}
		*dst = dur
	}
}

func (d *decoder) positiveSeconds(v *yaml.Node) (time.Duration, bool) {
	var f float64
	if v.Kind != yaml.ScalarNode || (v.Tag != "!!int" && v.Tag != "!!float") || v.Decode(&f) != nil {
		return 0, false
	}
	if math.IsNaN(f) || f <= 0 || f > float64(maxSeconds) {
		return 0, false
	}
	dur := time.Duration(f * float64(time.Second))
	return dur, dur > 0
}

func (d *decoder) path(dst *string) field {
	return func(key string, v *yaml.Node) {
		if !d.scalar(key, v, "a path") {
			return
		}
		if v.Value == "" {
			*dst = "" // explicit empty keeps "not set"
			return
		}
		if p, ok := d.resolvePath(key, v, v.Value); ok {
			*dst = p
		}
	}
}

func (d *decoder) resolvePath(key string, v *yaml.Node, p string) (string, bool) {
	abs, err := absPath(p, d.dir)
	if err != nil {
		d.errorf(v, "%s %q: %v", key, p, err)
		return "", false
	}
	return abs, true
}

func (d *decoder) baseURL(dst *string) field {
	return func(key string, v *yaml.Node) {
		if !d.scalar(key, v, "a URL") {
			return
		}
		u, err := url.Parse(v.Value)
		if v.Value == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			d.errorf(v, "%s must be an http:// or https:// URL such as http://127.0.0.1:5005, got %q", key, v.Value)
			return
		}
		*dst = strings.TrimRight(v.Value, "/")
	}
}

func (d *decoder) origins(dst *[]string) field {
	return func(key string, v *yaml.Node) {
		var list []string
		if !d.strList(key, v, false, &list) {
			return
		}
		out := []string{}
		for _, o := range list {
			// Browsers send Origin without a trailing slash; a configured
			// "http://x/" would never match.
			o = strings.TrimRight(o, "/")
			u, err := url.Parse(o)
			if o != "*" && (err != nil || u.Scheme == "" || u.Host == "" || u.Path != "") {
				d.errorf(v, "%s entries must be origins such as http://localhost:3000 (or *), got %q", key, o)
				return
			}
			out = append(out, o)
		}
		*dst = out
	}
}

// strList reads a list of strings, or with single also a lone string.
func (d *decoder) strList(key string, v *yaml.Node, single bool, dst *[]string) bool {
	want := "a list of strings"
	if single {
		want = "a list of strings or a single string"
	}
	if single && v.Kind == yaml.ScalarNode && v.Value != "" {
		*dst = []string{v.Value}
		return true
	}
	if v.Kind != yaml.SequenceNode {
		d.errorf(v, "%s must be %s, got %s", key, want, describe(v))
		return false
	}
	out := []string{}
	for _, item := range v.Content {
		item = resolve(item)
		if item.Kind != yaml.ScalarNode || isNull(item) || item.Value == "" {
			d.errorf(item, "%s must be %s, got an item that is %s", key, want, describe(item))
			return false
		}
		out = append(out, item.Value)
	}
	*dst = out
	return true
}

func (d *decoder) anyMap(dst *map[string]any) field {
	return func(key string, v *yaml.Node) {
		m := map[string]any{}
		if v.Kind != yaml.MappingNode || v.Decode(&m) != nil {
			d.errorf(v, "%s must be a mapping, got %s", key, describe(v))
			return
		}
		*dst = m
	}
}

// Node helpers.

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// findNode returns the value node at keys under root, or the deepest node
// found, so an error can still point at a sensible line.
func findNode(root *yaml.Node, keys ...string) *yaml.Node {
	n := resolve(root)
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			return n
		}
		next := (*yaml.Node)(nil)
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = resolve(n.Content[i+1])
			}
		}
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "an unsupported value"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orTop(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}

func intRange(lo, hi int64) string {
	if hi == math.MaxInt64 || hi == math.MaxInt32 {
		return fmt.Sprintf("an integer of at least %d", lo)
	}
	return fmt.Sprintf("an integer between %d and %d", lo, hi)
}

func quotedList(allowed []string) string {
	q := make([]string, len(allowed))
	for i, a := range allowed {
		q[i] = strconv.Quote(a)
	}
	if len(q) == 1 {
		return q[0]
	}
	return "one of " + strings.Join(q, ", ")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// suggest returns `; did you mean "x"?` for a likely typo of a known key.
func suggest(key string, fields map[string]field) string {
	best, bestDist := "", 3 // more than 2 edits is not a typo
	for k := range fields {
		if dist := editDistance(key, k); dist < bestDist || (dist == bestDist && k < best) {
			best, bestDist = k, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
