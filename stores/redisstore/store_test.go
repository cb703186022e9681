package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/stores/redisstore"
	"github.com/paybutton/beecloud/storetest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const envURL = "BEECLOUD_REDIS"

// newClient returns a client of its own for the test Redis, or skips t
// (fails it under CI) when there is none.
func newClient(t testing.TB) *redis.Client {
	t.Helper()
	return newClientPool(t, 0)
}

// newClientPool is newClient with a pool of poolSize connections; zero
// means go-redis's default.
func newClientPool(t testing.TB, poolSize int) *redis.Client {
	t.Helper()
	u := os.Getenv(envURL)
	if u == "" {
		msg := envURL + ` is not set: run eval "$(bash .ci/services.sh)" to start Redis on loopback`
		if os.Getenv("CI") == "true" {
			require.FailNow(t, msg)
		}
		t.Skip(msg)
	}
	opts, err := redis.ParseURL(u)
	require.NoError(t, err, "redis.ParseURL(%s)", envURL)
	opts.PoolSize = poolSize
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// newPrefix returns a key prefix no other test run uses, and deletes its
// keys when t ends.
func newPrefix(t testing.TB, c *redis.Client) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	prefix := "beecloud-test:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		assert.NoError(t, iter.Err(), "deleting keys %s*", prefix)
	})
	return prefix
}

// newStore returns redisstore.New(c, opts), or fails t.
func newStore(t testing.TB, c redis.UniversalClient, opts *redisstore.Options) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(context.Background(), c, opts)
	require.NoError(t, err, "redisstore.New")
	return s
}

func TestContract(t *testing.T) {
	// Long enough that a loaded machine checks a completion before it
	// expires (the Keys check completes a dozen keys, then reads them).
	const retention = 5 * time.Second
	c := newClient(t)
	opts := redisstore.Options{Prefix: newPrefix(t, c), Retention: retention}
	storetest.Run(t, func(t *testing.T) beecloud.Store {
		return newStore(t, c, &opts)
	}, storetest.Options{
		Retention: retention,
		Unreachable: func(t *testing.T) beecloud.Store {
			// Port 1 on loopback refuses connections at once.
			dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1, DialTimeout: time.Second})
			t.Cleanup(func() { dead.Close() })
			// Not even CONFIG GET answers: nothing to check.
			return newStore(t, dead, &redisstore.Options{AcceptDataLoss: true})
		},
	})
}

func TestTTL(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	prefix := newPrefix(t, c)
	s := newStore(t, c, &redisstore.Options{Prefix: prefix})
	ttl := func(key string) time.Duration {
		t.Helper()
		d, err := c.PTTL(ctx, prefix+key).Result()
		require.NoError(t, err, "PTTL %s%s", prefix, key)
		return d
	}
	mustClaim(t, s, "k", "a", 90*time.Second, beecloud.ClaimOK)
	got := ttl("k")
	assert.Greater(t, got, 80*time.Second, "TTL of a claim with a 90s lease; want about 90s")
	assert.LessOrEqual(t, got, 90*time.Second, "TTL of a claim with a 90s lease; want about 90s")
	require.NoError(t, s.Complete(ctx, "k", "a"), "Complete")
	got = ttl("k")
	assert.Greater(t, got, beecloud.MinRetention-time.Minute, "TTL of a completion with the default retention; want about %v", beecloud.MinRetention)
	assert.LessOrEqual(t, got, beecloud.MinRetention, "TTL of a completion with the default retention; want about %v", beecloud.MinRetention)
	// A sub-millisecond lease is rounded up, never down to no TTL at all.
	mustClaim(t, s, "short", "a", time.Microsecond, beecloud.ClaimOK)
	assert.NotEqual(t, time.Duration(-1), ttl("short"), "TTL of a 1µs claim; want one (-1 is none: it would never expire)")
}

func TestPrefix(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	p1, p2 := newPrefix(t, c), newPrefix(t, c)
	s1 := newStore(t, c, &redisstore.Options{Prefix: p1})
	s2 := newStore(t, c, &redisstore.Options{Prefix: p2})
	require.NoError(t, s1.Complete(ctx, "k", "a"), "Complete")
	n, err := c.Exists(ctx, p1+"k").Result()
	require.NoError(t, err, "EXISTS %sk", p1)
	require.Equal(t, int64(1), n, "EXISTS %sk", p1)
	mustClaim(t, s2, "k", "b", time.Minute, beecloud.ClaimOK)   // under another prefix
	mustClaim(t, s1, "k", "b", time.Minute, beecloud.ClaimDone) // under the first prefix
}

