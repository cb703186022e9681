package shop

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOrdersMarkPaid(t *testing.T) {
	o := NewOrders()
	require.NoError(t, o.Add(Order{OutTradeNo: "order0001", Title: "测试商品", Amount: 1}), "Add")
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	_, err := o.MarkPaid(Payment{OutTradeNo: "order0001", Amount: 100})
	require.ErrorIs(t, err, ErrAmountMismatch, "MarkPaid with a wrong amount")
	got, _ := o.Get("order0001")
	assert.Equal(t, StatePending, got.State, "after a wrong amount")
	_, err = o.MarkPaid(Payment{OutTradeNo: "nosuchorder", Amount: 1})
	require.ErrorIs(t, err, ErrUnknownOrder, "MarkPaid of an unknown order")

	changed, err := o.MarkPaid(Payment{OutTradeNo: "order0001", Amount: 1, Channel: "ALI", SubChannel: "ALI_WEB", ChannelTransactionID: "2026", At: at})
	require.NoError(t, err, "MarkPaid")
	require.True(t, changed, "MarkPaid: changed")
	changed, err = o.MarkPaid(Payment{OutTradeNo: "order0001", Amount: 1, SubChannel: "WX_NATIVE", At: at.Add(time.Hour)})
	require.NoError(t, err, "second MarkPaid")
	assert.False(t, changed, "second MarkPaid: changed")
	got, ok := o.Get("order0001")
	require.True(t, ok, "order is gone")
	// Paid by the first payment.
	assert.Equal(t, StatePaid, got.State, "order %+v", got)
	assert.Equal(t, "ALI_WEB", got.SubChannel, "order %+v: sub-channel", got)
	assert.True(t, got.PaidAt.Equal(at), "order %+v: PaidAt; want %v", got, at)
	assert.Equal(t, "2026", got.ChannelTransactionID, "order %+v: channel transaction", got)
}

// TestOrdersNeverForgetYoungPending fills the book with unpaid orders, as
// visitors who never pay would: a new order is refused rather than one
// that a buyer may be paying forgotten, until the oldest is older than
// PendingTTL. Paid orders are never forgotten.
func TestOrdersNeverForgetYoungPending(t *testing.T) {
	o := NewOrders()
	o.MaxPending = 3
	t0 := time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)
	add := func(no string, at time.Time) error {
		return o.Add(Order{OutTradeNo: no, Amount: 1, Created: at})
	}
	require.NoError(t, add("paid0000", t0), "Add")
	_, err := o.MarkPaid(Payment{OutTradeNo: "paid0000", Amount: 1})
	require.NoError(t, err, "MarkPaid")
	for i := range 3 {
		require.NoError(t, add(fmt.Sprintf("p%07d", i), t0.Add(time.Duration(i)*time.Minute)), "Add: order %d", i)
	}
	require.ErrorIs(t, add("late0000", t0.Add(PendingTTL-time.Second)), ErrTooManyOrders,
		"Add: a 4th unpaid order while the oldest is younger than %s", PendingTTL)
	for i := range 3 {
		_, ok := o.Get(fmt.Sprintf("p%07d", i))
		assert.True(t, ok, "order p%07d was forgotten", i)
	}
	// Once the oldest unpaid order is older than PendingTTL, it goes.
	require.NoError(t, add("late0001", t0.Add(PendingTTL+30*time.Second)), "Add after PendingTTL")
	_, ok := o.Get("p0000000")
	assert.False(t, ok, "the expired unpaid order is still kept")
	for _, no := range []string{"paid0000", "p0000001", "late0001"} {
		_, ok := o.Get(no)
		assert.True(t, ok, "order %s was forgotten", no)
	}
	// A paid order frees its place.
	_, err = o.MarkPaid(Payment{OutTradeNo: "p0000001", Amount: 1})
	require.NoError(t, err, "MarkPaid")
	assert.NoError(t, add("late0002", t0.Add(PendingTTL+time.Minute)), "Add after an order was paid")
	require.Error(t, add("late0002", t0.Add(PendingTTL+time.Minute)), "Add accepted an out_trade_no twice")
	got, since := o.Unpaid(t0.Add(PendingTTL+time.Minute), 30*time.Second)
	assert.Equal(t, []string{"p0000002", "late0001"}, got, "Unpaid")
	assert.True(t, since.Equal(t0.Add(2*time.Minute)), "Unpaid: since %v; want %v", since, t0.Add(2*time.Minute))
}

