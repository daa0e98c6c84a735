package httpd

import (
	"net/http"
	"strings"

	"github.com/julienschmidt/httprouter"

	"github.com/sparkq/sparkq/store"
)

func (s *server) listSessions(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	status, err := oneOf(r.URL.Query(), "status", store.SessionActive, store.SessionEnded)
	if err != nil {
		return err
	}
	sessions := []store.Session{}
	// Limit 0 means "backend default" to the store but "nothing" on the wire.
	if p.Limit > 0 {
		got, err := s.store.ListSessions(r.Context(), store.SessionFilter{Status: status}, p)
		if err != nil {
			return err
		}
		sessions = append(sessions, got...)
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"sessions": sessions})
	return nil
}

func (s *server) createSession(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	body, err := readObject(r, false)
	if err != nil {
		return err
	}
	if err := body.only("name", "description"); err != nil {
		return err
	}
	name, err := body.requiredStr("name")
	if err != nil {
		return err
	}
	desc, err := body.str("description")
	if err != nil {
		return err
	}
	sess, err := s.store.CreateSession(r.Context(), store.NewSession{Name: strings.TrimSpace(name), Description: desc})
	if err != nil {
		return err
	}
	// 200, not 201: existing clients expect the original code.
	s.writeJSON(w, r, http.StatusOK, map[string]any{"session": sess})
	return nil
}

// getSession accepts an id or a name, so the CLI can address sessions by name.
func (s *server) getSession(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	sess, err := s.store.FindSession(r.Context(), ps.ByName("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"session": sess})
	return nil
}

func (s *server) updateSession(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	body, err := readObject(r, false)
	if err != nil {
		return err
	}
	if err := body.only("name", "description"); err != nil {
		return err
	}
	var u store.SessionUpdate
	if u.Name, err = body.str("name"); err != nil {
		return err
	}
	if u.Description, err = body.str("description"); err != nil {
		return err
	}
	if u.Name == nil && u.Description == nil {
		return store.Invalid("", "No fields provided to update session")
	}
	if u.Name != nil {
		name := strings.TrimSpace(*u.Name)
		if name == "" {
			return store.Invalid("name", "name cannot be empty")
		}
		u.Name = &name
	}
	sess, err := s.store.UpdateSession(r.Context(), ps.ByName("id"), u)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"session": sess})
	return nil
}

func (s *server) endSession(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	sess, err := s.store.EndSession(r.Context(), ps.ByName("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"message": "Session ended", "session": sess})
	return nil
}

func (s *server) deleteSession(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	if err := s.store.DeleteSession(r.Context(), ps.ByName("id")); err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"message": "Session deleted (cascade delete with all queues and tasks)"})
	return nil
}
