package beecloud_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

func TestSweep(t *testing.T) {
	s := newShop(t)
	ctx := context.Background()
	var paid []string
	for range 3 {
		no := s.order(20)
		s.sb.DropWebhook(no)
		s.pay(t, no, 20)
		paid = append(paid, no)
	}
	unpaid := s.order(20)
	tampered := s.order(20)
	s.sb.DropWebhook(tampered)
	s.pay(t, tampered, 2)

	pending := []string{paid[0], unpaid, paid[1], tampered, paid[2], paid[0]}
	res := s.handler.Sweep(ctx, s.client, pending, beecloud.SweepOptions{Concurrency: 2, Interval: time.Millisecond})
	assert.Equal(t, paid, res.Paid)
	assert.Equal(t, []string{unpaid}, res.Unpaid)
	require.Len(t, res.Failed, 1)
	require.ErrorIs(t, res.Failed[tampered], beecloud.ErrAmountMismatch)
	assert.Empty(t, res.Skipped)
	require.ErrorIs(t, res.Err(), beecloud.ErrAmountMismatch)
	for _, no := range paid {
		assert.Equal(t, 1, s.handleCount(no))
	}

	// The next sweep finds them handled.
	res = s.handler.Sweep(ctx, s.client, paid, beecloud.SweepOptions{})
	assert.Equal(t, paid, res.Paid)
	require.NoError(t, res.Err())
	for _, no := range paid {
		assert.Equal(t, 1, s.handleCount(no))
	}
}

func TestSweepRateLimit(t *testing.T) {
	s := newShop(t)
	var pending []string
	for range 5 {
		pending = append(pending, s.order(1))
	}
	start := time.Now()
	res := s.handler.Sweep(context.Background(), s.client, pending, beecloud.SweepOptions{Concurrency: 5, Interval: 20 * time.Millisecond})
	assert.Len(t, res.Unpaid, 5)
	assert.GreaterOrEqual(t, time.Since(start), 80*time.Millisecond, "5 starts, 20 ms apart")
}

func TestSweepConcurrencyBound(t *testing.T) {
	s := newShop(t)
	var pending []string
	for range 12 {
		pending = append(pending, s.order(1))
	}
	var now, peak atomic.Int32
	s.handler.ExpectedAmount = nil
	// Every query is slowed down, so that calls overlap.
	s.sb.FailNext(beecloudtest.Fault{Delay: 10 * time.Millisecond, Times: 12})
	client := *s.client
	client.HTTPClient = countingClient(&now, &peak)
	res := s.handler.Sweep(context.Background(), &client, pending, beecloud.SweepOptions{Concurrency: 3, Interval: -1})
	assert.Len(t, res.Unpaid, 12)
	assert.LessOrEqual(t, peak.Load(), int32(3))
	assert.Greater(t, peak.Load(), int32(1))
}

func TestSweepCancelled(t *testing.T) {
	s := newShop(t)
	pending := []string{s.order(1), s.order(1), s.order(1)}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := s.handler.Sweep(ctx, s.client, pending, beecloud.SweepOptions{Concurrency: 1, Interval: time.Hour})
	assert.Len(t, res.Skipped, 3)
	assert.ErrorContains(t, res.Err(), "3 order(s) skipped")
}

// countingClient counts the requests in flight and their peak.
func countingClient(now, peak *atomic.Int32) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		n := now.Add(1)
		defer now.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
