package httpd

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/sparkq/sparkq/store"
)

func TestStatusOf(t *testing.T) {
	tests := []struct {
		err    error
		status int
		msg    string
	}{
		{store.NotFound("Task not found: x"), 404, "Task not found: x"},
		{fmt.Errorf("wrapped: %w", store.Conflict("busy")), 409, "busy"},
		{store.Invalid("name", "name is required"), 400, "name is required"},
		{store.Empty("nothing queued"), 204, ""},
		{&http.MaxBytesError{Limit: 10}, 413, "Request body too large (limit 10 bytes)"},
		{errorf(403, "Host not allowed: x"), 403, "Host not allowed: x"},
		// Internal details never reach the client.
		{errors.New("sql: database is locked"), 500, "Internal server error"},
	}
	for _, tc := range tests {
		status, msg := statusOf(tc.err)
		if status != tc.status || msg != tc.msg {
			t.Errorf("statusOf(%v) = %d %q, want %d %q", tc.err, status, msg, tc.status, tc.msg)
		}
	}
}

// Rows written before payloads were validated must still serialize
// (GAP 25): they can no longer be created through the API.
func TestTaskOutLegacyPayloads(t *testing.T) {
	tests := []struct {
		payload     string
		preview     any
		payloadData bool
	}{
		{`[1]`, nil, false},
		{`"x"`, nil, false},
		{`plain text prompt`, "plain text prompt", false},
		{`{}`, nil, false},
		{`{"prompt": 5}`, nil, false}, // wrong type: no payload_data, as before
		{`{"args": ["a", 1]}`, nil, false},
		{`{"prompt_text": "pt", "extra": 1}`, "pt", true},
	}
	for _, tc := range tests {
		out := newTaskOut(store.Task{ID: "tsk_0a1b2c3d4e5f", QueueName: "Back End", Payload: tc.payload})
		var preview any
		if out.PromptPreview != nil {
			preview = *out.PromptPreview
		}
		if preview != tc.preview || (out.PayloadData != nil) != tc.payloadData {
			t.Errorf("payload %s: preview %v payload_data %v", tc.payload, preview, out.PayloadData)
		}
		if out.FriendlyID != "BACK END-4e5f" {
			t.Errorf("friendly_id = %q", out.FriendlyID)
		}
	}
}
