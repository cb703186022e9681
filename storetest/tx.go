package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
)

// errWork is what work returns when a check makes it fail.
var errWork = errors.New("storetest: planned work failure")

// setUpTx is setUp for the Tx checks: it skips t if the store is not a
// beecloud.TxStore.
func (r *runner) setUpTx(t *testing.T) (beecloud.TxStore, string) {
	s, k := r.setUp(t)
	tx, ok := s.(beecloud.TxStore)
	if !ok {
		t.Skip("storetest: the store is not a beecloud.TxStore")
	}
	return tx, k
}

// completeTx calls CompleteTx and fails t unless its error is nil exactly
// when wantErr is false.
func completeTx(t *testing.T, s beecloud.TxStore, key, token string, wantErr bool, work func(ctx context.Context) error) {
	t.Helper()
	err := s.CompleteTx(ctx(t), key, token, work)
	if (err != nil) != wantErr {
		t.Fatalf("CompleteTx(%q, %q) = %v; want an error: %t", short(key), short(token), err, wantErr)
	}
}

func (r *runner) testTxCommit(t *testing.T) {
	s, k := r.setUpTx(t)
	a := r.newHolder(t, s, k)
	calls := 0
	completeTx(t, s, k, a, false, func(ctx context.Context) error {
		calls++
		if ctx == nil {
			t.Error("work got a nil context")
		}
		return nil
	})
	if calls != 1 {
		t.Errorf("work ran %d times; want 1", calls)
	}
	claim(t, s, k, a, long, beecloud.ClaimDone)
	r.othersHear(t, s, k, beecloud.ClaimDone)
}

// testTxWorkFails checks that a failed work leaves the claim as it was:
// held by its token, and not done.
func (r *runner) testTxWorkFails(t *testing.T) {
	s, k := r.setUpTx(t)
	a := r.newHolder(t, s, k)
	err := s.CompleteTx(ctx(t), k, a, func(ctx context.Context) error { return errWork })
	if err == nil {
		t.Fatal("CompleteTx with failing work = nil; want an error")
	}
	r.othersHear(t, s, k, beecloud.ClaimBusy)
	claim(t, s, k, a, long, beecloud.ClaimOK)
	release(t, s, k, a)
	r.othersHear(t, s, k, beecloud.ClaimOK)
}

// testTxPanic checks that a panic in work goes on to the caller and
// commits nothing.
func (r *runner) testTxPanic(t *testing.T) {
	s, k := r.setUpTx(t)
	a := r.newHolder(t, s, k)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("CompleteTx swallowed work's panic; want it to go on")
			}
		}()
		_ = s.CompleteTx(ctx(t), k, a, func(ctx context.Context) error { panic("storetest: planned panic") })
	}()
	r.othersHear(t, s, k, beecloud.ClaimBusy)
	claim(t, s, k, a, long, beecloud.ClaimOK)
}

// testTxLostClaim checks that a token whose claim was taken over cannot
// commit.
func (r *runner) testTxLostClaim(t *testing.T) {
	s, k := r.setUpTx(t)
	a, b := r.takeOver(t, s, k)
	completeTx(t, s, k, a, true, func(ctx context.Context) error { return nil })
	r.othersHear(t, s, k, beecloud.ClaimBusy)
	claim(t, s, k, b, long, beecloud.ClaimOK)
}

// testTxAfterDone checks that a key completed by another token cannot be
// committed again.
func (r *runner) testTxAfterDone(t *testing.T) {
	s, k := r.setUpTx(t)
	a, b := r.newHolder(t, s, k), r.token()
	complete(t, s, k, b)
	completeTx(t, s, k, a, true, func(ctx context.Context) error { return nil })
	r.othersHear(t, s, k, beecloud.ClaimDone)
}

// testTxExpiredUntaken checks that a claim whose lease ran out but that
// no other token took still counts as held: its holder commits.
func (r *runner) testTxExpiredUntaken(t *testing.T) {
	s, k := r.setUpTx(t)
	a := r.token()
	r.claimShort(t, s, k, a)
	r.waitLease()
	completeTx(t, s, k, a, false, func(ctx context.Context) error { return nil })
	r.othersHear(t, s, k, beecloud.ClaimDone)
}

// testTxFenced checks that the holder is checked when the transaction
// commits, not only when it begins: work outlives its lease, another token
// takes the key over and completes it, and work's transaction must not
// commit.
func (r *runner) testTxFenced(t *testing.T) {
	s, k := r.setUpTx(t)
	a, b := r.token(), r.token()
	r.claimShort(t, s, k, a)
	completeTx(t, s, k, a, true, func(ctx context.Context) error {
		r.waitLease()
		claim(t, s, k, b, long, beecloud.ClaimOK)
		complete(t, s, k, b)
		return nil
	})
	r.othersHear(t, s, k, beecloud.ClaimDone)
}

// testTxNoLock checks that while work runs, the key is not locked: the
// holder's renewal and other tokens' Claims are answered at once.
func (r *runner) testTxNoLock(t *testing.T) {
	s, k := r.setUpTx(t)
	a := r.newHolder(t, s, k)
	completeTx(t, s, k, a, false, func(ctx context.Context) error {
		for _, tc := range []struct {
			token string
			want  beecloud.ClaimState
		}{{a, beecloud.ClaimOK}, {r.token(), beecloud.ClaimBusy}} {
			c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			start := time.Now()
			got, err := s.Claim(c, k, tc.token, long)
			cancel()
			if err != nil || got != tc.want {
				t.Errorf("Claim(%q, %q) while work runs = %v, %v after %v; want %v at once", short(k), short(tc.token), got, err, time.Since(start).Round(time.Millisecond), tc.want)
			}
		}
		return nil
	})
	r.othersHear(t, s, k, beecloud.ClaimDone)
}
