package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sparkq/sparkq/daemon/config"
)

// stamp is what identifies a release build.
type stamp struct {
	version string    // package version, also stamped into main.version
	commit  string    // stamped into main.commit
	time    time.Time // the commit's time: every timestamp in the artifacts
}

func git(root string, args ...string) (string, error) {
	out, err := exec.Command("git", append([]string{"-C", root}, args...)...).Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

func stampFromGit(root, version string) (stamp, error) {
	commit, err := git(root, "rev-parse", "--short=12", "HEAD")
	if err != nil {
		return stamp{}, fmt.Errorf("%w (release builds need the git checkout)", err)
	}
	ct, err := git(root, "log", "-1", "--format=%ct")
	if err != nil {
		return stamp{}, err
	}
	sec, err := strconv.ParseInt(ct, 10, 64)
	if err != nil {
		return stamp{}, fmt.Errorf("commit time %q: %w", ct, err)
	}
	if version == "" {
		desc, err := git(root, "describe", "--tags", "--match", "v[0-9]*", "--dirty", "--always", "--abbrev=12")
		if err != nil {
			return stamp{}, err
		}
		if version, err = packageVersion(desc); err != nil {
			return stamp{}, err
		}
	} else if !releaseVersion.MatchString(version) {
		return stamp{}, fmt.Errorf("--version %q: want X.Y.Z", version)
	}
	if strings.Contains(version, "dirty") {
		fmt.Fprintln(os.Stderr, "packaging: WARNING: the work tree has uncommitted changes; the artifacts are stamped dirty")
	}
	return stamp{version: version, commit: commit, time: time.Unix(sec, 0).UTC()}, nil
}

var (
	releaseVersion = regexp.MustCompile(`^\d+\.\d+\.\d+$`)
	describeTag    = regexp.MustCompile(`^v(\d+\.\d+\.\d+)(?:-(alpha|beta|rc)\.?(\d+))?(?:-(\d+)-g([0-9a-f]+))?(-dirty)?$`)
	describeCommit = regexp.MustCompile(`^([0-9a-f]+)(-dirty)?$`)
)

// packageVersion turns `git describe` output into a version dpkg and rpm
// both order correctly: v1.2.3 → 1.2.3; v1.2.3-rc1 → 1.2.3~rc1 (before
// 1.2.3); v1.2.3-4-gabc → 1.2.3+git4.abc (after it); no tag yet →
// 0.0.0+git.abc. "-dirty" becomes ".dirty".
func packageVersion(describe string) (string, error) {
	if m := describeTag.FindStringSubmatch(describe); m != nil {
		v := m[1]
		if m[2] != "" {
			v += "~" + m[2] + m[3]
		}
		if m[4] != "" {
			v += "+git" + m[4] + "." + m[5]
		}
		if m[6] != "" {
			if m[4] == "" {
				v += "+git0"
			}
			v += ".dirty"
		}
		return v, nil
	}
	if m := describeCommit.FindStringSubmatch(describe); m != nil {
		v := "0.0.0+git." + m[1]
		if m[2] != "" {
			v += ".dirty"
		}
		return v, nil
	}
	return "", fmt.Errorf("cannot make a package version from `git describe` output %q: pass --version X.Y.Z", describe)
}

// buildBinaries builds the commands for t into dir. CGO is off (the SQLite
// driver is pure Go), -trimpath drops the build machine's paths and
// -buildvcs=false leaves out VCS metadata that would differ between a
// clone and an export; the stamp says which commit it is.
func buildBinaries(root, dir string, t target, st stamp, cmds []string) error {
	ldflags := fmt.Sprintf("-s -w -X main.version=%s -X main.commit=%s", st.version, st.commit)
	for _, c := range cmds {
		cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags,
			"-o", filepath.Join(dir, c), "./cmd/"+c)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+t.os, "GOARCH="+t.arch)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build %s for %s: %w", c, t, err)
		}
	}
	return nil
}

// archiveFile is one file of a release tarball.
type archiveFile struct {
	name string // path inside the top folder
	mode int64
	data []byte
}

// archiveFiles are the tarball's contents: both binaries in bin/, and the
// shipped sparkq.yml beside bin/, where both programs look for it
// (<install dir>/../sparkq.yml), so an unpacked tarball runs as it is.
func archiveFiles(root, bin string) ([]archiveFile, error) {
	files := []archiveFile{{"sparkq.yml", 0o644, config.DefaultYAML()}}
	for _, f := range []struct {
		name, src string
		mode      int64
	}{
		{"bin/sparkqd", filepath.Join(bin, "sparkqd"), 0o755},
		{"bin/sparkq", filepath.Join(bin, "sparkq"), 0o755},
		{"README.md", filepath.Join(root, "README.md"), 0o644},
		{"systemd/sparkq.service", filepath.Join(root, "systemd", "sparkq.service"), 0o644},
		{"launchd/com.sparkq.sparkqd.plist", filepath.Join(root, "launchd", "com.sparkq.sparkqd.plist"), 0o644},
	} {
		data, err := os.ReadFile(f.src)
		if os.IsNotExist(err) && f.name == "bin/sparkq" {
			continue // see the warning in run
		}
		if err != nil {
			return nil, err
		}
		files = append(files, archiveFile{f.name, f.mode, data})
	}
	slices.SortFunc(files, func(a, b archiveFile) int { return strings.Compare(a.name, b.name) })
	return files, nil
}

// writeArchive writes sparkq_VERSION_OS_ARCH.tar.gz. Everything that could
// vary between builds of one commit is fixed: entry order, owners, modes,
// times (the commit's) and the gzip header.
func writeArchive(root, outDir, bin string, t target, st stamp) (string, error) {
	files, err := archiveFiles(root, bin)
	if err != nil {
		return "", err
	}
	top := fmt.Sprintf("sparkq_%s_%s", st.version, t)
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	tw := tar.NewWriter(zw)
	hdr := func(name string, mode int64, typ byte, size int64) *tar.Header {
		return &tar.Header{Typeflag: typ, Name: name, Mode: mode, Size: size, ModTime: st.time,
			Uname: "root", Gname: "root"}
	}
	dirs := map[string]bool{}
	for _, f := range files {
		for _, d := range []string{top, filepath.Dir(filepath.Join(top, f.name))} {
			if !dirs[d] {
				dirs[d] = true
				if err := tw.WriteHeader(hdr(d+"/", 0o755, tar.TypeDir, 0)); err != nil {
					return "", err
				}
			}
		}
		if err := tw.WriteHeader(hdr(filepath.Join(top, f.name), f.mode, tar.TypeReg, int64(len(f.data)))); err != nil {
			return "", err
		}
		if _, err := tw.Write(f.data); err != nil {
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	path := filepath.Join(outDir, top+".tar.gz")
	return path, os.WriteFile(path, buf.Bytes(), 0o644)
}

// writeChecksums writes SHA256SUMS in the format `sha256sum -c` reads.
func writeChecksums(outDir string, artifacts []string) (string, error) {
	var b strings.Builder
	names := slices.Clone(artifacts)
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(filepath.Base(a), filepath.Base(b)) })
	for _, a := range names {
		f, err := os.Open(a)
		if err != nil {
			return "", err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(h.Sum(nil)), filepath.Base(a))
	}
	path := filepath.Join(outDir, "SHA256SUMS")
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}
