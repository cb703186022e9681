package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/paybutton/beecloud"
)

const billsUsage = `Usage: beecloud bills [-out-trade-no NO] [-channel ALI] [-paid] [-limit N] [-json] [-api-url URL]

Bills asks BeeCloud's REST API for bills, newest first: one line per bill
with BeeCloud's id, the order number, the channel, the amount, whether it
is paid and refunded, and when it was made (Beijing time). A button order
has one bill per channel the buyer tried.

With -out-trade-no it answers "is this order paid?" when a webhook is late:
it exits 0 if a bill of the order is paid and 1 if none is.

With -json it prints the bills as a JSON array instead, for scripts: id,
out_trade_no, title, channel, sub_channel, channel_transaction_id, amount
(分), paid, refunded, reverted, created_at (RFC 3339) and optional; the
exit code is the same. Errors still go to stderr as text.

-api-url is BeeCloud's (the default) or a sandbox's, such as the one
"beecloud sandbox" prints. Queries are signed with the App Secret.

The App ID and Secret may come from $BEECLOUD_APP_ID and
$BEECLOUD_APP_SECRET instead of flags.

Example:

	beecloud bills -api-url http://127.0.0.1:8090 -out-trade-no test0001
`

const refundUsage = `Usage: beecloud refund -out-trade-no NO -amount FEN [-refund-no NO] [-channel ALI]
	[-need-approval] [-yes] [-api-url URL]

Refund gives money back for a paid order through BeeCloud's REST API, signed
with the Master Secret: all of it, or a part with a smaller -amount, an
integer in 分 (1 = ¥0.01). It asks for confirmation first, unless -yes.

The refund is named by -refund-no, by default a fresh one (today's Beijing
date and random letters), and sent once; a -refund-no that BeeCloud has
already is refused, for BeeCloud would make a second refund. refund waits up to a minute: for
BeeCloud's answer and, when the answer is lost, for BeeCloud to show the
refund when asked by its number. If it does not, refund says the outcome
is UNKNOWN and exits 3: the refund may still be on its way. Do not refund
again: check it later with "beecloud refund-outcome -refund-no NO".

An Alipay refund is confirmed by the merchant on Alipay's page: refund
prints its URL. The refund is done when its webhook (transaction_type
REFUND) reaches your server, or "beecloud refunds" shows it succeeded.

The App ID and secrets may come from $BEECLOUD_APP_ID,
$BEECLOUD_MASTER_SECRET and $BEECLOUD_APP_SECRET (for the look-up) instead
of flags.

Example:

	beecloud refund -api-url http://127.0.0.1:8090 -out-trade-no test0001 -amount 1
`

const refundOutcomeUsage = `Usage: beecloud refund-outcome -refund-no NO [-api-url URL]

Refund-outcome settles a refund whose outcome "beecloud refund" (or your
shop) could not tell: it asks BeeCloud's REST API for the refund or
pre-refund with that number. It exits 0 and shows the refund when BeeCloud
has it, and exits 1 when BeeCloud has none yet, which is no proof: a
refund sent moments ago may still be on its way. Check again later; send
a new refund for the same money only once you are sure the first one will
not arrive.

The App ID and Secret may come from $BEECLOUD_APP_ID and
$BEECLOUD_APP_SECRET instead of flags.

Example:

	beecloud refund-outcome -api-url http://127.0.0.1:8090 -refund-no 20260520AbC123
`

const refundsUsage = `Usage: beecloud refunds [-out-trade-no NO] [-refund-no NO] [-channel ALI] [-limit N] [-json] [-api-url URL]

Refunds asks BeeCloud's REST API for refunds, newest first: one line per
refund with its number, the order, the amount refunded of the bill's, and
its state (processing, succeeded or failed).

With -json it prints the refunds as a JSON array instead, for scripts: id,
refund_no, out_trade_no, title, channel, sub_channel, amount and
bill_amount (分), state, created_at (RFC 3339) and optional. Errors still go
to stderr as text.

The App ID and Secret may come from $BEECLOUD_APP_ID and
$BEECLOUD_APP_SECRET instead of flags.

Example:

	beecloud refunds -api-url http://127.0.0.1:8090 -out-trade-no test0001
`

