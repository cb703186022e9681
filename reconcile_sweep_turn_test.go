//go:build go1.25

package beecloud_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paybutton/beecloud"
)

// TestSweepInstancesTakeTurns: three instances sweeping the same period
// at once send the requests of one, and Handle runs once per order.
func TestSweepInstancesTakeTurns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeBeeCloud(newestFirst)
		store := &beecloud.MemStore{}
		shops := []*sweepShop{newSweepShop(store), newSweepShop(store), newSweepShop(store)}
		now := time.Now()
		var pending, paid []string
		for i := range 300 {
			no := beecloud.NewOutTradeNo()
			for _, s := range shops {
				s.amounts[no] = 100
			}
			pending = append(pending, no)
			if i%10 == 0 {
				paid = append(paid, no)
				f.addBill(no, 100, true, now.Add(-time.Minute))
			}
			f.addBill(beecloud.NewOutTradeNo(), 100, true, now.Add(-time.Minute))
		}
		c := &beecloud.Client{Config: shopConfig, BaseURL: "http://beecloud.invalid", HTTPClient: f.client()}
		opts := beecloud.SweepOptions{Since: now.Add(-time.Hour), Period: time.Minute}

		// One sweep alone, for its number of requests.
		alone := newSweepShop(&beecloud.MemStore{})
		alone.amounts = shops[0].amounts
		one := alone.handler.Sweep(t.Context(), c, pending, beecloud.SweepOptions{Since: opts.Since})
		require.NoError(t, one.Err())
		solo := f.requests.Swap(0)

		results := make([]beecloud.SweepResult, 3)
		var wg sync.WaitGroup
		for i, s := range shops {
			wg.Go(func() { results[i] = s.handler.Sweep(t.Context(), c, pending, opts) })
		}
		wg.Wait()
		swept := 0
		for _, r := range results {
			require.NoError(t, r.Err())
			if !r.Elsewhere {
				swept++
				assert.Equal(t, paid, r.Paid)
			} else {
				assert.Empty(t, r.Paid)
				assert.Empty(t, r.Unpaid)
			}
		}
		assert.Equal(t, 1, swept)
		assert.Equal(t, solo, f.requests.Load(), "three instances, the requests of one")
		total := map[string]int{}
		for _, s := range shops {
			for k, n := range s.handledKeys() {
				total[k] += n
			}
		}
		assert.Len(t, total, len(paid))
		for k, n := range total {
			assert.Equal(t, 1, n, k)
		}

		// The period is done: a sweep later in it sends nothing; the next
		// period is swept again.
		r := shops[1].handler.Sweep(t.Context(), c, pending, opts)
		assert.True(t, r.Elsewhere)
		advance(time.Minute)
		f.requests.Store(0)
		r = shops[2].handler.Sweep(t.Context(), c, pending, opts)
		assert.False(t, r.Elsewhere)
		assert.Equal(t, paid, r.Paid)
		assert.Positive(t, f.requests.Load())
	})
}

// deadStore is a Store of an instance that dies once it holds the sweep's
// claim: its later calls never return, as if the process were gone.
type deadStore struct {
	beecloud.Store
	claims atomic.Int32
}

func (d *deadStore) Claim(ctx context.Context, key, token string, lease time.Duration) (beecloud.ClaimState, error) {
	if d.claims.Add(1) == 1 {
		return d.Store.Claim(ctx, key, token, lease)
	}
	<-ctx.Done()
	return 0, ctx.Err()
}

func (d *deadStore) Complete(ctx context.Context, key, token string) error {
	<-ctx.Done()
	return ctx.Err()
}

