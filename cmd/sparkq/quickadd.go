package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/sparkq/sparkq/control"
	"github.com/sparkq/sparkq/store"
)

// quickAddCommand adds a task the way the dashboard's quick-add box does
// (POST /api/tasks/quick-add): from a prompt, with the model chosen by its
// length unless --tool names one, or from a script under script_dirs.
func (a *app) quickAddCommand() *ffcli.Command {
	var queue, session, prompt, tool, script, args, role string
	return a.leaf("", cmdSpec{
		name: "quick-add", maxArgs: 0, json: true,
		short: "Add a task from a prompt or a script, as the dashboard does",
		long: `With --prompt: an LLM task. Without --tool, prompts under 50 words go to
llm-haiku (LLM_LITE), longer ones to llm-sonnet (LLM_HEAVY); the queue's
instructions and agent role are composed into the prompt.
With --script: a script task (run-python for .py, else run-bash). The path
must lie inside one of the daemon's script_dirs (relative paths are looked
up there); --args is split like a shell would.`,
		flags: func(fs *flag.FlagSet) {
			queueFlags(fs, &queue, &session)
			fs.StringVar(&prompt, "prompt", "", "the prompt `TEXT` (LLM mode)")
			fs.StringVar(&tool, "tool", "", "the LLM `TOOL` (default: chosen by the prompt's length)")
			fs.StringVar(&script, "script", "", "the script `PATH` (script mode)")
			fs.StringVar(&args, "args", "", "the script's `ARGS`, one string")
			fs.StringVar(&role, "role", "", "agent role `KEY` (default: the queue's)")
		},
		exec: func(ctx context.Context, _ []string) error {
			req := control.QuickAddRequest{Prompt: prompt, ToolName: strings.TrimSpace(tool), ScriptPath: script,
				ScriptArgs: args, AgentRoleKey: strings.TrimSpace(role)}
			switch {
			case strings.TrimSpace(queue) == "":
				return a.usagef("--queue is required")
			case prompt != "" && script != "":
				return a.usagef("give --prompt or --script, not both")
			case strings.TrimSpace(prompt) != "":
				req.Mode = "llm"
				if args != "" {
					return a.usagef("--args goes with --script")
				}
			case strings.TrimSpace(script) != "":
				req.Mode = "script"
				if tool != "" || role != "" {
					return a.usagef("--tool and --role go with --prompt")
				}
			default:
				return a.usagef("give --prompt TEXT or --script PATH")
			}
			c, err := a.dial()
			if err != nil {
				return err
			}
			q, err := resolveQueue(ctx, c, queue, session)
			if err != nil {
				return err
			}
			req.QueueID = q.ID
			t, err := c.QuickAdd(ctx, req)
			if err != nil {
				return explain(err, hints{invalid: "see `sparkq quick-add -h`; `sparkq scripts list` shows the scripts you may run"})
			}
			if a.jsonOut {
				return a.printJSON(t)
			}
			fmt.Fprintf(a.stdout, "Task %s (%s) enqueued to queue '%s': %s, %s, timeout %ds\n",
				t.ID, store.FriendlyID(q.Name, t.ID), q.Name, t.ToolName, t.TaskClass, t.Timeout)
			return nil
		},
	})
}
