package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/stores/pgstore"
)

// Every instance of the server opens its own pool to the one database,
// creates the table if needed, and shares it through its WebhookHandler.
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("BEECLOUD_POSTGRES"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	store := pgstore.New(pool, nil)
	if err := store.CreateSchema(ctx); err != nil {
		log.Fatal(err)
	}

	http.Handle("/beecloud/webhook", &beecloud.WebhookHandler{
		Apps: beecloud.Apps{{
			AppID:        os.Getenv("BEECLOUD_APP_ID"),
			MasterSecret: os.Getenv("BEECLOUD_MASTER_SECRET"),
		}},
		Store: store,
		ExpectedAmount: func(ctx context.Context, n *beecloud.Notification) (int64, error) {
			var amount int64
			err := pool.QueryRow(ctx, `SELECT amount FROM orders WHERE out_trade_no = $1`, n.TransactionID).Scan(&amount)
			return amount, err
		},
		Handle: func(ctx context.Context, n *beecloud.Notification) error {
			if n.TransactionType != beecloud.TransactionPay || !n.TradeSuccess {
				return nil // refunds and transfers: not handled here
			}
			// The handler runs Handle inside store.CompleteTx: the order
			// is marked paid in the transaction that also records the
			// webhook as handled, so both happen or neither does.
			tx, ok := pgstore.Tx(ctx)
			if !ok {
				return errors.New("webhook: no pgstore transaction")
			}
			_, err := tx.Exec(ctx, `UPDATE orders SET paid = true WHERE out_trade_no = $1`, n.TransactionID)
			return err
		},
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}

// SchemaSQL needs no connection: print it into a migration file. The
// table here is in a schema of its own.
func ExampleStore_SchemaSQL() {
	store := pgstore.New(nil, &pgstore.Options{Table: "billing.webhook_claims"})
	fmt.Print(store.SchemaSQL())
	// Output:
	// CREATE TABLE IF NOT EXISTS "billing"."webhook_claims" (
	// 	key        bytea       PRIMARY KEY,
	// 	token      bytea       NOT NULL,
	// 	done       boolean     NOT NULL,
	// 	expires_at timestamptz NOT NULL
	// );
	// CREATE INDEX IF NOT EXISTS "webhook_claims_expires_at_idx" ON "billing"."webhook_claims" (expires_at);
}