func (d *deadStore) Release(ctx context.Context, key, token string) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestSweepTakeOverFromDeadInstance: an instance that dies mid-sweep
// keeps the period for its lease only; then another instance sweeps it.
func TestSweepTakeOverFromDeadInstance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeBeeCloud(newestFirst)
		store := &beecloud.MemStore{}
		dead := newSweepShop(&deadStore{Store: store})
		dead.handler.Lease = time.Minute
		live := newSweepShop(store)
		live.handler.Lease = time.Minute
		now := time.Now()
		var pending []string
		for i := range 10 {
			no := beecloud.NewOutTradeNo()
			dead.amounts[no], live.amounts[no] = 100, 100
			pending = append(pending, no)
			if i%2 == 0 {
				f.addBill(no, 100, true, now)
			}
		}
		c := &beecloud.Client{Config: shopConfig, BaseURL: "http://beecloud.invalid", HTTPClient: f.client()}
		opts := beecloud.SweepOptions{Since: now.Add(-time.Hour), Period: time.Hour}

		ctx, kill := context.WithCancel(t.Context())
		deadDone := make(chan beecloud.SweepResult, 1)
		go func() { deadDone <- dead.handler.Sweep(ctx, c, pending, opts) }()
		synctest.Wait() // the dead instance holds the claim, stuck in its Store

		r := live.handler.Sweep(t.Context(), c, pending, opts)
		assert.True(t, r.Elsewhere, "the lease still runs")
		advance(61 * time.Second)
		r = live.handler.Sweep(t.Context(), c, pending, opts)
		require.False(t, r.Elsewhere, "the lease ran out: the period is taken over")
		require.NoError(t, r.Err())
		assert.Len(t, r.Paid, 5)
		assert.Len(t, live.handledKeys(), 5)

		kill()
		<-deadDone
		assert.Empty(t, dead.handledKeys(), "the dead instance ran no Handle")
	})
}

// TestSweepByWindowPaced: a sweep by window sends at most one request per
// Interval, its count, pages and check count alike.
func TestSweepByWindowPaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeBeeCloud(newestFirst)
		s := newSweepShop(nil)
		now := time.Now()
		var pending []string
		for range 300 {
			no := s.order(100)
			pending = append(pending, no)
			f.addBill(no, 100, true, now.Add(-time.Minute))
		}
		c := &beecloud.Client{Config: shopConfig, BaseURL: "http://beecloud.invalid", HTTPClient: f.client()}
		res := s.handler.Sweep(t.Context(), c, pending, beecloud.SweepOptions{Since: now.Add(-time.Hour), Interval: time.Second})
		require.NoError(t, res.Err())
		assert.Len(t, res.Paid, 300)
		assert.Equal(t, int64(9), f.requests.Load(), "a count, 7 pages, a check")
		assert.Equal(t, 8*time.Second, time.Since(now))
	})
}

// failFirstClaim is a Store whose first Claim fails, as a backend that
// cannot be reached for a moment.
type failFirstClaim struct {
	beecloud.Store
	claims atomic.Int32
}

func (f *failFirstClaim) Claim(ctx context.Context, key, token string, lease time.Duration) (beecloud.ClaimState, error) {
	if f.claims.Add(1) == 1 {
		return 0, errors.New("connection refused")
	}
	return f.Store.Claim(ctx, key, token, lease)
}

// TestSweepTurnStoreFailsOrCancelled: an instance that cannot claim the
// period sweeps anyway; a sweep cut short by its context gives the period
// back to the next instance.
func TestSweepTurnStoreFailsOrCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeBeeCloud(newestFirst)
		store := &beecloud.MemStore{}
		s := newSweepShop(&failFirstClaim{Store: store})
		now := time.Now()
		var pending []string
		for i := range 120 {
			no := s.order(100)
			pending = append(pending, no)
			f.addBill(no, 100, i%2 == 0, now)
		}
		c := &beecloud.Client{Config: shopConfig, BaseURL: "http://beecloud.invalid", HTTPClient: f.client()}
		opts := beecloud.SweepOptions{Since: now.Add(-time.Hour), Period: time.Hour}

		res := s.handler.Sweep(t.Context(), c, pending, opts)
		require.NoError(t, res.Err())
		assert.False(t, res.Elsewhere, "the Store failed: swept without a turn")
		assert.Len(t, res.Paid, 60)

		// The period was not claimed: this sweep takes it, and is cut
		// short by its context after the count.
		ctx, cancel := context.WithCancel(t.Context())
		f.before = func(path string, n int64) { cancel() }
		res = s.handler.Sweep(ctx, c, pending, opts)
		assert.False(t, res.Elsewhere)
		assert.NotEmpty(t, res.Skipped)
		f.before = nil

		// It released the period: the next instance sweeps it.
		other := newSweepShop(store)
		other.amounts = s.amounts
		res = other.handler.Sweep(t.Context(), c, pending, opts)
		require.NoError(t, res.Err())
		assert.False(t, res.Elsewhere)
		assert.Len(t, res.Paid, 60)
		assert.Empty(t, other.handledKeys(), "handled once, by the first sweep")
		// And completed it.
		assert.True(t, other.handler.Sweep(t.Context(), c, pending, opts).Elsewhere)
	})
}
