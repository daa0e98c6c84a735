package worker

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sparkq/sparkq/store"
)

// Outcomes of a task as the worker reports it.
const (
	OutcomeClaimed   = "claimed"   // printed for someone else to work
	OutcomeSucceeded = "succeeded" // completed (by the worker or by whoever worked it)
	OutcomeFailed    = "failed"
	OutcomeReleased  = "released"  // put back to queued (--release-on-exit)
	OutcomeAbandoned = "abandoned" // finished or taken elsewhere while the worker held it
)

// Record is one line of `sparkq worker --json`: one per task. Printed tasks
// (outcome "claimed") come as soon as they are claimed; scripts run by the
// worker come once they ended.
type Record struct {
	Outcome           string      `json:"outcome"`
	Task              store.Task  `json:"task"`
	FriendlyID        string      `json:"friendly_id"`
	Prompt            *string     `json:"prompt"`
	QueueInstructions *string     `json:"queue_instructions"`
	Commands          *Commands   `json:"commands,omitempty"`
	Exec              *ExecReport `json:"exec,omitempty"`
	Error             string      `json:"error,omitempty"`
}

// Commands tell whoever works a printed task how to finish it.
type Commands struct {
	Complete string `json:"complete"`
	Fail     string `json:"fail"`
	Touch    string `json:"touch"`
}

// ExecReport describes a script run; it is also the result data stored on
// the task.
type ExecReport struct {
	Argv        []string `json:"argv"`
	ExitCode    int      `json:"exit_code"`
	Signal      string   `json:"signal,omitempty"`
	TimedOut    bool     `json:"timed_out"`
	DurationMS  int64    `json:"duration_ms"`
	StdoutBytes int64    `json:"stdout_bytes"`
	StderrBytes int64    `json:"stderr_bytes"`
}

func newExecReport(argv []string, o Outcome) *ExecReport {
	return &ExecReport{Argv: argv, ExitCode: o.ExitCode, Signal: o.Signal, TimedOut: o.TimedOut,
		DurationMS: o.Duration.Milliseconds(), StdoutBytes: o.StdoutBytes, StderrBytes: o.StderrBytes}
}

// payloadFields are the payload keys the worker shows.
type payloadFields struct {
	Prompt     *string         `json:"prompt"`
	PromptText *string         `json:"prompt_text"`
	ScriptPath *string         `json:"script_path"`
	Args       []any           `json:"args"`
	RoleLabel  *string         `json:"agent_role_label"`
	RoleKey    *string         `json:"agent_role_key"`
	Metadata   json.RawMessage `json:"metadata"`
}

func readPayload(t store.Task) payloadFields {
	var p payloadFields
	json.Unmarshal([]byte(t.Payload), &p)
	if p.Prompt == nil || strings.TrimSpace(*p.Prompt) == "" {
		p.Prompt = p.PromptText
	}
	if p.Prompt != nil && strings.TrimSpace(*p.Prompt) == "" {
		p.Prompt = nil
	}
	return p
}

// commands builds the finishing commands for a task.
func (w *Worker) commands(t store.Task) *Commands {
	cli := w.cfg.CLI
	return &Commands{
		Complete: fmt.Sprintf(`%s complete %s --summary "<summary>" [--data-file FILE, - for stdin]`, cli, t.ID),
		Fail:     fmt.Sprintf(`%s fail %s --error "<reason>"`, cli, t.ID),
		Touch:    fmt.Sprintf(`%s touch %s`, cli, t.ID),
	}
}

// emit writes one JSON line (--json) for a task.
func (w *Worker) emit(r Record) {
	r.FriendlyID = store.FriendlyID(r.Task.QueueName, r.Task.ID)
	r.Prompt = readPayload(r.Task).Prompt
	r.QueueInstructions = w.cfg.Queue.Instructions
	b, err := json.Marshal(r)
	if err != nil {
		w.logf("encode record of %s: %v", r.Task.ID, err)
		return
	}
	w.out.Write(append(b, '\n'))
}

