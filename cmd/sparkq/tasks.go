package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/sparkq/sparkq/control"
	"github.com/sparkq/sparkq/store"
)

// Task statuses accepted by `tasks --status` ("claimed" is the historical
// name of running).
var taskStatuses = []string{store.TaskQueued, store.TaskRunning, "claimed", store.TaskSucceeded, store.TaskFailed}

// queueFlags binds the queue selector shared by enqueue, peek and claim.
// -s is the original CLI's alias for --queue on these commands.
func queueFlags(fs *flag.FlagSet, queue, session *string) {
	for _, n := range []string{"queue", "stream", "q", "s"} {
		fs.StringVar(queue, n, "", "the `QUEUE` (name or id)")
	}
	fs.StringVar(session, "session", "", "the `SESSION` (name or id) holding QUEUE, when its name is ambiguous")
}

func (a *app) taskCommands() []*ffcli.Command {
	return []*ffcli.Command{
		a.enqueueCommand(),
		a.peekCommand(),
		a.claimCommand(),
		a.completeCommand(),
		a.failCommand(),
		a.tasksCommand(),
		a.taskCommand(),
		a.requeueCommand(),
		a.rerunCommand(),
		a.purgeCommand(),
	}
}

func (a *app) enqueueCommand() *ffcli.Command {
	var (
		queue, session, tool, class string
		timeout                     optionalInt
		prompt, promptFile          string
		payload, payloadFile        string
		metadata                    string
	)
	return a.leaf("", cmdSpec{
		name: "enqueue", maxArgs: 0, json: true,
		short: "Add a task at the back of a queue",
		long: `The payload is either given whole (--payload or --payload-file, a JSON
object), or built from --prompt/--prompt-file and --metadata together with
the queue's instructions.`,
		flags: func(fs *flag.FlagSet) {
			queueFlags(fs, &queue, &session)
			fs.StringVar(&tool, "tool", "", "the `TOOL` that runs the task (required; see sparkq.yml tools:)")
			fs.StringVar(&tool, "t", "", "the `TOOL` that runs the task (required; see sparkq.yml tools:)")
			fs.StringVar(&class, "task-class", "", "timeout `CLASS` (default: the tool's class)")
			fs.Var(&timeout, "timeout", "timeout in `SECONDS` (default: the class's timeout)")
			fs.StringVar(&prompt, "prompt", "", "the prompt `TEXT`")
			fs.StringVar(&promptFile, "prompt-file", "", "read the prompt from `PATH`")
			fs.StringVar(&promptFile, "p", "", "read the prompt from `PATH`")
			fs.StringVar(&payload, "payload", "", "the whole payload, a `JSON` object")
			fs.StringVar(&payloadFile, "payload-file", "", "read the payload (a JSON object) from `PATH`, - for stdin")
			fs.StringVar(&metadata, "metadata", "", "metadata for the built payload, a `JSON` object")
			fs.StringVar(&metadata, "m", "", "metadata for the built payload, a `JSON` object")
		},
		exec: func(ctx context.Context, _ []string) error {
			switch {
			case strings.TrimSpace(queue) == "":
				return a.usagef("--queue is required")
			case strings.TrimSpace(tool) == "":
				return a.usagef("--tool is required")
			case timeout.set && timeout.n <= 0:
				// 0 would silently mean "the class's timeout"; the API refuses it too.
				return a.usagef("--timeout must be a number of seconds greater than 0, got %d (leave it out for the class's timeout)", timeout.n)
			case payload != "" && payloadFile != "":
				return a.usagef("give --payload or --payload-file, not both")
			case prompt != "" && promptFile != "":
				return a.usagef("give --prompt or --prompt-file, not both")
			case (payload != "" || payloadFile != "") && (prompt != "" || promptFile != "" || metadata != ""):
				return a.usagef("--payload/--payload-file give the whole payload: they cannot be combined with --prompt, --prompt-file or --metadata")
			}
			req := control.EnqueueRequest{ToolName: strings.TrimSpace(tool), TaskClass: strings.TrimSpace(class), Timeout: timeout.n}
			if payload != "" || payloadFile != "" {
				raw, src, err := a.flagOrFile(payload, "--payload", payloadFile, "--payload-file")
				if err != nil {
					return err
				}
				obj, err := a.jsonObject(src, raw)
				if err != nil {
					return err
				}
				req.Payload = obj
			}
			var meta json.RawMessage
			if metadata != "" {
				var err error
				if meta, err = a.jsonObject("--metadata", []byte(metadata)); err != nil {
					return err
				}
			}
			var promptPath string
			if promptFile != "" {
				b, err := os.ReadFile(promptFile)
				if err != nil {
					return fileError("prompt file", promptFile, err)
				}
				prompt = string(bytes.TrimPrefix(b, utf8BOM))
				if promptPath, err = filepath.Abs(promptFile); err != nil {
					promptPath = promptFile
				}
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
			if q.DefaultAgentRoleKey != nil {
				req.AgentRoleKey = *q.DefaultAgentRoleKey
			}
			if req.Payload == nil {
				if req.Payload, err = buildPayload(q, prompt, promptPath, meta); err != nil {
					return err
				}
			}
			t, err := c.Enqueue(ctx, req)
			if err != nil {
				return explain(err, hints{
					conflict: "create a new queue with `sparkq queue create NAME --session SESSION`",
					notFound: "list queues with `sparkq queue list`",
				})
			}
			if a.jsonOut {
				return a.printJSON(t)
			}
			fmt.Fprintf(a.stdout, "Task %s (%s) enqueued to queue '%s'\n", t.ID, store.FriendlyID(t.QueueName, t.ID), t.QueueName)
			return nil
		},
	})
}

// cliPayload is the payload enqueue builds, as the original CLI did: the
// prompt composed with the queue's instructions, and the parts kept.
type cliPayload struct {
	Prompt            string          `json:"prompt"`
	RawPrompt         string          `json:"raw_prompt"`
	PromptPath        string          `json:"prompt_path,omitempty"`
	Metadata          json.RawMessage `json:"metadata"`
	QueueInstructions *string         `json:"queue_instructions"`
	Mode              string          `json:"mode"`
	AgentRoleKey      *string         `json:"agent_role_key,omitempty"`
}

func buildPayload(q store.Queue, prompt, promptPath string, meta json.RawMessage) (json.RawMessage, error) {
	var parts []string
	for _, p := range []string{deref(q.Instructions), prompt} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	if meta == nil {
		meta = json.RawMessage("{}")
	}
	b, err := json.Marshal(cliPayload{
		Prompt:            strings.Join(parts, "\n\n"),
		RawPrompt:         prompt,
		PromptPath:        promptPath,
		Metadata:          meta,
		QueueInstructions: q.Instructions,
		Mode:              "chat",
		AgentRoleKey:      q.DefaultAgentRoleKey,
	})
	if err != nil {
		return nil, fmt.Errorf("build payload: %w", err)
	}
	return b, nil
}

// flagOrFile returns the value of a text flag or the content of its file
// counterpart ("-" reads stdin), with the name of its source.
func (a *app) flagOrFile(text, textFlag, path, pathFlag string) ([]byte, string, error) {
	if path == "" {
		return []byte(text), textFlag, nil
	}
	if path == "-" {
		b, err := io.ReadAll(a.stdin)
		if err != nil {
			return nil, "", fmt.Errorf("read %s from stdin: %w", pathFlag, err)
		}
		return bytes.TrimPrefix(b, utf8BOM), pathFlag + " (stdin)", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fileError(strings.ReplaceAll(strings.TrimPrefix(pathFlag, "--"), "-", " "), path, err)
	}
	return bytes.TrimPrefix(b, utf8BOM), pathFlag + " " + path, nil
}

// utf8BOM starts files saved by some Windows editors; it is not part of
// the text (and makes JSON invalid), so file input drops it.
var utf8BOM = []byte("\xef\xbb\xbf")

// jsonObject checks that raw is one JSON object (exit 2 otherwise).
func (a *app) jsonObject(what string, raw []byte) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if !json.Valid(raw) {
		var v any
		err := json.Unmarshal(raw, &v)
		msg := "empty input"
		if err != nil && len(raw) > 0 {
			msg = err.Error()
		}
		return nil, &cliError{code: exitUsage, cmd: a.cur,
			msg:  fmt.Sprintf("%s is not valid JSON: %s", what, msg),
			hint: `give a JSON object, e.g. '{"prompt": "…"}'`}
	}
	if raw[0] != '{' {
		return nil, &cliError{code: exitUsage, cmd: a.cur,
			msg:  fmt.Sprintf("%s must be a JSON object, got %s", what, jsonKind(raw[0])),
			hint: `give a JSON object, e.g. '{"prompt": "…"}'`}
	}
	return json.RawMessage(raw), nil
}

