package reaper

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/sparkq/sparkq/daemon/config"
	"github.com/sparkq/sparkq/store"
)

// Upper bounds for database values; larger ones are ignored (the API
// refuses to store them, so only hand-edited rows get here).
const (
	maxRetentionDays = 36500
	maxSweepSeconds  = 365 * 24 * 3600
)

// Resolve applies SparkQ's precedence rule to the reaper's settings:
//
//	flag > SPARKQ_* environment > database-backed value > sparkq.yml > built-in default
//
// No flag or environment variable sets these, so for them it is the
// purge/config row's older_than_days and the queue_runner/config row's
// auto_fail_interval_seconds (when they hold a positive number) over
// sparkq.yml's purge.older_than_days and
// queue_runner.auto_fail_interval_seconds, over 3 days and 30 s.
// purge.interval exists only in sparkq.yml. A zero file (a handler run
// without one) contributes nothing.
//
// The daemon calls it at start, after every config row write and on
// reload; GET /api/config and POST /api/purge call it per request. One
// function, so they never disagree.
func Resolve(file config.Config, rows []store.ConfigEntry) Settings {
	s := Settings{
		SweepInterval: file.QueueRunner.AutoFailInterval,
		PurgeInterval: file.Purge.Interval,
		RetentionDays: file.Purge.OlderThanDays,
	}
	for _, row := range rows {
		switch {
		case row.Namespace == "purge" && row.Key == "config":
			if days, ok := number(field(row.Value, "older_than_days")); ok && days == math.Trunc(days) && days >= 1 && days <= maxRetentionDays {
				s.RetentionDays = int(days)
			}
		case row.Namespace == "queue_runner" && row.Key == "config":
			if secs, ok := number(field(row.Value, "auto_fail_interval_seconds")); ok && secs > 0 && secs <= maxSweepSeconds {
				if d := time.Duration(secs * float64(time.Second)); d > 0 {
					s.SweepInterval = d
				}
			}
		}
	}
	return s.withDefaults()
}

// field is obj[key] of a JSON object, nil when absent or not an object.
func field(obj json.RawMessage, key string) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil {
		return nil
	}
	return m[key]
}

// number reads a JSON number token; strings and booleans are not numbers.
func number(raw json.RawMessage) (float64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
}
