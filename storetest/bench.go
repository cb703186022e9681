package storetest

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
)

// benchKeys numbers the keys of every benchmark in the process, so that
// each Claim in a benchmark is of a fresh key.
var benchKeys atomic.Int64

// BenchClaimComplete measures what a [beecloud.WebhookHandler] asks of s
// for each new transaction: a Claim of a fresh key, then its Complete.
// Call it from a store's own benchmark, beside a run over a
// [beecloud.MemStore] as the baseline.
func BenchClaimComplete(b *testing.B, s beecloud.Store) {
	ctx := context.Background()
	prefix := benchPrefix()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := claimComplete(ctx, s, prefix); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchClaimCompleteParallel is [BenchClaimComplete] from GOMAXPROCS
// goroutines at once, as concurrent deliveries to one server are.
func BenchClaimCompleteParallel(b *testing.B, s beecloud.Store) {
	ctx := context.Background()
	prefix := benchPrefix()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := claimComplete(ctx, s, prefix); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func benchPrefix() string {
	return "bench/" + strconv.FormatInt(time.Now().UnixNano(), 36) + "/"
}

func claimComplete(ctx context.Context, s beecloud.Store, prefix string) error {
	key := prefix + strconv.FormatInt(benchKeys.Add(1), 10)
	if st, err := s.Claim(ctx, key, "token", time.Minute); err != nil || st != beecloud.ClaimOK {
		return fmt.Errorf("Claim(%q) = %v, %v; want ok", key, st, err) //nolint:errorlint // err may be nil: a report, not a wrapped error
	}
	return s.Complete(ctx, key, "token")
}
