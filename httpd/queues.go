package httpd

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/julienschmidt/httprouter"

	"github.com/sparkq/sparkq/store"
)

func (s *server) listQueues(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	state, err := oneOf(q, "state", store.QueueActive, store.QueueEnded, store.QueueArchived)
	if err != nil {
		return err
	}
	queues := []queueOut{}
	if p.Limit > 0 {
		got, err := s.store.ListQueues(r.Context(), store.QueueFilter{SessionID: q.Get("session_id"), State: state}, p)
		if err != nil {
			return err
		}
		queues = newQueueOuts(got)
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"queues": queues})
	return nil
}

func (s *server) createQueue(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	body, err := readObject(r, false)
	if err != nil {
		return err
	}
	if err := body.only("session_id", "name", "instructions", "default_agent_role_key", "model_profile"); err != nil {
		return err
	}
	var in store.NewQueue
	if in.SessionID, err = body.requiredStr("session_id"); err != nil {
		return err
	}
	if in.Name, err = body.requiredStr("name"); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Instructions, err = body.str("instructions"); err != nil {
		return err
	}
	if in.DefaultAgentRoleKey, err = body.str("default_agent_role_key"); err != nil {
		return err
	}
	if in.DefaultAgentRoleKey != nil {
		key := strings.TrimSpace(*in.DefaultAgentRoleKey)
		if key == "" {
			in.DefaultAgentRoleKey = nil // blank means "no role", as before
		} else {
			in.DefaultAgentRoleKey = &key // must name an active role (store)
		}
	}
	// model_profile: present (null or "" meaning "auto") or absent (none).
	if in.ModelProfile, err = body.optionalText("model_profile"); err != nil {
		return err
	}
	q, err := s.store.CreateQueue(r.Context(), in)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, map[string]any{"queue": newQueueOut(q)})
	return nil
}

// getQueue accepts an id or a name; ?session= (id or name) narrows a name
// used in several sessions.
func (s *server) getQueue(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	q, err := s.store.FindQueue(r.Context(), ps.ByName("id"), r.URL.Query().Get("session"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"queue": newQueueOut(q)})
	return nil
}

func (s *server) updateQueue(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	body, err := readObject(r, false)
	if err != nil {
		return err
	}
	if err := body.only("name", "instructions", "default_agent_role_key", "model_profile"); err != nil {
		return err
	}
	// name: null means absent. The other keys count when present:
	// instructions null clears them (GAP 63), default_agent_role_key null
	// or blank clears the role, model_profile null or "" means "auto".
	var u store.QueueUpdate
	if u.Name, err = body.str("name"); err != nil {
		return err
	}
	if u.Instructions, err = body.str("instructions"); err != nil {
		return err
	}
	u.ClearInstructions = body.has("instructions") && u.Instructions == nil
	if u.DefaultAgentRoleKey, err = body.optionalText("default_agent_role_key"); err != nil {
		return err
	}
	if u.DefaultAgentRoleKey != nil {
		key := strings.TrimSpace(*u.DefaultAgentRoleKey)
		u.DefaultAgentRoleKey = &key
	}
	if u.ModelProfile, err = body.optionalText("model_profile"); err != nil {
		return err
	}
	if u.Name == nil && u.Instructions == nil && !u.ClearInstructions && u.DefaultAgentRoleKey == nil && u.ModelProfile == nil {
		return store.Invalid("", "No fields provided to update queue")
	}
	if u.Name != nil {
		name := strings.TrimSpace(*u.Name)
		if name == "" {
			return store.Invalid("name", "name cannot be empty")
		}
		u.Name = &name
	}
	q, err := s.store.UpdateQueue(r.Context(), ps.ByName("id"), u)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"queue": newQueueOut(q)})
	return nil
}

// queueLifecycle serves end/archive/unarchive, which differ only in the
// store call and the message.
func (s *server) queueLifecycle(message string, change func(Backend, context.Context, string) (store.Queue, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
		q, err := change(s.store, r.Context(), ps.ByName("id"))
		if err != nil {
			return err
		}
		s.writeJSON(w, r, http.StatusOK, map[string]any{"message": message, "queue": newQueueOut(q)})
		return nil
	}
}

func (s *server) deleteQueue(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	if err := s.store.DeleteQueue(r.Context(), ps.ByName("id")); err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"message": "Queue deleted"})
	return nil
}

// claimNext claims the queue's oldest queued task; 204 when there is none.
// With ?wait=30s it waits up to that long for one (workers.go).
func (s *server) claimNext(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	worker, err := workerID(r)
	if err != nil {
		return err
	}
	t, err := s.claimNextWait(r, ps.ByName("id"), worker)
	if errors.Is(err, errClientGone) {
		return nil // nobody to answer; a task claimed meanwhile was released
	}
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"task": newClaimedTaskOut(t)})
	return nil
}

// peek shows the task claimNext would take; 204 when there is none.
func (s *server) peek(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	t, err := s.store.Peek(r.Context(), ps.ByName("id"))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"task": newTaskOut(t)})
	return nil
}
