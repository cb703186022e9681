package shop

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/paybutton/beecloud"
)

// checkTimeout bounds how long the "check payment status" button waits
// for BeeCloud; checkEvery is how often it may ask about one order.
const (
	checkTimeout = 15 * time.Second
	checkEvery   = 5 * time.Second
)

// checkNotices are what the result page says after the buyer pressed
// "check payment status", by the outcome in its ?checked= parameter.
var checkNotices = map[string]string{
	"paid":   "支付平台确认已收到付款。 · BeeCloud confirms the payment.",
	"nobill": "支付平台没有这笔订单的付款记录：您还没有开始支付。 · BeeCloud has no payment for this order: it was never started.",
	"unpaid": "支付平台显示这笔订单的支付没有完成（失败或已取消），没有扣款。 · BeeCloud says the payment was not completed (it failed or was cancelled); nothing was charged.",
	"busy":   "付款通知正在处理中，请稍候刷新。 · The payment notice is being handled right now; reload in a moment.",
	"error":  "暂时无法向支付平台查询，请稍后再试。 · The shop could not reach BeeCloud; try again later.",
	"wait":   "刚刚查询过，请几秒后再试。 · The shop asked BeeCloud a moment ago; try again in a few seconds.",
}

// check asks BeeCloud about an unpaid order, for a buyer whose webhook is
// late: WebhookHandler.Reconcile records a paid bill exactly as its webhook
// would. It redirects to the result page with the outcome.
func (s *Shop) check(w http.ResponseWriter, r *http.Request) {
	no := r.PathValue("no")
	if _, ok := s.orders.Get(no); !ok || s.cfg.Client == nil {
		s.notFound(w, no)
		return
	}
	outcome := "wait"
	if s.orders.allowCheck(no, s.cfg.Now(), checkEvery) {
		ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
		defer cancel()
		outcome = s.reconcile(ctx, no)
	}
	http.Redirect(w, r, ResultPath+no+"?checked="+outcome, http.StatusSeeOther) //nolint:gosec // G710: no is an order in the book, outcome a fixed word
}

// reconcile asks BeeCloud about order no and says what it found: paid,
// nobill, unpaid, busy or error.
func (s *Shop) reconcile(ctx context.Context, no string) string {
	paid, err := s.webhook.Reconcile(ctx, s.cfg.Client, no)
	switch {
	case errors.Is(err, beecloud.ErrBusy):
		return "busy"
	case err != nil:
		s.log.Warn("shop: cannot reconcile the order", "out_trade_no", no, "err", err)
		return "error"
	case paid:
		return "paid"
	}
	// Not paid: did the buyer reach a pay page at all?
	n, err := s.cfg.Client.CountBills(ctx, beecloud.BillQuery{OutTradeNo: no})
	switch {
	case err != nil:
		s.log.Warn("shop: cannot count the order's bills", "out_trade_no", no, "err", err)
		return "unpaid"
	case n == 0:
		return "nobill"
	}
	return "unpaid"
}

// RunSweeper runs Sweep every Config.SweepEvery until ctx ends: a payment whose
// webhook never came is recorded all the same, once. It does nothing
// without a Client or with a negative SweepEvery.
func (s *Shop) RunSweeper(ctx context.Context) {
	if s.cfg.Client == nil || s.cfg.SweepEvery < 0 {
		return
	}
	t := time.NewTicker(s.cfg.SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Sweep(ctx)
		}
	}
}

// Sweep reconciles once the orders still unpaid SweepAfter after they were
// made (see [Orders.Unpaid]), and returns what BeeCloud said of them.
// beecloud's Sweep lists the paid bills made since the oldest of them
// rather than ask about each order, and the shop's instances, which share
// the handler's Store, take turns: one sweeps each SweepEvery.
func (s *Shop) Sweep(ctx context.Context) beecloud.SweepResult {
	s.sweeps.Add(1)
	if s.cfg.Client == nil {
		return beecloud.SweepResult{}
	}
	pending, since := s.orders.Unpaid(s.cfg.Now(), s.cfg.SweepAfter)
	if len(pending) == 0 {
		return beecloud.SweepResult{}
	}
	opts := beecloud.SweepOptions{Since: since}
	if s.cfg.SweepEvery > 0 {
		opts.Period = s.cfg.SweepEvery
	}
	res := s.webhook.Sweep(ctx, s.cfg.Client, pending, opts)
	if len(res.Paid) > 0 {
		s.log.Info("shop: sweep found paid orders", "paid", res.Paid)
	}
	if err := res.Err(); err != nil {
		s.log.Warn("shop: sweep", "err", err)
	}
	return res
}

// Sweeps returns how many sweeps have begun, for a health page or a test.
func (s *Shop) Sweeps() int64 { return s.sweeps.Load() }
