package beecloud_test

import (
	"fmt"
	"html/template"
	"regexp"
	"strings"
	"time"

	"github.com/paybutton/beecloud"
)

// renderExampleConfig is BeeCloud's public test app.
var renderExampleConfig = beecloud.Config{
	AppID:     "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
	AppSecret: "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
}

// randomButtonID hides the random part of a button's id so the examples' output
// is stable.
var randomButtonID = regexp.MustCompile(`-[0-9a-f]{16}"`)

func ExampleConfig_ScriptTag() {
	fmt.Println(renderExampleConfig.ScriptTag())
	// Output:
	// <script id="spay-script" type="text/javascript" src="https://jspay.beecloud.cn/1/pay/jsbutton/returnscripts?appId=c5d1cba1-5e3f-4ba0-941d-9b0a371fe719"></script>
}

func ExampleConfig_Button() {
	order := beecloud.Order{Title: "测试商品", Amount: 1, OutTradeNo: "test0001"}
	button, err := renderExampleConfig.Button("支付 ¥0.01", order)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The button comes first, then the script that binds its click.
	first, _, _ := strings.Cut(string(button), "\n")
	fmt.Println(randomButtonID.ReplaceAllString(first, `-…"`))

	order.Title = `"quoted"`
	_, err = renderExampleConfig.Button("支付", order)
	fmt.Println(err)
	// Output:
	// <button type="button" id="beecloud-test0001-…" class="beecloud-button">支付 ¥0.01</button><script>
	// beecloud: invalid order: title: must not contain ' or " (BeeCloud's script builds JSON by concatenation)
}

func ExampleConfig_FuncMap() {
	page := template.Must(template.New("checkout").Funcs(renderExampleConfig.FuncMap()).Parse(
		`<p>{{.Order.Title}}: {{beecloudButton "支付" .Order}}</p>
{{beecloudScript}}
`))
	var out strings.Builder
	err := page.Execute(&out, map[string]any{
		"Order": beecloud.Order{Title: "测试商品", Amount: 1, OutTradeNo: "test0001"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	lines := strings.Split(out.String(), "\n")
	fmt.Println(randomButtonID.ReplaceAllString(lines[0], `-…"`))
	fmt.Println(lines[len(lines)-2])
	// Output:
	// <p>测试商品: <button type="button" id="beecloud-test0001-…" class="beecloud-button">支付</button><script>
	// <script id="spay-script" type="text/javascript" src="https://jspay.beecloud.cn/1/pay/jsbutton/returnscripts?appId=c5d1cba1-5e3f-4ba0-941d-9b0a371fe719"></script>
}

// A page with its own button gets only the script, with callbacks that
// name the page's functions. They are looked up when the buyer clicks.
// Err also hears of a BeeCloud script that never loads: ScriptTimeout
// sets how long a click waits for it.
func ExampleConfig_ClickScript() {
	cfg := renderExampleConfig
	cfg.ScriptTimeout = 8 * time.Second
	order := beecloud.Order{
		Title: "测试商品", Amount: 1, OutTradeNo: "test0001",
		InstantChannel: beecloud.ChannelWx, OpenID: "o-buyer-openid",
	}
	script, err := cfg.ClickScript("pay", order, beecloud.Callbacks{
		WxJsapiSuccess: "shop.paid",
		WxJsapiFail:    "shop.failed",
		Err:            "shop.onPayError",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(`<button type="button" id="pay">微信支付</button>`)
	// The script is long; these are the lines that carry the values.
	for _, line := range strings.Split(string(script), "\n") {
		if strings.Contains(line, "var s =") || strings.Contains(line, "var data =") {
			fmt.Println(strings.TrimSpace(line))
		}
	}
	// Output:
	// <button type="button" id="pay">微信支付</button>
	// var s = {"id":"pay","src":"https://jspay.beecloud.cn/1/pay/jsbutton/returnscripts?appId=c5d1cba1-5e3f-4ba0-941d-9b0a371fe719","wait":8000,"err":"shop.onPayError","events":{"wxJsapiSuccess":"shop.paid","wxJsapiFail":"shop.failed"}}, id = s.id, src = s.src, wait = s.wait, broken = "", waiting = [], abs;
	// var data = {"title":"测试商品","amount":1,"out_trade_no":"test0001","sign":"dbc383c6aadd8cb3b3c05252cd8017c2","instant_channel":"wx","openid":"o-buyer-openid"}, onErr, ev, k, f;
}
