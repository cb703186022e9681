package beecloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// RefundStatus is where a refund stands at its channel, as
// [Client.RefundStatus] reports it (refund_status).
type RefundStatus string

// The refund_status values BeeCloud documents; a channel may give others.
const (
	RefundSuccess    RefundStatus = "SUCCESS"
	RefundProcessing RefundStatus = "PROCESSING"
	RefundFail       RefundStatus = "FAIL"
)

// String returns s as BeeCloud spells it, such as "SUCCESS".
func (s RefundStatus) String() string { return string(s) }

// statusChannels are the channels that send no refund webhook, whose
// refunds' status BeeCloud asks the channel for.
var statusChannels = []ChannelType{ChannelTypeWx, ChannelTypeYee, ChannelTypeKuaiqian, ChannelTypeBD}

// RefundStatus asks the channel where the refund refundNo stands (GET
// /2/rest/refund/status): [RefundSuccess], [RefundProcessing], [RefundFail]
// or another value the channel gives. channel is required and must be
// [ChannelTypeWx], [ChannelTypeYee], [ChannelTypeKuaiqian] or
// [ChannelTypeBD]: the channels that send no refund webhook. For the
// others, wait for the webhook or look at [Refund].Finished.
func (c *Client) RefundStatus(ctx context.Context, channel ChannelType, refundNo string) (RefundStatus, error) {
	p := problems{op: "refund status"}
	switch {
	case channel == "":
		p.add("channel", `is required: "WX", "YEE", "KUAIQIAN" or "BD"`)
	case !contains(statusChannels, channel):
		p.add("channel", fmt.Sprintf(`must be "WX", "YEE", "KUAIQIAN" or "BD" (the channels without a refund webhook), got %q`, channel))
	}
	if refundNo == "" {
		p.add("refund_no", "is required")
	} else if len(refundNo) > 32 || !isAlnumString(refundNo) {
		p.add("refund_no", "must be letters and digits, at most 32")
	}
	if err := p.err(); err != nil {
		return "", err
	}
	return get(ctx, c, "/2/rest/refund/status", map[string]any{"channel": channel, "refund_no": refundNo}, decodeRefundStatus)
}

// contains reports whether ch is one of list.
func contains(list []ChannelType, ch ChannelType) bool { return slices.Contains(list, ch) }

func decodeRefundStatus(body []byte) (RefundStatus, error) {
	var a struct {
		Status RefundStatus `json:"refund_status"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return "", err
	}
	if a.Status == "" {
		return "", errors.New("no refund_status")
	}
	return a.Status, nil
}

// RefundApproval agrees to or denies pre-refunds, made by [Client.Refund]
// with NeedApproval, for [Client.ApproveRefunds].
type RefundApproval struct {
	// Channel is the pre-refunds' channel, such as [ChannelTypeAli].
	// Required.
	Channel ChannelType
	// IDs are the pre-refunds' record ids ([Refund].ID). Required.
	IDs []string
	// Agree makes the refunds; false denies them.
	Agree bool
	// DenyReason says why, when Agree is false.
	DenyReason string
}

// ApprovalResult is BeeCloud's answer to [Client.ApproveRefunds].
type ApprovalResult struct {
	// Results maps each id to "OK" or to the reason it failed.
	Results map[string]string
	// URL is set for Alipay refunds, which the merchant confirms on
	// Alipay's page with its payment password.
	URL string
}

// ApproveRefunds agrees to or denies pre-refunds (PUT /2/rest/refund,
// signed with the Master Secret). Like a refund it is never sent twice
// blindly: when its answer is lost the error wraps [ErrUnknownOutcome];
// see where the pre-refunds stand with [Client.Refunds] (NeedApproval
// set) before sending it again.
func (c *Client) ApproveRefunds(ctx context.Context, a RefundApproval) (*ApprovalResult, error) {
	p := problems{op: "refund approval"}
	if a.Channel == "" {
		p.add("channel", `is required, such as "ALI"`)
	}
	checkChannel(&p, "channel", string(a.Channel))
	if len(a.IDs) == 0 {
		p.add("ids", "is required: the pre-refunds' record ids")
	}
	for i, id := range a.IDs {
		sub := problems{op: p.op}
		checkID(&sub, id)
		for _, e := range sub.list {
			p.add(fmt.Sprintf("ids[%d]", i), e.Reason)
		}
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	if err := c.checkConfig(true); err != nil {
		return nil, err
	}
	params := map[string]any{"channel": a.Channel, "ids": a.IDs, "agree": a.Agree}
	if a.DenyReason != "" {
		params["deny_reason"] = a.DenyReason
	}
	k := call{method: "PUT", path: "/2/rest/refund", params: params, master: true}
	for n := 1; ; n++ {
		ans := c.roundTrip(ctx, k)
		v := ans.outcome(k)
		switch {
		case v.err == nil:
			var body struct {
				ResultMap map[string]string `json:"result_map"`
				URL       string            `json:"url"`
			}
			if err := json.Unmarshal(ans.body, &body); err != nil {
				return nil, fmt.Errorf("%w: %s: BeeCloud accepted it (result_code 0) but the answer is malformed: %w", ErrUnknownOutcome, k, err)
			}
			return &ApprovalResult{Results: body.ResultMap, URL: body.URL}, nil
		case v.lost:
			return nil, fmt.Errorf("%w: %s: the answer was lost, the pre-refunds may or may not be approved: look them up before sending it again: %w", ErrUnknownOutcome, k, v.err)
		case v.retry && !ans.sent && n < queryAttempts:
			if werr := c.wait(ctx, n); werr == nil {
				continue
			}
		}
		return nil, v.err
	}
}
