package service

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestRenderedUnitsVerify runs systemd's own checker on both rendered
// units. It reports unknown keys and bad values as warnings with exit
// status 0, so any output at all fails the test.
func TestRenderedUnitsVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed (Debian package systemd)")
	}
	dir := t.TempDir()
	exe, err := os.Executable() // verify insists that ExecStart exists
	if err != nil {
		t.Fatal(err)
	}
	for _, scope := range []Scope{User, System} {
		spec := specs["linux"][scope]
		spec.Executable, spec.WorkingDir, spec.ConfigFile = exe, dir, filepath.Join(dir, "sparkq.yml")
		if scope == System {
			spec.RunAs = "sparkq"
		}
		unit, err := Render("linux", spec)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, SystemdUnit)
		if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
		// --user needs a running user manager; the system checker reads
		// the same keys.
		out, err := exec.Command("systemd-analyze", "verify", "--man=no", path).CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("systemd-analyze verify on the %s unit: %v\n%s\n%s", scope, err, out, unit)
		}
	}
}

// fakeSystemctl puts a systemctl on PATH that logs its arguments and
// answers is-active with $FAKE_ACTIVE; `FAKE_FAIL=enable` makes enable fail.
func fakeSystemctl(t *testing.T) (log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "calls")
	script := `#!/bin/sh
echo "$*" >> "` + log + `"
case "$1" in
is-active) echo "${FAKE_ACTIVE:-inactive}" ;;
list-unit-files) echo "sparkq.service enabled enabled" ;;
esac
if [ "$1" = "${FAKE_FAIL:-}" ]; then echo "Failed to connect to bus" >&2; exit 1; fi
`
	if err := os.WriteFile(filepath.Join(dir, "systemctl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_FAIL", "")
	t.Setenv("FAKE_ACTIVE", "")
	return log
}

