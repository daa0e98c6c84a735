// Package config reads sparkq.yml and resolves the paths the daemon and the
// CLI must agree on (database, control socket, lockfile, log).
//
// It deliberately imports nothing from the server or any database driver: the
// lightweight CLI links it only to find the daemon's socket.
package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is the whole of sparkq.yml. Go field names mirror the YAML keys
// (repo_path → RepoPath). After Load, path fields are absolute.
type Config struct {
	Project     Project
	Server      Server
	Database    Database
	Control     Control
	Purge       Purge
	QueueRunner QueueRunner
	Log         Log
	// ScriptDirs accepts a list or a single string in YAML.
	ScriptDirs       []string
	SparkQScriptsDir string // informational; written by `sparkq setup`
	// TaskClasses and Tools keep the file's order. A key that is absent from
	// the file keeps the built-in list; a present key replaces it entirely.
	TaskClasses []TaskClass
	Tools       []Tool
	Features    Features
	Defaults    Defaults

	file string // config file path, "" when running on defaults
	dir  string // base for relative paths: the config file's folder
}

// Project is informational only.
type Project struct {
	Name     string
	RepoPath string
	PRDPath  string
}

// Server configures the TCP listener (HTTP API and dashboard).
type Server struct {
	Host                 string
	Port                 int
	CORSOrigins          []string
	CORSAllowCredentials bool
	AllowedHosts         []string
	APITokenFile         string
	MaxBodyBytes         int64
}

// Database locates the SQLite file.
type Database struct {
	Path string
	Mode string // always "wal"
}

// Control locates the Unix socket; empty Socket means the default beside the
// database (see SocketPath).
type Control struct {
	Socket string
}

// Purge configures deletion of old finished tasks.
type Purge struct {
	OlderThanDays int
	Interval      time.Duration // at least MinPurgeInterval
}

// MinPurgeInterval is the shortest purge.interval: the reaper purges once
// per interval, so a tiny one would keep it busy without pause.
const MinPurgeInterval = time.Second

// MinSweepInterval is the shortest queue_runner.auto_fail_interval_seconds,
// for the same reason (the API takes whole seconds of at least 1 too).
const MinSweepInterval = time.Second

// QueueRunner configures the queue runner and the daemon's stale-task sweep.
type QueueRunner struct {
	PollInterval     time.Duration // yaml: poll_interval (seconds)
	AutoFailInterval time.Duration // yaml: auto_fail_interval_seconds
	BaseURL          string        // "" = derived, see BaseURL()
	LockDir          string        // "" = system temp dir
}

// Log configures the daemon's log output; empty File means the default
// beside the database (see LogPath).
type Log struct {
	Level string // debug|info|warn|error
	File  string
}

// TaskClass is one entry of task_classes.
type TaskClass struct {
	Name        string
	Timeout     int // seconds, > 0
	Description string
}

// Tool is one entry of tools.
type Tool struct {
	Name        string
	TaskClass   string
	Description string
}

// Features is accepted and kept; nothing in SparkQ reads it yet.
type Features struct {
	Flags map[string]any
}

// Defaults holds per-install defaults for new queues and the LLM model.
type Defaults struct {
	Queue map[string]any
	Model string
}

// Overrides carries command-line flag and environment values; zero fields
// leave the file's value alone. Relative paths are taken from the caller's
// working directory, as a user typing a flag would expect.
type Overrides struct {
	Host   string
	Port   int
	DBPath string
	Socket string
}

// builtinClasses are the task classes a tool may name without declaring
// them; their timeouts are the shipped defaults.
var builtinClasses = []TaskClass{
	{Name: "FAST_SCRIPT", Timeout: 120, Description: "Quick scripts and checks"},
	{Name: "MEDIUM_SCRIPT", Timeout: 600, Description: "Longer scripts"},
	{Name: "LLM_LITE", Timeout: 480, Description: "Small, fast LLM calls"},
	{Name: "LLM_HEAVY", Timeout: 1200, Description: "Large LLM calls"},
}

