package httpd

import (
	"net/http"

	"github.com/julienschmidt/httprouter"
)

// The /control routes exist only on the Unix-socket handler (Config.Control).

func (s *server) controlStatus(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	s.writeJSON(w, r, http.StatusOK, s.control.Status(r.Context()))
	return nil
}

func (s *server) controlReload(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	if err := s.control.Reload(r.Context()); err != nil {
		return err
	}
	s.scripts.Invalidate() // script_dirs may have changed
	s.writeJSON(w, r, http.StatusOK, map[string]any{"status": "ok", "message": "Configuration reloaded"})
	return nil
}

// controlShutdown answers first and stops afterwards, so the client learns
// the request was accepted before the socket goes away.
func (s *server) controlShutdown(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	s.writeJSON(w, r, http.StatusAccepted, map[string]any{"status": "ok", "message": "Shutting down"})
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	go s.control.Shutdown()
	return nil
}
