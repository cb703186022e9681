package beecloud_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// A payment made by the server: a WeChat QR code (WX_NATIVE) whose
// code_url the shop draws itself, paid, then its webhook.
func ExampleClient_CreateBill() {
	cfg := beecloud.Config{
		AppID:        "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
		AppSecret:    "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
		MasterSecret: "506371c7-b095-45da-bfce-9ae857c41a85",
	}
	h := &beecloud.WebhookHandler{
		Apps: beecloud.Apps{cfg},
		Handle: func(ctx context.Context, n *beecloud.Notification) error {
			fmt.Printf("order %s paid: %d 分 through %s\n", n.TransactionID, n.TransactionFee, n.SubChannelType)
			return nil
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	webhook := httptest.NewServer(h)
	defer webhook.Close()
	sb := beecloudtest.NewSandbox(beecloudtest.App{Config: cfg, WebhookURL: webhook.URL})
	defer sb.Close()
	client := &beecloud.Client{Config: cfg, BaseURL: sb.URL}
	ctx := context.Background()

	// Every problem of a request is named before anything is sent.
	_, err := client.CreateBill(ctx, beecloud.BillRequest{Channel: beecloud.BillWxJSAPI, OutTradeNo: "order0001", Title: "咖啡"})
	var reqErr *beecloud.ValidationError
	if errors.As(err, &reqErr) {
		for _, p := range reqErr.Problems {
			fmt.Println("refused:", p.Field)
		}
	}

	res, err := client.CreateBill(ctx, beecloud.BillRequest{Channel: beecloud.BillWxNative, OutTradeNo: "order0001", Title: "咖啡", Amount: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("QR code text:", strings.HasPrefix(res.CodeURL, sb.URL))

	// The buyer scans and pays (in the sandbox, MarkPaid stands for it).
	if _, err := sb.MarkPaid(res.CodeURL); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := sb.WaitDelivery(ctx, "order0001"); err != nil {
		fmt.Println(err)
	}
	// Output:
	// refused: total_fee
	// refused: openid
	// QR code text: true
	// order order0001 paid: 1 分 through WX_NATIVE
}
