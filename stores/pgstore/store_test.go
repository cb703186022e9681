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
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return u
}

// newPool returns a pool of its own for the test database.
func newPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn(t))
	if err != nil {
		t.Fatal(err)
	}
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
		if err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
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
	if err := s.CreateSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, pool
}

func TestContract(t *testing.T) {
	// Long enough that a loaded machine checks a completion before it
	// expires (the Keys check completes a dozen keys, then reads them).
	const retention = 5 * time.Second
	pool := newPool(t)
	opts := pgstore.Options{Table: newTable(t, pool), Retention: retention}
	if err := pgstore.New(pool, &opts).CreateSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, func(t *testing.T) beecloud.Store {
		// A Store per subtest on one pool and one table, as several
		// handlers in one process would have.
		return pgstore.New(pool, &opts)
	}, storetest.Options{
		Retention: retention,
		Unreachable: func(t *testing.T) beecloud.Store {
			// Port 1 on loopback refuses connections at once.
			dead, err := pgxpool.New(context.Background(), "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
			if err != nil {
				t.Fatal(err)
			}
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
		if err != nil {
			t.Fatalf("CreateSchema: %v", err)
		}
	}
	s := pgstore.New(pool, &opts)
	if err := s.CreateSchema(context.Background()); err != nil {
		t.Fatalf("CreateSchema again: %v", err)
	}
	if st, err := s.Claim(context.Background(), "k", "t", time.Minute); err != nil || st != beecloud.ClaimOK {
		t.Fatalf("Claim = %v, %v; want ok", st, err)
	}
}

func TestTableNames(t *testing.T) {
	pool := newPool(t)
	base := newTable(t, pool)
	ctx := context.Background()
	schema := base + "_schema"
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
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
			if err := s.CreateSchema(ctx); err != nil {
				t.Fatalf("CreateSchema: %v", err)
			}
			if st, err := s.Claim(ctx, "k", "a", time.Minute); err != nil || st != beecloud.ClaimOK {
				t.Fatalf("Claim = %v, %v; want ok", st, err)
			}
			if err := s.Complete(ctx, "k", "a"); err != nil {
				t.Fatal(err)
			}
			if st, err := s.Claim(ctx, "k", "b", time.Minute); err != nil || st != beecloud.ClaimDone {
				t.Fatalf("Claim = %v, %v; want done", st, err)
			}
		})
	}
	// Every table above was created inside the schema, none elsewhere.
	var n int
	err := pool.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", schema).Scan(&n)
	if err != nil || n != 3 {
		t.Fatalf("tables in %s: %d, %v; want 3", schema, n, err)
	}
}

func TestCleanup(t *testing.T) {
	ctx := context.Background()
	s, pool := newStore(t, pgstore.Options{Retention: time.Hour, CleanupInterval: -1})
	table := tableName(t, s)
	rows := func() int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// 2500 expired completions (more than one cleanup batch), a claim
	// that has run out, one that has not, and a fresh completion.
	_, err := pool.Exec(ctx, "INSERT INTO "+table+` (key, token, done, expires_at)
		SELECT convert_to('old' || i, 'UTF8'), '\x00', true, now() - interval '1 second' FROM generate_series(1, 2500) i`)
	if err != nil {
		t.Fatal(err)
	}
	mustClaim(t, s, "short", "a", time.Millisecond, beecloud.ClaimOK)
	mustClaim(t, s, "held", "a", time.Hour, beecloud.ClaimOK)
	if err := s.Complete(ctx, "kept", "tok"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // for the 1ms lease
	n, err := s.Cleanup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := rows(); n != 2501 || got != 2 {
		t.Fatalf("Cleanup deleted %d, left %d rows; want 2501 deleted, 2 left (held, kept)", n, got)
	}
	if n, err := s.Cleanup(ctx); n != 0 || err != nil {
		t.Fatalf("Cleanup again = %d, %v; want 0, nil", n, err)
	}
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
		if err != nil {
			t.Fatal(err)
		}
	}
	expiredLeft := func() bool {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+table+` WHERE key = '\x01'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	insertExpired()
	// The first Complete of a Store cleans up…
	if err := s.Complete(ctx, "a", "t"); err != nil {
		t.Fatal(err)
	}
	if expiredLeft() {
		t.Fatal("first Complete left an expired row; want it deleted")
	}
	// …and the next ones wait for CleanupInterval.
	insertExpired()
	if err := s.Complete(ctx, "b", "t"); err != nil {
		t.Fatal(err)
	}
	if !expiredLeft() {
		t.Fatal("second Complete within CleanupInterval cleaned up; want it to wait")
	}
}

// tableName finds the table s uses from its SchemaSQL.
func tableName(t testing.TB, s *pgstore.Store) string {
	t.Helper()
	sql := strings.TrimPrefix(s.SchemaSQL(), "CREATE TABLE IF NOT EXISTS ")
	return sql[:strings.Index(sql, " ")]
}

func mustClaim(t testing.TB, s beecloud.Store, key, token string, lease time.Duration, want beecloud.ClaimState) {
	t.Helper()
	got, err := s.Claim(context.Background(), key, token, lease)
	if err != nil || got != want {
		t.Fatalf("Claim(%q) = %v, %v; want %v", key, got, err, want)
	}
}

func TestSchemaSQLInPackageDoc(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	sql := pgstore.New(nil, nil).SchemaSQL()
	var want strings.Builder
	for _, line := range strings.Split(strings.TrimSuffix(sql, "\n"), "\n") {
		want.WriteString("//\t" + line + "\n")
	}
	if !strings.Contains(string(doc), want.String()) {
		t.Errorf("doc.go does not show the default schema; want it to contain\n%s", want.String())
	}
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
			if err == nil || st != 0 {
				t.Errorf("Claim = %v, %v; want 0 and an error", st, err)
			}
			if !strings.HasPrefix(err.Error(), "pgstore: ") {
				t.Errorf("error %q lacks the pgstore: prefix", err)
			}
		})
	}
	if err := zero.Complete(ctx, "k", "t"); err == nil {
		t.Error("zero Store: Complete = nil; want an error")
	}
	if err := zero.Release(ctx, "k", "t"); err == nil {
		t.Error("zero Store: Release = nil; want an error")
	}
	if _, err := zero.Cleanup(ctx); err == nil {
		t.Error("zero Store: Cleanup = nil; want an error")
	}
	if err := zero.CreateSchema(ctx); err == nil {
		t.Error("zero Store: CreateSchema = nil; want an error")
	}
	if err := s.Complete(ctx, long, "t"); err == nil {
		t.Error("Complete with a long key = nil; want an error")
	}
	if err := s.Release(ctx, long, "t"); err == nil {
		t.Error("Release with a long key = nil; want an error")
	}
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
		if err := s.CreateSchema(context.Background()); err != nil {
			t.Fatal(err)
		}
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
		if err := pgstore.New(pool, &pgstore.Options{Table: table}).CreateSchema(ctx); err != nil {
			t.Fatalf("CreateSchema(%s): %v", table, err)
		}
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE '%(expires_at)'`, table).Scan(&n)
		if err != nil || n != 1 {
			t.Errorf("expires_at indexes on %s: %d, %v; want 1", table, n, err)
		}
	}
}
