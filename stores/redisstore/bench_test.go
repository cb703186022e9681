package redisstore_test

import (
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/stores/redisstore"
	"github.com/paybutton/beecloud/storetest"
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
	b.Run("memory", func(b *testing.B) { storetest.BenchClaimComplete(b, mem) })
	b.Run("redis", func(b *testing.B) { storetest.BenchClaimComplete(b, s) })
	b.Run("redis-parallel", func(b *testing.B) { storetest.BenchClaimCompleteParallel(b, s) })
}
