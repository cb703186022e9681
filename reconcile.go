package beecloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
)

// ErrBusy means another delivery of the same transaction, a webhook or
// another [WebhookHandler.Reconcile], is running Handle right now: its
// outcome decides. Try again later.
var ErrBusy = errors.New("beecloud: transaction is being handled by another delivery")

// Reconcile asks BeeCloud, through c, whether the order outTradeNo is paid,
// for when its webhook is late or never comes. If a bill of the order is
// paid, Reconcile handles the payment exactly as the handler handles a
// webhook: it builds the PAY [Notification] the webhook would carry and
// runs the same steps with the same Store key (claim, ExpectedAmount,
// Handle, completion). Handle therefore runs once per order whichever
// comes first: a webhook that arrives after Reconcile is a duplicate,
// answered success without calling Handle, and Reconcile after the
// webhook calls nothing.
//
// The Notification has the app's AppID (c.Config.AppID, which must be
// one of h.Apps), TransactionType [TransactionPay], TransactionID
// outTradeNo, TransactionFee the bill's amount, the bill's channel (as a
// webhook's channel_type, such as "ALI" or "BC"), sub-channel, channel
// transaction id, optional and channel details, TradeSuccess true,
// Timestamp the time of the query and an empty Signature: Handle can tell
// a reconciled payment by that.
//
// Reconcile returns true once Handle has succeeded for the order, now or
// before. An order that BeeCloud has no paid bill for is (false, nil).
// Otherwise the error says why: [ErrAmountMismatch] (wrapped) when the
// bill's amount differs from ExpectedAmount's, which never reaches
// Handle; [ErrBusy] when a webhook for the order is being handled at this
// moment; the error of Handle, ExpectedAmount, the Store or the query.
//
// [WebhookHandler.ReconcileRefund] does the same for a refund. Reconcile
// is safe for concurrent use, also with ServeHTTP.
func (h *WebhookHandler) Reconcile(ctx context.Context, c *Client, outTradeNo string) (paid bool, err error) {
	if c == nil {
		return false, errors.New("beecloud: reconcile: nil Client")
	}
	if reason := checkOutTradeNo(outTradeNo); reason != "" {
		return false, &ValidationError{Op: "reconcile", Problems: []FieldError{{Field: "bill_no", Reason: reason}}}
	}
	if err := h.checkReconcile(c); err != nil {
		return false, err
	}
	bills, err := c.Bills(ctx, BillQuery{OutTradeNo: outTradeNo, PaidOnly: true, Limit: MaxLimit, Detail: true})
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.Code == CodeNoSuchBill {
			return false, nil
		}
		return false, fmt.Errorf("beecloud: reconcile order %s: %w", outTradeNo, err)
	}
	var bill *Bill
	for i := range bills {
		// BeeCloud filters by bill_no and spay_result; checking again
		// costs nothing and guards against a filter ignored.
		if b := &bills[i]; b.Paid && b.OutTradeNo == outTradeNo {
			bill = b
			break
		}
	}
	if bill == nil {
		return false, nil
	}
	n := reconciled(c.Config, bill)
	return h.runReconciled(ctx, n, "order "+outTradeNo, "bill "+bill.ID)
}

// runReconciled runs the webhook path for the reconciled notification n
// and turns its outcome into Reconcile's result. what names the
// transaction and record the BeeCloud record it came from, for errors.
func (h *WebhookHandler) runReconciled(ctx context.Context, n *Notification, what, record string) (bool, error) {
	log := newDeliveryLog(ctx, h.logger())
	log.with(
		slog.String("source", "reconcile"),
		slog.String("app_id", n.AppID),
		slog.String("transaction_type", string(n.TransactionType)),
		slog.String("transaction_id", n.TransactionID),
		slog.Int64("transaction_fee", n.TransactionFee),
		slog.String("record", record),
	)
	o, err := h.handleRecovering(ctx, log, n)
	switch o {
	case outHandled:
		return true, nil
	case outBusy:
		return false, fmt.Errorf("%w: %s is done in BeeCloud (%s) and a delivery of it is under way", ErrBusy, what, record)
	case outAmountMismatch:
		return false, fmt.Errorf("beecloud: reconcile %s (%s): %w", what, record, err)
	}
	return false, fmt.Errorf("beecloud: reconcile %s: %w", what, err)
}

