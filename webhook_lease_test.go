package beecloud_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paybutton/beecloud"
)

// The tests of this file run in a synctest bubble: its clock moves only
// when every goroutine in it waits, so leases, heartbeats and retries are
// checked to the nanosecond, and take no real time.

// advance lets d pass on the bubble's clock for the goroutine that calls
// it (the test, or a Handle that takes its time): the other goroutines of
// the bubble run until each waits, then time jumps. It takes no real time,
// and is meant for synctest bubbles only; any goroutine of the bubble may
// call it, several at once.
func advance(d time.Duration) { time.Sleep(d) }

// scriptStore is a MemStore whose calls are recorded with the bubble's
// time, and that fails or answers on demand.
type scriptStore struct {
	beecloud.MemStore

	mu     sync.Mutex
	claims []time.Duration // when each Claim was made, since start
	start  time.Time
	// renewal, if set, answers the Claims after the first instead of the
	// MemStore.
	renewal func() (beecloud.ClaimState, error)
	// completeFails makes Complete fail until this time since start.
	completeFails time.Duration
	completes     int
}

func newScriptStore() *scriptStore { return &scriptStore{start: time.Now()} }

func (s *scriptStore) Claim(ctx context.Context, key, token string, lease time.Duration) (beecloud.ClaimState, error) {
	s.mu.Lock()
	s.claims = append(s.claims, time.Since(s.start))
	renewal := s.renewal
	first := len(s.claims) == 1
	s.mu.Unlock()
	if renewal != nil && !first {
		return renewal()
	}
	return s.MemStore.Claim(ctx, key, token, lease)
}

func (s *scriptStore) Complete(ctx context.Context, key, token string) error {
	s.mu.Lock()
	s.completes++
	fail := time.Since(s.start) < s.completeFails
	s.mu.Unlock()
	if fail {
		return errors.New("store down")
	}
	return s.MemStore.Complete(ctx, key, token)
}

func (s *scriptStore) claimTimes() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.claims)
}

// deliverAsync serves r in a goroutine of the bubble; the answer comes on
// the channel.
func deliverAsync(h http.Handler, r *http.Request) <-chan *httptest.ResponseRecorder {
	answer := make(chan *httptest.ResponseRecorder, 1)
	go func() { answer <- serve(h, r) }()
	return answer
}

// TestLeaseHeartbeat: while Handle runs, far longer than the
// lease, the claim is renewed every Lease/3 to the nanosecond, and a
// duplicate is answered 409 however late it comes; after Handle, success
// without Handle.
func TestLeaseHeartbeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, rec, _ := newHandler(t)
		store := newScriptStore()
		h.Store, h.Lease = store, 3*time.Second
		release := make(chan struct{})
		h.Handle = func(ctx context.Context, n *beecloud.Notification) error {
			<-release
			return rec.handle(ctx, n)
		}
		first := deliverAsync(h, paidRequest())
		advance(9*time.Second + time.Second/2) // three leases and a half
		wantAnswer(t, serve(h, paidRequest()), http.StatusConflict, "busy")
		close(release)
		wantAnswer(t, <-first, http.StatusOK, "success")
		wantAnswer(t, serve(h, paidRequest()), http.StatusOK, "success")

		want := []time.Duration{0}
		for beat := range 9 {
			want = append(want, time.Duration(beat+1)*time.Second)
		}
		want = append(want, 9*time.Second+time.Second/2, 9*time.Second+time.Second/2)
		assert.Equal(t, want, store.claimTimes(), "when the Claims came: want the claim, a renewal every second, and the two duplicates")
		assert.Equal(t, 1, rec.count(), "Handle runs")
	})
}

// TestLeaseClaimLost: when a renewal finds the claim taken over,
// Handle's context ends at that very beat with cause ErrClaimLost, and the
// loss is logged at error level.
func TestLeaseClaimLost(t *testing.T) {
	for _, lost := range []beecloud.ClaimState{beecloud.ClaimBusy, beecloud.ClaimDone} {
		t.Run(lost.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h, _, logs := newHandler(t)
				store := newScriptStore()
				store.renewal = func() (beecloud.ClaimState, error) { return lost, nil }
				h.Store, h.Lease = store, 3*time.Second
				var cause error
				var after time.Duration
				h.Handle = func(ctx context.Context, n *beecloud.Notification) error {
					start := time.Now()
					<-ctx.Done()
					cause, after = context.Cause(ctx), time.Since(start)
					return ctx.Err()
				}
				wantAnswer(t, serve(h, paidRequest()), http.StatusInternalServerError, "handle failed")
				require.ErrorIs(t, cause, beecloud.ErrClaimLost, "the cause of Handle's ctx")
				assert.Equal(t, time.Second, after, "Handle's ctx ended after; want Lease/3")
				assert.Contains(t, logs.String(), "level=ERROR", "log: want an error about the lost claim")
				assert.Contains(t, logs.String(), "claim lost", "log: want an error about the lost claim")
			})
		})
	}
}

