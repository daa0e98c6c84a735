package httpd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/sparkq/sparkq/daemon/config"
	"github.com/sparkq/sparkq/reaper"
	"github.com/sparkq/sparkq/store"
)

// Configuration (API.md §8, CONFIG.md §4). The database is the one source
// of truth: it is seeded from sparkq.yml once (ConfigSeed, at the first
// open), and sparkq.yml only fills in rows that were never stored or were
// deleted. Deviations from the original:
//   - namespaces are matched case-sensitively and stored as validated, and
//     JSON true is not an integer (GAP 42); integers must be written without
//     a fraction or exponent;
//   - purge/config, queue_runner/config and the entries of tools/all and
//     task_classes/all refuse unknown keys (the original stored and then
//     ignored them). A PUT replaces the row, as in the original, but GET
//     shows every purge and queue_runner key with the value in effect, a
//     key the row lacks falling back on its own (a partial PUT used to make
//     the others vanish from the view while the reaper still used them);
//   - defaults/model is a supported key (GAP 51, GAP 84), and sparkq.yml's
//     features/defaults sections are the fallback for their rows (GAP 51);
//   - writing tools/all or task_classes/all changes the tables in the same
//     transaction as the row: a 409 or 404 leaves nothing changed (GAP 15);
//   - deleting them resets the tables to sparkq.yml's set in one
//     transaction, refusing (409) when a class to drop is still used by a
//     tool (GAP 43); the row then mirrors the reset table;
//   - there is no 60 s cache: every read sees the last write (GAP 52);
//   - the purge retention (POST /api/purge) and the sweep interval
//     (stale_handling) are resolved by reaper.Resolve, row over sparkq.yml
//     over default: the function the daemon's reaper follows, re-run after
//     every config write, so they apply without a restart (GAP 45, 46);
//   - POST /api/reload re-reads sparkq.yml through the daemon (the same
//     reload as /control/reload) and never replaces the database-backed
//     tool registry (GAP 48).

// Defaults for values sparkq.yml leaves unset (CONFIG.md §2).
const (
	defaultPollSeconds     = 30
	defaultAutoFailSeconds = 30
	defaultModel           = "llm-sonnet"
)

// configKey names one supported config row.
type configKey struct{ ns, key string }

func (k configKey) String() string { return k.ns + "/" + k.key }

var (
	keyPurge       = configKey{"purge", "config"}
	keyQueueRunner = configKey{"queue_runner", "config"}
	keyTools       = configKey{"tools", "all"}
	keyTaskClasses = configKey{"task_classes", "all"}
	keyBuildID     = configKey{"ui", "build_id"}
	keyFlags       = configKey{"features", "flags"}
	keyQueueDefs   = configKey{"defaults", "queue"}
	keyModel       = configKey{"defaults", "model"}
)

// configKeys are the rows the API reads and writes, in validation order.
var configKeys = []configKey{keyPurge, keyQueueRunner, keyTools, keyTaskClasses, keyBuildID, keyFlags, keyQueueDefs, keyModel}

// The inner keys of the structured rows, sorted. Anything else is refused:
// stored, it would be ignored by every reader.
var (
	purgeKeys  = []string{"older_than_days"}
	runnerKeys = []string{"auto_fail_interval_seconds", "base_url", "poll_interval"}
	toolKeys   = []string{"description", "task_class"}
	classKeys  = []string{"description", "timeout"}
)

// fileOnlyKeys are settings of a row's sparkq.yml section that have no
// database value (the reaper reads purge.interval from the file only);
// refusing them says where they belong.
var fileOnlyKeys = map[configKey][]string{
	keyPurge:       {"interval"},
	keyQueueRunner: {"lock_dir"},
}

// knownKeys refuses a key of m outside keys, naming it and the known ones.
func knownKeys(m map[string]json.RawMessage, what string, keys []string, fileOnly []string, section string) error {
	for _, k := range sortedKeys(m) {
		if slices.Contains(keys, k) {
			continue
		}
		msg := fmt.Sprintf("unknown key in %s: %s (known keys: %s)", what, k, strings.Join(keys, ", "))
		if slices.Contains(fileOnly, k) {
			msg += fmt.Sprintf("; %s.%s is set in sparkq.yml, not stored in the database", section, k)
		}
		return store.Invalid("value", "%s", msg)
	}
	return nil
}

