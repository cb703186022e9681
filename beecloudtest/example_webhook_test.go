package beecloudtest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// A test of a shop's webhook endpoint: BeeCloud reports a payment.
func ExampleNewRequest() {
	cfg := beecloud.Config{AppID: "afae2a33-c9cb-4139-88c9-af5c1df472e1", MasterSecret: "test-master-secret"}
	order := beecloud.Order{Title: "测试商品", Amount: 1990, OutTradeNo: "bc20260101x1"}

	h := &beecloud.WebhookHandler{
		Apps: beecloud.Apps{cfg},
		Handle: func(ctx context.Context, n *beecloud.Notification) error {
			fmt.Println("paid:", n.TransactionID, n.TransactionFee)
			return nil
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, beecloudtest.NewRequest(cfg, beecloudtest.Paid(order)))
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// paid: bc20260101x1 1990
	// 200 success
}

// A body signed for another app's secret is refused.
func ExampleNotificationBody() {
	cfg := beecloud.Config{AppID: "afae2a33-c9cb-4139-88c9-af5c1df472e1", MasterSecret: "test-master-secret"}
	attacker := beecloud.Config{AppID: cfg.AppID, MasterSecret: "guessed"}
	body := beecloudtest.NotificationBody(attacker, beecloudtest.Paid(beecloud.Order{Title: "x", Amount: 1, OutTradeNo: "bc20260101x1"}))
	_, err := cfg.ParseNotification(body)
	fmt.Println(err)
	// Output:
	// beecloud: bad signature: signature does not match app afae2a33-c9cb-4139-88c9-af5c1df472e1
}
