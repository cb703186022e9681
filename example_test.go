package beecloud_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/paybutton/beecloud"
)

// The public vector of the beecloud-button README.
func ExampleSign() {
	sign := beecloud.Sign(
		"c5d1cba1-5e3f-4ba0-941d-9b0a371fe719", // App ID
		"test",                                 // title
		1,                                      // amount in 分
		"test0001",                             // out_trade_no
		"39a7a518-9ac8-4a9e-87bc-7885f33cf18c", // App Secret
	)
	fmt.Println(sign)
	// Output: e68639606d2d0a99b2e2c8872729d004
}

func ExampleConfig_Params() {
	cfg := beecloud.Config{
		AppID:     "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
		AppSecret: "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
	}
	params, err := cfg.Params(beecloud.Order{
		Title:      "测试商品",
		Amount:     150, // ¥1.50
		OutTradeNo: "test0001",
		ReturnURL:  "https://shop.example.com/paid",
		Optional:   map[string]any{"user_id": 42},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	data, err := json.Marshal(params) // the data argument of BC.click
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(data))
	// Output: {"title":"测试商品","amount":150,"out_trade_no":"test0001","sign":"17c84366c2e68960ff284b56ef201a97","return_url":"https://shop.example.com/paid","optional":{"user_id":42}}
}

func ExampleOrder_Validate() {
	order := beecloud.Order{
		Title:      `"Special" offer`,
		Amount:     0,
		OutTradeNo: "2015-07-01",
	}
	err := order.Validate()
	fmt.Println(err)

	var verr *beecloud.ValidationError
	if errors.As(err, &verr) {
		for _, p := range verr.Problems {
			fmt.Printf("%s: %s\n", p.Field, p.Reason)
		}
	}
	// Output:
	// beecloud: invalid order: out_trade_no: must be 8 to 32 ASCII letters or digits, found '-'; title: must not contain ' or " (BeeCloud's script builds JSON by concatenation); amount: must be a positive number of 分 (1 = ¥0.01), got 0
	// out_trade_no: must be 8 to 32 ASCII letters or digits, found '-'
	// title: must not contain ' or " (BeeCloud's script builds JSON by concatenation)
	// amount: must be a positive number of 分 (1 = ¥0.01), got 0
}

// Printing or logging a Config never shows its secrets.
func ExampleConfig_String() {
	cfg := beecloud.Config{
		AppID:        "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
		AppSecret:    "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
		MasterSecret: "506371c7-b095-45da-bfce-9ae857c41a85",
	}
	fmt.Printf("%v\n", cfg)
	// Output: beecloud.Config{AppID:"c5d1cba1-5e3f-4ba0-941d-9b0a371fe719", AppSecret:"[redacted]", MasterSecret:"[redacted]", TestSecret:"", ScriptURL:"", LegacyWebhook:false, LegacyWindow:0s}
}
