package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"
	"go.yaml.in/yaml/v3"

	"github.com/sparkq/sparkq/daemon/config"
)

// catalogCommands are the settings-side commands: configuration export,
// the prompt library, the script index and quick-add.
func (a *app) catalogCommands() []*ffcli.Command {
	return []*ffcli.Command{
		a.quickAddCommand(),
		a.promptsCommand(),
		a.scriptsCommand(),
		a.configExportCommand(),
	}
}

const exportHeader = `sparkq.yml written by ` + "`sparkq config-export`" + ` from the daemon's
database-backed configuration: tools, task classes, purge, queue_runner,
features and defaults. Server, database and paths are left out, so they
take their defaults (or add them). ` + "`sparkq setup --config THIS_FILE`" + `
seeds a new database with these values.

Precedence, for every setting: flag > SPARKQ_* environment > database
value (API, dashboard) > this file > built-in default.`

func (a *app) configExportCommand() *ffcli.Command {
	var output string
	var force bool
	return a.leaf("", cmdSpec{
		name: "config-export", maxArgs: 0,
		short: "Write the database-backed configuration as a sparkq.yml",
		long: `Asks the daemon for its configuration and writes the part kept in the
database (tools, task_classes, purge, queue_runner, features, defaults) as
YAML that ` + "`sparkq setup --config PATH`" + ` (and the daemon) accept: set up a
new installation with the exported file as its sparkq.yml and it starts
with the same tools and task classes. Writes to stdout unless --output
names a file; an existing file is only replaced with --force.`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&output, "output", "", "write to `PATH` instead of stdout (- is stdout)")
			fs.StringVar(&output, "o", "", "write to `PATH` instead of stdout (- is stdout)")
			fs.BoolVar(&force, "force", false, "replace an existing --output file")
		},
		exec: func(ctx context.Context, _ []string) error {
			toFile := output != "" && output != "-"
			if toFile && !force {
				if _, err := os.Lstat(output); err == nil {
					return failf("choose another --output, or add --force to replace it", "%s already exists", output)
				} else if !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("check %s: %w", output, err)
				}
			}
			c, err := a.dial()
			if err != nil {
				return err
			}
			merged, err := c.Config(ctx)
			if err != nil {
				return explain(err, hints{})
			}
			text, err := exportYAML(merged)
			if err != nil {
				return err
			}
			if err := checkExport(text); err != nil {
				return err
			}
			if !toFile {
				_, err := a.stdout.Write(text)
				return err
			}
			if err := writeFileAtomic(output, text, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Wrote config to %s\n", output)
			return nil
		},
	})
}

