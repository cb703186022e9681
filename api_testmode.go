package beecloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ErrTestMode means a [Client] with Test set was asked for something
// BeeCloud's test mode does not have: refunds and refund queries.
var ErrTestMode = errors.New("beecloud: not available in test mode")

// sandboxPrefix is where BeeCloud's test mode is.
const sandboxPrefix = "/2/rest/sandbox"

// billCall is the bill call method path, in test mode if c.Test: there
// under /2/rest/sandbox and signed with the Test Secret.
func (c *Client) billCall(method, path string, params map[string]any) call {
	k := call{method: method, path: path, params: params}
	if c.Test {
		k.path = sandboxPrefix + strings.TrimPrefix(path, "/2/rest")
		k.test = true
	}
	return k
}

// checkCall reports what c lacks to sign k, and refuses a live call in
// test mode.
func (c *Client) checkCall(k call) error {
	if !k.test {
		return c.checkConfig(k.master)
	}
	switch {
	case c.Config.AppID == "":
		return fmt.Errorf("%w: AppID is empty", ErrInvalidConfig)
	case c.Config.TestSecret == "":
		return fmt.Errorf("%w: TestSecret is empty: BeeCloud signs test-mode calls with the Test Secret", ErrInvalidConfig)
	}
	return nil
}

// errTestMode is the error of a call BeeCloud has no test mode for.
func errTestMode() error {
	return fmt.Errorf("%w: BeeCloud's test mode has bills only (CreateBill, Bills, CountBills, GetBill); refunds are live: use a Client without Test", ErrTestMode)
}

// testBillParams checks q for a test-mode list, or count, and returns
// its parameters.
func testBillParams(q BillQuery, count bool) (map[string]any, error) {
	op := "bills"
	if count {
		op = "bill count"
	}
	p := problems{op: op}
	m := listing{q.OutTradeNo, string(q.Channel), q.Since, q.Until, q.Skip, q.Limit, false}.params(&p, count)
	if q.PaidOnly {
		p.add("spay_result", "BeeCloud's test mode cannot filter bills by spay_result")
	}
	if q.RefundedOnly {
		p.add("refund_result", "BeeCloud's test mode cannot filter bills by refund_result")
	}
	if q.Detail && !count {
		p.add("need_detail", "BeeCloud's test mode has no channel details (need_detail)")
	}
	return m, p.err()
}

func (c *Client) sandboxBills(ctx context.Context, q BillQuery) ([]Bill, error) {
	params, err := testBillParams(q, false)
	if err != nil {
		return nil, err
	}
	var out []Bill
	err = c.query(ctx, c.billCall(http.MethodGet, "/2/rest/bills", params), func(body []byte) (err error) {
		out, err = decodeList(body, "bills", (*wireTestBill).bill)
		return err
	})
	return out, err
}

func (c *Client) sandboxCountBills(ctx context.Context, q BillQuery) (int, error) {
	params, err := testBillParams(q, true)
	if err != nil {
		return 0, err
	}
	var n int
	err = c.query(ctx, c.billCall(http.MethodGet, "/2/rest/bills/count", params), func(body []byte) (err error) {
		n, err = decodeCount(body)
		return err
	})
	return n, err
}

func (c *Client) sandboxGetBill(ctx context.Context, id string) (*Bill, error) {
	var out *Bill
	err := c.query(ctx, c.billCall(http.MethodGet, "/2/rest/bill/"+url.PathEscape(id), nil), func(body []byte) (err error) {
		out, err = decodeOne(body, "pay", (*wireTestBill).bill)
		return err
	})
	return out, err
}

// wireTestBill is a bill as test mode's answers carry it: the live names
// where they are the same, and test mode's own.
type wireTestBill struct {
	wireBill
	CreatedTime    int64  `json:"created_time"`
	CreatedAt      int64  `json:"createdat"`
	ChannelTradeNo string `json:"channel_trade_no"`
}

func (w *wireTestBill) bill() (Bill, error) {
	b, err := w.wireBill.bill()
	if err != nil {
		return b, err
	}
	if b.CreatedAt.IsZero() {
		b.CreatedAt = fromMillis(max(w.CreatedTime, w.CreatedAt))
	}
	if b.ChannelTransactionID == "" {
		b.ChannelTransactionID = w.ChannelTradeNo
	}
	// The list names the sub-channel channel.
	if family, _, ok := strings.Cut(string(b.Channel), "_"); ok {
		if b.SubChannel == "" {
			b.SubChannel = string(b.Channel)
		}
		b.Channel = ChannelType(family)
	}
	return b, nil
}
