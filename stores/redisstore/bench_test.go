package redisstore_test

import (
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/stores/redisstore"
	"github.com/paybutton/beecloud/storetest"
	"github.com/redis/go-redis/v9"
)

// BenchmarkClaimComplete measures what the handler asks of the store for
// each new transaction: a Claim of a fresh key and its Complete.
func BenchmarkClaimComplete(b *testing.B) {
	c := newClient(b)
	s := newStore(b, c, &redisstore.Options{Prefix: newPrefix(b, c)})
	// The baseline: the in-memory store a single process uses. Its
	// completions expire at once so that it never fills up; the sweep
	// that removes them costs it a little.
	mem := &beecloud.MemStore{Retention: time.Nanosecond}
	b.Run("memory", func(b *testing.B) { storetest.BenchClaimComplete(b, mem) })
	b.Run("redis", func(b *testing.B) { storetest.BenchClaimComplete(b, s) })
	b.Run("redis-parallel", func(b *testing.B) { storetest.BenchClaimCompleteParallel(b, s) })
}

// BenchmarkAppendfsync measures what appendfsync always, which New
// demands, costs against Redis's default everysec: transactions claimed
// and completed per second (two writes each), from one goroutine and from
// 16 at once, on servers of the benchmark's own whose append-only files
// are on the test's temporary directory.
func BenchmarkAppendfsync(b *testing.B) {
	for _, fsync := range []string{"always", "everysec"} {
		srv := startRedis(b, "--appendfsync", fsync)
		c := redis.NewClient(&redis.Options{Addr: srv.addr, PoolSize: 32})
		b.Cleanup(func() { c.Close() })
		s := newStore(b, c, &redisstore.Options{AcceptDataLoss: fsync != "always"})
		perSecond := func(b *testing.B) {
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
		}
		b.Run(fsync+"/serial", func(b *testing.B) {
			storetest.BenchClaimComplete(b, s)
			perSecond(b)
		})
		b.Run(fsync+"/16-concurrent", func(b *testing.B) {
			b.SetParallelism(16)
			storetest.BenchClaimCompleteParallel(b, s)
			perSecond(b)
		})
	}
}
