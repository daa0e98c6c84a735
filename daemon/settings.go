package daemon

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/sparkq/sparkq/daemon/config"
	"github.com/sparkq/sparkq/reaper"
	"github.com/sparkq/sparkq/store"
)

// settingsStore is the store the API writes through. After every config
// row write it re-resolves the reaper's settings, so a purge retention or
// sweep interval PUT through the API (or the dashboard) applies at once,
// without a restart or reload.
type settingsStore struct {
	store.Store
	changed func(context.Context)
}

// PutConfig implements store.Catalog.
func (s settingsStore) PutConfig(ctx context.Context, ns, key string, value json.RawMessage, actor string) error {
	err := s.Store.PutConfig(ctx, ns, key, value, actor)
	if err == nil {
		s.changed(ctx)
	}
	return err
}

// ResetConfig implements store.Catalog.
func (s settingsStore) ResetConfig(ctx context.Context, ns, key string, fallback json.RawMessage, actor string) error {
	err := s.Store.ResetConfig(ctx, ns, key, fallback, actor)
	if err == nil {
		s.changed(ctx)
	}
	return err
}

// applySettings resolves the reaper's settings from the config rows and the
// running sparkq.yml (reaper.Resolve: database over file over default) and
// hands them to the reaper when they changed. It is serialised so a slow
// caller never applies an older read over a newer one.
func (d *daemon) applySettings(ctx context.Context) {
	d.settingsMu.Lock()
	defer d.settingsMu.Unlock()
	// The write that called us has committed; finish even if its request
	// is cancelled now.
	ctx = context.WithoutCancel(ctx)
	rows, err := d.store.ListConfig(ctx)
	if err != nil {
		d.log.Warn("read config rows; the reaper keeps its settings", "err", err)
		return
	}
	s := reaper.Resolve(d.config(), rows)
	if s == d.reaper.Settings() {
		return
	}
	d.reaper.Update(s)
	d.log.Info("reaper settings", "sweep_interval", s.SweepInterval, "purge_interval", s.PurgeInterval,
		"older_than_days", s.RetentionDays, "purge_batch", s.PurgeBatch)
}

// restartOnly names the settings a reload cannot change in a running
// daemon (listeners, files and HTTP guards are set up at start) that
// differ between old and cfg.
func restartOnly(old, cfg config.Config) []string {
	var out []string
	add := func(changed bool, key string) {
		if changed {
			out = append(out, key)
		}
	}
	add(old.Server.Host != cfg.Server.Host, "server.host")
	add(old.Server.Port != cfg.Server.Port, "server.port")
	add(!slices.Equal(old.Server.CORSOrigins, cfg.Server.CORSOrigins), "server.cors_origins")
	add(old.Server.CORSAllowCredentials != cfg.Server.CORSAllowCredentials, "server.cors_allow_credentials")
	add(!slices.Equal(old.Server.AllowedHosts, cfg.Server.AllowedHosts), "server.allowed_hosts")
	add(old.Server.APITokenFile != cfg.Server.APITokenFile, "server.api_token_file")
	add(old.Server.MaxBodyBytes != cfg.Server.MaxBodyBytes, "server.max_body_bytes")
	add(old.DBPath() != cfg.DBPath(), "database.path")
	add(old.SocketPath() != cfg.SocketPath(), "control.socket")
	add(old.LogPath() != cfg.LogPath(), "log.file")
	return out
}
