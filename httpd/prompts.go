package httpd

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/julienschmidt/httprouter"

	"github.com/sparkq/sparkq/store"
)

// Prompts (API.md §10) and build prompts (§2). Build prompts are the .md
// files of <config dir>/_build/prompts (the folder holding sparkq.yml plays
// the original's repository root). Files are opened through os.Root, so no
// name, "..", or symlink can reach outside that folder. Deviations: POST
// returns the full prompt row (category and active included); the 31
// built-in prompts are seeded once per database, never again after users
// delete them (GAP 31).

const (
	buildPromptsDir = "_build/prompts"
	maxPromptFile   = 1 << 20
)

// promptSummary is a list entry: the prompt without its template.
type promptSummary struct {
	store.Prompt
	TemplateText *string `json:"template_text,omitempty"` // shadows and omits the template
}

// buildPromptsPath is the folder of build prompts, "" when there is none.
func (s *server) buildPromptsPath() string {
	y := s.yaml()
	dir := y.Dir()
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, filepath.FromSlash(buildPromptsDir))
}

// buildPromptNames lists the folder's .md files (not recursive), sorted;
// a missing folder has none.
func (s *server) buildPromptNames() ([]string, error) {
	names := []string{}
	dir := s.buildPromptsPath()
	if dir == "" {
		return names, nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return names, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Type().IsRegular() && strings.EqualFold(filepath.Ext(e.Name()), ".md") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// readBuildPrompt reads one build prompt; ok is false when name is not a
// readable .md file directly inside the folder.
func (s *server) readBuildPrompt(name string) (content string, ok bool, err error) {
	dir := s.buildPromptsPath()
	if dir == "" || name == "" || strings.ContainsAny(name, `/\`+"\x00") || name == "." || name == ".." ||
		!strings.EqualFold(filepath.Ext(name), ".md") {
		return "", false, nil
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", false, nil // no folder: nothing to find
	}
	defer root.Close()
	f, err := root.Open(name)
	if err != nil {
		return "", false, nil
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return "", false, nil
	}
	b, err := io.ReadAll(io.LimitReader(f, maxPromptFile+1))
	if err != nil {
		return "", false, err
	}
	if len(b) > maxPromptFile {
		return "", false, errors.New("prompt file larger than 1 MiB")
	}
	return string(b), true, nil
}

func (s *server) listBuildPrompts(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	names, err := s.buildPromptNames()
	if err != nil {
		return err
	}
	out := make([]map[string]string, len(names))
	for i, n := range names {
		out[i] = map[string]string{"name": n, "path": buildPromptsDir + "/" + n}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"prompts": out})
	return nil
}

func fileSource(r *http.Request) bool {
	switch strings.ToLower(r.URL.Query().Get("source")) {
	case "build", "file", "files":
		return true
	}
	return false
}

func (s *server) listPrompts(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	if fileSource(r) {
		names, err := s.buildPromptNames()
		if err != nil {
			return err
		}
		s.writeJSON(w, r, http.StatusOK, map[string]any{"prompts": names})
		return nil
	}
	prompts, err := s.store.ListPrompts(r.Context())
	if err != nil {
		return err
	}
	out := make([]promptSummary, len(prompts))
	for i, p := range prompts {
		out[i] = promptSummary{Prompt: p}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"prompts": out})
	return nil
}

// getPrompt reads a build prompt file when asked (?source=build|file|files)
// or when the id names a .md file; a file that is not found falls back to
// the database unless the source was explicit.
func (s *server) getPrompt(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	id := ps.ByName("id")
	explicit := fileSource(r)
	if explicit || strings.EqualFold(filepath.Ext(id), ".md") {
		content, ok, err := s.readBuildPrompt(id)
		if err != nil {
			s.log.ErrorContext(r.Context(), "read build prompt", "name", id, "err", err)
			return errorf(http.StatusInternalServerError, "Failed to read prompt file")
		}
		if ok {
			s.writeJSON(w, r, http.StatusOK, map[string]any{"content": content, "filename": id})
			return nil
		}
		if explicit {
			return errorf(http.StatusNotFound, "Prompt file not found")
		}
	}
	p, err := s.store.GetPrompt(r.Context(), id)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"prompt": p})
	return nil
}

func (s *server) createPrompt(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	body, err := readObject(r, false)
	if err != nil {
		return err
	}
	if err := body.only("command", "label", "template_text", "description"); err != nil {
		return err
	}
	var in store.NewPrompt
	for _, f := range []struct {
		key string
		dst *string
	}{{"command", &in.Command}, {"label", &in.Label}, {"template_text", &in.TemplateText}} {
		v, err := body.str(f.key)
		if err != nil {
			return err
		}
		if v != nil {
			*f.dst = *v
		}
	}
	if in.Description, err = body.str("description"); err != nil {
		return err
	}
	p, err := s.store.CreatePrompt(r.Context(), in)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, map[string]any{"prompt": p})
	return nil
}

// updatePrompt: null means "not provided", except for description, where
// null clears it.
func (s *server) updatePrompt(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	body, err := readObject(r, false)
	if err != nil {
		return err
	}
	if err := body.only("command", "label", "template_text", "description", "active"); err != nil {
		return err
	}
	var u store.PromptUpdate
	if u.Command, err = body.str("command"); err != nil {
		return err
	}
	if u.Label, err = body.str("label"); err != nil {
		return err
	}
	if u.TemplateText, err = body.str("template_text"); err != nil {
		return err
	}
	if u.Description, err = body.optionalText("description"); err != nil {
		return err
	}
	if u.Active, err = body.boolean("active", true); err != nil {
		return err
	}
	p, err := s.store.UpdatePrompt(r.Context(), ps.ByName("id"), u)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"prompt": p})
	return nil
}

func (s *server) deletePrompt(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	if err := s.store.DeletePrompt(r.Context(), ps.ByName("id")); err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"message": "Prompt deleted successfully"})
	return nil
}
