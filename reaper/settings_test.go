package reaper

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sparkq/sparkq/daemon/config"
	"github.com/sparkq/sparkq/store"
)

// TestResolve: database row > sparkq.yml > built-in default, per setting;
// unusable rows fall through to the file.
func TestResolve(t *testing.T) {
	file := config.Config{
		Purge:       config.Purge{OlderThanDays: 7, Interval: 2 * time.Hour},
		QueueRunner: config.QueueRunner{AutoFailInterval: 45 * time.Second},
	}
	row := func(ns, value string) store.ConfigEntry {
		return store.ConfigEntry{Namespace: ns, Key: "config", Value: json.RawMessage(value)}
	}
	tests := []struct {
		name string
		file config.Config
		rows []store.ConfigEntry
		want Settings
	}{
		{"defaults", config.Config{}, nil,
			Settings{SweepInterval: 30 * time.Second, PurgeInterval: time.Hour, RetentionDays: 3, PurgeBatch: DefaultPurgeBatch}},
		{"file", file, nil,
			Settings{SweepInterval: 45 * time.Second, PurgeInterval: 2 * time.Hour, RetentionDays: 7, PurgeBatch: DefaultPurgeBatch}},
		{"rows win", file, []store.ConfigEntry{
			row("purge", `{"older_than_days": 2}`),
			row("queue_runner", `{"poll_interval": 5, "auto_fail_interval_seconds": 10, "base_url": null}`),
		}, Settings{SweepInterval: 10 * time.Second, PurgeInterval: 2 * time.Hour, RetentionDays: 2, PurgeBatch: DefaultPurgeBatch}},
		{"rows over defaults", config.Config{}, []store.ConfigEntry{
			row("purge", `{"older_than_days": 9}`), row("queue_runner", `{"auto_fail_interval_seconds": 1.5}`),
		}, Settings{SweepInterval: 1500 * time.Millisecond, PurgeInterval: time.Hour, RetentionDays: 9, PurgeBatch: DefaultPurgeBatch}},
		{"unusable rows fall back to the file", file, []store.ConfigEntry{
			row("purge", `{"older_than_days": 0}`),
			row("queue_runner", `{"poll_interval": 5}`),
			{Namespace: "purge", Key: "other", Value: json.RawMessage(`{"older_than_days": 1}`)},
		}, Settings{SweepInterval: 45 * time.Second, PurgeInterval: 2 * time.Hour, RetentionDays: 7, PurgeBatch: DefaultPurgeBatch}},
		{"wrong types fall back", file, []store.ConfigEntry{
			row("purge", `{"older_than_days": "2"}`), row("queue_runner", `{"auto_fail_interval_seconds": true}`),
		}, Settings{SweepInterval: 45 * time.Second, PurgeInterval: 2 * time.Hour, RetentionDays: 7, PurgeBatch: DefaultPurgeBatch}},
		{"fractional days and huge values fall back", file, []store.ConfigEntry{
			row("purge", `{"older_than_days": 2.5}`), row("queue_runner", `{"auto_fail_interval_seconds": 1e30}`),
		}, Settings{SweepInterval: 45 * time.Second, PurgeInterval: 2 * time.Hour, RetentionDays: 7, PurgeBatch: DefaultPurgeBatch}},
		{"purge interval below the minimum is raised", config.Config{Purge: config.Purge{Interval: time.Millisecond}}, nil,
			Settings{SweepInterval: 30 * time.Second, PurgeInterval: config.MinPurgeInterval, RetentionDays: 3, PurgeBatch: DefaultPurgeBatch}},
		{"not an object", file, []store.ConfigEntry{row("purge", `3`), row("queue_runner", `null`)},
			Settings{SweepInterval: 45 * time.Second, PurgeInterval: 2 * time.Hour, RetentionDays: 7, PurgeBatch: DefaultPurgeBatch}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Resolve(tt.file, tt.rows); got != tt.want {
				t.Fatalf("Resolve = %+v, want %+v", got, tt.want)
			}
		})
	}
}