// apiTimeout bounds one command's calls to the REST API.
const apiTimeout = time.Minute

// refundTimeout bounds a refund: waiting for BeeCloud's answer, and
// looking the refund up when the answer is lost. The HTTP client has no
// timeout of its own for a refund: this is the one that counts.
const refundTimeout = beecloud.DefaultMoneyTimeout

// apiFlags are the flags every REST API command has.
type apiFlags struct {
	cr      credentials
	apiURL  string
	channel string
}

func (f *apiFlags) define(fs *flag.FlagSet, masterSecret bool) {
	f.cr.define(fs, true, masterSecret)
	fs.StringVar(&f.apiURL, "api-url", beecloud.DefaultAPIURL, "BeeCloud's REST API, or a sandbox's URL")
	fs.StringVar(&f.channel, "channel", "", "only this channel: ALI, WX, UN, JD, BD, YEE, KUAIQIAN, PAYPAL or BC")
}

// client checks the flags and returns a client, or the problem in words.
func (f *apiFlags) client(getenv func(string) string, masterSecret bool) (*beecloud.Client, string) {
	f.cr.fill(getenv)
	if m := f.cr.missing(true, masterSecret); m != "" {
		return nil, "missing " + m
	}
	if _, err := parseHTTPURL(f.apiURL); err != nil {
		return nil, fmt.Sprintf("-api-url %v", err)
	}
	cfg := beecloud.Config{AppID: f.cr.appID, AppSecret: f.cr.appSecret, MasterSecret: f.cr.masterSecret}
	return &beecloud.Client{Config: cfg, BaseURL: strings.TrimSuffix(f.apiURL, "/")}, ""
}

// apiContext bounds a command's calls.
func (c *cli) apiContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.ctx, apiTimeout)
}

// listFlags are the flags of a command that lists what BeeCloud's REST
// API finds (bills, refunds), and the client check makes of them.
type listFlags struct {
	apiFlags
	limit int
	json  bool
	api   *beecloud.Client // made by check
}

// defineList adds the flags of a command that lists nouns to fs.
func (f *listFlags) defineList(fs *flag.FlagSet, nouns string) {
	f.apiFlags.define(fs, false)
	fs.IntVar(&f.limit, "limit", 10, fmt.Sprintf("at most `N` %s (1 to %d)", nouns, beecloud.MaxLimit))
	fs.BoolVar(&f.json, "json", false, "print the "+nouns+" as a JSON array, for scripts")
}

// check fills in the credentials not given as flags from getenv, makes
// the client and returns the problem with the flags, in words, or "".
func (f *listFlags) check(getenv func(string) string) string {
	if f.limit < 1 || f.limit > beecloud.MaxLimit {
		return fmt.Sprintf("-limit must be 1 to %d", beecloud.MaxLimit)
	}
	var problem string
	f.api, problem = f.client(getenv, false)
	return problem
}

// lister is the flags of a command that lists: list asks BeeCloud once
// check has passed.
type lister[T any] interface {
	commandFlags
	list(ctx context.Context) ([]T, error)
}

// list runs a command that lists: it parses args into f, checks them and
// asks BeeCloud, bounded by apiTimeout. When the command must stop, after
// -h, on a usage error or a failed call, it has said why and returns the
// exit code and false.
func list[T any](c *cli, name, usage string, f lister[T], args []string) (_ []T, code int, ok bool) {
	if code, done := c.parseCommand(name, usage, f, args); done {
		return nil, code, false
	}
	ctx, cancel := c.apiContext()
	defer cancel()
	items, err := f.list(ctx)
	if err != nil {
		return nil, c.apiFailure(name, err), false
	}
	return items, exitOK, true
}

func (c *cli) bills(args []string) int {
	var f billsFlags
	bills, code, ok := list(c, "bills", billsUsage, &f, args)
	if !ok {
		return code
	}
	if f.json {
		if err := printJSON(c.stdout, billsJSON(bills)); err != nil {
			return c.errorf("bills", "%v", err)
		}
	} else {
		printBills(c.stdout, bills)
	}
	switch {
	case f.query.OutTradeNo == "":
		return exitOK
	case f.json:
		if slices.ContainsFunc(bills, func(b beecloud.Bill) bool { return b.Paid }) {
			return exitOK
		}
		return exitFailure
	}
	return c.orderVerdict(f.query.OutTradeNo, bills)
}

