package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sparkq/sparkq/daemon/config"
)

// nfpmModule builds the .deb and .rpm. It is run from the module proxy at
// a pinned version rather than imported, so its ~80 modules stay out of
// SparkQ's go.mod (and v2.48.0 would raise its go line to 1.26.4); the go
// command checks the download against the checksum database.
const nfpmModule = "github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0"

// Where the packages put things; systemd/sparkq.service names the same.
const (
	configPath = "/etc/sparkq/sparkq.yml"
	dataDir    = "/var/lib/sparkq"
	logFile    = "/var/log/sparkq/sparkq.log"
	maintainer = "SparkQ developers <maintainers@sparkq.invalid>"
)

// packagedConfig is the shipped sparkq.yml with the paths the service
// needs: /etc is read-only to it (ProtectSystem=strict), so nothing may
// resolve relative to the config file.
func packagedConfig() ([]byte, error) {
	yml := config.DefaultYAML()
	header := "# /etc/sparkq/sparkq.yml: the configuration of the sparkq service\n" +
		"# (systemctl status sparkq). It may write only to " + dataDir + " and\n" +
		"# /var/log/sparkq; `systemctl reload` is not wired, use `sparkq reload` or\n" +
		"# `systemctl restart sparkq` after editing.\n#\n"
	for _, r := range []struct{ old, new string }{
		{"\n  path: data/sparkq.db\n", "\n  path: " + dataDir + "/sparkq.db\n"},
		{"\n  # file: data/logs/sparkq.log\n", "\n  file: " + logFile + "\n"},
		{"\nscript_dirs:\n  - scripts\n", "\nscript_dirs:\n  - " + dataDir + "/scripts\n"},
	} {
		if bytes.Count(yml, []byte(r.old)) != 1 {
			return nil, fmt.Errorf("packaged config: daemon/config/default.yml no longer has exactly one %q; update packaging/nfpm.go", strings.TrimSpace(r.old))
		}
		yml = bytes.Replace(yml, []byte(r.old), []byte(r.new), 1)
	}
	return append([]byte(header), yml...), nil
}

// nfpmConfig is the subset of nfpm's YAML that SparkQ uses.
type nfpmConfig struct {
	Name          string        `yaml:"name"`
	Arch          string        `yaml:"arch"`
	Platform      string        `yaml:"platform"`
	Version       string        `yaml:"version"`
	VersionSchema string        `yaml:"version_schema"`
	Section       string        `yaml:"section"`
	Priority      string        `yaml:"priority"`
	Maintainer    string        `yaml:"maintainer"`
	Vendor        string        `yaml:"vendor"`
	Description   string        `yaml:"description"`
	MTime         string        `yaml:"mtime"`
	Contents      []nfpmContent `yaml:"contents"`
	Scripts       nfpmScripts   `yaml:"scripts"`
	RPM           nfpmRPM       `yaml:"rpm"`
}

type nfpmRPM struct {
	// BuildHost would default to this machine's name, which would make
	// rpms of one commit differ between machines.
	BuildHost string `yaml:"buildhost"`
}

type nfpmContent struct {
	Src      string   `yaml:"src"`
	Dst      string   `yaml:"dst"`
	Type     string   `yaml:"type,omitempty"`
	FileInfo nfpmMode `yaml:"file_info"`
}

type nfpmMode struct {
	Mode os.FileMode `yaml:"mode"`
}

type nfpmScripts struct {
	PostInstall string `yaml:"postinstall"`
	PreRemove   string `yaml:"preremove"`
	PostRemove  string `yaml:"postremove"`
}

