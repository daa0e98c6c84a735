package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/sparkq/sparkq/daemon"
	"github.com/sparkq/sparkq/daemon/config"
	"github.com/sparkq/sparkq/daemon/service"
)

const serviceUsage = `usage: sparkqd service ACTION [--user|--system] [flags]

Runs SparkQ at login (--user, the default) or at boot (--system, the
default as root) under systemd (Linux) or launchd (macOS).

  install    write the service file and enable it (install [--config PATH] [--run-as USER])
  uninstall  stop, disable and remove the service file install wrote
  start      start the installed service now
  stop       stop it; it starts again at the next login or boot
  restart    stop and start, e.g. after a reinstall
  status     installed? running? (exit 3 when not running; --json)

Where the sparkq package installed its system unit and the scope has none
of its own, status, start, stop and restart act on the package's unit, and
install refuses to add a second daemon beside it.

flags:
`

// exitNotRunning is what `service status` returns for a stopped or absent
// service, as `sparkq status` does.
const exitNotRunning = 3

// runService implements `sparkqd service ACTION [flags]`; `sparkq service`
// passes its arguments here.
func runService(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	action := ""
	if len(args) > 0 {
		action, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("sparkqd service "+action, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, serviceUsage); fs.PrintDefaults() }
	userScope := fs.Bool("user", false, "the current user's service, started at login (default unless root)")
	systemScope := fs.Bool("system", false, "the machine's service, started at boot (default as root)")
	var cfgPath, runAs *string
	var jsonOut *bool
	switch action {
	case "install":
		cfgPath = fs.String("config", "", "sparkq.yml the service runs with (env SPARKQ_CONFIG; default: the one sparkq finds now)")
		runAs = fs.String("run-as", "", "account a --system service runs as (default: $SUDO_USER, else you)")
	case "status":
		jsonOut = fs.Bool("json", false, "print the status as JSON")
	case "uninstall", "start", "stop", "restart":
	default:
		if action != "" && action != "-h" && action != "--help" && action != "help" {
			fmt.Fprintf(stderr, "sparkqd service: unknown action %q\n", action)
		}
		fs.Usage()
		return 2
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || (*userScope && *systemScope) {
		fmt.Fprintln(stderr, "sparkqd service: give --user or --system, and no other arguments")
		return 2
	}
	scope := service.User
	if *systemScope || (!*userScope && os.Geteuid() == 0) {
		scope = service.System
	}
	m, err := service.New(scope)
	if err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	what := fmt.Sprintf("a %s %s service", map[string]string{"linux": "systemd", "darwin": "launchd"}[runtime.GOOS], scope)

	switch action {
	case "install":
		err = install(m, scope, what, *cfgPath, *runAs, getenv, stdout)
	case "uninstall":
		var change service.Change
		if change, err = m.Uninstall(); change == service.Absent {
			fmt.Fprintf(stdout, "SparkQ is not installed as %s (no %s); nothing to remove.\n", what, m.File())
			if p := m.PackagedUnit(); p != "" {
				fmt.Fprintf(stdout, "%s belongs to the sparkq package: removing the package removes it.\n", p)
			}
		} else if err == nil {
			fmt.Fprintf(stdout, "Removed %s: SparkQ no longer runs as %s. Its data, logs and config are kept.\n", m.File(), what)
		}
	case "start", "stop", "restart":
		do := map[string]func() error{"start": m.Start, "stop": m.Stop, "restart": m.Restart}[action]
		if err = do(); err == nil {
			if p := m.ActsOnPackaged(); p != "" {
				what = "the sparkq package's systemd system service, " + p
			}
			fmt.Fprintf(stdout, "SparkQ (%s): %s done.\n", what, action)
		}
	case "status":
		var st service.Status
		if st, err = m.Status(); err == nil {
			printServiceStatus(stdout, st, what, *jsonOut)
			if !st.Running {
				return exitNotRunning
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	return 0
}

func install(m *service.Manager, scope service.Scope, what, cfgPath, runAs string, getenv func(string) string, stdout io.Writer) error {
	spec, err := installSpec(scope, cfgPath, runAs, getenv)
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	change, err := m.Install(spec)
	if err != nil {
		return err
	}
	switch change {
	case service.Unchanged:
		fmt.Fprintf(stdout, "SparkQ is already installed as %s: %s (unchanged).\n", what, m.File())
		return nil
	case service.Replaced:
		fmt.Fprintf(stdout, "Updated %s. If SparkQ is running, `sparkq service restart` applies it.\n", m.File())
		return nil
	}
	when := "at login"
	switch {
	case scope == service.System:
		when = "at boot, as " + spec.RunAs
	case runtime.GOOS == "linux":
		when = "at login (at boot too after `loginctl enable-linger`)"
	}
	fmt.Fprintf(stdout, "Installed SparkQ as %s: %s\nIt starts %s, with config %s.\nStart it now with `sparkq service start`.\n",
		what, m.File(), when, orDefaults(spec.ConfigFile))
	return nil
}

func orDefaults(path string) string {
	if path == "" {
		return "(none: built-in defaults)"
	}
	return path
}

// installSpec resolves what the service file must say: this sparkqd, the
// config file sparkq finds now (the service keeps using it), and for a
// system service the account it runs as.
func installSpec(scope service.Scope, cfgPath, runAs string, getenv func(string) string) (service.Spec, error) {
	exe, err := os.Executable()
	if err != nil {
		return service.Spec{}, fmt.Errorf("locate sparkqd: %w", err)
	}
	cwd, err := os.Getwd()
	if err != nil {
		return service.Spec{}, err
	}
	// Not config.SystemDir: that config is the packaged service's.
	path, _ := config.Locate(cfgPath, getenv, cwd, filepath.Dir(exe))
	cfg, err := daemon.LoadConfig(path, config.Overrides{})
	if err != nil {
		return service.Spec{}, err
	}
	spec := service.Spec{Scope: scope, Executable: exe, ConfigFile: cfg.File(), WorkingDir: cfg.Dir(),
		LogDir: filepath.Dir(cfg.LogPath())}
	if cfg.File() == "" {
		// On defaults the data lives in the home of whoever runs it.
		if scope == service.System {
			return spec, errors.New("a system service needs a config file, so that where its data lives does not depend on whose home it runs in: pass --config PATH (`sparkq setup` writes one)")
		}
		if spec.WorkingDir, err = os.UserHomeDir(); err != nil {
			return spec, err
		}
	}
	if scope == service.System {
		if spec.RunAs, spec.Home, err = account(runAs, getenv); err != nil {
			return spec, err
		}
	} else if runAs != "" {
		return spec, errors.New("--run-as is for --system services; a --user service runs as you")
	}
	if runtime.GOOS == "darwin" {
		// launchd opens the output file before starting the daemon, and
		// does not create its folder.
		if err := logDir(spec.LogDir, spec.RunAs); err != nil {
			return spec, err
		}
	}
	return spec, nil
}

// account picks the account a system service runs as: --run-as, else the
// user who ran sudo, else the current user; root only when asked for.
func account(runAs string, getenv func(string) string) (name, home string, err error) {
	name = runAs
	if name == "" {
		name = getenv("SUDO_USER")
	}
	if name == "" {
		u, err := user.Current()
		if err != nil {
			return "", "", fmt.Errorf("who am I: %w", err)
		}
		name = u.Username
	}
	if name == "root" && runAs == "" {
		return "", "", errors.New("refusing to run the daemon as root by default: pass --run-as USER (or --run-as root if you mean it)")
	}
	u, err := user.Lookup(name)
	if err != nil {
		return "", "", fmt.Errorf("--run-as: %w", err)
	}
	return u.Username, u.HomeDir, nil
}

// logDir creates the log folder, owned by the account the daemon runs as.
func logDir(dir, owner string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create log folder %s: %w", dir, err)
	}
	if owner == "" {
		return nil
	}
	u, err := user.Lookup(owner)
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return fmt.Errorf("hand log folder %s to %s: %w", dir, owner, err)
	}
	return nil
}

func printServiceStatus(w io.Writer, st service.Status, what string, asJSON bool) {
	if asJSON {
		b, _ := json.MarshalIndent(map[string]any{"scope": st.Scope, "platform": st.Platform, "file": st.File,
			"installed": st.Installed, "packaged": st.Packaged, "running": st.Running}, "", "  ")
		fmt.Fprintln(w, string(b))
		return
	}
	state := "not installed"
	switch {
	case st.Running:
		state = "running"
	case st.Installed:
		state = "installed, not running"
	}
	if st.Packaged {
		what = "the sparkq package's systemd system service"
	}
	fmt.Fprintf(w, "SparkQ as %s: %s\n  File: %s\n", what, state, st.File)
	if st.Packaged {
		fmt.Fprintf(w, "  Manage it with systemctl: `sudo systemctl start|stop|restart|status sparkq`.\n"+
			"  Its socket is the sparkq user's: `sudo -u sparkq sparkq status`.\n")
	}
}
