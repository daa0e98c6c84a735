package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/sparkq/sparkq/store"
)

// printJSON writes v as indented JSON.
func (a *app) printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON output: %w", err)
	}
	_, err = a.stdout.Write(append(b, '\n'))
	return err
}

// column is a table column: a header and the widest a cell may be (0: no
// limit). Longer cells end in "…".
type column struct {
	header string
	max    int
}

// printTable writes aligned rows under headers.
func printTable(w io.Writer, cols []column, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, c := range cols {
		if i > 0 {
			io.WriteString(tw, "\t")
		}
		io.WriteString(tw, c.header)
	}
	io.WriteString(tw, "\n")
	for _, row := range rows {
		for i, cell := range row {
			if i > 0 {
				io.WriteString(tw, "\t")
			}
			max := 0
			if i < len(cols) {
				max = cols[i].max
			}
			io.WriteString(tw, truncate(cell, max))
		}
		io.WriteString(tw, "\n")
	}
	return tw.Flush()
}

// truncate flattens s to one line and shortens it to max runes ("…" last).
func truncate(s string, max int) string {
	s = oneLine(s)
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

// oneLine replaces line breaks and tabs (which would break the table).
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\n\r\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// when formats a timestamp for people: local time to the second.
func when(t store.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func whenPtr(t *store.Time) string {
	if t == nil {
		return "-"
	}
	return when(*t)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// payloadPrompt returns the payload's "prompt" string, if it has one.
func payloadPrompt(payload string) (string, bool) {
	var p map[string]json.RawMessage
	if json.Unmarshal([]byte(payload), &p) != nil {
		return "", false
	}
	var prompt string
	if json.Unmarshal(p["prompt"], &prompt) != nil || prompt == "" {
		return "", false
	}
	return prompt, true
}

// prettyJSON indents JSON text; other text is returned as is.
func prettyJSON(s string) string {
	var b bytes.Buffer
	if json.Indent(&b, []byte(s), "", "  ") != nil {
		return s
	}
	return b.String()
}

// indent prefixes every non-empty line of s.
func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

// printTask writes every field of a task, the payload pretty-printed.
func printTask(w io.Writer, t store.Task) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("Task", t.ID)
	row("Friendly ID", store.FriendlyID(t.QueueName, t.ID))
	row("Queue", fmt.Sprintf("%s (%s)", t.QueueName, t.QueueID))
	row("Status", statusText(t))
	row("Tool", t.ToolName)
	row("Task class", t.TaskClass)
	row("Timeout", fmt.Sprintf("%ds", t.Timeout))
	row("Attempts", strconv.Itoa(t.Attempts))
	row("Worker", orDash(deref(t.WorkerID)))
	row("Agent role", orDash(deref(t.AgentRoleKey)))
	row("Created", when(t.CreatedAt))
	row("Updated", when(t.UpdatedAt))
	row("Claimed", whenPtr(t.ClaimedAt))
	row("Started", whenPtr(t.StartedAt))
	row("Finished", whenPtr(t.FinishedAt))
	row("Stale warning", whenPtr(t.StaleWarnedAt))
	if t.ResultSummary != nil {
		row("Summary", oneLine(*t.ResultSummary))
	}
	if t.Error != nil {
		row("Error", oneLine(*t.Error))
	}
	tw.Flush()
	block := func(title string, body *string) {
		if body == nil {
			return
		}
		fmt.Fprintf(&b, "%s:\n%s\n", title, indent(prettyJSON(*body), "  "))
	}
	payload := t.Payload
	block("Payload", &payload)
	block("Result", t.Result)
	block("Stdout", t.Stdout)
	block("Stderr", t.Stderr)
	_, err := io.WriteString(w, b.String())
	return err
}

// statusText is the status with the detail that explains it.
func statusText(t store.Task) string {
	switch {
	case t.AutoFailed && t.Status == store.TaskFailed:
		return t.Status + " (auto-failed: ran past twice its timeout)"
	case t.Status == store.TaskRunning && t.WorkerID != nil:
		return t.Status + " (claimed by " + *t.WorkerID + ")"
	}
	return t.Status
}

// ago is a coarse "how long since" for status output.
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return time.Since(t).Round(time.Second).String() + " ago"
}
