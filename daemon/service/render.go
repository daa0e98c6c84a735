package service

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// Scope says whom the daemon is installed for.
type Scope string

const (
	// User services start at login and run as the installing user: a
	// systemd user unit in ~/.config/systemd/user, or a LaunchAgent.
	User Scope = "user"
	// System services start at boot and run as Spec.RunAs: a unit in
	// /etc/systemd/system, or a LaunchDaemon.
	System Scope = "system"
)

// Service names, fixed so that every install of SparkQ agrees on them.
const (
	SystemdUnit  = "sparkq.service"
	LaunchdLabel = "com.sparkq.sparkqd"
)

// LaunchdOutput is the file launchd sends the daemon's stdout and stderr to,
// inside Spec.LogDir; `sparkq start` uses the same name for the same purpose.
const LaunchdOutput = "sparkqd.out"

// marker is in every file Render writes and in no other: uninstall and
// reinstall touch only files that carry it.
const marker = "Managed by `sparkqd service`"

// Spec is what a service file says about running the daemon.
type Spec struct {
	Scope      Scope
	Executable string // absolute path of sparkqd
	ConfigFile string // absolute path of sparkq.yml; "" runs on defaults
	// WorkingDir is where the daemon starts, and where relative script
	// paths in tasks resolve: the config file's folder, or a home folder.
	WorkingDir string
	LogDir     string // launchd: the folder for LaunchdOutput
	RunAs      string // System scope: the account the daemon runs as
	Home       string // launchd System scope: HOME for RunAs
}

var accountName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// Validate reports what would make a service file wrong or unsafe to write.
func (s Spec) Validate(goos string) error {
	var errs []error
	if s.Scope != User && s.Scope != System {
		errs = append(errs, fmt.Errorf("scope must be %q or %q, got %q", User, System, s.Scope))
	}
	paths := []struct{ name, p string }{{"executable", s.Executable}, {"working directory", s.WorkingDir}}
	if s.ConfigFile != "" {
		paths = append(paths, struct{ name, p string }{"config file", s.ConfigFile})
	}
	if goos == "darwin" {
		paths = append(paths, struct{ name, p string }{"log directory", s.LogDir})
		if s.Scope == System {
			paths = append(paths, struct{ name, p string }{"home", s.Home})
		}
	}
	for _, p := range paths {
		switch {
		case !filepath.IsAbs(p.p):
			errs = append(errs, fmt.Errorf("%s must be an absolute path, got %q", p.name, p.p))
		case strings.ContainsAny(p.p, "\n\r\x00"):
			errs = append(errs, fmt.Errorf("%s %q contains a line break or NUL", p.name, p.p))
		}
	}
	if s.Scope == System && !accountName.MatchString(s.RunAs) {
		errs = append(errs, fmt.Errorf("a system service needs the account to run as, got %q", s.RunAs))
	}
	if s.Scope == User && s.RunAs != "" {
		errs = append(errs, errors.New("a user service always runs as the installing user; --run-as is for --system"))
	}
	return errors.Join(errs...)
}

// args is the daemon's command line after the executable.
func (s Spec) args(goos string) []string {
	a := []string{"run"}
	if s.ConfigFile != "" {
		a = append(a, "--config", s.ConfigFile)
	}
	if goos == "darwin" {
		// launchd sets no variable the daemon could recognise it by. Its
		// stderr is a file beside the log file, so the log is not copied
		// there: it keeps what cannot be logged (startup errors, panics).
		// Under systemd, NOTIFY_SOCKET identifies the manager and stderr
		// goes to the journal, so the log is copied there.
		a = append(a, "--service-manager", "launchd", "--quiet")
	}
	return a
}

// Render returns the service file for goos ("linux": a systemd unit,
// "darwin": a launchd plist).
func Render(goos string, s Spec) (string, error) {
	if err := s.Validate(goos); err != nil {
		return "", err
	}
	switch goos {
	case "linux":
		return systemdUnit(s), nil
	case "darwin":
		return launchdPlist(s), nil
	}
	return "", unsupported(goos)
}

func unsupported(goos string) error {
	return fmt.Errorf("SparkQ runs as a service on Linux (systemd) and macOS (launchd), not on %s; use `sparkq start` instead", goos)
}

