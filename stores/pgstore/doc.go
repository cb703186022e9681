// Package pgstore is a beecloud.Store in PostgreSQL, for merchants who run
// several server instances behind one webhook URL: whichever instance a
// webhook (or its resend, or a duplicate) reaches, the handler's Handle
// function runs once per transaction.
//
//	pool, err := pgxpool.New(ctx, os.Getenv("BEECLOUD_POSTGRES"))
//	…
//	store := pgstore.New(pool, nil)
//	if err := store.CreateSchema(ctx); err != nil { … }
//	h := &beecloud.WebhookHandler{Apps: beecloud.Apps{cfg}, Store: store, Handle: grant}
//
// # Schema
//
// [Store.CreateSchema] creates the table at start-up; it is idempotent and
// safe to run from every instance at once. To create it with a migration
// tool instead, [Store.SchemaSQL] returns the SQL, which for the default
// table is:
//
//	CREATE TABLE IF NOT EXISTS "beecloud_webhooks" (
//		key        bytea       PRIMARY KEY,
//		token      bytea       NOT NULL,
//		done       boolean     NOT NULL,
//		expires_at timestamptz NOT NULL
//	);
//	CREATE INDEX IF NOT EXISTS "beecloud_webhooks_expires_at_idx" ON "beecloud_webhooks" (expires_at);
//
// Keys and tokens are bytea because they are opaque bytes, which text
// columns (no NUL, UTF-8 only) would reject. A row with done = false is a
// claim held by token until expires_at; a row with done = true is a
// completed transaction, remembered until expires_at. Leases and
// retention are reckoned with the database's now(), so every instance
// agrees however its own clock is set.
//
// Claim is a single INSERT … ON CONFLICT … DO UPDATE statement, Complete
// a single upsert and Release a single DELETE guarded by the token: there
// is no read-then-write race between instances.
//
// # Exactly once with the merchant's own tables
//
// Store is a beecloud.TxStore: the WebhookHandler runs Handle inside
// [Store.CompleteTx], in a transaction that Handle reaches with [Tx]. What
// Handle writes through that transaction (marking the order paid) and the
// row that records the webhook as handled commit together or not at all,
// so a crash, a SIGKILL or a database outage between the two can no longer
// leave the order paid while the webhook stays unrecorded, to be handled
// again by a resend. Of two deliveries whose Handle ran at once (the first
// outlived its lease), only the one that holds the claim commits. What
// Handle does outside the transaction, through the pool or another service,
// keeps the weaker guarantee of any Store: it may run again if the process
// dies before the completion is recorded.
//
// # Cleanup
//
// Rows whose lease or retention has run out are ignored by Claim and
// deleted by [Store.Cleanup], which Complete runs about once an hour per
// instance ([Options.CleanupInterval]). The table therefore holds roughly
// the transactions of the last beecloud.MinRetention (four days).
//
// # PostgreSQL or Redis
//
// Choose pgstore when the service already has PostgreSQL: nothing new to
// run or back up, completions are durable (they survive a restart or a
// failover like the rest of your data), the merchant's writes commit with
// the completion (see above), and the table sits beside your orders table
// for inspection with SQL. A claim costs one round trip and one row write.
//
// Choose the redisstore package when you already run Redis and want the
// lowest latency, with retention handled by key expiry. Redis must then
// not lose the keys: set maxmemory-policy noeviction (every key has a TTL,
// so the volatile-* policies would evict them under memory pressure) and
// enable persistence (appendonly yes), or a restart forgets completions
// and lets a resend be handled twice.
//
// A single-instance service needs neither: the in-memory store of package
// beecloud is enough.
package pgstore
