package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

const sandboxUsage = `Usage: beecloud sandbox [-addr 127.0.0.1:8090] [-app-id ID -app-secret SECRET [-master-secret SECRET]]
	[-webhook-url URL] [-channels ali,wxmp,wx,un] [-retry-base 2s] [-duplicates N] [-pay NO=FEN]...

Sandbox runs a local, fake BeeCloud so that a shop written in any language
can take the whole pay flow offline: it serves the button script, checks
each BC.click (sign, fields) the way BeeCloud does, shows the channel menu
and a pay page per channel, sends the buyer back to return_url, and POSTs a
signed webhook to -webhook-url, resending it on BeeCloud's schedule (after
2 s, 4 s, 8 s, …, scaled by -retry-base) until the answer is "success".
With -duplicates N it then sends each webhook N more times, as BeeCloud and
the channels sometimes do: the shop must handle each payment once.
No real money moves.

It also answers BeeCloud's REST API (bills, refunds) at its URL, for your
reconciliation code and for "beecloud bills -api-url URL"; -pay NO=FEN makes
a paid order at start to try it on.

It prints the script tag to paste into your page instead of BeeCloud's, and
one line per webhook attempt. Without credentials it makes random demo ones
and prints them: sign your orders with that App Secret and verify webhooks
with that Master Secret. The Master Secret is needed only with -webhook-url.

Channels are instant_channel codes: ali (支付宝), wxmp (微信扫码), wx
(微信公众号, needs openid), un (银联), unwap, bckj, jd, bd, yee, kuaiqian,
wxwap, bcwxmp, bcwx, bcwxwap, bcaliqr, bcali.

It serves BeeCloud's test mode (/2/rest/sandbox/…, for "beecloud pay -test")
when the app has a Test Secret; the demo credentials include one.

The App ID and secrets may come from $BEECLOUD_APP_ID, $BEECLOUD_APP_SECRET,
$BEECLOUD_MASTER_SECRET and $BEECLOUD_TEST_SECRET instead of flags. Stop it
with Ctrl-C.
`

// pollDeliveries is how often sandbox looks for new webhook attempts to
// print.
const pollDeliveries = 200 * time.Millisecond

// sandboxFlags are sandbox's flags.
type sandboxFlags struct {
	cr          credentials
	generated   bool // no credentials given: random demo ones
	addr        string
	webhookURL  string
	channelList string
	channels    []beecloud.Channel // channelList, parsed by check
	retryBase   time.Duration
	duplicates  int
	pay         keyValues // out_trade_no=fen, paid at start
	payFen      []int64   // the amounts of pay
}

func (f *sandboxFlags) define(fs *flag.FlagSet) {
	f.cr.define(fs, true, true)
	f.cr.defineTest(fs)
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8090", "listen address; port 0 picks a free port")
	fs.StringVar(&f.webhookURL, "webhook-url", "", "where to POST webhooks; empty sends none")
	fs.StringVar(&f.channelList, "channels", "ali,wxmp,wx,un", "the app's enabled channels, in menu order")
	fs.DurationVar(&f.retryBase, "retry-base", 2*time.Second, "wait before the first webhook resend; each next wait doubles (BeeCloud: 2s)")
	fs.IntVar(&f.duplicates, "duplicates", 0, "send each acknowledged webhook this many more times, as BeeCloud sometimes does")
	fs.Var(&f.pay, "pay", "pay the order `NO=FEN` (out_trade_no=amount in 分) through Alipay at start, to try bills, refund and webhooks on (repeatable)")
}

// check fills in the credentials not given as flags from getenv, or demo
// ones when none were given, parses -channels and -pay, and returns the
// problem with the flags, in words, or "".
func (f *sandboxFlags) check(getenv func(string) string) string {
	f.cr.fill(getenv)
	f.generated = f.cr.appID == "" && f.cr.appSecret == "" && f.cr.masterSecret == ""
	if f.generated {
		f.cr = credentials{appID: demoUUID(), appSecret: demoUUID(), masterSecret: demoUUID(), testSecret: demoUUID()}
	}
	switch {
	case f.cr.missing(true, false) != "":
		return fmt.Sprintf("missing %s (or give no credentials at all for random demo ones)", f.cr.missing(true, false))
	case f.webhookURL != "" && f.cr.masterSecret == "":
		return fmt.Sprintf("-webhook-url needs -master-secret (or $%s) to sign the webhooks", envMasterSecret)
	case f.retryBase <= 0:
		return "-retry-base must be positive"
	case f.duplicates < 0:
		return "-duplicates must be 0 or more"
	}
	if f.webhookURL != "" {
		if _, err := parseHTTPURL(f.webhookURL); err != nil {
			return "-webhook-url is not an http or https URL such as http://127.0.0.1:8080/webhook"
		}
	}
	for _, kv := range f.pay {
		fen, err := parseFen(kv.value)
		if err == nil && fen <= 0 {
			err = errors.New("the amount must be at least 1 分")
		}
		if err != nil {
			return fmt.Sprintf("-pay %s=%s: %v", kv.key, kv.value, err)
		}
		f.payFen = append(f.payFen, fen)
	}
	channels, err := parseChannels(f.channelList)
	if err != nil {
		return err.Error()
	}
	f.channels = channels
	return ""
}

