package pgstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paybutton/beecloud"
)

// DefaultTable is the table a [Store] uses when [Options.Table] is empty.
const DefaultTable = "beecloud_webhooks"

// DefaultCleanupInterval is how often a [Store] deletes expired rows by
// itself when [Options.CleanupInterval] is zero.
const DefaultCleanupInterval = time.Hour

// Options configures a [Store]. The zero value uses DefaultTable, keeps
// completed transactions for beecloud.MinRetention and cleans up hourly.
type Options struct {
	// Table is the table that holds the claims, optionally qualified by a
	// schema as "schema.table". Each part is quoted, so it is used exactly
	// as written (case included). Empty means DefaultTable.
	Table string
	// Retention is how long a completed transaction stays done; zero
	// means beecloud.MinRetention. A shorter retention lets a resend that
	// arrives after it run the work again: shorten it only in tests.
	Retention time.Duration
	// CleanupInterval is how often Complete also deletes the rows that
	// have expired, which Claim already ignores; zero means
	// DefaultCleanupInterval and a negative value turns it off, for those
	// who run [Store.Cleanup] on their own schedule.
	CleanupInterval time.Duration
	// TxOptions are the options of the transactions [Store.CompleteTx]
	// begins, such as the isolation level; the zero value means
	// PostgreSQL's defaults (READ COMMITTED).
	TxOptions pgx.TxOptions
}

// Store is a beecloud.Store in a PostgreSQL table, shared by every server
// instance that uses the same table. Leases and retention are measured by
// the database's clock, so instances whose clocks disagree still agree on
// who holds a claim. Claim, Complete and Release are each one statement,
// atomic on its own.
//
// Store is also a beecloud.TxStore: a WebhookHandler runs Handle inside
// [Store.CompleteTx], whose transaction Handle reaches with [Tx], so that
// the merchant's effect and the record of the completion commit together.
//
// Make one with [New]; the zero Store has no database, and its methods
// return an error. A Store is safe for concurrent use.
type Store struct {
	pool     *pgxpool.Pool
	table    string // quoted identifier
	index    string // quoted identifier, unqualified
	lockKey  string // names the table for the schema advisory lock
	ret      time.Duration
	interval time.Duration
	txOpts   pgx.TxOptions

	claimSQL, completeSQL, completeTxSQL, releaseSQL, cleanupSQL string

	lastCleanup atomic.Int64 // unix nanoseconds of the last automatic cleanup
}

var _ beecloud.Store = (*Store)(nil)

// New returns a Store that keeps its claims in the table opts names,
// reached through pool. Create the table first with [Store.CreateSchema],
// or by running [Store.SchemaSQL] as a migration. A nil opts means the
// zero Options.
func New(pool *pgxpool.Pool, opts *Options) *Store {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Table == "" {
		o.Table = DefaultTable
	}
	if o.Retention <= 0 {
		o.Retention = beecloud.MinRetention
	}
	if o.CleanupInterval == 0 {
		o.CleanupInterval = DefaultCleanupInterval
	}
	parts := strings.Split(o.Table, ".")
	s := &Store{
		pool:     pool,
		table:    pgx.Identifier(parts).Sanitize(),
		index:    pgx.Identifier{indexName(parts[len(parts)-1])}.Sanitize(),
		lockKey:  "beecloud/pgstore " + o.Table,
		ret:      o.Retention,
		interval: o.CleanupInterval,
		txOpts:   o.TxOptions,
	}
	// A claim may be taken over when it ran out (a holder that died, or a
	// completion past its retention), or again by the token that holds it
	// (a retried call). Otherwise the row is left as it is. Updating the
	// conflicting row in every case, rather than with DO UPDATE … WHERE,
	// makes RETURNING report the row as it stands once the row lock is
	// held, so the answer can never come from an older snapshot.
	free := "(w.expires_at <= now() OR (NOT w.done AND w.token = excluded.token))"
	s.claimSQL = `INSERT INTO ` + s.table + ` AS w (key, token, done, expires_at)
VALUES ($1, $2, false, now() + $3::interval)
ON CONFLICT (key) DO UPDATE SET
	token = CASE WHEN ` + free + ` THEN excluded.token ELSE w.token END,
	done = CASE WHEN ` + free + ` THEN false ELSE w.done END,
	expires_at = CASE WHEN ` + free + ` THEN excluded.expires_at ELSE w.expires_at END
RETURNING w.done, w.token = $2`
	s.completeSQL = `INSERT INTO ` + s.table + ` AS w (key, token, done, expires_at)
VALUES ($1, $2, true, now() + $3::interval)
ON CONFLICT (key) DO UPDATE SET token = excluded.token, done = true, expires_at = excluded.expires_at`
	// CompleteTx records the completion only for the holder of the
	// claim: a row of another token (which took the claim over) or a done
	// row is left alone and no row is reported. A missing row (the claim
	// ran out and Cleanup deleted it) is no one else's: it is inserted,
	// and a concurrent Claim's insert waits for this transaction.
	s.completeTxSQL = `INSERT INTO ` + s.table + ` AS w (key, token, done, expires_at)
VALUES ($1, $2, true, now() + $3::interval)
ON CONFLICT (key) DO UPDATE SET done = true, expires_at = excluded.expires_at
WHERE w.token = excluded.token AND NOT w.done`
	s.releaseSQL = `DELETE FROM ` + s.table + ` WHERE key = $1 AND token = $2 AND NOT done`
	s.cleanupSQL = `DELETE FROM ` + s.table + ` WHERE key IN (
	SELECT key FROM ` + s.table + ` WHERE expires_at < now() LIMIT $1 FOR UPDATE SKIP LOCKED)`
	return s
}

