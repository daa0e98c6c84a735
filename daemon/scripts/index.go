package scripts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Script is one entry of the index.
type Script struct {
	Path        string   `json:"path"` // absolute, symlinks resolved
	Name        string   `json:"name"` // header name, else the file name without extension
	Description *string  `json:"description"`
	Inputs      []Param  `json:"inputs"`
	Outputs     []Param  `json:"outputs"`
	Tags        []string `json:"tags"`
	Timeout     *int     `json:"timeout"`
	TaskClass   *string  `json:"task_class"`
	Warnings    []string `json:"-"`
}

// scriptExts are the extensions indexed without looking inside the file;
// a file without extension is a script when it starts with "#!".
var scriptExts = map[string]bool{".sh": true, ".bash": true, ".py": true, ".rb": true, ".pl": true, ".js": true}

// Scan walks dirs (missing ones are skipped) and returns their scripts in
// walk order (lexical per directory), each file once. It does not descend
// into hidden directories or node_modules, skips hidden files, and skips
// symlinks whose target lies outside every configured dir (GAP 6);
// symlinked directories are not followed (their targets, when inside a
// configured dir, are indexed there). Unreadable entries are skipped.
func Scan(dirs []string) []Script {
	scripts, _ := scan(dirs)
	return scripts
}

// scan also returns the modification time of every directory it read, keyed
// by path, with the zero time for a configured dir that does not exist.
func scan(dirs []string) ([]Script, map[string]time.Time) {
	roots := resolveRoots(dirs)
	seen := map[string]bool{}
	mtimes := map[string]time.Time{}
	out := []Script{}
	for i, root := range roots {
		if root == "" {
			mtimes[dirs[i]] = time.Time{}
			continue
		}
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if d != nil && d.IsDir() && p != root {
					return fs.SkipDir
				}
				return nil
			}
			name := d.Name()
			if d.IsDir() {
				if p != root && (strings.HasPrefix(name, ".") || name == "node_modules") {
					return fs.SkipDir
				}
				if info, err := d.Info(); err == nil {
					mtimes[p] = info.ModTime()
				}
				return nil
			}
			if strings.HasPrefix(name, ".") {
				return nil
			}
			real := p
			if d.Type()&fs.ModeSymlink != 0 {
				r, err := filepath.EvalSymlinks(p)
				if err != nil || !insideAny(r, roots) {
					return nil
				}
				real = r
			}
			if seen[real] {
				return nil
			}
			if s, ok := readScript(real); ok {
				seen[real] = true
				out = append(out, s)
			}
			return nil
		})
	}
	return out, mtimes
}

// resolveRoots resolves symlinks of each configured dir; "" marks one that
// does not exist or is not a directory.
func resolveRoots(dirs []string) []string {
	roots := make([]string, len(dirs))
	for i, d := range dirs {
		r, err := filepath.EvalSymlinks(d)
		if err != nil {
			continue
		}
		if r, err = filepath.Abs(r); err != nil {
			continue
		}
		if fi, err := os.Stat(r); err == nil && fi.IsDir() {
			roots[i] = r
		}
	}
	return roots
}

// insideAny reports whether p is below one of roots.
func insideAny(p string, roots []string) bool {
	for _, r := range roots {
		if r == "" {
			continue
		}
		rel, err := filepath.Rel(r, p)
		if err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// readScript indexes the regular file at p when it is a script.
func readScript(p string) (Script, bool) {
	f, err := os.Open(p)
	if err != nil {
		return Script{}, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return Script{}, false
	}
	base := filepath.Base(p)
	ext := filepath.Ext(base)
	head, err := io.ReadAll(io.LimitReader(f, maxHeaderBytes))
	if err != nil {
		return Script{}, false
	}
	switch {
	case scriptExts[strings.ToLower(ext)]:
	case ext == "" && bytes.HasPrefix(head, []byte("#!")):
	default:
		return Script{}, false
	}
	h := ParseHeader(bytes.NewReader(head))
	s := Script{
		Path: p, Name: strings.TrimSuffix(base, ext), Description: h.Description,
		Inputs: h.Inputs, Outputs: h.Outputs, Tags: h.Tags, Timeout: h.Timeout, TaskClass: h.TaskClass,
		Warnings: h.Warnings,
	}
	if h.Name != nil {
		s.Name = *h.Name
	}
	return s, true
}

// Index caches Scan. A cached scan is reused while the list of dirs is the
// same and no directory it read has a new modification time (adding,
// removing or renaming a file changes its directory's time; editing a file
// in place does not: call Invalidate, as a configuration reload does).
type Index struct {
	mu      sync.Mutex
	key     string
	roots   []string
	mtimes  map[string]time.Time
	scripts []Script
}

// NewIndex returns an empty index.
func NewIndex() *Index { return &Index{} }

// Scripts returns the scripts under dirs, rescanning when needed. The
// result is shared: callers must not modify it.
func (x *Index) Scripts(dirs []string) []Script {
	x.mu.Lock()
	defer x.mu.Unlock()
	key := strings.Join(dirs, "\x00")
	if x.mtimes != nil && key == x.key && slices.Equal(resolveRoots(dirs), x.roots) && x.fresh() {
		return x.scripts
	}
	x.scripts, x.mtimes = scan(dirs)
	x.key, x.roots = key, resolveRoots(dirs)
	return x.scripts
}

func (x *Index) fresh() bool {
	for p, t := range x.mtimes {
		fi, err := os.Stat(p)
		switch {
		case err != nil && t.IsZero():
		case err != nil || !fi.ModTime().Equal(t):
			return false
		}
	}
	return true
}

// Invalidate drops the cached scan.
func (x *Index) Invalidate() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.mtimes, x.scripts = nil, nil
}

// Errors of Resolve.
var (
	ErrNotFound = errors.New("script not found")
	ErrOutside  = errors.New("script is outside the configured script_dirs")
)

// Resolve finds the script a task names: an absolute path, or one relative
// to a configured dir (the first dir holding it wins). The file must exist
// and, with symlinks resolved, lie inside a configured dir, so a task can
// never point a worker at an arbitrary file (GAP 7). It returns the
// resolved absolute path.
func Resolve(dirs []string, p string) (string, error) {
	roots := resolveRoots(dirs)
	var candidates []string
	if filepath.IsAbs(p) {
		candidates = []string{filepath.Clean(p)}
	} else {
		for _, r := range roots {
			if r != "" {
				candidates = append(candidates, filepath.Join(r, p))
			}
		}
	}
	var found string
	for _, c := range candidates {
		real, err := filepath.EvalSymlinks(c)
		if err != nil {
			continue
		}
		fi, err := os.Stat(real)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if insideAny(real, roots) {
			return real, nil
		}
		if found == "" {
			found = real
		}
	}
	if found != "" || (filepath.IsAbs(p) && !insideAny(filepath.Clean(p), roots)) {
		return "", fmt.Errorf("%s: %w", p, ErrOutside)
	}
	return "", fmt.Errorf("%s: %w", p, ErrNotFound)
}

// Search returns the scripts whose name, description or a tag contains q,
// case-insensitively. A script without description matches on its name and
// tags only (the original matched "none").
func Search(all []Script, q string) []Script {
	q = strings.ToLower(strings.TrimSpace(q))
	out := []Script{}
	for _, s := range all {
		hit := strings.Contains(strings.ToLower(s.Name), q) ||
			(s.Description != nil && strings.Contains(strings.ToLower(*s.Description), q))
		for _, t := range s.Tags {
			hit = hit || strings.Contains(strings.ToLower(t), q)
		}
		if hit {
			out = append(out, s)
		}
	}
	return out
}
