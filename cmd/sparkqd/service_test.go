package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sparkq/sparkq/daemon/service"
)

var sparkqd string

// TestMain builds the real sparkqd, stamped the way release builds are.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sparkqd-cmd")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sparkqd = filepath.Join(dir, "bin", "sparkqd")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.version=1.2.3-test -X main.commit=0123456789ab",
		"-o", sparkqd, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build sparkqd:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// sparkqdIn runs sparkqd in dir with HOME=home and no SPARKQ_CONFIG.
func sparkqdIn(t *testing.T, dir, home string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(sparkqd, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "SPARKQ_") && !strings.HasPrefix(kv, "XDG_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "HOME="+home)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

func TestVersionIsStamped(t *testing.T) {
	out, _, code := sparkqdIn(t, t.TempDir(), t.TempDir(), "--version")
	if code != 0 || out != "sparkqd 1.2.3-test (commit 0123456789ab)\n" {
		t.Fatalf("sparkqd --version = %q (exit %d)", out, code)
	}
}

func TestServiceUsage(t *testing.T) {
	for _, args := range [][]string{
		{"service"},
		{"service", "enable"},
		{"service", "status", "--user", "--system"},
		{"service", "start", "now"},
		{"service", "uninstall", "--config", "x.yml"}, // only install takes a config
	} {
		_, stderr, code := sparkqdIn(t, t.TempDir(), t.TempDir(), args...)
		if code != 2 || !strings.Contains(stderr, "usage: sparkqd service") && !strings.Contains(stderr, "give --user or --system") {
			t.Errorf("sparkqd %q: exit %d, want 2 with usage\n%s", args, code, stderr)
		}
	}
	if _, _, code := sparkqdIn(t, t.TempDir(), t.TempDir(), "service", "install", "-h"); code != 0 {
		t.Errorf("service install -h: exit %d, want 0", code)
	}
}

// TestServiceStatusNotInstalled: a user service that was never installed
// is reported as such, with exit status 3 as `sparkq status` uses.
func TestServiceStatusNotInstalled(t *testing.T) {
	skipIfPackaged(t)
	home := t.TempDir()
	out, stderr, code := sparkqdIn(t, t.TempDir(), home, "service", "status", "--user", "--json")
	if code != exitNotRunning {
		t.Fatalf("service status: exit %d, want %d\n%s%s", code, exitNotRunning, out, stderr)
	}
	var st struct {
		Scope, File        string
		Installed, Running bool
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	if st.Scope != "user" || st.Installed || st.Running || !strings.HasPrefix(st.File, home) &&
		runtime.GOOS == "linux" {
		t.Fatalf("status = %+v", st)
	}
}

// TestServiceInstallWithoutSystemd is what this repository's CI machine
// shows: systemd is installed but is not PID 1, so install must explain
// and write nothing. On a machine where systemd runs it is skipped rather
// than touch the developer's own user manager.
func TestServiceInstallWithoutSystemd(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("systemd is Linux only")
	}
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		t.Skip("systemd runs here; this test checks machines where it does not")
	}
	skipIfPackaged(t)
	home, dir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sparkq.yml"), []byte("server:\n  port: 5999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := sparkqdIn(t, dir, home, "service", "install", "--user")
	if code != 1 || !strings.Contains(stderr, "systemd is not running") || !strings.Contains(stderr, "sparkq start") {
		t.Fatalf("install without systemd: exit %d\n%s", code, stderr)
	}
	if entries, _ := os.ReadDir(home); len(entries) > 0 {
		t.Fatalf("install without systemd wrote into HOME: %v", entries)
	}
}

// skipIfPackaged skips tests that expect no sparkq service at all on a
// machine where the sparkq package is installed: its unit is reported.
func skipIfPackaged(t *testing.T) {
	m, err := service.New(service.User)
	if err == nil && m.PackagedUnit() != "" {
		t.Skipf("the sparkq package is installed here (%s)", m.PackagedUnit())
	}
}

// TestServiceInstallRefusals are decided before anything is written, so
// they hold on any machine.
func TestServiceInstallRefusals(t *testing.T) {
	home := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--system"}, "needs a config file"},
		{[]string{"--user", "--run-as", "nobody"}, "--run-as is for --system"},
		{[]string{"--user", "--config", "missing.yml"}, "not found"},
	}
	for _, c := range cases {
		args := append([]string{"service", "install"}, c.args...)
		_, stderr, code := sparkqdIn(t, t.TempDir(), home, args...)
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("sparkqd %q: exit %d, want 1 and %q\n%s", args, code, c.want, stderr)
		}
	}
	if entries, _ := os.ReadDir(home); len(entries) > 0 {
		t.Fatalf("refused installs wrote into HOME: %v", entries)
	}
}

func TestAccount(t *testing.T) {
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no account named nobody here")
	}
	env := func(sudoUser string) func(string) string {
		return func(k string) string {
			if k == "SUDO_USER" {
				return sudoUser
			}
			return ""
		}
	}
	if name, home, err := account("", env("nobody")); err != nil || name != "nobody" || home != nobody.HomeDir {
		t.Errorf("account from SUDO_USER = %q %q %v", name, home, err)
	}
	if _, _, err := account("", env("root")); err == nil || !strings.Contains(err.Error(), "--run-as") {
		t.Errorf("account defaulting to root: err = %v, want a refusal", err)
	}
	if name, _, err := account("root", env("")); err != nil || name != "root" {
		t.Errorf("explicit --run-as root = %q %v", name, err)
	}
	if _, _, err := account("no-such-user-sparkq", env("")); err == nil {
		t.Error("unknown account accepted")
	}
}

// A bad SPARKQ_* value used to exit 2 with no message at all.
func TestBadEnvironmentVariableIsReported(t *testing.T) {
	cmd := exec.Command(sparkqd, "run")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "SPARKQ_PORT=abc")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), `"SPARKQ_PORT"`) {
		t.Fatalf("SPARKQ_PORT=abc: want exit 2 naming the variable, got %v\n%s", err, out)
	}
}

// TestPrintPackagedStatus: the packaged unit is named as such, with how to
// manage it, and --json says packaged.
func TestPrintPackagedStatus(t *testing.T) {
	st := service.Status{Scope: service.System, Platform: "linux-systemd", File: "/usr/lib/systemd/system/sparkq.service",
		Installed: true, Packaged: true, Running: true}
	var text strings.Builder
	printServiceStatus(&text, st, "a systemd user service", false)
	for _, want := range []string{"SparkQ as the sparkq package's systemd system service: running",
		"File: /usr/lib/systemd/system/sparkq.service", "sudo systemctl start|stop|restart|status sparkq", "sudo -u sparkq sparkq status"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("status text lacks %q:\n%s", want, text.String())
		}
	}
	var js strings.Builder
	printServiceStatus(&js, st, "a systemd user service", true)
	var got struct {
		Scope                        string
		Installed, Packaged, Running bool
	}
	if err := json.Unmarshal([]byte(js.String()), &got); err != nil || got.Scope != "system" || !got.Installed || !got.Packaged || !got.Running {
		t.Fatalf("status --json = %+v, %v\n%s", got, err, js.String())
	}
}
