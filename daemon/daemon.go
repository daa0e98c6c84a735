// Package daemon runs SparkQ's long-lived process: it resolves the
// configuration, holds the lockfile, opens the store, starts the reaper and
// serves the API over TCP and over the control socket until told to stop.
package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/sparkq/sparkq/control"
	"github.com/sparkq/sparkq/daemon/config"
	"github.com/sparkq/sparkq/daemon/lockfile"
	"github.com/sparkq/sparkq/daemon/scripts"
	"github.com/sparkq/sparkq/daemon/token"
	"github.com/sparkq/sparkq/httpd"
	"github.com/sparkq/sparkq/httpd/events"
	"github.com/sparkq/sparkq/reaper"
	"github.com/sparkq/sparkq/store"
	"github.com/sparkq/sparkq/store/sqlite"
)

// Options configure one run of the daemon.
type Options struct {
	ConfigPath string           // from config.Locate; "" runs on defaults
	Overrides  config.Overrides // flags and SPARKQ_* variables
	Version    string
	// Stderr also receives the log when running in the foreground, and
	// under systemd, where stderr is the journal.
	Stderr io.Writer
	// Ready is called once both listeners accept connections.
	Ready func()
	// Stopping is called when shutdown begins.
	Stopping func()
	// ServiceManager names what supervises us ("systemd", "launchd"), if any.
	ServiceManager string
}

// shutdownGrace bounds how long in-flight requests may take to finish.
const shutdownGrace = 10 * time.Second

// Run serves until ctx is cancelled or a client asks for shutdown.
func Run(ctx context.Context, opts Options) error {
	cfg, err := LoadConfig(opts.ConfigPath, opts.Overrides)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir(), 0o700); err != nil {
		return fmt.Errorf("create data folder %s: %w", cfg.DataDir(), err)
	}
	level := new(slog.LevelVar)
	level.Set(cfg.LogLevel())
	logFile, err := openLog(cfg.LogPath())
	if err != nil {
		return err
	}
	defer logFile.Close()
	var out io.Writer = logFile
	if opts.Stderr != nil {
		out = io.MultiWriter(logFile, opts.Stderr)
	}
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}))

	lock, err := lockfile.Acquire(cfg.LockPath())
	if err != nil {
		return err
	}
	defer lock.Release()

	apiToken, err := loadAPIToken(cfg)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(cfg.Server.Host); ip != nil && ip.IsUnspecified() && len(cfg.Server.AllowedHosts) == 0 {
		log.Warn("server.host is a wildcard address: requests from other machines are refused (403) until the name or address they use is listed in server.allowed_hosts", "host", cfg.Server.Host)
	}

	st, err := sqlite.Open(ctx, cfg.DBPath(), sqlite.Options{Seed: Seed(cfg)})
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("close database", "err", err)
		}
	}()

	addr := net.JoinHostPort(cfg.Server.Host, strconv.Itoa(cfg.Server.Port))
	tcp, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another program using port %d? choose another with --port or server.port)", addr, err, cfg.Server.Port)
	}
	defer tcp.Close()
	sock, err := control.Listen(cfg.SocketPath())
	if err != nil {
		return err
	}
	defer func() {
		sock.Close()
		os.Remove(cfg.SocketPath())
	}()

	// Every writer gets the wrapped store, so API changes, auto-fails and
	// purges all reach the dashboard's event stream.
	bus := events.New(0)
	wrapped := events.Wrap(st, bus)
	rp := reaper.New(wrapped, reaper.Settings{}, nil, log.With("component", "reaper"))
	d := &daemon{
		cfg: cfg, opts: opts, log: log, level: level, store: st, reaper: rp,
		started: time.Now(), httpAddr: tcp.Addr().String(), stop: make(chan struct{}),
	}
	// The reaper follows the precedence rule (reaper.Resolve) from the
	// start, and again after every config write through the API.
	d.applySettings(ctx)
	api := httpd.Config{
		Store: settingsStore{Store: wrapped, changed: d.applySettings}, Events: bus, Logger: log.With("component", "httpd"), Version: opts.Version,
		MaxBodyBytes: cfg.Server.MaxBodyBytes, AllowedHosts: allowedHosts(cfg),
		AllowedOrigins: cfg.Server.CORSOrigins, AllowCredentials: cfg.Server.CORSAllowCredentials,
		// Both listeners share one script index and reload through d.
		Settings: d.config, Reloader: d, Scripts: scripts.NewIndex(),
	}
	tcpAPI := api
	tcpAPI.APIToken = apiToken
	sockAPI := api
	sockAPI.Control = d
	servers := []*http.Server{newServer(httpd.New(tcpAPI), log), newServer(httpd.New(sockAPI), log)}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	serveErr := make(chan error, 2)
	for i, l := range []net.Listener{tcp, sock} {
		wg.Add(1)
		go func(srv *http.Server, l net.Listener) {
			defer wg.Done()
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				serveErr <- fmt.Errorf("serve %s: %w", l.Addr(), err)
			}
		}(servers[i], l)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		rp.Run(runCtx)
	}()

	log.Info("sparkq started", "version", opts.Version, "pid", os.Getpid(), "http", "http://"+d.httpAddr,
		"socket", cfg.SocketPath(), "db", cfg.DBPath(), "config", cfg.File(), "api_token", apiToken != "",
		"service_manager", opts.ServiceManager)
	if opts.Ready != nil {
		opts.Ready()
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down", "reason", "signal")
	case <-d.stop:
		log.Info("shutting down", "reason", "shutdown request")
	case runErr = <-serveErr:
		log.Error("listener failed, shutting down", "err", runErr)
	}
	if opts.Stopping != nil {
		opts.Stopping()
	}
	// End open event streams first: Shutdown waits for them otherwise.
	bus.Close()
	shutCtx, shutCancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer shutCancel()
	for _, srv := range servers {
		if err := srv.Shutdown(shutCtx); err != nil {
			log.Warn("in-flight requests cut off", "err", err)
		}
	}
	cancel()
	wg.Wait()
	log.Info("sparkq stopped")
	return runErr
}

