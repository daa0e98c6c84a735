package httpd

import (
	"context"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/sparkq/sparkq/daemon/config"
	"github.com/sparkq/sparkq/daemon/scripts"
	"github.com/sparkq/sparkq/store"
)

// catalogBackend is what the settings-side routes need from the store:
// agent roles, prompts, config rows, tool and task-class CRUD, queue LLM
// sessions. store.Catalog satisfies it.
type catalogBackend interface {
	store.Catalog
	PutTaskClass(ctx context.Context, c store.TaskClass) (store.TaskClass, error)
	DeleteTaskClass(ctx context.Context, name string) error
	PutTool(ctx context.Context, t store.Tool) (store.Tool, error)
	DeleteTool(ctx context.Context, name string) error
}

// Reloader re-reads sparkq.yml. Errors of kind store.KindInvalid (a broken
// file) become 400, anything else 500.
type Reloader interface {
	Reload(ctx context.Context) error
}

// catalogDeps are the dependencies of the routes in this file's family.
type catalogDeps struct {
	settings func() config.Config
	reloader Reloader
	scripts  *scripts.Index
	getenv   func(string) string
	started  time.Time
}

func newCatalogDeps(cfg Config) catalogDeps {
	now := time.Now
	if cfg.Clock != nil {
		now = cfg.Clock
	}
	d := catalogDeps{settings: cfg.Settings, reloader: cfg.Reloader, scripts: cfg.Scripts, getenv: cfg.Getenv, started: now()}
	if d.scripts == nil {
		d.scripts = scripts.NewIndex()
	}
	if d.getenv == nil {
		d.getenv = os.Getenv
	}
	return d
}

// yaml is the current sparkq.yml configuration; the zero Config when the
// handler runs without one (accessors below apply the defaults).
func (d catalogDeps) yaml() config.Config {
	if d.settings == nil {
		return config.Config{}
	}
	return d.settings()
}

func (s *server) catalogRoutes(r *httprouter.Router) {
	handle := func(method, path string, h handlerFunc) { s.handle(r, method, path, h) }

	handle(http.MethodGet, "/dashboard", s.serveIndex)
	handle(http.MethodGet, "/settings", s.serveIndex)
	handle(http.MethodGet, "/ui-cache-buster.js", s.cacheBuster)
	handle(http.MethodGet, "/api/build-prompts", s.listBuildPrompts)

	handle(http.MethodGet, "/api/agent-roles", s.listAgentRoles)
	handle(http.MethodPost, "/api/agent-roles", s.createAgentRole)
	handle(http.MethodPut, "/api/agent-roles/:role_key", s.updateAgentRole)
	handle(http.MethodDelete, "/api/agent-roles/:role_key", s.deleteAgentRole)

	handle(http.MethodPost, "/api/queues/:id/codex-session", s.setCodexSession)
	handle(http.MethodGet, "/api/queues/:id/llm-sessions", s.getLLMSessions)
	handle(http.MethodPut, "/api/queues/:id/llm-sessions/:llm_name", s.putLLMSession)

	handle(http.MethodPost, "/api/task-classes", s.createTaskClass)
	handle(http.MethodPut, "/api/task-classes/:name", s.putTaskClass)
	handle(http.MethodDelete, "/api/task-classes/:name", s.deleteTaskClass)
	handle(http.MethodPost, "/api/tools", s.createTool)
	handle(http.MethodPut, "/api/tools/:name", s.putTool)
	handle(http.MethodDelete, "/api/tools/:name", s.deleteTool)

	handle(http.MethodGet, "/api/config", s.getConfig)
	handle(http.MethodPost, "/api/config/validate", s.validateConfig)
	handle(http.MethodPut, "/api/config/:namespace/:key", s.putConfig)
	handle(http.MethodDelete, "/api/config/:namespace/:key", s.deleteConfig)
	handle(http.MethodPost, "/api/reload", s.apiReload)

	handle(http.MethodGet, "/api/prompts", s.listPrompts)
	handle(http.MethodPost, "/api/prompts", s.createPrompt)
	handle(http.MethodGet, "/api/prompts/:id", s.getPrompt)
	handle(http.MethodPut, "/api/prompts/:id", s.updatePrompt)
	handle(http.MethodDelete, "/api/prompts/:id", s.deletePrompt)

	handle(http.MethodGet, "/api/scripts/index", s.scriptsIndex)
	// POST /api/tasks/quick-add is dispatched by postTaskPath (tasks.go):
	// httprouter cannot register it beside /api/tasks/:id.
}

// boolean reads an optional JSON boolean; absent and null are nil. ints
// also accepts 0 and 1, as the original sent some flags as integers.
func (o object) boolean(key string, ints bool) (*bool, error) {
	raw := o.fields[key]
	if isNull(raw) {
		return nil, nil
	}
	var v bool
	switch s := strings.TrimSpace(string(raw)); {
	case s == "true":
		v = true
	case s == "false":
	case ints && s == "1":
		v = true
	case ints && s == "0":
	default:
		return nil, store.Invalid(o.name(key), "%s must be a boolean", o.name(key))
	}
	return &v, nil
}

// optionalText reads a key with presence semantics: absent is nil, null is
// "" (clear), a string is itself.
func (o object) optionalText(key string) (*string, error) {
	if !o.has(key) {
		return nil, nil
	}
	v, err := o.str(key)
	if err != nil {
		return nil, err
	}
	if v == nil {
		empty := ""
		return &empty, nil
	}
	return v, nil
}

// queryBool reads a boolean query parameter the way the original's
// validation library did (true/false, 1/0, yes/no, on/off).
func queryBool(r *http.Request, key string, def bool) (bool, error) {
	v := strings.ToLower(strings.TrimSpace(r.URL.Query().Get(key)))
	switch v {
	case "":
		return def, nil
	case "true", "1", "yes", "on", "t", "y":
		return true, nil
	case "false", "0", "no", "off", "f", "n":
		return false, nil
	}
	return false, store.Invalid(key, "%s must be a boolean (true or false)", key)
}
