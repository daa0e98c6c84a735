package httpd

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/sparkq/sparkq/store"
)

// jsonBuffers hold encoded responses between requests; writeJSON is on
// every request's path.
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps one huge list from pinning its buffer forever.
const maxPooledBuffer = 1 << 20

var jsonContentType = []string{"application/json"}

func (s *server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	buf := jsonBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			buf.Reset()
			jsonBuffers.Put(buf)
		}
	}()
	// Encode before writing so a failure can still become a 500. The
	// encoder ends the body with a newline, as curl users like.
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		s.log.ErrorContext(r.Context(), "encode response", "method", r.Method, "path", r.URL.Path, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":"Error: Internal server error","status":500}` + "\n")
	}
	h := w.Header()
	h["Content-Type"] = jsonContentType // already canonical: skips Set's work
	h["Content-Length"] = []string{strconv.Itoa(buf.Len())}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// limitBody caps request bodies; reading past the cap fails with
// *http.MaxBytesError, which statusOf maps to 413. A declared length over
// the cap is refused before the route runs, so routes that ignore their
// body answer 413 too (a chunked body is caught as it is read).
func (s *server) limitBody(next http.Handler, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			w.Header().Set("Connection", "close") // do not wait for the body
			s.writeError(w, r, &http.MaxBytesError{Limit: limit})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// object is a decoded JSON request body. Fields are read one by one so a
// wrong type is reported with the field's name instead of a decoder error.
type object struct {
	fields map[string]json.RawMessage
	prefix string // names nested objects in messages, e.g. "tasks[3]."
}

// readObject decodes the request body as a JSON object. An empty body is an
// empty object when optional is true and an error otherwise.
func readObject(r *http.Request, optional bool) (object, error) {
	body, err := readBody(r)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return object{}, err
		}
		return object{}, errorf(http.StatusBadRequest, "Invalid JSON body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return object{fields: map[string]json.RawMessage{}}, nil
		}
		return object{}, errorf(http.StatusBadRequest, "Invalid JSON body: body is empty")
	}
	return parseObject(body, "", "request body")
}

// readBody reads the whole body, in one allocation when its length is
// declared (limitBody has already bounded it).
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength <= 0 {
		return io.ReadAll(r.Body)
	}
	buf := bytes.NewBuffer(make([]byte, 0, r.ContentLength+1)) // +1: room to see EOF
	_, err := buf.ReadFrom(r.Body)
	return buf.Bytes(), err
}

func parseObject(raw []byte, prefix, what string) (object, error) {
	// Unmarshal validates the whole text before decoding, so an object
	// needs no separate json.Valid pass.
	if jsonKind(raw) == '{' {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil {
			return object{}, errorf(http.StatusBadRequest, "Invalid JSON body: %v", err)
		}
		return object{fields: fields, prefix: prefix}, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return object{}, errorf(http.StatusBadRequest, "Invalid JSON body: %v", err)
	}
	return object{}, store.Invalid(strings.TrimSuffix(prefix, "."), "%s must be a JSON object", what)
}

// jsonKind returns the first byte of a valid JSON value: '{', '[', '"', 't',
// 'f', 'n' or a number's first character.
func jsonKind(raw []byte) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

func isNull(raw json.RawMessage) bool { return raw == nil || jsonKind(raw) == 'n' }

func (o object) name(key string) string { return o.prefix + key }

func (o object) has(key string) bool { _, ok := o.fields[key]; return ok }

// only rejects keys outside allowed, so a typo does not silently do nothing.
func (o object) only(allowed ...string) error {
	keys := make([]string, 0, len(o.fields))
	for k := range o.fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			return store.Invalid(o.name(k), "unknown field: %s", o.name(k))
		}
	}
	return nil
}

// str reads an optional string; absent and null are nil.
func (o object) str(key string) (*string, error) {
	raw := o.fields[key]
	if isNull(raw) {
		return nil, nil
	}
	if jsonKind(raw) != '"' {
		return nil, store.Invalid(o.name(key), "%s must be a string", o.name(key))
	}
	v, err := jsonString(raw)
	if err != nil {
		return nil, store.Invalid(o.name(key), "%s must be a string", o.name(key))
	}
	return &v, nil
}

// jsonString decodes a JSON string token. Most have no escapes and are
// valid UTF-8, so they need no decoder (this runs for every field of every
// request and every task shown).
func jsonString(raw []byte) (string, error) {
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' && bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw[1 : n-1]), nil
	}
	var v string
	err := json.Unmarshal(raw, &v)
	return v, err
}

// requiredStr reads a string that must be present and not blank.
func (o object) requiredStr(key string) (string, error) {
	v, err := o.str(key)
	if err != nil {
		return "", err
	}
	if v == nil || strings.TrimSpace(*v) == "" {
		return "", store.Invalid(o.name(key), "%s is required", o.name(key))
	}
	return *v, nil
}

// int reads an optional integer in [min, max]; floats such as 3.0 and
// booleans are rejected.
func (o object) int(key string, min, max int) (*int, error) {
	raw := o.fields[key]
	if isNull(raw) {
		return nil, nil
	}
	n, ok := atoi(string(bytes.TrimSpace(raw)))
	if !ok {
		return nil, store.Invalid(o.name(key), "%s must be an integer", o.name(key))
	}
	if n < min || n > max {
		return nil, store.Invalid(o.name(key), "%s must be between %d and %d", o.name(key), min, max)
	}
	return &n, nil
}

// atoi reads a decimal integer. One beyond int's range is still an
// integer: it saturates at the range's end, so that the caller's bounds
// check says what is allowed instead of calling it not an integer.
func atoi(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil || errors.Is(err, strconv.ErrRange)
}

// jsonObject reads an optional JSON object, returned compacted.
func (o object) jsonObject(key string) (json.RawMessage, error) {
	raw := o.fields[key]
	if isNull(raw) {
		return nil, nil
	}
	if jsonKind(raw) != '{' {
		return nil, store.Invalid(o.name(key), "%s must be a JSON object", o.name(key))
	}
	return compact(raw), nil
}

func compact(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw // already validated by the caller's decoder
	}
	return buf.Bytes()
}
