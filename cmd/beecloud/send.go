package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/paybutton/beecloud/internal/webhookack"
)

const sendUsage = `Usage: beecloud send -url URL -app-id ID -master-secret SECRET -out-trade-no NO -amount FEN
	[-channel ALI] [-sub-channel ALI_WEB] [-type PAY] [-optional key=value]...
	[-retries N] [-retry-base 2s] [-v | -dry-run [-json]]

Send POSTs a correctly signed test webhook to URL, as BeeCloud does when a
buyer has paid order NO: Content-Type application/json, signature
MD5(app_id + transaction_id + transaction_type + channel_type +
transaction_fee + master_secret). It prints the answer's status and body and
exits 0 only if the answer acknowledges the webhook as BeeCloud requires: a
2xx status and the body "success".

With -v it prints the body it sends; with -dry-run it prints the body alone
and sends nothing: save it to try "beecloud verify" on. With -dry-run -json
it prints the whole request as one JSON object instead, for scripts:
method, url (if -url is given, its password hidden), headers and body.

-amount is the transaction_fee, an integer in 分 (fen): 1 = ¥0.01.

With -retries N, send resends up to N times while the answer is not
"success", on BeeCloud's schedule: after 2 s, 4 s, 8 s, … (doubling, up
to 2^17 s). -retry-base scales it: -retry-base 100ms waits 100 ms, 200 ms,
400 ms, …

The App ID and Master Secret may come from $BEECLOUD_APP_ID and
$BEECLOUD_MASTER_SECRET instead of flags.

Example:

	beecloud send -url http://127.0.0.1:8080/beecloud/webhook -out-trade-no test0001 -amount 1 -optional product=test
	beecloud send -dry-run -out-trade-no test0001 -amount 1 > body.json && beecloud verify body.json
`

// maxRetries is BeeCloud's schedule: 2^1 … 2^17 seconds.
const maxRetries = 17

// sendFlags are send's flags.
type sendFlags struct {
	cr                          credentials
	target, outTradeNo, amount  string
	fen                         int64 // amount, parsed by check
	channel, subChannel, txType string
	optional                    keyValues
	retries                     int
	retryBase                   time.Duration
	verbose                     bool
	dryRun                      bool
	json                        bool
}

func (f *sendFlags) define(fs *flag.FlagSet) {
	f.cr.define(fs, false, true)
	fs.StringVar(&f.target, "url", "", "the webhook endpoint to POST to")
	fs.StringVar(&f.outTradeNo, "out-trade-no", "", "the order number (the webhook's transaction_id)")
	fs.StringVar(&f.amount, "amount", "", "the amount paid, an integer in 分 (transaction_fee)")
	fs.StringVar(&f.channel, "channel", "ALI", "channel_type")
	fs.StringVar(&f.subChannel, "sub-channel", "ALI_WEB", "sub_channel_type")
	fs.StringVar(&f.txType, "type", string(beecloud.TransactionPay), "transaction_type: PAY, REFUND, …")
	fs.Var(&f.optional, "optional", "an optional key=value echoed in the webhook (repeatable; values are strings)")
	fs.IntVar(&f.retries, "retries", 0, "resend up to `N` times until the answer is success")
	fs.DurationVar(&f.retryBase, "retry-base", 2*time.Second, "the first wait between resends; each next wait doubles")
	fs.BoolVar(&f.verbose, "v", false, "print the body sent (to try \"beecloud verify\" on)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the signed body and send nothing (no -url needed)")
	fs.BoolVar(&f.json, "json", false, "with -dry-run, print the request as JSON (method, url, headers, body), for scripts")
}

// check fills in the credentials not given as flags from getenv, parses
// -amount into f.fen and returns the problem with the flags, in words, or
// "".
func (f *sendFlags) check(getenv func(string) string) string {
	f.cr.fill(getenv)
	var missing []string
	if f.target == "" && !f.dryRun {
		missing = append(missing, "-url")
	}
	missing = append(missing, f.cr.missingFlags(false, true)...)
	if f.outTradeNo == "" {
		missing = append(missing, "-out-trade-no")
	}
	if f.amount == "" {
		missing = append(missing, "-amount")
	}
	switch {
	case len(missing) > 0:
		return missingText(missing)
	case f.retries < 0 || f.retries > maxRetries:
		return fmt.Sprintf("-retries must be 0 to %d (BeeCloud stops after 2^17 s)", maxRetries)
	case f.retryBase <= 0:
		return "-retry-base must be positive"
	case f.channel == "" || f.txType == "":
		return "-channel and -type must not be empty"
	case f.json && !f.dryRun:
		return "-json goes with -dry-run: send prints its attempts as text"
	}
	fen, err := parseFen(f.amount)
	switch {
	case err != nil:
		return err.Error()
	case fen < 0:
		return "-amount must not be negative"
	}
	f.fen = fen
	return ""
}