func supported(ns, key string) (configKey, error) {
	k := configKey{ns, key}
	for _, c := range configKeys {
		if c == k {
			return k, nil
		}
	}
	return k, store.Invalid("namespace", "Unsupported config namespace/key: %s/%s", ns, key)
}

// ConfigSeed is the configuration rows a new database starts with: the
// sparkq.yml values of CONFIG.md §4.1. Tools and task classes are seeded as
// tables (their mirror rows follow them), and ui/build_id is left unset so
// it follows the daemon's version until someone sets it.
func ConfigSeed(c config.Config) []store.ConfigEntry {
	var out []store.ConfigEntry
	for _, k := range []configKey{keyPurge, keyQueueRunner, keyFlags, keyQueueDefs, keyModel} {
		out = append(out, store.ConfigEntry{Namespace: k.ns, Key: k.key, Value: yamlValue(c, k)})
	}
	return out
}

// yamlValue is sparkq.yml's value for a row (defaults for unset keys).
func yamlValue(c config.Config, k configKey) json.RawMessage {
	var v any
	switch k {
	case keyPurge:
		days := c.Purge.OlderThanDays
		if days <= 0 {
			days = defaultPurgeDays
		}
		v = map[string]any{"older_than_days": days}
	case keyQueueRunner:
		var base any
		if c.QueueRunner.BaseURL != "" {
			base = c.QueueRunner.BaseURL
		}
		v = map[string]any{
			"poll_interval":              seconds(c.QueueRunner.PollInterval, defaultPollSeconds),
			"auto_fail_interval_seconds": seconds(c.QueueRunner.AutoFailInterval, defaultAutoFailSeconds),
			"base_url":                   base,
		}
	case keyFlags:
		v = nonNilMap(c.Features.Flags)
	case keyQueueDefs:
		v = nonNilMap(c.Defaults.Queue)
	case keyModel:
		v = c.Defaults.Model
		if c.Defaults.Model == "" {
			v = defaultModel
		}
	case keyTools:
		tools := map[string]any{}
		for _, t := range yamlTools(c) {
			tools[t.Name] = map[string]any{"task_class": t.TaskClass, "description": optional(t.Description)}
		}
		v = tools
	case keyTaskClasses:
		classes := map[string]any{}
		for _, tc := range yamlClasses(c) {
			classes[tc.Name] = map[string]any{"timeout": tc.Timeout, "description": optional(tc.Description)}
		}
		v = classes
	}
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null") // only maps from a parsed YAML file get here
	}
	return b
}

func nonNilMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func optional(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// seconds renders a positive duration as whole seconds, rounding up.
func seconds(d time.Duration, def int) int {
	if d <= 0 {
		return def
	}
	return int(math.Ceil(d.Seconds()))
}

// yamlTools and yamlClasses are sparkq.yml's sets, or the built-ins. The
// classes include any built-in class a tool names without declaring it, as
// the first-start seed does.
func yamlTools(c config.Config) []config.Tool {
	if c.Tools != nil {
		return c.Tools
	}
	var out []config.Tool
	for name, class := range store.DefaultTools {
		out = append(out, config.Tool{Name: name, TaskClass: class})
	}
	return out
}

func yamlClasses(c config.Config) []config.TaskClass {
	out := c.TaskClasses
	if out == nil {
		for name, timeout := range store.DefaultClassTimeouts {
			out = append(out, config.TaskClass{Name: name, Timeout: timeout})
		}
	}
	have := map[string]bool{}
	for _, tc := range out {
		have[tc.Name] = true
	}
	for _, t := range yamlTools(c) {
		if timeout, ok := store.DefaultClassTimeouts[t.TaskClass]; ok && !have[t.TaskClass] {
			out = append(out, config.TaskClass{Name: t.TaskClass, Timeout: timeout})
			have[t.TaskClass] = true
		}
	}
	return out
}

// configRows reads the stored rows by key.
func (s *server) configRows(ctx context.Context) (map[configKey]json.RawMessage, error) {
	entries, err := s.store.ListConfig(ctx)
	if err != nil {
		return nil, err
	}
	rows := make(map[configKey]json.RawMessage, len(entries))
	for _, e := range entries {
		rows[configKey{e.Namespace, e.Key}] = e.Value
	}
	return rows, nil
}

// effective is a row's value: the stored one when it has the right JSON
// kind, else sparkq.yml's.
func (s *server) effective(rows map[configKey]json.RawMessage, k configKey, kind byte) json.RawMessage {
	if v, ok := rows[k]; ok && (kind == 0 || jsonKind(v) == kind) {
		return v
	}
	if k == keyBuildID {
		b, _ := json.Marshal(s.version)
		return b
	}
	return yamlValue(s.yaml(), k)
}

// keyByKey is a structured row as GET /api/config shows it: every known
// key, each the stored value when it is set and valid, else sparkq.yml's,
// else the default. A PUT stores only the keys it sends (it replaces the
// row, as the original did), so a key it leaves out, or sets to null,
// falls back on its own: the rule reaper.Resolve applies. Unknown keys of
// rows stored before they were refused are not shown.
func (s *server) keyByKey(rows map[configKey]json.RawMessage, k configKey, keys []string) map[string]any {
	var stored, file map[string]json.RawMessage
	if v, ok := rows[k]; ok && jsonKind(v) == '{' {
		_ = json.Unmarshal(v, &stored) // a bad row is ignored, as by the reaper
	}
	_ = json.Unmarshal(yamlValue(s.yaml(), k), &file)
	out := make(map[string]any, len(keys))
	for _, key := range keys {
		v, ok := stored[key]
		if ok = ok && !isNull(v); ok {
			one, err := json.Marshal(map[string]json.RawMessage{key: v})
			ok = err == nil && validateConfigValue(k, one) == nil
		}
		if !ok {
			v, ok = file[key]
		}
		if !ok {
			v = json.RawMessage("null")
		}
		out[key] = v
	}
	return out
}

// buildID is ui/build_id: stored, else the daemon's version.
func (s *server) buildID(ctx context.Context) string {
	rows, err := s.configRows(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "read ui/build_id", "err", err)
		return s.version
	}
	var id string
	if json.Unmarshal(s.effective(rows, keyBuildID, '"'), &id) != nil || id == "" {
		return s.version
	}
	return id
}

// runtimeSettings are the purge retention, purge batch and sweep interval
// in effect: reaper.Resolve over the stored rows and sparkq.yml, the same
// function the daemon's reaper follows.
func (s *server) runtimeSettings(ctx context.Context) (reaper.Settings, error) {
	entries, err := s.store.ListConfig(ctx)
	if err != nil {
		return reaper.Settings{}, err
	}
	return reaper.Resolve(s.yaml(), entries), nil
}

// mergedConfig is GET /api/config: exactly the keys of API.md §8.
func (s *server) mergedConfig(ctx context.Context) (map[string]any, error) {
	rows, err := s.configRows(ctx)
	if err != nil {
		return nil, err
	}
	classes, err := s.store.ListTaskClasses(ctx)
	if err != nil {
		return nil, err
	}
	tools, err := s.store.ListTools(ctx)
	if err != nil {
		return nil, err
	}
	y := s.yaml()

	server := map[string]any{
		"host": y.Server.Host, "port": y.Server.Port,
		"cors_origins": nonNilStrings(y.Server.CORSOrigins), "cors_allow_credentials": y.Server.CORSAllowCredentials,
		"allowed_hosts": nonNilStrings(y.Server.AllowedHosts), "max_body_bytes": y.Server.MaxBodyBytes,
	}
	if y.Server.Host == "" {
		server["host"] = "127.0.0.1"
	}
	if y.Server.Port == 0 {
		server["port"] = 5005
	}
	if y.Server.MaxBodyBytes == 0 {
		server["max_body_bytes"] = defaultMaxBodyBytes
	}
	database := map[string]any{"path": y.Database.Path, "mode": "wal"}

	toolMap := make(map[string]any, len(tools))
	for _, t := range tools {
		toolMap[t.Name] = map[string]any{"description": t.Description, "task_class": t.TaskClass}
	}
	classMap := make(map[string]any, len(classes))
	for _, c := range classes {
		classMap[c.Name] = map[string]any{"timeout": c.Timeout, "description": c.Description}
	}

	rs, err := s.runtimeSettings(ctx)
	if err != nil {
		return nil, err
	}
	autoFail := seconds(rs.SweepInterval, defaultAutoFailSeconds)
	// The reaper's own resolution, so the view cannot disagree with it.
	purge := map[string]any{"older_than_days": rs.RetentionDays}
	queueRunner := s.keyByKey(rows, keyQueueRunner, runnerKeys)
	queueRunner["auto_fail_interval_seconds"] = autoFail
	var buildID string
	if json.Unmarshal(s.effective(rows, keyBuildID, '"'), &buildID) != nil || buildID == "" {
		buildID = s.version
	}

	return map[string]any{
		"server":       server,
		"database":     database,
		"purge":        purge,
		"queue_runner": queueRunner,
		"tools":        toolMap,
		"task_classes": classMap,
		"ui":           map[string]any{"build_id": buildID},
		"features":     map[string]any{"flags": s.effective(rows, keyFlags, '{')},
		"defaults": map[string]any{
			"queue": s.effective(rows, keyQueueDefs, '{'),
			"model": s.effective(rows, keyModel, '"'),
		},
		"stale_handling": map[string]any{
			"warn_multiplier": 1.0, "fail_multiplier": 2.0, "auto_fail_interval_seconds": autoFail,
		},
	}, nil
}