func jsonKind(first byte) string {
	switch first {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// fileError explains a file that cannot be read.
func fileError(what, path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return failf("check the path (relative paths start in the current directory)", "%s not found: %s", what, path)
	}
	return failf("", "read %s %s: %v", what, path, err)
}

func (a *app) peekCommand() *ffcli.Command {
	var queue, session string
	return a.leaf("", cmdSpec{
		name: "peek", maxArgs: 0, json: true,
		short: "Show the task a claim would take next, without claiming it",
		flags: func(fs *flag.FlagSet) { queueFlags(fs, &queue, &session) },
		exec: func(ctx context.Context, _ []string) error {
			if strings.TrimSpace(queue) == "" {
				return a.usagef("--queue is required")
			}
			c, err := a.dial()
			if err != nil {
				return err
			}
			q, err := resolveQueue(ctx, c, queue, session)
			if err != nil {
				return err
			}
			t, err := c.Peek(ctx, q.ID)
			if errors.Is(err, store.ErrEmpty) {
				if a.jsonOut {
					return a.printJSON(nil)
				}
				fmt.Fprintf(a.stdout, "No queued tasks in queue '%s'\n", q.Name)
				return nil
			}
			if err != nil {
				return explain(err, queueHints)
			}
			if a.jsonOut {
				return a.printJSON(t)
			}
			fmt.Fprintf(a.stdout, "Task %s (%s): %s (task_class: %s)\n", t.ID, store.FriendlyID(t.QueueName, t.ID), t.ToolName, t.TaskClass)
			fmt.Fprintf(a.stdout, "Queued: %s\n", when(t.CreatedAt))
			if p, ok := payloadPrompt(t.Payload); ok {
				fmt.Fprintf(a.stdout, "Prompt: %s\n", truncate(p, 100))
			}
			return nil
		},
	})
}

func (a *app) claimCommand() *ffcli.Command {
	var queue, session, worker string
	return a.leaf("", cmdSpec{
		name: "claim", args: "[TASK]", maxArgs: 1, json: true,
		short: "Claim the oldest queued task of a queue (or one task by id)",
		long: `Claiming is atomic: concurrent claims never get the same task. With no
queued task the command prints so (--json: null) and exits 0.`,
		flags: func(fs *flag.FlagSet) {
			queueFlags(fs, &queue, &session)
			fs.StringVar(&worker, "worker", "", "worker `ID` recorded on the task (default cli-<host>-<pid>)")
		},
		exec: func(ctx context.Context, args []string) error {
			if worker == "" {
				host, _ := os.Hostname()
				worker = fmt.Sprintf("cli-%s-%d", host, os.Getpid())
			}
			c, err := a.dial()
			if err != nil {
				return err
			}
			if len(args) == 1 {
				t, err := c.Claim(ctx, args[0], worker)
				if err != nil {
					return explain(err, hints{notFound: taskHints.notFound,
						conflict: "only queued tasks can be claimed; see `sparkq task " + args[0] + "`"})
				}
				return a.printClaimed(t, worker)
			}
			if strings.TrimSpace(queue) == "" {
				return a.listQueuesForClaim(ctx, c)
			}
			q, err := resolveQueue(ctx, c, queue, session)
			if err != nil {
				return err
			}
			t, err := c.ClaimNext(ctx, q.ID, worker)
			if errors.Is(err, store.ErrEmpty) {
				if a.jsonOut {
					return a.printJSON(nil)
				}
				fmt.Fprintf(a.stdout, "No queued tasks in queue '%s'\n", q.Name)
				return nil
			}
			if err != nil {
				return explain(err, hints{conflict: "unarchive it with `sparkq queue unarchive " + q.Name + "`"})
			}
			return a.printClaimed(t, worker)
		},
	})
}

// listQueuesForClaim answers `claim` without --queue: a usage error that
// lists the queues one could name.
func (a *app) listQueuesForClaim(ctx context.Context, c *control.Client) error {
	qs, err := c.ListQueues(ctx, store.QueueFilter{State: store.QueueActive}, store.Page{Limit: listAll})
	if err != nil {
		return explain(err, hints{})
	}
	if len(qs) == 0 {
		return &cliError{code: exitUsage, cmd: a.cur, msg: "--queue is required, and there are no active queues",
			hint: "create one with `sparkq queue create NAME --session SESSION`"}
	}
	fmt.Fprintln(a.stderr, "Available queues (specify with --queue):")
	for _, q := range qs {
		fmt.Fprintf(a.stderr, "- %s (%s)\n", q.Name, q.ID)
	}
	return exitWith(exitUsage)
}

func (a *app) printClaimed(t store.Task, worker string) error {
	if a.jsonOut {
		return a.printJSON(t)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Claimed task %s (%s) from queue '%s'\n", t.ID, store.FriendlyID(t.QueueName, t.ID), t.QueueName)
	fmt.Fprintf(&b, "Tool:     %s (task_class %s, timeout %ds)\n", t.ToolName, t.TaskClass, t.Timeout)
	fmt.Fprintf(&b, "Worker:   %s (attempt %d)\n", orDash(deref(t.WorkerID)), t.Attempts)
	if p, ok := payloadPrompt(t.Payload); ok {
		fmt.Fprintf(&b, "Prompt:\n%s\n", indent(p, "  "))
	} else {
		fmt.Fprintf(&b, "Payload:\n%s\n", indent(prettyJSON(t.Payload), "  "))
	}
	fmt.Fprintf(&b, "Finish with: sparkq complete %s --summary \"<summary>\"  or  sparkq fail %s --error \"<reason>\"\n", t.ID, t.ID)
	_, err := io.WriteString(a.stdout, b.String())
	return err
}

func (a *app) completeCommand() *ffcli.Command {
	var summary, data, dataFile, stdout, stderr string
	return a.leaf("", cmdSpec{
		name: "complete", args: "TASK", minArgs: 1, maxArgs: 1, json: true,
		short: "Mark a running task succeeded",
		long: `--result is always the summary text, never a file name. Result data
comes from --data or --data-file; without either, the summary is the data.
If --result is a JSON object with a "summary" string, that is the summary and
the whole object is the data.`,
		flags: func(fs *flag.FlagSet) {
			for _, n := range []string{"result", "summary", "r"} {
				fs.StringVar(&summary, n, "", "result summary `TEXT` (required)")
			}
			fs.StringVar(&data, "data", "", "result data `TEXT` (any text, e.g. JSON)")
			for _, n := range []string{"data-file", "result-file", "f"} {
				fs.StringVar(&dataFile, n, "", "read result data from `PATH`, - for stdin")
			}
			fs.StringVar(&stdout, "stdout", "", "captured standard output `TEXT`")
			fs.StringVar(&stderr, "stderr", "", "captured standard error `TEXT`")
		},
		exec: func(ctx context.Context, args []string) error {
			if data != "" && dataFile != "" {
				return a.usagef("give --data or --data-file, not both")
			}
			var in store.Completion
			in.Summary = summary
			if data != "" || dataFile != "" {
				raw, _, err := a.flagOrFile(data, "--data", dataFile, "--data-file")
				if err != nil {
					return err
				}
				d := string(raw)
				in.Data = &d
				if strings.TrimSpace(in.Summary) == "" {
					in.Summary = summaryOf(d)
				}
			} else if s, ok := jsonSummary(summary); ok {
				d := summary
				in.Data, in.Summary = &d, s
			}
			if strings.TrimSpace(in.Summary) == "" {
				return a.usagef("--result is required (the result summary)")
			}
			in.Stdout, in.Stderr = optional(stdout), optional(stderr)
			c, err := a.dial()
			if err != nil {
				return err
			}
			t, err := c.Complete(ctx, args[0], in)
			if err != nil {
				return explain(err, hints{notFound: taskHints.notFound,
					conflict: "only running (claimed) tasks can be completed; see `sparkq task " + args[0] + "`"})
			}
			if a.jsonOut {
				return a.printJSON(t)
			}
			fmt.Fprintf(a.stdout, "Task %s (%s) marked as succeeded\n", t.ID, store.FriendlyID(t.QueueName, t.ID))
			return nil
		},
	})
}

// jsonSummary returns the "summary" string of a JSON object text.
func jsonSummary(text string) (string, bool) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, "{") {
		return "", false
	}
	var v struct {
		Summary *string `json:"summary"`
	}
	if json.Unmarshal([]byte(text), &v) != nil || v.Summary == nil || strings.TrimSpace(*v.Summary) == "" {
		return "", false
	}
	return *v.Summary, true
}

