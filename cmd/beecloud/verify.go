package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/paybutton/beecloud"
)

const verifyUsage = `Usage: beecloud verify -app-id ID -master-secret SECRET [-json] [file|-]

Verify checks a webhook body the way your server should, with
Config.ParseNotification: one JSON object with BeeCloud's fields and types,
and a signature equal to the lowercase hex MD5 of
app_id + transaction_id + transaction_type + channel_type + transaction_fee + master_secret.

The body is read from the file, or from stdin when the file is "-" or
missing. Pass the raw bytes your server received: a body parsed and
re-encoded by a framework no longer verifies.

On success verify prints the notification's fields and exits 0. Otherwise it
prints which check failed and exits 1; for a wrong signature it prints the
signature received, the first characters of the one expected (all of it
with -show-expected: the full expected signature of any body is a forgery,
so keep it out of shared logs and tickets), and the string that was hashed
with the Master Secret masked (unless -show-secret).

To get a webhook body to try it on, "beecloud send -v" prints the body it
sends.

With -json it prints the verdict on stdout as one JSON object, for
scripts: ok, source, and either notification (app_id, legacy, test and the
webhook's fields under BeeCloud's names) or problem (config, malformed,
signature, legacy_disabled, stale or invalid) and error. The exit code is
the same; usage errors still go to stderr as text.

With -legacy, bodies signed with the legacy scheme (field "sign" =
MD5(app_id + app_secret + timestamp)) are accepted too, within 5 minutes of
now; they need -app-secret.

The App ID and secrets may come from $BEECLOUD_APP_ID,
$BEECLOUD_MASTER_SECRET and $BEECLOUD_APP_SECRET instead of flags.

Example:

	beecloud verify -app-id ID -master-secret SECRET webhook.json
	beecloud send -url http://127.0.0.1:8080/beecloud/webhook -out-trade-no test0001 -amount 1 -v
	pbpaste | beecloud verify -
`

// maxBody bounds the body verify reads, as WebhookHandler does.
const maxBody = beecloud.DefaultMaxBodyBytes

func (c *cli) verify(args []string) int {
	const name = "verify"
	fs := c.newFlagSet(name, verifyUsage)
	var cr credentials
	cr.define(fs, false, true)
	fs.StringVar(&cr.appSecret, "app-secret", "", "BeeCloud App Secret, for -legacy (default $"+envAppSecret+")")
	legacy := fs.Bool("legacy", false, "also accept bodies signed with the legacy scheme (field \"sign\")")
	showSecret := fs.Bool("show-secret", false, "print the Master Secret in the hashed string instead of masking it")
	showExpected := fs.Bool("show-expected", false, "print the whole expected signature of a body that fails, not only its first characters")
	asJSON := fs.Bool("json", false, "print the verdict as JSON on stdout, for scripts")
	if code, done := c.parse(fs, args); done {
		return code
	}
	if fs.NArg() > 1 {
		return c.usageError(name, "want one file (or - for stdin), not %d arguments", fs.NArg())
	}
	cr.fill(c.getenv)
	if m := missingText(cr.missingFlags(false, true)); m != "" {
		return c.usageError(name, "%s", m)
	}
	if *legacy && cr.appSecret == "" {
		return c.usageError(name, "-legacy needs -app-secret (or $%s)", envAppSecret)
	}

	if fs.Arg(0) == "" && c.stdinTerminal {
		fmt.Fprintln(c.stderr, "beecloud verify: reading the webhook body from stdin; paste it, then Ctrl-D (or give a file; \"beecloud send -v\" prints a body)")
	}
	src, body, err := c.readBody(fs.Arg(0))
	if err != nil {
		return c.errorf(name, "%v", err)
	}
	cfg := beecloud.Config{AppID: cr.appID, MasterSecret: cr.masterSecret, AppSecret: cr.appSecret, LegacyWebhook: *legacy}
	n, err := cfg.ParseNotification(body)
	if *asJSON {
		v := jsonVerdict{OK: err == nil, Source: src}
		if err != nil {
			v.Problem, v.Error = verifyProblem(err), message("%v", err)
		} else {
			v.Notification = notificationJSON(n)
		}
		if perr := printJSON(c.stdout, v); perr != nil {
			return c.errorf(name, "%v", perr)
		}
		if err != nil {
			return exitFailure
		}
		return exitOK
	}
	if err != nil {
		c.explainFailure(cfg, body, err, reveal{secret: *showSecret, expected: *showExpected})
		return exitFailure
	}
	fmt.Fprintf(c.stdout, "OK: %s is a valid webhook for app %s\n", src, n.AppID)
	printNotification(c.stdout, n)
	return exitOK
}

// readBody reads the webhook body from the named file, or from stdin for
// "" and "-". It returns a name for the source.
func (c *cli) readBody(file string) (string, []byte, error) {
	var r io.Reader
	src := "stdin"
	if file == "" || file == "-" {
		r = c.stdin
	} else {
		f, err := os.Open(file) //nolint:gosec // G304: the file the user named
		if err != nil {
			return "", nil, err
		}
		defer f.Close()
		r, src = f, file
	}
	body, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return "", nil, fmt.Errorf("reading %s: %w", src, err)
	}
	if len(body) > maxBody {
		return "", nil, fmt.Errorf("%s is larger than %d bytes: not a webhook body", src, maxBody)
	}
	return src, body, nil
}

// reveal says what verify may print in full.
type reveal struct {
	secret   bool // the secret in the hashed string
	expected bool // the expected signature
}

// expectedPrefix is how many characters of the expected signature verify
// prints without -show-expected: enough to compare with another program's
// output, far too few to forge anything.
const expectedPrefix = 6

