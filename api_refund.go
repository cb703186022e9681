package beecloud

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// beijing is the time zone of BeeCloud's refund dates.
var beijing = time.FixedZone("CST", 8*60*60)

// Refund numbers: the refund's date, yyyyMMdd in Beijing time, then a
// serial of letters and digits.
const (
	// MaxRefundNoLen bounds a refund_no: BeeCloud allows 32 characters, but
	// Baidu's channel refuses 22 or more.
	MaxRefundNoLen  = 21
	refundSerialMin = 3
	refundDateLen   = 8
)

const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewRefundNo returns a fresh refund_no for a refund made at t: the date
// of t in Beijing (UTC+8), as BeeCloud requires, followed by 13 random
// letters and digits (77 bits), 21 characters in all.
//
// Store it with the order before calling [Client.Refund]: it is the key
// that lets a refund whose answer was lost be looked up instead of sent
// twice, and the TransactionID of the refund's webhook.
func NewRefundNo(t time.Time) string {
	var b [MaxRefundNoLen]byte
	copy(b[:], t.In(beijing).Format("20060102"))
	var r [MaxRefundNoLen - refundDateLen]byte
	rand.Read(r[:])
	for i, x := range r {
		// 248 = 4·62: dropping 248…255 keeps the letters uniform.
		for x >= 248 {
			var one [1]byte
			rand.Read(one[:])
			x = one[0]
		}
		b[refundDateLen+i] = alnum[x%62]
	}
	return string(b[:])
}

// checkRefundNo returns what is wrong with a refund_no made at now, or "".
func checkRefundNo(no string, now time.Time) string {
	switch {
	case no == "":
		return "is required: the refund's Beijing date yyyyMMdd and 3 or more letters or digits (see NewRefundNo)"
	case len(no) > MaxRefundNoLen:
		return fmt.Sprintf("must be at most %d characters (Baidu's channel refuses longer), got %d", MaxRefundNoLen, len(no))
	case len(no) < refundDateLen+refundSerialMin:
		return fmt.Sprintf("must be a date yyyyMMdd and 3 or more letters or digits, got %d characters", len(no))
	}
	for i := 0; i < len(no); i++ {
		c := no[i]
		if i < refundDateLen && !(c >= '0' && c <= '9') {
			return fmt.Sprintf("must start with the date yyyyMMdd, found %q at %d", c, i)
		}
		if !isAlnum(c) {
			return fmt.Sprintf("must be a date and letters or digits only, found %q at %d", c, i)
		}
	}
	if no[refundDateLen:] == "000" {
		return `must not have the serial "000", which BeeCloud refuses`
	}
	day, err := time.ParseInLocation("20060102", no[:refundDateLen], beijing)
	if err != nil {
		return fmt.Sprintf("must start with a real date yyyyMMdd, got %q", no[:refundDateLen])
	}
	today := now.In(beijing)
	today = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, beijing)
	// BeeCloud wants today's date; a day either way allows for clocks
	// that disagree around midnight.
	if d := day.Sub(today); d > 24*time.Hour || d < -24*time.Hour {
		return fmt.Sprintf("must start with today's date in Beijing, %s, got %s", today.Format("20060102"), no[:refundDateLen])
	}
	return ""
}

// RefundRequest is a refund for [Client.Refund]. Amounts are in 分.
type RefundRequest struct {
	// OutTradeNo is the paid order to refund (BeeCloud's bill_no).
	// Required.
	OutTradeNo string
	// RefundNo names the refund: required, made by [NewRefundNo] on the
	// day of the refund, unique among the app's refunds.
	RefundNo string
	// Amount is how much to give back, at most what is left of the bill's
	// paid amount; a part of it makes a partial refund. Required.
	Amount int64
	// Channel, if set, is the bill's channel, such as [ChannelTypeAli].
	Channel ChannelType
	// Optional is echoed in the refund's record and webhook: a flat map of
	// string, number and bool values.
	Optional map[string]any
	// NeedApproval makes a pre-refund that waits for
	// [Client.ApproveRefunds] instead of a refund at once.
	NeedApproval bool
}

