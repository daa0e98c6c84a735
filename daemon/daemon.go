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
	"github.com/sparkq/sparkq/httpd"
	"github.com/sparkq/sparkq/reaper"
	"github.com/sparkq/sparkq/store"
	"github.com/sparkq/sparkq/store/sqlite"
)

// Options configure one run of the daemon.
type Options struct {
	ConfigPath string           // from config.Locate; "" runs on defaults
	Overrides  config.Overrides // flags and SPARKQ_* variables
	Version    string
	// Stderr also receives the log when running in the foreground.
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

	if !isLoopback(cfg.Server.Host) {
		return fmt.Errorf("refusing to listen on %s: the API has no authentication yet, so SparkQ only binds loopback addresses (set server.host to 127.0.0.1 or pass --host 127.0.0.1)", cfg.Server.Host)
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

	rp := reaper.New(st, reaperSettings(cfg), nil, log.With("component", "reaper"))
	d := &daemon{
		cfg: cfg, opts: opts, log: log, level: level, store: st, reaper: rp,
		started: time.Now(), httpAddr: tcp.Addr().String(), stop: make(chan struct{}),
	}
	api := httpd.Config{
		Store: st, Logger: log.With("component", "httpd"), Version: opts.Version,
		MaxBodyBytes: cfg.Server.MaxBodyBytes, AllowedHosts: cfg.Server.AllowedHosts,
		AllowedOrigins: cfg.Server.CORSOrigins,
	}
	tcpAPI := api
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
		"socket", cfg.SocketPath(), "db", cfg.DBPath(), "config", cfg.File())
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
	return seed
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func reaperSettings(cfg config.Config) reaper.Settings {
	return reaper.Settings{
		SweepInterval: cfg.QueueRunner.AutoFailInterval,
		PurgeInterval: cfg.Purge.Interval,
		RetentionDays: cfg.Purge.OlderThanDays,
	}
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

	stopOnce sync.Once
	stop     chan struct{}
	mu       sync.Mutex // guards cfg on reload
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
// can change without a restart (log level, reaper schedule and retention).
// A broken file changes nothing and reports file:line.
func (d *daemon) Reload(ctx context.Context) error {
	cfg, err := LoadConfig(d.opts.ConfigPath, d.opts.Overrides)
	if err != nil {
		d.log.Warn("reload refused, keeping the running configuration", "err", err)
		return &store.Error{Kind: store.KindInvalid, Field: "config", Msg: "reload failed, configuration unchanged: " + err.Error()}
	}
	d.mu.Lock()
	d.cfg = cfg
	d.mu.Unlock()
	d.level.Set(cfg.LogLevel())
	d.reaper.Update(reaperSettings(cfg))
	d.log.Info("configuration reloaded", "config", cfg.File())
	return nil
}

// Shutdown implements httpd.Controller.
func (d *daemon) Shutdown() { d.stopOnce.Do(func() { close(d.stop) }) }