func (c *cli) sandbox(args []string) int {
	const name = "sandbox"
	var f sandboxFlags
	if code, done := c.parseCommand(name, sandboxUsage, &f, args); done {
		return code
	}
	app := beecloudtest.App{
		Config:     beecloud.Config{AppID: f.cr.appID, AppSecret: f.cr.appSecret, MasterSecret: f.cr.masterSecret, TestSecret: f.cr.testSecret},
		Channels:   f.channels,
		WebhookURL: f.webhookURL,
	}
	sandbox := beecloudtest.NewUnstartedSandbox(app)
	sandbox.RetryBase = f.retryBase
	sandbox.Duplicates = f.duplicates
	sandbox.Logger = slog.New(warnHandler{c: c})
	if code, ok := c.startSandbox(sandbox, f.addr); !ok {
		return code
	}
	defer sandbox.Close()
	c.printSandboxBanner(sandbox, &f)
	if code, ok := c.payAtStart(sandbox, &f); !ok {
		return code
	}
	if c.listening != nil {
		c.listening(sandbox.URL)
	}
	c.followDeliveries(sandbox)
	return exitOK
}

// startSandbox starts sandbox on addr, or prints why it cannot and returns
// the exit code. It warns when addr is reachable from other machines.
func (c *cli) startSandbox(sandbox *beecloudtest.Sandbox, addr string) (int, bool) {
	const name = "sandbox"
	if err := sandbox.StartAt(addr); err != nil {
		var addrErr *net.AddrError
		var opErr *net.OpError
		switch {
		case errors.As(err, &addrErr):
			return c.usageError(name, "-addr %q: %s", addr, addrErr.Err), false
		case errors.Is(err, syscall.EADDRINUSE):
			return c.errorf(name, "cannot listen on %s: the address is in use\n(is another sandbox running? choose another address with -addr 127.0.0.1:8091)", addr), false
		case errors.As(err, &opErr):
			return c.errorf(name, "cannot listen on %s: %v", addr, opErr.Err), false
		}
		return c.errorf(name, "%v", err), false
	}
	if u, err := url.Parse(sandbox.URL); err == nil && !isLoopback(u.Hostname()) {
		c.warnf(name, "listening on %s, beyond this machine: anyone who reaches it can see its bills, pay them and read its demo credentials; use -addr 127.0.0.1:PORT unless a phone or another machine must reach it", u.Host)
	}
	return exitOK, true
}

// payAtStart pays the -pay orders in the sandbox, or prints why it
// cannot and returns the exit code.
func (c *cli) payAtStart(sandbox *beecloudtest.Sandbox, f *sandboxFlags) (int, bool) {
	cfg := sandbox.Apps()[0].Config
	for i, kv := range f.pay {
		amount := f.payFen[i]
		params, err := cfg.Params(beecloud.Order{Title: "beecloud sandbox -pay", Amount: amount, OutTradeNo: kv.key})
		if err == nil {
			_, err = sandbox.Pay(cfg.AppID, params, beecloud.ChannelAli)
		}
		if err != nil {
			return c.usageError("sandbox", "-pay %s=%s: %v", kv.key, kv.value, err), false
		}
		fmt.Fprintf(c.stdout, "Paid order %s: %s through Alipay (ALI_WEB)\n", kv.key, yuanSign(amount))
	}
	return exitOK, true
}

