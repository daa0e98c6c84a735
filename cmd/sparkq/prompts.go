package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/sparkq/sparkq/control"
	"github.com/sparkq/sparkq/store"
)

// The prompt library: text-expander templates the dashboard offers as
// ">command" (API.md §10).

var promptHints = hints{notFound: "list prompts with `sparkq prompts list`"}

func (a *app) promptsCommand() *ffcli.Command {
	return a.group("", "prompts", "Manage the prompt library (templates the dashboard expands)",
		[]*ffcli.Command{a.promptsListCommand(), a.promptsShowCommand(), a.promptsAddCommand(), a.promptsRmCommand()})
}

func (a *app) promptsListCommand() *ffcli.Command {
	return a.leaf("prompts", cmdSpec{
		name: "list", maxArgs: 0, json: true,
		short: "List the prompts by command",
		long:  "With --json, every prompt in full, template_text included (the shape of `prompts show --json`).",
		exec: func(ctx context.Context, _ []string) error {
			c, err := a.dial()
			if err != nil {
				return err
			}
			prompts, err := c.ListPrompts(ctx)
			if err != nil {
				return explain(err, hints{})
			}
			if a.jsonOut {
				full, err := fullPrompts(ctx, c, prompts)
				if err != nil {
					return err
				}
				return a.printJSON(full)
			}
			if len(prompts) == 0 {
				fmt.Fprintln(a.stdout, "No prompts found")
				return nil
			}
			rows := make([][]string, len(prompts))
			for i, p := range prompts {
				active := "yes"
				if !p.Active {
					active = "no"
				}
				rows[i] = []string{p.Command, p.Label, orDash(deref(p.Category)), active, p.ID}
			}
			return printTable(a.stdout, []column{{"COMMAND", 24}, {"LABEL", 40}, {"CATEGORY", 16}, {"ACTIVE", 0}, {"ID", 0}}, rows)
		},
	})
}

// fullPrompts fetches each listed prompt by id: GET /api/prompts leaves
// the template out by design (API.md §10), and a script reading the JSON
// list expects the text, not an empty string standing in for it. A prompt
// deleted since the list is left out.
func fullPrompts(ctx context.Context, c *control.Client, listed []store.Prompt) ([]store.Prompt, error) {
	out := make([]store.Prompt, 0, len(listed))
	for _, p := range listed {
		full, err := c.GetPrompt(ctx, p.ID)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, explain(err, hints{})
		}
		out = append(out, full)
	}
	return out, nil
}

// findPrompt resolves a prompt id (prm_…) or command to the full prompt.
func findPrompt(ctx context.Context, c *control.Client, ref string) (store.Prompt, error) {
	ref = strings.TrimSpace(strings.TrimPrefix(ref, ">"))
	if strings.HasPrefix(ref, "prm_") {
		p, err := c.GetPrompt(ctx, ref)
		if err == nil {
			return p, nil
		}
		if !isNotFound(err) {
			return p, explain(err, promptHints)
		}
	}
	prompts, err := c.ListPrompts(ctx)
	if err != nil {
		return store.Prompt{}, explain(err, hints{})
	}
	for _, p := range prompts {
		if p.Command == ref {
			full, err := c.GetPrompt(ctx, p.ID)
			return full, explain(err, promptHints)
		}
	}
	return store.Prompt{}, failf(promptHints.notFound, "Prompt not found: %s", ref)
}

func isNotFound(err error) bool { return errors.Is(err, control.ErrNotFound) }

func (a *app) promptsShowCommand() *ffcli.Command {
	return a.leaf("prompts", cmdSpec{
		name: "show", args: "COMMAND|ID", minArgs: 1, maxArgs: 1, json: true,
		short: "Print a prompt's template",
		long:  "Prints the template text (with --json, the whole prompt). COMMAND may be written with its leading >.",
		exec: func(ctx context.Context, args []string) error {
			c, err := a.dial()
			if err != nil {
				return err
			}
			p, err := findPrompt(ctx, c, args[0])
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(p)
			}
			fmt.Fprintf(a.stdout, "# >%s: %s", p.Command, p.Label)
			if p.Description != nil && *p.Description != "" {
				fmt.Fprintf(a.stdout, " (%s)", oneLine(*p.Description))
			}
			fmt.Fprintf(a.stdout, "\n%s\n", strings.TrimRight(p.TemplateText, "\n"))
			return nil
		},
	})
}

func (a *app) promptsAddCommand() *ffcli.Command {
	var label, text, file, description string
	return a.leaf("prompts", cmdSpec{
		name: "add", args: "COMMAND", minArgs: 1, maxArgs: 1, json: true,
		short: "Add a prompt",
		long: `COMMAND is what the dashboard's ">" completes: lower-case letters, digits
and dashes. The template comes from --text, or --file (- reads stdin).`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&label, "label", "", "the prompt's display `NAME` (required)")
			fs.StringVar(&text, "text", "", "the template `TEXT`")
			fs.StringVar(&file, "file", "", "read the template from `PATH` (- for stdin)")
			fs.StringVar(&description, "description", "", "a one-line `DESCRIPTION`")
		},
		exec: func(ctx context.Context, args []string) error {
			switch {
			case strings.TrimSpace(label) == "":
				return a.usagef("--label is required")
			case text != "" && file != "":
				return a.usagef("give --text or --file, not both")
			case text == "" && file == "":
				return a.usagef("give the template with --text or --file")
			}
			body, _, err := a.flagOrFile(text, "--text", file, "--file")
			if err != nil {
				return err
			}
			c, err := a.dial()
			if err != nil {
				return err
			}
			p, err := c.CreatePrompt(ctx, store.NewPrompt{Command: strings.TrimPrefix(args[0], ">"), Label: label,
				TemplateText: string(body), Description: optional(description)})
			if err != nil {
				return explain(err, hints{conflict: "choose another command, or remove the old one with `sparkq prompts rm`"})
			}
			if a.jsonOut {
				return a.printJSON(p)
			}
			fmt.Fprintf(a.stdout, "Prompt >%s added (%s)\n", p.Command, p.ID)
			return nil
		},
	})
}

func (a *app) promptsRmCommand() *ffcli.Command {
	return a.leaf("prompts", cmdSpec{
		name: "rm", args: "COMMAND|ID", minArgs: 1, maxArgs: 1,
		short: "Delete a prompt",
		exec: func(ctx context.Context, args []string) error {
			c, err := a.dial()
			if err != nil {
				return err
			}
			p, err := findPrompt(ctx, c, args[0])
			if err != nil {
				return err
			}
			if err := c.DeletePrompt(ctx, p.ID); err != nil {
				return explain(err, promptHints)
			}
			fmt.Fprintf(a.stdout, "Prompt >%s deleted (%s)\n", p.Command, p.ID)
			return nil
		},
	})
}
