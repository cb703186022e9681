package beecloudtest

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/paybutton/beecloud"
)

// maxRefunds bounds the refunds the sandbox remembers.
const maxRefunds = 10000

// RefundState is where a [Refund] stands.
type RefundState string

// The states of a refund.
const (
	RefundPending   RefundState = "pending"   // a pre-refund waiting for approval
	RefundSucceeded RefundState = "succeeded" // the money went back
	RefundDenied    RefundState = "denied"    // a pre-refund that was denied
)

// Refund is one refund made through the sandbox's REST API. The sandbox
// makes a refund at once (no Alipay confirmation page), unless it was
// asked for approval (need_approval): then it waits, RefundPending, for a
// PUT /2/rest/refund.
type Refund struct {
	// ID is the refund's record id; AppID its app; BillID the refunded
	// bill; OutTradeNo the order.
	ID, AppID, BillID, OutTradeNo string
	// RefundNo is the merchant's refund number.
	RefundNo string
	// Amount is the refunded amount in 分.
	Amount int64
	// Optional is the optional data sent with the refund.
	Optional map[string]any
	// NeedApproval reports that the refund was made as a pre-refund.
	NeedApproval bool
	// State is where the refund stands.
	State RefundState
	// Created is when the refund was asked for; Updated when State last
	// changed.
	Created, Updated time.Time

	bill *Bill // the refunded bill, kept should the sandbox forget it
}

// Refunds returns a copy of every refund, oldest first.
func (s *Sandbox) Refunds() []Refund {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Refund, len(s.rest.refunds))
	for i, r := range s.rest.refunds {
		out[i] = *r
		out[i].Optional = maps.Clone(r.Optional)
		out[i].bill = nil
	}
	return out
}

// refundedLocked reports whether b has a succeeded refund; s.mu held.
func (s *Sandbox) refundedLocked(b *Bill) bool {
	return slices.ContainsFunc(s.rest.refunds, func(r *Refund) bool { return r.BillID == b.ID && r.State == RefundSucceeded })
}

// refundedAmountLocked returns how much of b is refunded or waits for
// approval; s.mu held.
func (s *Sandbox) refundedAmountLocked(b *Bill) (done, pending int64) {
	for _, r := range s.rest.refunds {
		if r.BillID != b.ID {
			continue
		}
		switch r.State {
		case RefundSucceeded:
			done += r.Amount
		case RefundPending:
			pending += r.Amount
		}
	}
	return done, pending
}

// checkRefundNo reports a refund_no that breaks BeeCloud's rule: the
// Beijing date of the refund, then 3 to 24 letters or digits, not "000".
func checkRefundNo(no string, now time.Time) *restErr {
	ok := len(no) >= 11 && len(no) <= 32
	for i := 0; ok && i < len(no); i++ {
		c := no[i]
		ok = c >= '0' && c <= '9' || i >= 8 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')
	}
	if !ok {
		return fail(beecloud.CodeParamInvalid, "refund_no %q must be the date yyyyMMdd and 3 to 24 letters or digits", no)
	}
	if no[8:] == "000" {
		return fail(beecloud.CodeParamInvalid, "refund_no %q: the serial must not be 000", no)
	}
	day, err := time.ParseInLocation("20060102", no[:8], chinaTime)
	y, m, d := now.In(chinaTime).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, chinaTime)
	// A day either way allows for clocks that disagree around midnight.
	if err != nil || day.Before(today.AddDate(0, 0, -1)) || day.After(today.AddDate(0, 0, 1)) {
		return fail(beecloud.CodeParamInvalid, "refund_no %q must start with today's date in Beijing, %s", no, today.Format("20060102"))
	}
	return nil
}

// noRefundWebhook lists the channels that send no refund webhook; their
// refunds' status is asked with /2/rest/refund/status.
var noRefundWebhook = []string{"WX", "YEE", "KUAIQIAN", "BD"}

