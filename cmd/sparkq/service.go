package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/peterbourgon/ff/v3/ffcli"
)

// serviceCommand documents `sparkq service` for help; run intercepts the
// command before parsing, since its flags belong to sparkqd.
func (a *app) serviceCommand() *ffcli.Command {
	return a.leaf("", cmdSpec{
		name: "service", args: "install|uninstall|start|stop|restart|status [--user|--system] [--config PATH] [--run-as USER]", maxArgs: -1,
		short: "Run SparkQ at login or boot under systemd or launchd",
		long: `Passed to sparkqd service. --user (the default unless root) installs a
systemd user unit or a LaunchAgent; --system a system unit or LaunchDaemon.
install takes the CLI's --config, made absolute. Installing twice is harmless;
uninstall removes only what install wrote. status exits 3 when not running.
With the sparkq package's unit installed and none of your own, status, start,
stop and restart act on the package's unit; install refuses.`,
		exec: func(context.Context, []string) error {
			return a.usagef("name an action: install, uninstall, start, stop, restart or status")
		},
	})
}

// serviceArgs finds `service ACTION ARGS…` after the global flags. The
// service command is passed to sparkqd unparsed (its flags are sparkqd's),
// so it is recognised before ffcli parses anything.
func serviceArgs(args []string) (configFlag string, rest []string, ok bool) {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		switch {
		case arg == "service":
			return configFlag, args[i+1:], true
		case !strings.HasPrefix(arg, "-"):
			return "", nil, false
		case name == "json":
		case name == "config" || name == "socket":
			if !hasValue {
				if i+1 >= len(args) {
					return "", nil, false
				}
				i++
				value = args[i]
			}
			if name == "config" {
				configFlag = value
			}
		default:
			return "", nil, false
		}
	}
	return "", nil, false
}

// execService replaces this process with `sparkqd service ACTION ARGS…`.
// install gets the CLI's --config (made absolute) unless ARGS name one.
func (a *app) execService(configFlag string, rest []string) int {
	bin, err := sparkqd()
	if err != nil {
		return a.report(err)
	}
	argv := append([]string{bin, "service"}, rest...)
	if len(rest) > 0 && rest[0] == "install" && configFlag != "" && !hasConfigArg(rest) {
		abs, err := filepath.Abs(configFlag)
		if err != nil {
			return a.report(fmt.Errorf("resolve --config %s: %w", configFlag, err))
		}
		argv = append(argv, "--config", abs)
	}
	if err := syscall.Exec(bin, argv, os.Environ()); err != nil {
		return a.report(fmt.Errorf("exec %s: %w", bin, err))
	}
	return exitOK
}

func hasConfigArg(args []string) bool {
	for _, a := range args {
		if n, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); strings.HasPrefix(a, "-") && n == "config" {
			return true
		}
	}
	return false
}
