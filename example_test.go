package beecloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	stdhtml "html"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
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

// clickData finds the signed order in a button's script.
var (
	clickData  = regexp.MustCompile(`\{"title":[^}]*\}`)
	spayScript = regexp.MustCompile(`<script id="spay-script"[^>]*></script>`)
)

// Example is the whole integration: a page with the pay button for an
// order, and the webhook handler that marks the order paid once BeeCloud
// says so. Here an httptest server stands for the shop, and beecloudtest
// signs the webhook as BeeCloud does.
func Example() {
	cfg := beecloud.Config{ // from BeeCloud's dashboard
		AppID:        "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
		AppSecret:    "39a7a518-9ac8-4a9e-87bc-7885f33cf18c", // signs orders
		MasterSecret: "506371c7-b095-45da-bfce-9ae857c41a85", // verifies webhooks
	}
	var mu sync.Mutex
	orders := map[string]int64{} // your database: out_trade_no → amount in 分

	page := template.Must(template.New("pay").Funcs(cfg.FuncMap()).Parse(
		`{{beecloudScript}}<p>{{.Title}}</p>{{beecloudButton "立即支付" .}}`))
	mux := http.NewServeMux()
	mux.HandleFunc("/buy", func(w http.ResponseWriter, r *http.Request) {
		o := beecloud.Order{Title: "测试商品", Amount: 1990, OutTradeNo: "order0001"} // beecloud.NewOutTradeNo() in production
		mu.Lock()
		orders[o.OutTradeNo] = o.Amount
		mu.Unlock()
		if err := page.Execute(w, o); err != nil { // an invalid order is an error, never a button
			http.Error(w, "no button", http.StatusInternalServerError)
		}
	})
	webhook := &beecloud.WebhookHandler{
		Apps: beecloud.Apps{cfg},
		ExpectedAmount: func(ctx context.Context, n *beecloud.Notification) (int64, error) {
			mu.Lock()
			defer mu.Unlock()
			amount, ok := orders[n.TransactionID]
			if !ok || n.TransactionType != beecloud.TransactionPay {
				return 0, fmt.Errorf("no order %q", n.TransactionID)
			}
			return amount, nil // a webhook with another amount never reaches Handle
		},
		Handle: func(ctx context.Context, n *beecloud.Notification) error {
			fmt.Printf("order %s paid: %d 分 via %s\n", n.TransactionID, n.TransactionFee, n.SubChannelType)
			return nil // runs once per transaction; an error makes BeeCloud send again
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if err := webhook.Validate(); err != nil { // at startup
		fmt.Println(err)
		return
	}
	mux.Handle("/beecloud/webhook", webhook)
	shop := httptest.NewServer(mux)
	defer shop.Close()

	// The buyer opens the pay page: it loads BeeCloud's script and holds
	// the button with the signed order.
	res, err := http.Get(shop.URL + "/buy")
	if err != nil {
		fmt.Println(err)
		return
	}
	html, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(spayScript.FindString(string(html)))                        // BeeCloud's script, async
	fmt.Println(clickData.FindString(stdhtml.UnescapeString(string(html)))) // what BC.click gets, from the button's data

	// The buyer pays; BeeCloud posts the webhook, and sends it again until
	// it reads success. A body not signed with the Master Secret is refused.
	paid := beecloudtest.Paid(beecloud.Order{Title: "测试商品", Amount: 1990, OutTradeNo: "order0001", InstantChannel: beecloud.ChannelAli})
	forged := beecloud.Config{AppID: cfg.AppID, MasterSecret: "a-guess"}
	for _, body := range [][]byte{
		beecloudtest.NotificationBody(cfg, paid),
		beecloudtest.NotificationBody(cfg, paid),
		beecloudtest.NotificationBody(forged, paid),
	} {
		res, err := http.Post(shop.URL+"/beecloud/webhook", "application/json", bytes.NewReader(body))
		if err != nil {
			fmt.Println(err)
			return
		}
		answer, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(res.StatusCode, strings.TrimSpace(string(answer)))
	}
	// Output:
	// <script id="spay-script" type="text/javascript" src="https://jspay.beecloud.cn/1/pay/jsbutton/returnscripts?appId=c5d1cba1-5e3f-4ba0-941d-9b0a371fe719" async data-beecloud-wait="5000"></script>
	// {"title":"测试商品","amount":1990,"out_trade_no":"order0001","sign":"e40b68d366f2e2f2757106f43e4425ec"}
	// order order0001 paid: 1990 分 via ALI_WEB
	// 200 success
	// 200 success
	// 403 bad signature
}
