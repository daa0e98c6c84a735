// Command sparkq is SparkQ's command-line client. It is deliberately light:
// it links no database driver and no server code, and reaches the daemon
// (sparkqd) only through control.Client over the daemon's Unix socket.
// The lifecycle commands (setup, run, start, restart) execute the sparkqd
// binary installed beside it.
package main

import (
	"context"
	"os"
	"runtime"
)

// Set with -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	// A CLI run is one request at a time: with a single P the runtime does
	// not start extra OS threads for the HTTP client's goroutines, which
	// is measurable on every invocation.
	runtime.GOMAXPROCS(1)
	// No signal handling here: a data command killed by Ctrl-C has nothing
	// to clean up, and installing handlers costs every run. Commands that
	// wait (start, stop, restart) install their own.
	os.Exit(newApp(os.Stdin, os.Stdout, os.Stderr, os.Getenv).run(context.Background(), os.Args[1:]))
}
