package httpd_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// rawGet fetches path without the transport's transparent decompression.
func (e *env) rawGet(path string, header map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	tr := e.srv.Client().Transport.(*http.Transport).Clone()
	tr.DisableCompression = true
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, body
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("corrupt gzip: %v", err)
	}
	return out
}

func TestGzipLargeResponses(t *testing.T) {
	e := newEnv(t, nil)
	_, q := e.fixture()
	for i := range 20 {
		e.task(q, map[string]any{"prompt": fmt.Sprintf("task %d: %s", i, strings.Repeat("lorem ipsum ", 20))})
	}
	const list = "/api/tasks?limit=20"

	plainResp, plain := e.rawGet(list, nil)
	if plainResp.Header.Get("Content-Encoding") != "" || plainResp.ContentLength != int64(len(plain)) || len(plain) < 8<<10 {
		t.Fatalf("without Accept-Encoding: encoding %q, length %d, body %d bytes",
			plainResp.Header.Get("Content-Encoding"), plainResp.ContentLength, len(plain))
	}

	resp, zipped := e.rawGet(list, map[string]string{"Accept-Encoding": "br;q=1.0, gzip;q=0.8"})
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("large task list not compressed: %v", resp.Header)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if len(zipped) >= len(plain)/3 {
		t.Errorf("compressed %d bytes of %d", len(zipped), len(plain))
	}
	if got := gunzip(t, zipped); !bytes.Equal(got, plain) {
		t.Fatalf("decompressed body differs from the plain one")
	}
	var v map[string]any
	if err := json.Unmarshal(plain, &v); err != nil || len(v["tasks"].([]any)) != 20 {
		t.Fatalf("body: %v", err)
	}

	for _, tc := range []struct {
		name, path, accept string
	}{
		{"small body", "/health", "gzip"},
		{"gzip refused", list, "gzip;q=0, identity"},
		{"other coding", list, "br"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.rawGet(tc.path, map[string]string{"Accept-Encoding": tc.accept})
			if resp.Header.Get("Content-Encoding") != "" || !json.Valid(body) {
				t.Errorf("encoding %q, body %.40q", resp.Header.Get("Content-Encoding"), body)
			}
		})
	}

	// Static assets are compressed too, and revalidation still works.
	resp, js := e.rawGet("/docs/swagger-ui/swagger-ui-bundle.js", map[string]string{"Accept-Encoding": "gzip"})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || len(gunzip(t, js)) < 1<<20 {
		t.Fatalf("bundle: %d %v", resp.StatusCode, resp.Header)
	}
	resp, body := e.rawGet("/docs/swagger-ui/swagger-ui-bundle.js", map[string]string{
		"Accept-Encoding": "gzip", "If-None-Match": resp.Header.Get("ETag"),
	})
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("revalidation: %d %v %d bytes", resp.StatusCode, resp.Header, len(body))
	}
}
