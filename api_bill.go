package beecloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// BillQuery selects bills for [Client.Bills] and [Client.CountBills]. Its
// filters are ANDed; the zero BillQuery selects every bill of the app,
// newest first, ten at a time.
type BillQuery struct {
	// OutTradeNo keeps the bills of one order (BeeCloud's bill_no). A
	// button order may have several bills: one per channel the buyer
	// tried.
	OutTradeNo string
	// Channel keeps the bills of one channel, such as [ChannelTypeAli].
	Channel ChannelType
	// PaidOnly keeps the paid bills (spay_result true).
	PaidOnly bool
	// RefundedOnly keeps the refunded bills (refund_result true). BeeCloud
	// cannot count by it: CountBills refuses it.
	RefundedOnly bool
	// Since and Until bound the bills' creation time; zero means no
	// bound. BeeCloud takes them to the millisecond.
	Since, Until time.Time
	// Skip skips that many bills, for paging.
	Skip int
	// Limit is how many bills to return, at most MaxLimit (50); zero means
	// BeeCloud's default, 10. CountBills ignores Skip and Limit.
	Limit int
	// Detail asks for each bill's channel details (Bill.MessageDetail).
	Detail bool
}

// Bill is one BeeCloud bill: one attempt to pay an order through one
// channel. Amounts are in 分.
type Bill struct {
	// ID is BeeCloud's record id of the bill, for [Client.GetBill].
	ID string
	// OutTradeNo is the order's out_trade_no (BeeCloud's bill_no).
	OutTradeNo string
	// Title is the order's title.
	Title string
	// Channel is the channel, such as [ChannelTypeAli]; SubChannel the
	// precise one, such as "ALI_WEB" or "WX_NATIVE".
	Channel    ChannelType
	SubChannel string
	// ChannelTransactionID is the channel's own number for a paid bill
	// (BeeCloud's trade_no); empty before payment.
	ChannelTransactionID string
	// Amount is the bill's total_fee in 分.
	Amount int64
	// Paid reports whether the buyer paid (spay_result).
	Paid bool
	// Refunded reports whether the bill has been refunded, in full or in
	// part (refund_result).
	Refunded bool
	// Reverted reports whether the bill was revoked (revert_result).
	Reverted bool
	// CreatedAt is when BeeCloud made the bill.
	CreatedAt time.Time
	// Optional is the order's optional data, decoded from the JSON text
	// BeeCloud sends; numbers are json.Number, as in a [Notification]. Nil
	// if the order had none.
	Optional map[string]any
	// MessageDetail is the channel's raw notification as BeeCloud keeps it,
	// when the query asked for Detail; usually JSON text.
	MessageDetail string
}

// wireBill is a bill as BeeCloud's answers carry it.
type wireBill struct {
	ID            string          `json:"id"`
	BillNo        string          `json:"bill_no"`
	TotalFee      int64           `json:"total_fee"`
	TradeNo       string          `json:"trade_no"`
	Channel       string          `json:"channel"`
	SubChannel    string          `json:"sub_channel"`
	Title         string          `json:"title"`
	SpayResult    bool            `json:"spay_result"`
	CreateTime    int64           `json:"create_time"`
	Optional      json.RawMessage `json:"optional"`
	MessageDetail json.RawMessage `json:"message_detail"`
	RevertResult  bool            `json:"revert_result"`
	RefundResult  bool            `json:"refund_result"`
}

func (w *wireBill) bill() (Bill, error) {
	opt, err := decodeOptional(w.Optional)
	if err != nil {
		return Bill{}, fmt.Errorf("bill %q: %w", w.ID, err)
	}
	detail, err := decodeDetail(w.MessageDetail)
	if err != nil {
		return Bill{}, fmt.Errorf("bill %q: %w", w.ID, err)
	}
	if w.TotalFee < 0 {
		return Bill{}, fmt.Errorf("bill %q: total_fee is negative (%d)", w.ID, w.TotalFee)
	}
	return Bill{
		ID:                   w.ID,
		OutTradeNo:           w.BillNo,
		Title:                w.Title,
		Channel:              ChannelType(w.Channel),
		SubChannel:           w.SubChannel,
		ChannelTransactionID: w.TradeNo,
		Amount:               w.TotalFee,
		Paid:                 w.SpayResult,
		Refunded:             w.RefundResult,
		Reverted:             w.RevertResult,
		CreatedAt:            fromMillis(w.CreateTime),
		Optional:             opt,
		MessageDetail:        detail,
	}, nil
}

