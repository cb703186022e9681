package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/stores/pgstore"
	"github.com/paybutton/beecloud/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const envDSN = "BEECLOUD_POSTGRES"

// dsn returns the test database's URL, or skips t (fails it under CI) when
// there is none.
func dsn(t testing.TB) string {
	t.Helper()
	u := os.Getenv(envDSN)
	if u == "" {
		msg := envDSN + ` is not set: run eval "$(bash .ci/services.sh)" to start PostgreSQL on loopback`
		if os.Getenv("CI") == "true" {
			require.FailNow(t, msg)
		}
		t.Skip(msg)
	}
	return u
}

// newPool returns a pool of its own for the test database.
func newPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn(t))
	require.NoError(t, err, "pgxpool.New")
	t.Cleanup(pool.Close)
	return pool
}

// newTable returns a table name no other test run uses, and drops the
// table when t ends.
func newTable(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	name := "beecloud_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		_, err := pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+pgx.Identifier{name}.Sanitize())
		assert.NoError(t, err, "dropping %s", name)
	})
	return name
}

// newStore returns a Store on a fresh table, created.
func newStore(t testing.TB, opts pgstore.Options) (*pgstore.Store, *pgxpool.Pool) {
	t.Helper()
	pool := newPool(t)
	if opts.Table == "" {
		opts.Table = newTable(t, pool)
	}
	s := pgstore.New(pool, &opts)
	require.NoError(t, s.CreateSchema(context.Background()), "CreateSchema")
	return s, pool
}

func TestContract(t *testing.T) {
	// Long enough that a loaded machine checks a completion before it
	// expires (the Keys check completes a dozen keys, then reads them).
	const retention = 5 * time.Second
	pool := newPool(t)
	opts := pgstore.Options{Table: newTable(t, pool), Retention: retention}
	require.NoError(t, pgstore.New(pool, &opts).CreateSchema(context.Background()), "CreateSchema")
	storetest.Run(t, func(t *testing.T) beecloud.Store {
		// A Store per subtest on one pool and one table, as several
		// handlers in one process would have.
		return pgstore.New(pool, &opts)
	}, storetest.Options{
		Retention: retention,
		Unreachable: func(t *testing.T) beecloud.Store {
			// Port 1 on loopback refuses connections at once.
			dead, err := pgxpool.New(context.Background(), "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
			require.NoError(t, err, "pgxpool.New")
			t.Cleanup(dead.Close)
			return pgstore.New(dead, nil)
		},
	})
}

func TestCreateSchemaConcurrently(t *testing.T) {
	pool := newPool(t)
	opts := pgstore.Options{Table: newTable(t, pool)}
	// Instances starting together all create the schema; none may fail.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- pgstore.New(pool, &opts).CreateSchema(context.Background())
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "CreateSchema")
	}
	s := pgstore.New(pool, &opts)
	require.NoError(t, s.CreateSchema(context.Background()), "CreateSchema again")
	mustClaim(t, s, "k", "t", time.Minute, beecloud.ClaimOK)
}

func TestTableNames(t *testing.T) {
	pool := newPool(t)
	base := newTable(t, pool)
	ctx := context.Background()
	schema := base + "_schema"
	_, err := pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
	require.NoError(t, err, "CREATE SCHEMA")
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	for _, table := range []string{
		schema + ".webhooks",
		schema + `.We"ird; DROP TABLE x; --`,
		schema + ".UPPER",
	} {
		t.Run(table, func(t *testing.T) {
			s := pgstore.New(pool, &pgstore.Options{Table: table})
			require.NoError(t, s.CreateSchema(ctx), "CreateSchema")
			mustClaim(t, s, "k", "a", time.Minute, beecloud.ClaimOK)
			require.NoError(t, s.Complete(ctx, "k", "a"), "Complete")
			mustClaim(t, s, "k", "b", time.Minute, beecloud.ClaimDone)
		})
	}
	// Every table above was created inside the schema, none elsewhere.
	var n int
	err = pool.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", schema).Scan(&n)
	require.NoError(t, err, "counting the tables in %s", schema)
	require.Equal(t, 3, n, "tables in %s", schema)
}

