package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/sparkq/sparkq/control"
	"github.com/sparkq/sparkq/store"
)

// listAll bounds the lists fetched only to count or name things.
const listAll = 10000

func (a *app) queueCommands() []*ffcli.Command {
	var (
		session      string
		instructions string
		state        string
		yes          bool
	)
	sessionFlag := func(fs *flag.FlagSet, help string) {
		fs.StringVar(&session, "session", "", help)
		fs.StringVar(&session, "s", "", help)
	}
	lifecycle := func(name, short, done string, change func(*control.Client, context.Context, string) (store.Queue, error)) *ffcli.Command {
		return a.leaf("queue", cmdSpec{
			name: name, args: "QUEUE", minArgs: 1, maxArgs: 1, json: true, short: short,
			flags: func(fs *flag.FlagSet) {
				sessionFlag(fs, "the `SESSION` (name or id) holding QUEUE, when its name is ambiguous")
			},
			exec: func(ctx context.Context, args []string) error {
				c, err := a.dial()
				if err != nil {
					return err
				}
				q, err := c.GetQueue(ctx, args[0], session)
				if err != nil {
					return explain(err, queueHints)
				}
				q, err = change(c, ctx, q.ID)
				if err != nil {
					return explain(err, hints{conflict: "see the queue's state with `sparkq queue list`"})
				}
				if a.jsonOut {
					return a.printJSON(q)
				}
				fmt.Fprintf(a.stdout, "Queue %s (%s) %s\n", q.Name, q.ID, done)
				return nil
			},
		})
	}
	g := a.group("", "queue", "Create, list, end, archive and delete queues", []*ffcli.Command{
		a.leaf("queue", cmdSpec{
			name: "create", args: "NAME", minArgs: 1, maxArgs: 1, json: true,
			short: "Add a queue to a session",
			flags: func(fs *flag.FlagSet) {
				sessionFlag(fs, "the `SESSION` (name or id) to add the queue to (required)")
				fs.StringVar(&instructions, "instructions", "", "instructions `TEXT` shown to workers of this queue")
				fs.StringVar(&instructions, "i", "", "instructions `TEXT` shown to workers of this queue")
			},
			exec: func(ctx context.Context, args []string) error {
				name := strings.TrimSpace(args[0])
				if name == "" {
					return a.usagef("queue name is required (got a blank NAME)")
				}
				if strings.TrimSpace(session) == "" {
					return a.usagef("--session is required")
				}
				c, err := a.dial()
				if err != nil {
					return err
				}
				s, err := c.GetSession(ctx, session)
				if err != nil {
					return explain(err, sessionHints)
				}
				in := store.NewQueue{SessionID: s.ID, Name: name}
				if strings.TrimSpace(instructions) != "" {
					in.Instructions = &instructions
				}
				q, err := c.CreateQueue(ctx, in)
				if err != nil {
					return explain(err, hints{conflict: "list the session's queues with `sparkq queue list --session " + s.Name + "`, or start a new session with `sparkq session create NAME`"})
				}
				if a.jsonOut {
					return a.printJSON(q)
				}
				fmt.Fprintf(a.stdout, "Created queue: %s (%s) in session %s\n", q.Name, q.ID, s.Name)
				if q.Instructions != nil {
					fmt.Fprintf(a.stdout, "Instructions: %s\n", truncate(*q.Instructions, 60))
				}
				return nil
			},
		}),
		a.leaf("queue", cmdSpec{
			name: "list", maxArgs: 0, json: true,
			short: "List queues with their task counts, newest first",
			flags: func(fs *flag.FlagSet) {
				sessionFlag(fs, "only queues of this `SESSION` (name or id)")
				fs.StringVar(&state, "status", "", "only queues in this `STATE`: active, ended or archived")
			},
			exec: func(ctx context.Context, _ []string) error {
				if err := a.oneOfFlag("status", state, store.QueueActive, store.QueueEnded, store.QueueArchived); err != nil {
					return err
				}
				c, err := a.dial()
				if err != nil {
					return err
				}
				f := store.QueueFilter{State: state}
				if session != "" {
					s, err := c.GetSession(ctx, session)
					if err != nil {
						return explain(err, sessionHints)
					}
					f.SessionID = s.ID
				}
				qs, err := c.ListQueues(ctx, f, store.Page{Limit: listAll})
				if err != nil {
					return explain(err, hints{})
				}
				if a.jsonOut {
					return a.printJSON(nonNil(qs))
				}
				if len(qs) == 0 {
					fmt.Fprintln(a.stdout, "No queues found.")
					return nil
				}
				names, err := a.sessionNames(ctx, c)
				if err != nil {
					return explain(err, hints{})
				}
				rows := make([][]string, len(qs))
				for i, q := range qs {
					st := q.Stats
					rows[i] = []string{q.Name, names[q.SessionID], q.Status(),
						strconv.Itoa(st.Succeeded) + "/" + strconv.Itoa(st.Total),
						strconv.Itoa(st.Queued), strconv.Itoa(st.Running), strconv.Itoa(st.Failed), q.ID}
				}
				return printTable(a.stdout, []column{{"NAME", 30}, {"SESSION", 20}, {"STATUS", 0}, {"DONE", 0},
					{"QUEUED", 0}, {"RUNNING", 0}, {"FAILED", 0}, {"ID", 0}}, rows)
			},
		}),
		lifecycle("end", "End a queue: it accepts no new tasks", "ended", (*control.Client).EndQueue),
		lifecycle("archive", "Archive a queue: hidden, and its tasks cannot be claimed", "archived", (*control.Client).ArchiveQueue),
		lifecycle("unarchive", "Restore an archived queue to its previous state", "unarchived", (*control.Client).UnarchiveQueue),
		a.leaf("queue", cmdSpec{
			name: "delete", args: "QUEUE", minArgs: 1, maxArgs: 1,
			short: "Delete a queue and all its tasks (needs --yes)",
			flags: func(fs *flag.FlagSet) {
				sessionFlag(fs, "the `SESSION` (name or id) holding QUEUE, when its name is ambiguous")
				fs.BoolVar(&yes, "yes", false, "really delete the queue and its tasks")
			},
			exec: func(ctx context.Context, args []string) error {
				if !yes {
					return &cliError{code: exitUsage, cmd: a.cur,
						msg:  fmt.Sprintf("deleting queue %s removes all its tasks: confirm with --yes", args[0]),
						hint: fmt.Sprintf("sparkq queue delete %s --yes", args[0])}
				}
				c, err := a.dial()
				if err != nil {
					return err
				}
				q, err := c.GetQueue(ctx, args[0], session)
				if err != nil {
					return explain(err, queueHints)
				}
				if err := c.DeleteQueue(ctx, q.ID); err != nil {
					return explain(err, queueHints)
				}
				fmt.Fprintf(a.stdout, "Deleted queue %s (%s) and its %d task(s)\n", q.Name, q.ID, q.Stats.Total)
				return nil
			},
		}),
	})
	return []*ffcli.Command{g}
}

// queueCounts counts queues per session id.
func (a *app) queueCounts(ctx context.Context, c *control.Client) (map[string]int, error) {
	qs, err := c.ListQueues(ctx, store.QueueFilter{}, store.Page{Limit: listAll})
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, q := range qs {
		counts[q.SessionID]++
	}
	return counts, nil
}

// sessionNames maps session ids to names.
func (a *app) sessionNames(ctx context.Context, c *control.Client) (map[string]string, error) {
	ss, err := c.ListSessions(ctx, store.SessionFilter{}, store.Page{Limit: listAll})
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(ss))
	for _, s := range ss {
		names[s.ID] = s.Name
	}
	return names, nil
}

// resolveQueue finds a queue by id or name (narrowed by session).
func resolveQueue(ctx context.Context, c *control.Client, queue, session string) (store.Queue, error) {
	q, err := c.GetQueue(ctx, queue, session)
	if err != nil {
		return q, explain(err, queueHints)
	}
	return q, nil
}
