// Package httpd is SparkQ's HTTP API: one handler, served both on TCP (for the
// dashboard and HTTP workers) and on the daemon's Unix control socket (for the
// CLI). Nothing below it knows about HTTP; nothing in it knows about SQL.
package httpd

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/sparkq/sparkq/daemon/config"
	"github.com/sparkq/sparkq/daemon/scripts"
	"github.com/sparkq/sparkq/httpd/events"
	"github.com/sparkq/sparkq/store"
)

// Backend is what the handlers need from persistence. store.Store satisfies it.
type Backend interface {
	CreateSession(ctx context.Context, in store.NewSession) (store.Session, error)
	FindSession(ctx context.Context, idOrName string) (store.Session, error)
	ListSessions(ctx context.Context, f store.SessionFilter, p store.Page) ([]store.Session, error)
	UpdateSession(ctx context.Context, id string, u store.SessionUpdate) (store.Session, error)
	EndSession(ctx context.Context, id string) (store.Session, error)
	DeleteSession(ctx context.Context, id string) error

	CreateQueue(ctx context.Context, in store.NewQueue) (store.Queue, error)
	FindQueue(ctx context.Context, idOrName, sessionIDOrName string) (store.Queue, error)
	ListQueues(ctx context.Context, f store.QueueFilter, p store.Page) ([]store.Queue, error)
	UpdateQueue(ctx context.Context, id string, u store.QueueUpdate) (store.Queue, error)
	EndQueue(ctx context.Context, id string) (store.Queue, error)
	ArchiveQueue(ctx context.Context, id string) (store.Queue, error)
	UnarchiveQueue(ctx context.Context, id string) (store.Queue, error)
	DeleteQueue(ctx context.Context, id string) error

	Enqueue(ctx context.Context, in store.NewTask) (store.Task, error)
	EnqueueBatch(ctx context.Context, in []store.NewTask) ([]store.Task, error)
	GetTask(ctx context.Context, id string) (store.Task, error)
	ListTasks(ctx context.Context, f store.TaskFilter, p store.Page) (store.TaskPage, error)
	Peek(ctx context.Context, queueID string) (store.Task, error)
	ClaimNext(ctx context.Context, queueID, workerID string) (store.Task, error)
	Claim(ctx context.Context, taskID, workerID string) (store.Task, error)
	Complete(ctx context.Context, taskID string, c store.Completion) (store.Task, error)
	Fail(ctx context.Context, taskID string, f store.Failure) (store.Task, error)
	Requeue(ctx context.Context, taskID string) (store.Task, error)
	Rerun(ctx context.Context, taskID string) (store.Task, error)
	Reset(ctx context.Context, taskID, target string) (store.Task, error)
	UpdateTask(ctx context.Context, id string, u store.TaskUpdate) (store.Task, error)
	DeleteTask(ctx context.Context, id string) error
	// Workers: blocking claim, heartbeats, release (workers.go).
	ClaimNextWait(ctx context.Context, queueID, workerID string, wait time.Duration) (store.Task, error)
	Heartbeat(ctx context.Context, taskID, workerID string) (store.Lease, error)
	Release(ctx context.Context, taskID, workerID string) (store.Task, error)

	Purge(ctx context.Context, cutoff time.Time, limit int) (int, error)
	Counts(ctx context.Context) (store.Counts, error)
	ListTaskClasses(ctx context.Context) ([]store.TaskClass, error)
	ListTools(ctx context.Context) ([]store.Tool, error)
	ListAudit(ctx context.Context, actionPrefix string, limit int) ([]store.AuditEntry, error)
	FinishedPerMinute(ctx context.Context, since, until time.Time) ([]store.MinuteCount, error) // dashboard chart
	// Agent roles, prompts, config rows, tools/classes CRUD (catalog.go).
	catalogBackend
}

// Controller is the daemon side of the socket-only /control routes.
type Controller interface {
	// Status is encoded as the JSON body of GET /control/status.
	Status(ctx context.Context) any
	// Reload re-reads the configuration. Errors of kind store.KindInvalid
	// (bad configuration) become 400, anything else 500.
	Reload(ctx context.Context) error
	// Shutdown asks the daemon to stop. It runs on its own goroutine after
	// the 202 response has been flushed, so it may block while the server
	// drains (the shutdown request itself has finished by then).
	Shutdown()
}