func (s *Sandbox) restRefund(q *restReq) (map[string]any, *restErr) {
	billNo, rerr := q.str("bill_no", true)
	if rerr != nil {
		return nil, rerr
	}
	refundNo, rerr := q.str("refund_no", true)
	if rerr != nil {
		return nil, rerr
	}
	fee, ok, rerr := q.integer("refund_fee")
	switch {
	case rerr != nil:
		return nil, rerr
	case !ok:
		return nil, fail(beecloud.CodeMissParam, "refund_fee is required")
	case fee <= 0:
		return nil, fail(beecloud.CodeParamInvalid, "refund_fee must be positive, got %d", fee)
	}
	if rerr := checkRefundNo(refundNo, q.now); rerr != nil {
		return nil, rerr
	}
	channel, rerr := q.str("channel", false)
	if rerr != nil {
		return nil, rerr
	}
	approval, rerr := q.boolean("need_approval")
	if rerr != nil {
		return nil, rerr
	}
	var optional map[string]any
	if v, ok := q.params["optional"]; ok && v != nil {
		m, isObject := v.(map[string]any)
		if !isObject {
			return nil, fail(beecloud.CodeParamInvalid, "optional must be an object")
		}
		optional = m
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	bills := newest(s.bills, func(b *Bill) bool {
		return b.AppID == q.app.Config.AppID && b.Order.OutTradeNo == billNo && !b.Test
	})
	if len(bills) == 0 {
		return nil, fail(beecloud.CodeNoSuchBill, "no bill with bill_no %q", billNo)
	}
	i := slices.IndexFunc(bills, func(b *Bill) bool { return b.State == BillPaid })
	if i < 0 {
		return nil, fail(beecloud.CodeBillUnsuccess, "bill_no %q is not paid", billNo)
	}
	b := bills[i]
	if channel != "" && channel != channelType(b.Channel) {
		return nil, fail(beecloud.CodeParamInvalid, "channel %q is not the bill's channel, %s", channel, channelType(b.Channel))
	}
	done, pending := s.refundedAmountLocked(b)
	if pending > 0 {
		return nil, fail(beecloud.CodeAlreadyRefunding, "bill_no %q has a pre-refund waiting for approval", billNo)
	}
	if left := b.Order.Amount - done; fee > left {
		return nil, fail(beecloud.CodeRefundAmountTooLarge, "refund_fee %d is more than the %d 分 left of bill_no %q (%d paid, %d refunded)", fee, left, billNo, b.Order.Amount, done)
	}
	// Like BeeCloud, the sandbox does not refuse a refund_no it has seen:
	// sending a refund twice refunds twice.
	r := &Refund{
		ID: randomHex(16), AppID: b.AppID, BillID: b.ID, OutTradeNo: billNo, RefundNo: refundNo,
		Amount: fee, Optional: optional, NeedApproval: approval, State: RefundPending,
		Created: q.now, Updated: q.now, bill: b,
	}
	s.rest.refunds = append(s.rest.refunds, r)
	s.forgetRefundsLocked()
	if !approval {
		s.succeedLocked(q.app, b, r)
	}
	s.notifyLocked()
	out := map[string]any{"id": r.ID}
	if !approval && channelType(b.Channel) == "ALI" {
		out["url"] = base(q.r) + refundPagePath + r.ID
	}
	return out, nil
}

// forgetRefundsLocked keeps the refunds bounded, for a long-running
// sandbox: it drops the pending pre-refunds of the bills the sandbox has
// forgotten (past MaxBills), then, beyond maxRefunds, the oldest finished
// refunds, and the oldest pending ones when no finished one is left.
// s.mu held.
func (s *Sandbox) forgetRefundsLocked() {
	s.rest.refunds = slices.DeleteFunc(s.rest.refunds, func(r *Refund) bool {
		return r.State == RefundPending && s.byID[r.BillID] != r.bill
	})
	for len(s.rest.refunds) > maxRefunds {
		i := slices.IndexFunc(s.rest.refunds, func(r *Refund) bool { return r.State != RefundPending })
		if i < 0 {
			i = 0
		}
		s.rest.refunds = slices.Delete(s.rest.refunds, i, i+1)
	}
}

// succeedLocked makes the refund r of b and sends its webhook, for the
// channels that send one; s.mu held.
func (s *Sandbox) succeedLocked(app App, b *Bill, r *Refund) {
	r.State = RefundSucceeded
	r.Updated = time.Now()
	if app.WebhookURL == "" || s.closed || slices.Contains(noRefundWebhook, channelType(b.Channel)) {
		return
	}
	d := &Delivery{
		AppID:           b.AppID,
		OutTradeNo:      b.Order.OutTradeNo,
		BillID:          b.ID,
		URL:             app.WebhookURL,
		Body:            refundWebhookBody(app, b, r),
		TransactionType: beecloud.TransactionRefund,
		RefundNo:        r.RefundNo,
	}
	s.deliveries = append(s.deliveries, d)
	s.forgetLocked()
	s.wg.Add(1)
	go s.deliver(d, s.Duplicates)
}

func (s *Sandbox) restApprove(q *restReq) (map[string]any, *restErr) {
	channel, rerr := q.str("channel", true)
	if rerr != nil {
		return nil, rerr
	}
	raw, ok := q.params["ids"]
	if !ok || raw == nil {
		return nil, fail(beecloud.CodeMissParam, "ids is required")
	}
	list, isList := raw.([]any)
	if !isList || len(list) == 0 {
		return nil, fail(beecloud.CodeParamInvalid, "ids must be a non-empty array of record ids")
	}
	agree, rerr := q.boolean("agree")
	if rerr != nil {
		return nil, rerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	results := map[string]string{}
	var approved []string // the Alipay refunds the merchant would confirm
	for _, v := range list {
		id, isString := v.(string)
		if !isString {
			return nil, fail(beecloud.CodeParamInvalid, "ids must hold strings")
		}
		i := slices.IndexFunc(s.rest.refunds, func(r *Refund) bool { return r.ID == id && r.AppID == q.app.Config.AppID })
		if i < 0 {
			results[id] = "NO_SUCH_REFUND"
			continue
		}
		r := s.rest.refunds[i]
		b := r.bill
		switch {
		case r.State != RefundPending:
			results[id] = "NOT_PENDING: the pre-refund is " + string(r.State)
		case channelType(b.Channel) != channel:
			results[id] = "CHANNEL_INVALID: the refund's channel is " + channelType(b.Channel)
		case !agree:
			r.State = RefundDenied
			r.Updated = time.Now()
			results[id] = "OK"
		default:
			s.succeedLocked(q.app, b, r)
			results[id] = "OK"
			approved = append(approved, id)
		}
	}
	s.notifyLocked()
	out := map[string]any{"result_map": results}
	if channel == "ALI" && len(approved) > 0 {
		out["url"] = base(q.r) + refundPagePath + strings.Join(approved, ",")
	}
	return out, nil
}

// refundFilter selects the app's refunds for /2/rest/refunds and its
// count.
func (q *restReq) refundFilter() (func(*Refund) bool, *restErr) {
	var strs [3]string
	for i, key := range []string{"bill_no", "refund_no", "channel"} {
		v, rerr := q.str(key, false)
		if rerr != nil {
			return nil, rerr
		}
		strs[i] = v
	}
	approval, rerr := q.boolean("need_approval")
	if rerr != nil {
		return nil, rerr
	}
	from, to, rerr := q.span()
	if rerr != nil {
		return nil, rerr
	}
	return func(r *Refund) bool {
		created := r.Created.UnixMilli()
		return r.AppID == q.app.Config.AppID &&
			(strs[0] == "" || r.OutTradeNo == strs[0]) &&
			(strs[1] == "" || r.RefundNo == strs[1]) &&
			channelMatches(r.bill, strs[2]) &&
			r.NeedApproval == approval &&
			created >= from && created <= to
	}, nil
}

// refundJSON is r as BeeCloud's answers carry it; s.mu held.
func refundJSON(r *Refund, detail bool) map[string]any {
	b := r.bill
	m := map[string]any{
		"id":          r.ID,
		"bill_no":     r.OutTradeNo,
		"refund_no":   r.RefundNo,
		"total_fee":   b.Order.Amount,
		"refund_fee":  r.Amount,
		"title":       b.Order.Title,
		"channel":     channelType(b.Channel),
		"sub_channel": b.SubChannel,
		"finish":      r.State != RefundPending,
		"result":      r.State == RefundSucceeded,
		"optional":    optionalText(r.Optional),
		"create_time": r.Created.UnixMilli(),
	}
	if detail && r.State == RefundSucceeded {
		m["message_detail"] = string(mustJSON(refundDetail(b, r)))
	}
	return m
}

func (s *Sandbox) allRefunds() []*Refund { return s.rest.refunds }

func (s *Sandbox) restRefunds(q *restReq) (map[string]any, *restErr) {
	return list(s, q, false, "refunds", (*restReq).refundFilter, s.allRefunds, refundJSON)
}

func (s *Sandbox) restRefundsCount(q *restReq) (map[string]any, *restErr) {
	return list(s, q, true, "", (*restReq).refundFilter, s.allRefunds, refundJSON)
}

func (s *Sandbox) restRefundByID(q *restReq) (map[string]any, *restErr) {
	id := q.r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.rest.refunds, func(r *Refund) bool { return r.ID == id && r.AppID == q.app.Config.AppID })
	if i < 0 {
		return nil, fail(beecloud.CodeNoSuchRefund, "no refund with id %q", id)
	}
	return map[string]any{"refund": refundJSON(s.rest.refunds[i], true)}, nil
}

func (s *Sandbox) restRefundStatus(q *restReq) (map[string]any, *restErr) {
	channel, rerr := q.str("channel", true)
	if rerr != nil {
		return nil, rerr
	}
	if !slices.Contains(noRefundWebhook, channel) {
		return nil, fail(beecloud.CodeParamInvalid, "channel must be WX, YEE, KUAIQIAN or BD (the channels without a refund webhook), got %q", channel)
	}
	refundNo, rerr := q.str("refund_no", true)
	if rerr != nil {
		return nil, rerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.rest.refunds) - 1; i >= 0; i-- {
		r := s.rest.refunds[i]
		if r.AppID != q.app.Config.AppID || r.RefundNo != refundNo || channelType(r.bill.Channel) != channel {
			continue
		}
		status := map[RefundState]string{RefundPending: "PROCESSING", RefundSucceeded: "SUCCESS", RefundDenied: "FAIL"}[r.State]
		return map[string]any{"refund_status": status}, nil
	}
	return nil, fail(beecloud.CodeNoSuchRefund, "no %s refund with refund_no %q", channel, refundNo)
}
