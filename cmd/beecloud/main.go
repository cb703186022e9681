// Command beecloud is a toolbox for merchants integrating BeeCloud's pay
// button (秒支付Button): it signs orders, checks and sends webhooks, and
// runs a local BeeCloud sandbox for developing offline.
//
// Usage:
//
//	beecloud sign    -app-id ID -app-secret S -title T -amount FEN -out-trade-no NO [-v]
//	beecloud verify  -app-id ID -master-secret S [-json] [file|-]
//	beecloud send    -url URL -app-id ID -master-secret S -out-trade-no NO -amount FEN [-v | -dry-run [-json]]
//	beecloud sandbox [-addr 127.0.0.1:8090] [-webhook-url URL]
//	beecloud bills   -out-trade-no NO [-json] [-api-url URL]
//	beecloud refund  -out-trade-no NO -amount FEN [-yes] [-api-url URL]
//	beecloud refunds [-out-trade-no NO] [-json] [-api-url URL]
//	beecloud refund-outcome -refund-no NO [-api-url URL]
//	beecloud pay     -channel WX_NATIVE -amount FEN -title T [-test] [-api-url URL]
//	beecloud version
//
// Secrets may come from the environment (BEECLOUD_APP_ID,
// BEECLOUD_APP_SECRET, BEECLOUD_MASTER_SECRET) so that they stay out of the
// shell's history. With -json, bills, refunds, verify and send -dry-run
// print JSON for scripts instead of text. Errors go to stderr as one line
// behind the command's name ("beecloud bills: …"), every missing flag at
// once. Run "beecloud COMMAND -h" for each command's flags.
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
	"regexp"
	"strings"
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
	exitUnknown = 3 // a refund's outcome is unknown: check it again, never refund again
)

// run is the whole program; main only wires it to the process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &cli{
		ctx:           ctx,
		stdin:         stdin,
		stdinTerminal: isTerminal(stdin),
		stdout:        stdout,
		stderr:        stderr,
		getenv:        os.Getenv,
	}
	return c.run(args)
}

// isTerminal reports whether r is a terminal (a character device), where
// nobody may be about to type a webhook body.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// cli holds what the commands take from the process, so that tests can
// replace each piece.
type cli struct {
	ctx   context.Context
	stdin io.Reader
	// stdinTerminal says stdin is a terminal: verify says it waits for a
	// body there, and refund asks for confirmation there.
	stdinTerminal bool
	stdout        io.Writer
	stderr        io.Writer
	getenv        func(string) string

	// client sends webhooks; nil means a client with a 10 s timeout.
	client *http.Client
	// sleep waits between resends; nil means a timer honouring ctx.
	sleep func(ctx context.Context, d time.Duration) error
	// listening, if set, is told the sandbox's URL once it listens.
	listening func(url string)

	usages map[*flag.FlagSet]string // each command's usage text
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
	{"bills", "list an order's bills from BeeCloud's REST API: paid or not", (*cli).bills},
	{"refund", "refund a paid order, in full or in part", (*cli).refund},
	{"refunds", "list refunds and their state", (*cli).refunds},
	{"refund-outcome", "check a refund whose outcome was unknown", (*cli).refundOutcome},
	{"pay", "make a payment from the server (POST /2/rest/bill) and print how to pay it", (*cli).pay},
	{"version", "print the version of this command", (*cli).version},
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
	hint := ""
	if cmd := closest(name, commandNames()); cmd != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", cmd)
	}
	fmt.Fprintf(c.stderr, "beecloud: unknown command %q%s\n", name, hint)
	fmt.Fprintln(c.stderr, `Run "beecloud -h" for the commands.`)
	return exitUsage
}

