package beecloud

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// SweepClockSkew is how much a sweep by window ([SweepOptions].Since)
// widens its window of creation times on each side: BeeCloud dates bills
// and refunds by its own clock, the shop dates its orders by its own, and
// the two may disagree by that much without a bill being missed.
const SweepClockSkew = 5 * time.Minute

// sweepKind is what a sweep reconciles.
type sweepKind int

const (
	paySweep    sweepKind = iota + 1 // orders, through their bills
	refundSweep                      // refunds, through the refund list
)

// String returns the transaction type the kind reconciles.
func (k sweepKind) String() string {
	if k == refundSweep {
		return string(TransactionRefund)
	}
	return string(TransactionPay)
}

// SweepRefunds does for the pending refunds (their refund numbers) what
// [WebhookHandler.Sweep] does for orders: each refund that BeeCloud says
// succeeded is handled as [WebhookHandler.ReconcileRefund] handles it,
// under the same Store key, so Handle runs once per refund whether its
// webhook comes or not. In the result, Paid lists the refunds that
// succeeded and are handled, Unpaid those that BeeCloud does not know
// or that are under way or failed.
//
// With opts.Since set (when the oldest pending refund was made, or
// earlier), it lists the refunds and pre-refunds BeeCloud made in that
// window, widened by [SweepClockSkew], rather than ask about each one; a
// refund through a channel that sends no refund webhook (WeChat, Yeepay,
// Kuaiqian, Baidu) that is not finished yet is then asked about with
// [Client.RefundStatus]. Concurrency, Interval and Period work as for
// Sweep; a refund sweep and an order sweep take separate turns.
func (h *WebhookHandler) SweepRefunds(ctx context.Context, c *Client, pending []string, opts SweepOptions) SweepResult {
	return h.sweep(ctx, c, pending, opts, refundSweep)
}

// sweep runs a sweep of kind, taking turns with other instances if
// opts.Period is set.
func (h *WebhookHandler) sweep(ctx context.Context, c *Client, pending []string, opts SweepOptions, kind sweepKind) SweepResult {
	if opts.Period > 0 && c != nil {
		turn, elsewhere := h.takeTurn(ctx, c.Config.AppID, kind, opts.Period)
		if elsewhere {
			return SweepResult{Failed: map[string]error{}, Elsewhere: true}
		}
		res := h.sweepNow(ctx, c, pending, opts, kind)
		if turn != nil {
			turn.end(len(res.Skipped) == 0)
		}
		return res
	}
	return h.sweepNow(ctx, c, pending, opts, kind)
}

// minWindowSweep is the fewest entries worth counting BeeCloud's list
// for: a sweep by window costs a count and at least one page.
const minWindowSweep = 3

// sweepNow sweeps by window or entry by entry, whichever is cheaper.
func (h *WebhookHandler) sweepNow(ctx context.Context, c *Client, pending []string, opts SweepOptions, kind sweepKind) SweepResult {
	each := func(ctx context.Context, no string) (bool, error) { return h.Reconcile(ctx, c, no) }
	if kind == refundSweep {
		each = func(ctx context.Context, no string) (bool, error) { return h.ReconcileRefund(ctx, c, no) }
	}
	entries := unique(pending)
	// Without a window, or a client fit to reconcile, each entry gets
	// Reconcile's answer, its error included.
	if opts.Since.IsZero() || len(entries) < minWindowSweep || c == nil || h.checkReconcile(c) != nil {
		return sweepEach(ctx, entries, opts, each)
	}
	interval := opts.Interval
	if interval == 0 {
		interval = DefaultSweepInterval
	}
	w := &windowSweep{h: h, c: c, opts: opts, each: each, res: SweepResult{Failed: map[string]error{}}, pace: &pacer{every: interval}}
	now, since := c.Config.now(), opts.Since
	if since.After(now) {
		since = now // no order is made in the future
	}
	w.since = since.Add(-SweepClockSkew)
	w.until = now.Add(SweepClockSkew)
	if kind == refundSweep {
		w.refunds(ctx, entries)
	} else {
		w.bills(ctx, entries)
	}
	return w.res
}

