package httpd

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/julienschmidt/httprouter"

	"github.com/sparkq/sparkq/httpd/internal/openapigen"
	"github.com/sparkq/sparkq/store/sqlite"
)

// The embedded document is what the generator writes.
func TestOpenAPIUpToDate(t *testing.T) {
	want, err := openapigen.Document()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(openAPIDoc, want) {
		t.Fatal("httpd/openapi.json differs from internal/openapigen: run `go generate ./httpd`")
	}
}

type apiDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas   map[string]json.RawMessage `json:"schemas"`
		Responses map[string]json.RawMessage `json:"responses"`
	} `json:"components"`
}

type apiOperation struct {
	OperationID string `json:"operationId"`
	Parameters  []struct {
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
	Responses  map[string]json.RawMessage `json:"responses"`
	SocketOnly bool                       `json:"x-sparkq-socket-only"`
}

func loadDoc(t *testing.T) apiDoc {
	t.Helper()
	var doc apiDoc
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return doc
}

// operations yields every operation of the document.
func (d apiDoc) operations(t *testing.T, fn func(method, path string, op apiOperation)) {
	t.Helper()
	for path, item := range d.Paths {
		for method, raw := range item {
			var op apiOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			fn(strings.ToUpper(method), path, op)
		}
	}
}

var templateParam = regexp.MustCompile(`\{([^}]+)\}`)

// The document is internally consistent: references resolve, path
// parameters are declared, operation ids are unique, every operation
// documents a success.
func TestOpenAPIWellFormed(t *testing.T) {
	doc := loadDoc(t)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	for _, ref := range regexp.MustCompile(`"\$ref":\s*"([^"]+)"`).FindAllStringSubmatch(string(openAPIDoc), -1) {
		name, ok := strings.CutPrefix(ref[1], "#/components/schemas/")
		found := ok && doc.Components.Schemas[name] != nil
		if name, ok := strings.CutPrefix(ref[1], "#/components/responses/"); ok {
			found = doc.Components.Responses[name] != nil
		}
		if !found {
			t.Errorf("unresolved $ref %s", ref[1])
		}
	}
	ids := map[string]string{}
	doc.operations(t, func(method, path string, op apiOperation) {
		where := method + " " + path
		if op.OperationID == "" {
			t.Errorf("%s: no operationId", where)
		} else if prev, dup := ids[op.OperationID]; dup {
			t.Errorf("operationId %s used by %s and %s", op.OperationID, prev, where)
		}
		ids[op.OperationID] = where
		var declared, inPath []string
		for _, p := range op.Parameters {
			if p.In == "path" {
				declared = append(declared, p.Name)
			}
		}
		for _, m := range templateParam.FindAllStringSubmatch(path, -1) {
			inPath = append(inPath, m[1])
		}
		slices.Sort(declared)
		slices.Sort(inPath)
		if !slices.Equal(declared, inPath) {
			t.Errorf("%s: path parameters %v, declared %v", where, inPath, declared)
		}
		success := false
		for code := range op.Responses {
			success = success || code[0] == '2' || code[0] == '3'
		}
		if !success {
			t.Errorf("%s: no success response", where)
		}
	})
}

// dispatchers are router entries that stand for documented routes
// httprouter cannot register directly.
var dispatchers = map[string]string{
	// A static segment cannot sit beside the :id wildcard, so
	// postTaskPath serves POST /api/tasks/batch and /api/tasks/quick-add.
	"POST /api/tasks/{}": "postTaskPath",
}

// routeKey normalises "/api/tasks/:id", "/api/tasks/{id}" and "/ui/*file"
// to "/api/tasks/{}" and "/ui/{}".
func routeKey(method, path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") || (strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}")) {
			segs[i] = "{}"
		}
	}
	return method + " " + strings.Join(segs, "/")
}

