package httpd

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Handlers that do not declare a length are buffered up to gzipMinBytes,
// then compressed; a flush before that sends the buffer as is.
func TestGzipWithoutContentLength(t *testing.T) {
	chunk := strings.Repeat("0123456789abcdef", 256) // 4 KiB
	tests := []struct {
		name     string
		ctype    string
		writes   int
		flush    bool
		compress bool
	}{
		{"large, written in pieces", "application/json", 3, false, true},
		{"small", "application/json", 1, false, false},
		{"flushed stream", "text/plain", 3, true, false},
		{"event stream", "text/event-stream", 3, false, false},
		{"binary", "image/png", 3, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := gzipResponses(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				for i := 0; i < tc.writes; i++ {
					io.WriteString(w, chunk)
					if tc.flush {
						w.(http.Flusher).Flush()
					}
				}
			}))
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body := rec.Body.Bytes()
			if got := rec.Header().Get("Content-Encoding") == "gzip"; got != tc.compress {
				t.Fatalf("compressed = %v, want %v (headers %v)", got, tc.compress, rec.Header())
			}
			if tc.compress {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
				if rec.Header().Get("Content-Length") != "" {
					t.Errorf("compressed response kept Content-Length %s", rec.Header().Get("Content-Length"))
				}
			}
			if want := strings.Repeat(chunk, tc.writes); string(body) != want {
				t.Errorf("body of %d bytes, want %d", len(body), len(want))
			}
		})
	}
}
