package httpd_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sparkq/sparkq/httpd"
)

// chunked hides a reader's length so the request goes out chunked.
type chunked struct{ io.Reader }

func TestBodyLimit(t *testing.T) {
	const limit = 1024
	e := newEnv(t, func(c *httpd.Config) { c.MaxBodyBytes = limit })
	_, q := e.fixture()
	task := e.task(q, nil)["id"].(string)

	big := `{"queue_id":"` + q + `","tool_name":"run-bash","prompt":"` + strings.Repeat("x", 2*limit) + `"}`
	tests := []struct {
		name, method, path string
		body               io.Reader
	}{
		{"declared length", "POST", "/api/tasks", strings.NewReader(big)},
		{"chunked", "POST", "/api/tasks", chunked{strings.NewReader(big)}},
		{"batch, chunked", "POST", "/api/tasks/batch", chunked{strings.NewReader(`{"tasks":[` + big + `]}`)}},
		{"update", "PUT", "/api/tasks/" + task, strings.NewReader(big)},
		// Routes that never read their body refuse a declared oversize too.
		{"route without body", "POST", "/api/tasks/" + task + "/requeue", bytes.NewReader(make([]byte, 4*limit))},
		{"unknown route", "POST", "/api/nope", bytes.NewReader(make([]byte, 4*limit))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, e.srv.URL+tc.path, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			// A body of unknown length (0 here) goes out chunked.
			if _, ok := tc.body.(chunked); ok && req.ContentLength != 0 {
				t.Fatalf("request is not chunked (length %d)", req.ContentLength)
			}
			resp, err := e.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
			r.body = decodeObject(t, raw)
			wantError(t, r, http.StatusRequestEntityTooLarge, "Request body too large (limit 1024 bytes)")
		})
	}
	// Nothing was enqueued by the refused requests.
	if n := len(e.ok(200, "GET", "/api/tasks", nil)["tasks"].([]any)); n != 1 {
		t.Errorf("%d tasks, want 1", n)
	}
	// A body just under the limit is fine.
	ok := `{"queue_id":"` + q + `","tool_name":"run-bash","prompt":"` + strings.Repeat("x", limit-150) + `"}`
	if r := e.do("POST", "/api/tasks", ok); r.status != 200 {
		t.Errorf("body of %d bytes: %d %s", len(ok), r.status, r.raw)
	}
}

func decodeObject(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %q: %v", raw, err)
	}
	return v
}