// billsFlags are bills' flags.
type billsFlags struct {
	listFlags
	query beecloud.BillQuery
}

func (f *billsFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.query.OutTradeNo, "out-trade-no", "", "only this order's bills; exit 1 if none is paid")
	fs.BoolVar(&f.query.PaidOnly, "paid", false, "only paid bills")
	f.defineList(fs, "bills")
}

// list asks BeeCloud for the bills the flags select.
func (f *billsFlags) list(ctx context.Context) ([]beecloud.Bill, error) {
	f.query.Channel, f.query.Limit = beecloud.ChannelType(f.channel), f.limit
	return f.api.Bills(ctx, f.query)
}

// orderVerdict says whether the order of bills is paid, and exits 1 if not.
func (c *cli) orderVerdict(outTradeNo string, bills []beecloud.Bill) int {
	for _, b := range bills {
		if b.Paid {
			fmt.Fprintf(c.stdout, "Order %s is PAID (bill %s, %s, %s).\n", safe(outTradeNo), safe(b.ID), safe(b.SubChannel), yuanSign(b.Amount))
			return exitOK
		}
	}
	if len(bills) == 0 {
		fmt.Fprintf(c.stdout, "BeeCloud has no bill for order %s: the buyer never reached a pay page.\n", safe(outTradeNo))
	} else {
		fmt.Fprintf(c.stdout, "Order %s is NOT paid: %s, none paid.\n", safe(outTradeNo), plural(len(bills), "bill"))
	}
	return exitFailure
}

func printBills(w io.Writer, bills []beecloud.Bill) {
	if len(bills) == 0 {
		fmt.Fprintln(w, "No bills.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tORDER\tCHANNEL\tAMOUNT\tPAID\tREFUNDED\tCREATED (BEIJING)")
	for _, b := range bills {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", safe(b.ID), safe(b.OutTradeNo), safe(b.SubChannel), yuanSign(b.Amount),
			yesNo(b.Paid), yesNo(b.Refunded), beijingTime(b.CreatedAt))
	}
	tw.Flush()
}

func (c *cli) refund(args []string) int {
	const name = "refund"
	fs := c.newFlagSet(name, refundUsage)
	var f apiFlags
	f.define(fs, true)
	var r beecloud.RefundRequest
	fs.StringVar(&r.OutTradeNo, "out-trade-no", "", "the paid order to refund")
	amount := fs.String("amount", "", "how much to give back, an integer in 分 (1 = ¥0.01)")
	fs.StringVar(&r.RefundNo, "refund-no", "", "the refund's number (default: a fresh one); one BeeCloud has already is refused")
	fs.BoolVar(&r.NeedApproval, "need-approval", false, "make a pre-refund, which waits for approval on BeeCloud's dashboard")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	if code, done := c.parseFlagsOnly(fs, args); done {
		return code
	}
	f.cr.fill(c.getenv)
	missing := f.cr.missingFlags(true, true)
	if r.OutTradeNo == "" {
		missing = append(missing, "-out-trade-no")
	}
	if *amount == "" {
		missing = append(missing, "-amount")
	}
	if m := missingText(missing); m != "" {
		return c.usageError(name, "%s", m)
	}
	var err error
	if r.Amount, err = parseFen(*amount); err != nil {
		return c.usageError(name, "%v", err)
	}
	if r.Amount <= 0 {
		return c.usageError(name, "-amount must be at least 1 分")
	}
	client, problem := f.client(c.getenv, true)
	if problem != "" {
		return c.usageError(name, "%s", problem)
	}
	r.Channel = beecloud.ChannelType(f.channel)
	given := r.RefundNo != ""
	if !given {
		r.RefundNo = beecloud.NewRefundNo(time.Now())
	}
	// A refund that cannot be sent is refused before the question: Refund
	// checks its request first, and sends nothing on a context that has
	// ended.
	checked, stop := context.WithCancel(c.ctx)
	stop()
	if _, err := client.Refund(checked, r); errors.Is(err, beecloud.ErrInvalidRequest) {
		return c.usageError(name, "%v", err)
	}
	if given {
		// BeeCloud makes a refund per request: a number it has already
		// would refund twice.
		if code, known := c.refundExists(client, r.RefundNo, f.apiURL); known {
			return code
		}
	}
	if !*yes && !c.confirm(fmt.Sprintf("Refund %s of order %s (refund_no %s) through %s?", yuanSign(r.Amount), r.OutTradeNo, r.RefundNo, f.apiURL)) {
		fmt.Fprintln(c.stderr, "beecloud refund: not confirmed; nothing was sent")
		return exitFailure
	}
	return c.sendRefund(client, r, f.apiURL)
}

