// Package openapigen builds httpd/openapi.json, the OpenAPI 3.1 description
// of SparkQ's HTTP API. The document is written as Go so that the shapes
// shared by many routes (the task object, the error envelope, the access
// errors every TCP route can return) are stated once. Run `go generate
// ./httpd` after changing it; a test in httpd fails while the embedded file
// and Document() differ, and another while routes and document disagree.
package openapigen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// m is a JSON object of the document.
type m = map[string]any

// Document returns openapi.json: indented, keys sorted, newline-terminated.
func Document() ([]byte, error) {
	doc := m{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
		"info": m{
			"title":       "SparkQ API",
			"version":     "1",
			"summary":     "Local-first task queue: sessions → queues → tasks.",
			"description": description,
			"license":     m{"name": "See the SparkQ repository"},
		},
		"servers": []m{{"url": "/", "description": "This daemon (TCP listener)"}},
		"tags":    tags,
		// Operations that need no token say "security": [] themselves.
		"security":   []m{{"bearerAuth": []string{}}},
		"paths":      paths(),
		"components": components(),
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode openapi document: %w", err)
	}
	return buf.Bytes(), nil
}

const description = `SparkQ's HTTP API, compatible with the original SparkQ server (same paths, JSON field names and status codes), with its flaws fixed.

**Errors.** Every error is the envelope ` + "`{\"error\": \"Error: <message>\", \"status\": <code>}`" + `, including unknown routes (404) and wrong methods (405).

**Access (TCP).** Requests must name this daemon in the ` + "`Host`" + ` header (loopback names, ` + "`server.host`" + ` or ` + "`server.allowed_hosts`" + `), else 403. State-changing requests sent by a browser page from another origin are refused (403) unless the origin is listed in ` + "`server.cors_origins`" + `, which also get CORS headers. When ` + "`server.api_token_file`" + ` is set (required to listen beyond loopback), every request needs ` + "`Authorization: Bearer <token>`" + `, else 401 with ` + "`WWW-Authenticate: Bearer`" + `; only ` + "`GET /health`" + `, the API description and viewer (` + "`/openapi.json`, `/docs`" + `) and the dashboard's static pages are public.

**Control socket.** The CLI talks to the same API over the daemon's Unix socket (file mode 0600), which skips the Host, Origin and token checks and also serves the operations tagged *control (socket only)*; they are not served on TCP. Example: ` + "`curl --unix-socket data/sparkq.sock http://sparkq/control/status`" + `.

**Compression.** Responses over 8 KiB are gzip-compressed on TCP when the request accepts it.

**HEAD.** Every GET operation also answers HEAD, with the status and headers the GET would get and no body; ` + "`HEAD /api/events`" + ` answers at once instead of opening a stream. HEAD is not listed per operation.`

var tags = []m{
	{"name": "system", "description": "Health, version, counters."},
	{"name": "sessions", "description": "A session groups queues (one stream of work)."},
	{"name": "queues", "description": "FIFO queues of tasks; claim hands out the oldest queued task exactly once."},
	{"name": "tasks", "description": "Tasks and their lifecycle: queued → running → succeeded | failed."},
	{"name": "agent-roles", "description": "Personas an LLM task can be run as."},
	{"name": "registry", "description": "Task classes (timeouts) and tools."},
	{"name": "config", "description": "Runtime configuration stored in the database."},
	{"name": "prompts", "description": "Text-expander prompt templates."},
	{"name": "scripts", "description": "Scripts found in the configured script folders."},
	{"name": "dashboard", "description": "The web dashboard's pages and live updates."},
	{"name": "docs", "description": "This description and its viewer."},
	{"name": "control (socket only)", "description": "Daemon control, served only on the Unix socket (the CLI's `status`, `reload`, `stop`)."},
}

// ---- schema helpers ----

func ref(name string) m { return m{"$ref": "#/components/schemas/" + name} }

func typ(t string) m { return m{"type": t} }

func str() m { return typ("string") }

func integer() m { return typ("integer") }

func boolean() m { return typ("boolean") }

func timestamp() m {
	return m{"type": "string", "format": "date-time", "description": "UTC, microseconds: 2026-01-02T03:04:05.678901Z"}
}

// orNull allows JSON null besides s (OpenAPI 3.1: a type list, or anyOf
// for references).
func orNull(s m) m {
	if r, ok := s["$ref"]; ok {
		return m{"anyOf": []m{{"$ref": r}, typ("null")}}
	}
	out := m{}
	for k, v := range s {
		out[k] = v
	}
	if t, ok := s["type"].(string); ok {
		out["type"] = []string{t, "null"}
	}
	return out
}

func arrayOf(items m) m { return m{"type": "array", "items": items} }

func withDesc(s m, d string) m {
	out := m{}
	for k, v := range s {
		out[k] = v
	}
	out["description"] = d
	return out
}

func enum(values ...string) m { return m{"type": "string", "enum": values} }

// object is a response object: every listed property is always present
// (null when unknown), which is what clients of the original rely on.
func object(props m) m {
	req := make([]string, 0, len(props))
	for k := range props {
		req = append(req, k)
	}
	slices.Sort(req)
	return m{"type": "object", "properties": props, "required": req}
}

