// Package service installs and controls sparkqd as an OS service: a systemd
// unit on Linux, a launchd plist on macOS, for the user (start at login) or
// the system (start at boot).
//
// SparkQ renders the service files itself (Render; golden-tested) and hands
// them to github.com/kardianos/service, which writes them where the OS
// expects and drives systemctl or launchctl. Installing twice is harmless,
// and uninstall removes only a file that install wrote.
//
// The .deb and .rpm install their own system unit, sparkq.service in
// /usr/lib/systemd/system. Where a scope has no unit of its own, status,
// start, stop and restart act on that one; install refuses to add a second
// daemon beside it.
package service

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"

	kservice "github.com/kardianos/service"
)

// Change says what Install or Uninstall did.
type Change string

const (
	Installed Change = "installed" // wrote a new service file and enabled it
	Replaced  Change = "replaced"  // an older file of ours was rewritten
	Unchanged Change = "unchanged" // the same file was already there
	Removed   Change = "removed"   // disabled and deleted our file
	Absent    Change = "absent"    // there was nothing to uninstall
)

// Status is what the OS service manager knows of the daemon.
type Status struct {
	Scope     Scope
	Platform  string // "linux-systemd", "darwin-launchd"
	File      string // where the service file lives
	Installed bool   // the file exists and install wrote it, or the package did (Packaged)
	// Packaged: this scope has no unit of its own, and the state is that
	// of the unit the .deb or .rpm installed (File), a system service
	// managed with systemctl.
	Packaged bool
	Running  bool
}

// Manager installs and controls the daemon in one scope.
type Manager struct {
	goos  string
	scope Scope
	file  string
	cfg   *kservice.Config
	svc   kservice.Service
	// booted reports whether the OS service manager runs here, like
	// sd_booted(3); tests replace it.
	booted func() bool
	// packaged are where the .deb and .rpm put their unit (packagedUnits);
	// tests replace them.
	packaged []string
}

// New returns a Manager for scope on this machine.
func New(scope Scope) (*Manager, error) {
	if scope != User && scope != System {
		return nil, fmt.Errorf("scope must be %q or %q, got %q", User, System, scope)
	}
	goos := runtime.GOOS
	// kardianos/service picks the first init system it detects; SparkQ
	// only writes systemd units and launchd plists, so ask for those by
	// name. Detection would pick SysV init scripts in a container without
	// systemd as PID 1, for instance.
	want := map[string]string{"linux": "linux-systemd", "darwin": "darwin-launchd"}[goos]
	var sys kservice.System
	for _, s := range kservice.AvailableSystems() {
		if s.String() == want {
			sys = s
		}
	}
	if sys == nil {
		return nil, unsupported(goos)
	}
	file, err := filePath(goos, scope)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(SystemdUnit, ".service")
	if goos == "darwin" {
		name = LaunchdLabel
	}
	cfg := &kservice.Config{
		Name:        name,
		DisplayName: "SparkQ",
		Description: "SparkQ task queue daemon",
		Option:      kservice.KeyValue{"UserService": scope == User},
	}
	svc, err := sys.New(noProgram{}, cfg)
	if err != nil {
		return nil, fmt.Errorf("set up %s service: %w", sys, err)
	}
	m := &Manager{goos: goos, scope: scope, file: file, cfg: cfg, svc: svc, booted: booted(goos)}
	if goos == "linux" {
		m.packaged = packagedUnits
	}
	return m, nil
}

func booted(goos string) func() bool {
	return func() bool {
		if goos != "linux" {
			return true // launchd is always PID 1 on macOS
		}
		fi, err := os.Stat("/run/systemd/system")
		return err == nil && fi.IsDir()
	}
}

// errNotBooted explains why nothing was installed in a container or on a
// machine with another init system.
func (m *Manager) errNotBooted(action string) error {
	return fmt.Errorf("%s: systemd is not running on this machine (no /run/systemd/system), so SparkQ cannot run as a systemd service here; use `sparkq start` instead", action)
}

// noProgram satisfies kardianos/service: sparkqd runs its own main loop and
// handles signals itself, so Service.Run is never called.
type noProgram struct{}

func (noProgram) Start(kservice.Service) error { return nil }
func (noProgram) Stop(kservice.Service) error  { return nil }

