package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/sparkq/sparkq/store"
)

func (a *app) sessionCommands() []*ffcli.Command {
	var (
		desc          string
		status        string
		limit, offset int
	)
	g := a.group("", "session", "Create, list and end sessions",
		[]*ffcli.Command{
			a.leaf("session", cmdSpec{
				name: "create", args: "NAME", minArgs: 1, maxArgs: 1, json: true,
				short: "Start a session (a group of queues)",
				flags: func(fs *flag.FlagSet) {
					for _, n := range []string{"description", "d", "instructions", "i"} {
						fs.StringVar(&desc, n, "", "`TEXT` saying what the session is for")
					}
				},
				exec: func(ctx context.Context, args []string) error {
					name := strings.TrimSpace(args[0])
					if name == "" {
						return a.usagef("session name is required (got a blank NAME)")
					}
					c, err := a.dial()
					if err != nil {
						return err
					}
					in := store.NewSession{Name: name}
					if strings.TrimSpace(desc) != "" {
						in.Description = &desc
					}
					s, err := c.CreateSession(ctx, in)
					if err != nil {
						return explain(err, hints{conflict: "pick another name, or end the other session with `sparkq session end " + name + "`"})
					}
					if a.jsonOut {
						return a.printJSON(s)
					}
					fmt.Fprintf(a.stdout, "Created session: %s (%s)\n", s.Name, s.ID)
					return nil
				},
			}),
			a.leaf("session", cmdSpec{
				name: "list", maxArgs: 0, json: true,
				short: "List sessions, newest first",
				flags: func(fs *flag.FlagSet) {
					fs.StringVar(&status, "status", "", "only sessions in this `STATE`: active or ended")
					fs.StringVar(&status, "s", "", "only sessions in this `STATE`: active or ended")
					fs.IntVar(&limit, "limit", 100, "show at most `N` sessions")
					fs.IntVar(&offset, "offset", 0, "skip the first `N` sessions")
				},
				exec: func(ctx context.Context, _ []string) error {
					if err := a.oneOfFlag("status", status, store.SessionActive, store.SessionEnded); err != nil {
						return err
					}
					if limit < 1 || offset < 0 {
						return a.usagef("--limit must be at least 1 and --offset at least 0")
					}
					c, err := a.dial()
					if err != nil {
						return err
					}
					ss, err := c.ListSessions(ctx, store.SessionFilter{Status: status}, store.Page{Limit: limit, Offset: offset})
					if err != nil {
						return explain(err, hints{})
					}
					if a.jsonOut {
						return a.printJSON(nonNil(ss))
					}
					if len(ss) == 0 {
						fmt.Fprintln(a.stdout, "No sessions found.")
						return nil
					}
					counts, err := a.queueCounts(ctx, c)
					if err != nil {
						return explain(err, hints{})
					}
					rows := make([][]string, len(ss))
					for i, s := range ss {
						rows[i] = []string{s.Name, s.Status, when(s.StartedAt), strconv.Itoa(counts[s.ID]), s.ID, deref(s.Description)}
					}
					return printTable(a.stdout, []column{{"NAME", 30}, {"STATUS", 0}, {"STARTED", 0}, {"QUEUES", 0}, {"ID", 0}, {"DESCRIPTION", 40}}, rows)
				},
			}),
			a.leaf("session", cmdSpec{
				name: "end", args: "NAME_OR_ID", minArgs: 1, maxArgs: 1, json: true,
				short: "End a session and its active queues",
				exec: func(ctx context.Context, args []string) error {
					c, err := a.dial()
					if err != nil {
						return err
					}
					s, err := c.GetSession(ctx, args[0])
					if err != nil {
						return explain(err, sessionHints)
					}
					s, err = c.EndSession(ctx, s.ID)
					if err != nil {
						return explain(err, hints{conflict: "list active sessions with `sparkq session list --status active`"})
					}
					if a.jsonOut {
						return a.printJSON(s)
					}
					fmt.Fprintf(a.stdout, "Ended session: %s (%s); its active queues were ended too\n", s.Name, s.ID)
					return nil
				},
			}),
		},
	)
	return []*ffcli.Command{g}
}

// oneOfFlag checks an enumerated flag value (empty means unset).
func (a *app) oneOfFlag(name, value string, allowed ...string) error {
	if value == "" {
		return nil
	}
	for _, v := range allowed {
		if value == v {
			return nil
		}
	}
	return &cliError{code: exitUsage, cmd: a.cur,
		msg:  fmt.Sprintf("invalid --%s %q", name, value),
		hint: "valid values: " + strings.Join(allowed, ", ")}
}

// nonNil makes an empty list print as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
