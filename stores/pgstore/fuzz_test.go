package pgstore_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/stores/pgstore"
)

// FuzzKeys checks that any key and token within the contract's sizes
// round-trip through the database byte for byte.
func FuzzKeys(f *testing.F) {
	for _, seed := range [][2]string{
		{"c5d1cba1-5e3f-4ba0-941d-9b0a09f7a7c4:PAY:bc1234567", "20261125184500abcdef"},
		{"\x00", "\x00"},
		{"caf\u00e9", "令牌"},
		{"'; DROP TABLE beecloud_webhooks; --", `"\`},
		{"\xff\xfe", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	// One table for every fuzzing process and run, kept small by a short
	// retention and the cleanup in Complete, so that no worker leaves a
	// table behind.
	s, _ := newStore(f, pgstore.Options{Table: "beecloud_test_fuzz", Retention: time.Second, CleanupInterval: time.Second})
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, key, token string) {
		checkKey(t, s, run+"/"+strconv.FormatInt(n.Add(1), 10)+"/"+key, token)
	})
}

// checkKey runs one delivery's life through s with key and token, cut to
// the contract's sizes, and a token that differs from token.
func checkKey(t *testing.T, s beecloud.Store, key, token string) {
	key = key[:min(len(key), 512)]
	token = token[:min(len(token), 64)]
	other := token + "x"
	if len(other) > 64 {
		other = token[:63] + string([]byte{token[63] ^ 1})
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
