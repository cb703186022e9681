package beecloud_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// sweepShop is a shop's orders and a WebhookHandler that counts Handle
// calls, for sweeps against a sandbox or a fakeBeeCloud.
type sweepShop struct {
	handler *beecloud.WebhookHandler

	mu      sync.Mutex
	amounts map[string]int64 // out_trade_no → amount
	handled map[string]int   // Notification.Key → Handle calls
}

func newSweepShop(store beecloud.Store) *sweepShop {
	s := &sweepShop{amounts: map[string]int64{}, handled: map[string]int{}}
	s.handler = &beecloud.WebhookHandler{
		Apps:  beecloud.Apps{shopConfig},
		Store: store,
		ExpectedAmount: func(ctx context.Context, n *beecloud.Notification) (int64, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if n.TransactionType == beecloud.TransactionRefund {
				return n.TransactionFee, nil
			}
			amount, ok := s.amounts[n.TransactionID]
			if !ok {
				return 0, errors.New("no such order")
			}
			return amount, nil
		},
		Handle: func(ctx context.Context, n *beecloud.Notification) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.handled[n.Key()]++
			return nil
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	return s
}

func (s *sweepShop) order(amount int64) string {
	no := beecloud.NewOutTradeNo()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.amounts[no] = amount
	return no
}

// handledKeys returns the keys Handle ran for, and how often.
func (s *sweepShop) handledKeys() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.handled))
	for k, v := range s.handled {
		out[k] = v
	}
	return out
}

func payKey(no string) string    { return shopConfig.AppID + ":PAY:" + no }
func refundKey(no string) string { return shopConfig.AppID + ":REFUND:" + no }

