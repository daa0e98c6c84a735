// Command sparkqd is the SparkQ daemon: it owns the database and serves the
// HTTP API and the CLI's control socket. Users normally start it through
// `sparkq start` or a service manager.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/peterbourgon/ff/v3"

	"github.com/sparkq/sparkq/daemon"
	"github.com/sparkq/sparkq/daemon/config"
	"github.com/sparkq/sparkq/daemon/sdnotify"
	"github.com/sparkq/sparkq/store/sqlite"
)

// Set with -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "service" {
		return runService(args[1:], os.Getenv, stdout, stderr)
	}
	cmd := "run"
	if len(args) > 0 && (args[0] == "run" || args[0] == "init") {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("sparkqd "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfgPath  = fs.String("config", "", "path to sparkq.yml (env SPARKQ_CONFIG)")
		host     = fs.String("host", "", "HTTP listen address, overrides server.host (env SPARKQ_HOST)")
		port     = fs.Int("port", 0, "HTTP port, overrides server.port (env SPARKQ_PORT)")
		db       = fs.String("db", "", "database file, overrides database.path (env SPARKQ_DB)")
		socket   = fs.String("socket", "", "control socket, overrides control.socket (env SPARKQ_SOCKET)")
		showVer  = fs.Bool("version", false, "print the version and exit")
		quietLog = fs.Bool("quiet", false, "log only to the log file, not to stderr")
		manager  = fs.String("service-manager", "", "supervisor shown by `sparkq status` (the launchd plist sets it; systemd is detected)")
	)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: sparkqd [run|init] [flags]\n       sparkqd service install|uninstall|start|stop|restart|status [--user|--system]\n\n  run      serve the API and control socket (default)\n  init     create or upgrade the database, then exit\n  service  run at login or boot under systemd or launchd\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := ff.Parse(fs, args, ff.WithEnvVarPrefix("SPARKQ")); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		// The flag package reports bad flags itself, but not bad SPARKQ_*
		// variables, which ff returns silently.
		if strings.Contains(err.Error(), "environment variable") {
			fmt.Fprintf(stderr, "sparkqd: %v\n", err)
		}
		return 2
	}
	if *showVer {
		fmt.Fprintf(stdout, "sparkqd %s (commit %s)\n", version, commit)
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sparkqd: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	cwd, _ := os.Getwd()
	exe, _ := os.Executable()
	// Unlike the CLI, not config.SystemDir: the packaged unit names its
	// config, and a daemon started by hand must not adopt its data.
	path, _ := config.Locate(*cfgPath, os.Getenv, cwd, filepath.Dir(exe))
	o := config.Overrides{Host: *host, Port: *port, DBPath: *db, Socket: *socket}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd {
	case "init":
		err = initDB(ctx, path, o, stdout)
	default:
		// Under systemd stderr is the journal, so the log goes there too.
		notify := sdnotify.FromEnv(os.Getenv)
		if *manager == "" && notify.Enabled() {
			*manager = "systemd"
		}
		opts := daemon.Options{ConfigPath: path, Overrides: o, Version: version, ServiceManager: *manager,
			Ready:    func() { tell(notify, sdnotify.Ready, stderr) },
			Stopping: func() { tell(notify, sdnotify.Stopping, stderr) },
		}
		if !*quietLog {
			opts.Stderr = stderr
		}
		err = daemon.Run(ctx, opts)
	}
	if err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	return 0
}

// tell passes a state change to systemd. A lost message is worth a warning,
// not a failed daemon: systemd then reports the start as timed out.
func tell(n sdnotify.Notifier, state string, stderr io.Writer) {
	if err := n.Notify(state); err != nil {
		fmt.Fprintln(stderr, "warning:", err)
	}
}

func initDB(ctx context.Context, path string, o config.Overrides, stdout io.Writer) error {
	cfg, err := daemon.LoadConfig(path, o)
	if err != nil {
		return err
	}
	st, err := sqlite.Open(ctx, cfg.DBPath(), sqlite.Options{Seed: daemon.Seed(cfg)})
	if err != nil {
		return fmt.Errorf("initialise database: %w", err)
	}
	if err := st.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Database ready: %s (schema version %d)\n", cfg.DBPath(), sqlite.SchemaVersion)
	return nil
}