// decodeOptional decodes a record's optional: JSON text holding an object
// (as BeeCloud sends it), or the object itself. Empty, null and "" give
// nil.
func decodeOptional(raw json.RawMessage) (map[string]any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '"' {
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, fmt.Errorf("optional: %w", err)
		}
		raw = bytes.TrimSpace([]byte(text))
		if len(raw) == 0 || string(raw) == "null" || string(raw) == "{}" {
			return nil, nil
		}
	}
	if raw[0] != '{' {
		return nil, fmt.Errorf("optional is not a JSON object: %s", shortText(string(raw), 40))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("optional: %w", err)
	}
	if dec.More() {
		return nil, errors.New("optional: text after the JSON object")
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// decodeDetail returns a message_detail as text: a JSON string's content,
// or the JSON of any other value.
func decodeDetail(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] == '"' {
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return "", fmt.Errorf("message_detail: %w", err)
		}
		return text, nil
	}
	return string(raw), nil
}

// params returns q's parameters for /2/rest/bills (count: for
// /2/rest/bills/count), after checking them.
func (q BillQuery) params(op string, count bool) (map[string]any, error) {
	p := problems{op: op}
	m := listing{q.OutTradeNo, string(q.Channel), q.Since, q.Until, q.Skip, q.Limit, q.Detail}.params(&p, count)
	if q.PaidOnly {
		m["spay_result"] = true
	}
	if q.RefundedOnly {
		if count {
			p.add("refund_result", "BeeCloud cannot count bills by refund_result")
		}
		m["refund_result"] = true
	}
	return m, p.err()
}

// Bills returns the bills q selects, newest first (GET /2/rest/bills).
func (c *Client) Bills(ctx context.Context, q BillQuery) ([]Bill, error) {
	if c.Test {
		return c.sandboxBills(ctx, q)
	}
	params, err := q.params("bills", false)
	if err != nil {
		return nil, err
	}
	return get(ctx, c, "/2/rest/bills", params, decodeBills)
}

// decodeBills decodes the answer of /2/rest/bills.
func decodeBills(body []byte) ([]Bill, error) {
	return decodeList(body, "bills", (*wireBill).bill)
}

// CountBills returns how many bills q selects (GET /2/rest/bills/count).
// It ignores q's Skip, Limit and Detail, and refuses RefundedOnly.
func (c *Client) CountBills(ctx context.Context, q BillQuery) (int, error) {
	if c.Test {
		return c.sandboxCountBills(ctx, q)
	}
	params, err := q.params("bill count", true)
	if err != nil {
		return 0, err
	}
	return get(ctx, c, "/2/rest/bills/count", params, decodeCount)
}

// decodeCount decodes the answer of a count.
func decodeCount(body []byte) (int, error) {
	var a struct {
		Count *int `json:"count"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return 0, err
	}
	switch {
	case a.Count == nil:
		return 0, errors.New("no count")
	case *a.Count < 0:
		return 0, fmt.Errorf("negative count %d", *a.Count)
	}
	return *a.Count, nil
}

// GetBill returns the bill whose BeeCloud record id is id (GET
// /2/rest/bill/{id}); id is [Bill].ID, not the out_trade_no. An unknown id
// is an *[APIError] with Code [CodeNoSuchBill].
func (c *Client) GetBill(ctx context.Context, id string) (*Bill, error) {
	p := problems{op: "bill"}
	checkID(&p, id)
	if err := p.err(); err != nil {
		return nil, err
	}
	if c.Test {
		return c.sandboxGetBill(ctx, id)
	}
	return get(ctx, c, "/2/rest/bill/"+url.PathEscape(id), nil, decodeBill)
}

// decodeBill decodes the answer of /2/rest/bill/{id}.
func decodeBill(body []byte) (*Bill, error) {
	return decodeOne(body, "pay", (*wireBill).bill)
}