// requestCounter counts the requests it passes to next.
type requestCounter struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (c *requestCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// sandboxShop is a sweepShop whose app is served by a sandbox that sends
// no webhooks, and a Client counting its requests.
func sandboxShop(t *testing.T) (*sweepShop, *beecloudtest.Sandbox, *beecloud.Client, *requestCounter) {
	t.Helper()
	s := newSweepShop(nil)
	sb := beecloudtest.NewUnstartedSandbox(beecloudtest.App{Config: shopConfig})
	sb.MaxBills = 10000
	sb.Start()
	t.Cleanup(sb.Close)
	ct := &requestCounter{next: http.DefaultTransport}
	c := &beecloud.Client{Config: shopConfig, BaseURL: sb.URL, HTTPClient: &http.Client{Transport: ct}}
	return s, sb, c, ct
}

// payIn pays the order no of amount in the sandbox.
func payIn(t *testing.T, sb *beecloudtest.Sandbox, no string, amount int64) {
	t.Helper()
	params, err := shopConfig.Params(beecloud.Order{Title: "测试", Amount: amount, OutTradeNo: no})
	require.NoError(t, err)
	_, err = sb.Pay(shopConfig.AppID, params, beecloud.ChannelAli)
	require.NoError(t, err)
}

// TestSweepByWindow: 5,000 pending orders of which 40 are paid, with 1,000
// other paid bills in the window, cost a count and the pages of 1,040
// paid bills, and Handle runs once for each of the 40.
func TestSweepByWindow(t *testing.T) {
	s, sb, c, ct := sandboxShop(t)
	since := time.Now().Add(-time.Hour)
	var pending, paid []string
	for i := range 5000 {
		no := s.order(100)
		pending = append(pending, no)
		if i%125 == 7 {
			paid = append(paid, no)
		}
	}
	require.Len(t, paid, 40)
	for i := range 1000 {
		payIn(t, sb, beecloud.NewOutTradeNo(), 100)
		if i%25 == 0 {
			payIn(t, sb, paid[i/25], 100)
		}
	}
	res := s.handler.Sweep(context.Background(), c, pending, beecloud.SweepOptions{Since: since})
	require.NoError(t, res.Err())
	assert.Equal(t, paid, res.Paid, "the 40 paid, in the order of the pending orders")
	assert.Len(t, res.Unpaid, 4960)
	assert.LessOrEqual(t, ct.n.Load(), int64(1040/50+10))
	t.Logf("%d requests", ct.n.Load())
	handled := s.handledKeys()
	assert.Len(t, handled, 40)
	for _, no := range paid {
		assert.Equal(t, 1, handled[payKey(no)], no)
	}

	// The next sweep finds them handled and runs Handle for none.
	res = s.handler.Sweep(context.Background(), c, pending, beecloud.SweepOptions{Since: since})
	require.NoError(t, res.Err())
	assert.Equal(t, paid, res.Paid)
	assert.Equal(t, handled, s.handledKeys())
}

// TestSweepFewOrders: a sweep of a few orders costs about a request per
// order, whether it is given a window or not.
func TestSweepFewOrders(t *testing.T) {
	s, sb, c, ct := sandboxShop(t)
	since := time.Now().Add(-time.Hour)
	for range 200 {
		payIn(t, sb, beecloud.NewOutTradeNo(), 100)
	}
	pending := []string{s.order(100), s.order(100), s.order(100)}
	payIn(t, sb, pending[1], 100)
	for _, opts := range []beecloud.SweepOptions{{Since: since, Interval: -1}, {Interval: -1}} {
		ct.n.Store(0)
		res := s.handler.Sweep(context.Background(), c, pending, opts)
		require.NoError(t, res.Err())
		assert.Equal(t, []string{pending[1]}, res.Paid)
		assert.Equal(t, []string{pending[0], pending[2]}, res.Unpaid)
		assert.LessOrEqual(t, ct.n.Load(), int64(4), "since %v", opts.Since)
	}
	assert.Equal(t, map[string]int{payKey(pending[1]): 1}, s.handledKeys())

	// Three orders and no paid bill in the window: the count answers.
	ct.n.Store(0)
	s2, _, c2, ct2 := sandboxShop(t)
	res := s2.handler.Sweep(context.Background(), c2, []string{s2.order(1), s2.order(1), s2.order(1)}, beecloud.SweepOptions{Since: since})
	require.NoError(t, res.Err())
	assert.Len(t, res.Unpaid, 3)
	assert.Equal(t, int64(1), ct2.n.Load())
}

// TestSweepBillsCreatedMidSweep: bills made in the sandbox while a sweep
// pages through the paid bills shift its pages; no bill made before is
// lost, none is handled twice, and those made meanwhile are handled now
// or by the next sweep, once.
func TestSweepBillsCreatedMidSweep(t *testing.T) {
	s, sb, c, ct := sandboxShop(t)
	since := time.Now().Add(-time.Hour)
	var pending, paidBefore, paidMeanwhile []string
	for i := range 300 {
		no := s.order(100)
		pending = append(pending, no)
		switch i % 10 {
		case 0:
			paidBefore = append(paidBefore, no)
			payIn(t, sb, no, 100)
		case 5:
			paidMeanwhile = append(paidMeanwhile, no)
		}
		payIn(t, sb, beecloud.NewOutTradeNo(), 100)
	}
	// Before every page after the first, three bills are paid: one of a
	// pending order, two of other orders.
	var pages atomic.Int64
	var next atomic.Int64
	c.HTTPClient.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Path == "/2/rest/bills" && pages.Add(1) > 1 {
			if i := next.Add(1) - 1; i < int64(len(paidMeanwhile)) {
				payIn(t, sb, paidMeanwhile[i], 100)
			}
			payIn(t, sb, beecloud.NewOutTradeNo(), 100)
			payIn(t, sb, beecloud.NewOutTradeNo(), 100)
		}
		return ct.RoundTrip(r)
	})
	res := s.handler.Sweep(context.Background(), c, pending, beecloud.SweepOptions{Since: since, Interval: -1})
	require.NoError(t, res.Err())
	require.Greater(t, pages.Load(), int64(5), "the sweep paged")
	made := int(min(next.Load(), int64(len(paidMeanwhile))))
	require.Positive(t, made)
	for _, no := range paidBefore {
		assert.Contains(t, res.Paid, no)
	}
	for _, no := range paidMeanwhile[:made] {
		assert.Contains(t, res.Paid, no, "paid while the sweep paged, found by its count")
	}
	for _, no := range paidMeanwhile[made:] {
		assert.Contains(t, res.Unpaid, no, "not paid yet")
	}
	for k, n := range s.handledKeys() {
		assert.Equal(t, 1, n, k)
	}
	t.Logf("%d requests, %d pages, %d of the pending orders paid while it paged, %d of them seen", ct.n.Load(), pages.Load(), made, len(res.Paid)-len(paidBefore))

	c.HTTPClient.Transport = ct
	for _, no := range paidMeanwhile[made:] {
		payIn(t, sb, no, 100)
	}
	res = s.handler.Sweep(context.Background(), c, pending, beecloud.SweepOptions{Since: since, Interval: -1})
	require.NoError(t, res.Err())
	assert.ElementsMatch(t, append(slices.Clone(paidBefore), paidMeanwhile...), res.Paid)
	handled := s.handledKeys()
	assert.Len(t, handled, len(paidBefore)+len(paidMeanwhile))
	for k, n := range handled {
		assert.Equal(t, 1, n, k)
	}
}

