package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sparkq/sparkq/daemon/config"
)

func TestPackageVersion(t *testing.T) {
	for describe, want := range map[string]string{
		"v1.2.3":                  "1.2.3",
		"v1.2.3-dirty":            "1.2.3+git0.dirty",
		"v1.2.3-rc1":              "1.2.3~rc1",
		"v1.2.3-rc.2":             "1.2.3~rc2",
		"v1.2.3-4-g0123456789ab":  "1.2.3+git4.0123456789ab",
		"v1.2.3-4-gabc-dirty":     "1.2.3+git4.abc.dirty",
		"v1.2.3-rc1-4-gabc":       "1.2.3~rc1+git4.abc",
		"0123456789ab":            "0.0.0+git.0123456789ab",
		"0123456789ab-dirty":      "0.0.0+git.0123456789ab.dirty",
		"v1.2":                    "",
		"release-2026":            "",
		"v1.2.3-4-gabc; rm -rf /": "",
	} {
		got, err := packageVersion(describe)
		if want == "" {
			if err == nil {
				t.Errorf("packageVersion(%q) = %q, want an error", describe, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("packageVersion(%q) = %q, %v; want %q", describe, got, err, want)
		}
	}
}

// TestPackagedConfig: the config the .deb installs loads cleanly and puts
// everything where the unit lets the daemon write.
func TestPackagedConfig(t *testing.T) {
	yml, err := packagedConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sparkq.yml")
	if err := os.WriteFile(path, yml, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, warns, err := config.Load(path)
	if err != nil || len(warns) > 0 {
		t.Fatalf("packaged config: %v %v\n%s", err, warns, yml)
	}
	for name, got := range map[string]string{
		"database": cfg.DBPath(), "log": cfg.LogPath(), "socket": cfg.SocketPath(), "lock": cfg.LockPath(),
		"scripts": strings.Join(cfg.ScriptDirs, ","),
	} {
		if !strings.HasPrefix(got, dataDir+"/") && !strings.HasPrefix(got, "/var/log/sparkq/") {
			t.Errorf("%s path %s is outside %s and /var/log/sparkq (read-only under ProtectSystem=strict)", name, got, dataDir)
		}
	}
	if cfg.LogPath() != logFile {
		t.Errorf("log path = %s, want %s", cfg.LogPath(), logFile)
	}
}

// unitKeys reads a systemd unit into key → values (repeatable keys keep
// every value).
func unitKeys(t *testing.T, path string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = append(keys[k], v)
		}
	}
	return keys
}

// TestReviewedUnit pins what the issue asks of systemd/sparkq.service and
// ties it to the paths the package installs. `systemd-analyze verify`
// checks the syntax in CI (packaging/check-deb.sh).
func TestReviewedUnit(t *testing.T) {
	keys := unitKeys(t, filepath.Join("..", "systemd", "sparkq.service"))
	for k, want := range map[string]string{
		"Type": "notify", "ExecStart": "/usr/bin/sparkqd run --config " + configPath,
		"User": "sparkq", "Group": "sparkq", "Restart": "on-failure",
		"StateDirectory": "sparkq", "LogsDirectory": "sparkq", "WorkingDirectory": dataDir,
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
		"RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6", "WantedBy": "multi-user.target",
	} {
		if got := keys[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s=%q, want exactly %q", k, got, want)
		}
	}
	// Task scripts are executed from the working directory, and may be
	// JIT-compiled runtimes.
	for _, k := range []string{"NoExecPaths", "MemoryDenyWriteExecute", "ReadOnlyPaths", "DynamicUser"} {
		if _, ok := keys[k]; ok {
			t.Errorf("%s is set; it would stop task scripts from running", k)
		}
	}
	sysusers, err := os.ReadFile("sysusers.conf")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sysusers), "\nu sparkq - ") {
		t.Errorf("sysusers.conf does not create the sparkq user the unit runs as:\n%s", sysusers)
	}
}

func TestPackageContents(t *testing.T) {
	work := t.TempDir()
	bin := filepath.Join(work, "bin")
	st := stamp{version: "1.2.3", commit: "0123456789ab", time: time.Unix(1700000000, 0).UTC()}
	cfg, err := packageConfig("/repo", work, bin, target{"linux", "arm64"}, st)
	if err != nil {
		t.Fatal(err)
	}
	var dsts []string
	for _, c := range cfg.Contents {
		dsts = append(dsts, c.Dst)
		if c.Dst == configPath && c.Type != "config|noreplace" {
			t.Errorf("%s has type %q: an upgrade would overwrite local edits", configPath, c.Type)
		}
	}
	for _, want := range []string{"/usr/bin/sparkqd", "/usr/lib/systemd/system/sparkq.service", "/usr/lib/sysusers.d/sparkq.conf", configPath} {
		if !slices.Contains(dsts, want) {
			t.Errorf("package lacks %s: %v", want, dsts)
		}
	}
	if cfg.Arch != "arm64" || cfg.Version != "1.2.3" || cfg.MTime != "2023-11-14T22:13:20Z" || cfg.VersionSchema != "none" {
		t.Errorf("package header = %+v", cfg)
	}
}

// TestArchiveReproducible: two builds of one commit give the same bytes,
// and the tarball unpacks to bin/ plus sparkq.yml beside it.
func TestArchiveReproducible(t *testing.T) {
	root := filepath.Join("..")
	bin := t.TempDir()
	for _, c := range []string{"sparkq", "sparkqd"} {
		if err := os.WriteFile(filepath.Join(bin, c), []byte("#!/bin/sh\necho "+c+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	st := stamp{version: "1.2.3", commit: "0123456789ab", time: time.Unix(1700000000, 0).UTC()}
	var builds [][]byte
	for i := 0; i < 2; i++ {
		out := t.TempDir()
		path, err := writeArchive(root, out, bin, target{"darwin", "arm64"}, st)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(path) != "sparkq_1.2.3_darwin_arm64.tar.gz" {
			t.Fatalf("archive named %s", path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		builds = append(builds, b)
	}
	if !bytes.Equal(builds[0], builds[1]) {
		t.Fatal("two archives of the same inputs differ")
	}
	zr, err := gzip.NewReader(bytes.NewReader(builds[0]))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	modes := map[string]int64{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(st.time) || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: mtime %s uid %d gid %d", h.Name, h.ModTime, h.Uid, h.Gid)
		}
		modes[h.Name] = h.Mode
	}
	top := "sparkq_1.2.3_darwin_arm64/"
	for name, mode := range map[string]int64{
		"bin/sparkq": 0o755, "bin/sparkqd": 0o755, "sparkq.yml": 0o644, "README.md": 0o644,
		"systemd/sparkq.service": 0o644, "launchd/com.sparkq.sparkqd.plist": 0o644,
	} {
		if got, ok := modes[top+name]; !ok || got != mode {
			t.Errorf("%s: mode %o present %v, want %o", name, got, ok, mode)
		}
	}
}