// refundExists looks refundNo up before it is sent and reports whether
// the refund must not be sent: BeeCloud has it already, or cannot say.
func (c *cli) refundExists(client *beecloud.Client, refundNo, api string) (code int, stop bool) {
	const name = "refund"
	ctx, cancel := c.apiContext()
	defer cancel()
	found, err := client.RefundOutcome(ctx, refundNo)
	switch {
	case errors.Is(err, beecloud.ErrRefundNotFound):
		return exitOK, false
	case err != nil:
		return c.errorf(name, "cannot tell whether BeeCloud has refund %s already, so nothing was sent: %v", refundNo, err), true
	}
	fmt.Fprintf(c.stdout, "Refund %s of %s for order %s exists already (id %s, %s): nothing was sent.\n", safe(refundNo), yuanSign(found.Amount), safe(found.OutTradeNo), safe(found.ID), refundState(*found))
	fmt.Fprintf(c.stdout, "Sending it again would refund twice. Check it with:\n\tbeecloud refund-outcome -refund-no %s -api-url %s\n", safe(refundNo), api)
	return exitFailure, true
}

// sendRefund makes the refund and says what BeeCloud answered.
func (c *cli) sendRefund(client *beecloud.Client, r beecloud.RefundRequest, api string) int {
	const name = "refund"
	ctx, cancel := context.WithTimeout(c.ctx, refundTimeout)
	defer cancel()
	res, err := client.Refund(ctx, r)
	if err != nil {
		if errors.Is(err, beecloud.ErrUnknownOutcome) {
			fmt.Fprintf(c.stdout, "Refund %s of %s for order %s: OUTCOME UNKNOWN. It may or may not be made.\n", r.RefundNo, yuanSign(r.Amount), r.OutTradeNo)
			fmt.Fprintf(c.stdout, "Do NOT refund again. Check it again later:\n\tbeecloud refund-outcome -refund-no %s -api-url %s\n", r.RefundNo, api)
			c.errorf(name, "%v", err)
			return exitUnknown
		}
		return c.apiFailure(name, err)
	}
	fmt.Fprintf(c.stdout, "Refund %s of %s for order %s: taken by BeeCloud (id %s).\n", r.RefundNo, yuanSign(r.Amount), r.OutTradeNo, safe(res.ID))
	if res.Recovered {
		fmt.Fprintln(c.stdout, "(The first answer was lost; the refund was found by its number: it was made once.)")
	}
	if res.URL != "" {
		fmt.Fprintf(c.stdout, "Confirm it on Alipay with your payment password: %s\n", safe(res.URL))
	}
	fmt.Fprintf(c.stdout, "It is done when its REFUND webhook comes, or when \"beecloud refunds -refund-no %s\" says succeeded.\n", r.RefundNo)
	return exitOK
}

