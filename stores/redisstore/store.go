package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/redis/go-redis/v9"
)

// DefaultPrefix is put before every key when [Options.Prefix] is empty.
const DefaultPrefix = "beecloud:webhook:"

// Options configures a [Store]. The zero value uses DefaultPrefix and keeps
// completed transactions for beecloud.MinRetention.
type Options struct {
	// Prefix is put before every key the Store writes, to keep them apart
	// from the application's other keys. Empty means DefaultPrefix.
	Prefix string
	// Retention is how long a completed transaction stays done (the TTL of
	// its key); zero means beecloud.MinRetention. A shorter retention lets
	// a resend that arrives after it run the work again: shorten it only
	// in tests.
	Retention time.Duration
}

// Store is a beecloud.Store in Redis, shared by every server instance that
// uses the same Redis and prefix. Each webhook key is one Redis key whose
// value says who holds the claim or that the transaction is done, and
// whose TTL is the lease or the retention: Redis's clock decides when a
// lease runs out, and expired entries need no cleanup. Claim and Release
// run as Lua scripts, atomic on the server; Complete is one SET.
//
// Every call touches a single key, so the Store works with Redis Cluster
// and Ring clients too. Make one with [New]; the zero Store has no client,
// and its methods return an error. A Store is safe for concurrent use.
type Store struct {
	client redis.UniversalClient
	prefix string
	ret    time.Duration
}

var _ beecloud.Store = (*Store)(nil)

// New returns a Store that keeps its claims in Redis through client. A nil
// opts means the zero Options.
func New(client redis.UniversalClient, opts *Options) *Store {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Retention <= 0 {
		o.Retention = beecloud.MinRetention
	}
	return &Store{client: client, prefix: o.Prefix, ret: o.Retention}
}

// Values of the Redis keys: "c" followed by the holder's token for a
// claim, "d" followed by the completer's token for a completion.
const (
	claimed = "c"
	done    = "d"
)

// claimScript claims KEYS[1] for the value ARGV[1] ("c" + token) for
// ARGV[2] milliseconds unless another token holds it or it is done. A
// claim that ran out, like a completion past its retention, has already
// been removed by Redis.
var claimScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then
	redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
	return 1
end
if string.sub(v, 1, 1) == 'd' then
	return 3
end
return 2
`)

// releaseScript deletes KEYS[1] if its value is still ARGV[1] ("c" + token).
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0
`)

// Claim implements beecloud.Store in one Lua script. A Claim by the token
// that holds the claim renews it: its TTL starts again at lease.
func (s *Store) Claim(ctx context.Context, key, token string, lease time.Duration) (beecloud.ClaimState, error) {
	if err := s.check(key, token); err != nil {
		return 0, err
	}
	if lease <= 0 {
		return 0, fmt.Errorf("redisstore: lease %v is not positive", lease)
	}
	n, err := claimScript.Run(ctx, s.client, []string{s.prefix + key}, claimed+token, millis(lease)).Int64()
	if err != nil {
		return 0, fmt.Errorf("redisstore: claim: %w", err)
	}
	switch n {
	case 1:
		return beecloud.ClaimOK, nil
	case 2:
		return beecloud.ClaimBusy, nil
	case 3:
		return beecloud.ClaimDone, nil
	}
	return 0, fmt.Errorf("redisstore: claim: unexpected reply %d from the script", n)
}

// Complete implements beecloud.Store with one SET whose TTL is the
// retention.
func (s *Store) Complete(ctx context.Context, key, token string) error {
	if err := s.check(key, token); err != nil {
		return err
	}
	if err := s.client.Set(ctx, s.prefix+key, done+token, s.ret).Err(); err != nil {
		return fmt.Errorf("redisstore: complete: %w", err)
	}
	return nil
}

// Release implements beecloud.Store in one Lua script.
func (s *Store) Release(ctx context.Context, key, token string) error {
	if err := s.check(key, token); err != nil {
		return err
	}
	if err := releaseScript.Run(ctx, s.client, []string{s.prefix + key}, claimed+token).Err(); err != nil {
		return fmt.Errorf("redisstore: release: %w", err)
	}
	return nil
}

// millis rounds d up to whole milliseconds, Redis's unit, so that a lease
// never ends early.
func millis(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// errNoClient is what a Store made without New, or from a nil client,
// returns instead of panicking.
var errNoClient = errors.New("redisstore: Store has no client; make it with New")

func (s *Store) check(key, token string) error {
	if s.client == nil {
		return errNoClient
	}
	if err := beecloud.CheckStoreKey(key, token); err != nil {
		return fmt.Errorf("redisstore: %w", err)
	}
	return nil
}
