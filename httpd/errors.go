package httpd

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sparkq/sparkq/store"
)

// httpError is a failure of the request itself (routing, body size, access)
// rather than of the domain; it carries its own status.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// envelope is the body of every error response.
type envelope struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
}

// statusOf is the one place that turns an error into an HTTP status and a
// message fit for clients. Internal errors get a generic message; the real
// error is logged by writeError.
func statusOf(err error) (int, string) {
	var he *httpError
	if errors.As(err, &he) {
		return he.status, he.msg
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body too large (limit %d bytes)", maxErr.Limit)
	}
	var se *store.Error
	if errors.As(err, &se) {
		switch se.Kind {
		case store.KindNotFound:
			return http.StatusNotFound, se.Msg
		case store.KindConflict:
			return http.StatusConflict, se.Msg
		case store.KindInvalid:
			return http.StatusBadRequest, se.Msg
		case store.KindEmpty:
			return http.StatusNoContent, ""
		}
	}
	return http.StatusInternalServerError, "Internal server error"
}

func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := statusOf(err)
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	if !strings.HasPrefix(msg, "Error: ") {
		msg = "Error: " + msg
	}
	s.writeJSON(w, r, status, envelope{Error: msg, Status: status})
}