// packageConfig describes the .deb/.rpm for one target. It depends on
// nothing but what systemd/sparkq.service and the scripts need from a
// base system (sh, systemd-sysusers or useradd), so the control file has
// no Depends.
func packageConfig(root, work, bin string, t target, st stamp) (nfpmConfig, error) {
	cfg, err := packagedConfig()
	if err != nil {
		return nfpmConfig{}, err
	}
	cfgFile := filepath.Join(work, "sparkq.yml")
	if err := os.WriteFile(cfgFile, cfg, 0o644); err != nil {
		return nfpmConfig{}, err
	}
	file := func(src, dst string, mode os.FileMode) nfpmContent {
		return nfpmContent{Src: src, Dst: dst, FileInfo: nfpmMode{Mode: mode}}
	}
	contents := []nfpmContent{
		file(filepath.Join(bin, "sparkqd"), "/usr/bin/sparkqd", 0o755),
		file(filepath.Join(root, "systemd", "sparkq.service"), "/usr/lib/systemd/system/sparkq.service", 0o644),
		file(filepath.Join(root, "packaging", "sysusers.conf"), "/usr/lib/sysusers.d/sparkq.conf", 0o644),
		file(filepath.Join(root, "README.md"), "/usr/share/doc/sparkq/README.md", 0o644),
		{Src: cfgFile, Dst: configPath, Type: "config|noreplace", FileInfo: nfpmMode{Mode: 0o644}},
	}
	if _, err := os.Stat(filepath.Join(bin, "sparkq")); err == nil {
		contents = append(contents, file(filepath.Join(bin, "sparkq"), "/usr/bin/sparkq", 0o755))
	}
	scripts := filepath.Join(root, "packaging", "scripts")
	return nfpmConfig{
		Name: "sparkq", Arch: t.arch, Platform: "linux",
		Version: st.version, VersionSchema: "none",
		Section: "utils", Priority: "optional", Maintainer: maintainer, Vendor: "SparkQ",
		Description: "Local-first task queue for AI agents, scripts and people\n" +
			"SparkQ organises work as sessions, queues and tasks; workers claim the\n" +
			"oldest queued task of a queue exactly once. The sparkqd daemon serves\n" +
			"an HTTP API on 127.0.0.1:5005 and a control socket for the sparkq CLI.",
		MTime:    st.time.Format("2006-01-02T15:04:05Z"),
		Contents: contents,
		Scripts: nfpmScripts{
			PostInstall: filepath.Join(scripts, "postinstall.sh"),
			PreRemove:   filepath.Join(scripts, "preremove.sh"),
			PostRemove:  filepath.Join(scripts, "postremove.sh"),
		},
		RPM: nfpmRPM{BuildHost: "sparkq-release"},
	}, nil
}

// installNFPM builds the pinned nfpm into dir and returns its path.
func installNFPM(dir string) (string, error) {
	cmd := exec.Command("go", "install", nfpmModule)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=0", "GOOS=", "GOARCH=")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install %s: %w", nfpmModule, err)
	}
	return filepath.Join(dir, "nfpm"), nil
}

// buildPackage runs nfpm for one target and format ("deb" or "rpm").
func buildPackage(nfpm, root, outDir, work, bin string, t target, st stamp, format string) (string, error) {
	cfg, err := packageConfig(root, work, bin, t, st)
	if err != nil {
		return "", err
	}
	y, err := yaml.Marshal(cfg)
	if err != nil {
		return "", err
	}
	cfgPath := filepath.Join(work, "nfpm-"+t.String()+".yaml")
	if err := os.WriteFile(cfgPath, y, 0o644); err != nil {
		return "", err
	}
	// Named here rather than by nfpm so that the name is known without
	// parsing its output; these are nfpm's and the distributions' defaults.
	name := fmt.Sprintf("sparkq_%s_%s.deb", st.version, t.arch)
	if format == "rpm" {
		name = fmt.Sprintf("sparkq-%s-1.%s.rpm", st.version, map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[t.arch])
	}
	path := filepath.Join(outDir, name)
	cmd := exec.Command(nfpm, "package", "--config", cfgPath, "--packager", format, "--target", path)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH="+strconv.FormatInt(st.time.Unix(), 10))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("nfpm %s for %s: %w", format, t, err)
	}
	return path, nil
}
