package main

import (
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sparkq/sparkq/store"
)

// BenchmarkCLITaskRoundTrip execs the real `sparkq task <id>` against a
// running daemon: process start, config lookup, one socket round trip,
// output. It reports the median and 99th percentile per run.
func BenchmarkCLITaskRoundTrip(b *testing.B) {
	f := startDaemon(b)
	f.ok("session", "create", "bench")
	f.ok("queue", "create", "q", "--session", "bench")
	var task store.Task
	f.json(&task, "enqueue", "--queue", "q", "--tool", "run-bash", "--prompt", "benchmark me")
	bin := filepath.Join(binDir, "sparkq")
	environ := env(f.dir)

	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		cmd := exec.Command(bin, "task", task.ID, "--config", f.cfg)
		cmd.Dir, cmd.Env = f.dir, environ
		start := time.Now()
		out, err := cmd.Output()
		durations = append(durations, time.Since(start))
		if err != nil || len(out) == 0 {
			b.Fatalf("sparkq task %s: %v\n%s", task.ID, err, out)
		}
	}
	b.StopTimer()
	slices.Sort(durations)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(durations[len(durations)/2]), "median-ms")
	b.ReportMetric(ms(durations[(len(durations)*99+99)/100-1]), "p99-ms")
}