func nonNilStrings(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func (s *server) getConfig(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	cfg, err := s.mergedConfig(r.Context())
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, cfg)
	return nil
}

func (s *server) putConfig(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	k, err := supported(ps.ByName("namespace"), ps.ByName("key"))
	if err != nil {
		return err
	}
	body, err := readObject(r, false)
	if err != nil {
		return err
	}
	if err := body.only("value"); err != nil {
		return err
	}
	if !body.has("value") {
		return store.Invalid("value", "value is required")
	}
	value := compact(body.fields["value"])
	if err := validateConfigValue(k, value); err != nil {
		return err
	}
	if err := s.store.PutConfig(r.Context(), k.ns, k.key, value, "api"); err != nil {
		return err
	}
	return s.writeConfigResult(w, r)
}

func (s *server) deleteConfig(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	k, err := supported(ps.ByName("namespace"), ps.ByName("key"))
	if err != nil {
		return err
	}
	if err := s.store.ResetConfig(r.Context(), k.ns, k.key, yamlValue(s.yaml(), k), "api"); err != nil {
		return err
	}
	return s.writeConfigResult(w, r)
}

func (s *server) writeConfigResult(w http.ResponseWriter, r *http.Request) error {
	cfg, err := s.mergedConfig(r.Context())
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"status": "ok", "config": cfg})
	return nil
}

