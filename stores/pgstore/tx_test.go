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
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/stores/pgstore"
)

// newEffects creates a table where tests write the merchant's effect, one
// row per run of the work, and returns its quoted name and a function
// that counts the rows of a key.
func newEffects(t testing.TB, pool *pgxpool.Pool) (string, func(key string) int) {
	t.Helper()
	table := pgx.Identifier{newTable(t, pool)}.Sanitize()
	if _, err := pool.Exec(context.Background(), `CREATE TABLE `+table+` (key text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return table, func(key string) int {
		t.Helper()
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table+` WHERE key = $1`, key).Scan(&n); err != nil {
			t.Fatal(err)
		}
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
	effects, count := newEffects(t, pool)
	errWork := errors.New("work failed")

	t.Run("commits the effect and the completion", func(t *testing.T) {
		mustClaim(t, s, "ok", "a", time.Minute, beecloud.ClaimOK)
		if err := s.CompleteTx(ctx, "ok", "a", effect(effects, "ok", nil)); err != nil {
			t.Fatalf("CompleteTx: %v", err)
		}
		if n := count("ok"); n != 1 {
			t.Errorf("effects = %d; want 1", n)
		}
		mustClaim(t, s, "ok", "b", time.Minute, beecloud.ClaimDone)
	})
	t.Run("work fails", func(t *testing.T) {
		mustClaim(t, s, "fail", "a", time.Minute, beecloud.ClaimOK)
		if err := s.CompleteTx(ctx, "fail", "a", effect(effects, "fail", errWork)); !errors.Is(err, errWork) {
			t.Fatalf("CompleteTx = %v; want %v", err, errWork)
		}
		if n := count("fail"); n != 0 {
			t.Errorf("effects = %d; want 0 (rolled back)", n)
		}
		// The claim is still a's, to release.
		mustClaim(t, s, "fail", "b", time.Minute, beecloud.ClaimBusy)
		if err := s.Release(ctx, "fail", "a"); err != nil {
			t.Fatal(err)
		}
		mustClaim(t, s, "fail", "b", time.Minute, beecloud.ClaimOK)
	})
	t.Run("work panics", func(t *testing.T) {
		mustClaim(t, s, "panic", "a", time.Minute, beecloud.ClaimOK)
		func() {
			defer func() {
				if r := recover(); r != "boom" {
					t.Errorf("recovered %v; want the panic of work to go on", r)
				}
			}()
			_ = s.CompleteTx(ctx, "panic", "a", func(ctx context.Context) error {
				if err := effect(effects, "panic", nil)(ctx); err != nil {
					t.Error(err)
				}
				panic("boom")
			})
		}()
		if n := count("panic"); n != 0 {
			t.Errorf("effects = %d; want 0 (rolled back)", n)
		}
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
		if err == nil || !strings.Contains(err.Error(), "division by zero") {
			t.Fatalf("CompleteTx = %v; want division by zero", err)
		}
		if n := count("sql"); n != 0 {
			t.Errorf("effects = %d; want 0 (rolled back)", n)
		}
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
		if err == nil {
			t.Fatal("CompleteTx with a cancelled context = nil; want an error")
		}
		if n := count("cancel"); n != 0 {
			t.Errorf("effects = %d; want 0 (rolled back)", n)
		}
		mustClaim(t, s, "cancel", "b", time.Minute, beecloud.ClaimBusy)
	})
	t.Run("claim taken over", func(t *testing.T) {
		mustClaim(t, s, "lost", "a", 20*time.Millisecond, beecloud.ClaimOK)
		time.Sleep(50 * time.Millisecond)
		mustClaim(t, s, "lost", "b", time.Minute, beecloud.ClaimOK)
		if err := s.CompleteTx(ctx, "lost", "a", effect(effects, "lost", nil)); !errors.Is(err, beecloud.ErrClaimLost) {
			t.Fatalf("CompleteTx by the old holder = %v; want ErrClaimLost", err)
		}
		if n := count("lost"); n != 0 {
			t.Errorf("effects = %d; want 0 (rolled back)", n)
		}
		mustClaim(t, s, "lost", "c", time.Minute, beecloud.ClaimBusy)
		if err := s.CompleteTx(ctx, "lost", "b", effect(effects, "lost", nil)); err != nil {
			t.Fatalf("CompleteTx by the new holder: %v", err)
		}
		if n := count("lost"); n != 1 {
			t.Errorf("effects = %d; want 1", n)
		}
	})
	t.Run("already done", func(t *testing.T) {
		mustClaim(t, s, "done", "a", time.Minute, beecloud.ClaimOK)
		if err := s.Complete(ctx, "done", "a"); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{"a", "b"} {
			if err := s.CompleteTx(ctx, "done", tok, effect(effects, "done", nil)); !errors.Is(err, beecloud.ErrClaimLost) {
				t.Errorf("CompleteTx(%q) of a done key = %v; want ErrClaimLost", tok, err)
			}
		}
		if n := count("done"); n != 0 {
			t.Errorf("effects = %d; want 0 (rolled back)", n)
		}
	})
	t.Run("claim ran out unclaimed", func(t *testing.T) {
		// Nobody else holds it: the slow holder still completes.
		mustClaim(t, s, "late", "a", time.Millisecond, beecloud.ClaimOK)
		time.Sleep(10 * time.Millisecond)
		if err := s.CompleteTx(ctx, "late", "a", effect(effects, "late", nil)); err != nil {
			t.Fatalf("CompleteTx: %v", err)
		}
		mustClaim(t, s, "late", "b", time.Minute, beecloud.ClaimDone)
		// Even after Cleanup deleted the run-out claim.
		mustClaim(t, s, "gone", "a", time.Millisecond, beecloud.ClaimOK)
		time.Sleep(10 * time.Millisecond)
		if _, err := s.Cleanup(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteTx(ctx, "gone", "a", effect(effects, "gone", nil)); err != nil {
			t.Fatalf("CompleteTx after cleanup: %v", err)
		}
		mustClaim(t, s, "gone", "b", time.Minute, beecloud.ClaimDone)
	})
	t.Run("the transaction is CompleteTx's", func(t *testing.T) {
		if _, ok := pgstore.Tx(ctx); ok {
			t.Error("Tx(context.Background()) reports a transaction")
		}
		mustClaim(t, s, "owned", "a", time.Minute, beecloud.ClaimOK)
		err := s.CompleteTx(ctx, "owned", "a", func(ctx context.Context) error {
			tx, _ := pgstore.Tx(ctx)
			if err := tx.Commit(ctx); !errors.Is(err, pgstore.ErrTxOwned) {
				t.Errorf("Commit = %v; want ErrTxOwned", err)
			}
			if err := tx.Rollback(ctx); !errors.Is(err, pgstore.ErrTxOwned) {
				t.Errorf("Rollback = %v; want ErrTxOwned", err)
			}
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
		if err != nil {
			t.Fatalf("CompleteTx: %v", err)
		}
		if n, m := count("owned"), count("owned-undone"); n != 1 || m != 0 {
			t.Errorf("effects = %d and %d; want 1 and 0 (savepoint rolled back)", n, m)
		}
	})
	t.Run("bad arguments", func(t *testing.T) {
		var zero pgstore.Store
		called := false
		work := func(context.Context) error { called = true; return nil }
		if err := zero.CompleteTx(ctx, "k", "t", work); err == nil {
			t.Error("zero Store: CompleteTx = nil; want an error")
		}
		if err := s.CompleteTx(ctx, strings.Repeat("k", 513), "t", work); err == nil {
			t.Error("CompleteTx with a long key = nil; want an error")
		}
		if called {
			t.Error("work was called despite the error")
		}
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
	if err := s.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	effects, count := newEffects(t, pool)
	const keys = 20
	var wg sync.WaitGroup
	errs := make([][2]error, keys)
	takenOver := make(chan struct{})
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
	time.Sleep(50 * time.Millisecond)
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
	close(takenOver)
	wg.Wait()
	for i := range keys {
		key := fmt.Sprint("race", i)
		if n := count(key); n != 1 {
			t.Errorf("%s: effects = %d; want 1", key, n)
		}
		if !errors.Is(errs[i][0], beecloud.ErrClaimLost) || errs[i][1] != nil {
			t.Errorf("%s: CompleteTx old, new = %v, %v; want ErrClaimLost, nil", key, errs[i][0], errs[i][1])
		}
	}
}

// newPoolSize is newPool with at most maxConns connections.
func newPoolSize(t testing.TB, maxConns int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
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
	if st, err := s.Claim(cctx, "k", "b", time.Minute); err != nil || st != beecloud.ClaimBusy {
		t.Errorf("Claim during work = %v, %v; want busy", st, err)
	}
	// The holder's renewal goes through too.
	if st, err := s.Claim(cctx, "k", "a", time.Minute); err != nil || st != beecloud.ClaimOK {
		t.Errorf("renewal during work = %v, %v; want ok", st, err)
	}
	close(finish)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mustClaim(t, s, "k", "b", time.Minute, beecloud.ClaimDone)
}
