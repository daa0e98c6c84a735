// Package scripts indexes the scripts under the configured script_dirs and
// parses their comment headers (CONFIG.md §6). It uses only the standard
// library, so the CLI can reuse it without linking the server.
package scripts

import (
	"bufio"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Param is one declared input or output of a script.
type Param struct {
	Name     string `json:"name"`
	Required bool   `json:"required"`
	Optional bool   `json:"optional"`
}

// Header is what a script's leading comment block declares. Absent values
// are nil.
type Header struct {
	Name        *string
	Description *string
	Inputs      []Param
	Outputs     []Param
	Tags        []string
	Timeout     *int
	TaskClass   *string
	// Warnings are tolerated problems (a timeout <= 0, an unknown class).
	Warnings []string
}

// headerKeys are the keys a header may declare.
var headerKeys = map[string]bool{
	"name": true, "description": true, "inputs": true, "outputs": true,
	"tags": true, "timeout": true, "task_class": true,
}

// builtinClasses are the task classes every SparkQ knows.
var builtinClasses = map[string]bool{"FAST_SCRIPT": true, "MEDIUM_SCRIPT": true, "LLM_LITE": true, "LLM_HEAVY": true}

// keyLike is the shape of an undeclared "key:" line, such as "Usage:".
var keyLike = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

const (
	maxHeaderBytes = 64 << 10
	maxHeaderLines = 200
)

// ParseHeader reads the comment block at the top of a script: lines starting
// with "#" or "//" up to the first other non-blank line.
//
// "key: value" starts a key only when key is one of the declared keys, so a
// continuation line that happens to contain a colon ("Writes a report: see
// docs") stays part of the value it continues (GAP 54). An undeclared
// single-word key written like the declared ones ("# Usage: run.sh x", not
// indented, colon followed by a space) ends the current key, as before;
// indented lines always continue it.
func ParseHeader(r io.Reader) Header {
	sc := bufio.NewScanner(io.LimitReader(r, maxHeaderBytes))
	sc.Buffer(make([]byte, 0, 4096), maxHeaderBytes)
	parts := map[string][]string{}
	cur := ""
	for n := 0; n < maxHeaderLines && sc.Scan(); n++ {
		line := strings.TrimSpace(strings.ToValidUTF8(sc.Text(), ""))
		if line == "" {
			continue
		}
		var body string
		switch {
		case strings.HasPrefix(line, "#"):
			body = line[1:]
		case strings.HasPrefix(line, "//"):
			body = line[2:]
		default:
			n = maxHeaderLines // first code line: the header is over
			continue
		}
		indented := len(body)-len(strings.TrimLeft(body, " \t")) > 1
		text := strings.TrimSpace(strings.TrimLeft(body, "! "))
		if text == "" {
			continue
		}
		if k, v, ok := strings.Cut(text, ":"); ok {
			key := strings.ToLower(strings.TrimSpace(k))
			if headerKeys[key] {
				cur = key
				parts[key] = []string{strings.TrimSpace(v)}
				continue
			}
			if !indented && keyLike.MatchString(key) && (v == "" || v[0] == ' ' || v[0] == '\t') {
				cur = ""
				continue
			}
		}
		if cur != "" {
			parts[cur] = append(parts[cur], text)
		}
	}

	var h Header
	value := func(key string) (string, bool) {
		p, ok := parts[key]
		if !ok {
			return "", false
		}
		var kept []string
		for _, s := range p {
			if s != "" {
				kept = append(kept, s)
			}
		}
		return strings.Join(kept, " "), true
	}
	str := func(key string) *string {
		if v, ok := value(key); ok && v != "" {
			return &v
		}
		return nil
	}
	h.Name, h.Description, h.TaskClass = str("name"), str("description"), str("task_class")
	h.Tags = []string{}
	if v, ok := value("tags"); ok {
		h.Tags = splitList(v)
	}
	if v, ok := value("timeout"); ok {
		if t, err := strconv.Atoi(v); err == nil {
			h.Timeout = &t
			if t <= 0 {
				h.Warnings = append(h.Warnings, "timeout must be greater than 0, got "+v)
			}
		} else {
			h.Warnings = append(h.Warnings, "timeout is not an integer: "+v)
		}
	}
	if h.TaskClass != nil && !builtinClasses[*h.TaskClass] {
		h.Warnings = append(h.Warnings, "task_class "+*h.TaskClass+" is not a built-in class")
	}
	if v, ok := value("inputs"); ok {
		h.Inputs = params(v)
	}
	if v, ok := value("outputs"); ok {
		h.Outputs = params(v)
	}
	return h
}

func splitList(v string) []string {
	out := []string{}
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// params reads "a (optional), b (required), c"; an empty list is nil.
func params(v string) []Param {
	var out []Param
	for _, item := range splitList(v) {
		var p Param
		lower := strings.ToLower(item)
		switch {
		case strings.HasSuffix(lower, "(optional)"):
			p.Optional, item = true, item[:len(item)-len("(optional)")]
		case strings.HasSuffix(lower, "(required)"):
			p.Required, item = true, item[:len(item)-len("(required)")]
		}
		if p.Name = strings.TrimSpace(item); p.Name != "" {
			out = append(out, p)
		}
	}
	return out
}