// validateConfig is a dry run over {"value": {ns: {key: value}}}.
func (s *server) validateConfig(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	body, err := readObject(r, false)
	if err != nil {
		return err
	}
	if err := body.only("value"); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if raw := body.fields["value"]; jsonKind(raw) != '{' || json.Unmarshal(raw, &all) != nil {
		return store.Invalid("value", "value must be an object with namespace->key maps")
	}
	for _, ns := range sortedKeys(all) {
		var keys map[string]json.RawMessage
		if jsonKind(all[ns]) != '{' || json.Unmarshal(all[ns], &keys) != nil {
			return store.Invalid("value", "Namespace %s must map to an object of key/value", ns)
		}
		for _, key := range sortedKeys(keys) {
			k, err := supported(ns, key)
			if err != nil {
				return err
			}
			if err := validateConfigValue(k, keys[key]); err != nil {
				return err
			}
		}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"status": "ok"})
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// jsonInt reads a JSON integer: a number token without fraction or
// exponent. true, 3.0 and "3" are not integers. One beyond int64 saturates
// at math.MaxInt64 or math.MinInt64, so that bounds checks report it as
// too large or too small rather than as not an integer.
func jsonInt(raw json.RawMessage) (int64, bool) {
	s := string(bytes.TrimSpace(raw))
	if s == "" || strings.ContainsAny(s, ".eE") {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil || errors.Is(err, strconv.ErrRange)
}

// validateConfigValue applies the rules of API.md §8 to one row.
func validateConfigValue(k configKey, raw json.RawMessage) error {
	invalid := func(format string, args ...any) error { return store.Invalid("value", format, args...) }
	object := func(what string) (map[string]json.RawMessage, error) {
		var m map[string]json.RawMessage
		if jsonKind(raw) != '{' || json.Unmarshal(raw, &m) != nil {
			return nil, invalid("%s must be an object", what)
		}
		return m, nil
	}
	positive := func(m map[string]json.RawMessage, key string, required bool, max int64) error {
		v, ok := m[key]
		if !ok || isNull(v) {
			if required {
				return invalid("%s must be a positive integer", key)
			}
			return nil
		}
		n, isInt := jsonInt(v)
		if !isInt || n <= 0 {
			return invalid("%s must be a positive integer", key)
		}
		if n > max {
			return invalid("%s must be at most %d", key, max)
		}
		return nil
	}
	switch k {
	case keyPurge:
		m, err := object("purge config")
		if err != nil {
			return err
		}
		if err := knownKeys(m, "purge config", purgeKeys, fileOnlyKeys[k], k.ns); err != nil {
			return err
		}
		return positive(m, "older_than_days", true, maxPurgeDays)
	case keyQueueRunner:
		m, err := object("queue_runner config")
		if err != nil {
			return err
		}
		if err := knownKeys(m, "queue_runner config", runnerKeys, fileOnlyKeys[k], k.ns); err != nil {
			return err
		}
		for _, key := range []string{"poll_interval", "auto_fail_interval_seconds"} {
			if err := positive(m, key, false, 365*24*3600); err != nil {
				return err
			}
		}
		if v, ok := m["base_url"]; ok && !isNull(v) {
			var u string
			if json.Unmarshal(v, &u) != nil || strings.TrimSpace(u) == "" {
				return invalid("base_url must be a non-empty string when provided")
			}
			if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
				return invalid("base_url must be an http:// or https:// URL, got %q", u)
			}
		}
		return nil
	case keyTools, keyTaskClasses:
		return validateEntries(k, raw)
	case keyBuildID:
		var v string
		if json.Unmarshal(raw, &v) != nil || strings.TrimSpace(v) == "" {
			return invalid("build_id must be a non-empty string")
		}
		return nil
	case keyFlags:
		_, err := object("feature flags")
		return err
	case keyQueueDefs:
		_, err := object("queue defaults")
		return err
	case keyModel:
		var v string
		if jsonKind(raw) != '"' || json.Unmarshal(raw, &v) != nil || strings.TrimSpace(v) == "" {
			return invalid("default model must be a non-empty string")
		}
		return nil
	}
	return invalid("Unsupported config namespace/key: %s", k)
}

// validateEntries checks a tools/all or task_classes/all value.
func validateEntries(k configKey, raw json.RawMessage) error {
	invalid := func(format string, args ...any) error { return store.Invalid("value", format, args...) }
	thing, plural, keyed := "tool", "tools", "tool name"
	if k == keyTaskClasses {
		thing, plural, keyed = "task_class", "task_classes", "class name"
	}
	var m map[string]json.RawMessage
	if jsonKind(raw) != '{' || json.Unmarshal(raw, &m) != nil {
		return invalid("%s must be an object keyed by %s", plural, keyed)
	}
	for _, name := range sortedKeys(m) {
		if strings.TrimSpace(name) == "" {
			return invalid("%s names must be non-empty strings", thing)
		}
		if strings.TrimSpace(name) != name {
			return invalid("%s name %q must not start or end with spaces", thing, name)
		}
		var fields map[string]json.RawMessage
		if jsonKind(m[name]) != '{' || json.Unmarshal(m[name], &fields) != nil {
			return invalid("%s '%s' config must be an object", thing, name)
		}
		keys := toolKeys
		if k == keyTaskClasses {
			keys = classKeys
		}
		if err := knownKeys(fields, fmt.Sprintf("%s '%s' config", thing, name), keys, nil, ""); err != nil {
			return err
		}
		if d, ok := fields["description"]; ok && !isNull(d) && jsonKind(d) != '"' {
			return invalid("%s '%s' description must be a string", thing, name)
		}
		if k == keyTools {
			var class string
			if json.Unmarshal(fields["task_class"], &class) != nil || strings.TrimSpace(class) == "" {
				return invalid("tool '%s' missing task_class", name)
			}
			continue
		}
		n, ok := jsonInt(fields["timeout"])
		if !ok || n <= 0 {
			return invalid("task_class '%s' timeout must be > 0", name)
		}
		if n > maxTaskTimeout {
			return invalid("task_class '%s' timeout must be at most %d seconds", name, maxTaskTimeout)
		}
	}
	return nil
}

