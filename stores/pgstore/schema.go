package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SchemaSQL returns the statements that create the Store's table and its
// index if they do not exist, for a migration tool or a DBA. For the
// default table they are the ones shown in the package documentation.
func (s *Store) SchemaSQL() string {
	return `CREATE TABLE IF NOT EXISTS ` + s.table + ` (
	key        bytea       PRIMARY KEY,
	token      bytea       NOT NULL,
	done       boolean     NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ` + s.index + ` ON ` + s.table + ` (expires_at);
`
}

// CreateSchema creates the Store's table and index unless they exist, by
// running [Store.SchemaSQL]. It is idempotent and safe to call from every
// instance at start-up: a transaction-scoped advisory lock stops
// concurrent calls from racing in PostgreSQL's catalog. The schema of a
// schema-qualified table must already exist.
func (s *Store) CreateSchema(ctx context.Context) error {
	if s.pool == nil {
		return errNoPool
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, s.lockKey); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, s.SchemaSQL())
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: create schema: %w", err)
	}
	return nil
}
