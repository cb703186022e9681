package beecloud_test

import (
	"fmt"
	"html/template"
	"log"
	"net/http"
	"net/http/httptest"
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

// The script tag comes after the click runtime, an inline script that
// every button on the page relies on. It loads BeeCloud's script async.
func ExampleConfig_ScriptTag() {
	tag := string(renderExampleConfig.ScriptTag())
	runtime, script, _ := strings.Cut(tag, "</script>")
	fmt.Println(strings.HasPrefix(runtime, "<script>"))
	fmt.Println(script)
	// Output:
	// true
	// <script id="spay-script" type="text/javascript" src="https://jspay.beecloud.cn/1/pay/jsbutton/returnscripts?appId=c5d1cba1-5e3f-4ba0-941d-9b0a371fe719" async data-beecloud-wait="5000"></script>
}

// Under a Content Security Policy, each response makes a nonce, sends it
// in the header and hands it to the template, where
// {{beecloudScript .Nonce}} puts it on both script elements. Buttons carry
// data, not script, so they need none.
func ExampleConfig_ScriptTagNonce() {
	page := template.Must(template.New("pay").Funcs(renderExampleConfig.FuncMap()).Parse(
		`<head>{{beecloudScript .Nonce}}</head><body>{{beecloudButton "支付" .Order}}</body>`))
	handler := func(w http.ResponseWriter, r *http.Request) {
		nonce := beecloud.NewNonce()
		w.Header().Set("Content-Security-Policy",
			"script-src 'nonce-"+nonce+"' 'strict-dynamic' https:; object-src 'none'; base-uri 'none'")
		err := page.Execute(w, map[string]any{
			"Nonce": nonce,
			"Order": beecloud.Order{Title: "测试商品", Amount: 1, OutTradeNo: "test0001"},
		})
		if err != nil {
			log.Print(err)
		}
	}
	rec := httptest.NewRecorder()
	handler(rec, httptest.NewRequest("GET", "/pay", nil))
	nonce := strings.TrimPrefix(strings.Fields(rec.Header().Get("Content-Security-Policy"))[1], "'nonce-")
	nonce = strings.TrimSuffix(nonce, "'")
	fmt.Println(strings.Count(rec.Body.String(), ` nonce="`+nonce+`"`), "scripts carry the header's nonce")
	// Output:
	// 2 scripts carry the header's nonce
}

func ExampleConfig_Button() {
	order := beecloud.Order{Title: "测试商品", Amount: 1, OutTradeNo: "test0001"}
	button, err := renderExampleConfig.Button("支付 ¥0.01", order)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The button carries its order in data-beecloud, as JSON; the page's
	// click runtime reads it.
	fmt.Println(randomButtonID.ReplaceAllString(string(button), `-…"`))

	order.Title = `"quoted"`
	_, err = renderExampleConfig.Button("支付", order)
	fmt.Println(err)
	// Output:
	// <button type="button" id="beecloud-test0001-…" class="beecloud-button" data-beecloud="{&#34;params&#34;:{&#34;title&#34;:&#34;测试商品&#34;,&#34;amount&#34;:1,&#34;out_trade_no&#34;:&#34;test0001&#34;,&#34;sign&#34;:&#34;dbc383c6aadd8cb3b3c05252cd8017c2&#34;}}">支付 ¥0.01</button>
	// beecloud: invalid order: title: must not contain ' or " (BeeCloud's script builds JSON by concatenation)
}

func ExampleConfig_FuncMap() {
	page := template.Must(template.New("checkout").Funcs(renderExampleConfig.FuncMap()).Parse(
		`<head>{{beecloudScript}}</head>
<p>{{.Order.Title}}: {{beecloudButton "支付" .Order}}</p>
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
	fmt.Println(strings.Count(out.String(), "<script"), "scripts")
	fmt.Println(randomButtonID.ReplaceAllString(lines[len(lines)-2], `-…"`))
	// Output:
	// 2 scripts
	// <p>测试商品: <button type="button" id="beecloud-test0001-…" class="beecloud-button" data-beecloud="{&#34;params&#34;:{&#34;title&#34;:&#34;测试商品&#34;,&#34;amount&#34;:1,&#34;out_trade_no&#34;:&#34;test0001&#34;,&#34;sign&#34;:&#34;dbc383c6aadd8cb3b3c05252cd8017c2&#34;}}">支付</button></p>
}

// A page with its own button gets only a JSON data block naming it, with
// callbacks that name the page's functions. They are looked up when the
// buyer clicks. Err also hears of a BeeCloud script that never loads:
// ScriptTimeout sets how long a click waits for it.
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
	fmt.Println(script)
	// Output:
	// <button type="button" id="pay">微信支付</button>
	// <script type="application/json" data-beecloud-for="pay">{"params":{"title":"测试商品","amount":1,"out_trade_no":"test0001","sign":"dbc383c6aadd8cb3b3c05252cd8017c2","instant_channel":"wx","openid":"o-buyer-openid"},"err":"shop.onPayError","events":{"wxJsapiSuccess":"shop.paid","wxJsapiFail":"shop.failed"}}</script>
}
