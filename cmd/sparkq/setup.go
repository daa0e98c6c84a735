package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/sparkq/sparkq/daemon/config"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

// setupValues are the settings `sparkq setup` writes into a new file;
// empty fields keep the default text.
type setupValues struct {
	projectName, repoPath, prdPath, host, db string
	port                                     int
	scriptDirs                               stringList
}

func (v *setupValues) any() bool {
	return v.projectName != "" || v.repoPath != "" || v.prdPath != "" || v.host != "" ||
		v.db != "" || v.port != 0 || len(v.scriptDirs) > 0
}

func (a *app) setupCommand() *ffcli.Command {
	var v setupValues
	return a.leaf("", cmdSpec{
		name: "setup", maxArgs: 0,
		short: "Write sparkq.yml if it does not exist, and create the database",
		long: `Writes the commented default sparkq.yml, with the values given by flags,
to --config, $SPARKQ_CONFIG or ./sparkq.yml. An existing file is never
overwritten. Then runs ` + "`sparkqd init`" + ` to create or upgrade the database.
Relative paths given as flags are taken from the current directory.`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&v.projectName, "project-name", "", "project `NAME` (informational)")
			fs.StringVar(&v.repoPath, "repo-path", "", "repository `PATH` (informational)")
			fs.StringVar(&v.prdPath, "prd-path", "", "product requirements document `PATH` (informational)")
			fs.StringVar(&v.host, "host", "", "HTTP listen `ADDRESS` (server.host)")
			fs.IntVar(&v.port, "port", 0, "HTTP `PORT` (server.port)")
			fs.StringVar(&v.db, "db", "", "database file `PATH` (database.path)")
			fs.Var(&v.scriptDirs, "script-dir", "a script `DIR`ectory (repeatable; script_dirs)")
		},
		exec: func(ctx context.Context, _ []string) error {
			if v.port < 0 || v.port > 65535 {
				return a.usagef("--port must be between 1 and 65535, got %d", v.port)
			}
			for name, val := range map[string]string{"--project-name": v.projectName, "--host": v.host, "--db": v.db} {
				if val != "" && strings.TrimSpace(val) == "" {
					return a.usagef("%s must not be blank", name)
				}
			}
			cwd, err := os.Getwd()
			if err != nil {
				return fmt.Errorf("find working directory: %w", err)
			}
			path, _ := config.Locate(a.configFlag, a.getenv, cwd, "")
			if path == "" {
				path = filepath.Join(cwd, config.FileName)
			}
			wrote, err := a.writeConfig(path, cwd, v)
			if err != nil {
				return err
			}
			if !wrote {
				fmt.Fprintf(a.stdout, "Keeping existing %s\n", path)
				if v.any() {
					fmt.Fprintln(a.stdout, "  (the values given by flags were not applied: edit the file to change it)")
				}
			}
			a.configFlag = path
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			bin, err := sparkqd()
			if err != nil {
				return err
			}
			cmd := exec.CommandContext(ctx, bin, a.daemonArgs("init", cfg, daemonFlags{})...)
			cmd.Stdout, cmd.Stderr = a.stdout, a.stderr
			if err := cmd.Run(); err != nil {
				return failf("fix the problem above and run `sparkq setup` again", "sparkqd init failed: %v", err)
			}
			flagHint := ""
			if filepath.Clean(path) != filepath.Join(cwd, config.FileName) && a.getenv("SPARKQ_CONFIG") == "" {
				flagHint = " --config " + path
			}
			fmt.Fprintf(a.stdout, "\nNext steps:\n  sparkq start%s\n  sparkq session create NAME%s\n", flagHint, flagHint)
			return nil
		},
	})
}

