package redisstore_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/stores/redisstore"
)

// BenchmarkClaimComplete measures what the handler asks of the store for
// each new transaction: a Claim of a fresh key and its Complete.
func BenchmarkClaimComplete(b *testing.B) {
	c := newClient(b)
	s := redisstore.New(c, &redisstore.Options{Prefix: newPrefix(b, c)})
	// The baseline: the in-memory store a single process uses. Its
	// completions expire at once so that it never fills up; the sweep
	// that removes them costs it a little.
	mem := &beecloud.MemStore{Retention: time.Nanosecond}
	b.Run("memory", func(b *testing.B) { benchClaimComplete(b, mem) })
	b.Run("redis", func(b *testing.B) { benchClaimComplete(b, s) })
	b.Run("redis-parallel", func(b *testing.B) { benchClaimCompleteParallel(b, s) })
}

var benchKeys atomic.Int64

func benchClaimComplete(b *testing.B, s beecloud.Store) {
	ctx := context.Background()
	prefix := "bench/" + strconv.FormatInt(time.Now().UnixNano(), 36) + "/"
	b.ReportAllocs()
	for b.Loop() {
		key := prefix + strconv.FormatInt(benchKeys.Add(1), 10)
		if st, err := s.Claim(ctx, key, "token", time.Minute); err != nil || st != beecloud.ClaimOK {
			b.Fatalf("Claim = %v, %v; want ok", st, err)
		}
		if err := s.Complete(ctx, key, "token"); err != nil {
			b.Fatal(err)
		}
	}
}

func benchClaimCompleteParallel(b *testing.B, s beecloud.Store) {
	ctx := context.Background()
	prefix := "bench/" + strconv.FormatInt(time.Now().UnixNano(), 36) + "/"
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := prefix + strconv.FormatInt(benchKeys.Add(1), 10)
			if st, err := s.Claim(ctx, key, "token", time.Minute); err != nil || st != beecloud.ClaimOK {
				b.Errorf("Claim = %v, %v; want ok", st, err)
				return
			}
			if err := s.Complete(ctx, key, "token"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