// explainFailure prints which check refused the body and, for a wrong
// signature, what was expected.
func (c *cli) explainFailure(cfg beecloud.Config, body []byte, err error, show reveal) {
	w := c.stderr
	check := "the body"
	switch {
	case errors.Is(err, beecloud.ErrInvalidConfig):
		check = "the credentials"
	case errors.Is(err, beecloud.ErrMalformedNotification):
		check = "the body's fields (JSON shape and types)"
	case errors.Is(err, beecloud.ErrBadSignature):
		check = "the signature"
	case errors.Is(err, beecloud.ErrLegacyDisabled):
		check = "the signature scheme"
	case errors.Is(err, beecloud.ErrStaleNotification):
		check = "the legacy timestamp"
	}
	fmt.Fprintf(w, "FAILED: %s: %s\n", check, message("%v", err))
	switch {
	case errors.Is(err, beecloud.ErrBadSignature):
		explainSignature(w, cfg, body, show)
	case errors.Is(err, beecloud.ErrLegacyDisabled):
		fmt.Fprintln(w, "The body carries the legacy \"sign\" field; run with -legacy -app-secret SECRET to accept it.")
	}
}

// looseBody is a webhook body decoded without checks, to show what a bad
// signature should have been.
type looseBody struct {
	Signature       *string                  `json:"signature"`
	Sign            *string                  `json:"sign"`
	Timestamp       json.Number              `json:"timestamp"`
	ChannelType     beecloud.ChannelType     `json:"channel_type"`
	TransactionType beecloud.TransactionType `json:"transaction_type"`
	TransactionID   string                   `json:"transaction_id"`
	TransactionFee  json.Number              `json:"transaction_fee"`
}

func explainSignature(w io.Writer, cfg beecloud.Config, body []byte, show reveal) {
	var b looseBody
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&b); err != nil {
		return
	}
	mask := func(secret string) string {
		if show.secret {
			return secret
		}
		return maskSecret(secret)
	}
	expected := func(sig string) string {
		if show.expected || len(sig) <= expectedPrefix {
			return sig
		}
		return sig[:expectedPrefix] + "… (the rest with -show-expected)"
	}
	if b.Signature == nil && b.Sign != nil {
		ts, err := b.Timestamp.Int64()
		if err != nil {
			return
		}
		fmt.Fprintf(w, "  got:      %s (legacy \"sign\")\n", safe(*b.Sign))
		fmt.Fprintf(w, "  expected: %s\n", expected(beecloud.LegacyWebhookSign(cfg.AppID, cfg.AppSecret, ts)))
		fmt.Fprintln(w, "  hashed:   app_id + app_secret + timestamp")
		fmt.Fprintf(w, "            = %s%s%d\n", cfg.AppID, mask(cfg.AppSecret), ts)
		return
	}
	if b.Signature == nil {
		return
	}
	fee, err := strconv.ParseInt(b.TransactionFee.String(), 10, 64)
	if err != nil {
		return
	}
	fmt.Fprintf(w, "  got:      %s\n", safe(*b.Signature))
	fmt.Fprintf(w, "  expected: %s\n", expected(beecloud.WebhookSignature(cfg.AppID, b.TransactionID, b.TransactionType, b.ChannelType, fee, cfg.MasterSecret)))
	fmt.Fprintln(w, "  hashed:   app_id + transaction_id + transaction_type + channel_type + transaction_fee + master_secret")
	fmt.Fprintf(w, "            = %s%s\n", safe(cfg.AppID+b.TransactionID+string(b.TransactionType)+string(b.ChannelType)+strconv.FormatInt(fee, 10)), mask(cfg.MasterSecret))
	if cfg.AppSecret != "" && beecloud.WebhookSignature(cfg.AppID, b.TransactionID, b.TransactionType, b.ChannelType, fee, cfg.AppSecret) == *b.Signature {
		fmt.Fprintln(w, "  The body was signed with the App Secret: webhooks are signed with the Master Secret.")
	} else {
		fmt.Fprintln(w, "  Check that -master-secret is the app's Master Secret (not the App Secret) and -app-id the app's ID,")
		fmt.Fprintln(w, "  and that the body is the raw bytes received.")
	}
}

// printNotification prints n's fields, one per line.
func printNotification(w io.Writer, n *beecloud.Notification) {
	line := func(k, v string) { fmt.Fprintf(w, "%-23s %s\n", k+":", safe(v)) }
	scheme := "signature (current scheme)"
	if n.Legacy {
		scheme = "sign (legacy scheme)"
	}
	line("signed with", scheme)
	line("transaction_type", n.TransactionType.String())
	line("transaction_id", n.TransactionID)
	line("transaction_fee", fmt.Sprintf("%d (分, ¥%s)", n.TransactionFee, yuan(n.TransactionFee)))
	line("trade_success", strconv.FormatBool(n.TradeSuccess))
	line("channel_type", n.ChannelType.String())
	line("sub_channel_type", n.SubChannelType)
	line("channel_transaction_id", n.ChannelTransactionID)
	line("timestamp", fmt.Sprintf("%d (%s)", n.Timestamp.UnixMilli(), n.Timestamp.UTC().Format(time.RFC3339Nano)))
	if n.Optional != nil {
		opt, _ := json.Marshal(n.Optional)
		line("optional", string(opt))
	}
	if n.MessageDetail != nil {
		var compact bytes.Buffer
		if json.Compact(&compact, n.MessageDetail) == nil {
			line("message_detail", compact.String())
		}
	}
	if !n.TradeSuccess {
		fmt.Fprintln(w, strings.Repeat(" ", 24)+"(trade_success is false: do not grant goods)")
	}
}
