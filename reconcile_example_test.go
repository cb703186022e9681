package beecloud_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// A shop whose webhooks do not arrive learns of the payment by asking
// BeeCloud. Here the sandbox plays BeeCloud and drops the webhook.
func ExampleWebhookHandler_Reconcile() {
	cfg := beecloud.Config{
		AppID:        "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
		AppSecret:    "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
		MasterSecret: "506371c7-b095-45da-bfce-9ae857c41a85",
	}
	h := &beecloud.WebhookHandler{
		Apps: beecloud.Apps{cfg},
		Handle: func(ctx context.Context, n *beecloud.Notification) error {
			fmt.Printf("order %s paid: %d 分 via %s\n", n.TransactionID, n.TransactionFee, n.SubChannelType)
			return nil
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	webhook := httptest.NewServer(h)
	defer webhook.Close()
	sb := beecloudtest.NewSandbox(beecloudtest.App{Config: cfg, WebhookURL: webhook.URL})
	defer sb.Close()

	sb.DropWebhook("order0001")
	params, _ := cfg.Params(beecloud.Order{Title: "测试", Amount: 150, OutTradeNo: "order0001"})
	if _, err := sb.Pay(cfg.AppID, params, beecloud.ChannelAli); err != nil {
		fmt.Println(err)
		return
	}

	client := &beecloud.Client{Config: cfg, BaseURL: sb.URL}
	for range 2 {
		paid, err := h.Reconcile(context.Background(), client, "order0001")
		fmt.Println(paid, err)
	}
	// Output:
	// order order0001 paid: 150 分 via ALI_WEB
	// true <nil>
	// true <nil>
}

// A shop sweeps its orders still unpaid a while after checkout, say every
// minute from a ticker, for those made 10 minutes to 2 days ago: Sweep
// lists the paid bills made since the oldest of them and matches them.
func ExampleWebhookHandler_Sweep() {
	cfg := beecloud.Config{
		AppID:        "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
		AppSecret:    "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
		MasterSecret: "506371c7-b095-45da-bfce-9ae857c41a85",
	}
	h := &beecloud.WebhookHandler{
		Apps:   beecloud.Apps{cfg},
		Handle: func(ctx context.Context, n *beecloud.Notification) error { return nil },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	sb := beecloudtest.NewSandbox(beecloudtest.App{Config: cfg}) // an app without webhooks
	defer sb.Close()
	params, _ := cfg.Params(beecloud.Order{Title: "测试", Amount: 150, OutTradeNo: "order0001"})
	if _, err := sb.Pay(cfg.AppID, params, beecloud.ChannelAli); err != nil {
		fmt.Println(err)
		return
	}

	client := &beecloud.Client{Config: cfg, BaseURL: sb.URL}
	unpaidOrders := func(since, until time.Time) []string { return []string{"order0001", "order0002", "order0003"} }

	since := time.Now().Add(-48 * time.Hour)
	pending := unpaidOrders(since, time.Now().Add(-10*time.Minute))
	res := h.Sweep(context.Background(), client, pending, beecloud.SweepOptions{Since: since, Period: time.Minute})
	fmt.Println("paid:", res.Paid, "unpaid:", res.Unpaid, "err:", res.Err())
	// Output:
	// paid: [order0001] unpaid: [order0002 order0003] err: <nil>
}

// A partial refund, then the refund's webhook: TransactionType REFUND,
// TransactionID the refund number.
func ExampleClient_Refund() {
	cfg := beecloud.Config{
		AppID:        "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
		AppSecret:    "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
		MasterSecret: "506371c7-b095-45da-bfce-9ae857c41a85",
	}
	h := &beecloud.WebhookHandler{
		Apps: beecloud.Apps{cfg},
		Handle: func(ctx context.Context, n *beecloud.Notification) error {
			if n.TransactionType == beecloud.TransactionRefund {
				fmt.Printf("refund of %d 分 done\n", n.TransactionFee)
			}
			return nil
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	webhook := httptest.NewServer(h)
	defer webhook.Close()
	sb := beecloudtest.NewSandbox(beecloudtest.App{Config: cfg, WebhookURL: webhook.URL})
	defer sb.Close()
	params, _ := cfg.Params(beecloud.Order{Title: "测试", Amount: 150, OutTradeNo: "order0001"})
	if _, err := sb.Pay(cfg.AppID, params, beecloud.ChannelAli); err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if _, err := sb.WaitDelivery(ctx, "order0001"); err != nil { // the PAY webhook
		fmt.Println(err)
		return
	}

	client := &beecloud.Client{Config: cfg, BaseURL: sb.URL}
	// Keep the refund number with the order before refunding: it finds a
	// refund whose answer was lost, and it names the refund's webhook.
	refundNo := beecloud.NewRefundNo(time.Now())
	if _, err := client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: "order0001", RefundNo: refundNo, Amount: 50}); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := sb.WaitDelivery(ctx, "order0001"); err != nil { // the REFUND webhook
		fmt.Println(err)
		return
	}

	// 100 分 are left to refund.
	_, err := client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: "order0001", RefundNo: beecloud.NewRefundNo(time.Now()), Amount: 101})
	var apiErr *beecloud.APIError
	if errors.As(err, &apiErr) {
		fmt.Println("refused:", apiErr.Code, apiErr.Code == beecloud.CodeRefundAmountTooLarge)
	}
	// Output:
	// refund of 50 分 done
	// refused: REFUND_AMOUNT_TOO_LARGE true
}
