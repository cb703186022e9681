package beecloudtest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// The sandbox serves BeeCloud's REST API at its URL. FailNext makes the
// next calls misbehave: here the answer to a refund is lost after the
// sandbox made it, and the client finds the refund instead of sending it
// twice.
func ExampleSandbox_FailNext() {
	cfg := beecloud.Config{
		AppID:        "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
		AppSecret:    "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
		MasterSecret: "506371c7-b095-45da-bfce-9ae857c41a85",
	}
	sb := beecloudtest.NewSandbox(beecloudtest.App{Config: cfg})
	defer sb.Close()
	params, _ := cfg.Params(beecloud.Order{Title: "测试", Amount: 150, OutTradeNo: "order0001"})
	if _, err := sb.Pay(cfg.AppID, params, beecloud.ChannelAli); err != nil {
		fmt.Println(err)
		return
	}

	client := &beecloud.Client{Config: cfg, BaseURL: sb.URL}
	ctx := context.Background()

	sb.FailNext(beecloudtest.Fault{Method: "POST", Path: "/2/rest/refund", LoseAnswer: true})
	r, err := client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: "order0001", RefundNo: beecloud.NewRefundNo(time.Now()), Amount: 50})
	fmt.Println("recovered:", r.Recovered, err, "refunds made:", len(sb.Refunds()))

	sb.FailNext(beecloudtest.Fault{Status: 503, Times: 4}) // every attempt of the next query
	_, err = client.Bills(ctx, beecloud.BillQuery{OutTradeNo: "order0001"})
	var apiErr *beecloud.APIError
	fmt.Println("query failed:", err != nil, "with a result_code:", errors.As(err, &apiErr))

	bills, _ := client.Bills(ctx, beecloud.BillQuery{OutTradeNo: "order0001"})
	fmt.Println(bills[0].Amount, bills[0].Paid, bills[0].Refunded)
	// Output:
	// recovered: true <nil> refunds made: 1
	// query failed: true with a result_code: false
	// 150 true true
}
