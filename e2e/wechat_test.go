package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/paybutton/beecloud/examples/wechat-jsapi/wxshop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startWeChatShop runs the wechat-jsapi example offline, wired as
// "go run ./examples/wechat-jsapi" does without credentials: the fake
// WeChat OAuth under /fake-wechat, and a sandbox whose app takes WeChat
// JSAPI and sends its webhooks to the shop.
func startWeChatShop(t *testing.T) (*httptest.Server, *beecloudtest.Sandbox, *wxshop.FakeWeChat) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	app := beecloud.Config{AppID: "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719", AppSecret: "39a7a518-9ac8-4a9e-87bc-7885f33cf18c", MasterSecret: "506371c7-b095-45da-bfce-9ae857c41a85"}
	sb := beecloudtest.NewSandbox(beecloudtest.App{Config: app, Channels: []beecloud.Channel{beecloud.ChannelWx}, WebhookURL: srv.URL + wxshop.WebhookPath})
	t.Cleanup(sb.Close)
	fake := &wxshop.FakeWeChat{AppID: "wx520c15f417810387", Secret: "wechat-secret", OpenID: "oFakeWeChatUser0000000000001"}
	app.ScriptURL = sb.ScriptURL()
	h, err := wxshop.New(wxshop.Config{
		BeeCloud: app,
		OAuth: wxshop.OAuth{
			AppID:        fake.AppID,
			Secret:       fake.Secret,
			AuthorizeURL: srv.URL + "/fake-wechat/connect/oauth2/authorize",
			TokenURL:     srv.URL + "/fake-wechat/sns/oauth2/access_token",
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err, "wxshop.New")
	mux.Handle("/", h)
	mux.Handle("/fake-wechat/", fake)
	return srv, sb, fake
}

// TestWeChatJSAPIPaysInPlace opens the wechat-jsapi example on a phone:
// the fake OAuth gives the page the buyer's openid, the pay button opens
// the sandbox's stand-in for WeChat's payment sheet, and after paying,
// wxJsapiSuccess takes the buyer to the result page, which shows the
// order paid through WX_JSAPI once the webhook said so.
func TestWeChatJSAPIPaysInPlace(t *testing.T) {
	srv, sb, fake := startWeChatShop(t)
	b := NewBrowser(t)
	viewPhone(b)
	b.Navigate(srv.URL + "/") // → fake WeChat authorize → /oauth/callback → /
	b.WaitVisible("#buy")
	require.Equal(t, "/", Eval[string](b, `location.pathname`), "after OAuth: want the product page")
	b.Click("#buy") // POST /orders → the order's pay page
	b.WaitVisible("#pay")
	// The openid is the buyer's WeChat identity for the shop: it reaches
	// the order (checked below) and BC.click's data, never the buyer's eyes.
	assert.NotContains(t, Eval[string](b, `document.body.innerText`), fake.OpenID, "the pay page shows the openid")
	assert.True(t, Eval[bool](b, `!document.getElementById("sandbox-banner").hidden && !document.getElementById("open-in-wechat").hidden`),
		"pay page outside WeChat: want the sandbox banner and the open-in-WeChat hint")
	checkAxe(t, b, axeScriptOrEmpty(), "wechat pay page")
	screenshotDoc(t, b, "wechat-pay-desktop")

	b.Click("#pay")
	b.WaitVisible("#beecloud-sandbox-wx")
	assert.False(t, Eval[bool](b, `document.getElementById("beecloud-sandbox-menu") !== null`), "the channel menu opened; instant_channel wx pays in place")
	b.Screenshot("wechat-sheet")
	b.Click("#beecloud-sandbox-wx-pay")

	// wxJsapiSuccess passed WeChat's answer on to the result page, which,
	// until the webhook has come, tells the buyer the shop is confirming.
	b.WaitJSAcrossLoads(`location.search.indexOf("wx=get_brand_wcpay_request%3Aok") >= 0 && !!document.getElementById("state")`)
	wx := Eval[string](b, `(function (e) { return e ? e.dataset.wx : "paid already"; })(document.getElementById("wx-result"))`)
	assert.Contains(t, []string{"get_brand_wcpay_request:ok", "paid already"}, wx, "result page: data-wx; want WeChat's get_brand_wcpay_request:ok")
	pays := sb.Payments()
	require.Len(t, pays, 1, "Sandbox.Payments()")
	p := pays[0]
	assert.Equal(t, beecloud.ChannelWx, p.Channel, "the payment's channel")
	assert.Equal(t, "WX_JSAPI", p.SubChannel, "the payment's sub-channel")
	assert.Equal(t, fake.OpenID, p.Order.OpenID, "the payment's openid")
	assert.Equal(t, wxshop.ResultPath+p.Order.OutTradeNo, Eval[string](b, `location.pathname`), "want the result page")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := sb.WaitDelivery(ctx, p.Order.OutTradeNo)
	require.NoError(t, err, "Sandbox.WaitDelivery(%q)", p.Order.OutTradeNo)
	require.True(t, d.Acknowledged, "the shop did not acknowledge the webhook: %+v", d)
	waitPaidPage(b) // the page checks until the webhook has come
	assert.Contains(t, Eval[string](b, `document.getElementById("state").textContent`), "微信支付", "result page: want paid with 微信支付 (a name, not a code)")
	assert.Equal(t, "WX_JSAPI", Eval[string](b, `document.getElementById("state").dataset.channel`), "result page: data-channel")
	checkAxe(t, b, axeScriptOrEmpty(), "wechat result page")
	b.Screenshot("wechat-result")
}
