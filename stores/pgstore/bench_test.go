package pgstore_test

import (
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