var builtinTools = []Tool{
	{Name: "run-bash", TaskClass: "MEDIUM_SCRIPT", Description: "Bash script"},
	{Name: "run-python", TaskClass: "MEDIUM_SCRIPT", Description: "Python script"},
	{Name: "llm-haiku", TaskClass: "LLM_LITE", Description: "Haiku"},
	{Name: "llm-sonnet", TaskClass: "LLM_HEAVY", Description: "Sonnet"},
	{Name: "llm-codex", TaskClass: "LLM_HEAVY", Description: "Codex"},
	{Name: "quick-check", TaskClass: "FAST_SCRIPT", Description: "Quick validation check"},
	{Name: "script-index", TaskClass: "MEDIUM_SCRIPT", Description: "Index project scripts"},
}

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

const (
	defaultDBPath = "data/sparkq.db"
	// maxSocketPath is the longest socket path every supported OS accepts:
	// sun_path is 104 bytes on macOS (108 on Linux) including the NUL.
	maxSocketPath = 103
	// maxSeconds keeps seconds*time.Second inside an int64.
	maxSeconds = math.MaxInt64 / int64(time.Second)
)

// defaults returns the built-in configuration with relative paths resolved
// against dir. default.yml documents the same values; a test keeps them equal.
func defaults(dir string) Config {
	return Config{
		Project: Project{Name: "sparkq-local"},
		Server: Server{
			Host:         "127.0.0.1",
			Port:         5005,
			CORSOrigins:  []string{},
			AllowedHosts: []string{},
			MaxBodyBytes: 1 << 20,
		},
		Database:    Database{Path: filepath.Join(dir, defaultDBPath), Mode: "wal"},
		Purge:       Purge{OlderThanDays: 3, Interval: time.Hour},
		QueueRunner: QueueRunner{PollInterval: 30 * time.Second, AutoFailInterval: 30 * time.Second},
		Log:         Log{Level: "info"},
		ScriptDirs:  []string{filepath.Join(dir, "scripts")},
		TaskClasses: append([]TaskClass(nil), builtinClasses...),
		Tools:       append([]Tool(nil), builtinTools...),
		Features:    Features{Flags: map[string]any{}},
		Defaults:    Defaults{Queue: map[string]any{}, Model: "llm-sonnet"},
		dir:         dir,
	}
}

// File is the config file in use, or "" when running on defaults.
func (c *Config) File() string { return c.file }

// Dir is the folder relative paths resolve against: the config file's
// folder, or the default data home when there is no file.
func (c *Config) Dir() string { return c.dir }

// DBPath is the absolute path of the SQLite database.
func (c *Config) DBPath() string { return c.Database.Path }

// DataDir is the folder holding the database; the lockfile, and by default
// the socket and logs, live there too.
func (c *Config) DataDir() string { return filepath.Dir(c.Database.Path) }

// LockPath is the daemon's lockfile, beside the database so that one
// database can never have two daemons.
func (c *Config) LockPath() string { return filepath.Join(c.DataDir(), "sparkq.lock") }

// LogPath is the daemon's log file.
func (c *Config) LogPath() string {
	if c.Log.File != "" {
		return c.Log.File
	}
	return filepath.Join(c.DataDir(), "logs", "sparkq.log")
}

// SocketPath is the control socket. The default is derived from the database
// path at call time so a --db override moves the socket with it. A path too
// long for sun_path is replaced by a short name in os.TempDir() derived from
// the database path, so the CLI and the daemon still agree. The temp dir is
// shared with other users: the listener must refuse a socket it does not own
// and the client should check the socket's owner.
func (c *Config) SocketPath() string {
	p := c.Control.Socket
	if p == "" {
		p = filepath.Join(c.DataDir(), "sparkq.sock")
	}
	if len(p) <= maxSocketPath {
		return p
	}
	sum := sha256.Sum256([]byte(c.Database.Path))
	return filepath.Join(os.TempDir(), "sparkq-"+hex.EncodeToString(sum[:4])+".sock")
}

// LogLevel is Log.Level as a slog level (info if unset).
func (c *Config) LogLevel() slog.Level {
	return logLevels[c.Log.Level] // zero value is slog.LevelInfo
}

// BaseURL is the API address the queue runner calls: queue_runner.base_url,
// or one built from server.host/port. A wildcard bind address is not
// reachable as a destination, so it becomes loopback.
func (c *Config) BaseURL() string {
	if c.QueueRunner.BaseURL != "" {
		return c.QueueRunner.BaseURL
	}
	host := c.Server.Host
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(c.Server.Port))
}

