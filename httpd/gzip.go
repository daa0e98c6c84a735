package httpd

import (
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// gzipMinBytes is the smallest body worth compressing: below it the gzip
// header and CPU cost more than the bytes saved (most single-object replies).
const gzipMinBytes = 8 << 10

// gzipWriters are reused: a gzip.Writer allocates ~800 KB of state.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // BestSpeed: JSON still shrinks ~8x
	return zw
}}

// gzipResponses compresses large textual responses (task lists, the docs
// assets) for clients that accept gzip. Handlers that set Content-Length
// (writeJSON does) are decided on at WriteHeader without buffering; others
// are buffered up to gzipMinBytes. Streams (text/event-stream), ranges and
// already-encoded bodies pass through untouched. A HEAD request gets the
// headers its GET would get, without compressing a body nobody receives.
func gzipResponses(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "" || !acceptsGzip(r.Header.Get("Accept-Encoding")) {
			next.ServeHTTP(w, r)
			return
		}
		gw := &gzipWriter{rw: w, head: r.Method == http.MethodHead}
		defer gw.finish()
		next.ServeHTTP(gw, r)
	})
}

// acceptsGzip parses Accept-Encoding just enough to honour "gzip;q=0".
func acceptsGzip(header string) bool {
	for header != "" {
		var part string
		part, header, _ = strings.Cut(header, ",")
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.TrimSpace(coding)
		if !strings.EqualFold(coding, "gzip") && coding != "*" {
			continue
		}
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if v, err := strconv.ParseFloat(strings.TrimSpace(q), 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
}

func compressible(contentType string) bool {
	ct, _, _ := strings.Cut(contentType, ";")
	ct = strings.TrimSpace(strings.ToLower(ct))
	switch ct {
	case "application/json", "application/javascript", "text/javascript", "text/html", "text/css",
		"text/plain", "image/svg+xml", "application/xml", "text/xml", "application/problem+json":
		return true
	}
	return false
}

type gzipMode int

const (
	gzipUndecided gzipMode = iota // header not written yet
	gzipBuffering                 // compressible, length unknown: buffering
	gzipPlain                     // passing through
	gzipOn                        // compressing
)

type gzipWriter struct {
	rw     http.ResponseWriter
	head   bool // HEAD: decide and set headers, but never compress
	mode   gzipMode
	status int
	buf    []byte
	zw     *gzip.Writer // nil for HEAD
}

func (g *gzipWriter) Header() http.Header { return g.rw.Header() }

// Unwrap lets http.ResponseController reach the connection.
func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.rw }

func (g *gzipWriter) WriteHeader(status int) {
	if g.mode != gzipUndecided {
		return
	}
	if status < 200 {
		g.rw.WriteHeader(status) // informational: the real header follows
		return
	}
	g.status = status
	h := g.rw.Header()
	switch {
	case status == http.StatusNoContent || status == http.StatusNotModified || status == http.StatusPartialContent,
		h.Get("Content-Encoding") != "", !compressible(h.Get("Content-Type")):
		g.plain()
	default:
		n, err := strconv.Atoi(h.Get("Content-Length"))
		switch {
		case err != nil:
			g.mode = gzipBuffering
		case n >= gzipMinBytes:
			g.compress()
		default:
			g.plain()
		}
	}
}

func (g *gzipWriter) plain() {
	g.mode = gzipPlain
	g.rw.WriteHeader(g.status)
}

func (g *gzipWriter) compress() {
	h := g.rw.Header()
	h.Del("Content-Length")
	h.Set("Content-Encoding", "gzip")
	h.Add("Vary", "Accept-Encoding")
	if !g.head {
		g.zw = gzipWriters.Get().(*gzip.Writer)
		g.zw.Reset(g.rw)
	}
	g.mode = gzipOn
	g.rw.WriteHeader(g.status)
}

func (g *gzipWriter) Write(p []byte) (int, error) {
	if g.mode == gzipUndecided {
		g.WriteHeader(http.StatusOK)
	}
	switch g.mode {
	case gzipOn:
		if g.zw == nil { // HEAD
			return len(p), nil
		}
		return g.zw.Write(p)
	case gzipBuffering:
		g.buf = append(g.buf, p...)
		if len(g.buf) < gzipMinBytes {
			return len(p), nil
		}
		g.compress()
		buf := g.buf
		g.buf = nil
		if g.zw == nil {
			return len(p), nil
		}
		if _, err := g.zw.Write(buf); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return g.rw.Write(p)
}

// sendBuffered sends what was buffered uncompressed.
func (g *gzipWriter) sendBuffered() {
	buf := g.buf
	g.buf = nil
	g.plain()
	g.rw.Write(buf)
}

func (g *gzipWriter) Flush() {
	if g.mode == gzipUndecided {
		g.WriteHeader(http.StatusOK)
	}
	switch g.mode {
	case gzipBuffering:
		g.sendBuffered() // a stream must not wait for 8 KiB
	case gzipOn:
		if g.zw != nil {
			g.zw.Flush()
		}
	}
	if f, ok := g.rw.(http.Flusher); ok {
		f.Flush()
	}
}

// finish completes the response once the handler has returned.
func (g *gzipWriter) finish() {
	switch g.mode {
	case gzipBuffering: // the body stayed small
		g.rw.Header().Set("Content-Length", strconv.Itoa(len(g.buf)))
		g.sendBuffered()
	case gzipOn:
		if g.zw == nil {
			return
		}
		g.zw.Close()
		g.zw.Reset(nil)
		gzipWriters.Put(g.zw)
		g.zw = nil
	}
}
