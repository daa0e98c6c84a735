package store

import (
	"errors"
	"fmt"
)

// Kind classifies an error so callers (HTTP, CLI) can react without
// matching message text.
type Kind int

// Error kinds.
const (
	KindInternal Kind = iota
	KindNotFound
	KindConflict
	KindInvalid
	KindEmpty
)

func (k Kind) String() string {
	switch k {
	case KindNotFound:
		return "not found"
	case KindConflict:
		return "conflict"
	case KindInvalid:
		return "invalid"
	case KindEmpty:
		return "empty"
	}
	return "internal"
}

// Error is a domain error with a kind and a message fit for users.
type Error struct {
	Kind  Kind
	Field string // the offending input, for KindInvalid
	Msg   string
}

func (e *Error) Error() string { return e.Msg }

// Is makes errors.Is(err, store.ErrNotFound) match any error of that kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Msg == "" && t.Kind == e.Kind
}

// Sentinels for errors.Is.
var (
	ErrNotFound = &Error{Kind: KindNotFound}
	ErrConflict = &Error{Kind: KindConflict}
	ErrInvalid  = &Error{Kind: KindInvalid}
	// ErrEmpty means a queue has no queued task to claim or peek.
	ErrEmpty = &Error{Kind: KindEmpty}
)

// NotFound builds a KindNotFound error.
func NotFound(format string, args ...any) error {
	return &Error{Kind: KindNotFound, Msg: fmt.Sprintf(format, args...)}
}

// Conflict builds a KindConflict error.
func Conflict(format string, args ...any) error {
	return &Error{Kind: KindConflict, Msg: fmt.Sprintf(format, args...)}
}

// Invalid builds a KindInvalid error naming the offending field.
func Invalid(field, format string, args ...any) error {
	return &Error{Kind: KindInvalid, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Empty builds a KindEmpty error.
func Empty(format string, args ...any) error {
	return &Error{Kind: KindEmpty, Msg: fmt.Sprintf(format, args...)}
}

// KindOf reports the kind of err, KindInternal for foreign errors.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}
