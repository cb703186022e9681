package beecloudtest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// A test runs the pay flow against a sandbox: the shop's WebhookHandler
// receives a signed webhook, handles it and answers success.
func ExampleSandbox() {
	cfg := beecloud.Config{
		AppID:        "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
		AppSecret:    "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
		MasterSecret: "506371c7-b095-45da-bfce-9ae857c41a85",
	}
	hook := httptest.NewServer(&beecloud.WebhookHandler{
		Apps: beecloud.Apps{cfg},
		Handle: func(ctx context.Context, n *beecloud.Notification) error {
			fmt.Println("webhook:", n.TransactionID, n.TransactionFee, n.SubChannelType)
			return nil
		},
	})
	defer hook.Close()

	sb := beecloudtest.NewSandbox(beecloudtest.App{Config: cfg, WebhookURL: hook.URL})
	defer sb.Close()
	cfg.ScriptURL = sb.ScriptURL() // pages rendered with cfg load the sandbox's button script

	// In a browser test the buyer clicks through the menu and the pay page;
	// Pay does the same without a browser.
	params, _ := cfg.Params(beecloud.Order{Title: "测试商品", Amount: 150, OutTradeNo: "order0001"})
	bill, err := sb.Pay(cfg.AppID, params, beecloud.ChannelAli)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, _ := sb.WaitDelivery(ctx, "order0001")
	fmt.Println("paid:", bill.State, "acknowledged:", d.Acknowledged)
	// Output:
	// webhook: order0001 150 ALI_WEB
	// paid: paid acknowledged: true
}

// A page whose sign is wrong gets BeeCloud's error; Pay returns it.
func ExampleSandbox_Pay_signMismatch() {
	cfg := beecloud.Config{AppID: "my-app", AppSecret: "right-secret"}
	sb := beecloudtest.NewSandbox(beecloudtest.App{Config: cfg})
	defer sb.Close()

	signedElsewhere := beecloud.Config{AppID: "my-app", AppSecret: "wrong-secret"}
	params, _ := signedElsewhere.Params(beecloud.Order{Title: "test", Amount: 1, OutTradeNo: "test0001"})
	_, err := sb.Pay(cfg.AppID, params, "")
	fmt.Println(errors.Is(err, beecloudtest.ErrSignMismatch), len(sb.Payments()))
	// Output: true 0
}

// BeeCloud sometimes sends a webhook again after the shop answered
// success. Redeliver does so on demand, to test that the shop handles the
// payment once: WebhookHandler acknowledges the duplicate without running
// Handle again.
func ExampleSandbox_Redeliver() {
	cfg := beecloud.Config{AppID: "my-app", AppSecret: "app-secret", MasterSecret: "master-secret"}
	var handled atomic.Int32 // Handle runs on the server's goroutines
	hook := httptest.NewServer(&beecloud.WebhookHandler{
		Apps:   beecloud.Apps{cfg},
		Handle: func(context.Context, *beecloud.Notification) error { handled.Add(1); return nil },
	})
	defer hook.Close()
	sb := beecloudtest.NewSandbox(beecloudtest.App{Config: cfg, WebhookURL: hook.URL})
	defer sb.Close()

	params, _ := cfg.Params(beecloud.Order{Title: "test", Amount: 1, OutTradeNo: "test0001"})
	if _, err := sb.Pay(cfg.AppID, params, beecloud.ChannelWxMP); err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, _ := sb.WaitDelivery(ctx, "test0001")
	again, err := sb.Redeliver(ctx, "test0001")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("first:", first.Acknowledged, "duplicate:", again.Duplicate, again.Acknowledged, again.Attempts[0].Response)
	fmt.Println("handled:", handled.Load())
	// Output:
	// first: true duplicate: true true success
	// handled: 1
}
