package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/stores/pgstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newEffects creates a table where tests write the merchant's effect, one
// row per run of the work, and returns its quoted name and a function
// that counts the rows of a key.
func newEffects(t testing.TB, pool *pgxpool.Pool) (string, func(key string) int) {
	t.Helper()
	table := pgx.Identifier{newTable(t, pool)}.Sanitize()
	_, err := pool.Exec(context.Background(), `CREATE TABLE `+table+` (key text NOT NULL)`)
	require.NoError(t, err, "creating the effects table")
	return table, func(key string) int {
		t.Helper()
		var n int
		err := pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table+` WHERE key = $1`, key).Scan(&n)
		require.NoError(t, err, "counting the effects of %q", key)
		return n
	}
}

// effect returns work that writes one row for key in the transaction of
// CompleteTx, then returns err.
func effect(table, key string, err error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		tx, ok := pgstore.Tx(ctx)
		if !ok {
			return errors.New("work got no transaction")
		}
		if _, e := tx.Exec(ctx, `INSERT INTO `+table+` (key) VALUES ($1)`, key); e != nil {
			return e
		}
		return err
	}
}

func TestCompleteTx(t *testing.T) {
	ctx := context.Background()
	s, pool := newStore(t, pgstore.Options{})
	table := tableName(t, s)
	effects, count := newEffects(t, pool)
	errWork := errors.New("work failed")

	t.Run("commits the effect and the completion", func(t *testing.T) {
		mustClaim(t, s, "ok", "a", time.Minute, beecloud.ClaimOK)
		require.NoError(t, s.CompleteTx(ctx, "ok", "a", effect(effects, "ok", nil)), "CompleteTx")
		assert.Equal(t, 1, count("ok"), "effects")
		mustClaim(t, s, "ok", "b", time.Minute, beecloud.ClaimDone)
	})
	t.Run("work fails", func(t *testing.T) {
		mustClaim(t, s, "fail", "a", time.Minute, beecloud.ClaimOK)
		require.ErrorIs(t, s.CompleteTx(ctx, "fail", "a", effect(effects, "fail", errWork)), errWork, "CompleteTx")
		assert.Equal(t, 0, count("fail"), "effects (want them rolled back)")
		// The claim is still a's, to release.
		mustClaim(t, s, "fail", "b", time.Minute, beecloud.ClaimBusy)
		require.NoError(t, s.Release(ctx, "fail", "a"), "Release")
		mustClaim(t, s, "fail", "b", time.Minute, beecloud.ClaimOK)
	})
	t.Run("work panics", func(t *testing.T) {
		mustClaim(t, s, "panic", "a", time.Minute, beecloud.ClaimOK)
		assert.PanicsWithValue(t, "boom", func() {
			_ = s.CompleteTx(ctx, "panic", "a", func(ctx context.Context) error {
				assert.NoError(t, effect(effects, "panic", nil)(ctx), "effect")
				panic("boom")
			})
		}, "CompleteTx; want the panic of work to go on")
		assert.Equal(t, 0, count("panic"), "effects (want them rolled back)")
		mustClaim(t, s, "panic", "b", time.Minute, beecloud.ClaimBusy)
	})
	t.Run("work fails in SQL", func(t *testing.T) {
		mustClaim(t, s, "sql", "a", time.Minute, beecloud.ClaimOK)
		err := s.CompleteTx(ctx, "sql", "a", func(ctx context.Context) error {
			tx, _ := pgstore.Tx(ctx)
			if err := effect(effects, "sql", nil)(ctx); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `SELECT 1/0`)
			return err
		})
		// PostgreSQL's division_by_zero, whatever the server's language.
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr, "CompleteTx")
		require.Equal(t, "22012", pgErr.Code, "CompleteTx: SQLSTATE of %v; want division_by_zero", err)
		assert.Equal(t, 0, count("sql"), "effects (want them rolled back)")
	})
	t.Run("ctx ends during work", func(t *testing.T) {
		mustClaim(t, s, "cancel", "a", time.Minute, beecloud.ClaimOK)
		cctx, cancel := context.WithCancel(ctx)
		err := s.CompleteTx(cctx, "cancel", "a", func(ctx context.Context) error {
			if err := effect(effects, "cancel", nil)(ctx); err != nil {
				return err
			}
			cancel()
			return nil
		})
		require.Error(t, err, "CompleteTx with a cancelled context")
		assert.Equal(t, 0, count("cancel"), "effects (want them rolled back)")
		mustClaim(t, s, "cancel", "b", time.Minute, beecloud.ClaimBusy)
	})
	t.Run("claim taken over", func(t *testing.T) {
		mustClaim(t, s, "lost", "a", 20*time.Millisecond, beecloud.ClaimOK)
		waitExpired(t, pool, table, "lost")
		mustClaim(t, s, "lost", "b", time.Minute, beecloud.ClaimOK)
		require.ErrorIs(t, s.CompleteTx(ctx, "lost", "a", effect(effects, "lost", nil)), beecloud.ErrClaimLost, "CompleteTx by the old holder")
		assert.Equal(t, 0, count("lost"), "effects (want them rolled back)")
		mustClaim(t, s, "lost", "c", time.Minute, beecloud.ClaimBusy)
		require.NoError(t, s.CompleteTx(ctx, "lost", "b", effect(effects, "lost", nil)), "CompleteTx by the new holder")
		assert.Equal(t, 1, count("lost"), "effects")
	})
	t.Run("already done", func(t *testing.T) {
		mustClaim(t, s, "done", "a", time.Minute, beecloud.ClaimOK)
		require.NoError(t, s.Complete(ctx, "done", "a"), "Complete")
		for _, tok := range []string{"a", "b"} {
			require.ErrorIs(t, s.CompleteTx(ctx, "done", tok, effect(effects, "done", nil)), beecloud.ErrClaimLost, "CompleteTx(%q) of a done key", tok)
		}
		assert.Equal(t, 0, count("done"), "effects (want them rolled back)")
	})
	t.Run("claim ran out unclaimed", func(t *testing.T) {
		// Nobody else holds it: the slow holder still completes.
		mustClaim(t, s, "late", "a", time.Millisecond, beecloud.ClaimOK)
		waitExpired(t, pool, table, "late")
		require.NoError(t, s.CompleteTx(ctx, "late", "a", effect(effects, "late", nil)), "CompleteTx")
		mustClaim(t, s, "late", "b", time.Minute, beecloud.ClaimDone)
		// Even after Cleanup deleted the run-out claim.
		mustClaim(t, s, "gone", "a", time.Millisecond, beecloud.ClaimOK)
		waitExpired(t, pool, table, "gone")
		_, err := s.Cleanup(ctx)
		require.NoError(t, err, "Cleanup")
		require.NoError(t, s.CompleteTx(ctx, "gone", "a", effect(effects, "gone", nil)), "CompleteTx after Cleanup")
		mustClaim(t, s, "gone", "b", time.Minute, beecloud.ClaimDone)
	})
	t.Run("the transaction is CompleteTx's", func(t *testing.T) {
		_, ok := pgstore.Tx(ctx)
		assert.False(t, ok, "Tx(context.Background()) reports a transaction")
		mustClaim(t, s, "owned", "a", time.Minute, beecloud.ClaimOK)
		err := s.CompleteTx(ctx, "owned", "a", func(ctx context.Context) error {
			tx, _ := pgstore.Tx(ctx)
			require.ErrorIs(t, tx.Commit(ctx), pgstore.ErrTxOwned, "Commit")
			require.ErrorIs(t, tx.Rollback(ctx), pgstore.ErrTxOwned, "Rollback")
			// A savepoint is work's own.
			sp, err := tx.Begin(ctx)
			if err != nil {
				return err
			}
			if _, err := sp.Exec(ctx, `INSERT INTO `+effects+` (key) VALUES ('owned-undone')`); err != nil {
				return err
			}
			if err := sp.Rollback(ctx); err != nil {
				return err
			}
			return effect(effects, "owned", nil)(ctx)
		})
		require.NoError(t, err, "CompleteTx")
		assert.Equal(t, 1, count("owned"), "effects")
		assert.Equal(t, 0, count("owned-undone"), "effects written in the savepoint (want them rolled back)")
	})
	t.Run("bad arguments", func(t *testing.T) {
		var zero pgstore.Store
		called := false
		work := func(context.Context) error { called = true; return nil }
		require.Error(t, zero.CompleteTx(ctx, "k", "t", work), "zero Store: CompleteTx")
		require.Error(t, s.CompleteTx(ctx, strings.Repeat("k", 513), "t", work), "CompleteTx with a long key")
		assert.False(t, called, "work was called despite the error")
	})
}