// TestLeaseHandleTimeout: Handle's ctx ends exactly
// HandleTimeout after the claim, with DeadlineExceeded as its Err and
// Cause, for Handle and the contexts it derives; the transaction stays
// claimed while a Handle that ignores it runs on, which is logged.
func TestLeaseHandleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, rec, logs := newHandler(t)
		h.HandleTimeout, h.Lease = time.Minute, 30*time.Second
		var errs []error
		var after time.Duration
		h.Handle = func(ctx context.Context, n *beecloud.Notification) error {
			start := time.Now()
			child, cancel := context.WithCancel(ctx)
			defer cancel()
			<-child.Done()
			after = time.Since(start)
			errs = []error{ctx.Err(), context.Cause(ctx), child.Err(), context.Cause(child)}
			advance(time.Minute) // ignores its ctx for another minute
			return rec.handle(ctx, n)
		}
		first := deliverAsync(h, paidRequest())
		advance(90 * time.Second)
		wantAnswer(t, serve(h, paidRequest()), http.StatusConflict, "busy")
		wantAnswer(t, <-first, http.StatusOK, "success")
		assert.Equal(t, time.Minute, after, "Handle's ctx ended after; want exactly HandleTimeout")
		for i, err := range errs {
			require.ErrorIs(t, err, context.DeadlineExceeded, "Err/Cause %d after HandleTimeout", i)
		}
		assert.Contains(t, logs.String(), "past HandleTimeout", "log: want the overrun logged")
	})
}

// TestLeaseCompleteRetry: a Complete that fails is retried with
// backoff within the inline budget; while the store stays down longer,
// the answer is success and the background goes on retrying, holding the
// claim (duplicates get 409), until the completion lands; Shutdown waits
// for it.
func TestLeaseCompleteRetry(t *testing.T) {
	for _, tt := range []struct {
		name     string
		downFor  time.Duration
		answered time.Duration // when the first delivery is answered
	}{
		{"inline", time.Second, time.Second},
		{"background", time.Minute, 3 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h, rec, _ := newHandler(t)
				store := newScriptStore()
				store.completeFails = tt.downFor
				h.Store, h.Lease = store, 3*time.Second
				start := time.Now()
				wantAnswer(t, serve(h, paidRequest()), http.StatusOK, "success")
				// The backoff is jittered: the answer comes at most the
				// longest wait (500ms) after the store is back, or before
				// the inline budget (3s) would be overrun.
				took := time.Since(start)
				assert.GreaterOrEqual(t, took, tt.answered-500*time.Millisecond, "answered after; want about %v", tt.answered)
				assert.LessOrEqual(t, took, tt.answered+500*time.Millisecond, "answered after; want about %v", tt.answered)
				if tt.downFor > time.Since(start) {
					wantAnswer(t, serve(h, paidRequest()), http.StatusConflict, "busy")
					advance(tt.downFor - time.Since(start))
				}
				require.NoError(t, h.Shutdown(context.Background()), "Shutdown")
				assert.LessOrEqual(t, time.Since(start), tt.downFor+5*time.Second, "completion recorded after; want within 5s (the longest background wait) of the store's return at %v", tt.downFor)
				wantAnswer(t, serve(h, paidRequest()), http.StatusOK, "success")
				assert.Equal(t, 1, rec.count(), "Handle runs")
				assert.GreaterOrEqual(t, store.completes, 2, "Complete calls: want several")
			})
		})
	}
}

// TestLeaseRenewalOutage: renewals that fail are retried every
// Lease/10; once the lease has run out by the local clock it is logged at
// error level, and when the store answers again the claim goes on.
func TestLeaseRenewalOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, rec, logs := newHandler(t)
		store := newScriptStore()
		var mu sync.Mutex
		down := true
		store.renewal = func() (beecloud.ClaimState, error) {
			mu.Lock()
			defer mu.Unlock()
			if down {
				return 0, errors.New("store down")
			}
			return beecloud.ClaimOK, nil
		}
		h.Store, h.Lease = store, 3*time.Second
		release := make(chan struct{})
		h.Handle = func(ctx context.Context, n *beecloud.Notification) error {
			<-release
			return rec.handle(ctx, n)
		}
		first := deliverAsync(h, paidRequest())
		advance(4*time.Second + 100*time.Millisecond)
		mu.Lock()
		down = false
		mu.Unlock()
		advance(time.Second)
		close(release)
		wantAnswer(t, <-first, http.StatusOK, "success")
		// The claim at 0, the first beat at 1s, retries every 300ms (Lease/10)
		// while the store is down, and the one at 4.3s renews it.
		want := []time.Duration{0, time.Second}
		for at := time.Second + 300*time.Millisecond; at <= 4*time.Second+200*time.Millisecond; at += 300 * time.Millisecond {
			want = append(want, at)
		}
		want = append(want, 4*time.Second+300*time.Millisecond)
		assert.Equal(t, want, store.claimTimes(), "when the Claims came")
		assert.Contains(t, logs.String(), "claim ran out", "log: want the lapsed lease logged")
	})
}