// summaryOf derives a summary from result data: its JSON "summary", else
// its first 200 characters.
func summaryOf(data string) string {
	if s, ok := jsonSummary(data); ok {
		return s
	}
	s := strings.TrimSpace(data)
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200])
	}
	return s
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (a *app) failCommand() *ffcli.Command {
	var msg, typ, data, dataFile, stdout, stderr string
	return a.leaf("", cmdSpec{
		name: "fail", args: "TASK", minArgs: 1, maxArgs: 1, json: true,
		short: "Mark a running task failed",
		long: `--error (or --summary) is the error message. Result data, such as a
report or a log, comes from --data or --data-file (- for stdin); without
either the task's result is left as it was.`,
		flags: func(fs *flag.FlagSet) {
			for _, n := range []string{"error", "summary", "e"} {
				fs.StringVar(&msg, n, "", "error message `TEXT` (required)")
			}
			fs.StringVar(&typ, "error-type", "", "error `TYPE`, prefixed to the message")
			fs.StringVar(&data, "data", "", "result data `TEXT` (any text, e.g. JSON)")
			fs.StringVar(&dataFile, "data-file", "", "read result data from `PATH`, - for stdin")
			fs.StringVar(&stdout, "stdout", "", "captured standard output `TEXT`")
			fs.StringVar(&stderr, "stderr", "", "captured standard error `TEXT`")
		},
		exec: func(ctx context.Context, args []string) error {
			if strings.TrimSpace(msg) == "" {
				return a.usagef("--error is required (the error message)")
			}
			if data != "" && dataFile != "" {
				return a.usagef("give --data or --data-file, not both")
			}
			f := store.Failure{Message: msg, Type: typ, Stdout: optional(stdout), Stderr: optional(stderr)}
			if data != "" || dataFile != "" {
				raw, _, err := a.flagOrFile(data, "--data", dataFile, "--data-file")
				if err != nil {
					return err
				}
				d := string(raw)
				f.Data = &d
			}
			c, err := a.dial()
			if err != nil {
				return err
			}
			t, err := c.Fail(ctx, args[0], f)
			if err != nil {
				return explain(err, hints{notFound: taskHints.notFound,
					conflict: "only running (claimed) tasks can fail; see `sparkq task " + args[0] + "`"})
			}
			if a.jsonOut {
				return a.printJSON(t)
			}
			fmt.Fprintf(a.stdout, "Task %s (%s) marked as failed\n", t.ID, store.FriendlyID(t.QueueName, t.ID))
			return nil
		},
	})
}