// RefundResult is BeeCloud's answer to a refund.
type RefundResult struct {
	// ID is BeeCloud's record id of the refund, for [Client.GetRefund].
	ID string
	// URL is set for an Alipay refund, which the merchant confirms on
	// Alipay's page with its payment password.
	URL string
	// Recovered reports that the answer to the refund was lost and that
	// the refund was found by its refund_no: it was made once. URL is then
	// empty; find an Alipay refund's confirmation on Alipay's merchant site.
	Recovered bool
}

func (r RefundRequest) params(now time.Time) (map[string]any, error) {
	p := problems{op: "refund"}
	if reason := checkOutTradeNo(r.OutTradeNo); reason != "" {
		p.add("bill_no", reason)
	}
	if reason := checkRefundNo(r.RefundNo, now); reason != "" {
		p.add("refund_no", reason)
	}
	switch {
	case r.Amount <= 0:
		p.add("refund_fee", fmt.Sprintf("must be a positive number of 分 (1 = ¥0.01), got %d", r.Amount))
	case r.Amount > MaxAmount:
		p.add("refund_fee", fmt.Sprintf("must be at most %d 分, got %d", int64(MaxAmount), r.Amount))
	}
	checkChannel(&p, "channel", string(r.Channel))
	checkFlat(&p, "optional", r.Optional)
	m := map[string]any{
		"bill_no":    r.OutTradeNo,
		"refund_no":  r.RefundNo,
		"refund_fee": r.Amount,
	}
	if r.Channel != "" {
		m["channel"] = r.Channel
	}
	if len(r.Optional) > 0 {
		m["optional"] = r.Optional
	}
	if r.NeedApproval {
		m["need_approval"] = true
	}
	return m, p.err()
}

// checkFlat reports values of a flat map other than strings, numbers and
// bools.
func checkFlat(p *problems, field string, m map[string]any) {
	for k, v := range m {
		switch v := v.(type) {
		case string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, json.Number:
		case float32:
			if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) {
				p.add(field+"."+k, "must be a finite number")
			}
		case float64:
			if math.IsInf(v, 0) || math.IsNaN(v) {
				p.add(field+"."+k, "must be a finite number")
			}
		default:
			p.add(field+"."+k, fmt.Sprintf("must be a string, number or bool, not %T", v))
		}
		if k == "" {
			p.add(field, "has an empty key")
		}
	}
}

