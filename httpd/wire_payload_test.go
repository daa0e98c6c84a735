package httpd

import (
	"encoding/json"
	"testing"

	"github.com/sparkq/sparkq/store"
)

// payload_data is encoded by hand (payloadData); it must be exactly what
// encoding a map of the payload with the well-known keys added would give.
func TestPayloadDataEncoding(t *testing.T) {
	for _, payload := range []string{
		`{"prompt_path": "prompts/a.md", "metadata": {"k": "v"}}`,
		`{"prompt": "say \"hi\" <b>&</b>", "args": ["-v", "x y"], "mode": "chat", "zeta": [1, {"a" : 2}]}`,
		`{"weird key\n\"": true, "ünïcode": "é", "metadata": null, "extra": {"nested": {"deep": []}}}`,
	} {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal([]byte(payload), &fields); err != nil {
			t.Fatal(err)
		}
		want := map[string]json.RawMessage{}
		for _, k := range payloadDataKeys {
			want[k] = json.RawMessage("null")
		}
		for k, v := range fields {
			want[k] = v
		}
		wantJSON, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(newTaskOut(store.Task{ID: "tsk_0a1b2c3d4e5f", Payload: payload}))
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			PayloadData json.RawMessage `json:"payload_data"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if string(got.PayloadData) != string(wantJSON) {
			t.Errorf("payload %s:\n got %s\nwant %s", payload, got.PayloadData, wantJSON)
		}
	}
}
