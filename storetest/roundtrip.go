package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
)

// RoundTrip runs one delivery's life through s with key and token, cut to
// [beecloud.MaxStoreKeyBytes] and [beecloud.MaxStoreTokenBytes], and with
// a second token that differs from token: claim, a renewal, a busy claim
// and a refused release by the other token, release, claim by the other
// token, complete, and done. It is the body of
// a store's fuzz target, checking that any bytes survive the backend:
//
//	f.Fuzz(func(t *testing.T, key, token string) {
//		storetest.RoundTrip(t, store, uniquePrefix+key, token)
//	})
//
// Each call needs a key no other call used.
func RoundTrip(t testing.TB, s beecloud.Store, key, token string) {
	t.Helper()
	key = key[:min(len(key), beecloud.MaxStoreKeyBytes)]
	token = token[:min(len(token), beecloud.MaxStoreTokenBytes)]
	other := token + "x"
	if len(other) > beecloud.MaxStoreTokenBytes {
		other = token[:beecloud.MaxStoreTokenBytes-1] + string([]byte{token[beecloud.MaxStoreTokenBytes-1] ^ 1})
	}
	ctx := context.Background()
	step := func(name string, got, want beecloud.ClaimState, err error) {
		t.Helper()
		if err != nil || got != want {
			t.Fatalf("%s: Claim(%q, …) = %v, %v; want %v", name, key, got, err, want)
		}
	}
	st, err := s.Claim(ctx, key, token, time.Minute)
	step("first", st, beecloud.ClaimOK, err)
	st, err = s.Claim(ctx, key, token, time.Minute)
	step("renewal", st, beecloud.ClaimOK, err)
	st, err = s.Claim(ctx, key, other, time.Minute)
	step("other token", st, beecloud.ClaimBusy, err)
	if err := s.Release(ctx, key, other); err != nil {
		t.Fatal(err)
	}
	st, err = s.Claim(ctx, key, other, time.Minute)
	step("after a release by another token", st, beecloud.ClaimBusy, err)
	if err := s.Release(ctx, key, token); err != nil {
		t.Fatal(err)
	}
	st, err = s.Claim(ctx, key, other, time.Minute)
	step("after release", st, beecloud.ClaimOK, err)
	if err := s.Complete(ctx, key, other); err != nil {
		t.Fatal(err)
	}
	st, err = s.Claim(ctx, key, token, time.Minute)
	step("after complete", st, beecloud.ClaimDone, err)
}