// ReconcileRefund does for the refund refundNo what [WebhookHandler.Reconcile]
// does for a payment: if BeeCloud's record of it says it succeeded, it
// runs the webhook path with the REFUND [Notification] the refund's
// webhook would carry (TransactionID refundNo, TransactionFee the
// refunded amount, the refund's channel and optional, an empty
// Signature), under the same Store key, so that Handle runs once for the
// refund whether its webhook comes or not. It serves the channels that
// send no refund webhook at all (WeChat, Yeepay, Kuaiqian, Baidu), whose
// refunds it confirms with [Client.RefundStatus], and webhooks that are
// lost.
//
// It returns true once Handle has succeeded for the refund, now or
// before; (false, nil) while the refund is unknown, under way or failed.
// Errors are those of Reconcile. It is safe for concurrent use.
func (h *WebhookHandler) ReconcileRefund(ctx context.Context, c *Client, refundNo string) (done bool, err error) {
	if c == nil {
		return false, errors.New("beecloud: reconcile refund: nil Client")
	}
	if refundNo == "" || len(refundNo) > 32 || !isAlnumString(refundNo) {
		return false, &ValidationError{Op: "refund reconciliation", Problems: []FieldError{{Field: "refund_no", Reason: "must be 1 to 32 letters or digits"}}}
	}
	if err := h.checkReconcile(c); err != nil {
		return false, err
	}
	var r *Refund
	// A refund made for approval is listed among the pre-refunds.
	for _, approval := range []bool{false, true} {
		refunds, err := c.Refunds(ctx, RefundQuery{RefundNo: refundNo, NeedApproval: approval, Limit: MaxLimit, Detail: true})
		var apiErr *APIError
		switch {
		case errors.As(err, &apiErr) && apiErr.Code == CodeNoSuchRefund:
			continue
		case err != nil:
			return false, fmt.Errorf("beecloud: reconcile refund %s: %w", refundNo, err)
		}
		for i := range refunds {
			if refunds[i].RefundNo == refundNo {
				r = &refunds[i]
				break
			}
		}
		if r != nil {
			break
		}
	}
	if r == nil {
		return false, nil
	}
	if !r.Finished && contains(statusChannels, r.Channel) {
		status, err := c.RefundStatus(ctx, r.Channel, refundNo)
		if err != nil {
			return false, fmt.Errorf("beecloud: reconcile refund %s: %w", refundNo, err)
		}
		r.Finished, r.Succeeded = status != RefundProcessing, status == RefundSuccess
	}
	if !r.Finished || !r.Succeeded {
		return false, nil
	}
	n := &Notification{
		AppID:           c.Config.AppID,
		Timestamp:       c.Config.now(),
		ChannelType:     webhookChannel(&Bill{Channel: r.Channel, SubChannel: r.SubChannel}),
		SubChannelType:  r.SubChannel,
		TransactionType: TransactionRefund,
		TransactionID:   refundNo,
		TransactionFee:  r.Amount,
		TradeSuccess:    true,
		Optional:        r.Optional,
	}
	if d := strings.TrimSpace(r.MessageDetail); strings.HasPrefix(d, "{") && json.Valid([]byte(d)) {
		n.MessageDetail = json.RawMessage(d)
	}
	return h.runReconciled(ctx, n, "refund "+refundNo+" of order "+r.OutTradeNo, "refund record "+r.ID)
}

// handleRecovering runs h.handle, turning a panic (of Handle or
// ExpectedAmount) into an error, as net/http does for ServeHTTP: one bad
// order must not stop a sweep. The claim was released on the way out.
func (h *WebhookHandler) handleRecovering(ctx context.Context, log *deliveryLog, n *Notification) (o outcome, err error) {
	defer func() {
		if p := recover(); p != nil {
			log.error("beecloud: reconcile: Handle panicked", slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			o, err = outHandleFailed, fmt.Errorf("the merchant's Handle panicked: %v", p)
		}
	}()
	return h.handle(ctx, log, n)
}

// checkReconcile reports what keeps h and c from reconciling.
func (h *WebhookHandler) checkReconcile(c *Client) error {
	if h.Handle == nil {
		return fmt.Errorf("%w: reconcile: the WebhookHandler's Handle is nil", ErrInvalidConfig)
	}
	if err := c.checkConfig(false); err != nil {
		return fmt.Errorf("beecloud: reconcile: %w", err)
	}
	for _, app := range h.Apps {
		if app.AppID == c.Config.AppID {
			return nil
		}
	}
	return fmt.Errorf("%w: reconcile: the Client's app %q is not one of the WebhookHandler's Apps: its webhooks and the reconciled payments would not share Store keys", ErrInvalidConfig, c.Config.AppID)
}

// reconciled returns the notification a webhook would carry for the paid
// bill b of the app cfg.
func reconciled(cfg Config, b *Bill) *Notification {
	n := &Notification{
		AppID:                cfg.AppID,
		Timestamp:            cfg.now(),
		ChannelType:          webhookChannel(b),
		SubChannelType:       b.SubChannel,
		TransactionType:      TransactionPay,
		TransactionID:        b.OutTradeNo,
		TransactionFee:       b.Amount,
		TradeSuccess:         true,
		Optional:             b.Optional,
		ChannelTransactionID: b.ChannelTransactionID,
	}
	if d := strings.TrimSpace(b.MessageDetail); strings.HasPrefix(d, "{") && json.Valid([]byte(d)) {
		n.MessageDetail = json.RawMessage(d)
	}
	return n
}

// webhookChannel returns the channel_type a webhook for b carries: the
// sub-channel's first word (ALI_WEB → ALI, BC_NATIVE → BC), or the
// bill's channel.
func webhookChannel(b *Bill) ChannelType {
	if head, _, ok := strings.Cut(b.SubChannel, "_"); ok && head != "" {
		return ChannelType(head)
	}
	return ChannelType(strings.ToUpper(string(b.Channel)))
}
