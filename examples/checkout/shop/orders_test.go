package shop

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestOrdersMarkPaid(t *testing.T) {
	o := NewOrders()
	if err := o.Add(Order{OutTradeNo: "order0001", Title: "测试商品", Amount: 1}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	if _, err := o.MarkPaid(Payment{OutTradeNo: "order0001", Amount: 100}); !errors.Is(err, ErrAmountMismatch) {
		t.Errorf("wrong amount: got %v; want ErrAmountMismatch", err)
	}
	if got, _ := o.Get("order0001"); got.State != StatePending {
		t.Errorf("after a wrong amount the state is %q; want %q", got.State, StatePending)
	}
	if _, err := o.MarkPaid(Payment{OutTradeNo: "nosuchorder", Amount: 1}); !errors.Is(err, ErrUnknownOrder) {
		t.Errorf("unknown order: got %v; want ErrUnknownOrder", err)
	}

	changed, err := o.MarkPaid(Payment{OutTradeNo: "order0001", Amount: 1, Channel: "ALI", SubChannel: "ALI_WEB", ChannelTransactionID: "2026", At: at})
	if err != nil || !changed {
		t.Fatalf("MarkPaid = %t, %v; want true, nil", changed, err)
	}
	changed, err = o.MarkPaid(Payment{OutTradeNo: "order0001", Amount: 1, SubChannel: "WX_NATIVE", At: at.Add(time.Hour)})
	if err != nil || changed {
		t.Errorf("second MarkPaid = %t, %v; want false, nil", changed, err)
	}
	got, ok := o.Get("order0001")
	if !ok {
		t.Fatal("order is gone")
	}
	if got.State != StatePaid || got.SubChannel != "ALI_WEB" || !got.PaidAt.Equal(at) || got.ChannelTransactionID != "2026" {
		t.Errorf("got %+v; want paid by the first payment", got)
	}
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
	if err := add("paid0000", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := o.MarkPaid(Payment{OutTradeNo: "paid0000", Amount: 1}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := add(fmt.Sprintf("p%07d", i), t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatalf("order %d: %v", i, err)
		}
	}
	if err := add("late0000", t0.Add(PendingTTL-time.Second)); !errors.Is(err, ErrTooManyOrders) {
		t.Errorf("a 4th unpaid order while the oldest is younger than %s: got %v; want ErrTooManyOrders", PendingTTL, err)
	}
	for i := range 3 {
		if _, ok := o.Get(fmt.Sprintf("p%07d", i)); !ok {
			t.Errorf("order p%07d was forgotten", i)
		}
	}
	// Once the oldest unpaid order is older than PendingTTL, it goes.
	if err := add("late0001", t0.Add(PendingTTL+30*time.Second)); err != nil {
		t.Fatalf("Add after PendingTTL: %v", err)
	}
	if _, ok := o.Get("p0000000"); ok {
		t.Error("the expired unpaid order is still kept")
	}
	for _, no := range []string{"paid0000", "p0000001", "late0001"} {
		if _, ok := o.Get(no); !ok {
			t.Errorf("order %s was forgotten", no)
		}
	}
	// A paid order frees its place.
	if _, err := o.MarkPaid(Payment{OutTradeNo: "p0000001", Amount: 1}); err != nil {
		t.Fatal(err)
	}
	if err := add("late0002", t0.Add(PendingTTL+time.Minute)); err != nil {
		t.Errorf("Add after an order was paid: %v", err)
	}
	if err := add("late0002", t0.Add(PendingTTL+time.Minute)); err == nil {
		t.Error("Add accepted an out_trade_no twice")
	}
	if got, since := o.Unpaid(t0.Add(PendingTTL+time.Minute), 30*time.Second); fmt.Sprint(got) != "[p0000002 late0001]" || !since.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("Unpaid: got %v since %v; want [p0000002 late0001] since %v", got, since, t0.Add(2*time.Minute))
	}
}

func TestOrdersRefunds(t *testing.T) {
	o := NewOrders()
	if err := o.Add(Order{OutTradeNo: "order0001", Amount: 150}); err != nil {
		t.Fatal(err)
	}
	if err := o.AddRefund("order0001", Refund{RefundNo: "20260520abc", Amount: 1}); err == nil {
		t.Error("AddRefund accepted a refund of an unpaid order")
	}
	if _, err := o.MarkPaid(Payment{OutTradeNo: "order0001", Amount: 150}); err != nil {
		t.Fatal(err)
	}
	for _, amount := range []int64{0, -1, 151} {
		if err := o.AddRefund("order0001", Refund{RefundNo: "20260520bad", Amount: amount}); err == nil {
			t.Errorf("AddRefund accepted %d 分 of a 150 分 order", amount)
		}
	}
	if err := o.AddRefund("order0001", Refund{RefundNo: "20260520r01", Amount: 100}); err != nil {
		t.Fatal(err)
	}
	if err := o.AddRefund("order0001", Refund{RefundNo: "20260520r02", Amount: 51}); err == nil {
		t.Error("AddRefund accepted more than what is left")
	}
	got, _ := o.Get("order0001")
	if got.Refundable() != 50 || got.Refunded() != 0 {
		t.Errorf("refundable %d, refunded %d; want 50 and 0 (the refund is not confirmed yet)", got.Refundable(), got.Refunded())
	}
	no, err := o.UpdateRefund("20260520r01", func(r *Refund) { r.Succeeded = true })
	if err != nil || no != "order0001" {
		t.Fatalf("UpdateRefund = %q, %v; want order0001", no, err)
	}
	if _, err := o.UpdateRefund("20260520zzz", func(*Refund) {}); !errors.Is(err, ErrUnknownOrder) {
		t.Errorf("UpdateRefund of an unknown refund: got %v; want ErrUnknownOrder", err)
	}
	got, _ = o.Get("order0001")
	if got.Refunded() != 100 {
		t.Errorf("refunded %d; want 100", got.Refunded())
	}
	// A failed refund gives its amount back to what can be refunded.
	if err := o.AddRefund("order0001", Refund{RefundNo: "20260520r03", Amount: 50}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.UpdateRefund("20260520r03", func(r *Refund) { r.Failed = true }); err != nil {
		t.Fatal(err)
	}
	if got, _ := o.Get("order0001"); got.Refundable() != 50 {
		t.Errorf("refundable %d after a failed refund; want 50", got.Refundable())
	}
}

func TestOrdersConcurrentMarkPaid(t *testing.T) {
	o := NewOrders()
	if err := o.Add(Order{OutTradeNo: "order0001", Amount: 5}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	changes := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			changed, err := o.MarkPaid(Payment{OutTradeNo: "order0001", Amount: 5})
			if err != nil {
				t.Error(err)
			}
			if changed {
				mu.Lock()
				changes++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if changes != 1 {
		t.Errorf("%d calls changed the order; want 1", changes)
	}
}

// TestOrdersUnpaid checks which orders the sweeper asks about: the unpaid
// ones older than SweepAfter and younger than PendingTTL, oldest first.
func TestOrdersUnpaid(t *testing.T) {
	o := NewOrders()
	t0 := time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)
	for i, no := range []string{"order0001", "order0002", "order0003", "order0004"} {
		if err := o.Add(Order{OutTradeNo: no, Amount: 1, Created: t0.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := o.MarkPaid(Payment{OutTradeNo: "order0002", Amount: 1}); err != nil {
		t.Fatal(err)
	}
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
		if fmt.Sprint(got) != fmt.Sprint(tt.want) || !since.Equal(tt.wantSince) {
			t.Errorf("Unpaid(%v): got %v since %v; want %v since %v", tt.now, got, since, tt.want, tt.wantSince)
		}
	}
}
