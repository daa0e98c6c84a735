package httpd

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/sparkq/sparkq/store"
)

// taskOut is the wire shape of a task ("TaskOut"): the stored fields plus
// values derived from the payload and status for existing clients.
type taskOut struct {
	store.Task
	// AgentRoleKey shadows the embedded field: it falls back to the payload's.
	AgentRoleKey         *string         `json:"agent_role_key"`
	PayloadData          json.RawMessage `json:"payload_data"`
	Metadata             json.RawMessage `json:"metadata"`
	ErrorMessage         *string         `json:"error_message"`
	CompletedAt          *store.Time     `json:"completed_at"`
	FailedAt             *store.Time     `json:"failed_at"`
	FriendlyID           string          `json:"friendly_id"`
	PromptPreview        *string         `json:"prompt_preview"`
	Prompt               *string         `json:"prompt"`
	RawPrompt            *string         `json:"raw_prompt"`
	AgentRoleLabel       *string         `json:"agent_role_label"`
	AgentRoleDescription *string         `json:"agent_role_description"`
}

// claimedTaskOut is what claim endpoints return: workers read the prompt
// from prompt_text.
type claimedTaskOut struct {
	taskOut
	PromptText *string `json:"prompt_text"`
}

// payloadStringKeys are the payload keys payload_data types as strings.
var payloadStringKeys = []string{
	"prompt", "raw_prompt", "prompt_path", "script_path", "queue_instructions",
	"agent_role_key", "agent_role_label", "agent_role_description", "mode",
}

func newTaskOut(t store.Task) taskOut {
	out := taskOut{
		Task:         t,
		AgentRoleKey: t.AgentRoleKey,
		ErrorMessage: t.Error,
		FriendlyID:   store.FriendlyID(t.QueueName, t.ID),
	}
	switch t.Status {
	case store.TaskSucceeded:
		out.CompletedAt = t.FinishedAt
	case store.TaskFailed:
		out.FailedAt = t.FinishedAt
	}

	var payload map[string]json.RawMessage
	if err := json.Unmarshal([]byte(t.Payload), &payload); err != nil {
		if !json.Valid([]byte(t.Payload)) {
			// Legacy rows may hold free text; show it rather than fail.
			raw := t.Payload
			out.PromptPreview = &raw
		}
		return out
	}
	out.Prompt = payloadString(payload, "prompt")
	out.RawPrompt = payloadString(payload, "raw_prompt")
	for _, k := range []string{"prompt", "prompt_text", "prompt_path"} {
		if v := payloadString(payload, k); v != nil && *v != "" {
			out.PromptPreview = v
			break
		}
	}
	if out.AgentRoleKey == nil {
		out.AgentRoleKey = payloadString(payload, "agent_role_key")
	}
	out.AgentRoleLabel = nonEmpty(payloadString(payload, "agent_role_label"))
	out.AgentRoleDescription = nonEmpty(payloadString(payload, "agent_role_description"))
	if m := payload["metadata"]; jsonKind(m) == '{' {
		out.Metadata = m
	}
	out.PayloadData = payloadData(payload)
	return out
}

func newClaimedTaskOut(t store.Task) claimedTaskOut {
	out := claimedTaskOut{taskOut: newTaskOut(t)}
	out.PromptText = out.Prompt
	return out
}

func newTaskOuts(ts []store.Task) []taskOut {
	out := make([]taskOut, len(ts))
	for i, t := range ts {
		out[i] = newTaskOut(t)
	}
	return out
}

// payloadDataKeys are the keys payload_data always has (null when absent).
var payloadDataKeys = append(slices.Clone(payloadStringKeys), "args", "metadata")

// payloadData is the payload with every well-known key present; nil when the
// payload is empty or a well-known key has an unexpected type, as before. It
// is encoded here, keys sorted as for a map: going through a map and the
// encoder's reflection cost two allocations per key of every task shown.
func payloadData(payload map[string]json.RawMessage) json.RawMessage {
	if len(payload) == 0 {
		return nil
	}
	for _, k := range payloadStringKeys {
		if v := payload[k]; !isNull(v) && jsonKind(v) != '"' {
			return nil
		}
	}
	if v := payload["metadata"]; !isNull(v) && jsonKind(v) != '{' {
		return nil
	}
	if v := payload["args"]; !isNull(v) {
		var args []string
		if err := json.Unmarshal(v, &args); err != nil {
			return nil
		}
	}
	keys := make([]string, 0, len(payload)+len(payloadDataKeys))
	keys = append(keys, payloadDataKeys...)
	for k := range payload {
		if !slices.Contains(payloadDataKeys, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var buf bytes.Buffer
	buf.Grow(256)
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		if plainKey(k) {
			buf.WriteByte('"')
			buf.WriteString(k)
			buf.WriteByte('"')
		} else {
			name, err := json.Marshal(k)
			if err != nil {
				return nil
			}
			buf.Write(name)
		}
		buf.WriteByte(':')
		if v, ok := payload[k]; ok {
			if err := json.Compact(&buf, v); err != nil {
				return nil
			}
		} else {
			buf.WriteString("null")
		}
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// plainKey reports whether k needs no escaping inside JSON quotes.
func plainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func payloadString(payload map[string]json.RawMessage, key string) *string {
	raw, ok := payload[key]
	if !ok || jsonKind(raw) != '"' {
		return nil
	}
	v, err := jsonString(raw)
	if err != nil {
		return nil
	}
	return &v
}

func nonEmpty(s *string) *string {
	if s == nil || *s == "" {
		return nil
	}
	return s
}

// queueOut is the wire shape of a queue. status is the derived display
// status on every endpoint; state is the stored lifecycle.
type queueOut struct {
	store.Queue
	Status      string          `json:"status"`
	Stats       statsOut        `json:"stats"`
	LLMSessions json.RawMessage `json:"llm_sessions"`
}

type statsOut struct {
	store.QueueStats
	Progress string `json:"progress"`
}

func newQueueOut(q store.Queue) queueOut {
	return queueOut{
		Queue:       q,
		LLMSessions: q.LLMSessions,
		Status:      q.Status(),
		Stats: statsOut{
			QueueStats: q.Stats,
			Progress:   strconv.Itoa(q.Stats.Succeeded) + "/" + strconv.Itoa(q.Stats.Total),
		},
	}
}

func newQueueOuts(qs []store.Queue) []queueOut {
	out := make([]queueOut, len(qs))
	for i, q := range qs {
		out[i] = newQueueOut(q)
	}
	return out
}
