package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/peterbourgon/ff/v3/ffcli"
)

const rootHelp = `SparkQ is a local-first task queue. The daemon (sparkqd) owns the
database; this CLI talks to it over its control socket. Start with
` + "`sparkq setup`" + `, then ` + "`sparkq start`" + `.

Flags may follow arguments (sparkq task ID --json). Every command accepts
--config and --socket; commands that print data accept --json.

EXIT STATUS
  0  success
  1  error (the daemon refused the request, it is not running, a file is missing…)
  2  usage error: unknown command or flag, missing or malformed argument or
     flag value; nothing was done
  3  ` + "`sparkq status`" + ` only: the daemon is not running`

// sections orders the root help; commands not listed go last.
var sections = []struct {
	title string
	names []string
}{
	{"DAEMON", []string{"setup", "run", "start", "stop", "restart", "status", "reload", "service", "version"}},
	{"SESSIONS AND QUEUES", []string{"session", "queue"}},
	{"TASKS", []string{"enqueue", "peek", "claim", "complete", "fail", "tasks", "task", "requeue", "rerun", "purge"}},
	{"WORKERS", []string{"worker", "touch", "release"}},
	{"LIBRARY AND CONFIGURATION", []string{"quick-add", "prompts", "scripts", "config-export"}},
}

// helpCommand prints the help of any command: `sparkq help queue create`.
func (a *app) helpCommand() *ffcli.Command {
	return a.leaf("", cmdSpec{
		name: "help", args: "[COMMAND...]", maxArgs: -1,
		short: "Show the help of a command",
		exec: func(_ context.Context, args []string) error {
			c := a.root
			for _, name := range args {
				i := slices.IndexFunc(c.Subcommands, func(s *ffcli.Command) bool { return strings.EqualFold(s.Name, name) })
				if i < 0 {
					return a.usagef("unknown command %q", strings.Join(args, " "))
				}
				c = c.Subcommands[i]
			}
			fmt.Fprint(a.stdout, a.usageFunc(c))
			return nil
		},
	})
}

// globalFlags are bound on every command and listed separately.
var globalFlags = map[string]bool{"config": true, "socket": true, "json": true}

// usageFunc renders a command's help. The flag package calls it (through
// ffcli) on -h and on flag errors, so it also records which command the
// user was running.
func (a *app) usageFunc(c *ffcli.Command) string {
	a.helpFor = c
	var b strings.Builder
	if c.ShortHelp != "" {
		fmt.Fprintf(&b, "%s\n\n", c.ShortHelp)
	}
	fmt.Fprintf(&b, "USAGE\n  %s\n\n", c.ShortUsage)
	if c.LongHelp != "" {
		fmt.Fprintf(&b, "%s\n\n", strings.TrimRight(c.LongHelp, "\n"))
	}
	if c == a.root {
		a.writeRootCommands(&b)
	} else if len(c.Subcommands) > 0 {
		b.WriteString("COMMANDS\n")
		tw := tabwriter.NewWriter(&b, 0, 2, 2, ' ', 0)
		for _, s := range c.Subcommands {
			fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimPrefix(s.ShortUsage, "sparkq "), s.ShortHelp)
		}
		tw.Flush()
		b.WriteString("\n")
	}
	own, global := flagLines(c.FlagSet)
	if len(own) > 0 {
		b.WriteString("FLAGS\n")
		writeFlagLines(&b, own)
	}
	if len(global) > 0 {
		b.WriteString("GLOBAL FLAGS\n")
		writeFlagLines(&b, global)
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

func (a *app) writeRootCommands(b *strings.Builder) {
	byName := map[string]*ffcli.Command{}
	for _, s := range a.root.Subcommands {
		byName[s.Name] = s
	}
	listed := map[string]bool{}
	write := func(title string, cmds []*ffcli.Command) {
		if len(cmds) == 0 {
			return
		}
		fmt.Fprintf(b, "%s\n", title)
		tw := tabwriter.NewWriter(b, 0, 2, 2, ' ', 0)
		for _, c := range cmds {
			listed[c.Name] = true
			if len(c.Subcommands) == 0 {
				fmt.Fprintf(tw, "  %s\t%s\n", a.path[c], c.ShortHelp)
				continue
			}
			for _, s := range c.Subcommands {
				fmt.Fprintf(tw, "  %s\t%s\n", a.path[s], s.ShortHelp)
			}
		}
		tw.Flush()
		b.WriteString("\n")
	}
	for _, s := range sections {
		var cmds []*ffcli.Command
		for _, n := range s.names {
			if c := byName[n]; c != nil {
				cmds = append(cmds, c)
			}
		}
		write(s.title, cmds)
	}
	var rest []*ffcli.Command
	for _, c := range a.root.Subcommands {
		if !listed[c.Name] {
			rest = append(rest, c)
		}
	}
	write("OTHER", rest)
	b.WriteString("Run `sparkq <command> -h` for a command's flags.\n\n")
}

type flagLine struct{ key, names, help string }

// flagLines lists a flag set's flags, aliases (flags sharing one Value)
// on one line: "-q, --queue, --stream QUEUE".
func flagLines(fs *flag.FlagSet) (own, global []flagLine) {
	type group struct {
		flags []*flag.Flag
	}
	var groups []*group
	index := map[flag.Value]*group{}
	fs.VisitAll(func(f *flag.Flag) {
		g := index[f.Value]
		if g == nil {
			g = &group{}
			index[f.Value] = g
			groups = append(groups, g)
		}
		g.flags = append(g.flags, f)
	})
	for _, g := range groups {
		sort.SliceStable(g.flags, func(i, j int) bool {
			// Short names first, then long names, shortest first.
			li, lj := len(g.flags[i].Name), len(g.flags[j].Name)
			if (li == 1) != (lj == 1) {
				return li == 1
			}
			return li < lj
		})
		var names []string
		for _, f := range g.flags {
			dash := "--"
			if len(f.Name) == 1 {
				dash = "-"
			}
			names = append(names, dash+f.Name)
		}
		f := g.flags[0]
		argName, usage := flag.UnquoteUsage(f)
		line := strings.Join(names, ", ")
		if argName != "" {
			line += " " + argName
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fl := flagLine{key: primary(g.flags), names: line, help: usage}
		if globalFlags[f.Name] {
			global = append(global, fl)
		} else {
			own = append(own, fl)
		}
	}
	sort.Slice(own, func(i, j int) bool {
		return own[i].key < own[j].key
	})
	return own, global
}

func writeFlagLines(b *strings.Builder, lines []flagLine) {
	tw := tabwriter.NewWriter(b, 0, 2, 2, ' ', 0)
	for _, l := range lines {
		fmt.Fprintf(tw, "  %s\t%s\n", l.names, l.help)
	}
	tw.Flush()
	b.WriteString("\n")
}

// primary is the name a flag line sorts by: its first long name.
func primary(fs []*flag.Flag) string {
	for _, f := range fs {
		if len(f.Name) > 1 {
			return f.Name
		}
	}
	return fs[0].Name
}
