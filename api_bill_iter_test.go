package beecloud_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paybutton/beecloud"
)

// TestAllBills: the iterator yields every bill once, whatever the order of
// BeeCloud's pages and however many bills are made while it pages.
func TestAllBills(t *testing.T) {
	for _, order := range []listOrder{newestFirst, oldestFirst, shuffled} {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			f := newFakeBeeCloud(order)
			start := time.Now().Add(-24 * time.Hour)
			for i := range 333 {
				f.addBill(beecloud.NewOutTradeNo(), 1, i%3 != 0, start.Add(time.Duration(i)*time.Minute))
			}
			// Every page brings two more paid bills, one in the middle of
			// the span and one now.
			f.before = func(path string, n int64) {
				if path == "/2/rest/bills" && n < 40 {
					f.addBill(beecloud.NewOutTradeNo(), 1, true, start.Add(time.Duration(n)*time.Hour))
					f.addBill(beecloud.NewOutTradeNo(), 1, true, time.Now())
				}
			}
			c := &beecloud.Client{Config: shopConfig, BaseURL: "http://beecloud.invalid", HTTPClient: f.client()}
			got := map[string]int{}
			for b, err := range c.AllBills(context.Background(), beecloud.BillQuery{PaidOnly: true, Since: start}) {
				require.NoError(t, err)
				require.True(t, b.Paid)
				got[b.ID]++
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			for _, b := range f.bills {
				if b.paid {
					assert.Equal(t, 1, got[b.id], b.id)
				}
			}
			t.Logf("%d bills, %d requests", len(got), f.requests.Load())
		})
	}
}

func TestAllBillsStopsAndFails(t *testing.T) {
	f := newFakeBeeCloud(newestFirst)
	for range 120 {
		f.addBill(beecloud.NewOutTradeNo(), 1, true, time.Now())
	}
	c := &beecloud.Client{Config: shopConfig, BaseURL: "http://beecloud.invalid", HTTPClient: f.client()}

	n := 0
	for _, err := range c.AllBills(context.Background(), beecloud.BillQuery{}) {
		require.NoError(t, err)
		if n++; n == 60 {
			break
		}
	}
	assert.Equal(t, int64(2), f.requests.Load(), "a break ends the paging")

	f.requests.Store(0)
	var errs []error
	for b, err := range c.AllBills(context.Background(), beecloud.BillQuery{Channel: "ali"}) {
		assert.Zero(t, b)
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	var reqErr *beecloud.ValidationError
	require.ErrorAs(t, errs[0], &reqErr)
	assert.Equal(t, "channel", reqErr.Problems[0].Field)
	assert.Zero(t, f.requests.Load(), "a bad query is not sent")
}

// TestAllRefunds pages through the sandbox's refunds.
func TestAllRefunds(t *testing.T) {
	s, sb, c, _ := sandboxShop(t)
	ctx := context.Background()
	want := map[string]bool{}
	for range 60 {
		no := s.order(100)
		payIn(t, sb, no, 100)
		refundNo := beecloud.NewRefundNo(time.Now())
		_, err := c.Refund(ctx, beecloud.RefundRequest{OutTradeNo: no, RefundNo: refundNo, Amount: 1})
		require.NoError(t, err)
		want[refundNo] = true
	}
	got := map[string]bool{}
	for r, err := range c.AllRefunds(ctx, beecloud.RefundQuery{Since: time.Now().Add(-time.Hour)}) {
		require.NoError(t, err)
		assert.False(t, got[r.RefundNo], "once")
		got[r.RefundNo] = true
	}
	assert.Equal(t, want, got)
}

// TestAllBillsCountDisagrees: a BeeCloud whose count is far above what it
// lists, in every range of time, makes the iterator fail after a bounded
// number of requests, having yielded every bill it lists; a count a little
// off costs a few more requests and no error.
func TestAllBillsCountDisagrees(t *testing.T) {
	f := newFakeBeeCloud(newestFirst)
	f.countExtra = 3
	start := time.Now().Add(-48 * time.Hour)
	for i := range 500 {
		f.addBill(beecloud.NewOutTradeNo(), 1, true, start.Add(time.Duration(i)*5*time.Minute))
	}
	c := &beecloud.Client{Config: shopConfig, BaseURL: "http://beecloud.invalid", HTTPClient: f.client()}
	n := 0
	for _, err := range c.AllBills(context.Background(), beecloud.BillQuery{Since: start}) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 500, n)
	t.Logf("count 3 above: %d requests", f.requests.Load())

	f.countExtra = 1000
	f.requests.Store(0)
	n = 0
	var errs []error
	for _, err := range c.AllBills(context.Background(), beecloud.BillQuery{Since: start}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	assert.Equal(t, 500, n)
	require.Len(t, errs, 1)
	require.ErrorContains(t, errs[0], "counts more records than its pages hold")
	assert.LessOrEqual(t, f.requests.Load(), int64(11+4*11+32), "the pages, then the budget")
}