// registeredRoutes lists what r serves. httprouter has no route listing, so
// this walks its (unexported) trees by reflection: a changed httprouter
// makes the test fail loudly rather than pass vacuously.
func registeredRoutes(t *testing.T, r *httprouter.Router) []string {
	t.Helper()
	trees := reflect.ValueOf(r).Elem().FieldByName("trees")
	if trees.Kind() != reflect.Map {
		t.Fatal("cannot read httprouter's route trees: update registeredRoutes for this httprouter version")
	}
	var out []string
	var walk func(n reflect.Value, prefix, method string)
	walk = func(n reflect.Value, prefix, method string) {
		if n.IsNil() {
			return
		}
		n = n.Elem()
		path, handle, children := n.FieldByName("path"), n.FieldByName("handle"), n.FieldByName("children")
		if path.Kind() != reflect.String || handle.Kind() != reflect.Func || children.Kind() != reflect.Slice {
			t.Fatal("unexpected httprouter node layout: update registeredRoutes")
		}
		full := prefix + path.String()
		if !handle.IsNil() {
			out = append(out, routeKey(method, full))
		}
		for i := range children.Len() {
			walk(children.Index(i), full, method)
		}
	}
	for it := trees.MapRange(); it.Next(); {
		walk(it.Value(), "", it.Key().String())
	}
	slices.Sort(out)
	if len(out) < 10 {
		t.Fatalf("found only %d routes: the router walk is broken", len(out))
	}
	return out
}

type nopController struct{}

func (nopController) Status(context.Context) any   { return map[string]any{} }
func (nopController) Reload(context.Context) error { return nil }
func (nopController) Shutdown()                    {}

// The document and the router agree: every registered route is documented
// and every documented route is served — on TCP, or only on the control
// socket for operations marked x-sparkq-socket-only. HEAD is implicit, as
// OpenAPI documents usually leave it: the document never lists it, and
// every documented GET is also served for HEAD.
func TestOpenAPICoversRoutes(t *testing.T) {
	doc := loadDoc(t)
	newRouter := func(ctl Controller) *httprouter.Router {
		s := &server{control: ctl}
		r := httprouter.New()
		s.routes(r)
		return r
	}
	tcp, sock := newRouter(nil), newRouter(nopController{})

	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sparkq.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sockHandler := New(Config{Store: st, Control: nopController{}})

	documented := map[string]bool{}
	var notServed []string
	doc.operations(t, func(method, path string, op apiOperation) {
		key := routeKey(method, path)
		documented[key] = true
		concrete := templateParam.ReplaceAllString(path, "x")
		served := func(r *httprouter.Router) bool { h, _, _ := r.Lookup(method, concrete); return h != nil }
		if method == http.MethodHead {
			t.Errorf("%s: HEAD is implicit beside GET; do not document it", key)
		}
		if method == http.MethodGet {
			r := tcp
			if op.SocketOnly {
				r = sock
			}
			if h, _, _ := r.Lookup(http.MethodHead, concrete); h == nil {
				t.Errorf("%s: documented GET does not answer HEAD", key)
			}
		}
		switch {
		case op.SocketOnly && served(tcp):
			t.Errorf("%s is socket-only but served on TCP", key)
		case op.SocketOnly && !served(sock), !op.SocketOnly && !served(tcp):
			notServed = append(notServed, method+" "+path)
		case !strings.Contains(path, "{"):
			// A static path may reach a wildcard route (a dispatcher); only
			// a real request tells whether that route knows it.
			if _, ps, _ := tcp.Lookup(method, concrete); len(ps) > 0 {
				req := httptest.NewRequest(method, path, strings.NewReader("{}"))
				rec := httptest.NewRecorder()
				sockHandler.ServeHTTP(rec, req)
				var env envelope
				json.Unmarshal(rec.Body.Bytes(), &env)
				if rec.Code == http.StatusMethodNotAllowed || strings.HasPrefix(env.Error, "Error: Not found: ") {
					notServed = append(notServed, method+" "+path)
				}
			}
		}
	})

	var undocumented []string
	for _, key := range append(registeredRoutes(t, tcp), registeredRoutes(t, sock)...) {
		if rest, ok := strings.CutPrefix(key, http.MethodHead+" "); ok && documented[http.MethodGet+" "+rest] {
			continue // HEAD of a documented GET
		}
		if !documented[key] && dispatchers[key] == "" && !slices.Contains(undocumented, key) {
			undocumented = append(undocumented, key)
		}
	}
	slices.Sort(notServed)
	if len(undocumented) > 0 {
		t.Errorf("%d routes are registered but missing from openapi.json (add them to internal/openapigen):\n  %s",
			len(undocumented), strings.Join(undocumented, "\n  "))
	}
	if len(notServed) > 0 {
		t.Errorf("%d routes are documented in openapi.json but not served:\n  %s", len(notServed), strings.Join(notServed, "\n  "))
	}
}
