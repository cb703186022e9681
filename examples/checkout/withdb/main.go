// Command withdb is the checkout example with a shared store: the shop of
// examples/checkout, recording handled webhooks in PostgreSQL or Redis so
// that several instances behind one webhook URL handle each payment once.
//
//	go run ./examples/checkout/withdb -store postgres -postgres "$BEECLOUD_POSTGRES"
//	go run ./examples/checkout/withdb -store redis    -redis "$BEECLOUD_REDIS"
//
// It is a command of its own so that examples/checkout, which most people
// run first, builds without the database drivers.
//
// Flags, besides examples/checkout's:
//
//	-store memory|postgres|redis   where handled webhooks are recorded
//	-postgres URL, -redis URL      the database (or BEECLOUD_POSTGRES,
//	                               BEECLOUD_REDIS); pgstore's table is
//	                               created at start if missing
package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/examples/checkout/internal/shopcmd"
	"github.com/paybutton/beecloud/stores/pgstore"
	"github.com/paybutton/beecloud/stores/redisstore"
	"github.com/redis/go-redis/v9"
)

// command is this program: memory, PostgreSQL and Redis.
var command = shopcmd.Command{
	Name:   "go run ./examples/checkout/withdb",
	Stores: []shopcmd.Store{shopcmd.Memory, postgres, redisStore},
}

func main() { shopcmd.Main(command) }

// postgres records webhooks in a PostgreSQL table, shared by every
// instance; its table is created if missing.
var postgres = shopcmd.Store{ //nolint:gosec // G101: URLExample is an example for the help text, not a credential
	Name:       "postgres",
	Describe:   "PostgreSQL, table " + pgstore.DefaultTable + " (shared by every instance)",
	URLFlag:    "postgres",
	URLEnv:     "BEECLOUD_POSTGRES",
	URLExample: "postgres://user:pass@127.0.0.1:5432/shop",
	Open: func(ctx context.Context, url string) (beecloud.Store, func(), error) {
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			return nil, nil, err
		}
		store := pgstore.New(pool, nil)
		if err := store.CreateSchema(ctx); err != nil {
			pool.Close()
			return nil, nil, err
		}
		return store, pool.Close, nil
	},
}

// redisStore records webhooks in Redis keys, shared by every instance.
var redisStore = shopcmd.Store{
	Name:       "redis",
	Describe:   "Redis, keys " + redisstore.DefaultPrefix + "* (shared by every instance)",
	URLFlag:    "redis",
	URLEnv:     "BEECLOUD_REDIS",
	URLExample: "redis://127.0.0.1:6379/0",
	Open: func(ctx context.Context, url string) (beecloud.Store, func(), error) {
		opts, err := redis.ParseURL(url)
		if err != nil {
			return nil, nil, err
		}
		client := redis.NewClient(opts)
		if err := client.Ping(ctx).Err(); err != nil {
			client.Close()
			return nil, nil, fmt.Errorf("cannot reach %s: %w", opts.Addr, err)
		}
		store, err := redisstore.New(ctx, client, nil)
		if err != nil {
			client.Close()
			return nil, nil, err
		}
		return store, func() { client.Close() }, nil
	},
}