func TestOrdersRefunds(t *testing.T) {
	o := NewOrders()
	require.NoError(t, o.Add(Order{OutTradeNo: "order0001", Amount: 150}), "Add")
	require.Error(t, o.AddRefund("order0001", Refund{RefundNo: "20260520abc", Amount: 1}), "AddRefund accepted a refund of an unpaid order")
	_, err := o.MarkPaid(Payment{OutTradeNo: "order0001", Amount: 150})
	require.NoError(t, err, "MarkPaid")
	for _, amount := range []int64{0, -1, 151} {
		require.Error(t, o.AddRefund("order0001", Refund{RefundNo: "20260520bad", Amount: amount}), "AddRefund accepted %d 分 of a 150 分 order", amount)
	}
	require.NoError(t, o.AddRefund("order0001", Refund{RefundNo: "20260520r01", Amount: 100}), "AddRefund")
	require.Error(t, o.AddRefund("order0001", Refund{RefundNo: "20260520r02", Amount: 51}), "AddRefund accepted more than what is left")
	got, _ := o.Get("order0001")
	assert.Equal(t, int64(50), got.Refundable(), "Refundable()")
	assert.Zero(t, got.Refunded(), "Refunded(): the refund is not confirmed yet")
	no, err := o.UpdateRefund("20260520r01", func(r *Refund) { r.Succeeded = true })
	require.NoError(t, err, "UpdateRefund")
	require.Equal(t, "order0001", no, "UpdateRefund")
	_, err = o.UpdateRefund("20260520zzz", func(*Refund) {})
	require.ErrorIs(t, err, ErrUnknownOrder, "UpdateRefund of an unknown refund")
	got, _ = o.Get("order0001")
	assert.Equal(t, int64(100), got.Refunded(), "Refunded()")
	// A failed refund gives its amount back to what can be refunded.
	require.NoError(t, o.AddRefund("order0001", Refund{RefundNo: "20260520r03", Amount: 50}), "AddRefund")
	_, err = o.UpdateRefund("20260520r03", func(r *Refund) { r.Failed = true })
	require.NoError(t, err, "UpdateRefund")
	got, _ = o.Get("order0001")
	assert.Equal(t, int64(50), got.Refundable(), "Refundable() after a failed refund")
}

func TestOrdersConcurrentMarkPaid(t *testing.T) {
	o := NewOrders()
	require.NoError(t, o.Add(Order{OutTradeNo: "order0001", Amount: 5}), "Add")
	var wg sync.WaitGroup
	var mu sync.Mutex
	changes := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			changed, err := o.MarkPaid(Payment{OutTradeNo: "order0001", Amount: 5})
			assert.NoError(t, err, "MarkPaid") // not require: this is not the test's goroutine
			if changed {
				mu.Lock()
				changes++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, changes, "calls that changed the order")
}

// TestOrdersUnpaid checks which orders the sweeper asks about: the unpaid
// ones older than SweepAfter and younger than PendingTTL, oldest first.
func TestOrdersUnpaid(t *testing.T) {
	o := NewOrders()
	t0 := time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)
	for i, no := range []string{"order0001", "order0002", "order0003", "order0004"} {
		require.NoError(t, o.Add(Order{OutTradeNo: no, Amount: 1, Created: t0.Add(time.Duration(i) * time.Hour)}), "Add(%s)", no)
	}
	_, err := o.MarkPaid(Payment{OutTradeNo: "order0002", Amount: 1})
	require.NoError(t, err, "MarkPaid")
	tests := []struct {
		now       time.Time
		want      []string
		wantSince time.Time
	}{
		{t0.Add(time.Minute), nil, time.Time{}},
		{t0.Add(3*time.Hour + time.Minute), []string{"order0001", "order0003"}, t0},
		{t0.Add(PendingTTL + 2*time.Hour), []string{"order0004"}, t0.Add(3 * time.Hour)}, // order0003 is PendingTTL old
	}
	for _, tt := range tests {
		got, since := o.Unpaid(tt.now, 5*time.Minute)
		assert.Equal(t, tt.want, got, "Unpaid(%v)", tt.now)
		assert.True(t, since.Equal(tt.wantSince), "Unpaid(%v): since %v; want %v", tt.now, since, tt.wantSince)
	}
}