func TestScriptCacheFlushed(t *testing.T) {
	// A Redis restart or SCRIPT FLUSH forgets the scripts: EVALSHA then
	// fails with NOSCRIPT and the Store must load them again.
	ctx := context.Background()
	c := newClient(t)
	s := newStore(t, c, &redisstore.Options{Prefix: newPrefix(t, c)})
	require.NoError(t, c.ScriptFlush(ctx).Err(), "SCRIPT FLUSH")
	mustClaim(t, s, "k", "a", time.Minute, beecloud.ClaimOK) // after SCRIPT FLUSH
	require.NoError(t, c.ScriptFlush(ctx).Err(), "SCRIPT FLUSH")
	require.NoError(t, s.Release(ctx, "k", "a"), "Release after SCRIPT FLUSH")
	mustClaim(t, s, "k", "b", time.Minute, beecloud.ClaimOK) // after Release
}

func TestForeignValue(t *testing.T) {
	// A key under the prefix that this package did not write (another
	// program sharing the prefix) is never taken for a completion.
	ctx := context.Background()
	c := newClient(t)
	prefix := newPrefix(t, c)
	s := newStore(t, c, &redisstore.Options{Prefix: prefix})
	require.NoError(t, c.Set(ctx, prefix+"str", "something else", time.Minute).Err(), "SET")
	require.NoError(t, c.HSet(ctx, prefix+"hash", "f", "v").Err(), "HSET")
	st, err := s.Claim(ctx, "str", "a", time.Minute)
	require.NoError(t, err, "Claim of a foreign string")
	assert.Equal(t, beecloud.ClaimBusy, st, "Claim of a foreign string")
	st, err = s.Claim(ctx, "hash", "a", time.Minute)
	assert.NotEqual(t, beecloud.ClaimDone, st, "Claim of a foreign hash")
	require.Error(t, err, "Claim of a foreign hash")
}

func TestInvalidArguments(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("k", 513)
	var zero redisstore.Store
	stores := map[string]*redisstore.Store{
		"zero Store": &zero,
	}
	if os.Getenv(envURL) != "" || os.Getenv("CI") == "true" {
		c := newClient(t)
		stores["live"] = newStore(t, c, &redisstore.Options{Prefix: newPrefix(t, c)})
	}
	for name, s := range stores {
		for _, tc := range []struct {
			name       string
			key, token string
			lease      time.Duration
		}{
			{"key too long", long, "t", time.Minute},
			{"token too long", "k", strings.Repeat("t", 65), time.Minute},
			{"zero lease", "k", "t", 0},
			{"negative lease", "k", "t", -time.Second},
		} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				st, err := s.Claim(ctx, tc.key, tc.token, tc.lease)
				require.Error(t, err, "Claim")
				require.Zero(t, st, "Claim")
				assert.Truef(t, strings.HasPrefix(err.Error(), "redisstore: "), "Claim: error %q lacks the redisstore: prefix", err)
				if tc.lease > 0 {
					require.Error(t, s.Complete(ctx, tc.key, tc.token), "Complete")
					require.Error(t, s.Release(ctx, tc.key, tc.token), "Release")
				}
			})
		}
	}
	require.Error(t, zero.Complete(ctx, "k", "t"), "zero Store: Complete")
	require.Error(t, zero.Release(ctx, "k", "t"), "zero Store: Release")
}

// mustClaim claims key for token, and fails t unless Claim answers want.
func mustClaim(t testing.TB, s beecloud.Store, key, token string, lease time.Duration, want beecloud.ClaimState) {
	t.Helper()
	got, err := s.Claim(context.Background(), key, token, lease)
	require.NoError(t, err, "Claim(%q, %q)", key, token)
	require.Equal(t, want, got, "Claim(%q, %q)", key, token)
}

func TestHandlers(t *testing.T) {
	c := newClient(t)
	opts := redisstore.Options{Prefix: newPrefix(t, c)}
	storetest.RunHandlers(t, func(t *testing.T) beecloud.Store {
		// Each instance has its own client, as separate processes would,
		// with a pool for the 600 deliveries RunHandlers sends at once:
		// the default (10 per CPU) makes lease renewals queue behind
		// them until the leases run out.
		return newStore(t, newClientPool(t, 200), &opts)
	})
}
