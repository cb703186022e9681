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
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("%s: %v", envURL, err)
	}
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
		if err := iter.Err(); err != nil {
			t.Errorf("deleting keys %s*: %v", prefix, err)
		}
	})
	return prefix
}

// newStore returns redisstore.New(c, opts), or fails t.
func newStore(t testing.TB, c redis.UniversalClient, opts *redisstore.Options) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(context.Background(), c, opts)
	if err != nil {
		t.Fatal(err)
	}
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
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if st, err := s.Claim(ctx, "k", "a", 90*time.Second); err != nil || st != beecloud.ClaimOK {
		t.Fatalf("Claim = %v, %v; want ok", st, err)
	}
	if got := ttl("k"); got <= 80*time.Second || got > 90*time.Second {
		t.Errorf("TTL of a claim with a 90s lease = %v; want about 90s", got)
	}
	if err := s.Complete(ctx, "k", "a"); err != nil {
		t.Fatal(err)
	}
	if got := ttl("k"); got <= beecloud.MinRetention-time.Minute || got > beecloud.MinRetention {
		t.Errorf("TTL of a completion with the default retention = %v; want about %v", got, beecloud.MinRetention)
	}
	// A sub-millisecond lease is rounded up, never down to no TTL at all.
	if st, err := s.Claim(ctx, "short", "a", time.Microsecond); err != nil || st != beecloud.ClaimOK {
		t.Fatalf("Claim = %v, %v; want ok", st, err)
	}
	if got := ttl("short"); got == -1 {
		t.Error("a 1µs claim has no TTL; want it to expire")
	}
}

func TestPrefix(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	p1, p2 := newPrefix(t, c), newPrefix(t, c)
	s1 := newStore(t, c, &redisstore.Options{Prefix: p1})
	s2 := newStore(t, c, &redisstore.Options{Prefix: p2})
	if err := s1.Complete(ctx, "k", "a"); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Exists(ctx, p1+"k").Result(); err != nil || n != 1 {
		t.Fatalf("EXISTS %sk = %d, %v; want 1", p1, n, err)
	}
	if st, err := s2.Claim(ctx, "k", "b", time.Minute); err != nil || st != beecloud.ClaimOK {
		t.Fatalf("Claim under another prefix = %v, %v; want ok", st, err)
	}
	if st, err := s1.Claim(ctx, "k", "b", time.Minute); err != nil || st != beecloud.ClaimDone {
		t.Fatalf("Claim under the first prefix = %v, %v; want done", st, err)
	}
}

func TestScriptCacheFlushed(t *testing.T) {
	// A Redis restart or SCRIPT FLUSH forgets the scripts: EVALSHA then
	// fails with NOSCRIPT and the Store must load them again.
	ctx := context.Background()
	c := newClient(t)
	s := newStore(t, c, &redisstore.Options{Prefix: newPrefix(t, c)})
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Claim(ctx, "k", "a", time.Minute); err != nil || st != beecloud.ClaimOK {
		t.Fatalf("Claim after SCRIPT FLUSH = %v, %v; want ok", st, err)
	}
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, "k", "a"); err != nil {
		t.Fatalf("Release after SCRIPT FLUSH: %v", err)
	}
	if st, err := s.Claim(ctx, "k", "b", time.Minute); err != nil || st != beecloud.ClaimOK {
		t.Fatalf("Claim after Release = %v, %v; want ok", st, err)
	}
}

func TestForeignValue(t *testing.T) {
	// A key under the prefix that this package did not write (another
	// program sharing the prefix) is never taken for a completion.
	ctx := context.Background()
	c := newClient(t)
	prefix := newPrefix(t, c)
	s := newStore(t, c, &redisstore.Options{Prefix: prefix})
	c.Set(ctx, prefix+"str", "something else", time.Minute)
	c.HSet(ctx, prefix+"hash", "f", "v")
	if st, err := s.Claim(ctx, "str", "a", time.Minute); err != nil || st != beecloud.ClaimBusy {
		t.Errorf("Claim of a foreign string = %v, %v; want busy", st, err)
	}
	if st, err := s.Claim(ctx, "hash", "a", time.Minute); err == nil || st == beecloud.ClaimDone {
		t.Errorf("Claim of a foreign hash = %v, %v; want an error", st, err)
	}
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
				if err == nil || st != 0 {
					t.Fatalf("Claim = %v, %v; want 0 and an error", st, err)
				}
				if !strings.HasPrefix(err.Error(), "redisstore: ") {
					t.Errorf("error %q lacks the redisstore: prefix", err)
				}
				if tc.lease > 0 {
					if err := s.Complete(ctx, tc.key, tc.token); err == nil {
						t.Error("Complete = nil; want an error")
					}
					if err := s.Release(ctx, tc.key, tc.token); err == nil {
						t.Error("Release = nil; want an error")
					}
				}
			})
		}
	}
	if err := zero.Complete(ctx, "k", "t"); err == nil {
		t.Error("zero Store: Complete = nil; want an error")
	}
	if err := zero.Release(ctx, "k", "t"); err == nil {
		t.Error("zero Store: Release = nil; want an error")
	}
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