// isLoopback reports whether host, from a listener's address, is reached
// from this machine only.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// printSandboxBanner prints where the sandbox is, its app and the script
// tag to paste.
func (c *cli) printSandboxBanner(sandbox *beecloudtest.Sandbox, f *sandboxFlags) {
	w := c.stdout
	fmt.Fprintf(w, "BeeCloud sandbox listening on %s (no real money moves)\n\n", sandbox.URL)
	if f.generated {
		fmt.Fprintln(w, "Demo credentials (random, for this run only):")
		fmt.Fprintf(w, "  app_id:        %s\n  app_secret:    %s\n  master_secret: %s\n  test_secret:   %s\n\n", f.cr.appID, f.cr.appSecret, f.cr.masterSecret, f.cr.testSecret)
	} else {
		fmt.Fprintf(w, "App %s (secrets as given)\n\n", f.cr.appID)
	}
	fmt.Fprintf(w, "Channels: %s\n", f.channelList)
	if f.webhookURL != "" {
		u, _ := url.Parse(f.webhookURL) // checked by f.check
		fmt.Fprintf(w, "Webhooks: POST %s, resent after %s, %s, … until it answers success\n", u.Redacted(), f.retryBase, 2*f.retryBase)
		if f.duplicates > 0 {
			fmt.Fprintf(w, "Then each webhook is sent %s, as BeeCloud sometimes does\n", moreTimes(f.duplicates))
		}
	} else {
		fmt.Fprintln(w, "Webhooks: none (no -webhook-url)")
	}
	cfg := sandbox.Apps()[0].Config
	cfg.ScriptURL = sandbox.ScriptURL()
	fmt.Fprintf(w, "REST API (bills, refunds): %s (beecloud bills -api-url %s …)\n", sandbox.URL, sandbox.URL)
	fmt.Fprintf(w, "\nPaste this script tag into your page in place of BeeCloud's (or, with beecloud.Config, set ScriptURL to %s):\n\n%s\n\nCtrl-C to stop.\n", cfg.ScriptURL, sandbox.ScriptTag(cfg.AppID))
}

// moreTimes says "1 more time", "2 more times".
func moreTimes(n int) string {
	if n == 1 {
		return "1 more time"
	}
	return fmt.Sprintf("%d more times", n)
}

// followDeliveries prints each webhook attempt as it happens, until the
// context ends.
func (c *cli) followDeliveries(sandbox *beecloudtest.Sandbox) {
	var printed []int // attempts printed, by delivery
	tick := time.NewTicker(pollDeliveries)
	defer tick.Stop()
	for {
		select {
		case <-c.ctx.Done():
			c.printDeliveries(sandbox, printed)
			fmt.Fprintln(c.stdout, "Stopping the sandbox…")
			return
		case <-tick.C:
			printed = c.printDeliveries(sandbox, printed)
		}
	}
}

// printDeliveries prints the webhook attempts not printed yet. printed
// holds how many attempts of each delivery, by index in s.Deliveries(),
// have been printed; it returns printed updated.
func (c *cli) printDeliveries(s *beecloudtest.Sandbox, printed []int) []int {
	for j, d := range s.Deliveries() {
		if j == len(printed) {
			printed = append(printed, 0)
		}
		for i := printed[j]; i < len(d.Attempts); i++ {
			printAttempt(c.stdout, d, i)
		}
		printed[j] = len(d.Attempts)
	}
	return printed
}

func printAttempt(w io.Writer, d beecloudtest.Delivery, i int) {
	a := d.Attempts[i]
	result := fmt.Sprintf("%d: %s", a.StatusCode, printable([]byte(a.Response)))
	if a.Err != nil {
		result = unwrapURLError(a.Err).Error()
	}
	what := "webhook"
	if d.TransactionType == beecloud.TransactionRefund {
		what = "refund " + d.RefundNo + " webhook"
	}
	if d.Duplicate {
		what = "duplicate " + what
	}
	fmt.Fprintf(w, "%s %s for order %s, attempt %d → %s\n", a.At.Format("15:04:05"), what, d.OutTradeNo, i+1, result)
	if i == len(d.Attempts)-1 && d.GaveUp {
		fmt.Fprintf(w, "%s webhook for order %s: gave up after %d attempts\n", a.At.Format("15:04:05"), d.OutTradeNo, len(d.Attempts))
	}
}

// parseChannels parses a comma-separated list of instant_channel codes.
func parseChannels(list string) ([]beecloud.Channel, error) {
	var out []beecloud.Channel
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		ch := beecloud.Channel(s)
		if !ch.Known() {
			return nil, fmt.Errorf("unknown channel %q in -channels", s)
		}
		out = append(out, ch)
	}
	if len(out) == 0 {
		return nil, errors.New("-channels lists no channel")
	}
	return out, nil
}

// demoUUID returns a random UUID, the shape of BeeCloud's App IDs and
// secrets.
func demoUUID() string {
	h := beecloud.NewOutTradeNo() // 32 random hex digits
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// warnHandler prints the sandbox's log records as the command's warnings:
// "beecloud sandbox: warning: MESSAGE (key=value, …)".
type warnHandler struct {
	c     *cli
	attrs []slog.Attr
}

func (h warnHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn
}

func (h warnHandler) Handle(_ context.Context, r slog.Record) error {
	var kv []string
	add := func(a slog.Attr) bool {
		kv = append(kv, a.Key+"="+safe(a.Value.String()))
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	msg := r.Message
	if len(kv) > 0 {
		msg += " (" + strings.Join(kv, ", ") + ")"
	}
	h.c.warnf("sandbox", "%s", msg)
	return nil
}

func (h warnHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h.attrs = append(slices.Clip(h.attrs), attrs...)
	return h
}

func (h warnHandler) WithGroup(string) slog.Handler { return h }
