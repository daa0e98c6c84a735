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

	"github.com/sparkq/sparkq/store"
)

func (s *server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Encode before writing so a failure can still become a 500.
		s.log.ErrorContext(r.Context(), "encode response", "method", r.Method, "path", r.URL.Path, "err", err)
		status = http.StatusInternalServerError
		body = []byte(`{"error":"Error: Internal server error","status":500}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// limitBody caps request bodies; reading past the cap fails with
// *http.MaxBytesError, which statusOf maps to 413.
func limitBody(next http.Handler, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	body, err := io.ReadAll(r.Body)
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

func parseObject(raw []byte, prefix, what string) (object, error) {
	if !json.Valid(raw) {
		var v any
		err := json.Unmarshal(raw, &v)
		return object{}, errorf(http.StatusBadRequest, "Invalid JSON body: %v", err)
	}
	if jsonKind(raw) != '{' {
		return object{}, store.Invalid(strings.TrimSuffix(prefix, "."), "%s must be a JSON object", what)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return object{}, errorf(http.StatusBadRequest, "Invalid JSON body: %v", err)
	}
	return object{fields: fields, prefix: prefix}, nil
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
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, store.Invalid(o.name(key), "%s must be a string", o.name(key))
	}
	return &v, nil
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
	n, err := strconv.Atoi(string(bytes.TrimSpace(raw)))
	if err != nil {
		return nil, store.Invalid(o.name(key), "%s must be an integer", o.name(key))
	}
	if n < min || n > max {
		return nil, store.Invalid(o.name(key), "%s must be between %d and %d", o.name(key), min, max)
	}
	return &n, nil
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