func (a *app) tasksCommand() *ffcli.Command {
	var (
		queue, session, status string
		limit, offset          int
	)
	return a.leaf("", cmdSpec{
		name: "tasks", maxArgs: 0, json: true,
		short: "List tasks, newest first",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&queue, "queue", "", "only tasks of this `QUEUE` (name or id)")
			fs.StringVar(&queue, "q", "", "only tasks of this `QUEUE` (name or id)")
			fs.StringVar(&session, "session", "", "only tasks of this `SESSION` (name or id); also narrows --queue")
			fs.StringVar(&status, "status", "", "only tasks in this `STATE`: "+strings.Join(taskStatuses, ", "))
			fs.StringVar(&status, "s", "", "only tasks in this `STATE`: "+strings.Join(taskStatuses, ", "))
			fs.IntVar(&limit, "limit", 50, "show at most `N` tasks (at most 1000)")
			fs.IntVar(&limit, "l", 50, "show at most `N` tasks (at most 1000)")
			fs.IntVar(&offset, "offset", 0, "skip the `N` newest tasks")
		},
		exec: func(ctx context.Context, _ []string) error {
			if err := a.oneOfFlag("status", status, taskStatuses...); err != nil {
				return err
			}
			if limit < 1 || limit > 1000 {
				return a.usagef("--limit must be between 1 and 1000, got %d", limit)
			}
			if offset < 0 {
				return a.usagef("--offset must be at least 0, got %d", offset)
			}
			c, err := a.dial()
			if err != nil {
				return err
			}
			f := store.TaskFilter{Status: status}
			if queue != "" {
				q, err := resolveQueue(ctx, c, queue, session)
				if err != nil {
					return err
				}
				f.QueueID = q.ID
			} else if session != "" {
				s, err := c.GetSession(ctx, session)
				if err != nil {
					return explain(err, sessionHints)
				}
				f.SessionID = s.ID
			}
			list, err := c.ListTasks(ctx, f, store.Page{Limit: limit, Offset: offset})
			if err != nil {
				return explain(err, hints{})
			}
			if a.jsonOut {
				return a.printJSON(nonNil(list.Tasks))
			}
			if len(list.Tasks) == 0 {
				if offset > 0 {
					fmt.Fprintf(a.stdout, "No tasks found at offset %d\n", offset)
				} else {
					fmt.Fprintln(a.stdout, "No tasks found")
				}
				return nil
			}
			rows := make([][]string, len(list.Tasks))
			for i, t := range list.Tasks {
				rows[i] = []string{t.ID, store.FriendlyID(t.QueueName, t.ID), t.QueueName, t.ToolName, t.Status,
					strconv.Itoa(t.Attempts), when(t.CreatedAt)}
			}
			if err := printTable(a.stdout, []column{{"ID", 0}, {"FRIENDLY", 24}, {"QUEUE", 20}, {"TOOL", 20},
				{"STATUS", 0}, {"ATTEMPTS", 0}, {"CREATED", 0}}, rows); err != nil {
				return err
			}
			if list.NextOffset != nil {
				fmt.Fprintf(a.stdout, "Showing %d–%d; more: --offset %d\n", offset+1, offset+len(list.Tasks), *list.NextOffset)
			}
			return nil
		},
	})
}