// Config configures the handler returned by New.
type Config struct {
	Store   Backend
	Logger  *slog.Logger // nil discards
	Version string       // build id reported by /health and /api/version
	// Control is set only for the Unix-socket listener: it mounts /control/*
	// and skips the Host/Origin checks, because the socket's file mode (0600)
	// already limits who can connect.
	Control      Controller
	MaxBodyBytes int64            // default 1 MiB
	Clock        func() time.Time // default time.Now
	// AllowedHosts are the host names (any port) accepted in the Host header
	// on TCP; default localhost, 127.0.0.1 and [::1]. Rejecting other names
	// defeats DNS rebinding.
	AllowedHosts []string
	// AllowedOrigins are the exact origins (scheme://host[:port]) of other
	// sites' pages allowed to call the API on TCP (server.cors_origins):
	// they get CORS headers and may send mutating requests. Pages served by
	// this listener under an allowed host (the dashboard) always may.
	AllowedOrigins []string
	// AllowCredentials sends Access-Control-Allow-Credentials to
	// AllowedOrigins (server.cors_allow_credentials).
	AllowCredentials bool
	// APIToken, when set, must come with every TCP request as
	// "Authorization: Bearer <token>" (see auth.go for the public pages).
	APIToken string
	// Events feeds GET /api/events (the dashboard's live updates). Give the
	// handler a store wrapped by events.Wrap on the same bus; nil disables
	// the stream (503).
	Events *events.Bus

	// Settings returns the current sparkq.yml configuration (after flags),
	// read per request so a reload is seen. It is the fallback under the
	// database's config rows, and supplies script_dirs and the folder of
	// _build/prompts. Nil means built-in defaults and no script dirs.
	Settings func() config.Config
	// Reloader serves POST /api/reload (the daemon's Reload, the same one
	// /control/reload calls); nil answers 501.
	Reloader Reloader
	// Scripts caches the script index; give both listeners the same one so
	// a reload through either refreshes it. Nil: a private index.
	Scripts *scripts.Index
	// Getenv reads SPARKQ_ENV, APP_ENV and SPARKQ_CACHE_BUSTER for
	// /ui-cache-buster.js (default os.Getenv).
	Getenv func(string) string
}

const (
	defaultMaxBodyBytes = 1 << 20
	defaultVersion      = "dev"
)

// server holds the dependencies shared by the handlers.
type server struct {
	store   Backend
	log     *slog.Logger
	version string
	control Controller
	now     func() time.Time
	events  *events.Bus
	catalogDeps
	// lifetimes end long-polls when their http.Server shuts down (workers.go).
	lifetimes lifetimes
}

// New returns the SparkQ API handler.
func New(cfg Config) http.Handler {
	s := &server{
		store:       cfg.Store,
		log:         cfg.Logger,
		version:     cfg.Version,
		control:     cfg.Control,
		now:         cfg.Clock,
		events:      cfg.Events,
		catalogDeps: newCatalogDeps(cfg),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.version == "" {
		s.version = defaultVersion
	}
	if s.now == nil {
		s.now = time.Now
	}

	r := httprouter.New()
	// An API answers in JSON: a wrong path is a 404 envelope, not an HTML redirect.
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.NotFound = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.writeError(w, req, errorf(http.StatusNotFound, "Not found: %s %s", req.Method, req.URL.Path))
	})
	// httprouter has already set the Allow header when these run; an
	// OPTIONS request gets that header and an empty 200.
	r.MethodNotAllowed = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.writeError(w, req, methodNotAllowed(w, req))
	})
	r.GlobalOPTIONS = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if allow, ok := taskPathAllow(req.URL.Path); ok {
			w.Header().Set("Allow", allow)
		}
	})
	r.PanicHandler = func(w http.ResponseWriter, req *http.Request, v any) {
		if v == http.ErrAbortHandler {
			panic(v)
		}
		s.log.Error("handler panic", "method", req.Method, "path", req.URL.Path, "panic", v)
		s.writeError(w, req, errorf(http.StatusInternalServerError, "Internal server error"))
	}
	s.routes(r)

	maxBody := cfg.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = defaultMaxBodyBytes
	}
	var h http.Handler = s.limitBody(r, maxBody)
	if cfg.Control == nil {
		// Outermost first: compress, check Host and Origin, answer CORS,
		// then authenticate.
		h = s.requireToken(h, cfg.APIToken)
		h = s.cors(h, cfg.AllowedOrigins, cfg.AllowCredentials)
		h = s.guardTCP(h, cfg.AllowedHosts, cfg.AllowedOrigins)
		h = gzipResponses(h)
	}
	return h
}

// handlerFunc is a route handler that reports failures as errors, so that
// status codes are chosen in one place (writeError).
type handlerFunc func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error