func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// LoadConfig reads sparkq.yml (or defaults) and applies overrides.
func LoadConfig(path string, o config.Overrides) (config.Config, error) {
	cfg, warns, err := config.Load(path)
	if err != nil {
		return cfg, err
	}
	for _, w := range warns {
		fmt.Fprintln(os.Stderr, "warning:", w.String())
	}
	if err := cfg.Apply(o); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// Seed turns the configured task classes and tools into the store's
// first-start seed.
func Seed(cfg config.Config) *sqlite.Seed {
	seed := &sqlite.Seed{}
	for _, c := range cfg.TaskClasses {
		seed.TaskClasses = append(seed.TaskClasses, store.TaskClass{Name: c.Name, Timeout: c.Timeout, Description: optional(c.Description)})
	}
	for _, t := range cfg.Tools {
		seed.Tools = append(seed.Tools, store.Tool{Name: t.Name, TaskClass: t.TaskClass, Description: optional(t.Description)})
	}
	seed.Config = httpd.ConfigSeed(cfg)
	return seed
}

// config is the configuration in effect (it changes on reload).
func (d *daemon) config() config.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func openLog(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create log folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	return f, nil
}

// loadAPIToken reads server.api_token_file. Without one the API has no
// authentication, so only loopback addresses may be bound.
func loadAPIToken(cfg config.Config) (string, error) {
	if cfg.Server.APITokenFile == "" {
		if !isLoopback(cfg.Server.Host) {
			return "", fmt.Errorf("refusing to listen on %s without authentication: set server.api_token_file "+
				"(`sparkq setup` can create one) so TCP clients must send its token, or bind 127.0.0.1 (server.host or --host)", cfg.Server.Host)
		}
		return "", nil
	}
	tok, err := token.Load(cfg.Server.APITokenFile)
	if err != nil {
		return "", fmt.Errorf("server.api_token_file: %w", err)
	}
	return tok, nil
}

// allowedHosts are the Host header names the TCP listener answers to:
// loopback names, server.host (unless it is a wildcard address, which no
// client sends) and server.allowed_hosts.
func allowedHosts(cfg config.Config) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if ip := net.ParseIP(cfg.Server.Host); ip == nil || !ip.IsUnspecified() {
		hosts = append(hosts, cfg.Server.Host)
	}
	return append(hosts, cfg.Server.AllowedHosts...)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// daemon answers the socket-only control routes.
type daemon struct {
	cfg      config.Config
	opts     Options
	log      *slog.Logger
	level    *slog.LevelVar
	store    store.Store
	reaper   *reaper.Reaper
	started  time.Time
	httpAddr string

	stopOnce   sync.Once
	stop       chan struct{}
	mu         sync.Mutex // guards cfg on reload
	settingsMu sync.Mutex // serialises applySettings
}

// Status implements httpd.Controller.
func (d *daemon) Status(ctx context.Context) any {
	counts, err := d.store.Counts(ctx)
	if err != nil {
		d.log.Warn("status: count", "err", err)
	}
	rs, _ := json.Marshal(d.reaper.Stats())
	d.mu.Lock()
	cfg := d.cfg
	d.mu.Unlock()
	return control.Status{
		PID:            os.Getpid(),
		Version:        d.opts.Version,
		StartedAt:      d.started.UTC(),
		Uptime:         time.Since(d.started).Round(time.Second).String(),
		HTTPAddr:       "http://" + d.httpAddr,
		Socket:         cfg.SocketPath(),
		DBPath:         cfg.DBPath(),
		ConfigFile:     cfg.File(),
		ServiceManager: d.opts.ServiceManager,
		Counts:         counts,
		Reaper:         rs,
	}
}

// Reload implements httpd.Controller: re-read sparkq.yml and apply what
// can change without a restart (log level, script_dirs, the reaper's
// schedule and retention where no database row overrides them; the
// handlers read the configuration per request). A broken file changes
// nothing and reports file:line.
func (d *daemon) Reload(ctx context.Context) error {
	cfg, err := LoadConfig(d.opts.ConfigPath, d.opts.Overrides)
	if err != nil {
		d.log.Warn("reload refused, keeping the running configuration", "err", err)
		return &store.Error{Kind: store.KindInvalid, Field: "config", Msg: "reload failed, configuration unchanged: " + err.Error()}
	}
	d.mu.Lock()
	old := d.cfg
	d.cfg = cfg
	d.mu.Unlock()
	d.level.Set(cfg.LogLevel())
	d.applySettings(ctx)
	if keys := restartOnly(old, cfg); len(keys) > 0 {
		d.log.Warn("reloaded, but these settings only change with a restart", "keys", keys)
	}
	d.log.Info("configuration reloaded", "config", cfg.File())
	return nil
}

// Shutdown implements httpd.Controller.
func (d *daemon) Shutdown() { d.stopOnce.Do(func() { close(d.stop) }) }
