package shop

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/paybutton/beecloud"
)

// webhookHandler returns the endpoint BeeCloud (or the sandbox) POSTs to.
// beecloud.WebhookHandler verifies the signature and drops duplicates; the
// shop checks the amount against its order and marks the order paid.
func (s *shop) webhookHandler() http.Handler {
	return &beecloud.WebhookHandler{
		Apps:           beecloud.Apps{s.cfg.BeeCloud},
		Store:          s.cfg.Store,
		Logger:         s.log,
		ExpectedAmount: s.expectedAmount,
		Handle:         s.handlePayment,
	}
}

// expectedAmount is the amount the shop's own order says, which a
// payment's transaction_fee must equal. The handler asks only for payments.
func (s *shop) expectedAmount(_ context.Context, n *beecloud.Notification) (int64, error) {
	order, ok := s.orders.Get(n.TransactionID)
	if !ok {
		// An error, not "success": BeeCloud sends again, which gives a
		// lagging order database time to catch up.
		return 0, fmt.Errorf("%w %q", ErrUnknownOrder, n.TransactionID)
	}
	return order.Amount, nil
}

// ErrFailedOnPurpose is the error of the webhooks the shop fails by
// [Config].FailFirst.
var ErrFailedOnPurpose = errors.New("shop: webhook failed on purpose (-fail-first), BeeCloud will send it again")

// handlePayment marks the order paid. beecloud.WebhookHandler runs it once
// per transaction, and again only after it returned an error.
func (s *shop) handlePayment(ctx context.Context, n *beecloud.Notification) error {
	if n.TransactionType != beecloud.TransactionPay || !n.TradeSuccess {
		s.log.Info("shop: webhook ignored", "transaction_type", n.TransactionType, "trade_success", n.TradeSuccess, "out_trade_no", n.TransactionID)
		return nil
	}
	if s.cfg.FailFirst > 0 && s.orders.failWebhook(n.TransactionID, s.cfg.FailFirst) {
		// The handler answers an error, not success, and forgets that it
		// saw this payment: BeeCloud's resend runs Handle again.
		return fmt.Errorf("%w: order %s", ErrFailedOnPurpose, n.TransactionID)
	}
	changed, err := s.orders.MarkPaid(Payment{
		OutTradeNo:           n.TransactionID,
		Amount:               n.TransactionFee,
		Channel:              n.ChannelType,
		SubChannel:           n.SubChannelType,
		ChannelTransactionID: n.ChannelTransactionID,
		At:                   s.cfg.Now(),
		By:                   paidBy(ctx),
	})
	if err != nil {
		return err
	}
	if changed {
		s.log.Info("shop: order paid", "out_trade_no", n.TransactionID, "amount", n.TransactionFee, "channel", n.SubChannelType)
	}
	return nil
}

// reconciling marks a context in which the shop asks BeeCloud about an
// order (WebhookHandler.Reconcile runs Handle with it), so that the order
// records how it was found paid.
type reconciling struct{}

func paidBy(ctx context.Context) string {
	if ctx.Value(reconciling{}) != nil {
		return "reconciliation"
	}
	return "webhook"
}
