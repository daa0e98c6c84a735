package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestSocketPathFallback(t *testing.T) {
	short := defaults("/srv/q")
	if got, want := short.SocketPath(), "/srv/q/data/sparkq.sock"; got != want {
		t.Errorf("short SocketPath = %q, want %q", got, want)
	}

	// A data dir deep enough that <dir>/sparkq.sock exceeds sun_path.
	deep := "/" + strings.Repeat("d", 120)
	long := defaults(deep)
	got := long.SocketPath()
	if filepath.Dir(got) != filepath.Clean(os.TempDir()) {
		t.Errorf("long SocketPath = %q, want it under %q", got, os.TempDir())
	}
	if !regexp.MustCompile(`^sparkq-[0-9a-f]{8}\.sock$`).MatchString(filepath.Base(got)) {
		t.Errorf("long SocketPath = %q, want sparkq-<8 hex>.sock", got)
	}
	if len(got) > maxSocketPath {
		t.Errorf("fallback %q is %d bytes, over the %d limit", got, len(got), maxSocketPath)
	}

	// The CLI and the daemon compute it independently and must agree; a
	// different database must not collide.
	again := defaults(deep)
	if again.SocketPath() != got {
		t.Errorf("fallback not deterministic: %q vs %q", again.SocketPath(), got)
	}
	other := defaults(deep + "x")
	if other.SocketPath() == got {
		t.Errorf("different databases share fallback socket %q", got)
	}

	// An explicitly configured socket that is too long falls back too.
	explicit := defaults("/srv/q")
	explicit.Control.Socket = deep + "/s.sock"
	if p := explicit.SocketPath(); len(p) > maxSocketPath || filepath.Dir(p) != filepath.Clean(os.TempDir()) {
		t.Errorf("explicit long socket not shortened: %q", p)
	}
}

func TestSocketPathLimitBoundary(t *testing.T) {
	c := defaults("/srv")
	fits := "/" + strings.Repeat("s", maxSocketPath-1)
	c.Control.Socket = fits
	if got := c.SocketPath(); got != fits {
		t.Errorf("%d-byte socket path replaced by %q", len(fits), got)
	}
	c.Control.Socket = fits + "s"
	if got := c.SocketPath(); got == c.Control.Socket {
		t.Errorf("%d-byte socket path kept; sun_path cannot hold it", len(c.Control.Socket))
	}
}

func TestApply(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	c := defaults("/srv/q")
	err = c.Apply(Overrides{Host: "::1", Port: 6000, DBPath: "rel/x.db"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Host != "::1" || c.Server.Port != 6000 {
		t.Errorf("host/port = %s/%d", c.Server.Host, c.Server.Port)
	}
	// A flag path is relative to where the user typed it, not the config.
	if want := filepath.Join(cwd, "rel/x.db"); c.DBPath() != want {
		t.Errorf("DBPath = %q, want %q", c.DBPath(), want)
	}
	// Derived paths move with the database.
	if want := filepath.Join(cwd, "rel/sparkq.lock"); c.LockPath() != want {
		t.Errorf("LockPath = %q, want %q", c.LockPath(), want)
	}
	if err := c.Apply(Overrides{Socket: "/run/s.sock"}); err != nil {
		t.Fatal(err)
	}
	if c.SocketPath() != "/run/s.sock" || c.Server.Port != 6000 {
		t.Errorf("second Apply: socket %q port %d", c.SocketPath(), c.Server.Port)
	}
	if err := c.Apply(Overrides{DBPath: "~nobody/x.db"}); err == nil {
		t.Error("Apply accepted a ~user path")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"defaults are valid", func(*Config) {}, ""},
		{"empty host", func(c *Config) { c.Server.Host = "" }, "server.host"},
		{"port zero", func(c *Config) { c.Server.Port = 0 }, "server.port must be an integer between 1 and 65535, got 0"},
		{"port too big", func(c *Config) { c.Server.Port = 65536 }, "server.port"},
		{"relative db", func(c *Config) { c.Database.Path = "x.db" }, "database.path"},
		{"mode", func(c *Config) { c.Database.Mode = "delete" }, "database.mode"},
		{"purge days", func(c *Config) { c.Purge.OlderThanDays = 0 }, "purge.older_than_days"},
		{"purge interval too short", func(c *Config) { c.Purge.Interval = time.Millisecond }, "purge.interval must be at least 1s, got 1ms"},
		{"purge interval minimum", func(c *Config) { c.Purge.Interval = MinPurgeInterval }, ""},
		{"log level", func(c *Config) { c.Log.Level = "trace" }, "log.level"},
		{"body limit", func(c *Config) { c.Server.MaxBodyBytes = 0 }, "server.max_body_bytes"},
		{"poll", func(c *Config) { c.QueueRunner.PollInterval = 0 }, "queue_runner.poll_interval"},
		{"tool class", func(c *Config) { c.Tools = []Tool{{Name: "t", TaskClass: "NOPE"}} }, "tools.t.task_class"},
		{"custom class ok", func(c *Config) {
			c.TaskClasses = []TaskClass{{Name: "MINE", Timeout: 1}}
			c.Tools = []Tool{{Name: "t", TaskClass: "MINE"}, {Name: "u", TaskClass: "LLM_LITE"}}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := defaults("/srv/q")
			tt.mutate(&c)
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestBaseURL(t *testing.T) {
	tests := []struct {
		host, configured, want string
	}{
		{"127.0.0.1", "", "http://127.0.0.1:5005"},
		{"0.0.0.0", "", "http://127.0.0.1:5005"},
		{"::", "", "http://127.0.0.1:5005"},
		{"::1", "", "http://[::1]:5005"},
		{"box.lan", "", "http://box.lan:5005"},
		{"127.0.0.1", "https://q.example", "https://q.example"},
	}
	for _, tt := range tests {
		c := defaults("/srv")
		c.Server.Host, c.QueueRunner.BaseURL = tt.host, tt.configured
		if got := c.BaseURL(); got != tt.want {
			t.Errorf("BaseURL(host %q, base_url %q) = %q, want %q", tt.host, tt.configured, got, tt.want)
		}
	}
}

func TestLogLevel(t *testing.T) {
	for level, want := range logLevels {
		c := Config{Log: Log{Level: level}}
		if got := c.LogLevel(); got != want {
			t.Errorf("LogLevel(%q) = %v, want %v", level, got, want)
		}
	}
}
