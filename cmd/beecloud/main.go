// Command beecloud is a toolbox for merchants integrating BeeCloud's pay
// button (秒支付Button): it signs orders, checks and sends webhooks, and
// runs a local BeeCloud sandbox for developing offline.
//
// Usage:
//
//	beecloud sign    -app-id ID -app-secret S -title T -amount FEN -out-trade-no NO [-v]
//	beecloud verify  -app-id ID -master-secret S [file|-]
//	beecloud send    -url URL -app-id ID -master-secret S -out-trade-no NO -amount FEN
//	beecloud sandbox [-addr 127.0.0.1:8090] [-webhook-url URL]
//
// Secrets may come from the environment (BEECLOUD_APP_ID,
// BEECLOUD_APP_SECRET, BEECLOUD_MASTER_SECRET) so that they stay out of the
// shell's history. Run "beecloud COMMAND -h" for each command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and the answer is "no"
	exitUsage   = 2 // bad flags or arguments
)

// run is the whole program; main only wires it to the process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &cli{
		ctx:    ctx,
		stdin:  stdin,
		stdout: stdout,
		stderr: stderr,
		getenv: os.Getenv,
	}
	return c.run(args)
}

// cli holds what the commands take from the process, so that tests can
// replace each piece.
type cli struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string

	// client sends webhooks; nil means a client with a 10 s timeout.
	client *http.Client
	// sleep waits between resends; nil means a timer honouring ctx.
	sleep func(ctx context.Context, d time.Duration) error
	// listening, if set, is told the sandbox's URL once it listens.
	listening func(url string)
}

type command struct {
	name    string
	summary string
	run     func(c *cli, args []string) int
}

var commands = []command{
	{"sign", "print the sign of an order (BC.click data.sign) and explain it", (*cli).sign},
	{"verify", "check a webhook body's signature and fields", (*cli).verify},
	{"send", "POST a signed test webhook to your endpoint, like BeeCloud does", (*cli).send},
	{"sandbox", "run a local fake BeeCloud for developing offline", (*cli).sandbox},
}

func (c *cli) run(args []string) int {
	if len(args) == 0 {
		c.usage(c.stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help", "help":
		if len(rest) == 0 {
			c.usage(c.stdout)
			return exitOK
		}
		name, rest = rest[0], []string{"-h"} // help COMMAND: COMMAND -h
	}
	for _, cmd := range commands {
		if cmd.name == name {
			return cmd.run(c, rest)
		}
	}
	fmt.Fprintf(c.stderr, "beecloud: unknown command %q\n\n", name)
	c.usage(c.stderr)
	return exitUsage
}

func (c *cli) usage(w io.Writer) {
	fmt.Fprint(w, `beecloud is a toolbox for BeeCloud's pay button (秒支付Button).

Usage:

	beecloud COMMAND [flags]

Commands:

`)
	for _, cmd := range commands {
		fmt.Fprintf(w, "	%-8s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprint(w, `
Secrets may come from the environment instead of flags, which keeps them out
of your shell's history: BEECLOUD_APP_ID, BEECLOUD_APP_SECRET,
BEECLOUD_MASTER_SECRET. Amounts are integers in 分 (fen): 1 = ¥0.01, 100 = ¥1.00.

Run "beecloud COMMAND -h" for a command's flags.
`)
}

// newFlagSet returns a flag set for one command whose -h prints the
// command's usage text followed by its flags.
func (c *cli) newFlagSet(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("beecloud "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, usage)
		fmt.Fprintln(w, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args into fs. It returns done=true with the exit code when
// the command must stop: after -h (exit 0) or on a bad flag (exit 2).
func (c *cli) parse(fs *flag.FlagSet, args []string) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK, true
	case err != nil:
		// flag has printed the error and the usage already.
		return exitUsage, true
	}
	return exitOK, false
}

// usageError prints a usage error for the command and returns exitUsage.
func (c *cli) usageError(cmd, format string, args ...any) int {
	fmt.Fprintf(c.stderr, "beecloud %s: %s\n", cmd, fmt.Sprintf(format, args...))
	fmt.Fprintf(c.stderr, "Run \"beecloud %s -h\" for usage.\n", cmd)
	return exitUsage
}

// errorf prints an error for the command and returns exitFailure.
func (c *cli) errorf(cmd, format string, args ...any) int {
	fmt.Fprintf(c.stderr, "beecloud %s: %s\n", cmd, fmt.Sprintf(format, args...))
	return exitFailure
}

// warnf prints a warning for the command; the command goes on.
func (c *cli) warnf(cmd, format string, args ...any) {
	fmt.Fprintf(c.stderr, "beecloud %s: warning: %s\n", cmd, fmt.Sprintf(format, args...))
}
