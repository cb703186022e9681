package beecloudtest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/internal/channel"
	"github.com/paybutton/beecloud/internal/webhookack"
)

// webhookBody returns the webhook for the paid bill b, signed with the
// current scheme and the app's MasterSecret.
func webhookBody(app App, b *Bill) []byte {
	return NotificationBody(app.Config, beecloud.Notification{
		Timestamp:            b.Updated,
		ChannelType:          beecloud.ChannelType(channelType(b.Channel)),
		SubChannelType:       b.SubChannel,
		TransactionType:      beecloud.TransactionPay,
		TransactionID:        b.Order.OutTradeNo,
		TransactionFee:       b.Order.Amount,
		TradeSuccess:         true,
		MessageDetail:        mustJSON(messageDetail(b)),
		Optional:             b.Order.Optional,
		ChannelTransactionID: b.ChannelTransactionID,
		// A test bill's webhook is signed as BeeCloud's test mode does.
		Legacy: b.Test,
		Test:   b.Test,
	})
}

// refundWebhookBody returns the webhook for the refund r of the bill b.
func refundWebhookBody(app App, b *Bill, r *Refund) []byte {
	optional := r.Optional
	if optional == nil {
		optional = b.Order.Optional
	}
	return NotificationBody(app.Config, beecloud.Notification{
		Timestamp:            r.Updated,
		ChannelType:          beecloud.ChannelType(channelType(b.Channel)),
		SubChannelType:       b.SubChannel,
		TransactionType:      beecloud.TransactionRefund,
		TransactionID:        r.RefundNo,
		TransactionFee:       r.Amount,
		TradeSuccess:         true,
		MessageDetail:        mustJSON(refundDetail(b, r)),
		Optional:             optional,
		ChannelTransactionID: b.ChannelTransactionID,
	})
}

// channelType is the webhook's channel_type for a payment through ch.
func channelType(ch beecloud.Channel) string { return channel.Type(string(ch)) }

// mustJSON marshals a channel detail, which holds only strings and
// integers.
func mustJSON(v map[string]any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("beecloudtest: marshal webhook detail: " + err.Error())
	}
	return b
}

// refundDetail returns a plausible raw refund notification of b's channel.
func refundDetail(b *Bill, r *Refund) map[string]any {
	return map[string]any{
		"out_trade_no":  b.Order.OutTradeNo,
		"trade_no":      b.ChannelTransactionID,
		"refund_no":     r.RefundNo,
		"refund_fee":    yuan(r.Amount),
		"refund_status": "SUCCESS",
		"success_time":  r.Updated.In(chinaTime).Format(time.DateTime),
	}
}

// messageDetail returns a plausible raw notification of b's channel, in
// the shape the channel itself uses.
func messageDetail(b *Bill) map[string]any {
	o := b.Order
	yuan := yuan(o.Amount)
	when := b.Updated.In(chinaTime)
	switch channelType(b.Channel) {
	case "ALI":
		return map[string]any{
			"trade_no":     b.ChannelTransactionID,
			"out_trade_no": o.OutTradeNo,
			"trade_status": "TRADE_SUCCESS",
			"total_fee":    yuan,
			"subject":      o.Title,
			"buyer_email":  "sandbox-buyer@example.com",
			"notify_time":  when.Format(time.DateTime),
		}
	case "WX":
		d := map[string]any{
			"return_code":    "SUCCESS",
			"result_code":    "SUCCESS",
			"transaction_id": b.ChannelTransactionID,
			"out_trade_no":   o.OutTradeNo,
			"total_fee":      o.Amount,
			"fee_type":       "CNY",
			"trade_type":     strings.TrimPrefix(b.SubChannel, "WX_"),
			"bank_type":      "CFT",
			"time_end":       when.Format("20060102150405"),
		}
		if o.OpenID != "" {
			d["openid"] = o.OpenID
		}
		return d
	case "UN":
		return map[string]any{
			"orderId":  o.OutTradeNo,
			"queryId":  b.ChannelTransactionID,
			"respCode": "00",
			"respMsg":  "success",
			"txnAmt":   strconv.FormatInt(o.Amount, 10),
			"txnTime":  when.Format("20060102150405"),
		}
	}
	return map[string]any{
		"trade_no":     b.ChannelTransactionID,
		"out_trade_no": o.OutTradeNo,
		"trade_status": "SUCCESS",
		"total_fee":    o.Amount,
		"channel":      b.SubChannel,
		"success_time": when.Format(time.DateTime),
	}
}

var chinaTime = time.FixedZone("CST", 8*60*60)

// yuan formats an amount in 分 as yuan with two decimals: 10 → "0.10".
func yuan(fen int64) string {
	return fmt.Sprintf("%d.%02d", fen/100, fen%100)
}

// channelTransactionID makes a number in the style of the channel's own:
// Alipay's and WeChat's 28 digits, UnionPay's 21.
func channelTransactionID(channelType string, t time.Time) string {
	t = t.In(chinaTime)
	switch channelType {
	case "ALI":
		return t.Format("20060102") + "21001004" + randomDigits(12)
	case "WX":
		return "4200000" + randomDigits(3) + t.Format("20060102") + randomDigits(10)
	case "UN":
		return t.Format("0102150405") + randomDigits(11)
	}
	return randomHex(16)
}

func randomDigits(n int) string {
	var b strings.Builder
	for range n {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		b.WriteByte("0123456789"[d.Int64()])
	}
	return b.String()
}

// deliver posts d until the app answers success or MaxAttempts attempts
// failed, waiting RetryBase, then twice that, and so on between attempts.
// Once the app acknowledged d, it starts the next of dups duplicates.
func (s *Sandbox) deliver(d *Delivery, dups int) {
	defer s.wg.Done()
	base := s.RetryBase
	if base <= 0 {
		base = DefaultRetryBase
	}
	attempts := s.MaxAttempts
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	if s.dropDelivery(d) {
		return
	}
	wait := base
	for n := 1; ; n++ {
		a, ok := s.attempt(d)
		s.mu.Lock()
		d.Attempts = append(d.Attempts, a)
		switch {
		case ok:
			d.Acknowledged = true
			if dups > 0 && !s.closed {
				// Added under the same lock, so that WaitDelivery never
				// sees the acknowledged original as the newest delivery.
				s.duplicateLocked(d, dups-1)
			}
		case n >= attempts:
			d.GaveUp = true
		}
		done := d.Done()
		s.notifyLocked()
		s.mu.Unlock()
		if done {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return
		}
		if wait < time.Duration(1<<62) {
			wait *= 2
		}
	}
}

// dropDelivery marks d dropped, and reports so, if the sandbox was told
// to drop the PAY webhook of its order ([Sandbox.DropWebhook]).
func (s *Sandbox) dropDelivery(d *Delivery) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.Duplicate || d.TransactionType != beecloud.TransactionPay || !s.rest.drop[d.OutTradeNo] {
		return false
	}
	d.Dropped = true
	s.notifyLocked()
	return true
}

// attempt posts d once and reports whether the app acknowledged it: a 2xx
// answer whose body is success, surrounding white space aside.
func (s *Sandbox) attempt(d *Delivery) (Attempt, bool) {
	a := Attempt{At: time.Now()}
	client := s.Client
	if client == nil {
		client = s.client
	}
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		a.Err = err
		return a, false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "beecloudtest-sandbox")
	resp, err := client.Do(req)
	if err != nil {
		a.Err = err
		return a, false
	}
	defer resp.Body.Close()
	body, ok, err := webhookack.Read(resp)
	a.StatusCode = resp.StatusCode
	a.Response = string(body)
	a.Err = err
	return a, ok
}
