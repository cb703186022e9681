package beecloud_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

func ExampleWebhookHandler() {
	cfg := beecloud.Config{
		AppID:        "afae2a33-c9cb-4139-88c9-af5c1df472e1",
		MasterSecret: "506371c7-b095-45da-bfce-9ae857c41a85",
	}
	orders := map[string]int64{"bc1234567": 150} // out_trade_no → amount in 分
	refunds := map[string]int64{}                // refund_no → amount asked for

	h := &beecloud.WebhookHandler{
		Apps: beecloud.Apps{cfg},
		// A payment's amount must be the one the order was made for, and a
		// refund's the one the merchant asked for.
		ExpectedAmount: func(ctx context.Context, n *beecloud.Notification) (int64, error) {
			records := orders
			if n.TransactionType == beecloud.TransactionRefund {
				records = refunds
			}
			amount, ok := records[n.TransactionID]
			if !ok {
				return 0, fmt.Errorf("no %s record %q", n.TransactionType, n.TransactionID)
			}
			return amount, nil
		},
		// Runs once per successful transaction, however often BeeCloud
		// sends it.
		Handle: func(ctx context.Context, n *beecloud.Notification) error {
			if n.TransactionType != beecloud.TransactionPay {
				return nil // refunds and the like: nothing to grant
			}
			fmt.Printf("order %s paid: %d 分 via %s\n", n.TransactionID, n.TransactionFee, n.SubChannelType)
			return nil
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	// At startup: a misconfigured handler fails here, not in production.
	if err := h.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/beecloud/webhook", h)

	// What BeeCloud does when the buyer has paid, twice.
	paid := beecloudtest.Paid(beecloud.Order{Title: "测试", Amount: 150, OutTradeNo: "bc1234567", InstantChannel: beecloud.ChannelAli})
	for range 2 {
		w := httptest.NewRecorder()
		r := beecloudtest.NewRequest(cfg, paid)
		r.URL.Path = "/beecloud/webhook"
		mux.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Body.String())
	}
	// At shutdown, after the http.Server's: completions still being
	// recorded (the store was down) get their chance.
	if err := h.Shutdown(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// order bc1234567 paid: 150 分 via ALI_WEB
	// 200 success
	// 200 success
}

func ExampleConfig_ParseNotification() {
	cfg := beecloud.Config{
		AppID:        "afae2a33-c9cb-4139-88c9-af5c1df472e1",
		MasterSecret: "506371c7-b095-45da-bfce-9ae857c41a85",
	}
	// The raw body, exactly as received.
	body := []byte(`{"signature":"e204d63775d3d29dafe6788a0a978755","timestamp":1426817510111,` +
		`"channel_type":"BC","sub_channel_type":"BC_NATIVE","transaction_type":"PAY",` +
		`"transaction_id":"5f0c1466d8bd11e6b66d00163e005bb3","transaction_fee":1,"trade_success":true,` +
		`"optional":{"agent_id":"Alice"}}`)

	n, err := cfg.ParseNotification(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(n.TransactionType, n.TransactionID, n.TransactionFee, n.Optional["agent_id"])

	// A changed fee breaks the signature.
	tampered := bytes.Replace(body, []byte(`"transaction_fee":1,`), []byte(`"transaction_fee":100,`), 1)
	_, err = cfg.ParseNotification(tampered)
	fmt.Println(errors.Is(err, beecloud.ErrBadSignature))
	// Output:
	// PAY 5f0c1466d8bd11e6b66d00163e005bb3 1 Alice
	// true
}

func ExampleApps() {
	// During a Master Secret rotation, accept both the new secret and the old.
	apps := beecloud.Apps{
		{AppID: "afae2a33-c9cb-4139-88c9-af5c1df472e1", MasterSecret: "new-master-secret"},
		{AppID: "afae2a33-c9cb-4139-88c9-af5c1df472e1", MasterSecret: "506371c7-b095-45da-bfce-9ae857c41a85"},
	}
	old := beecloudtest.NotificationBody(apps[1], beecloudtest.Paid(beecloud.Order{Title: "x", Amount: 1, OutTradeNo: "bc1234567"}))
	n, err := apps.ParseNotification(old)
	fmt.Println(n.TransactionID, err)
	// Output:
	// bc1234567 <nil>
}
