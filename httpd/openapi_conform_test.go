package httpd_test

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// servedDoc is the daemon's own /openapi.json, used to check live answers
// against what it promises.
type servedDoc struct {
	Paths      map[string]map[string]docOperation `json:"paths"`
	Components struct {
		Schemas   map[string]schema      `json:"schemas"`
		Responses map[string]docResponse `json:"responses"`
	} `json:"components"`
}

type docOperation struct {
	Responses map[string]docResponse `json:"responses"`
}

type docResponse struct {
	Ref     string `json:"$ref"`
	Content map[string]struct {
		Schema schema `json:"schema"`
	} `json:"content"`
}

// schema is the subset of JSON Schema the document uses.
type schema struct {
	Ref        string            `json:"$ref"`
	Type       json.RawMessage   `json:"type"` // "x" or ["x", "null"]
	Properties map[string]schema `json:"properties"`
	Required   []string          `json:"required"`
	// AdditionalProperties: absent means the listed properties are all
	// that is sent; true or a schema allows more.
	AdditionalProperties json.RawMessage `json:"additionalProperties"`
	Items                *schema         `json:"items"`
	Enum                 []any           `json:"enum"`
	Pattern              string          `json:"pattern"`
	AnyOf                []schema        `json:"anyOf"`
	OneOf                []schema        `json:"oneOf"`
}

func (e *env) openAPI() *servedDoc {
	e.t.Helper()
	r := e.do("GET", "/openapi.json", nil)
	var doc servedDoc
	if err := json.Unmarshal(r.raw, &doc); err != nil || r.status != 200 {
		e.t.Fatalf("GET /openapi.json: %d %v", r.status, err)
	}
	return &doc
}

// operation finds the documented operation serving method and path.
func (d *servedDoc) operation(method, path string) (docOperation, bool) {
	path, _, _ = strings.Cut(path, "?")
	segs := strings.Split(path, "/")
	var best docOperation
	bestStatic := -1
	for tmpl, item := range d.Paths {
		op, ok := item[strings.ToLower(method)]
		tsegs := strings.Split(tmpl, "/")
		if !ok || len(tsegs) != len(segs) {
			continue
		}
		static := 0
		for i, ts := range tsegs {
			if strings.HasPrefix(ts, "{") {
				continue
			}
			if ts != segs[i] {
				static = -1
				break
			}
			static++
		}
		if static > bestStatic { // the most specific template wins
			best, bestStatic = op, static
		}
	}
	return best, bestStatic >= 0
}

// check reports how a live answer departs from the document: an
// undocumented status, or a JSON body outside the response schema.
func (d *servedDoc) check(method, path string, got replayed) []string {
	op, ok := d.operation(method, path)
	if !ok {
		if got.status == 404 || got.status == 405 { // the router's answer
			return d.conform("$", schema{Ref: "#/components/schemas/Error"}, got.json)
		}
		return []string{"no documented operation"}
	}
	resp, ok := op.Responses[strconv.Itoa(got.status)]
	if !ok {
		return []string{fmt.Sprintf("status %d is not documented", got.status)}
	}
	if name, ok := strings.CutPrefix(resp.Ref, "#/components/responses/"); ok {
		resp = d.Components.Responses[name]
	}
	media, ok := resp.Content["application/json"]
	if got.json == nil || !ok {
		if ok {
			return []string{"documented as JSON, got " + got.header.Get("Content-Type")}
		}
		return nil
	}
	return d.conform("$", media.Schema, got.json)
}

func (d *servedDoc) conform(at string, s schema, v any) []string {
	if name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/"); ok {
		ref, found := d.Components.Schemas[name]
		if !found {
			return []string{at + ": unresolved " + s.Ref}
		}
		return d.conform(at, ref, v)
	}
	if alts := append(slices.Clone(s.AnyOf), s.OneOf...); len(alts) > 0 {
		var errs []string
		for _, alt := range alts {
			e := d.conform(at, alt, v)
			if len(e) == 0 {
				return nil
			}
			errs = append(errs, e...)
		}
		return errs
	}
	var types []string
	if len(s.Type) > 0 && json.Unmarshal(s.Type, &types) != nil {
		types = []string{strings.Trim(string(s.Type), `"`)}
	}
	if len(types) > 0 && !slices.Contains(types, jsonType(v)) && !(jsonType(v) == "integer" && slices.Contains(types, "number")) {
		return []string{fmt.Sprintf("%s: %s, documented %v", at, jsonType(v), types)}
	}
	if len(s.Enum) > 0 && !slices.Contains(s.Enum, v) {
		return []string{fmt.Sprintf("%s: %v is not one of %v", at, v, s.Enum)}
	}
	var out []string
	switch v := v.(type) {
	case string:
		if s.Pattern != "" && !regexp.MustCompile(s.Pattern).MatchString(v) {
			out = append(out, fmt.Sprintf("%s: %q does not match %s", at, v, s.Pattern))
		}
	case map[string]any:
		for _, k := range s.Required {
			if _, ok := v[k]; !ok {
				out = append(out, fmt.Sprintf("%s: required key %q missing", at, k))
			}
		}
		open := len(s.AdditionalProperties) > 0 && string(s.AdditionalProperties) != "false"
		for k, val := range v {
			ps, ok := s.Properties[k]
			switch {
			case ok:
				out = append(out, d.conform(at+"."+k, ps, val)...)
			case s.Properties != nil && !open:
				out = append(out, fmt.Sprintf("%s: undocumented key %q", at, k))
			}
		}
	case []any:
		if s.Items != nil {
			for i, item := range v {
				out = append(out, d.conform(fmt.Sprintf("%s[%d]", at, i), *s.Items, item)...)
			}
		}
	}
	return out
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if v == math.Trunc(v) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// Every parameterless GET answers as documented on a fresh daemon, so the
// document's shapes for the catalog routes (roles, registry, config,
// prompts, scripts) are checked against the handlers too.
func TestOpenAPIReadShapes(t *testing.T) {
	e := newEnv(t, nil)
	doc := e.openAPI()
	var paths []string
	for path, item := range doc.Paths {
		// The event stream does not end; /control/ is not on TCP.
		if _, ok := item["get"]; ok && !strings.Contains(path, "{") && path != "/api/events" && !strings.HasPrefix(path, "/control/") {
			paths = append(paths, path)
		}
	}
	slices.Sort(paths)
	for _, path := range paths {
		got := send(t, e, exchange{method: "GET", path: path}, nil, func(s string) string { return s })
		if got.status >= 400 {
			t.Errorf("GET %s: %d %s", path, got.status, got.raw)
		}
		for _, d := range doc.check("GET", path, got) {
			t.Errorf("GET %s: %s", path, d)
		}
	}
}