func (s *server) wrap(h handlerFunc) httprouter.Handle {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		if err := h(w, r, ps); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// handle registers a route. Every GET route also answers HEAD with the same
// handler: net/http drops the body, so HEAD gets the GET's status and
// headers, and the router's Allow header on a 405 lists HEAD beside GET.
func (s *server) handle(r *httprouter.Router, method, path string, h handlerFunc) {
	wrapped := s.wrap(h)
	r.Handle(method, path, wrapped)
	if method == http.MethodGet {
		r.Handle(http.MethodHead, path, wrapped)
	}
}

func (s *server) routes(r *httprouter.Router) {
	handle := func(method, path string, h handlerFunc) { s.handle(r, method, path, h) }

	handle(http.MethodGet, "/", s.redirectUI)
	handle(http.MethodGet, "/ui", s.redirectUI)
	handle(http.MethodGet, "/ui/*file", s.serveUI)
	handle(http.MethodGet, "/health", s.health)
	handle(http.MethodGet, "/api/version", s.apiVersion)
	handle(http.MethodGet, "/stats", s.stats)
	handle(http.MethodGet, "/openapi.json", s.openAPI)
	handle(http.MethodGet, "/docs", s.docsPage)
	handle(http.MethodGet, "/docs/*file", s.docsAsset)
	handle(http.MethodGet, "/redoc", s.redoc)
	handle(http.MethodGet, "/api/events", s.streamEvents)
	handle(http.MethodGet, "/api/stats/throughput", s.throughput)

	handle(http.MethodGet, "/api/sessions", s.listSessions)
	handle(http.MethodPost, "/api/sessions", s.createSession)
	handle(http.MethodGet, "/api/sessions/:id", s.getSession)
	handle(http.MethodPut, "/api/sessions/:id", s.updateSession)
	handle(http.MethodDelete, "/api/sessions/:id", s.deleteSession)
	handle(http.MethodPut, "/api/sessions/:id/end", s.endSession)

	handle(http.MethodGet, "/api/queues", s.listQueues)
	handle(http.MethodPost, "/api/queues", s.createQueue)
	handle(http.MethodGet, "/api/queues/:id", s.getQueue)
	handle(http.MethodPut, "/api/queues/:id", s.updateQueue)
	handle(http.MethodDelete, "/api/queues/:id", s.deleteQueue)
	handle(http.MethodPut, "/api/queues/:id/end", s.queueLifecycle("Queue ended", Backend.EndQueue))
	handle(http.MethodPut, "/api/queues/:id/archive", s.queueLifecycle("Queue archived", Backend.ArchiveQueue))
	handle(http.MethodPut, "/api/queues/:id/unarchive", s.queueLifecycle("Queue unarchived", Backend.UnarchiveQueue))
	handle(http.MethodPost, "/api/queues/:id/claim", s.claimNext)
	handle(http.MethodGet, "/api/queues/:id/peek", s.peek)

	handle(http.MethodGet, "/api/tasks", s.listTasks)
	handle(http.MethodPost, "/api/tasks", s.createTask)
	// httprouter cannot hold the static /api/tasks/batch and quick-add next
	// to the /api/tasks/:id wildcard, so the POST on the wildcard dispatches
	// them and the other methods refuse them (405, see taskPathAllow).
	handle(http.MethodPost, "/api/tasks/:id", s.postTaskPath)
	handle(http.MethodGet, "/api/tasks/:id", taskByID(s.getTask))
	handle(http.MethodPut, "/api/tasks/:id", taskByID(s.updateTask))
	handle(http.MethodDelete, "/api/tasks/:id", taskByID(s.deleteTask))
	handle(http.MethodPost, "/api/tasks/:id/claim", s.claimTask)
	handle(http.MethodPost, "/api/tasks/:id/complete", s.completeTask)
	handle(http.MethodPost, "/api/tasks/:id/fail", s.failTask)
	handle(http.MethodPost, "/api/tasks/:id/reset", s.resetTask)
	handle(http.MethodPost, "/api/tasks/:id/requeue", s.requeueTask)
	handle(http.MethodPost, "/api/tasks/:id/retry", s.requeueTask)
	handle(http.MethodPost, "/api/tasks/:id/rerun", s.rerunTask)
	handle(http.MethodPost, "/api/tasks/:id/heartbeat", s.heartbeatTask)
	handle(http.MethodPost, "/api/tasks/:id/release", s.releaseTask)

	handle(http.MethodGet, "/api/tools", s.listTools)
	handle(http.MethodGet, "/api/task-classes", s.listTaskClasses)
	handle(http.MethodGet, "/api/audit", s.listAudit)
	handle(http.MethodPost, "/api/purge", s.purge)
	s.catalogRoutes(r) // roles, prompts, config, tools/classes CRUD, quick-add helpers, scripts (catalog.go)

	if s.control != nil {
		handle(http.MethodGet, "/control/status", s.controlStatus)
		handle(http.MethodPost, "/control/reload", s.controlReload)
		handle(http.MethodPost, "/control/shutdown", s.controlShutdown)
	}
}