// TestCompleteTxRace has the holder whose lease ran out and the delivery
// that took the claim over complete at once, many times: exactly one
// commits each time, and it is the one that holds the claim.
func TestCompleteTxRace(t *testing.T) {
	ctx := context.Background()
	// Each CompleteTx holds a connection while its work runs: 2 per key,
	// and the claims need some too.
	pool := newPoolSize(t, 50)
	s := pgstore.New(pool, &pgstore.Options{Table: newTable(t, pool)})
	require.NoError(t, s.CreateSchema(ctx), "CreateSchema")
	table := tableName(t, s)
	effects, count := newEffects(t, pool)
	const keys = 20
	var wg sync.WaitGroup
	errs := make([][2]error, keys)
	takenOver := make(chan struct{})
	// A check that stops the test early still ends the old holders' work,
	// so that their connections go back to the pool, which closes at the
	// end of the test.
	var takeOver sync.Once
	defer takeOver.Do(func() { close(takenOver) })
	for i := range keys {
		key := fmt.Sprint("race", i)
		mustClaim(t, s, key, "old", 20*time.Millisecond, beecloud.ClaimOK)
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The old holder's work starts while it holds the claim and
			// ends after the new one took it over.
			errs[i][0] = s.CompleteTx(ctx, key, "old", func(ctx context.Context) error {
				<-takenOver
				return effect(effects, key, nil)(ctx)
			})
		}()
	}
	for i := range keys {
		waitExpired(t, pool, table, fmt.Sprint("race", i))
	}
	for i := range keys {
		mustClaim(t, s, fmt.Sprint("race", i), "new", time.Minute, beecloud.ClaimOK)
	}
	for i := range keys {
		key := fmt.Sprint("race", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i][1] = s.CompleteTx(ctx, key, "new", effect(effects, key, nil))
		}()
	}
	takeOver.Do(func() { close(takenOver) })
	wg.Wait()
	for i := range keys {
		key := fmt.Sprint("race", i)
		assert.Equal(t, 1, count(key), "%s: effects", key)
		require.ErrorIs(t, errs[i][0], beecloud.ErrClaimLost, "%s: CompleteTx by the old holder", key)
		assert.NoError(t, errs[i][1], "%s: CompleteTx by the new holder", key)
	}
}