// body builds the signed webhook body the flags describe, once checked.
func (f *sendFlags) body() []byte {
	order := beecloud.Order{OutTradeNo: f.outTradeNo, Amount: f.fen}
	if len(f.optional) > 0 {
		order.Optional = make(map[string]any, len(f.optional))
		for _, kv := range f.optional {
			order.Optional[kv.key] = kv.value
		}
	}
	n := beecloudtest.Paid(order)
	n.ChannelType, n.SubChannelType, n.TransactionType = beecloud.ChannelType(f.channel), f.subChannel, beecloud.TransactionType(f.txType)
	cfg := beecloud.Config{AppID: f.cr.appID, MasterSecret: f.cr.masterSecret}
	return beecloudtest.NotificationBody(cfg, n)
}

func (c *cli) send(args []string) int {
	const name = "send"
	var f sendFlags
	if code, done := c.parseCommand(name, sendUsage, &f, args); done {
		return code
	}
	body := f.body()
	if f.dryRun && f.json {
		return c.printRequestJSON(&f, body)
	}
	if f.dryRun {
		fmt.Fprintf(c.stdout, "%s\n", body)
		return exitOK
	}
	u, err := parseHTTPURL(f.target)
	if err != nil {
		return c.usageError(name, "-url %v", err)
	}
	if f.verbose {
		fmt.Fprintf(c.stdout, "body: %s\n", body)
	}
	if c.deliver(u.String(), body, f.retries, f.retryBase) {
		return exitOK
	}
	if c.ctx.Err() != nil {
		return c.errorf(name, "interrupted: %v", c.ctx.Err())
	}
	return c.errorf(name, "%s did not answer \"success\"; BeeCloud would send again", u.Redacted())
}

// printRequestJSON prints the webhook request send would make, for
// -dry-run -json; a -url given is shown with its password hidden.
func (c *cli) printRequestJSON(f *sendFlags, body []byte) int {
	req := jsonRequest{Method: http.MethodPost, Headers: map[string]string{"Content-Type": "application/json"}, Body: body}
	if f.target != "" {
		u, err := parseHTTPURL(f.target)
		if err != nil {
			return c.usageError("send", "-url %v", err)
		}
		req.URL = u.Redacted()
	}
	if err := printJSON(c.stdout, req); err != nil {
		return c.errorf("send", "%v", err)
	}
	return exitOK
}

// parseHTTPURL parses an http or https URL. Its error shows the URL with
// its password hidden (scheme://user:password@host/).
func parseHTTPURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return u, nil
	}
	shown := s
	if err == nil {
		shown = u.Redacted()
	}
	return nil, fmt.Errorf("%q is not an http or https URL", shown)
}

// deliver posts body to target until it is acknowledged, resending up to
// retries times on BeeCloud's doubling schedule from retryBase. It reports
// whether the body was acknowledged; false also when interrupted.
func (c *cli) deliver(target string, body []byte, retries int, retryBase time.Duration) bool {
	wait := retryBase
	for attempt := 1; ; attempt++ {
		if c.post(attempt, target, body) {
			return true
		}
		if attempt > retries {
			return false
		}
		fmt.Fprintf(c.stdout, "resending in %s\n", wait)
		if c.wait(wait) != nil {
			return false
		}
		wait *= 2
	}
}

// post sends body once and reports whether the answer acknowledged it, by
// the rule BeeCloud applies (and the sandbox too): a 2xx status and the
// text success.
func (c *cli) post(attempt int, target string, body []byte) bool {
	req, err := http.NewRequestWithContext(c.ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		fmt.Fprintf(c.stderr, "attempt %d: %v\n", attempt, err)
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "beecloud-cli (webhook test)")
	client := c.client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(c.stderr, "attempt %d: %v\n", attempt, unwrapURLError(err))
		return false
	}
	defer resp.Body.Close()
	answer, ok, err := webhookack.Read(resp)
	if err != nil {
		fmt.Fprintf(c.stderr, "attempt %d: reading the answer: %v\n", attempt, err)
		return false
	}
	fmt.Fprintf(c.stdout, "attempt %d: %s: %s\n", attempt, resp.Status, printable(answer))
	if !ok && strings.TrimSpace(string(answer)) == webhookack.Answer {
		fmt.Fprintf(c.stderr, "attempt %d: the answer says success, but with status %d: BeeCloud wants a 2xx status\n", attempt, resp.StatusCode)
	}
	return ok
}

// wait sleeps for d, or until the context ends.
func (c *cli) wait(d time.Duration) error {
	if c.sleep != nil {
		return c.sleep(c.ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-c.ctx.Done():
		return c.ctx.Err()
	}
}

// unwrapURLError drops the "Post URL:" prefix that *url.Error adds, which
// repeats what is printed already.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// printable quotes an answer body unless it is short plain text: a
// control character, such as a terminal escape, is never printed as is.
func printable(b []byte) string {
	s := string(b)
	if s == "" {
		return "(empty body)"
	}
	if len(s) > 200 {
		return strconv.Quote(s[:200] + "…")
	}
	return safe(s)
}

// safe returns s as is when it is printable text, and quoted otherwise, so
// that text from the network never reaches the terminal as a control
// character, such as an escape sequence.
func safe(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !strconv.IsPrint(r) }) < 0 {
		return s
	}
	return strconv.Quote(s)
}
