package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

const sendUsage = `Usage: beecloud send -url URL -app-id ID -master-secret SECRET -out-trade-no NO -amount FEN
	[-channel ALI] [-sub-channel ALI_WEB] [-type PAY] [-optional key=value]...
	[-retries N] [-retry-base 2s] [-v]

Send POSTs a correctly signed test webhook to URL, as BeeCloud does when a
buyer has paid order NO: Content-Type application/json, signature
MD5(app_id + transaction_id + transaction_type + channel_type +
transaction_fee + master_secret). It prints the answer's status and body and
exits 0 only if the answer is 200 with the body "success", which is what
BeeCloud waits for.

-amount is the transaction_fee, an integer in 分 (fen): 1 = ¥0.01.

With -retries N, send resends up to N times while the answer is not
"success", on BeeCloud's schedule: after 2 s, 4 s, 8 s, … (doubling, up
to 2^17 s). -retry-base scales it: -retry-base 100ms waits 100 ms, 200 ms,
400 ms, …

The App ID and Master Secret may come from $BEECLOUD_APP_ID and
$BEECLOUD_MASTER_SECRET instead of flags.

Example:

	beecloud send -url http://127.0.0.1:8080/beecloud/webhook -out-trade-no test0001 -amount 1 -optional product=test
`

// maxRetries is BeeCloud's schedule: 2^1 … 2^17 seconds.
const maxRetries = 17

func (c *cli) send(args []string) int {
	const name = "send"
	fs := c.newFlagSet(name, sendUsage)
	var cr credentials
	cr.define(fs, false, true)
	target := fs.String("url", "", "the webhook endpoint to POST to")
	outTradeNo := fs.String("out-trade-no", "", "the order number (the webhook's transaction_id)")
	amountText := fs.String("amount", "", "the amount paid, an integer in 分 (transaction_fee)")
	channel := fs.String("channel", "ALI", "channel_type")
	subChannel := fs.String("sub-channel", "ALI_WEB", "sub_channel_type")
	txType := fs.String("type", "PAY", "transaction_type: PAY, REFUND, …")
	var optional keyValues
	fs.Var(&optional, "optional", "an optional key=value echoed in the webhook (repeatable; values are strings)")
	retries := fs.Int("retries", 0, "resend up to `N` times until the answer is success")
	retryBase := fs.Duration("retry-base", 2*time.Second, "the first wait between resends; each next wait doubles")
	verbose := fs.Bool("v", false, "print the body sent")
	if code, done := c.parse(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return c.usageError(name, "unexpected argument %q", fs.Arg(0))
	}
	cr.fill(c.getenv)
	switch {
	case *target == "":
		return c.usageError(name, "missing -url")
	case cr.missing(false, true) != "":
		return c.usageError(name, "missing %s", cr.missing(false, true))
	case *outTradeNo == "":
		return c.usageError(name, "missing -out-trade-no")
	case *amountText == "":
		return c.usageError(name, "missing -amount")
	case *retries < 0 || *retries > maxRetries:
		return c.usageError(name, "-retries must be 0 to %d (BeeCloud stops after 2^17 s)", maxRetries)
	case *retryBase <= 0:
		return c.usageError(name, "-retry-base must be positive")
	case *channel == "" || *txType == "":
		return c.usageError(name, "-channel and -type must not be empty")
	}
	u, err := url.Parse(*target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		shown := *target
		if err == nil {
			shown = u.Redacted() // hide the password of scheme://user:password@host/
		}
		return c.usageError(name, "-url %q is not an http or https URL", shown)
	}
	amount, err := parseFen(*amountText)
	if err != nil {
		return c.usageError(name, "%v", err)
	}
	if amount < 0 {
		return c.usageError(name, "-amount must not be negative")
	}

	order := beecloud.Order{OutTradeNo: *outTradeNo, Amount: amount}
	if len(optional) > 0 {
		order.Optional = make(map[string]any, len(optional))
		for _, kv := range optional {
			order.Optional[kv.key] = kv.value
		}
	}
	n := beecloudtest.Paid(order)
	n.ChannelType, n.SubChannelType, n.TransactionType = *channel, *subChannel, *txType
	cfg := beecloud.Config{AppID: cr.appID, MasterSecret: cr.masterSecret}
	body := beecloudtest.NotificationBody(cfg, n)
	if *verbose {
		fmt.Fprintf(c.stdout, "body: %s\n", body)
	}

	wait := *retryBase
	for attempt := 1; ; attempt++ {
		ok := c.post(attempt, u.String(), body)
		if ok {
			return exitOK
		}
		if attempt > *retries {
			break
		}
		fmt.Fprintf(c.stdout, "resending in %s\n", wait)
		if err := c.wait(wait); err != nil {
			return c.errorf(name, "interrupted: %v", err)
		}
		wait *= 2
	}
	return c.errorf(name, "%s did not answer \"success\"; BeeCloud would send again", u.Redacted())
}

// post sends body once and reports whether the answer was success.
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
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if err != nil {
		fmt.Fprintf(c.stderr, "attempt %d: reading the answer: %v\n", attempt, err)
		return false
	}
	fmt.Fprintf(c.stdout, "attempt %d: %s: %s\n", attempt, resp.Status, printable(answer))
	switch {
	case resp.StatusCode == http.StatusOK && string(answer) == "success":
		return true
	case strings.TrimSpace(string(answer)) == "success":
		fmt.Fprintf(c.stderr, "attempt %d: the answer must be exactly \"success\" with status 200\n", attempt)
	}
	return false
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