func (a *app) taskCommand() *ffcli.Command {
	return a.leaf("", cmdSpec{
		name: "task", args: "TASK", minArgs: 1, maxArgs: 1, json: true,
		short: "Show every field of one task",
		exec: func(ctx context.Context, args []string) error {
			c, err := a.dial()
			if err != nil {
				return err
			}
			t, err := c.GetTask(ctx, args[0])
			if err != nil {
				return explain(err, taskHints)
			}
			if a.jsonOut {
				return a.printJSON(t)
			}
			return printTask(a.stdout, t)
		},
	})
}

func (a *app) requeueCommand() *ffcli.Command {
	return a.leaf("", cmdSpec{
		name: "requeue", args: "TASK", minArgs: 1, maxArgs: 1, json: true,
		short: "Copy a finished task into a new queued task at the back of its queue",
		exec: func(ctx context.Context, args []string) error {
			c, err := a.dial()
			if err != nil {
				return err
			}
			t, err := c.Requeue(ctx, args[0])
			if err != nil {
				return explain(err, hints{notFound: taskHints.notFound,
					conflict: "only finished (succeeded or failed) tasks can be requeued; see `sparkq task " + args[0] + "`"})
			}
			if a.jsonOut {
				return a.printJSON(t)
			}
			fmt.Fprintf(a.stdout, "Task %s requeued as %s (%s)\n", args[0], t.ID, store.FriendlyID(t.QueueName, t.ID))
			return nil
		},
	})
}

