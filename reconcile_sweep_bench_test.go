package beecloud_test

import (
	"context"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
)

// BenchmarkSweep sweeps 5,000 pending orders of which 40 are paid, with
// 1,000 other paid bills in the window, against BeeCloud's REST API in
// memory: "by-window" lists the paid bills (SweepOptions.Since), and
// "per-order" is the baseline that asks about each order (no Since),
// both without a rate limit. calls/op is the REST requests of one sweep.
func BenchmarkSweep(b *testing.B) {
	f := newFakeBeeCloud(newestFirst)
	now := time.Now()
	since := now.Add(-48 * time.Hour)
	amounts := map[string]int64{}
	var pending []string
	for i := range 5000 {
		no := beecloud.NewOutTradeNo()
		amounts[no] = 100
		pending = append(pending, no)
		if i%125 == 7 {
			f.addBill(no, 100, true, since.Add(time.Duration(i)*30*time.Second))
		}
	}
	for i := range 1000 {
		f.addBill(beecloud.NewOutTradeNo(), 100, true, since.Add(time.Duration(i)*2*time.Minute))
	}
	c := &beecloud.Client{Config: shopConfig, BaseURL: "http://beecloud.invalid", HTTPClient: f.client()}
	for _, bc := range []struct {
		name string
		opts beecloud.SweepOptions
	}{
		{"by-window", beecloud.SweepOptions{Since: since, Interval: -1}},
		{"per-order", beecloud.SweepOptions{Interval: -1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f.requests.Store(0)
			for range b.N {
				b.StopTimer()
				s := newSweepShop(nil)
				s.amounts = amounts
				b.StartTimer()
				res := s.handler.Sweep(context.Background(), c, pending, bc.opts)
				if len(res.Paid) != 40 || res.Err() != nil {
					b.Fatalf("paid %d, err %v; want 40 and no error", len(res.Paid), res.Err())
				}
			}
			b.ReportMetric(float64(f.requests.Load())/float64(b.N), "calls/op")
		})
	}
}