// TestSweepWhateverTheOrder: whatever order BeeCloud lists bills in, even
// a new one on every request, and with bills made while it pages, a sweep
// by window finds every paid pending order.
func TestSweepWhateverTheOrder(t *testing.T) {
	for _, order := range []listOrder{newestFirst, oldestFirst, shuffled} {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			f := newFakeBeeCloud(order)
			s := newSweepShop(nil)
			now := time.Now()
			since := now.Add(-48 * time.Hour)
			var pending, paid []string
			for i := range 600 {
				no := s.order(100)
				pending = append(pending, no)
				at := since.Add(time.Duration(i) * 4 * time.Minute)
				if i%15 == 0 {
					paid = append(paid, no)
					f.addBill(no, 100, true, at)
				} else {
					f.addBill(no, 100, false, at)
				}
				f.addBill(beecloud.NewOutTradeNo(), 100, true, at.Add(time.Second))
			}
			// Paid bills keep coming, in the middle of the window too.
			f.before = func(path string, n int64) {
				if path == "/2/rest/bills" {
					f.addBill(beecloud.NewOutTradeNo(), 100, true, since.Add(time.Duration(n)*time.Hour))
				}
			}
			c := &beecloud.Client{Config: shopConfig, BaseURL: "http://beecloud.invalid", HTTPClient: f.client()}
			res := s.handler.Sweep(context.Background(), c, pending, beecloud.SweepOptions{Since: since, Interval: -1})
			require.NoError(t, res.Err())
			assert.Equal(t, paid, res.Paid)
			assert.Len(t, res.Unpaid, len(pending)-len(paid))
			for k, n := range s.handledKeys() {
				assert.Equal(t, 1, n, k)
			}
			t.Logf("%d requests", f.requests.Load())
		})
	}
}

func (o listOrder) String() string {
	return [...]string{"newest first", "oldest first", "shuffled"}[o]
}

// TestSweepRefundsByWindow: pending refunds are reconciled from the
// refund list of the window, Handle once for each that succeeded.
func TestSweepRefundsByWindow(t *testing.T) {
	s, sb, c, ct := sandboxShop(t)
	since := time.Now().Add(-time.Hour)
	ctx := context.Background()
	var done, approval []string
	for i := range 12 {
		no := s.order(100)
		payIn(t, sb, no, 100)
		refundNo := beecloud.NewRefundNo(time.Now())
		_, err := c.Refund(ctx, beecloud.RefundRequest{OutTradeNo: no, RefundNo: refundNo, Amount: 40, NeedApproval: i%4 == 3})
		require.NoError(t, err)
		if i%4 == 3 {
			approval = append(approval, refundNo)
		} else {
			done = append(done, refundNo)
		}
	}
	unknown := beecloud.NewRefundNo(time.Now())
	pending := append(append(slices.Clone(done), approval...), unknown)

	ct.n.Store(0)
	res := s.handler.SweepRefunds(ctx, c, pending, beecloud.SweepOptions{Since: since, Interval: -1})
	require.NoError(t, res.Err())
	assert.Equal(t, done, res.Paid)
	assert.Equal(t, append(slices.Clone(approval), unknown), res.Unpaid, "pre-refunds wait for approval")
	assert.LessOrEqual(t, ct.n.Load(), int64(4), "a count and a page of refunds, a page of pre-refunds")
	handled := s.handledKeys()
	assert.Len(t, handled, len(done))
	for _, no := range done {
		assert.Equal(t, 1, handled[refundKey(no)])
	}

	// Approved, the pre-refunds are found among the pre-refunds.
	var ids []string
	for _, r := range sb.Refunds() {
		if r.NeedApproval {
			ids = append(ids, r.ID)
		}
	}
	_, err := c.ApproveRefunds(ctx, beecloud.RefundApproval{Channel: "ALI", IDs: ids, Agree: true})
	require.NoError(t, err)
	res = s.handler.SweepRefunds(ctx, c, pending, beecloud.SweepOptions{Since: since, Interval: -1})
	require.NoError(t, res.Err())
	assert.Equal(t, append(slices.Clone(done), approval...), res.Paid)
	assert.Len(t, s.handledKeys(), len(done)+len(approval))
}