func (a *app) rerunCommand() *ffcli.Command {
	return a.leaf("", cmdSpec{
		name: "rerun", args: "TASK", minArgs: 1, maxArgs: 1, json: true,
		short: "Put a finished task back to queued, in place",
		exec: func(ctx context.Context, args []string) error {
			c, err := a.dial()
			if err != nil {
				return err
			}
			t, err := c.Rerun(ctx, args[0])
			if err != nil {
				return explain(err, hints{notFound: taskHints.notFound,
					conflict: "only finished (succeeded or failed) tasks can be rerun; see `sparkq task " + args[0] + "`"})
			}
			if a.jsonOut {
				return a.printJSON(t)
			}
			fmt.Fprintf(a.stdout, "Task %s (%s) queued again in place\n", t.ID, store.FriendlyID(t.QueueName, t.ID))
			return nil
		},
	})
}

func (a *app) purgeCommand() *ffcli.Command {
	var (
		days   int
		dryRun bool
		flags  *flag.FlagSet
	)
	return a.leaf("", cmdSpec{
		name: "purge", maxArgs: 0, json: true,
		short: "Delete finished tasks older than some days",
		long: `Deletes succeeded and failed tasks that finished more than DAYS ago;
queued and running tasks are never purged. Without --older-than the
daemon's retention applies: the purge/config value stored in the database
(set through the API or dashboard), else purge.older_than_days in
sparkq.yml, else 3. --dry-run only counts what would be deleted.`,
		flags: func(fs *flag.FlagSet) {
			flags = fs
			const usage = "delete tasks finished more than `DAYS` days ago (default: the daemon's retention)"
			fs.IntVar(&days, "older-than", 0, usage)
			fs.IntVar(&days, "older-than-days", 0, usage)
			fs.BoolVar(&dryRun, "dry-run", false, "count what would be deleted, delete nothing")
		},
		exec: func(ctx context.Context, _ []string) error {
			set := ""
			flags.Visit(func(f *flag.Flag) {
				if f.Name == "older-than" || f.Name == "older-than-days" {
					set = f.Name
				}
			})
			if set != "" && days <= 0 {
				return a.usagef("--%s must be greater than 0, got %d", set, days)
			}
			c, err := a.dial()
			if err != nil {
				return err
			}
			res, err := c.Purge(ctx, days, dryRun)
			if err != nil {
				return explain(err, hints{})
			}
			if a.jsonOut {
				out := map[string]any{"older_than_days": res.OlderThanDays, "dry_run": res.DryRun}
				if res.DryRun {
					out["would_delete"] = res.WouldDelete
				} else {
					out["deleted"] = res.Deleted
				}
				return a.printJSON(out)
			}
			if res.DryRun {
				fmt.Fprintf(a.stdout, "Would delete %d finished tasks older than %d day(s) (dry run: nothing was deleted)\n", res.WouldDelete, res.OlderThanDays)
				return nil
			}
			fmt.Fprintf(a.stdout, "Deleted %d finished tasks older than %d day(s)\n", res.Deleted, res.OlderThanDays)
			return nil
		},
	})
}

// optionalInt is an integer flag that knows whether it was given, so an
// explicit 0 can be refused rather than read as "not given".
type optionalInt struct {
	n   int
	set bool
}

func (o *optionalInt) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.Itoa(o.n)
}

func (o *optionalInt) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return errors.New("must be a whole number")
	}
	o.n, o.set = n, true
	return nil
}
