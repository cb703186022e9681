package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/paybutton/beecloud"
)

// What -json prints: snake_case keys, amounts in 分 as integers, times in
// RFC 3339 with milliseconds, and the same key for a thing in every
// command. Its shapes are part of the command's interface: keys are added,
// never renamed.

// jsonBill is a bill as bills -json prints it.
type jsonBill struct {
	ID                   string         `json:"id"`
	OutTradeNo           string         `json:"out_trade_no"`
	Title                string         `json:"title"`
	Channel              string         `json:"channel"`
	SubChannel           string         `json:"sub_channel"`
	ChannelTransactionID string         `json:"channel_transaction_id"`
	Amount               int64          `json:"amount"`
	Paid                 bool           `json:"paid"`
	Refunded             bool           `json:"refunded"`
	Reverted             bool           `json:"reverted"`
	CreatedAt            jsonTime       `json:"created_at"`
	Optional             map[string]any `json:"optional,omitempty"`
}

// jsonRefund is a refund as refunds -json prints it.
type jsonRefund struct {
	ID         string         `json:"id"`
	RefundNo   string         `json:"refund_no"`
	OutTradeNo string         `json:"out_trade_no"`
	Title      string         `json:"title"`
	Channel    string         `json:"channel"`
	SubChannel string         `json:"sub_channel"`
	Amount     int64          `json:"amount"`
	BillAmount int64          `json:"bill_amount"`
	State      string         `json:"state"` // processing, succeeded or failed
	CreatedAt  jsonTime       `json:"created_at"`
	Optional   map[string]any `json:"optional,omitempty"`
}

// jsonVerdict is what verify -json prints: the notification when the body
// verifies, the failed check and the error when it does not.
type jsonVerdict struct {
	OK     bool   `json:"ok"`
	Source string `json:"source"`
	// Problem names the check that failed, for scripts to branch on:
	// config, malformed, signature, legacy_disabled, stale or invalid.
	Problem      string            `json:"problem,omitempty"`
	Error        string            `json:"error,omitempty"`
	Notification *jsonNotification `json:"notification,omitempty"`
}

// jsonNotification is a verified webhook, with BeeCloud's field names.
type jsonNotification struct {
	AppID                string          `json:"app_id"`
	Legacy               bool            `json:"legacy"`
	Test                 bool            `json:"test"`
	TransactionType      string          `json:"transaction_type"`
	TransactionID        string          `json:"transaction_id"`
	TransactionFee       int64           `json:"transaction_fee"`
	TradeSuccess         bool            `json:"trade_success"`
	ChannelType          string          `json:"channel_type"`
	SubChannelType       string          `json:"sub_channel_type"`
	ChannelTransactionID string          `json:"channel_transaction_id"`
	Timestamp            jsonTime        `json:"timestamp"`
	Optional             map[string]any  `json:"optional,omitempty"`
	MessageDetail        json.RawMessage `json:"message_detail,omitempty"`
}

// jsonRequest is the webhook send -dry-run -json would send.
type jsonRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url,omitempty"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// jsonTime is a time printed in UTC, RFC 3339 with milliseconds; the zero
// time is null.
type jsonTime time.Time

func (t jsonTime) MarshalJSON() ([]byte, error) {
	if time.Time(t).IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z07:00"))
}

func billsJSON(bills []beecloud.Bill) []jsonBill {
	out := make([]jsonBill, len(bills))
	for i, b := range bills {
		out[i] = jsonBill{
			ID: b.ID, OutTradeNo: b.OutTradeNo, Title: b.Title, Channel: string(b.Channel), SubChannel: b.SubChannel,
			ChannelTransactionID: b.ChannelTransactionID, Amount: b.Amount, Paid: b.Paid, Refunded: b.Refunded,
			Reverted: b.Reverted, CreatedAt: jsonTime(b.CreatedAt), Optional: b.Optional,
		}
	}
	return out
}

func refundsJSON(refunds []beecloud.Refund) []jsonRefund {
	out := make([]jsonRefund, len(refunds))
	for i, r := range refunds {
		out[i] = jsonRefund{
			ID: r.ID, RefundNo: r.RefundNo, OutTradeNo: r.OutTradeNo, Title: r.Title, Channel: string(r.Channel),
			SubChannel: r.SubChannel, Amount: r.Amount, BillAmount: r.BillAmount, State: refundState(r),
			CreatedAt: jsonTime(r.CreatedAt), Optional: r.Optional,
		}
	}
	return out
}

func notificationJSON(n *beecloud.Notification) *jsonNotification {
	return &jsonNotification{
		AppID: n.AppID, Legacy: n.Legacy, Test: n.Test, TransactionType: string(n.TransactionType),
		TransactionID: n.TransactionID, TransactionFee: n.TransactionFee, TradeSuccess: n.TradeSuccess,
		ChannelType: string(n.ChannelType), SubChannelType: n.SubChannelType, ChannelTransactionID: n.ChannelTransactionID,
		Timestamp: jsonTime(n.Timestamp), Optional: n.Optional, MessageDetail: n.MessageDetail,
	}
}

// verifyProblem names the check that refused a webhook body, as verify
// -json's problem.
func verifyProblem(err error) string {
	switch {
	case errors.Is(err, beecloud.ErrInvalidConfig):
		return "config"
	case errors.Is(err, beecloud.ErrMalformedNotification):
		return "malformed"
	case errors.Is(err, beecloud.ErrBadSignature):
		return "signature"
	case errors.Is(err, beecloud.ErrLegacyDisabled):
		return "legacy_disabled"
	case errors.Is(err, beecloud.ErrStaleNotification):
		return "stale"
	}
	return "invalid"
}

// printJSON prints v as indented JSON and a newline. Text from the network
// is safe in it: JSON escapes every control character.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("printing JSON: %w", err)
	}
	return nil
}