// Refund gives money back for a paid order (POST /2/rest/refund, signed
// with the Master Secret). BeeCloud refunds one bill at a time: while a
// refund of it is under way, another is an *[APIError] with Code
// [CodeAlreadyRefunding]; one larger than what is left of the bill has
// Code [CodeRefundAmountTooLarge]. An *APIError means BeeCloud refused
// the refund: nothing was refunded.
//
// Refund sends a refund_no to BeeCloud at most once, for BeeCloud makes
// a refund per request it receives. It waits for the answer as long as
// ctx allows, less [LookupWindow] (ctx without a deadline allows
// [DefaultMoneyTimeout]). When the answer is lost (a timeout, a reset
// connection, a gateway's 5xx or 429), Refund only looks the refund up by
// its refund_no, several times over [LookupWindow]: if BeeCloud has it,
// for the same order and amount, Refund returns it with Recovered set.
// Otherwise, or when ctx is cancelled while the request is out, the error
// wraps [ErrUnknownOutcome]: the refund may still be on its way, and a
// look-up that finds nothing proves nothing. Settle it later with [Client.RefundOutcome], and never
// send a new refund for the same money until it is settled. A nil error
// always means BeeCloud has the refund; any error other than
// ErrUnknownOutcome means it made none (the request was refused, never
// left, or was answered by something other than BeeCloud). Refund needs
// the AppSecret too, for the look-ups.
//
// A refund is recorded in two steps: Refund's answer says BeeCloud took
// it; the refund's webhook (TransactionType "REFUND", TransactionID the
// refund_no, TransactionFee the refunded amount) says the channel paid it
// back, for the channels that send one (Alipay, UnionPay, JD, …). For
// the others, and for a lost webhook, [WebhookHandler.ReconcileRefund]
// runs Handle with the notification the webhook would carry. Record the
// RefundNo with the order before calling Refund, so that Handle can find
// the order.
func (c *Client) Refund(ctx context.Context, r RefundRequest) (*RefundResult, error) {
	params, err := r.params(c.Config.now())
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("beecloud: refund %s: not sent: %w", r.RefundNo, err)
	}
	if err := c.checkConfig(true); err != nil {
		return nil, err
	}
	if err := c.checkConfig(false); err != nil {
		return nil, fmt.Errorf("%w (Refund looks a refund up when its answer is lost)", err)
	}
	s := sendOnce[*RefundResult]{
		call:   call{method: "POST", path: "/2/rest/refund", params: params, master: true, about: "refund_no " + r.RefundNo + ", out_trade_no " + r.OutTradeNo},
		what:   fmt.Sprintf("refund %s of %d 分 for order %s", r.RefundNo, r.Amount, r.OutTradeNo),
		settle: fmt.Sprintf("look refund_no %s up later (Client.RefundOutcome)", r.RefundNo),
		decode: decodeRefundResult,
		find: func(ctx context.Context) (*RefundResult, bool, error) {
			found, err := c.findRefund(ctx, r.RefundNo, r.NeedApproval)
			switch {
			case err != nil || found == nil:
				return nil, false, err
			case found.Amount != r.Amount || found.OutTradeNo != r.OutTradeNo:
				return nil, false, fmt.Errorf("%w: BeeCloud's refund with this refund_no is of %d 分 for order %s: refund numbers must be unique", errConflict, found.Amount, found.OutTradeNo)
			}
			return &RefundResult{ID: found.ID}, true, nil
		},
	}
	res, recovered, err := s.do(ctx, c)
	if err != nil {
		return nil, err
	}
	res.Recovered = recovered
	return res, nil
}

// ErrRefundNotFound is [Client.RefundOutcome]'s error when BeeCloud has no
// refund with the refund_no.
var ErrRefundNotFound = errors.New("beecloud: no refund with this refund_no")

// RefundOutcome settles a refund whose outcome was unknown
// ([ErrUnknownOutcome]): it looks refundNo up among the app's refunds and
// pre-refunds and returns it when BeeCloud has it; compare its OutTradeNo
// and Amount with the refund you meant. When BeeCloud has none, the error
// wraps [ErrRefundNotFound]; the refund may still be on its way, so look
// again later, and send a new refund for the same money only once you are
// sure the first will not arrive (a refund_no is dated: BeeCloud refuses
// one from another day).
func (c *Client) RefundOutcome(ctx context.Context, refundNo string) (*Refund, error) {
	p := problems{op: "refund outcome"}
	if refundNo == "" {
		p.add("refundNo", "is required")
	} else if len(refundNo) > 32 || !isAlnumString(refundNo) {
		p.add("refundNo", "must be letters and digits, at most 32")
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	for _, pre := range []bool{false, true} {
		found, err := c.findRefund(ctx, refundNo, pre)
		if err != nil {
			return nil, err
		}
		if found != nil {
			return found, nil
		}
	}
	return nil, fmt.Errorf("%w: %s (BeeCloud has none yet: a refund sent moments ago may still be on its way; look again later before sending a new refund for the same money)", ErrRefundNotFound, refundNo)
}

// findRefund looks a refund (or a pre-refund, if pre) up by its
// refund_no; nil means BeeCloud has no such refund.
func (c *Client) findRefund(ctx context.Context, refundNo string, pre bool) (*Refund, error) {
	refunds, err := c.Refunds(ctx, RefundQuery{RefundNo: refundNo, NeedApproval: pre})
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.Code == CodeNoSuchRefund {
			return nil, nil
		}
		return nil, err
	}
	for i := range refunds {
		if refunds[i].RefundNo == refundNo {
			return &refunds[i], nil
		}
	}
	return nil, nil
}

func decodeRefundResult(body []byte) (*RefundResult, error) {
	var a struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, err
	}
	if a.ID == "" && a.URL == "" {
		return nil, errors.New("no id")
	}
	return &RefundResult{ID: a.ID, URL: a.URL}, nil
}