// filePath is where kardianos/service writes the file for scope; the
// Manager reads it there to decide whether the file is its own.
func filePath(goos string, scope Scope) (string, error) {
	switch {
	case goos == "linux" && scope == System:
		return "/etc/systemd/system/" + SystemdUnit, nil
	case goos == "darwin" && scope == System:
		return "/Library/LaunchDaemons/" + LaunchdLabel + ".plist", nil
	case goos == "linux":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the systemd user unit folder: %w", err)
		}
		return filepath.Join(home, ".config", "systemd", "user", SystemdUnit), nil
	default:
		// kardianos/service asks the user database first on macOS.
		u, err := user.Current()
		if err != nil {
			return "", fmt.Errorf("find the LaunchAgents folder: %w", err)
		}
		return filepath.Join(u.HomeDir, "Library", "LaunchAgents", LaunchdLabel+".plist"), nil
	}
}

// File is where this scope's service file lives.
func (m *Manager) File() string { return m.file }

// packagedUnits are where the .deb and .rpm put their sparkq.service, a
// system unit (systemd/sparkq.service) that runs as user sparkq.
var packagedUnits = []string{"/usr/lib/systemd/system/" + SystemdUnit, "/lib/systemd/system/" + SystemdUnit}

// PackagedUnit is the unit file the sparkq package installed, or "".
func (m *Manager) PackagedUnit() string {
	for _, p := range m.packaged {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// ActsOnPackaged is the packaged unit that Status, Start, Stop and Restart
// act on, or "": they do when this scope has no unit file of its own, so a
// packaged machine needs no `--system`.
func (m *Manager) ActsOnPackaged() string {
	if _, err := os.Stat(m.file); !errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	return m.PackagedUnit()
}

// Install writes the service file for spec and registers it to start at
// login or boot; it does not start the daemon now.
func (m *Manager) Install(spec Spec) (Change, error) {
	if spec.Scope != m.scope {
		return "", fmt.Errorf("install: spec is for a %s service, manager for a %s one", spec.Scope, m.scope)
	}
	content, err := Render(m.goos, spec)
	if err != nil {
		return "", fmt.Errorf("install: %w", err)
	}
	// kardianos/service treats the file as a template; ours has no actions
	// and so comes out verbatim unless a path contains "{{".
	if strings.Contains(content, "{{") {
		return "", errors.New(`install: a path contains "{{", which the service file writer cannot take`)
	}
	// A second daemon beside the packaged one would compete for its port
	// (5005 in both default configs), and a system unit of ours in
	// /etc/systemd/system would silently replace the package's.
	if p := m.PackagedUnit(); p != "" {
		own := ""
		if _, err := os.Stat(m.file); err == nil {
			own = fmt.Sprintf(" (`sparkq service uninstall` still removes %s)", m.file)
		}
		return "", fmt.Errorf("install: the sparkq package already runs SparkQ as the system service %s; "+
			"use it with `sudo systemctl enable --now sparkq` (change it with `sudo systemctl edit sparkq`), "+
			"or run a daemon of your own with `sparkq start` and a sparkq.yml with another server.port%s", p, own)
	}
	if !m.booted() {
		return "", m.errNotBooted("install")
	}
	change := Installed
	old, err := os.ReadFile(m.file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return "", fmt.Errorf("install: %w", err)
	case !bytes.Contains(old, []byte(marker)):
		return "", fmt.Errorf("install: %s exists and was not written by sparkqd; leaving it alone (remove it yourself to install)", m.file)
	case string(old) == content:
		return Unchanged, nil
	default:
		// kardianos/service refuses to overwrite; the old file is ours.
		if err := os.Remove(m.file); err != nil {
			return "", fmt.Errorf("install: replace %s: %w", m.file, err)
		}
		change = Replaced
	}

	m.cfg.Executable = spec.Executable
	m.cfg.Arguments = spec.args(m.goos)
	m.cfg.WorkingDirectory = spec.WorkingDir
	m.cfg.UserName = spec.RunAs
	m.cfg.Option["SystemdScript"] = content
	m.cfg.Option["LaunchdConfig"] = content
	if err := m.svc.Install(); err != nil {
		// Leave nothing half-installed behind: the file is ours.
		if written, rerr := os.ReadFile(m.file); rerr == nil && string(written) == content {
			if rmErr := os.Remove(m.file); rmErr == nil {
				return "", fmt.Errorf("install %s: %w (removed the file again; %s)", m.file, err, m.whyHint())
			}
		}
		return "", fmt.Errorf("install %s: %w (%s)", m.file, err, m.whyHint())
	}
	if written, err := os.ReadFile(m.file); err != nil || string(written) != content {
		return "", fmt.Errorf("install: %s does not hold the expected service file after writing it (err=%v)", m.file, err)
	}
	return change, nil
}

// Uninstall stops the daemon if it runs as this service, unregisters it and
// removes the service file, but only a file that Install wrote. It leaves
// the database, logs and config alone.
func (m *Manager) Uninstall() (Change, error) {
	old, err := os.ReadFile(m.file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Absent, nil
	case err != nil:
		return "", fmt.Errorf("uninstall: %w", err)
	case !bytes.Contains(old, []byte(marker)):
		return "", fmt.Errorf("uninstall: %s was not written by sparkqd; leaving it alone", m.file)
	}
	if m.goos == "linux" {
		// kardianos/service only disables; stop it so nothing keeps running
		// from a unit file that is gone. A unit that systemd never loaded
		// cannot be stopped, and need not be: the error is not worth
		// keeping the file for.
		_ = m.svc.Stop()
	}
	if err := m.svc.Uninstall(); err != nil {
		if _, statErr := os.Stat(m.file); statErr == nil {
			if rmErr := os.Remove(m.file); rmErr != nil {
				return "", fmt.Errorf("uninstall %s: %w", m.file, err)
			}
		}
		return "", fmt.Errorf("removed %s, but the service manager reported: %w", m.file, err)
	}
	return Removed, nil
}

// Start starts the installed service now.
func (m *Manager) Start() error { return m.control("start", m.svc.Start) }

// Stop stops the running service; it stays installed.
func (m *Manager) Stop() error { return m.control("stop", m.svc.Stop) }

// Restart stops and starts the service, picking up a reinstalled file.
func (m *Manager) Restart() error { return m.control("restart", m.svc.Restart) }

func (m *Manager) control(action string, do func() error) error {
	if p := m.ActsOnPackaged(); p != "" {
		// kardianos/service knows only our own unit; the packaged one is a
		// system unit whatever this Manager's scope.
		out, err := exec.Command("systemctl", action, SystemdUnit).CombinedOutput()
		if err == nil {
			return nil
		}
		if said := strings.TrimSpace(string(out)); said != "" {
			err = fmt.Errorf("%w: %s", err, said)
		}
		return fmt.Errorf("%s the packaged service %s: %w (try `sudo systemctl %s sparkq`; `systemctl status sparkq` and `journalctl -u sparkq` say why)",
			action, p, err, action)
	}
	if _, err := os.Stat(m.file); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: SparkQ is not installed as a %s service (no %s); run `sparkq service install` first", action, m.scope, m.file)
	}
	if err := do(); err != nil {
		return fmt.Errorf("%s: %w (%s)", action, err, m.whyHint())
	}
	return nil
}

// whyHint says where to look when systemctl or launchctl fails:
// kardianos/service keeps only their exit status.
func (m *Manager) whyHint() string {
	if m.goos == "darwin" {
		return "`launchctl list " + LaunchdLabel + "` and the daemon's sparkqd.out log say why"
	}
	user := ""
	if m.scope == User {
		user = " --user"
	}
	return fmt.Sprintf("`systemctl%s status sparkq` and `journalctl%s -u sparkq` say why", user, user)
}

// Status reports whether the service is installed and running.
func (m *Manager) Status() (Status, error) {
	st := Status{Scope: m.scope, Platform: m.svc.Platform(), File: m.file}
	old, err := os.ReadFile(m.file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return st, fmt.Errorf("status: %w", err)
	}
	st.Installed = err == nil && bytes.Contains(old, []byte(marker))
	if err != nil {
		if p := m.ActsOnPackaged(); p != "" {
			st = Status{Scope: System, Platform: st.Platform, File: p, Installed: true, Packaged: true, Running: isActive(System)}
		}
		return st, nil
	}
	if strings.HasSuffix(st.Platform, "systemd") {
		st.Running = isActive(m.scope)
		return st, nil
	}
	s, err := m.svc.Status()
	switch {
	case s == kservice.StatusRunning:
		st.Running = true
	case s == kservice.StatusStopped, errors.Is(err, kservice.ErrNotInstalled):
	case err != nil:
		return st, fmt.Errorf("status: %w", err)
	}
	return st, nil
}

// isActive asks systemd whether sparkq.service runs in scope. kardianos
// counts "activating" as running, which is also what a unit in a
// crash-restart loop reports; only "active" is running.
func isActive(scope Scope) bool {
	args := []string{"is-active", SystemdUnit}
	if scope == User {
		args = append(args, "--user")
	}
	out, _ := exec.Command("systemctl", args...).Output() // non-zero exit just means "not active"
	return strings.TrimSpace(string(out)) == "active"
}
