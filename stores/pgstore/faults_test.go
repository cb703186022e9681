package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/stores/pgstore"
	"github.com/paybutton/beecloud/storetest"
	"github.com/stretchr/testify/require"
)

// faultPoolSize is each handler instance's pool in the fault tests. A few
// connections carry the load; more would, after every cut, make the
// server start that many backends at once, which on a loaded machine
// outlasts the connect timeout, so that every connection attempt fails
// and none recovers.
const faultPoolSize = 6

// TestFaults runs the fault-injection suite: three handlers on one
// PostgreSQL of the test's own, through a proxy that cuts their
// connections, the server stopped (immediate mode, as a crash) and started
// twice. The merchant's effect is a row written in CompleteTx's
// transaction, and the effects are counted in that table.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("fault-injection suite: skipped with -short")
	}
	ctx := context.Background()
	srv := startPostgres(t)
	proxy := storetest.NewProxy(t, srv.addr())
	// The ledger is read directly, not through the proxy.
	ledger := srv.pool(t, srv.addr(), 10)
	opts := pgstore.Options{Table: "beecloud_webhooks"}
	require.NoError(t, pgstore.New(ledger, &opts).CreateSchema(ctx), "CreateSchema")
	_, err := ledger.Exec(ctx, `CREATE TABLE effects (transaction_id text NOT NULL)`)
	require.NoError(t, err, "creating the effects table")
	storetest.RunFaults(t, storetest.FaultOptions{
		NewInstance: func(t *testing.T) beecloud.Store {
			return pgstore.New(srv.pool(t, proxy.Addr(), faultPoolSize), &opts)
		},
		Proxy:        proxy,
		RestartCount: 2,
		Restart: func(n int) error {
			if err := srv.restart(300 * time.Millisecond); err != nil {
				return fmt.Errorf("restart %d: %w", n, err)
			}
			return nil
		},
		Effect: func(ctx context.Context, n *beecloud.Notification) error {
			tx, ok := pgstore.Tx(ctx)
			if !ok {
				return errors.New("Handle was not called inside CompleteTx")
			}
			_, err := tx.Exec(ctx, `INSERT INTO effects (transaction_id) VALUES ($1)`, n.TransactionID)
			return err
		},
		Effects: func(ctx context.Context, id string) (int, error) {
			var n int
			err := ledger.QueryRow(ctx, `SELECT count(*) FROM effects WHERE transaction_id = $1`, id).Scan(&n)
			return n, err
		},
		EffectRollsBack: true,
	})
}

// TestFaultsPlainStore runs the fault-injection suite through the plain
// beecloud.Store path, Claim then Handle then Complete, with the effect
// outside the database (in the test's memory), as a merchant whose effect
// is not in PostgreSQL has it: the handler's retried completion and
// renewed claims must keep it exactly once through the same outages.
func TestFaultsPlainStore(t *testing.T) {
	if testing.Short() {
		t.Skip("fault-injection suite: skipped with -short")
	}
	srv := startPostgres(t)
	proxy := storetest.NewProxy(t, srv.addr())
	opts := pgstore.Options{Table: "beecloud_webhooks"}
	require.NoError(t, pgstore.New(srv.pool(t, srv.addr(), 2), &opts).CreateSchema(context.Background()), "CreateSchema")
	storetest.RunFaults(t, storetest.FaultOptions{
		NewInstance: func(t *testing.T) beecloud.Store {
			// Hidden CompleteTx: the handler takes the plain path.
			return struct{ beecloud.Store }{pgstore.New(srv.pool(t, proxy.Addr(), faultPoolSize), &opts)}
		},
		Proxy:        proxy,
		RestartCount: 2,
		Restart: func(n int) error {
			if err := srv.restart(300 * time.Millisecond); err != nil {
				return fmt.Errorf("restart %d: %w", n, err)
			}
			return nil
		},
		Transactions: 150, // the figure of the outage that doubled 16 before
		Spread:       6 * time.Second,
	})
}