// Apply layers flag/env overrides over the file's values. Call Validate
// afterwards: Apply only fails when a path cannot be made absolute.
func (c *Config) Apply(o Overrides) error {
	if o.Host != "" {
		c.Server.Host = o.Host
	}
	if o.Port != 0 {
		c.Server.Port = o.Port
	}
	for _, p := range []struct {
		name string
		in   string
		out  *string
	}{{"database path", o.DBPath, &c.Database.Path}, {"socket path", o.Socket, &c.Control.Socket}} {
		if p.in == "" {
			continue
		}
		abs, err := absPath(p.in, "")
		if err != nil {
			return fmt.Errorf("override %s %q: %w", p.name, p.in, err)
		}
		*p.out = abs
	}
	return nil
}

// Validate checks the final configuration (after Apply). Load already
// reports file problems with line numbers; this catches bad overrides and
// hand-built configs.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if h := c.Server.Host; h == "" || strings.ContainsAny(h, " \t\n/") {
		bad("server.host must be a host name or IP address, got %q", h)
	}
	if p := c.Server.Port; p < 1 || p > 65535 {
		bad("server.port must be an integer between 1 and 65535, got %d", p)
	}
	if c.Server.MaxBodyBytes <= 0 {
		bad("server.max_body_bytes must be greater than 0, got %d", c.Server.MaxBodyBytes)
	}
	if !filepath.IsAbs(c.Database.Path) {
		bad("database.path must resolve to an absolute path, got %q", c.Database.Path)
	}
	if c.Database.Mode != "wal" {
		bad("database.mode must be \"wal\", got %q", c.Database.Mode)
	}
	if c.Purge.OlderThanDays <= 0 {
		bad("purge.older_than_days must be greater than 0, got %d", c.Purge.OlderThanDays)
	}
	if c.Purge.Interval < MinPurgeInterval {
		bad("purge.interval must be at least %s, got %s", MinPurgeInterval, c.Purge.Interval)
	}
	if c.QueueRunner.PollInterval <= 0 {
		bad("queue_runner.poll_interval must be greater than 0, got %s", c.QueueRunner.PollInterval)
	}
	if c.QueueRunner.AutoFailInterval < MinSweepInterval {
		bad("queue_runner.auto_fail_interval_seconds must be at least %s, got %s", MinSweepInterval, c.QueueRunner.AutoFailInterval)
	}
	if _, ok := logLevels[c.Log.Level]; !ok {
		bad("log.level must be one of debug, info, warn, error, got %q", c.Log.Level)
	}
	classes := map[string]bool{}
	for _, tc := range builtinClasses {
		classes[tc.Name] = true
	}
	for _, tc := range c.TaskClasses {
		if tc.Timeout <= 0 {
			bad("task_classes.%s.timeout must be greater than 0, got %d", tc.Name, tc.Timeout)
		}
		classes[tc.Name] = true
	}
	for _, t := range c.Tools {
		if !classes[t.TaskClass] {
			bad("tools.%s.task_class %q is not a known task class", t.Name, t.TaskClass)
		}
	}
	return errors.Join(errs...)
}

// DefaultDataHome is where SparkQ keeps its data when no sparkq.yml exists:
// $XDG_DATA_HOME/sparkq, else ~/.local/share/sparkq.
func DefaultDataHome(getenv func(string) string) (string, error) {
	// The XDG spec says relative values are invalid and must be ignored.
	if x := getenv("XDG_DATA_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "sparkq"), nil
	}
	home := getenv("HOME")
	if !filepath.IsAbs(home) {
		return "", errors.New("cannot choose a data directory: $HOME is not set (set XDG_DATA_HOME, HOME, or use --config)")
	}
	return filepath.Join(home, ".local", "share", "sparkq"), nil
}

// absPath expands a leading ~ and makes p absolute, relative to base (or to
// the working directory when base is "").
func absPath(p, base string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("expand ~: %w", err)
		}
		p = filepath.Join(home, p[1:])
	} else if strings.HasPrefix(p, "~") {
		// ~user would silently become a folder named "~user" otherwise.
		return "", errors.New("~user paths are not supported; use ~/ or an absolute path")
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p), nil
	}
	if base == "" {
		return filepath.Abs(p)
	}
	return filepath.Join(base, p), nil
}
