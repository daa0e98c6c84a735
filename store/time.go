package store

import (
	"fmt"
	"time"
)

// TimeLayout is how timestamps are stored and sent: UTC with a fixed six-digit
// fraction, so text order is time order.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// Time is a UTC instant that marshals in TimeLayout.
type Time struct{ time.Time }

// NewTime truncates t to microseconds in UTC.
func NewTime(t time.Time) Time { return Time{t.UTC().Truncate(time.Microsecond)} }

// String formats t in TimeLayout.
func (t Time) String() string { return t.UTC().Format(TimeLayout) }

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.String() + `"`), nil
}

// UnmarshalJSON accepts any RFC 3339 timestamp.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("timestamp must be a string, got %s", b)
	}
	v, err := ParseTime(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// ParseTime reads a stored or RFC 3339 timestamp.
func ParseTime(s string) (Time, error) {
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return Time{}, fmt.Errorf("parse timestamp %q: %w", s, err)
	}
	return NewTime(v), nil
}