func TestCleanup(t *testing.T) {
	ctx := context.Background()
	s, pool := newStore(t, pgstore.Options{Retention: time.Hour, CleanupInterval: -1})
	table := tableName(t, s)
	rows := func() int {
		t.Helper()
		var n int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n), "counting the rows")
		return n
	}
	// 2500 expired completions (more than one cleanup batch), a claim
	// that has run out, one that has not, and a fresh completion.
	_, err := pool.Exec(ctx, "INSERT INTO "+table+` (key, token, done, expires_at)
		SELECT convert_to('old' || i, 'UTF8'), '\x00', true, now() - interval '1 second' FROM generate_series(1, 2500) i`)
	require.NoError(t, err, "inserting expired completions")
	mustClaim(t, s, "short", "a", time.Millisecond, beecloud.ClaimOK)
	mustClaim(t, s, "held", "a", time.Hour, beecloud.ClaimOK)
	require.NoError(t, s.Complete(ctx, "kept", "tok"), "Complete")
	waitExpired(t, pool, table, "short")
	n, err := s.Cleanup(ctx)
	require.NoError(t, err, "Cleanup")
	require.Equal(t, int64(2501), n, "rows Cleanup deleted")
	require.Equal(t, 2, rows(), "rows left after Cleanup (held, kept)")
	n, err = s.Cleanup(ctx)
	require.NoError(t, err, "Cleanup again")
	require.Equal(t, int64(0), n, "rows Cleanup again deleted")
	mustClaim(t, s, "held", "b", time.Hour, beecloud.ClaimBusy)
	mustClaim(t, s, "kept", "b", time.Hour, beecloud.ClaimDone)
	mustClaim(t, s, "short", "b", time.Hour, beecloud.ClaimOK)
}

func TestCleanupByComplete(t *testing.T) {
	ctx := context.Background()
	s, pool := newStore(t, pgstore.Options{Retention: time.Hour, CleanupInterval: time.Hour})
	table := tableName(t, s)
	insertExpired := func() {
		t.Helper()
		_, err := pool.Exec(ctx, "INSERT INTO "+table+` (key, token, done, expires_at)
			VALUES ('\x01', '\x00', true, now() - interval '1 second')
			ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at`)
		require.NoError(t, err, "inserting an expired completion")
	}
	expiredLeft := func() bool {
		t.Helper()
		var n int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+table+` WHERE key = '\x01'`).Scan(&n), "counting the expired row")
		return n == 1
	}
	insertExpired()
	// The first Complete of a Store cleans up…
	require.NoError(t, s.Complete(ctx, "a", "t"), "Complete")
	require.False(t, expiredLeft(), "expired row left after the first Complete; want it deleted")
	// …and the next ones wait for CleanupInterval.
	insertExpired()
	require.NoError(t, s.Complete(ctx, "b", "t"), "Complete")
	require.True(t, expiredLeft(), "expired row left after a second Complete within CleanupInterval; want it kept until the interval is over")
}

// tableName finds the table s uses from its SchemaSQL.
func tableName(t testing.TB, s *pgstore.Store) string {
	t.Helper()
	sql := strings.TrimPrefix(s.SchemaSQL(), "CREATE TABLE IF NOT EXISTS ")
	return sql[:strings.Index(sql, " ")]
}

// mustClaim claims key for token, and fails t unless Claim answers want.
func mustClaim(t testing.TB, s beecloud.Store, key, token string, lease time.Duration, want beecloud.ClaimState) {
	t.Helper()
	got, err := s.Claim(context.Background(), key, token, lease)
	require.NoError(t, err, "Claim(%q, %q)", key, token)
	require.Equal(t, want, got, "Claim(%q, %q)", key, token)
}

// waitExpired waits until the lease on key in table (a quoted name) has
// run out by the database's clock, the one Claim and Cleanup go by.
func waitExpired(t testing.TB, pool *pgxpool.Pool, table, key string) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var expired bool
		err := pool.QueryRow(context.Background(), "SELECT expires_at < now() FROM "+table+" WHERE key = $1", []byte(key)).Scan(&expired)
		require.NoError(c, err, "reading the lease of %q", key)
		assert.True(c, expired, "lease of %q ran out", key)
	}, 10*time.Second, 2*time.Millisecond, "waiting for the lease of %q to run out", key)
}

