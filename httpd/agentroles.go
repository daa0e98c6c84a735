package httpd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/julienschmidt/httprouter"

	"github.com/sparkq/sparkq/store"
)

// Agent roles (API.md §4). Deviations: values are trimmed before the
// required checks, so whitespace-only input is refused (GAP 33); keys are
// limited to letters, digits, '_', '-' and '.' so they stay addressable in
// URLs; deleting a role that is a queue's default is a 409 naming those
// queues (GAP 32); built-ins are seeded once and never overwritten (GAP 30).

func (s *server) listAgentRoles(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	activeOnly, err := queryBool(r, "active_only", true)
	if err != nil {
		return err
	}
	roles, err := s.store.ListAgentRoles(r.Context(), activeOnly)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"roles": append([]store.AgentRole{}, roles...)})
	return nil
}

// createAgentRole answers 200, not 201, as the original did.
func (s *server) createAgentRole(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	body, err := readObject(r, false)
	if err != nil {
		return err
	}
	if err := body.only("key", "label", "description", "active"); err != nil {
		return err
	}
	in := store.NewAgentRole{Active: true}
	for _, f := range []struct {
		key string
		dst *string
	}{{"key", &in.Key}, {"label", &in.Label}, {"description", &in.Description}} {
		v, err := body.str(f.key)
		if err != nil {
			return err
		}
		if v != nil {
			*f.dst = *v
		}
	}
	active, err := body.boolean("active", false)
	if err != nil {
		return err
	}
	if active != nil {
		in.Active = *active
	}
	role, err := s.store.CreateAgentRole(r.Context(), in)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"role": role})
	return nil
}

func (s *server) updateAgentRole(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	body, err := readObject(r, false)
	if err != nil {
		return err
	}
	if err := body.only("label", "description", "active"); err != nil {
		return err
	}
	var u store.AgentRoleUpdate
	if u.Label, err = body.str("label"); err != nil {
		return err
	}
	if u.Description, err = body.str("description"); err != nil {
		return err
	}
	if u.Active, err = body.boolean("active", false); err != nil {
		return err
	}
	role, err := s.store.UpdateAgentRole(r.Context(), ps.ByName("role_key"), u)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"role": role})
	return nil
}

func (s *server) deleteAgentRole(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	key := ps.ByName("role_key")
	if err := s.store.DeleteAgentRole(r.Context(), key); err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"message": fmt.Sprintf("Agent role '%s' deleted", key)})
	return nil
}

// applyRole resolves a new task's agent_role_key (it must name an active
// role) and records the role in the payload as agent_role_key and
// agent_role_label, as the original's task create did.
func (s *server) applyRole(ctx context.Context, in *store.NewTask) error {
	if in.AgentRoleKey == nil {
		return nil
	}
	role, err := s.store.ResolveAgentRole(ctx, *in.AgentRoleKey, false)
	if err != nil {
		return err
	}
	if role == nil {
		in.AgentRoleKey = nil
		return nil
	}
	in.AgentRoleKey = &role.Key
	payload := in.Payload
	if strings.TrimSpace(payload) == "" {
		payload = "{}"
	}
	p, err := setPayloadKeys(payload, []payloadKey{{"agent_role_key", role.Key}, {"agent_role_label", role.Label}})
	if err != nil {
		return err
	}
	in.Payload = p
	return nil
}

type payloadKey struct {
	key   string
	value any
}

// setPayloadKeys sets keys of a JSON object payload. When none of them is
// present they are appended, so the caller's key order and formatting
// survive; otherwise the object is re-encoded.
func setPayloadKeys(payload string, kv []payloadKey) (string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(payload), &m); err != nil || m == nil {
		return "", store.Invalid("payload", "payload must be a JSON object")
	}
	present := false
	for _, p := range kv {
		_, ok := m[p.key]
		present = present || ok
	}
	if !present {
		trimmed := strings.TrimSpace(payload)
		var buf bytes.Buffer
		buf.WriteString(strings.TrimSpace(trimmed[:len(trimmed)-1]))
		sep := len(m) > 0
		for _, p := range kv {
			k, _ := json.Marshal(p.key)
			v, err := json.Marshal(p.value)
			if err != nil {
				return "", fmt.Errorf("encode payload key %s: %w", p.key, err)
			}
			if sep {
				buf.WriteString(", ")
			}
			sep = true
			buf.Write(k)
			buf.WriteString(": ")
			buf.Write(v)
		}
		buf.WriteByte('}')
		return buf.String(), nil
	}
	for _, p := range kv {
		v, err := json.Marshal(p.value)
		if err != nil {
			return "", fmt.Errorf("encode payload key %s: %w", p.key, err)
		}
		m[p.key] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode payload: %w", err)
	}
	return string(b), nil
}

// Queue LLM sessions (API.md §5). Unknown queues are 404 on every route
// (GAP 62); the update is one transaction (GAP 14); timestamps use the
// store's one format (GAP 29).

func (s *server) setCodexSession(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	body, err := readObject(r, false)
	if err != nil {
		return err
	}
	if err := body.only("session_id"); err != nil {
		return err
	}
	sid, err := body.requiredStr("session_id")
	if err != nil {
		return err
	}
	q, err := s.store.SetCodexSession(r.Context(), ps.ByName("id"), sid)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"status": "ok", "queue_id": q.ID, "codex_session_id": q.CodexSessionID})
	return nil
}

func (s *server) getLLMSessions(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	id := ps.ByName("id")
	sessions, err := s.store.LLMSessions(r.Context(), id)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"queue_id": id, "llm_sessions": sessions})
	return nil
}

// putLLMSession stores {session_id, ...metadata}; session_id wins over a
// metadata key of the same name.
func (s *server) putLLMSession(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	body, err := readObject(r, false)
	if err != nil {
		return err
	}
	if err := body.only("session_id", "metadata"); err != nil {
		return err
	}
	sid, err := body.requiredStr("session_id")
	if err != nil {
		return err
	}
	meta, err := body.jsonObject("metadata")
	if err != nil {
		return err
	}
	entry := map[string]json.RawMessage{}
	if meta != nil {
		if err := json.Unmarshal(meta, &entry); err != nil {
			return store.Invalid("metadata", "metadata must be a JSON object")
		}
	}
	entry["session_id"], _ = json.Marshal(strings.TrimSpace(sid))
	id, name := ps.ByName("id"), ps.ByName("llm_name")
	stored, err := s.store.PutLLMSession(r.Context(), id, name, entry)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"status": "ok", "queue_id": id, "llm_name": name, "session_data": stored})
	return nil
}

// isKind reports whether err is a store error of kind k.
func isKind(err error, k store.Kind) bool {
	var e *store.Error
	return errors.As(err, &e) && e.Kind == k
}