// TestSweepRefundsStatusChannel: a listed refund of a channel without
// refund webhooks that is not finished is asked about, and handled once
// it succeeded.
func TestSweepRefundsStatusChannel(t *testing.T) {
	f := newFakeBeeCloud(newestFirst)
	s := newSweepShop(nil)
	now := time.Now()
	var pending []string
	for i := range 5 {
		no := beecloud.NewRefundNo(now)
		pending = append(pending, no)
		f.addRefund(fakeRefund{billNo: beecloud.NewOutTradeNo(), refundNo: no, channel: "WX", fee: 10, finished: i != 0, succeeded: i != 0, created: now.UnixMilli()})
	}
	for range 60 {
		f.addRefund(fakeRefund{billNo: beecloud.NewOutTradeNo(), refundNo: beecloud.NewRefundNo(now), channel: "ALI", fee: 10, finished: true, succeeded: true, created: now.UnixMilli()})
	}
	c := &beecloud.Client{Config: shopConfig, BaseURL: "http://beecloud.invalid", HTTPClient: f.client()}
	res := s.handler.SweepRefunds(context.Background(), c, pending, beecloud.SweepOptions{Since: now.Add(-time.Hour), Interval: -1})
	require.NoError(t, res.Err())
	assert.Equal(t, pending, res.Paid)
	// A count, two pages and a check, and the status of the unfinished one.
	assert.Equal(t, int64(5), f.requests.Load())
	assert.Len(t, s.handledKeys(), 5)
}

// TestSweepWindowFailures: orders the window sweep cannot vouch for are
// failed with the cause, not reported unpaid.
func TestSweepWindowFailures(t *testing.T) {
	f := newFakeBeeCloud(newestFirst)
	s := newSweepShop(nil)
	now := time.Now()
	var pending []string
	for range 200 {
		no := s.order(100)
		pending = append(pending, no)
		f.addBill(beecloud.NewOutTradeNo(), 100, true, now)
	}
	f.addBill(pending[3], 100, true, now)
	s.amounts[pending[3]] = 99
	bad := "no spaces allowed"
	pending = append(pending, bad)
	c := &beecloud.Client{Config: shopConfig, BaseURL: "http://beecloud.invalid", HTTPClient: f.client()}
	c.HTTPClient.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if f.requests.Load() >= 2 { // the count and the first page pass
			return fakeAnswer(map[string]any{"result_code": beecloud.CodeRuntimeError, "result_msg": "RUNTIME_ERROR", "err_detail": "database down"}), nil
		}
		return f.RoundTrip(r)
	})
	res := s.handler.Sweep(context.Background(), c, pending, beecloud.SweepOptions{Since: now.Add(-time.Hour), Interval: -1})
	var reqErr *beecloud.ValidationError
	require.ErrorAs(t, res.Failed[bad], &reqErr)
	require.ErrorIs(t, res.Failed[pending[3]], beecloud.ErrAmountMismatch, "found on the first page, handled")
	assert.Empty(t, res.Unpaid, "the walk broke off: no order can be called unpaid")
	assert.Empty(t, res.Paid)
	assert.Len(t, res.Failed, len(pending))
	var apiErr *beecloud.APIError
	require.ErrorAs(t, res.Failed[pending[0]], &apiErr)
	assert.Equal(t, beecloud.CodeRuntimeError, apiErr.Code)
	assert.Empty(t, s.handledKeys())
}
