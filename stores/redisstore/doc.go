// Package redisstore is a beecloud.Store in Redis, for merchants who run
// several server instances behind one webhook URL: whichever instance a
// webhook (or its resend, or a duplicate) reaches, the handler's Handle
// function runs once per transaction.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	store := redisstore.New(rdb, nil)
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
// so Redis must keep these keys for their whole TTL:
//
//   - maxmemory-policy noeviction. Every key of this package has a TTL, so
//     volatile-lru, volatile-ttl and the allkeys-* policies may all evict
//     completions when memory runs short; with noeviction, writes fail
//     instead, the handler answers with an error and BeeCloud sends again.
//   - Persistence, appendonly yes (appendfsync everysec loses at most about
//     a second), or a restart forgets every completion. A replica promoted
//     by a failover may likewise miss the last writes of its primary.
//
// # Redis or PostgreSQL
//
// Choose redisstore when you already run Redis and want the lowest
// latency: one round trip and no disk write on the request path, with
// retention handled by key expiry. Handle's effect and the completion are
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