// confirm asks question on stderr and reports whether the answer read
// from stdin is yes.
func (c *cli) confirm(question string) bool {
	fmt.Fprintf(c.stderr, "%s [y/N] ", question)
	line, err := bufio.NewReader(c.stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(c.stderr)
		return false
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// refundOutcome looks a refund up by its number.
func (c *cli) refundOutcome(args []string) int {
	const name = "refund-outcome"
	fs := c.newFlagSet(name, refundOutcomeUsage)
	var f apiFlags
	f.define(fs, false)
	refundNo := fs.String("refund-no", "", "the number of the refund to check")
	if code, done := c.parseFlagsOnly(fs, args); done {
		return code
	}
	if *refundNo == "" {
		return c.usageError(name, "missing -refund-no")
	}
	client, problem := f.client(c.getenv, false)
	if problem != "" {
		return c.usageError(name, "%s", problem)
	}
	ctx, cancel := c.apiContext()
	defer cancel()
	r, err := client.RefundOutcome(ctx, *refundNo)
	switch {
	case errors.Is(err, beecloud.ErrRefundNotFound):
		fmt.Fprintf(c.stdout, "BeeCloud has no refund %s yet. That is no proof: a refund sent moments ago may still be on its way.\n", safe(*refundNo))
		fmt.Fprintf(c.stdout, "Do NOT refund again yet. Check again later:\n\tbeecloud refund-outcome -refund-no %s -api-url %s\n", safe(*refundNo), f.apiURL)
		return exitFailure
	case err != nil:
		return c.apiFailure(name, err)
	}
	fmt.Fprintf(c.stdout, "Refund %s of %s for order %s: BeeCloud has it (id %s), %s.\n", safe(r.RefundNo), yuanSign(r.Amount), safe(r.OutTradeNo), safe(r.ID), refundState(*r))
	return exitOK
}

func (c *cli) refunds(args []string) int {
	var f refundsFlags
	refunds, code, ok := list(c, "refunds", refundsUsage, &f, args)
	if !ok {
		return code
	}
	if f.json {
		if err := printJSON(c.stdout, refundsJSON(refunds)); err != nil {
			return c.errorf("refunds", "%v", err)
		}
		return exitOK
	}
	if len(refunds) == 0 {
		fmt.Fprintln(c.stdout, "No refunds.")
		return exitOK
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REFUND NO\tORDER\tCHANNEL\tREFUNDED\tOF\tSTATE\tCREATED (BEIJING)")
	for _, r := range refunds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", safe(r.RefundNo), safe(r.OutTradeNo), safe(r.SubChannel),
			yuanSign(r.Amount), yuanSign(r.BillAmount), refundState(r), beijingTime(r.CreatedAt))
	}
	tw.Flush()
	return exitOK
}

// refundsFlags are refunds' flags.
type refundsFlags struct {
	listFlags
	query beecloud.RefundQuery
}

func (f *refundsFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.query.OutTradeNo, "out-trade-no", "", "only this order's refunds")
	fs.StringVar(&f.query.RefundNo, "refund-no", "", "only the refund with this number")
	f.defineList(fs, "refunds")
}

// list asks BeeCloud for the refunds the flags select.
func (f *refundsFlags) list(ctx context.Context) ([]beecloud.Refund, error) {
	f.query.Channel, f.query.Limit = beecloud.ChannelType(f.channel), f.limit
	return f.api.Refunds(ctx, f.query)
}

func refundState(r beecloud.Refund) string {
	switch {
	case !r.Finished:
		return "processing"
	case r.Succeeded:
		return "succeeded"
	}
	return "failed"
}

// apiFailure prints a failed call: BeeCloud's refusal with its code, or
// why BeeCloud could not be asked.
func (c *cli) apiFailure(cmd string, err error) int {
	var apiErr *beecloud.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.Code == beecloud.CodeAppInvalid:
		return c.errorf(cmd, "%v\n(check -app-id and the secret, and that -api-url is the right BeeCloud or sandbox)", err)
	case errors.Is(err, beecloud.ErrInvalidRequest):
		return c.usageError(cmd, "%v", err)
	}
	return c.errorf(cmd, "%v", err)
}

// beijing is BeeCloud's time zone, UTC+8 all year.
var beijing = time.FixedZone("CST", 8*60*60)

func beijingTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(beijing).Format("2006-01-02 15:04:05")
}

// yuanSign formats an amount in 分 for people: 150 → "¥1.50".
func yuanSign(fen int64) string { return "¥" + yuan(fen) }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// plural says "1 bill", "2 bills".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