func calls(t *testing.T, log string) []string {
	t.Helper()
	b, err := os.ReadFile(log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Split(strings.TrimSpace(string(b)), "\n")
	os.Remove(log)
	return out
}

// newManager is a user-scope Manager that believes systemd runs here, and
// looks for the packaged unit in an empty folder rather than on this machine.
func newManager(t *testing.T) *Manager {
	t.Helper()
	m, err := New(User)
	if err != nil {
		t.Fatal(err)
	}
	m.booted = func() bool { return true }
	lib := t.TempDir()
	m.packaged = []string{filepath.Join(lib, "usr/lib/systemd/system", SystemdUnit), filepath.Join(lib, "lib/systemd/system", SystemdUnit)}
	return m
}

func same(a, b []string) bool { return strings.Join(a, "|") == strings.Join(b, "|") }

// TestUserLifecycle drives install, reinstall, status, uninstall through
// kardianos/service against a stand-in systemctl, in a stand-in $HOME.
func TestUserLifecycle(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the stand-in is a systemctl")
	}
	log := fakeSystemctl(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	m := newManager(t)
	unitPath := filepath.Join(home, ".config/systemd/user/sparkq.service")
	if m.File() != unitPath {
		t.Fatalf("File() = %s, want %s", m.File(), unitPath)
	}
	spec := specs["linux"][User]

	if st, err := m.Status(); err != nil || st.Installed || st.Running {
		t.Fatalf("status before install = %+v, %v", st, err)
	}
	if err := m.Start(); err == nil || !strings.Contains(err.Error(), "sparkq service install") {
		t.Fatalf("start before install: err = %v, want advice to install", err)
	}

	change, err := m.Install(spec)
	if err != nil || change != Installed {
		t.Fatalf("install = %q, %v", change, err)
	}
	want, _ := Render("linux", spec)
	if got, _ := os.ReadFile(unitPath); string(got) != want {
		t.Fatalf("installed unit differs from Render:\n%s", got)
	}
	if got := calls(t, log); !same(got, []string{"enable --user sparkq.service", "daemon-reload --user"}) {
		t.Fatalf("install ran systemctl %q", got)
	}

	// Installing twice is harmless: nothing is rewritten or re-run.
	if change, err := m.Install(spec); err != nil || change != Unchanged {
		t.Fatalf("second install = %q, %v", change, err)
	}
	if got := calls(t, log); got != nil {
		t.Fatalf("second install ran systemctl %q", got)
	}
	// A changed install (another config) replaces our own file.
	moved := spec
	moved.ConfigFile, moved.WorkingDir = "/home/ann/other/sparkq.yml", "/home/ann/other"
	if change, err := m.Install(moved); err != nil || change != Replaced {
		t.Fatalf("install with another config = %q, %v", change, err)
	}
	if got, _ := os.ReadFile(unitPath); !strings.Contains(string(got), "--config /home/ann/other/sparkq.yml") {
		t.Fatalf("replaced unit still old:\n%s", got)
	}
	calls(t, log)

	// A unit in a crash-restart loop is "activating", and a dead one
	// "failed": neither is running, and neither is an error.
	for _, state := range []string{"activating", "failed", "inactive"} {
		t.Setenv("FAKE_ACTIVE", state)
		if st, err := m.Status(); err != nil || !st.Installed || st.Running {
			t.Fatalf("status while %s = %+v, %v", state, st, err)
		}
	}
	calls(t, log)
	t.Setenv("FAKE_ACTIVE", "active")
	if st, err := m.Status(); err != nil || !st.Installed || !st.Running || st.Platform != "linux-systemd" {
		t.Fatalf("status = %+v, %v", st, err)
	}
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	if got := calls(t, log); !same(got, []string{"is-active sparkq.service --user", "restart --user sparkq.service"}) {
		t.Fatalf("status+restart ran systemctl %q", got)
	}

	if change, err := m.Uninstall(); err != nil || change != Removed {
		t.Fatalf("uninstall = %q, %v", change, err)
	}
	if _, err := os.Stat(unitPath); !os.IsNotExist(err) {
		t.Fatalf("unit still there after uninstall: %v", err)
	}
	if got := calls(t, log); !same(got, []string{"stop --user sparkq.service", "disable --user sparkq.service", "daemon-reload --user"}) {
		t.Fatalf("uninstall ran systemctl %q", got)
	}
	if change, err := m.Uninstall(); err != nil || change != Absent {
		t.Fatalf("second uninstall = %q, %v", change, err)
	}
}

// TestForeignUnitLeftAlone: a sparkq.service that install did not write is
// neither replaced nor removed.
func TestForeignUnitLeftAlone(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the stand-in is a systemctl")
	}
	log := fakeSystemctl(t)
	t.Setenv("HOME", t.TempDir())
	m := newManager(t)
	foreign := "[Service]\nExecStart=/usr/local/bin/my-own-sparkq\n"
	if err := os.MkdirAll(filepath.Dir(m.File()), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(m.File(), []byte(foreign), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Install(specs["linux"][User]); err == nil || !strings.Contains(err.Error(), "not written by sparkqd") {
		t.Fatalf("install over a foreign unit: err = %v", err)
	}
	if _, err := m.Uninstall(); err == nil || !strings.Contains(err.Error(), "not written by sparkqd") {
		t.Fatalf("uninstall of a foreign unit: err = %v", err)
	}
	if got, _ := os.ReadFile(m.File()); string(got) != foreign {
		t.Fatalf("foreign unit changed to:\n%s", got)
	}
	if got := calls(t, log); got != nil {
		t.Fatalf("ran systemctl %q", got)
	}
}

// TestFailedInstallLeavesNothing: when systemctl cannot enable the unit
// (no user manager, say), the file install wrote is removed again.
func TestFailedInstallLeavesNothing(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the stand-in is a systemctl")
	}
	fakeSystemctl(t)
	t.Setenv("FAKE_FAIL", "enable")
	t.Setenv("HOME", t.TempDir())
	m := newManager(t)
	_, err := m.Install(specs["linux"][User])
	if err == nil || !strings.Contains(err.Error(), "exit status 1") || !strings.Contains(err.Error(), "removed the file again") {
		t.Fatalf("install with a failing systemctl: err = %v", err)
	}
	if _, err := os.Stat(m.File()); !os.IsNotExist(err) {
		t.Fatalf("unit left behind after a failed install: %v", err)
	}
}

// TestInstallNeedsSystemd: without systemd as PID 1 (a container, another
// init system) install says so and writes nothing.
func TestInstallNeedsSystemd(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("systemd is Linux only")
	}
	log := fakeSystemctl(t)
	t.Setenv("HOME", t.TempDir())
	m := newManager(t)
	m.booted = func() bool { return false }
	if _, err := m.Install(specs["linux"][User]); err == nil || !strings.Contains(err.Error(), "systemd is not running") {
		t.Fatalf("install without systemd: err = %v", err)
	}
	if _, err := os.Stat(m.File()); !os.IsNotExist(err) {
		t.Fatalf("install without systemd wrote %s: %v", m.File(), err)
	}
	if got := calls(t, log); got != nil {
		t.Fatalf("ran systemctl %q", got)
	}
}