// newPoolSize is newPool with at most maxConns connections.
func newPoolSize(t testing.TB, maxConns int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn(t))
	require.NoError(t, err, "pgxpool.ParseConfig")
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err, "pgxpool.NewWithConfig")
	t.Cleanup(pool.Close)
	return pool
}

// TestCompleteTxLeavesClaimsFree checks that a claim held by a delivery
// whose work runs in CompleteTx answers other deliveries busy at once:
// the key's row is locked only while the completion is recorded.
func TestCompleteTxLeavesClaimsFree(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, pgstore.Options{})
	mustClaim(t, s, "k", "a", time.Minute, beecloud.ClaimOK)
	inWork, finish := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.CompleteTx(ctx, "k", "a", func(context.Context) error {
			close(inWork)
			<-finish
			return nil
		})
	}()
	<-inWork
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	busy, errBusy := s.Claim(cctx, "k", "b", time.Minute)
	// The holder's renewal goes through too.
	renewed, errRenewed := s.Claim(cctx, "k", "a", time.Minute)
	// The work ends before any check can stop the test, so that no
	// connection stays taken.
	close(finish)
	require.NoError(t, <-done, "CompleteTx")
	require.NoError(t, errBusy, "Claim during work")
	assert.Equal(t, beecloud.ClaimBusy, busy, "Claim during work")
	require.NoError(t, errRenewed, "renewal during work")
	assert.Equal(t, beecloud.ClaimOK, renewed, "renewal during work")
	mustClaim(t, s, "k", "b", time.Minute, beecloud.ClaimDone)
}