// unique returns entries without repeats, in their order.
func unique(entries []string) []string {
	out := make([]string, 0, len(entries))
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

// windowCost is how many requests a walk of a list of n records takes
// after its count: its pages, and a count to check them if they are
// several.
func windowCost(n int) int {
	pages := n/MaxLimit + 1
	if pages > 1 {
		return pages + 1
	}
	return pages
}

// windowSweep is one sweep by window; its result is built in entry
// order.
type windowSweep struct {
	h            *WebhookHandler
	c            *Client
	opts         SweepOptions
	each         func(context.Context, string) (bool, error)
	since, until time.Time
	pace         *pacer // Interval between the requests of the sweep
	res          SweepResult
}

// bills sweeps the orders through the paid bills of the window.
func (w *windowSweep) bills(ctx context.Context, orders []string) {
	orders = w.valid(orders, func(no string) error {
		if reason := checkOutTradeNo(no); reason != "" {
			return &ValidationError{Op: "reconcile", Problems: []FieldError{{Field: "bill_no", Reason: reason}}}
		}
		return nil
	})
	q := BillQuery{PaidOnly: true, Since: w.since, Until: w.until, Detail: true}
	n, err := w.count(ctx, func(ctx context.Context) (int, error) { return w.c.CountBills(ctx, q) })
	if err != nil {
		w.failAll(ctx, orders, fmt.Errorf("beecloud: sweep: count the paid bills: %w", err))
		return
	}
	if len(orders) <= windowCost(n) {
		w.merge(sweepEach(ctx, orders, w.opts, w.each))
		return
	}
	want := make(map[string]bool, len(orders))
	for _, no := range orders {
		want[no] = true
	}
	matched := make(map[string]*Bill)
	var walkErr error
	if n > 0 {
		p := w.c.billPager(q)
		p.pace = w.pace
		walkErr = p.walk(ctx, func(b Bill) bool {
			if b.Paid && want[b.OutTradeNo] && matched[b.OutTradeNo] == nil {
				matched[b.OutTradeNo] = &b
			}
			return true
		})
	}
	handleMatched(ctx, w, orders, matched, walkErr, "list the paid bills", func(ctx context.Context, b *Bill) (bool, error) {
		return w.h.reconcileBill(ctx, w.c, b)
	})
}

// refunds sweeps the refunds through the refunds and pre-refunds of the
// window.
func (w *windowSweep) refunds(ctx context.Context, refundNos []string) {
	refundNos = w.valid(refundNos, func(no string) error {
		if no == "" || len(no) > 32 || !isAlnumString(no) {
			return &ValidationError{Op: "refund reconciliation", Problems: []FieldError{{Field: "refund_no", Reason: "must be 1 to 32 letters or digits"}}}
		}
		return nil
	})
	q := RefundQuery{Since: w.since, Until: w.until, Detail: true}
	n, err := w.count(ctx, func(ctx context.Context) (int, error) { return w.c.CountRefunds(ctx, q) })
	if err != nil {
		w.failAll(ctx, refundNos, fmt.Errorf("beecloud: sweep: count the refunds: %w", err))
		return
	}
	if len(refundNos) <= windowCost(n) {
		w.merge(sweepEach(ctx, refundNos, w.opts, w.each))
		return
	}
	want := make(map[string]bool, len(refundNos))
	for _, no := range refundNos {
		want[no] = true
	}
	matched := make(map[string]*Refund)
	keep := func(r Refund) bool {
		if want[r.RefundNo] && matched[r.RefundNo] == nil {
			matched[r.RefundNo] = &r
		}
		return true
	}
	walk := func(q RefundQuery) error {
		p := w.c.refundPager(q)
		p.pace = w.pace
		return p.walk(ctx, keep)
	}
	var walkErr error
	if n > 0 {
		walkErr = walk(q)
	}
	// A refund made for approval is listed among the pre-refunds only.
	if walkErr == nil && len(matched) < len(refundNos) {
		q.NeedApproval = true
		walkErr = walk(q)
	}
	handleMatched(ctx, w, refundNos, matched, walkErr, "list the refunds", func(ctx context.Context, r *Refund) (bool, error) {
		return w.h.reconcileListedRefund(ctx, w.c, r, w.pace)
	})
}

// count runs the sweep's first request, a count, and starts the pacing
// of the next ones.
func (w *windowSweep) count(ctx context.Context, count func(context.Context) (int, error)) (int, error) {
	if err := w.pace.wait(ctx); err != nil {
		return 0, err
	}
	return count(ctx)
}

// valid returns the entries that check accepts; the others fail with
// its error.
func (w *windowSweep) valid(entries []string, check func(string) error) []string {
	out := entries[:0:0]
	for _, e := range entries {
		if err := check(e); err != nil {
			w.res.Failed[e] = err
			continue
		}
		out = append(out, e)
	}
	return out
}

// failAll records err for every entry, or skips them all if ctx ended.
func (w *windowSweep) failAll(ctx context.Context, entries []string, err error) {
	for _, e := range entries {
		if ctx.Err() != nil {
			w.res.Skipped = append(w.res.Skipped, e)
		} else {
			w.res.Failed[e] = err
		}
	}
}

// merge adds r to the sweep's result.
func (w *windowSweep) merge(r SweepResult) {
	w.res.Paid = append(w.res.Paid, r.Paid...)
	w.res.Unpaid = append(w.res.Unpaid, r.Unpaid...)
	w.res.Skipped = append(w.res.Skipped, r.Skipped...)
	for e, err := range r.Failed {
		w.res.Failed[e] = err
	}
}

// handleMatched runs the webhook path for the matched entries with run,
// Concurrency at a time; an entry not matched is unpaid if the list was
// walked to its end, and failed with walkErr (did says what failed) if
// not.
func handleMatched[T any](ctx context.Context, w *windowSweep, entries []string, matched map[string]*T, walkErr error, did string, run func(context.Context, *T) (bool, error)) {
	var found []string
	for _, e := range entries {
		if matched[e] != nil {
			found = append(found, e)
		}
	}
	opts := SweepOptions{Concurrency: w.opts.Concurrency, Interval: -1}
	done := sweepEach(ctx, found, opts, func(ctx context.Context, e string) (bool, error) { return run(ctx, matched[e]) })
	var missed error
	if walkErr != nil {
		missed = fmt.Errorf("beecloud: sweep: %s: %w", did, walkErr)
	}
	in := func(list []string) map[string]bool {
		m := make(map[string]bool, len(list))
		for _, e := range list {
			m[e] = true
		}
		return m
	}
	paid, skipped := in(done.Paid), in(done.Skipped)
	for _, e := range entries {
		switch {
		case paid[e]:
			w.res.Paid = append(w.res.Paid, e)
		case done.Failed[e] != nil:
			w.res.Failed[e] = done.Failed[e]
		case skipped[e]:
			w.res.Skipped = append(w.res.Skipped, e)
		case matched[e] != nil:
			w.res.Unpaid = append(w.res.Unpaid, e)
		case missed != nil && ctx.Err() != nil:
			w.res.Skipped = append(w.res.Skipped, e)
		case missed != nil:
			w.res.Failed[e] = missed
		default:
			w.res.Unpaid = append(w.res.Unpaid, e)
		}
	}
}

// reconcileBill runs the webhook path for the paid bill b found by a
// sweep, as [WebhookHandler.Reconcile] does once it has found it.
func (h *WebhookHandler) reconcileBill(ctx context.Context, c *Client, b *Bill) (bool, error) {
	return h.runReconciled(ctx, reconciled(c.Config, b), "order "+b.OutTradeNo, "bill "+b.ID)
}

// reconcileListedRefund runs the webhook path for the refund r found by a
// sweep if it succeeded, as [WebhookHandler.ReconcileRefund] does once it
// has found it: a refund through a channel without refund webhooks that
// is not finished is asked about first, when pace allows.
func (h *WebhookHandler) reconcileListedRefund(ctx context.Context, c *Client, r *Refund, pace *pacer) (bool, error) {
	if !r.Finished && contains(statusChannels, r.Channel) {
		if err := pace.wait(ctx); err != nil {
			return false, fmt.Errorf("beecloud: reconcile refund %s: %w", r.RefundNo, err)
		}
		status, err := c.RefundStatus(ctx, r.Channel, r.RefundNo)
		if err != nil {
			return false, fmt.Errorf("beecloud: reconcile refund %s: %w", r.RefundNo, err)
		}
		r.Finished, r.Succeeded = status != RefundProcessing, status == RefundSuccess
	}
	if !r.Finished || !r.Succeeded {
		return false, nil
	}
	return h.runReconciled(ctx, refunded(c.Config, r), "refund "+r.RefundNo+" of order "+r.OutTradeNo, "refund record "+r.ID)
}

// refunded returns the notification a refund's webhook would carry for
// the succeeded refund r of the app cfg.
func refunded(cfg Config, r *Refund) *Notification {
	n := &Notification{
		AppID:           cfg.AppID,
		Timestamp:       cfg.now(),
		ChannelType:     webhookChannel(&Bill{Channel: r.Channel, SubChannel: r.SubChannel}),
		SubChannelType:  r.SubChannel,
		TransactionType: TransactionRefund,
		TransactionID:   r.RefundNo,
		TransactionFee:  r.Amount,
		TradeSuccess:    true,
		Optional:        r.Optional,
	}
	if d := strings.TrimSpace(r.MessageDetail); strings.HasPrefix(d, "{") && json.Valid([]byte(d)) {
		n.MessageDetail = json.RawMessage(d)
	}
	return n
}

// sweepTurn is an instance's claim on a period's sweep.
type sweepTurn struct {
	store      Store
	key, token string
	lease      time.Duration
	log        *slog.Logger
	stop, done chan struct{}
}

// takeTurn claims the sweep of kind for the app and the current period in
// the Store. It returns the claim, renewed until its end, or elsewhere if
// another instance holds or completed it. If the Store fails, it returns
// neither: the caller sweeps without a turn.
func (h *WebhookHandler) takeTurn(ctx context.Context, appID string, kind sweepKind, period time.Duration) (turn *sweepTurn, elsewhere bool) {
	slot := time.Now().Truncate(period)
	lease := h.Lease
	if lease <= 0 {
		lease = DefaultLease
	}
	t := &sweepTurn{
		store: h.store(),
		key:   "sweep:" + appID + ":" + kind.String() + ":" + strconv.FormatInt(slot.UnixMilli(), 10) + "+" + period.String(),
		token: "sweep" + randomHex(8),
		lease: lease,
		log:   h.logger(),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	state, err := t.store.Claim(ctx, t.key, t.token, lease)
	switch {
	case err != nil:
		t.log.LogAttrs(ctx, slog.LevelWarn, "beecloud: sweep: the Store failed to claim the period: sweeping anyway",
			slog.String("key", t.key), slog.Any("err", err))
		return nil, false
	case state == ClaimBusy || state == ClaimDone:
		return nil, true
	}
	go t.heartbeat() //nolint:gosec // G118: each renewal has its own timeout and end stops them; a sweep's ending context must not cut a renewal short
	return t, false
}

// heartbeat renews the claim every third of its lease until end.
func (t *sweepTurn) heartbeat() {
	defer close(t.done)
	tick := time.NewTicker(t.lease / 3)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), t.lease/3)
		state, err := t.store.Claim(ctx, t.key, t.token, t.lease)
		cancel()
		switch {
		case err != nil:
			t.log.Warn("beecloud: sweep: the Store failed to renew the claim on the period", "key", t.key, "err", err)
		case state != ClaimOK:
			// Taken over after a lapse: the other instance sweeps too,
			// which costs requests but never a second Handle.
			return
		}
	}
}

// end stops the heartbeat and completes the claim if the sweep finished,
// or releases it for another instance to take over.
func (t *sweepTurn) end(finished bool) {
	close(t.stop)
	<-t.done
	ctx, cancel := context.WithTimeout(context.Background(), t.lease/3)
	defer cancel()
	var err error
	if finished {
		err = t.store.Complete(ctx, t.key, t.token)
	} else {
		err = t.store.Release(ctx, t.key, t.token)
	}
	if err != nil {
		t.log.Warn("beecloud: sweep: the Store failed to record the end of the period's sweep", "key", t.key, "err", err)
	}
}