// input is a request body object: only the listed keys are accepted
// (unknown keys are a 400), required ones must be present.
func input(required []string, props m) m {
	out := m{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

// wrap is {"<key>": schema}, the usual response envelope.
func wrap(key string, s m) m { return object(m{key: s}) }

// ---- parameters ----

func pathParam(name, desc string) m {
	return m{"name": name, "in": "path", "required": true, "description": desc, "schema": str()}
}

func query(name, desc string, s m) m {
	return m{"name": name, "in": "query", "description": desc, "schema": s}
}

func limitParam(def, min int) m {
	return query("limit", "Page size.", m{"type": "integer", "minimum": min, "default": def})
}

var offsetParam = query("offset", "Rows to skip.", m{"type": "integer", "minimum": 0, "default": 0})

// ---- operations ----

// op is one operation; paths() turns the table below into the document.
type op struct {
	method, path string
	id           string // operationId
	tag          string
	summary      string
	desc         string
	params       []m
	body         m    // request body schema; nil: none
	bodyOptional bool // an empty body is accepted
	// responses by status: a JSON body's schema (m), a description of a
	// response without body (string) or any other response (resp).
	ok     map[int]any
	errs   []int // error statuses besides the access errors
	public bool  // served without the API token
	socket bool  // only on the Unix socket
}

// resp is a complete response object, for bodies that are not JSON.
type resp m

func jsonContent(s m) m { return m{"application/json": m{"schema": s}} }

func (o op) operation() m {
	out := m{"operationId": o.id, "tags": []string{o.tag}, "summary": o.summary}
	if o.desc != "" {
		out["description"] = o.desc
	}
	if len(o.params) > 0 {
		out["parameters"] = o.params
	}
	if o.body != nil {
		out["requestBody"] = m{"required": !o.bodyOptional, "content": jsonContent(o.body)}
	}
	responses := m{}
	for status, v := range o.ok {
		key := fmt.Sprint(status)
		switch v := v.(type) {
		case string:
			responses[key] = m{"description": v}
		case resp:
			responses[key] = m(v)
		case m:
			responses[key] = m{"description": http.StatusText(status), "content": jsonContent(v)}
		default:
			panic(fmt.Sprintf("openapigen: %s %s: response %d has type %T", o.method, o.path, status, v))
		}
	}
	errs := append([]int{}, o.errs...)
	if o.body != nil {
		errs = append(errs, http.StatusBadRequest, http.StatusRequestEntityTooLarge)
	}
	switch {
	case o.socket:
		out["x-sparkq-socket-only"] = true
		out["security"] = []m{}
	case o.public:
		out["security"] = []m{}
		errs = append(errs, http.StatusForbidden)
	default:
		errs = append(errs, http.StatusUnauthorized, http.StatusForbidden)
	}
	errs = append(errs, http.StatusInternalServerError)
	for _, status := range errs {
		responses[fmt.Sprint(status)] = m{"$ref": "#/components/responses/" + errorResponses[status].name}
	}
	out["responses"] = responses
	return out
}

func paths() m {
	out := m{}
	for _, o := range operations() {
		item, _ := out[o.path].(m)
		if item == nil {
			item = m{}
			out[o.path] = item
		}
		method := strings.ToLower(o.method)
		if _, dup := item[method]; dup {
			panic("openapigen: duplicate operation " + o.method + " " + o.path)
		}
		item[method] = o.operation()
	}
	return out
}

// errorResponses are the shared error responses, all with the envelope.
var errorResponses = map[int]struct{ name, desc string }{
	http.StatusBadRequest:            {"BadRequest", "Invalid request: malformed JSON, a wrong type, an unknown field or a rule broken (the message names the field)."},
	http.StatusUnauthorized:          {"Unauthorized", "An API token is configured and the request has none or a wrong one (`WWW-Authenticate: Bearer` is set)."},
	http.StatusForbidden:             {"Forbidden", "The Host header is not one of this daemon's names, or a browser page from a foreign origin sent a state-changing request."},
	http.StatusNotFound:              {"NotFound", "The addressed object (or route) does not exist."},
	http.StatusConflict:              {"Conflict", "The object is not in a state that allows this (e.g. completing a task that is not running), or the name is taken."},
	http.StatusRequestEntityTooLarge: {"PayloadTooLarge", "The body is larger than server.max_body_bytes (1 MiB by default)."},
	http.StatusInternalServerError:   {"InternalError", "Unexpected failure; details are in the daemon log, not in the response."},
	http.StatusServiceUnavailable:    {"Unavailable", "The feature is not enabled on this listener."},
}

func components() m {
	responses := m{}
	for _, r := range errorResponses {
		responses[r.name] = m{"description": r.desc, "content": jsonContent(ref("Error"))}
	}
	return m{
		"securitySchemes": m{
			"bearerAuth": m{
				"type":        "http",
				"scheme":      "bearer",
				"description": "The contents of server.api_token_file. Needed on TCP only when that file is configured; the Unix socket never needs it.",
			},
		},
		"responses": responses,
		"schemas":   schemas(),
	}
}