// apiReload is POST /api/reload: the daemon's reload, as /control/reload.
func (s *server) apiReload(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	if s.reloader == nil {
		return errorf(http.StatusNotImplemented, "Configuration reload is not available on this server")
	}
	if err := s.reloader.Reload(r.Context()); err != nil {
		return err
	}
	s.scripts.Invalidate()
	s.writeJSON(w, r, http.StatusOK, map[string]any{"status": "ok", "message": "Configuration reloaded"})
	return nil
}

// Task classes and tools (API.md §9). Deviations (GAP 41): POST refuses an
// existing name (409) instead of overwriting it; PUT creates or replaces
// only the name in the path (a different body name is 400, not a second
// row); an omitted description keeps the stored one (null clears it);
// DELETE of a missing name is 404. Every change rewrites the mirror config
// rows and is audited, in the same transaction.

// classInput reads {name?, timeout, description?}; pathName is "" for POST.
func classInput(r *http.Request, pathName string) (store.TaskClass, error) {
	var c store.TaskClass
	body, err := readObject(r, false)
	if err != nil {
		return c, err
	}
	if err := body.only("name", "timeout", "description"); err != nil {
		return c, err
	}
	if c.Name, err = entryName(body, pathName); err != nil {
		return c, err
	}
	// Any integer: the store says what is allowed (> 0, at most a week).
	timeout, err := body.int("timeout", math.MinInt, math.MaxInt)
	if err != nil {
		return c, err
	}
	if timeout == nil {
		return c, store.Invalid("timeout", "timeout is required")
	}
	c.Timeout = *timeout
	c.Description, err = body.optionalText("description")
	return c, err
}

// entryName is the body's name for POST; for PUT the path's, which a body
// name must repeat.
func entryName(body object, pathName string) (string, error) {
	v, err := body.str("name")
	if err != nil {
		return "", err
	}
	if pathName == "" {
		if v == nil || strings.TrimSpace(*v) == "" {
			return "", store.Invalid("name", "name is required")
		}
		return strings.TrimSpace(*v), nil
	}
	if v != nil && strings.TrimSpace(*v) != pathName {
		return "", store.Invalid("name", "name in the body (%q) must match the name in the path (%q); to rename, create the new name and delete the old one", strings.TrimSpace(*v), pathName)
	}
	return pathName, nil
}

func (s *server) createTaskClass(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	c, err := classInput(r, "")
	if err != nil {
		return err
	}
	out, err := s.store.CreateTaskClass(r.Context(), c)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, map[string]any{"task_class": out})
	return nil
}

func (s *server) putTaskClass(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	c, err := classInput(r, ps.ByName("name"))
	if err != nil {
		return err
	}
	out, err := s.store.PutTaskClass(r.Context(), c)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"task_class": out})
	return nil
}

func (s *server) deleteTaskClass(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	if err := s.store.DeleteTaskClass(r.Context(), ps.ByName("name")); err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"status": "ok"})
	return nil
}

// toolInput reads {name?, description?, task_class}; pathName is "" for POST.
func toolInput(r *http.Request, pathName string) (store.Tool, error) {
	var t store.Tool
	body, err := readObject(r, false)
	if err != nil {
		return t, err
	}
	if err := body.only("name", "description", "task_class"); err != nil {
		return t, err
	}
	if t.Name, err = entryName(body, pathName); err != nil {
		return t, err
	}
	class, err := body.str("task_class")
	if err != nil {
		return t, err
	}
	if class == nil || strings.TrimSpace(*class) == "" {
		if pathName != "" {
			return t, store.Invalid("task_class", "task_class required for tool")
		}
		return t, store.Invalid("task_class", "task_class is required")
	}
	t.TaskClass = strings.TrimSpace(*class)
	t.Description, err = body.optionalText("description")
	return t, err
}

func (s *server) createTool(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	t, err := toolInput(r, "")
	if err != nil {
		return err
	}
	out, err := s.store.CreateTool(r.Context(), t)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusCreated, map[string]any{"tool": out})
	return nil
}

func (s *server) putTool(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	t, err := toolInput(r, ps.ByName("name"))
	if err != nil {
		return err
	}
	out, err := s.store.PutTool(r.Context(), t)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"tool": out})
	return nil
}

func (s *server) deleteTool(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	if err := s.store.DeleteTool(r.Context(), ps.ByName("name")); err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"status": "ok"})
	return nil
}
