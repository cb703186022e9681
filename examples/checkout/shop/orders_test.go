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
	o.Add(Order{OutTradeNo: "order0001", Title: "测试商品", Amount: 1})
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

func TestOrdersForgetOldestPending(t *testing.T) {
	o := NewOrders()
	o.Add(Order{OutTradeNo: "paid0000", Amount: 1})
	if _, err := o.MarkPaid(Payment{OutTradeNo: "paid0000", Amount: 1}); err != nil {
		t.Fatal(err)
	}
	for i := range maxPending + 1 {
		o.Add(Order{OutTradeNo: fmt.Sprintf("p%07d", i), Amount: 1})
	}
	if _, ok := o.Get("paid0000"); !ok {
		t.Error("a paid order was forgotten")
	}
	if _, ok := o.Get("p0000000"); ok {
		t.Error("the oldest pending order is still kept")
	}
	if _, ok := o.Get(fmt.Sprintf("p%07d", maxPending)); !ok {
		t.Error("the newest order was forgotten")
	}
}

func TestOrdersConcurrentMarkPaid(t *testing.T) {
	o := NewOrders()
	o.Add(Order{OutTradeNo: "order0001", Amount: 5})
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
