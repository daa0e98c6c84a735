// Command packaging builds SparkQ's release artifacts into dist/, from the
// repository root:
//
//	go run ./packaging                                        # everything
//	go run ./packaging --targets linux/amd64 --formats deb    # what CI builds
//
// For linux and darwin on amd64 and arm64 it builds sparkq and sparkqd
// (-trimpath, no cgo, version and commit stamped into main.version and
// main.commit), packs each pair with the service files into a tar.gz, and
// for linux also into a .deb and an .rpm (nfpm). SHA256SUMS lists them all.
// Timestamps come from the commit, so the same commit gives the same bytes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "packaging:", err)
		os.Exit(1)
	}
}

// target is one GOOS/GOARCH pair.
type target struct{ os, arch string }

func (t target) String() string { return t.os + "_" + t.arch }

func run(args []string) error {
	fs := flag.NewFlagSet("packaging", flag.ContinueOnError)
	out := fs.String("out", "dist", "output folder")
	version := fs.String("version", "", "release version X.Y.Z (default: from `git describe`)")
	targetList := fs.String("targets", "linux/amd64,linux/arm64,darwin/amd64,darwin/arm64", "GOOS/GOARCH pairs")
	formatList := fs.String("formats", "tar.gz,deb,rpm", "artifact formats (deb and rpm are built for linux targets)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := os.Stat("go.mod"); err != nil {
		return errors.New("run from the repository root: go run ./packaging")
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	var targets []target
	for _, s := range strings.Split(*targetList, ",") {
		goos, arch, ok := strings.Cut(strings.TrimSpace(s), "/")
		if !ok || (goos != "linux" && goos != "darwin") || (arch != "amd64" && arch != "arm64") {
			return fmt.Errorf("--targets: %q is not one of linux|darwin / amd64|arm64", s)
		}
		targets = append(targets, target{goos, arch})
	}
	formats := strings.Split(*formatList, ",")
	for _, f := range formats {
		if !slices.Contains([]string{"tar.gz", "deb", "rpm"}, f) {
			return fmt.Errorf("--formats: unknown format %q", f)
		}
	}

	st, err := stampFromGit(root, *version)
	if err != nil {
		return err
	}
	outDir, err := filepath.Abs(*out)
	if err != nil {
		return err
	}
	work := filepath.Join(outDir, ".build")
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "packaging: SparkQ %s (commit %s, timestamps %s)\n", st.version, st.commit, st.time.Format("2006-01-02T15:04:05Z"))

	cmds := []string{"sparkqd", "sparkq"}
	if _, err := os.Stat(filepath.Join(root, "cmd", "sparkq")); err != nil {
		// Only while the CLI is being written: releases carry both.
		fmt.Fprintln(os.Stderr, "packaging: WARNING: cmd/sparkq does not exist; the artifacts hold sparkqd only")
		cmds = cmds[:1]
	}
	var nfpm string
	var artifacts []string
	for _, t := range targets {
		bin := filepath.Join(work, t.String())
		if err := buildBinaries(root, bin, t, st, cmds); err != nil {
			return err
		}
		if slices.Contains(formats, "tar.gz") {
			a, err := writeArchive(root, outDir, bin, t, st)
			if err != nil {
				return err
			}
			artifacts = append(artifacts, a)
		}
		for _, f := range []string{"deb", "rpm"} {
			if t.os != "linux" || !slices.Contains(formats, f) {
				continue
			}
			if nfpm == "" {
				if nfpm, err = installNFPM(work); err != nil {
					return err
				}
			}
			a, err := buildPackage(nfpm, root, outDir, work, bin, t, st, f)
			if err != nil {
				return err
			}
			artifacts = append(artifacts, a)
		}
	}
	sums, err := writeChecksums(outDir, artifacts)
	if err != nil {
		return err
	}
	for _, a := range append(artifacts, sums) {
		fi, err := os.Stat(a)
		if err != nil {
			return err
		}
		fmt.Printf("%-60s %6.1f MiB\n", filepath.Base(a), float64(fi.Size())/(1<<20))
	}
	return os.RemoveAll(work)
}