// writeConfig writes the default sparkq.yml with v applied to path, unless
// a file is already there. The result is loaded and checked before it is
// put in place, and it is linked in, which never replaces a file.
func (a *app) writeConfig(path, cwd string, v setupValues) (bool, error) {
	if _, err := os.Lstat(path); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("check %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("create %s: %w", dir, err)
	}
	text, want, err := configText(dir, cwd, v)
	if err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(dir, ".sparkq-setup-*.yml")
	if err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(text)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := checkWritten(tmp.Name(), want); err != nil {
		return false, fmt.Errorf("the generated configuration is wrong, nothing was written: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil // created meanwhile: keep it
		}
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	fmt.Fprintf(a.stdout, "Wrote %s\n", path)
	return true, nil
}

// configText edits the default sparkq.yml text, line by line, so that its
// comments survive. want holds what Load must then report.
func configText(dir, cwd string, v setupValues) (string, config.Config, error) {
	var want config.Config
	lines := strings.Split(string(config.DefaultYAML()), "\n")
	set := func(section, key, value string) error {
		if err := setKey(lines, section, key, value); err != nil {
			return fmt.Errorf("edit the default configuration: %w", err)
		}
		return nil
	}
	if v.projectName != "" {
		if err := set("project", "name", strconv.Quote(v.projectName)); err != nil {
			return "", want, err
		}
		want.Project.Name = v.projectName
	}
	if v.repoPath != "" {
		want.Project.RepoPath = fileValue(dir, cwd, v.repoPath)
		if err := set("project", "repo_path", strconv.Quote(want.Project.RepoPath)); err != nil {
			return "", want, err
		}
	}
	if v.prdPath != "" {
		want.Project.PRDPath = fileValue(dir, cwd, v.prdPath)
		if err := set("project", "prd_path", strconv.Quote(want.Project.PRDPath)); err != nil {
			return "", want, err
		}
	}
	if v.host != "" {
		if err := set("server", "host", strconv.Quote(v.host)); err != nil {
			return "", want, err
		}
		want.Server.Host = v.host
	}
	if v.port != 0 {
		if err := set("server", "port", strconv.Itoa(v.port)); err != nil {
			return "", want, err
		}
		want.Server.Port = v.port
	}
	if v.db != "" {
		rel := fileValue(dir, cwd, v.db)
		if err := set("database", "path", strconv.Quote(rel)); err != nil {
			return "", want, err
		}
		want.Database.Path = resolved(dir, rel)
	}
	if len(v.scriptDirs) > 0 {
		var items []string
		for _, d := range v.scriptDirs {
			rel := fileValue(dir, cwd, d)
			items = append(items, "  - "+strconv.Quote(rel))
			want.ScriptDirs = append(want.ScriptDirs, resolved(dir, rel))
		}
		var err error
		if lines, err = setList(lines, "script_dirs", items); err != nil {
			return "", want, fmt.Errorf("edit the default configuration: %w", err)
		}
	}
	return strings.Join(lines, "\n"), want, nil
}

// setKey replaces "  key: …" (or the commented example "  # key: …") in a
// top-level section with "  key: value".
func setKey(lines []string, section, key, value string) error {
	start := slices.Index(lines, section+":")
	if start < 0 {
		return fmt.Errorf("no %q section", section)
	}
	end := len(lines)
	for i := start + 1; i < len(lines); i++ {
		if l := lines[i]; l != "" && l[0] != ' ' && l[0] != '#' {
			end = i
			break
		}
	}
	for _, commented := range []bool{false, true} {
		prefix := "  " + key + ":"
		if commented {
			prefix = "  # " + key + ":"
		}
		for i := start + 1; i < end; i++ {
			if strings.HasPrefix(lines[i], prefix) {
				lines[i] = "  " + key + ": " + value
				return nil
			}
		}
	}
	return fmt.Errorf("no %s.%s key", section, key)
}

// setList replaces the items of a top-level list.
func setList(lines []string, key string, items []string) ([]string, error) {
	start := slices.Index(lines, key+":")
	if start < 0 {
		return nil, fmt.Errorf("no %q list", key)
	}
	end := start + 1
	for end < len(lines) && strings.HasPrefix(lines[end], "  - ") {
		end++
	}
	return slices.Concat(lines[:start+1], items, lines[end:]), nil
}

// fileValue is how a path typed on the command line (relative to cwd) is
// written into a file whose relative paths start at dir: relative when it
// lies inside dir, so the folder can move; absolute otherwise.
func fileValue(dir, cwd, p string) string {
	if strings.HasPrefix(p, "~") {
		return p // the loader expands ~/
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(cwd, p)
	}
	p = filepath.Clean(p)
	if rel, err := filepath.Rel(dir, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return rel
	}
	return p
}

// resolved is where the loader will put a path written into dir's file.
func resolved(dir, p string) string {
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

// checkWritten loads the generated file and compares the values set.
func checkWritten(path string, want config.Config) error {
	got, _, err := config.Load(path)
	if err != nil {
		return err
	}
	var bad []string
	check := func(name string, ok bool, g, w any) {
		if !ok {
			bad = append(bad, fmt.Sprintf("%s is %v, want %v", name, g, w))
		}
	}
	if w := want.Project.Name; w != "" {
		check("project.name", got.Project.Name == w, got.Project.Name, w)
	}
	if w := want.Project.RepoPath; w != "" {
		check("project.repo_path", got.Project.RepoPath == w, got.Project.RepoPath, w)
	}
	if w := want.Project.PRDPath; w != "" {
		check("project.prd_path", got.Project.PRDPath == w, got.Project.PRDPath, w)
	}
	if w := want.Server.Host; w != "" {
		check("server.host", got.Server.Host == w, got.Server.Host, w)
	}
	if w := want.Server.Port; w != 0 {
		check("server.port", got.Server.Port == w, got.Server.Port, w)
	}
	if w := want.Database.Path; w != "" {
		check("database.path", got.Database.Path == w, got.Database.Path, w)
	}
	if w := want.ScriptDirs; len(w) > 0 {
		check("script_dirs", slices.Equal(got.ScriptDirs, w), got.ScriptDirs, w)
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}