// TestPackagedUnit: where the sparkq package installed its system unit and
// this scope has none of its own, status, start, stop and restart act on
// the packaged unit, and install refuses to add a second daemon.
func TestPackagedUnit(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the stand-in is a systemctl")
	}
	log := fakeSystemctl(t)
	t.Setenv("HOME", t.TempDir())
	m := newManager(t)
	if st, err := m.Status(); err != nil || st.Installed || st.Packaged || st.Running || st.File != m.File() {
		t.Fatalf("status without any unit = %+v, %v", st, err)
	}
	calls(t, log)

	// /lib/systemd/system is where older Debian puts it: the second place.
	packaged := m.packaged[1]
	if err := os.MkdirAll(filepath.Dir(packaged), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(packaged, []byte("[Service]\nExecStart=/usr/bin/sparkqd run --config /etc/sparkq/sparkq.yml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if m.PackagedUnit() != packaged {
		t.Fatalf("PackagedUnit() = %q, want %q", m.PackagedUnit(), packaged)
	}
	for _, state := range []string{"inactive", "active"} {
		t.Setenv("FAKE_ACTIVE", state)
		st, err := m.Status()
		want := Status{Scope: System, Platform: "linux-systemd", File: packaged, Installed: true, Packaged: true, Running: state == "active"}
		if err != nil || st != want {
			t.Fatalf("status while the packaged unit is %s = %+v, %v; want %+v", state, st, err, want)
		}
		// A system unit: no --user.
		if got := calls(t, log); !same(got, []string{"is-active sparkq.service"}) {
			t.Fatalf("status ran systemctl %q", got)
		}
	}
	for _, do := range []func() error{m.Start, m.Stop, m.Restart} {
		if err := do(); err != nil {
			t.Fatal(err)
		}
	}
	if got := calls(t, log); !same(got, []string{"start sparkq.service", "stop sparkq.service", "restart sparkq.service"}) {
		t.Fatalf("start, stop, restart ran systemctl %q", got)
	}
	t.Setenv("FAKE_FAIL", "restart")
	if err := m.Restart(); err == nil || !strings.Contains(err.Error(), "Failed to connect to bus") || !strings.Contains(err.Error(), "sudo systemctl restart sparkq") {
		t.Fatalf("failing restart of the packaged unit: err = %v", err)
	}
	t.Setenv("FAKE_FAIL", "")
	calls(t, log)

	if _, err := m.Install(specs["linux"][User]); err == nil || !strings.Contains(err.Error(), packaged) || !strings.Contains(err.Error(), "systemctl enable --now sparkq") {
		t.Fatalf("install beside the packaged unit: err = %v", err)
	}
	if _, err := os.Stat(m.File()); !os.IsNotExist(err) {
		t.Fatalf("install beside the packaged unit wrote %s: %v", m.File(), err)
	}
	// Uninstall removes only what install wrote: never the package's unit.
	if change, err := m.Uninstall(); err != nil || change != Absent {
		t.Fatalf("uninstall = %q, %v", change, err)
	}
	if _, err := os.Stat(packaged); err != nil {
		t.Fatalf("the packaged unit is gone: %v", err)
	}
	if got := calls(t, log); got != nil {
		t.Fatalf("install and uninstall ran systemctl %q", got)
	}

	// A unit of our own in this scope (installed before the package came)
	// is what status and start act on; install still refuses, pointing
	// at uninstall.
	unit, err := Render("linux", specs["linux"][User])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(m.File()), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(m.File(), []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAKE_ACTIVE", "active")
	if st, err := m.Status(); err != nil || st.Packaged || !st.Installed || !st.Running || st.File != m.File() || st.Scope != User {
		t.Fatalf("status with a unit of our own = %+v, %v", st, err)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if got := calls(t, log); !same(got, []string{"is-active sparkq.service --user", "start --user sparkq.service"}) {
		t.Fatalf("status and start with a unit of our own ran systemctl %q", got)
	}
	if _, err := m.Install(specs["linux"][User]); err == nil || !strings.Contains(err.Error(), "sparkq service uninstall") {
		t.Fatalf("reinstall beside the packaged unit: err = %v", err)
	}
}

// TestSystemInstallRefusedBesidePackage: a system unit of ours would go to
// /etc/systemd/system and override the package's unit of the same name.
func TestSystemInstallRefusedBesidePackage(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("systemd is Linux only")
	}
	log := fakeSystemctl(t)
	m, err := New(System)
	if err != nil {
		t.Fatal(err)
	}
	// Were the refusal missing, install would stop here rather than have
	// kardianos/service write into this machine's /etc/systemd/system.
	m.booted = func() bool { return false }
	m.packaged = []string{filepath.Join(t.TempDir(), SystemdUnit)}
	if err := os.WriteFile(m.packaged[0], []byte("[Service]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := specs["linux"][System]
	if _, err := m.Install(spec); err == nil || !strings.Contains(err.Error(), "the sparkq package already runs SparkQ") {
		t.Fatalf("system install beside the packaged unit: err = %v", err)
	}
	if got := calls(t, log); got != nil {
		t.Fatalf("ran systemctl %q", got)
	}
}
