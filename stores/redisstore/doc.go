// Package redisstore is a beecloud.Store in Redis, for merchants who run
// several server instances behind one webhook URL: whichever instance a
// webhook (or its resend, or a duplicate) reaches, the handler's Handle
// function runs once per transaction.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	store, err := redisstore.New(ctx, rdb, nil) // refuses a Redis that can lose writes
//	if err != nil {
//		return err
//	}
//	h := &beecloud.WebhookHandler{Apps: beecloud.Apps{cfg}, Store: store, Handle: grant}
//
// # Keys
//
// Each transaction is one Redis key, [Options.Prefix] followed by the
// handler's key (for example "beecloud:webhook:" + app + ":PAY:" + id).
// While a delivery is being handled its value is "c" and the delivery's
// token, with the lease as TTL; once handled, "d" and the token, with the
// retention (by default beecloud.MinRetention, four days) as TTL. Redis
// deletes what has expired, so there is nothing to create and nothing to
// clean up. Claim and Release are Lua scripts run with EVALSHA, atomic on
// the server; every call touches one key, so Redis Cluster works too.
//
// # Configuring Redis
//
// A completion that Redis forgets lets the next resend run Handle again,
// so Redis must keep every write it acknowledged, for the key's whole TTL.
// [New] reads the server's settings with CONFIG GET and refuses, with
// [ErrNotDurable] naming the setting, a Redis configured otherwise:
//
//   - appendonly yes: without the append-only file, a restart forgets
//     every completion.
//   - appendfsync always: Redis writes and flushes the file to disk before
//     it answers. With everysec (Redis's default) a crash of the Redis
//     process or its machine loses the writes of up to the last second or
//     two, although Redis acknowledged them: a completion lost so lets the
//     next resend run Handle again. (WAITAOF, which would let a client
//     wait for that flush, needs Redis 7.2; Debian 12 ships 7.0.)
//   - maxmemory-policy noeviction (or no maxmemory): every key of this
//     package has a TTL, so volatile-lru, volatile-ttl and the allkeys-*
//     policies may all evict completions when memory runs short; with
//     noeviction, writes fail instead, the handler answers with an error
//     and BeeCloud sends again.
//
// appendfsync always costs a disk flush per write, and a new transaction
// makes two (its claim and its completion). Redis flushes the writes of
// concurrent clients together, so the cost is mostly latency: on a 2-core
// virtual machine with an ext4 disk, 150 transactions a second from one
// goroutine (8,260 with everysec), 3,380 from 16 (9,150 with everysec);
// BenchmarkAppendfsync measures yours. [Options.AcceptDataLoss] skips the
// check, accepting the risk, for tests and for servers whose CONFIG
// command is disabled (check their settings by other means). A replica
// promoted by a failover may also miss the last writes of its primary: no
// setting of one server covers that.
//
// # Redis or PostgreSQL
//
// Choose redisstore when you already run Redis and want the lowest
// latency: one round trip per store call (and one append to a file, not a
// database commit), with retention handled by key expiry. Handle's effect and the completion are
// then two writes to two systems: the handler retries the completion
// through a store outage and holds the claim meanwhile, but a process
// killed between the two leaves the effect unrecorded, and the next resend
// runs Handle again (make Handle idempotent: mark the order paid only if
// it is unpaid). Choose the pgstore package when the service already has
// PostgreSQL: it runs Handle's database writes and the completion in one
// transaction, so that not even a crash can double them; completions are
// as durable as your orders, need no new server to run and back up, and
// can be inspected with SQL beside the orders table. A single-instance service needs
// neither: the in-memory store of package beecloud is enough.
package redisstore
