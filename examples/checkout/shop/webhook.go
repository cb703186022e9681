package shop

import (
	"context"
	"errors"
	"fmt"

	"github.com/paybutton/beecloud"
)

// webhookHandler returns the endpoint BeeCloud (or the sandbox) POSTs to.
// beecloud.WebhookHandler verifies the signature and drops duplicates; the
// shop checks the amount against its order, or its refund, and records it.
// The same handler reconciles orders with BeeCloud (see check and
// RunSweeper), so that a payment is recorded once whichever way the shop
// hears of it first.
func (s *Shop) webhookHandler() *beecloud.WebhookHandler {
	return &beecloud.WebhookHandler{
		Apps:           beecloud.Apps{s.cfg.BeeCloud},
		Store:          s.cfg.Store,
		Logger:         s.log,
		ExpectedAmount: s.expectedAmount,
		Handle:         s.handle,
	}
}

// expectedAmount is the amount the shop's own records say: the order's for
// a payment, the refund's for a refund.
func (s *Shop) expectedAmount(_ context.Context, n *beecloud.Notification) (int64, error) {
	if n.TransactionType == beecloud.TransactionRefund {
		var amount int64
		if _, err := s.orders.UpdateRefund(n.TransactionID, func(r *Refund) { amount = r.Amount }); err != nil {
			// A refund made elsewhere (on BeeCloud's dashboard): there is
			// nothing to compare with, and refusing it would have
			// BeeCloud send it for days. handle logs it.
			return n.TransactionFee, nil
		}
		return amount, nil
	}
	order, ok := s.orders.Get(n.TransactionID)
	if !ok {
		// An error, not "success": BeeCloud sends again, which gives a
		// lagging order database time to catch up. The order book never
		// forgets an unpaid order while BeeCloud may still send its
		// webhook (see PendingTTL).
		return 0, fmt.Errorf("%w %q", ErrUnknownOrder, n.TransactionID)
	}
	return order.Amount, nil
}

// ErrFailedOnPurpose is the error of the webhooks the shop fails by
// [Config].FailFirst.
var ErrFailedOnPurpose = errors.New("shop: webhook failed on purpose (-fail-first), BeeCloud will send it again")

// handle records a payment or a refund. beecloud.WebhookHandler runs it
// once per transaction, and again only after it returned an error.
func (s *Shop) handle(_ context.Context, n *beecloud.Notification) error {
	switch {
	case !n.TradeSuccess:
		s.log.Info("shop: webhook ignored", "transaction_type", n.TransactionType, "trade_success", false, "transaction_id", n.TransactionID)
		return nil
	case n.TransactionType == beecloud.TransactionPay:
		return s.handlePayment(n)
	case n.TransactionType == beecloud.TransactionRefund:
		return s.handleRefund(n)
	}
	s.log.Info("shop: webhook ignored", "transaction_type", n.TransactionType, "transaction_id", n.TransactionID)
	return nil
}

// handlePayment marks the order paid.
func (s *Shop) handlePayment(n *beecloud.Notification) error {
	// A reconciled payment (the shop asked BeeCloud) carries no signature.
	by := "webhook"
	if n.Signature == "" {
		by = "reconciliation"
	}
	if by == "webhook" && s.cfg.FailFirst > 0 && s.orders.failWebhook(n.TransactionID, s.cfg.FailFirst) {
		// The handler answers an error, not success, and forgets that it
		// saw this payment: BeeCloud's resend runs Handle again.
		return fmt.Errorf("%w: order %s", ErrFailedOnPurpose, n.TransactionID)
	}
	changed, err := s.orders.MarkPaid(Payment{
		OutTradeNo:           n.TransactionID,
		Amount:               n.TransactionFee,
		Channel:              n.ChannelType.String(),
		SubChannel:           n.SubChannelType,
		ChannelTransactionID: n.ChannelTransactionID,
		At:                   s.cfg.Now(),
		By:                   by,
	})
	if err != nil {
		return err
	}
	if changed {
		s.log.Info("shop: order paid", "out_trade_no", n.TransactionID, "amount", n.TransactionFee, "channel", n.SubChannelType, "by", by)
	}
	return nil
}

// handleRefund marks the refund done: the channel gave the money back.
func (s *Shop) handleRefund(n *beecloud.Notification) error {
	at := s.cfg.Now()
	no, err := s.orders.UpdateRefund(n.TransactionID, func(r *Refund) {
		r.Succeeded, r.Failed, r.Unknown, r.Done = true, false, false, at
	})
	if err != nil {
		s.log.Warn("shop: refund not made by this shop (on BeeCloud's dashboard?)", "refund_no", n.TransactionID, "amount", n.TransactionFee)
		return nil
	}
	s.log.Info("shop: order refunded", "out_trade_no", no, "refund_no", n.TransactionID, "amount", n.TransactionFee)
	return nil
}
