package beecloud_test

import (
	"context"
	"fmt"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// Every paid bill of the last day, whatever their number: AllBills pages
// through them, 50 at a time, and yields each once.
func ExampleClient_AllBills() {
	cfg := beecloud.Config{
		AppID:     "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
		AppSecret: "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
	}
	sb := beecloudtest.NewSandbox(beecloudtest.App{Config: cfg})
	defer sb.Close()
	for i := range 120 {
		params, _ := cfg.Params(beecloud.Order{Title: "测试", Amount: 100, OutTradeNo: fmt.Sprintf("order%04d", i)})
		if _, err := sb.Pay(cfg.AppID, params, beecloud.ChannelAli); err != nil {
			fmt.Println(err)
			return
		}
	}

	client := &beecloud.Client{Config: cfg, BaseURL: sb.URL}
	var bills int
	var total int64
	for b, err := range client.AllBills(context.Background(), beecloud.BillQuery{PaidOnly: true, Since: time.Now().Add(-24 * time.Hour)}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		bills++
		total += b.Amount
	}
	fmt.Printf("%d bills, %d 分\n", bills, total)
	// Output:
	// 120 bills, 12000 分
}
