package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/sparkq/sparkq/daemon/scripts"
)

// The script index comes from the daemon (GET /api/scripts/index), so the
// CLI lists exactly what quick-add and workers may run: files under the
// daemon's script_dirs, never a symlink leading out of them.

func (a *app) scriptsCommand() *ffcli.Command {
	return a.group("", "scripts", "List and search the scripts under script_dirs",
		[]*ffcli.Command{a.scriptsListCommand(), a.scriptsSearchCommand()})
}

func (a *app) scriptIndex(ctx context.Context) ([]scripts.Script, error) {
	c, err := a.dial()
	if err != nil {
		return nil, err
	}
	list, err := c.ScriptIndex(ctx)
	if err != nil {
		return nil, explain(err, hints{})
	}
	if list == nil {
		list = []scripts.Script{}
	}
	return list, nil
}

func (a *app) scriptsListCommand() *ffcli.Command {
	return a.leaf("scripts", cmdSpec{
		name: "list", maxArgs: 0, json: true,
		short: "List the indexed scripts with their header metadata",
		long: `Scripts are the files under the directories named by script_dirs in
sparkq.yml (.sh .bash .py .rb .pl .js, or no extension and a #! line).
Their leading comment block may declare name, description, inputs,
outputs, tags, timeout and task_class ("# key: value"). --json prints
everything; the daemon re-reads the directories when they change or on
` + "`sparkq reload`" + `.`,
		exec: func(ctx context.Context, _ []string) error {
			list, err := a.scriptIndex(ctx)
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(list)
			}
			if len(list) == 0 {
				fmt.Fprintln(a.stdout, "No scripts found."+a.scriptDirsHint())
				return nil
			}
			fmt.Fprintf(a.stdout, "Scripts (%d total):\n", len(list))
			printScripts(a.stdout, list)
			return nil
		},
	})
}

func (a *app) scriptsSearchCommand() *ffcli.Command {
	return a.leaf("scripts", cmdSpec{
		name: "search", args: "QUERY", minArgs: 1, maxArgs: 1, json: true,
		short: "Find scripts whose name, description or a tag contains QUERY",
		exec: func(ctx context.Context, args []string) error {
			list, err := a.scriptIndex(ctx)
			if err != nil {
				return err
			}
			found := scripts.Search(list, args[0])
			if a.jsonOut {
				return a.printJSON(found)
			}
			if len(found) == 0 {
				fmt.Fprintf(a.stdout, "No scripts found matching '%s'.\n", args[0])
				return nil
			}
			noun := "matches"
			if len(found) == 1 {
				noun = "match"
			}
			fmt.Fprintf(a.stdout, "Search results for '%s' (%d %s):\n", args[0], len(found), noun)
			printScripts(a.stdout, found)
			return nil
		},
	})
}

// printScripts writes one line per script: name and description padded to
// 30 characters, then the tags.
func printScripts(w io.Writer, list []scripts.Script) {
	for _, s := range list {
		desc := "—"
		if s.Description != nil && *s.Description != "" {
			desc = oneLine(*s.Description)
		}
		line := fmt.Sprintf("  %-30s %-30s %s", oneLine(s.Name), desc, strings.Join(s.Tags, ", "))
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

// scriptDirsHint says where scripts were looked for, and which of those
// folders do not exist: an empty list is most often a missing folder. It
// reads the CLI's config, which names the daemon's unless --socket points
// elsewhere.
func (a *app) scriptDirsHint() string {
	if a.loaded == nil || len(a.loaded.ScriptDirs) == 0 {
		return ""
	}
	var dirs []string
	for _, d := range a.loaded.ScriptDirs {
		if _, err := os.Stat(d); errors.Is(err, fs.ErrNotExist) {
			d += " (does not exist)"
		}
		dirs = append(dirs, d)
	}
	return " Looked in script_dirs: " + strings.Join(dirs, ", ")
}
