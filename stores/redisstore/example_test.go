package redisstore_test

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/stores/redisstore"
	"github.com/redis/go-redis/v9"
)

// Every instance of the server has its own client to the one Redis and
// shares it through its WebhookHandler.
func Example() {
	opts, err := redis.ParseURL(os.Getenv("BEECLOUD_REDIS")) // redis://localhost:6379/0
	if err != nil {
		log.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	// New refuses a Redis that can lose an acknowledged write: run it with
	// appendonly yes, appendfsync always and maxmemory-policy noeviction.
	store, err := redisstore.New(context.Background(), rdb, nil)
	if err != nil {
		log.Fatal(err)
	}

	http.Handle("/beecloud/webhook", &beecloud.WebhookHandler{
		Apps: beecloud.Apps{{
			AppID:        os.Getenv("BEECLOUD_APP_ID"),
			MasterSecret: os.Getenv("BEECLOUD_MASTER_SECRET"),
		}},
		Store: store,
		Handle: func(ctx context.Context, n *beecloud.Notification) error {
			if n.TransactionType != "PAY" || !n.TradeSuccess {
				return nil // refunds and transfers: not handled here
			}
			// Runs once per transaction, whichever instance receives it.
			// Check n.TransactionFee against the order (or set
			// ExpectedAmount) before granting anything.
			log.Printf("paid: %s, %d 分", n.TransactionID, n.TransactionFee)
			return nil
		},
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
