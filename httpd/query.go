package httpd

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/sparkq/sparkq/store"
)

// queryInt reads an optional integer query parameter in [min, max].
func queryInt(q url.Values, key string, def, min, max int) (int, error) {
	s := q.Get(key)
	if s == "" {
		return def, nil
	}
	n, ok := atoi(strings.TrimSpace(s))
	if !ok {
		return 0, store.Invalid(key, "%s must be an integer", key)
	}
	if n < min {
		return 0, store.Invalid(key, "%s must be at least %d", key, min)
	}
	if n > max {
		return 0, store.Invalid(key, "%s must be at most %d", key, max)
	}
	return n, nil
}

const maxInt = int(^uint(0) >> 1)

// page reads limit (default 100, 0 allowed) and offset for the session and
// queue lists.
func page(r *http.Request) (store.Page, error) {
	q := r.URL.Query()
	limit, err := queryInt(q, "limit", 100, 0, maxInt)
	if err != nil {
		return store.Page{}, err
	}
	offset, err := queryInt(q, "offset", 0, 0, maxInt)
	if err != nil {
		return store.Page{}, err
	}
	return store.Page{Limit: limit, Offset: offset}, nil
}

// oneOf validates an optional enumerated query parameter.
func oneOf(q url.Values, key string, allowed ...string) (string, error) {
	v := q.Get(key)
	if v == "" {
		return "", nil
	}
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", store.Invalid(key, "%s must be one of: %s", key, strings.Join(allowed, ", "))
}
