package e2e

import (
	"context"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sandboxConfig is BeeCloud's public test app, with the Master Secret of
// the public webhook vector.
var sandboxConfig = beecloud.Config{
	AppID:        "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
	AppSecret:    "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
	MasterSecret: "506371c7-b095-45da-bfce-9ae857c41a85",
}

// sandboxShopPage is a merchant's page rendered with the package's FuncMap: a pay
// button (Config.Button, or a button of its own bound with ClickScript and
// callbacks that record what they get in window.rec), then the script tag.
// It also notes in sessionStorage whether the channel menu ever showed.
const sandboxShopPage = `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1.0">
<title>示例商店</title>
<script>
window.rec = {
	errs: [], dataErrors: [], wx: [],
	err: function (e) { rec.errs.push(e); },
	dataError: function (e) { rec.dataErrors.push(e); },
	wxSuccess: function (r) { rec.wx.push(["success", r]); },
	wxFail: function (r) { rec.wx.push(["fail", r]); },
	wxFinish: function (r) { rec.wx.push(["finish", r]); }
};
new MutationObserver(function () {
	if (document.getElementById("beecloud-sandbox-menu")) sessionStorage.setItem("menuShown", "yes");
}).observe(document.documentElement, {childList: true, subtree: true});
</script>
<style>body{font:16px sans-serif;margin:40px;background:#fafafa} button{font-size:18px;padding:8px 24px}</style>
</head>
<body>
<h1>示例商店</h1>
<p>{{.Order.Title}}</p>
{{if .Own}}<button type="button" id="buy">立即支付</button>{{beecloudClickScript "buy" .Order .Callbacks}}
{{else}}{{beecloudButton "立即支付" .Order}}{{end}}
{{beecloudScript}}
</body>
</html>
`

// sandboxShopCallbacks names window.rec's recorders.
var sandboxShopCallbacks = beecloud.Callbacks{
	Err: "rec.err", DataError: "rec.dataError",
	WxJsapiSuccess: "rec.wxSuccess", WxJsapiFail: "rec.wxFail", WxJsapiFinish: "rec.wxFinish",
}

// sandboxShop is a merchant's site: its page at / and a return page at
// /done. Its webhooks go to the receiver of newTestSandbox.
type sandboxShop struct {
	*httptest.Server
	order beecloud.Order // the page's order; a test may change it before loading the page
	own   bool           // a button of its own with callbacks, rather than Config.Button
}

func newSandboxShop(t *testing.T, sb *beecloudtest.Sandbox, cfg beecloud.Config, o beecloud.Order, own bool) *sandboxShop {
	t.Helper()
	cfg.ScriptURL = sb.ScriptURL()
	s := &sandboxShop{order: o, own: own}
	page := template.Must(template.New("shop").Funcs(cfg.FuncMap()).Parse(sandboxShopPage))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		assert.NoError(t, page.Execute(w, map[string]any{"Order": s.order, "Own": s.own, "Callbacks": sandboxShopCallbacks}), "the shop's page")
	})
	mux.HandleFunc("GET /done", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<!DOCTYPE html><meta charset="utf-8"><h1 id="done">谢谢惠顾</h1>`))
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// newTestSandbox starts a sandbox serving sandboxConfig with channels,
// whose webhooks go to the SDK's WebhookHandler.
func newTestSandbox(t *testing.T, channels ...beecloud.Channel) *beecloudtest.Sandbox {
	t.Helper()
	hook := httptest.NewServer(&beecloud.WebhookHandler{
		Apps:   beecloud.Apps{sandboxConfig},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Handle: func(context.Context, *beecloud.Notification) error { return nil },
	})
	t.Cleanup(hook.Close)
	sb := beecloudtest.NewSandbox(beecloudtest.App{Config: sandboxConfig, Channels: channels, WebhookURL: hook.URL})
	t.Cleanup(sb.Close)
	return sb
}

func newSandboxOrder() beecloud.Order {
	return beecloud.Order{Title: "测试商品", Amount: 150, OutTradeNo: beecloud.NewOutTradeNo()}
}

// waitSandboxWebhook waits until the WebhookHandler acknowledged the
// order's webhook, and checks what it says.
func waitSandboxWebhook(t *testing.T, sb *beecloudtest.Sandbox, o beecloud.Order, sub string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := sb.WaitDelivery(ctx, o.OutTradeNo)
	require.NoError(t, err, "Sandbox.WaitDelivery(%q)", o.OutTradeNo)
	require.True(t, d.Acknowledged, "webhook of %s: got %+v; want it acknowledged", o.OutTradeNo, d)
	n, err := sandboxConfig.ParseNotification(d.Body)
	require.NoError(t, err, "ParseNotification: the webhook of %s", o.OutTradeNo)
	assert.Equal(t, sub, n.SubChannelType, "webhook %s: sub_channel_type", d.Body)
	assert.Equal(t, o.OutTradeNo, n.TransactionID, "webhook %s: transaction_id", d.Body)
	assert.Equal(t, o.Amount, n.TransactionFee, "webhook %s: transaction_fee", d.Body)
	assert.True(t, n.TradeSuccess, "webhook %s: trade_success", d.Body)
}

func viewDesktop(b *Browser) { b.Do(chromedp.EmulateViewport(1280, 800)) }

// phoneUA is the user agent of an iPhone's Safari.
const phoneUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"

// viewPhone makes the tab a phone: 390×844 CSS pixels at 3×, a phone's
// user agent, touch.
func viewPhone(b *Browser) {
	b.Do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: phoneUA})
		return err
	}))
	b.Do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(3), chromedp.EmulateMobile, chromedp.EmulateTouch))
}

// sandboxMenu returns the menu's channels as "code:name".
func sandboxMenu(b *Browser) string {
	b.WaitVisible("#beecloud-sandbox-menu [data-channel]")
	return strings.Join(Eval[[]string](b, `Array.from(document.querySelectorAll("#beecloud-sandbox-menu [data-channel]"),
		e => e.dataset.channel + ":" + e.querySelector(".bcs-name").textContent)`), ",")
}

func TestSandboxMenuPayReturn(t *testing.T) {
	sb := newTestSandbox(t, beecloud.ChannelAli, beecloud.ChannelWxMP, beecloud.ChannelWx, beecloud.ChannelUN, beecloud.ChannelJD)
	o := newSandboxOrder()
	s := newSandboxShop(t, sb, sandboxConfig, o, false)
	s.order.ReturnURL = s.URL + "/done"

	b := NewBrowser(t)
	viewDesktop(b)
	b.Navigate(s.URL)
	b.Click(".beecloud-button")
	// No openid: WeChat JSAPI is not offered outside WeChat.
	assert.Equal(t, "ali:支付宝,wxmp:微信扫码支付,un:银联在线支付,jd:京东支付", sandboxMenu(b), "the menu's channels")
	assert.Equal(t, "center", Eval[string](b, `getComputedStyle(document.querySelector("#beecloud-sandbox-menu")).alignItems`), "desktop menu: align-items; want a centred modal")
	b.Screenshot("sandbox-menu-desktop")
	b.Click(`[data-channel="ali"]`)
	b.WaitVisible("#pay")
	assert.Equal(t, "测试商品 ¥1.50", Eval[string](b, `document.getElementById("title").textContent + " " + document.getElementById("amount").textContent`), "pay page summary")
	b.Screenshot("sandbox-pay-page")
	b.Click("#pay")
	b.WaitVisible("#done")
	assert.Equal(t, s.order.ReturnURL+"?bill_no="+o.OutTradeNo+"&spay_result=SUCCESS&total_fee=150", Eval[string](b, `location.href`), "return_url")
	waitSandboxWebhook(t, sb, o, "ALI_WEB")
}

func TestSandboxMobileSheet(t *testing.T) {
	sb := newTestSandbox(t)
	o := newSandboxOrder()
	s := newSandboxShop(t, sb, sandboxConfig, o, false)
	b := NewBrowser(t)
	viewPhone(b)
	b.Navigate(s.URL)
	b.Click(".beecloud-button")
	// No QR code channel: a phone cannot scan its own screen.
	assert.Equal(t, "ali:支付宝,un:银联在线支付", sandboxMenu(b), "the menu's channels")
	// A bottom sheet: as wide as the screen, touching its bottom.
	assert.Equal(t, "0,0,0", Eval[string](b, `(r => Math.round(r.left) + "," + Math.round(r.right - innerWidth) + "," + Math.round(r.bottom - innerHeight))(
		document.querySelector("#beecloud-sandbox-menu .bcs-sheet").getBoundingClientRect())`), "mobile menu: left, right-innerWidth, bottom-innerHeight")
	b.Screenshot("sandbox-menu-mobile")
	b.Click(`[data-channel="ali"]`)
	b.WaitVisible("#pay")
	b.Click("#pay")
	b.WaitVisible("#result") // the sandbox's result page: no return_url
	waitSandboxWebhook(t, sb, o, "ALI_WAP")
}

func TestSandboxInstantChannel(t *testing.T) {
	sb := newTestSandbox(t, beecloud.ChannelAli, beecloud.ChannelUN)
	o := newSandboxOrder()
	o.InstantChannel = beecloud.ChannelUN
	s := newSandboxShop(t, sb, sandboxConfig, o, false)
	s.order.ReturnURL = s.URL + "/done"
	b := NewBrowser(t)
	viewDesktop(b)
	b.Navigate(s.URL)
	b.Click(".beecloud-button")
	b.WaitVisible("#pay")
	assert.Equal(t, "un", Eval[string](b, `document.getElementById("bill").dataset.channel`), "the pay page's channel")
	b.Click("#pay")
	b.WaitVisible("#done")
	assert.Nil(t, Eval[any](b, `sessionStorage.getItem("menuShown")`), "instant_channel showed the menu")
	waitSandboxWebhook(t, sb, o, "UN_WEB")
}

func TestSandboxRefusesClick(t *testing.T) {
	sb := newTestSandbox(t, beecloud.ChannelAli, beecloud.ChannelWxMP)
	wrongSecret := sandboxConfig
	wrongSecret.AppSecret = "not-the-app-secret"
	otherApp := sandboxConfig
	otherApp.AppID = "11111111-2222-3333-4444-555555555555"
	disabled := newSandboxOrder()
	disabled.InstantChannel = beecloud.ChannelUN
	for _, tc := range []struct {
		name  string
		cfg   beecloud.Config
		order beecloud.Order
		want  string
	}{
		{"bad sign", wrongSecret, newSandboxOrder(), "beecloudtest: sign mismatch"},
		{"disabled instant_channel", sandboxConfig, disabled, `channel not enabled for this app: "un"`},
		{"unknown app", otherApp, newSandboxOrder(), "beecloudtest: unknown appId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandboxShop(t, sb, tc.cfg, tc.order, true)
			b := NewBrowser(t)
			b.Navigate(s.URL)
			b.Click("#buy")
			b.WaitJS(`rec.errs.length > 0`)
			got := Eval[[]map[string]string](b, `rec.errs`)
			if assert.Len(t, got, 1, "BC.err calls") {
				assert.Contains(t, got[0]["ERROR"], tc.want, "BC.err's ERROR")
			}
			// got holds one call at least: WaitJS waited for it.
			if de := Eval[[]map[string]string](b, `rec.dataErrors`); assert.Len(t, de, 1, "event.dataError calls") {
				assert.Equal(t, got[0]["ERROR"], de[0]["ERROR"], "event.dataError's ERROR: want BC.err's")
			}
			assert.False(t, Eval[bool](b, `!!document.getElementById("beecloud-sandbox-menu")`), "a refused click showed the menu")
		})
	}
	assert.Empty(t, sb.Bills(), "bills made by refused clicks")
	assert.Empty(t, sb.Payments(), "payments made by refused clicks")
}

func TestSandboxQRCode(t *testing.T) {
	sb := newTestSandbox(t, beecloud.ChannelAli, beecloud.ChannelWxMP, beecloud.ChannelBCAliQR)
	o := newSandboxOrder()
	s := newSandboxShop(t, sb, sandboxConfig, o, false)
	s.order.ReturnURL = s.URL + "/done"
	b := NewBrowser(t)
	viewDesktop(b)
	b.Navigate(s.URL)
	b.Click(".beecloud-button")
	b.Click(`[data-channel="wxmp"]`)
	b.WaitVisible("#qr")
	assert.False(t, Eval[bool](b, `!!document.getElementById("pay")`), "the QR page offers #pay; want only the simulated scan")
	b.Screenshot("sandbox-qr-page")
	// The scan pays from "the phone"; the page learns it by polling.
	b.Click("#scan")
	b.WaitVisible("#done")
	waitSandboxWebhook(t, sb, o, "WX_NATIVE")
}

func TestSandboxWeChatJSAPI(t *testing.T) {
	for _, tc := range []struct {
		button, errMsg string
		paid           bool
	}{
		{"pay", "get_brand_wcpay_request:ok", true},
		{"fail", "get_brand_wcpay_request:fail", false},
		{"cancel", "get_brand_wcpay_request:cancel", false},
	} {
		t.Run(tc.button, func(t *testing.T) {
			sb := newTestSandbox(t)
			o := newSandboxOrder()
			o.InstantChannel = beecloud.ChannelWx
			o.OpenID = "o3kKrjlUsMnv__cK5DYZMl0JoAkY"
			s := newSandboxShop(t, sb, sandboxConfig, o, true)
			b := NewBrowser(t)
			viewPhone(b)
			b.Navigate(s.URL)
			b.Click("#buy")
			b.WaitVisible("#beecloud-sandbox-wx-" + tc.button)
			if tc.paid {
				b.Screenshot("sandbox-wechat-jsapi")
			}
			// A buyer who presses twice gets one answer, as in WeChat.
			Eval[bool](b, `(function () {
				var btn = document.getElementById("beecloud-sandbox-wx-`+tc.button+`");
				btn.click(); btn.click(); return true;
			})()`)
			b.WaitJS(`rec.wx.length >= 2`)
			got := Eval[[][]any](b, `rec.wx`)
			first := "fail"
			if tc.paid {
				first = "success"
			}
			require.Len(t, got, 2, "callbacks: got %v; want %s then finish", got, first)
			require.Equal(t, first, got[0][0], "callbacks: got %v; want %s then finish", got, first)
			require.Equal(t, "finish", got[1][0], "callbacks: got %v; want %s then finish", got, first)
			res, _ := got[1][1].(map[string]any)
			assert.Equal(t, tc.errMsg, res["err_msg"], "wxJsapiFinish's res: err_msg")
			assert.Equal(t, s.URL+"/", Eval[string](b, `location.href`), "JSAPI payment left the page")
			assert.Empty(t, b.Exceptions(), "the page threw")
			if tc.paid {
				waitSandboxWebhook(t, sb, o, "WX_JSAPI")
			} else {
				assert.Empty(t, sb.Payments(), "Sandbox.Payments()")
			}
		})
	}
}

func TestSandboxFailAndCancel(t *testing.T) {
	sb := newTestSandbox(t)
	o := newSandboxOrder()
	s := newSandboxShop(t, sb, sandboxConfig, o, false)
	b := NewBrowser(t)
	viewDesktop(b)
	b.Navigate(s.URL)
	b.Click(".beecloud-button")
	b.Click(`[data-channel="un"]`)
	b.Click("#cancel")
	b.WaitVisible(".beecloud-button") // back on the shop's page
	b.Click(".beecloud-button")
	b.Click(`[data-channel="ali"]`)
	b.Click("#fail")
	b.WaitVisible("#result")
	assert.Equal(t, "failed", Eval[string](b, `document.getElementById("result").dataset.result`), "result page: data-result")
	var states []string
	for _, bill := range sb.Bills() {
		states = append(states, string(bill.State))
	}
	assert.Equal(t, "cancelled,failed", strings.Join(states, ","), "the bills' states")
	assert.Empty(t, sb.Payments(), "Sandbox.Payments()")
	assert.Empty(t, sb.Deliveries(), "Sandbox.Deliveries(): webhooks")
}

func TestSandboxDebugPanel(t *testing.T) {
	sb := newTestSandbox(t)
	o := newSandboxOrder()
	o.Debug = true
	s := newSandboxShop(t, sb, sandboxConfig, o, false)
	b := NewBrowser(t)
	viewDesktop(b)
	b.Navigate(s.URL)
	b.Click(".beecloud-button")
	b.WaitVisible("#beecloud-sandbox-debug")
	b.WaitJS(`document.getElementById("beecloud-sandbox-debug").textContent.includes("sign and fields OK")`)
	// The panel stays under the menu: the buyer can still pick a channel.
	b.Click(`[data-channel="ali"]`)
	b.WaitVisible("#pay")
	assert.Empty(t, b.Dialogs(), "dialogs opened by debug")
}
