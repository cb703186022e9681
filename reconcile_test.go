package beecloud_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

var shopConfig = beecloud.Config{
	AppID:        "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
	AppSecret:    "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
	MasterSecret: "506371c7-b095-45da-bfce-9ae857c41a85",
}

// shop is a merchant's server wired to a sandbox: its orders, a webhook
// handler that counts Handle calls, and a Client of the sandbox's REST
// API.
type shop struct {
	sb      *beecloudtest.Sandbox
	handler *beecloud.WebhookHandler
	client  *beecloud.Client

	mu       sync.Mutex
	orders   map[string]int64 // out_trade_no → amount
	handled  map[string]int   // Notification.Key → Handle calls
	last     map[string]beecloud.Notification
	handleFn func(n *beecloud.Notification) error
}

func newShop(t *testing.T) *shop {
	t.Helper()
	s := &shop{orders: map[string]int64{}, handled: map[string]int{}, last: map[string]beecloud.Notification{}}
	s.handler = &beecloud.WebhookHandler{
		Apps: beecloud.Apps{shopConfig},
		ExpectedAmount: func(ctx context.Context, n *beecloud.Notification) (int64, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if n.TransactionType == beecloud.TransactionRefund {
				return n.TransactionFee, nil
			}
			amount, ok := s.orders[n.TransactionID]
			if !ok {
				return 0, errors.New("no such order")
			}
			return amount, nil
		},
		Handle: func(ctx context.Context, n *beecloud.Notification) error {
			s.mu.Lock()
			fn := s.handleFn
			s.mu.Unlock()
			if fn != nil {
				if err := fn(n); err != nil {
					return err
				}
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			s.handled[n.Key()]++
			s.last[n.Key()] = *n
			return nil
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	srv := httptest.NewServer(s.handler)
	t.Cleanup(srv.Close)
	s.sb = beecloudtest.NewSandbox(beecloudtest.App{Config: shopConfig, WebhookURL: srv.URL})
	t.Cleanup(s.sb.Close)
	s.client = &beecloud.Client{Config: shopConfig, BaseURL: s.sb.URL}
	return s
}

// order records an order of amount and returns its out_trade_no.
func (s *shop) order(amount int64) string {
	no := beecloud.NewOutTradeNo()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders[no] = amount
	return no
}

// pay pays the order no through Alipay in the sandbox.
func (s *shop) pay(t *testing.T, no string, amount int64) beecloudtest.Bill {
	t.Helper()
	params, err := shopConfig.Params(beecloud.Order{Title: "测试", Amount: amount, OutTradeNo: no, Optional: map[string]any{"k": "v"}})
	require.NoError(t, err)
	b, err := s.sb.Pay(shopConfig.AppID, params, beecloud.ChannelAli)
	require.NoError(t, err)
	return b
}

func (s *shop) handleCount(no string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handled[shopConfig.AppID+":PAY:"+no]
}

func TestReconcileRecoversDroppedWebhook(t *testing.T) {
	s := newShop(t)
	ctx := context.Background()
	no := s.order(150)
	s.sb.DropWebhook(no)
	bill := s.pay(t, no, 150)
	d, err := s.sb.WaitDelivery(ctx, no)
	require.NoError(t, err)
	require.True(t, d.Dropped)
	require.Zero(t, s.handleCount(no))

	paid, err := s.handler.Reconcile(ctx, s.client, no)
	require.NoError(t, err)
	require.True(t, paid)
	require.Equal(t, 1, s.handleCount(no))
	s.mu.Lock()
	n := s.last[shopConfig.AppID+":PAY:"+no]
	s.mu.Unlock()
	assert.Equal(t, shopConfig.AppID, n.AppID)
	assert.Equal(t, beecloud.TransactionPay, n.TransactionType)
	assert.Equal(t, no, n.TransactionID)
	assert.Equal(t, int64(150), n.TransactionFee)
	assert.True(t, n.TradeSuccess)
	assert.Equal(t, beecloud.ChannelTypeAli, n.ChannelType)
	assert.Equal(t, "ALI_WEB", n.SubChannelType)
	assert.Equal(t, bill.ChannelTransactionID, n.ChannelTransactionID)
	assert.Equal(t, map[string]any{"k": "v"}, n.Optional)
	assert.Contains(t, string(n.MessageDetail), "TRADE_SUCCESS")
	assert.Empty(t, n.Signature, "a reconciled notification has no signature")

	// Reconcile again, then the webhook after all: both are duplicates.
	paid, err = s.handler.Reconcile(ctx, s.client, no)
	require.NoError(t, err)
	require.True(t, paid)
	d, err = s.sb.Redeliver(ctx, no)
	require.NoError(t, err)
	require.True(t, d.Acknowledged)
	assert.Equal(t, 1, s.handleCount(no))
}

func TestReconcileAfterWebhook(t *testing.T) {
	s := newShop(t)
	ctx := context.Background()
	no := s.order(99)
	s.pay(t, no, 99)
	d, err := s.sb.WaitDelivery(ctx, no)
	require.NoError(t, err)
	require.True(t, d.Acknowledged)
	paid, err := s.handler.Reconcile(ctx, s.client, no)
	require.NoError(t, err)
	require.True(t, paid)
	assert.Equal(t, 1, s.handleCount(no))
}

func TestReconcileUnpaid(t *testing.T) {
	s := newShop(t)
	paid, err := s.handler.Reconcile(context.Background(), s.client, s.order(10))
	require.NoError(t, err)
	assert.False(t, paid)
}

func TestReconcileAmountMismatch(t *testing.T) {
	s := newShop(t)
	no := s.order(100)
	s.sb.DropWebhook(no)
	s.pay(t, no, 1) // a tampered order: the buyer paid 1 分
	paid, err := s.handler.Reconcile(context.Background(), s.client, no)
	require.ErrorIs(t, err, beecloud.ErrAmountMismatch)
	assert.False(t, paid)
	assert.Contains(t, err.Error(), no)
	assert.Zero(t, s.handleCount(no), "a mismatch never reaches Handle")
}

func TestReconcileHandleFails(t *testing.T) {
	s := newShop(t)
	errShop := errors.New("database down")
	s.handleFn = func(*beecloud.Notification) error { return errShop }
	no := s.order(5)
	s.sb.DropWebhook(no)
	s.pay(t, no, 5)
	paid, err := s.handler.Reconcile(context.Background(), s.client, no)
	require.ErrorIs(t, err, errShop)
	assert.False(t, paid)

	s.mu.Lock()
	s.handleFn = nil
	s.mu.Unlock()
	paid, err = s.handler.Reconcile(context.Background(), s.client, no)
	require.NoError(t, err, "a failed Handle is tried again")
	assert.True(t, paid)
}

func TestReconcileQueryFails(t *testing.T) {
	s := newShop(t)
	no := s.order(5)
	s.sb.FailNext(beecloudtest.Fault{Status: 502, Times: 10})
	paid, err := s.handler.Reconcile(context.Background(), s.client, no)
	require.ErrorContains(t, err, "HTTP 502")
	assert.False(t, paid)
}

func TestReconcileMisconfigured(t *testing.T) {
	s := newShop(t)
	ctx := context.Background()
	other := *s.client
	other.Config.AppID = "another-app"
	_, err := s.handler.Reconcile(ctx, &other, s.order(1))
	require.ErrorIs(t, err, beecloud.ErrInvalidConfig)
	require.ErrorContains(t, err, "not one of the WebhookHandler's Apps")

	_, err = s.handler.Reconcile(ctx, nil, s.order(1))
	require.ErrorContains(t, err, "nil Client")

	_, err = s.handler.Reconcile(ctx, s.client, "bad no")
	require.ErrorIs(t, err, beecloud.ErrInvalidRequest)
	var verr *beecloud.ValidationError
	require.ErrorAs(t, err, &verr)
	_, found := verr.Field("bill_no")
	require.True(t, found, "got %q; want a problem with bill_no", err)

	h := &beecloud.WebhookHandler{Apps: beecloud.Apps{shopConfig}}
	_, err = h.Reconcile(ctx, s.client, s.order(1))
	require.ErrorIs(t, err, beecloud.ErrInvalidConfig)
	require.ErrorContains(t, err, "Handle is nil")
}

// TestReconcileRacesWebhook pays 100 orders and reconciles each while the
// sandbox delivers its webhook: Handle runs exactly once per order.
func TestReconcileRacesWebhook(t *testing.T) {
	s := newShop(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	busy, byReconcile := 0, 0
	for range 100 {
		no := s.order(7)
		params, err := shopConfig.Params(beecloud.Order{Title: "测试", Amount: 7, OutTradeNo: no})
		require.NoError(t, err)
		payErr := make(chan error, 1)
		go func() {
			_, err := s.sb.Pay(shopConfig.AppID, params, beecloud.ChannelAli) // the webhook leaves at once
			payErr <- err
		}()
		for {
			paid, err := s.handler.Reconcile(ctx, s.client, no)
			if errors.Is(err, beecloud.ErrBusy) {
				busy++
				continue
			}
			require.NoError(t, err)
			if paid {
				break
			}
		}
		require.NoError(t, <-payErr)
		d, err := s.sb.WaitDelivery(ctx, no)
		require.NoError(t, err)
		require.True(t, d.Acknowledged)
		require.Equal(t, 1, s.handleCount(no), "order %s", no)
		s.mu.Lock()
		if s.last[shopConfig.AppID+":PAY:"+no].Signature == "" {
			byReconcile++
		}
		s.mu.Unlock()
	}
	t.Logf("Handle ran once per order: %d times from Reconcile, %d from the webhook; Reconcile found the webhook busy %d times", byReconcile, 100-byReconcile, busy)
}

func TestReconcileHandlePanics(t *testing.T) {
	s := newShop(t)
	s.handleFn = func(*beecloud.Notification) error { panic("boom") }
	no := s.order(5)
	s.sb.DropWebhook(no)
	s.pay(t, no, 5)
	res := s.handler.Sweep(context.Background(), s.client, []string{no}, beecloud.SweepOptions{})
	require.ErrorContains(t, res.Failed[no], "Handle panicked: boom")

	s.mu.Lock()
	s.handleFn = nil
	s.mu.Unlock()
	paid, err := s.handler.Reconcile(context.Background(), s.client, no)
	require.NoError(t, err, "the claim was released")
	assert.True(t, paid)
}

func (s *shop) refundCount(refundNo string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handled[shopConfig.AppID+":REFUND:"+refundNo]
}

func TestReconcileRefund(t *testing.T) {
	s := newShop(t)
	ctx := context.Background()
	payThrough := func(ch beecloud.Channel) string {
		no := s.order(100)
		params, err := shopConfig.Params(beecloud.Order{Title: "测试", Amount: 100, OutTradeNo: no})
		require.NoError(t, err)
		_, err = s.sb.Pay(shopConfig.AppID, params, ch)
		require.NoError(t, err)
		_, err = s.sb.WaitDelivery(ctx, no)
		require.NoError(t, err)
		return no
	}

	t.Run("WeChat sends no refund webhook", func(t *testing.T) {
		no := payThrough(beecloud.ChannelWxMP)
		refundNo := beecloud.NewRefundNo(time.Now())
		_, err := s.client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: no, RefundNo: refundNo, Amount: 40})
		require.NoError(t, err)
		require.Zero(t, s.refundCount(refundNo))
		for range 2 {
			done, err := s.handler.ReconcileRefund(ctx, s.client, refundNo)
			require.NoError(t, err)
			require.True(t, done)
		}
		assert.Equal(t, 1, s.refundCount(refundNo))
		s.mu.Lock()
		n := s.last[shopConfig.AppID+":REFUND:"+refundNo]
		s.mu.Unlock()
		assert.Equal(t, beecloud.TransactionRefund, n.TransactionType)
		assert.Equal(t, int64(40), n.TransactionFee)
		assert.Equal(t, beecloud.ChannelTypeWx, n.ChannelType)
		assert.Equal(t, "WX_NATIVE", n.SubChannelType)
	})
	t.Run("after the refund's webhook", func(t *testing.T) {
		no := payThrough(beecloud.ChannelAli)
		refundNo := beecloud.NewRefundNo(time.Now())
		_, err := s.client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: no, RefundNo: refundNo, Amount: 100})
		require.NoError(t, err)
		d, err := s.sb.WaitDelivery(ctx, no)
		require.NoError(t, err)
		require.True(t, d.Acknowledged)
		done, err := s.handler.ReconcileRefund(ctx, s.client, refundNo)
		require.NoError(t, err)
		require.True(t, done)
		assert.Equal(t, 1, s.refundCount(refundNo))
	})
	t.Run("waiting for approval, then approved", func(t *testing.T) {
		no := payThrough(beecloud.ChannelWxMP)
		refundNo := beecloud.NewRefundNo(time.Now())
		res, err := s.client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: no, RefundNo: refundNo, Amount: 1, NeedApproval: true})
		require.NoError(t, err)
		done, err := s.handler.ReconcileRefund(ctx, s.client, refundNo)
		require.NoError(t, err)
		assert.False(t, done, "a pre-refund waiting for approval is not done")
		_, err = s.client.ApproveRefunds(ctx, beecloud.RefundApproval{Channel: "WX", IDs: []string{res.ID}, Agree: true})
		require.NoError(t, err)
		done, err = s.handler.ReconcileRefund(ctx, s.client, refundNo)
		require.NoError(t, err)
		assert.True(t, done)
		assert.Equal(t, 1, s.refundCount(refundNo))
	})
	t.Run("unknown", func(t *testing.T) {
		done, err := s.handler.ReconcileRefund(ctx, s.client, beecloud.NewRefundNo(time.Now()))
		require.NoError(t, err)
		assert.False(t, done)
	})
	t.Run("bad refund number", func(t *testing.T) {
		_, err := s.handler.ReconcileRefund(ctx, s.client, "no-dashes")
		require.ErrorIs(t, err, beecloud.ErrInvalidRequest)
		var verr *beecloud.ValidationError
		require.ErrorAs(t, err, &verr)
		_, found := verr.Field("refund_no")
		require.True(t, found, "got %q; want a problem with refund_no", err)
	})
}