// maxIdentifier is how many bytes of an identifier PostgreSQL keeps.
const maxIdentifier = 63

// indexName names the expires_at index of table: the table's name and
// "_expires_at_idx". PostgreSQL would cut that to 63 bytes, which for a
// table name of 63 bytes or more is the table's own name, so that
// CREATE INDEX IF NOT EXISTS would skip the index; such names are cut,
// and a hash of the whole name keeps them apart.
func indexName(table string) string {
	const suffix = "_expires_at_idx"
	if len(table) < maxIdentifier {
		return table + suffix // what PostgreSQL keeps of it is distinct
	}
	h := fnv.New32a()
	h.Write([]byte(table))
	head := strings.ToValidUTF8(table[:maxIdentifier-len(suffix)-9], "")
	return fmt.Sprintf("%s_%08x%s", head, h.Sum32(), suffix)
}

// Claim implements beecloud.Store in one INSERT … ON CONFLICT statement.
// A Claim by the token that holds the claim renews it: its lease starts
// again from now, by the database's clock.
func (s *Store) Claim(ctx context.Context, key, token string, lease time.Duration) (beecloud.ClaimState, error) {
	if err := s.check(key, token); err != nil {
		return 0, err
	}
	if lease <= 0 {
		return 0, fmt.Errorf("pgstore: lease %v is not positive", lease)
	}
	var done, mine bool
	err := s.pool.QueryRow(ctx, s.claimSQL, []byte(key), []byte(token), lease).Scan(&done, &mine)
	switch {
	case err != nil:
		return 0, fmt.Errorf("pgstore: claim: %w", err)
	case done:
		return beecloud.ClaimDone, nil
	case mine:
		return beecloud.ClaimOK, nil
	}
	return beecloud.ClaimBusy, nil
}

// Complete implements beecloud.Store. Every [Options.CleanupInterval] it
// also deletes expired rows; an error doing so is not reported, since the
// completion itself was recorded.
func (s *Store) Complete(ctx context.Context, key, token string) error {
	if err := s.check(key, token); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, s.completeSQL, []byte(key), []byte(token), s.ret); err != nil {
		return fmt.Errorf("pgstore: complete: %w", err)
	}
	if s.cleanupDue() {
		_, _ = s.Cleanup(ctx)
	}
	return nil
}

// Release implements beecloud.Store.
func (s *Store) Release(ctx context.Context, key, token string) error {
	if err := s.check(key, token); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, s.releaseSQL, []byte(key), []byte(token)); err != nil {
		return fmt.Errorf("pgstore: release: %w", err)
	}
	return nil
}

// cleanupBatch bounds how many rows one DELETE of Cleanup removes, so
// that it never holds many row locks for long.
const cleanupBatch = 1000

// Cleanup deletes the rows whose lease or retention has run out and
// returns how many it deleted. Claim ignores such rows anyway: Cleanup
// only keeps the table from growing. Complete calls it every
// [Options.CleanupInterval]; call it yourself (from a cron job, say) if
// you turned that off. It deletes in batches and skips rows that other
// transactions hold locked.
func (s *Store) Cleanup(ctx context.Context) (int64, error) {
	if s.pool == nil {
		return 0, errNoPool
	}
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, s.cleanupSQL, cleanupBatch)
		if err != nil {
			return total, fmt.Errorf("pgstore: cleanup: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < cleanupBatch {
			return total, nil
		}
	}
}

// cleanupDue reports whether this call should run the periodic cleanup,
// and if so marks it done so that concurrent calls do not.
func (s *Store) cleanupDue() bool {
	if s.interval < 0 {
		return false
	}
	now := time.Now().UnixNano()
	last := s.lastCleanup.Load()
	if last != 0 && now-last < int64(s.interval) {
		return false
	}
	return s.lastCleanup.CompareAndSwap(last, now)
}

func (s *Store) check(key, token string) error {
	if s.pool == nil {
		return errNoPool
	}
	if err := beecloud.CheckStoreKey(key, token); err != nil {
		return fmt.Errorf("pgstore: %w", err)
	}
	return nil
}

// errNoPool is what a Store made without New, or from a nil pool,
// returns instead of panicking.
var errNoPool = errors.New("pgstore: Store has no pool; make it with New")
