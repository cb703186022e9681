package shop

import (
	"context"
	"fmt"
	"net/http"

	"github.com/paybutton/beecloud"
)

// webhookHandler returns the endpoint BeeCloud (or the sandbox) POSTs to.
// beecloud.WebhookHandler verifies the signature and drops duplicates; the
// shop checks the amount against its order and marks the order paid.
func (s *shop) webhookHandler() http.Handler {
	return &beecloud.WebhookHandler{
		Config:         s.cfg.BeeCloud,
		Store:          s.cfg.Store,
		Logger:         s.log,
		ExpectedAmount: s.expectedAmount,
		Handle:         s.handlePayment,
	}
}

// expectedAmount is the amount the shop's own order says, which the
// webhook's transaction_fee must equal.
func (s *shop) expectedAmount(_ context.Context, n *beecloud.Notification) (int64, error) {
	if n.TransactionType != "PAY" {
		return n.TransactionFee, nil // the shop does not check refunds
	}
	order, ok := s.orders.Get(n.TransactionID)
	if !ok {
		// An error, not "success": BeeCloud sends again, which gives a
		// lagging order database time to catch up.
		return 0, fmt.Errorf("%w %q", ErrUnknownOrder, n.TransactionID)
	}
	return order.Amount, nil
}

// handlePayment marks the order paid. It runs once per transaction.
func (s *shop) handlePayment(_ context.Context, n *beecloud.Notification) error {
	if n.TransactionType != "PAY" || !n.TradeSuccess {
		s.log.Info("shop: webhook ignored", "transaction_type", n.TransactionType, "trade_success", n.TradeSuccess, "out_trade_no", n.TransactionID)
		return nil
	}
	changed, err := s.orders.MarkPaid(Payment{
		OutTradeNo:           n.TransactionID,
		Amount:               n.TransactionFee,
		Channel:              n.ChannelType,
		SubChannel:           n.SubChannelType,
		ChannelTransactionID: n.ChannelTransactionID,
		At:                   s.cfg.Now(),
	})
	if err != nil {
		return err
	}
	if changed {
		s.log.Info("shop: order paid", "out_trade_no", n.TransactionID, "amount", n.TransactionFee, "channel", n.SubChannelType)
	}
	return nil
}