func commandNames() []string {
	names := make([]string, len(commands))
	for i, cmd := range commands {
		names[i] = cmd.name
	}
	return names
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
BEECLOUD_MASTER_SECRET, BEECLOUD_TEST_SECRET. Amounts are integers in 分 (fen): 1 = ¥0.01, 100 = ¥1.00.

Run "beecloud COMMAND -h" for a command's flags.
`)
}

// newFlagSet returns a flag set for one command whose usage is the
// command's text followed by its flags. Parse errors are printed by
// c.parse, in one line.
func (c *cli) newFlagSet(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // flag calls it on errors too: parse prints instead
	if c.usages == nil {
		c.usages = make(map[*flag.FlagSet]string)
	}
	c.usages[fs] = usage
	return fs
}

// printUsage prints the command's usage text followed by its flags.
func (c *cli) printUsage(fs *flag.FlagSet) {
	fmt.Fprint(c.stderr, c.usages[fs])
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintln(c.stderr, "\nFlags:")
		fs.SetOutput(c.stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}

// parse parses args into fs. It returns done=true with the exit code when
// the command must stop: after -h, which prints the usage (exit 0), or on
// a bad flag, which prints one line and a hint (exit 2).
func (c *cli) parse(fs *flag.FlagSet, args []string) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		c.printUsage(fs)
		return exitOK, true
	case err != nil:
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
			var names []string
			fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
			msg = "unknown flag -" + name
			if c := closest(name, names); c != "" {
				msg += " (did you mean -" + c + "?)"
			}
		}
		return c.usageError(fs.Name(), "%s", msg), true
	}
	return exitOK, false
}

// parseFlagsOnly is parse for a command that takes flags and no
// arguments: an argument left over after the flags is a usage error.
func (c *cli) parseFlagsOnly(fs *flag.FlagSet, args []string) (code int, done bool) {
	if code, done := c.parse(fs, args); done {
		return code, true
	}
	if fs.NArg() > 0 {
		return c.usageError(fs.Name(), "unexpected argument %q", fs.Arg(0)), true
	}
	return exitOK, false
}

// commandFlags are the flags of a command that takes no arguments.
type commandFlags interface {
	// define adds the flags to fs.
	define(fs *flag.FlagSet)
	// check fills in what was not given as flags from getenv, checks the
	// flags and returns the problem, in words, or "".
	check(getenv func(string) string) string
}

// parseCommand parses args, flags only, into f for the command name, whose
// usage text is usage, and checks them. It returns done=true with the exit
// code when the command must stop: after -h, or on a usage error, which it
// prints.
func (c *cli) parseCommand(name, usage string, f commandFlags, args []string) (code int, done bool) {
	fs := c.newFlagSet(name, usage)
	f.define(fs)
	if code, done := c.parseFlagsOnly(fs, args); done {
		return code, true
	}
	if problem := f.check(c.getenv); problem != "" {
		return c.usageError(name, "%s", problem), true
	}
	return exitOK, false
}

// closest returns the candidate closest to name when it is close enough
// to be a typo of it, and "" otherwise.
func closest(name string, candidates []string) string {
	best, bestDist := "", len(name)/2+1
	for _, c := range candidates {
		if d := editDistance(name, c); d < bestDist || (d <= bestDist && best == "" && strings.HasPrefix(c, name)) {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// usageError prints a usage error for the command and returns exitUsage.
func (c *cli) usageError(cmd, format string, args ...any) int {
	fmt.Fprintf(c.stderr, "beecloud %s: %s\n", cmd, message(format, args...))
	fmt.Fprintf(c.stderr, "Run \"beecloud %s -h\" for usage.\n", cmd)
	return exitUsage
}

// errorf prints an error for the command and returns exitFailure.
func (c *cli) errorf(cmd, format string, args ...any) int {
	fmt.Fprintf(c.stderr, "beecloud %s: %s\n", cmd, message(format, args...))
	return exitFailure
}

// warnf prints a warning for the command; the command goes on.
func (c *cli) warnf(cmd, format string, args ...any) {
	fmt.Fprintf(c.stderr, "beecloud %s: warning: %s\n", cmd, message(format, args...))
}

// libraryPrefix is the package prefix of the library's errors, at the
// start of a message or of a part wrapped into it.
var libraryPrefix = regexp.MustCompile(`(^|: |\n|\()(beecloud|beecloudtest): `)

// message formats a message for the command's one prefix, "beecloud
// CMD:": the library's own prefixes ("beecloud: ", "beecloudtest: "),
// which the wrapped errors stack, are dropped.
func message(format string, args ...any) string {
	msg := fmt.Sprintf(format, args...)
	for {
		trimmed := libraryPrefix.ReplaceAllString(msg, "$1")
		if trimmed == msg {
			return msg
		}
		msg = trimmed
	}
}