// banner prints who works what, and the queue's instructions once.
func (w *Worker) banner() {
	q := w.cfg.Queue
	mode := map[Mode]string{UntilEmpty: "until the queue is empty", Once: "one task", Watch: "watching for new tasks"}[w.cfg.Mode]
	run := "printing tasks for you to work"
	if w.cfg.Exec {
		run = "running script tasks, printing the others"
	}
	w.logf("Worker %s on queue '%s' (%s): %s, %s", w.cfg.WorkerID, q.Name, q.ID, mode, run)
	if w.cfg.JSON || q.Instructions == nil || strings.TrimSpace(*q.Instructions) == "" {
		return
	}
	title := " QUEUE INSTRUCTIONS "
	bar := strings.Repeat("=", 80)
	pad := (80 - len(title)) / 2
	fmt.Fprintf(w.out, "%s%s%s\n%s\n%s\n", bar[:pad], title, bar[:80-pad-len(title)], strings.TrimSpace(*q.Instructions), bar)
}

// Ways to show a task.
const (
	showWork    = iota // printed for someone to work: prompt and commands
	showRun            // a script the worker runs
	showRefused        // a script the worker will not run
)

// printTask shows a claimed task in text mode. plan is the script the
// worker is about to run (showRun).
func (w *Worker) printTask(t store.Task, how int, plan *Script) {
	if w.cfg.JSON {
		return
	}
	p := readPayload(t)
	var b strings.Builder
	fmt.Fprintf(&b, "\n--- Task %s (%s) ---\n", store.FriendlyID(t.QueueName, t.ID), t.ID)
	fmt.Fprintf(&b, "Tool:     %s (task class %s, timeout %s, attempt %d)\n", t.ToolName, t.TaskClass, seconds(t.Timeout), t.Attempts)
	if p.RoleLabel != nil {
		fmt.Fprintf(&b, "Role:     %s\n", *p.RoleLabel)
	} else if p.RoleKey != nil {
		fmt.Fprintf(&b, "Role:     %s\n", *p.RoleKey)
	}
	switch {
	case how == showRun:
		fmt.Fprintf(&b, "Running:  %s\n", shellJoin(plan.Argv))
	case p.ScriptPath != nil:
		args := make([]string, 0, len(p.Args)+1)
		args = append(args, *p.ScriptPath)
		for _, a := range p.Args {
			args = append(args, fmt.Sprint(a))
		}
		fmt.Fprintf(&b, "Script:   %s\n", shellJoin(args))
	}
	if how == showWork {
		if p.Prompt != nil {
			fmt.Fprintf(&b, "Prompt:\n%s\n", indent(*p.Prompt))
		} else if p.ScriptPath == nil {
			fmt.Fprintf(&b, "Payload:\n%s\n", indent(prettyJSON(t.Payload)))
		}
		if hint := w.toolHint(t, p); hint != "" {
			fmt.Fprintf(&b, "Hint:     %s\n", hint)
		}
		c := w.commands(t)
		fmt.Fprintf(&b, "Complete: %s\nFail:     %s\n", c.Complete, c.Fail)
	}
	io.WriteString(w.out, b.String())
}

// toolHint suggests how to run an LLM task, as the original runner did;
// the codex command line is shell-quoted (GAP 68).
func (w *Worker) toolHint(t store.Task, p payloadFields) string {
	prompt := ""
	if p.Prompt != nil {
		prompt = *p.Prompt
	}
	switch t.ToolName {
	case "llm-haiku":
		return "run it with /haiku and the prompt above"
	case "llm-sonnet":
		return "answer it in this session"
	case "llm-codex":
		cmd := []string{"codex", "exec", "--full-auto"}
		if w.cfg.Dir != "" {
			cmd = append(cmd, "-C", w.cfg.Dir)
		}
		if s := w.cfg.Queue.CodexSessionID; s != nil && *s != "" {
			cmd = append(cmd, "--resume", *s)
		}
		return shellJoin(append(cmd, prompt))
	}
	return ""
}

// seconds formats a timeout in seconds as a duration.
func seconds(n int) string { return (time.Duration(n) * time.Second).String() }

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n")
}

func prettyJSON(raw string) string {
	var v any
	if json.Unmarshal([]byte(raw), &v) != nil {
		return raw
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return raw
	}
	return string(b)
}

// shellJoin quotes words for a POSIX shell where needed.
func shellJoin(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = shellQuote(w)
	}
	return strings.Join(out, " ")
}

func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// lastLines returns the end of s: at most n lines and max bytes.
func lastLines(s string, n, max int) string {
	s = strings.TrimRight(s, "\n")
	if len(s) > max {
		s = s[len(s)-max:]
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// size formats a byte count.
func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