// exportYAML turns GET /api/config into a sparkq.yml document holding the
// database-backed sections, in the shipped file's order, keys sorted.
func exportYAML(merged map[string]json.RawMessage) ([]byte, error) {
	var purge struct {
		Days json.Number `json:"older_than_days"`
	}
	var runner struct {
		Poll     json.Number `json:"poll_interval"`
		AutoFail json.Number `json:"auto_fail_interval_seconds"`
		BaseURL  *string     `json:"base_url"`
	}
	var classes map[string]struct {
		Timeout     json.Number `json:"timeout"`
		Description *string     `json:"description"`
	}
	var tools map[string]struct {
		TaskClass   string  `json:"task_class"`
		Description *string `json:"description"`
	}
	var features struct {
		Flags json.RawMessage `json:"flags"`
	}
	var defaults struct {
		Queue json.RawMessage `json:"queue"`
		Model *string         `json:"model"`
	}
	for key, dst := range map[string]any{"purge": &purge, "queue_runner": &runner, "task_classes": &classes,
		"tools": &tools, "features": &features, "defaults": &defaults} {
		raw, ok := merged[key]
		if !ok {
			return nil, fmt.Errorf("the daemon's configuration has no %q section", key)
		}
		// Tolerate a section of the wrong shape (a hand-edited row): it is
		// then left out and the defaults apply.
		_ = json.Unmarshal(raw, dst)
	}

	doc := mapping()
	section := func(name string, body *yaml.Node) {
		if len(body.Content) > 0 {
			doc.Content = append(doc.Content, scalar(name), body)
		}
	}
	p := mapping()
	addNumber(p, "older_than_days", purge.Days, true)
	section("purge", p)

	q := mapping()
	addNumber(q, "poll_interval", runner.Poll, false)
	addNumber(q, "auto_fail_interval_seconds", runner.AutoFail, false)
	if runner.BaseURL != nil && *runner.BaseURL != "" {
		q.Content = append(q.Content, scalar("base_url"), scalar(*runner.BaseURL))
	}
	section("queue_runner", q)

	tc := mapping()
	for _, name := range sortedNames(classes) {
		c := classes[name]
		entry := mapping()
		addNumber(entry, "timeout", c.Timeout, true)
		if c.Description != nil && *c.Description != "" {
			entry.Content = append(entry.Content, scalar("description"), scalar(*c.Description))
		}
		tc.Content = append(tc.Content, scalar(name), entry)
	}
	doc.Content = append(doc.Content, scalar("task_classes"), tc) // present even when empty: it replaces the built-ins

	tl := mapping()
	for _, name := range sortedNames(tools) {
		t := tools[name]
		entry := mapping(scalar("task_class"), scalar(t.TaskClass))
		if t.Description != nil && *t.Description != "" {
			entry.Content = append(entry.Content, scalar("description"), scalar(*t.Description))
		}
		tl.Content = append(tl.Content, scalar(name), entry)
	}
	doc.Content = append(doc.Content, scalar("tools"), tl)

	f := mapping()
	if err := addObject(f, "flags", features.Flags); err != nil {
		return nil, err
	}
	section("features", f)

	d := mapping()
	if err := addObject(d, "queue", defaults.Queue); err != nil {
		return nil, err
	}
	if defaults.Model != nil && *defaults.Model != "" {
		d.Content = append(d.Content, scalar("model"), scalar(*defaults.Model))
	}
	section("defaults", d)

	doc.HeadComment = exportHeader
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{doc}}); err != nil {
		return nil, fmt.Errorf("encode the configuration as YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode the configuration as YAML: %w", err)
	}
	return buf.Bytes(), nil
}

func mapping(content ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Content: content}
}

// scalar is a plain string scalar; the encoder quotes it when YAML would
// otherwise read it as something else (a number, true, null…).
func scalar(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// addNumber adds key: n when n is a positive number (an integer when
// integer is set); anything else is left out so the default applies.
func addNumber(m *yaml.Node, key string, n json.Number, integer bool) {
	if n == "" {
		return
	}
	if i, err := n.Int64(); err == nil {
		if i > 0 {
			m.Content = append(m.Content, scalar(key), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(i)})
		}
		return
	}
	if f, err := n.Float64(); err == nil && f > 0 && !integer {
		m.Content = append(m.Content, scalar(key), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: n.String()})
	}
}

// addObject adds key: the JSON object raw as a YAML mapping ({} when raw
// is no object).
func addObject(m *yaml.Node, key string, raw json.RawMessage) error {
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if len(raw) == 0 || dec.Decode(&v) != nil || v == nil {
		v = map[string]any{}
	}
	var n yaml.Node
	if err := n.Encode(yamlValue(v)); err != nil {
		return fmt.Errorf("encode %s as YAML: %w", key, err)
	}
	m.Content = append(m.Content, scalar(key), &n)
	return nil
}

// yamlValue turns decoded JSON (with json.Number) into values the YAML
// encoder writes as the same JSON types: integers stay integers.
func yamlValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = yamlValue(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = yamlValue(x)
		}
		return out
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	}
	return v
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkExport loads text as sparkq.yml, as setup and the daemon will: an
// export that would not load is a bug, better reported now.
func checkExport(text []byte) error {
	dir, err := os.MkdirTemp("", "sparkq-export-")
	if err != nil {
		return fmt.Errorf("check the export: %w", err)
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, config.FileName)
	if err := os.WriteFile(p, text, 0o600); err != nil {
		return fmt.Errorf("check the export: %w", err)
	}
	_, warns, err := config.Load(p)
	if err == nil && len(warns) > 0 {
		err = errors.New(warns[0].String())
	}
	if err != nil {
		return fmt.Errorf("the exported configuration would not load, nothing was written: %s",
			strings.ReplaceAll(err.Error(), p, "export"))
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// folder, so readers never see half a file.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".sparkq-export-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), mode)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
