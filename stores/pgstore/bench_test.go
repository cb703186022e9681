package pgstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/stores/pgstore"
	"github.com/paybutton/beecloud/storetest"
)

// BenchmarkClaimComplete measures what the handler asks of the store for
// each new transaction: a Claim of a fresh key and its Complete.
func BenchmarkClaimComplete(b *testing.B) {
	s, _ := newStore(b, pgstore.Options{CleanupInterval: -1})
	// The baseline: the in-memory store a single process uses. Its
	// completions expire at once so that it never fills up; the sweep
	// that removes them costs it a little.
	mem := &beecloud.MemStore{Retention: time.Nanosecond}
	b.Run("memory", func(b *testing.B) { storetest.BenchClaimComplete(b, mem) })
	b.Run("postgres", func(b *testing.B) { storetest.BenchClaimComplete(b, s) })
	b.Run("postgres-parallel", func(b *testing.B) { storetest.BenchClaimCompleteParallel(b, s) })
}

// BenchmarkCompleteTx measures a transaction's claim and its completion
// in a transaction of its own, with work that writes nothing, beside the
// plain Claim and Complete of BenchmarkClaimComplete as the baseline.
func BenchmarkCompleteTx(b *testing.B) {
	s, _ := newStore(b, pgstore.Options{CleanupInterval: -1})
	ctx := context.Background()
	noWork := func(context.Context) error { return nil }
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	n := 0 // keys stay fresh across the calls of each sub-benchmark
	b.Run("claim-complete", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			n++
			key := run + "/" + strconv.Itoa(n)
			if st, err := s.Claim(ctx, key, "t", time.Minute); err != nil || st != beecloud.ClaimOK {
				b.Fatal(st, err)
			}
			if err := s.Complete(ctx, key, "t"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("claim-completetx", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			n++
			key := run + "/" + strconv.Itoa(n)
			if st, err := s.Claim(ctx, key, "t", time.Minute); err != nil || st != beecloud.ClaimOK {
				b.Fatal(st, err)
			}
			if err := s.CompleteTx(ctx, key, "t", noWork); err != nil {
				b.Fatal(err)
			}
		}
	})
}
