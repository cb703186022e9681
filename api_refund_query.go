package beecloud

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"
)

// RefundQuery selects refunds for [Client.Refunds] and
// [Client.CountRefunds]. Its filters are ANDed; the zero RefundQuery
// selects every refund of the app, newest first, ten at a time.
type RefundQuery struct {
	// OutTradeNo keeps the refunds of one order (bill_no).
	OutTradeNo string
	// RefundNo keeps the refund with this refund_no.
	RefundNo string
	// Channel keeps the refunds of one channel, such as [ChannelTypeAli].
	Channel ChannelType
	// NeedApproval selects pre-refunds, which wait for
	// [Client.ApproveRefunds], instead of refunds.
	NeedApproval bool
	// Since and Until bound the refunds' creation time; zero means no
	// bound.
	Since, Until time.Time
	// Skip and Limit page through the refunds as in [BillQuery]; Limit is
	// at most MaxLimit (50), zero means 10. CountRefunds ignores them.
	Skip, Limit int
	// Detail asks for each refund's channel details.
	Detail bool
}

// Refund is one BeeCloud refund record. Amounts are in 分.
type Refund struct {
	// ID is BeeCloud's record id, for [Client.GetRefund] and
	// [Client.ApproveRefunds].
	ID string
	// OutTradeNo is the refunded order (bill_no); RefundNo the refund's
	// number.
	OutTradeNo, RefundNo string
	// Title is the order's title.
	Title string
	// Channel and SubChannel are the bill's channel, such as
	// [ChannelTypeAli] and "ALI_WEB".
	Channel    ChannelType
	SubChannel string
	// Amount is the refunded amount (refund_fee); BillAmount the bill's
	// total (total_fee).
	Amount, BillAmount int64
	// Finished reports whether the refund is over (finish); Succeeded
	// whether it succeeded (result).
	Finished, Succeeded bool
	// CreatedAt is when BeeCloud made the record.
	CreatedAt time.Time
	// Optional is the refund's optional data; numbers are json.Number.
	Optional map[string]any
	// MessageDetail is the channel's raw answer, when the query asked for
	// Detail.
	MessageDetail string
}

type wireRefund struct {
	ID            string          `json:"id"`
	BillNo        string          `json:"bill_no"`
	RefundNo      string          `json:"refund_no"`
	TotalFee      int64           `json:"total_fee"`
	RefundFee     int64           `json:"refund_fee"`
	Title         string          `json:"title"`
	Channel       string          `json:"channel"`
	SubChannel    string          `json:"sub_channel"`
	Finish        bool            `json:"finish"`
	Result        bool            `json:"result"`
	Optional      json.RawMessage `json:"optional"`
	MessageDetail json.RawMessage `json:"message_detail"`
	CreateTime    int64           `json:"create_time"`
}

func (w *wireRefund) refund() (Refund, error) {
	opt, err := decodeOptional(w.Optional)
	if err != nil {
		return Refund{}, fmt.Errorf("refund %q: %w", w.ID, err)
	}
	detail, err := decodeDetail(w.MessageDetail)
	if err != nil {
		return Refund{}, fmt.Errorf("refund %q: %w", w.ID, err)
	}
	if w.TotalFee < 0 || w.RefundFee < 0 {
		return Refund{}, fmt.Errorf("refund %q: negative amount", w.ID)
	}
	return Refund{
		ID:            w.ID,
		OutTradeNo:    w.BillNo,
		RefundNo:      w.RefundNo,
		Title:         w.Title,
		Channel:       ChannelType(w.Channel),
		SubChannel:    w.SubChannel,
		Amount:        w.RefundFee,
		BillAmount:    w.TotalFee,
		Finished:      w.Finish,
		Succeeded:     w.Result,
		CreatedAt:     fromMillis(w.CreateTime),
		Optional:      opt,
		MessageDetail: detail,
	}, nil
}

func (q RefundQuery) params(op string, count bool) (map[string]any, error) {
	p := problems{op: op}
	m := listing{q.OutTradeNo, string(q.Channel), q.Since, q.Until, q.Skip, q.Limit, q.Detail}.params(&p, count)
	if q.RefundNo != "" {
		if len(q.RefundNo) > 32 || !isAlnumString(q.RefundNo) {
			p.add("refund_no", "must be letters and digits, at most 32")
		}
		m["refund_no"] = q.RefundNo
	}
	if q.NeedApproval {
		m["need_approval"] = true
	}
	return m, p.err()
}

func isAlnumString(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

// Refunds returns the refunds q selects, newest first (GET
// /2/rest/refunds).
func (c *Client) Refunds(ctx context.Context, q RefundQuery) ([]Refund, error) {
	params, err := q.params("refunds", false)
	if err != nil {
		return nil, err
	}
	return get(ctx, c, "/2/rest/refunds", params, decodeRefunds)
}

func decodeRefunds(body []byte) ([]Refund, error) {
	return decodeList(body, "refunds", (*wireRefund).refund)
}

// CountRefunds returns how many refunds q selects (GET
// /2/rest/refunds/count). It ignores q's Skip, Limit and Detail.
func (c *Client) CountRefunds(ctx context.Context, q RefundQuery) (int, error) {
	params, err := q.params("refund count", true)
	if err != nil {
		return 0, err
	}
	return get(ctx, c, "/2/rest/refunds/count", params, decodeCount)
}

// GetRefund returns the refund whose BeeCloud record id is id (GET
// /2/rest/refund/{id}). An unknown id is an *[APIError] with Code
// [CodeNoSuchRefund].
func (c *Client) GetRefund(ctx context.Context, id string) (*Refund, error) {
	p := problems{op: "refund lookup"}
	checkID(&p, id)
	if err := p.err(); err != nil {
		return nil, err
	}
	return get(ctx, c, "/2/rest/refund/"+url.PathEscape(id), nil, decodeRefund)
}

func decodeRefund(body []byte) (*Refund, error) {
	return decodeOne(body, "refund", (*wireRefund).refund)
}
