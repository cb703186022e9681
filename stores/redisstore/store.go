package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	// AcceptDataLoss makes [New] skip its check of the server's settings:
	// the Store then runs on a Redis that may lose an acknowledged claim or
	// completion (no append-only file, appendfsync everysec or no, an
	// eviction policy that may drop keys), and a lost completion lets a
	// resend run Handle a second time. Set it for tests, or for a server
	// whose CONFIG command is disabled once you have checked its settings
	// yourself.
	AcceptDataLoss bool
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
//
// Unless opts.AcceptDataLoss is set, New first reads the server's settings
// with CONFIG GET (on every shard of a Cluster or Ring client) and returns
// an [ErrNotDurable] error naming the first setting with which Redis can
// lose a write it has acknowledged: appendonly must be yes, appendfsync
// always, and maxmemory-policy noeviction (or maxmemory 0). If CONFIG is
// renamed or disabled, New returns an error saying so.
func New(ctx context.Context, client redis.UniversalClient, opts *Options) (*Store, error) {
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
	if client == nil {
		return nil, errNoClient
	}
	if !o.AcceptDataLoss {
		if err := checkDurable(ctx, client); err != nil {
			return nil, err
		}
	}
	return &Store{client: client, prefix: o.Prefix, ret: o.Retention}, nil
}

// ErrNotDurable is returned, wrapped, by [New] for a Redis whose settings
// let it lose an acknowledged claim or completion; the error names the
// setting.
var ErrNotDurable = errors.New("redisstore: Redis can lose acknowledged writes")

// durableSettings are the settings with which Redis keeps every write it
// acknowledged through a crash of its process or machine, and never evicts
// a key before its TTL, with what each must be.
var durableSettings = []struct {
	name, want string
	why        string
}{
	{"appendonly", "yes", "without the append-only file a restart forgets every completion"},
	{"appendfsync", "always", "with anything but always, a crash loses the writes of up to the last second, though Redis acknowledged them"},
}

// checkDurable reads the persistence and eviction settings of every
// server behind client.
func checkDurable(ctx context.Context, client redis.UniversalClient) error {
	if shards, ok := client.(interface {
		ForEachShard(context.Context, func(context.Context, *redis.Client) error) error
	}); ok {
		return shards.ForEachShard(ctx, func(ctx context.Context, c *redis.Client) error {
			return checkServer(ctx, c, c.Options().Addr)
		})
	}
	return checkServer(ctx, client, "")
}

func checkServer(ctx context.Context, c redis.Cmdable, addr string) error {
	where := ""
	if addr != "" {
		where = " on " + addr
	}
	get := func(name string) (string, error) {
		m, err := c.ConfigGet(ctx, name).Result()
		if err != nil {
			return "", fmt.Errorf("redisstore: cannot read the server's %s setting%s with CONFIG GET (%w); "+
				"if CONFIG is renamed or disabled, check that appendonly is yes, appendfsync always and maxmemory-policy noeviction, "+
				"then set Options.AcceptDataLoss", name, where, err)
		}
		v, ok := m[name]
		if !ok {
			return "", fmt.Errorf("redisstore: CONFIG GET %s%s answered no value; set Options.AcceptDataLoss only after checking it otherwise", name, where)
		}
		return v, nil
	}
	for _, s := range durableSettings {
		v, err := get(s.name)
		if err != nil {
			return err
		}
		if !strings.EqualFold(v, s.want) {
			return fmt.Errorf("%w: %s is %q%s, want %q: %s (or set Options.AcceptDataLoss to accept that a resend may then run Handle twice)",
				ErrNotDurable, s.name, v, where, s.want, s.why)
		}
	}
	policy, err := get("maxmemory-policy")
	if err != nil {
		return err
	}
	if policy == "noeviction" {
		return nil
	}
	limit, err := get("maxmemory")
	if err != nil {
		return err
	}
	if limit != "0" {
		return fmt.Errorf("%w: maxmemory-policy is %q%s with maxmemory %s, want \"noeviction\": every key of this package has a TTL, so the policy may evict completions when memory runs short (or set Options.AcceptDataLoss)",
			ErrNotDurable, policy, where, limit)
	}
	return nil
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