func TestSchemaSQLInPackageDoc(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err, "reading doc.go")
	sql := pgstore.New(nil, nil).SchemaSQL()
	var want strings.Builder
	for _, line := range strings.Split(strings.TrimSuffix(sql, "\n"), "\n") {
		want.WriteString("//\t" + line + "\n")
	}
	assert.Contains(t, string(doc), want.String(), "doc.go; want it to show the default schema")
}

func TestInvalidArguments(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("k", 513)
	var zero pgstore.Store
	nilPool := pgstore.New(nil, nil)
	s, _ := newStore(t, pgstore.Options{})
	for _, tc := range []struct {
		name         string
		s            beecloud.Store
		key, token   string
		lease        time.Duration
		wantClaimErr bool
	}{
		{"zero Store", &zero, "k", "t", time.Minute, true},
		{"nil pool", nilPool, "k", "t", time.Minute, true},
		{"key too long", s, long, "t", time.Minute, true},
		{"token too long", s, "k", strings.Repeat("t", 65), time.Minute, true},
		{"zero lease", s, "k", "t", 0, true},
		{"negative lease", s, "k", "t", -time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := tc.s.Claim(ctx, tc.key, tc.token, tc.lease)
			assert.Zero(t, st, "Claim")
			require.Error(t, err, "Claim")
			assert.Truef(t, strings.HasPrefix(err.Error(), "pgstore: "), "Claim: error %q lacks the pgstore: prefix", err)
		})
	}
	require.Error(t, zero.Complete(ctx, "k", "t"), "zero Store: Complete")
	require.Error(t, zero.Release(ctx, "k", "t"), "zero Store: Release")
	_, err := zero.Cleanup(ctx)
	require.Error(t, err, "zero Store: Cleanup")
	require.Error(t, zero.CreateSchema(ctx), "zero Store: CreateSchema")
	require.Error(t, s.Complete(ctx, long, "t"), "Complete with a long key")
	require.Error(t, s.Release(ctx, long, "t"), "Release with a long key")
}

func TestHandlers(t *testing.T) {
	pool := newPool(t)
	opts := pgstore.Options{Table: newTable(t, pool)}
	storetest.RunHandlers(t, func(t *testing.T) beecloud.Store {
		// Each instance has its own pool and creates the schema at
		// start-up, as separate processes would. Its pool has room for
		// the deliveries RunHandlers sends at once and for the lease
		// renewals meanwhile: with the default of 4, renewals wait until
		// the leases run out.
		s := pgstore.New(newPoolSize(t, 25), &opts)
		require.NoError(t, s.CreateSchema(context.Background()), "CreateSchema")
		// RunHandlers counts the calls of Handle that returned nil, which
		// with CompleteTx may still be rolled back; hiding CompleteTx
		// makes its count the effects. TestFaults checks the CompleteTx
		// path against the effects committed.
		return struct{ beecloud.Store }{s}
	})
}

// TestLongTableNameGetsItsIndex checks that a table name of PostgreSQL's
// 63-byte limit still gets its expires_at index: the index name made by
// appending to it must not be cut down to the table's own name, or CREATE
// INDEX IF NOT EXISTS skips it without an error and Cleanup scans the
// whole table.
func TestLongTableNameGetsItsIndex(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	base := newTable(t, pool) // dropped at the end
	for _, table := range []string{
		// 63 bytes: the index name, cut to 63, would be the table's.
		base + strings.Repeat("x", 63-len(base)),
		base + strings.Repeat("支", (63-len(base))/3) + strings.Repeat("z", (63-len(base))%3),
	} {
		t.Cleanup(func() {
			_, _ = pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+pgx.Identifier{table}.Sanitize())
		})
		require.NoError(t, pgstore.New(pool, &pgstore.Options{Table: table}).CreateSchema(ctx), "CreateSchema(%s)", table)
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE '%(expires_at)'`, table).Scan(&n)
		if assert.NoError(t, err, "counting the indexes on %s", table) {
			assert.Equal(t, 1, n, "expires_at indexes on %s", table)
		}
	}
}