func systemdUnit(s Spec) string {
	var b strings.Builder
	edit, target := "systemctl --user edit sparkq", "default.target"
	if s.Scope == System {
		edit, target = "systemctl edit sparkq", "multi-user.target"
	}
	fmt.Fprintf(&b, "# SparkQ daemon, a systemd %s service. %s:\n", s.Scope, marker)
	b.WriteString("# `sparkq service uninstall` removes this file and `sparkq service install`\n")
	fmt.Fprintf(&b, "# replaces it, so keep local changes in a drop-in (%s).\n", edit)
	b.WriteString("[Unit]\nDescription=SparkQ task queue daemon\n\n[Service]\n")
	// READY=1 arrives once both listeners accept connections.
	b.WriteString("Type=notify\n")
	b.WriteString("ExecStart=" + systemdArg(s.Executable))
	for _, a := range s.args("linux") {
		b.WriteString(" " + systemdArg(a))
	}
	b.WriteString("\n")
	b.WriteString("WorkingDirectory=" + strings.ReplaceAll(s.WorkingDir, "%", "%%") + "\n")
	if s.Scope == System {
		b.WriteString("User=" + s.RunAs + "\n")
	}
	// A clean exit (`sparkq stop`) stays stopped; a crash restarts.
	b.WriteString("Restart=on-failure\nRestartSec=2s\n")
	// The daemon gives in-flight requests 10 s to finish.
	b.WriteString("TimeoutStopSec=30s\n")
	b.WriteString("NoNewPrivileges=yes\n")
	fmt.Fprintf(&b, "\n[Install]\nWantedBy=%s\n", target)
	return b.String()
}

// systemdArg quotes one ExecStart argument: % starts a specifier and $ a
// variable, so both are doubled; whitespace, quotes and backslashes need a
// double-quoted word with C escapes.
func systemdArg(a string) string {
	a = strings.NewReplacer("%", "%%", "$", "$$").Replace(a)
	if a != "" && !strings.ContainsAny(a, " \t\"'\\;") {
		return a
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(a) + `"`
}

func launchdPlist(s Spec) string {
	var b strings.Builder
	kind := "agent (starts at login)"
	if s.Scope == System {
		kind = "daemon (starts at boot)"
	}
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">` + "\n")
	fmt.Fprintf(&b, "<!-- SparkQ daemon, a launchd %s. %s:\n", kind, marker)
	b.WriteString("     `sparkq service uninstall` removes this file and `sparkq service install` replaces it. -->\n")
	b.WriteString("<plist version=\"1.0\">\n<dict>\n")
	key := func(k string) { b.WriteString("\t<key>" + k + "</key>\n") }
	str := func(indent, v string) { b.WriteString(indent + "<string>" + xmlText(v) + "</string>\n") }
	key("Label")
	str("\t", LaunchdLabel)
	key("ProgramArguments")
	b.WriteString("\t<array>\n")
	str("\t\t", s.Executable)
	for _, a := range s.args("darwin") {
		str("\t\t", a)
	}
	b.WriteString("\t</array>\n")
	key("WorkingDirectory")
	str("\t", s.WorkingDir)
	if s.Scope == System {
		key("UserName")
		str("\t", s.RunAs)
		key("EnvironmentVariables")
		b.WriteString("\t<dict>\n\t\t<key>HOME</key>\n")
		str("\t\t", s.Home)
		b.WriteString("\t</dict>\n")
	}
	key("RunAtLoad")
	b.WriteString("\t<true/>\n")
	// Restart after a crash or a failed exit, not after `sparkq stop`.
	key("KeepAlive")
	b.WriteString("\t<dict>\n\t\t<key>SuccessfulExit</key>\n\t\t<false/>\n\t</dict>\n")
	out := filepath.Join(s.LogDir, LaunchdOutput)
	key("StandardOutPath")
	str("\t", out)
	key("StandardErrorPath")
	str("\t", out)
	b.WriteString("</dict>\n</plist>\n")
	return b.String()
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

func xmlText(s string) string { return xmlEscaper.Replace(s) }
