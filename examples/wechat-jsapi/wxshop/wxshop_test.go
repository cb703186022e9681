package wxshop

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testConfig = beecloud.Config{
	AppID:        "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
	AppSecret:    "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
	MasterSecret: "506371c7-b095-45da-bfce-9ae857c41a85",
}

// newTestShop starts the shop with a fake WeChat, and returns a browser
// (a client with cookies) for it.
func newTestShop(t *testing.T) (*httptest.Server, *FakeWeChat, *http.Client) {
	t.Helper()
	srv, _, fake, browser := newTestApp(t)
	return srv, fake, browser
}

// newTestApp is newTestShop that returns the shop's app too.
func newTestApp(t *testing.T) (*httptest.Server, *app, *FakeWeChat, *http.Client) {
	t.Helper()
	fake := &FakeWeChat{AppID: "wxtest", Secret: "wxsecret", OpenID: "oTestUser0000000000000000001"}
	wx := httptest.NewServer(fake)
	t.Cleanup(wx.Close)
	a, err := newApp(Config{
		BeeCloud: testConfig,
		OAuth: OAuth{
			AppID: fake.AppID, Secret: fake.Secret,
			AuthorizeURL: wx.URL + "/connect/oauth2/authorize",
			TokenURL:     wx.URL + "/sns/oauth2/access_token",
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err, "newApp")
	srv := httptest.NewServer(a.routes())
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return srv, a, fake, &http.Client{Jar: jar}
}

// buy presses the product page's buy button, as a browser does, and
// returns the new order's number and its pay page.
func buy(t *testing.T, browser *http.Client, srv *httptest.Server) (string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+OrdersPath, nil)
	req.Header.Set("Origin", srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := browser.Do(req)
	require.NoError(t, err, "POST %s", OrdersPath)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "buying ended at %s", resp.Request.URL)
	m := outTradeNoRE.FindStringSubmatch(string(body))
	require.NotNil(t, m, "buying ended at %s; want the order's pay page:\n%s", resp.Request.URL, body)
	require.Equal(t, PayPath+m[1], resp.Request.URL.Path, "where buying ended; want the order's pay page")
	return m[1], string(body)
}

func fetch(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	require.NoError(t, err, "GET %s", u)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var outTradeNoRE = regexp.MustCompile(`订单号 Order no\. ([0-9a-f]{32})`)

func TestOAuthThenPayInsideWeChat(t *testing.T) {
	srv, fake, browser := newTestShop(t)

	// The first visit goes through OAuth and lands on the product page;
	// its button makes the order.
	resp, page := fetch(t, browser, srv.URL+"/")
	require.Equal(t, http.StatusOK, resp.StatusCode, "first visit: ended at %s", resp.Request.URL)
	require.Equal(t, srv.URL+"/", resp.Request.URL.String(), "first visit: where it ended; want the product page")
	require.Contains(t, page, `id="buy"`, "first visit: want the product page")
	require.NotContains(t, page, fake.OpenID, "first visit: the product page shows the openid")
	no, page := buy(t, browser, srv)
	_, again := fetch(t, browser, srv.URL+PayPath+no)
	assert.Contains(t, again, no, "reloading the pay page lost the order")
	sign := beecloud.Sign(testConfig.AppID, "测试商品", 1, no, testConfig.AppSecret)
	for _, want := range []string{
		`<meta name="viewport"`,
		string(testConfig.ScriptTag()),
		`id="pay"`,
		`"openid":"` + fake.OpenID + `"`,
		`"instant_channel":"wx"`,
		`"sign":"` + sign + `"`,
		`"wxJsapiSuccess":"wxshop.paid"`,
		`"wxJsapiFail":"wxshop.failed"`,
	} {
		assert.Contains(t, page, want, "pay page")
	}
	assert.NotContains(t, page, "return_url", "pay page sets return_url, which WeChat JSAPI payment does not support")

	// The second visit reuses the openid cookie: no OAuth round trip.
	client := *browser
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, _ = fetch(t, &client, srv.URL+"/")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "second visit; want the pay page")

	// The result page waits for the webhook, then shows paid. What
	// wxJsapiSuccess passes on from WeChat is shown, escaped, and proves
	// nothing.
	_, page = fetch(t, browser, srv.URL+ResultPath+no+"?wx=get_brand_wcpay_request%3Aok%3Cb%3E")
	assert.Contains(t, page, `data-state="pending"`, "result before the webhook")
	assert.Contains(t, page, `data-wx="get_brand_wcpay_request:ok&lt;b&gt;"`, "result before the webhook: what WeChat said, escaped")
	assert.NotContains(t, page, "openid", "result before the webhook")
	n := beecloudtest.Paid(beecloud.Order{OutTradeNo: no, Amount: 1, InstantChannel: beecloud.ChannelWx, OpenID: fake.OpenID})
	req := beecloudtest.NewRequest(testConfig, n)
	req.URL, _ = url.Parse(srv.URL + WebhookPath)
	req.RequestURI = ""
	wresp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "POST %s", WebhookPath)
	answer, _ := io.ReadAll(wresp.Body)
	wresp.Body.Close()
	require.Equal(t, "success", string(answer), "webhook answer")
	_, page = fetch(t, browser, srv.URL+ResultPath+no)
	assert.Contains(t, page, `data-state="paid" data-channel="WX_JSAPI"`, "result after the webhook")
	assert.Contains(t, page, "微信支付", "result after the webhook")
	assert.NotContains(t, page, "✓", "result after the webhook")
}

func TestOAuthRedirect(t *testing.T) {
	srv, fake, browser := newTestShop(t)
	client := *browser
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, _ := fetch(t, &client, srv.URL+"/")
	require.Equal(t, http.StatusFound, resp.StatusCode, "GET /: want 302 to WeChat")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	// WeChat's authorize URL for this shop.
	assert.Equal(t, fake.AppID, q.Get("appid"), "redirected to %s: appid", loc)
	assert.Equal(t, srv.URL+CallbackPath, q.Get("redirect_uri"), "redirected to %s: redirect_uri", loc)
	assert.Equal(t, "code", q.Get("response_type"), "redirected to %s: response_type", loc)
	assert.Equal(t, "snsapi_base", q.Get("scope"), "redirected to %s: scope", loc)
	assert.Len(t, q.Get("state"), 32, "redirected to %s: state", loc)
	assert.Equal(t, "wechat_redirect", loc.Fragment, "redirected to %s: fragment", loc)
}

func TestCallbackRefusals(t *testing.T) {
	srv, _, browser := newTestShop(t)
	client := *browser
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	fetch(t, &client, srv.URL+"/") // sets the state cookie

	tests := []struct {
		name, query string
		code        int
	}{
		{"wrong state", "?code=abc&state=forged", http.StatusBadRequest},
		{"no state", "?code=abc", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := fetch(t, &client, srv.URL+CallbackPath+tt.query)
			assert.Equal(t, tt.code, resp.StatusCode, "GET %s%s", CallbackPath, tt.query)
		})
	}
}

func TestForgedOpenIDCookieIsIgnored(t *testing.T) {
	srv, _, _ := newTestShop(t)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	req.AddCookie(&http.Cookie{Name: openIDCookie, Value: "oSomeoneElse.0000"})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err, "GET /")
	resp.Body.Close()
	assert.Equal(t, http.StatusFound, resp.StatusCode, "GET /: want 302 to OAuth: a forged cookie must not set the openid")
}

// TestWebhookPaysOnlyTheOrdersAmount checks that a payment webhook for
// another amount than the order's, or a refund, leaves the order unpaid.
func TestWebhookPaysOnlyTheOrdersAmount(t *testing.T) {
	srv, fake, browser := newTestShop(t)
	fetch(t, browser, srv.URL+"/") // OAuth
	no, _ := buy(t, browser, srv)
	post := func(n beecloud.Notification) string {
		t.Helper()
		req := beecloudtest.NewRequest(testConfig, n)
		req.URL, _ = url.Parse(srv.URL + WebhookPath)
		req.RequestURI = ""
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err, "POST %s", WebhookPath)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	order := beecloud.Order{OutTradeNo: no, Amount: 1, InstantChannel: beecloud.ChannelWx, OpenID: fake.OpenID}
	wrong := beecloudtest.Paid(order)
	wrong.TransactionFee = 2
	assert.NotEqual(t, "success", post(wrong), "webhook for 2 分 on a 1 分 order; want a refusal")
	refund := beecloudtest.Paid(order)
	refund.TransactionType = beecloud.TransactionRefund
	assert.Equal(t, "success", post(refund), "a refund's webhook; want success, or BeeCloud sends it for days")
	_, page := fetch(t, browser, srv.URL+ResultPath+no)
	assert.Contains(t, page, `data-state="pending"`, "result after a wrong amount and a refund")
}

// TestOrdersNeverForgetYoungUnpaid fills the order book with unpaid
// orders: a new one is refused rather than an order a buyer may be paying
// forgotten, until the oldest unpaid one is older than unpaidTTL. Paid
// orders never count nor go.
func TestOrdersNeverForgetYoungUnpaid(t *testing.T) {
	a := &app{orders: make(map[string]*order)}
	t0 := time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)
	require.True(t, a.addOrder(&order{OutTradeNo: "paid", Created: t0, Paid: true}), "the first order was refused")
	for i := range maxOrders {
		require.True(t, a.addOrder(&order{OutTradeNo: fmt.Sprint("u", i), Created: t0.Add(time.Duration(i) * time.Millisecond)}), "order %d of %d was refused", i+1, maxOrders)
	}
	assert.False(t, a.addOrder(&order{OutTradeNo: "late", Created: t0.Add(unpaidTTL - time.Second)}), "an order beyond maxOrders unpaid ones was accepted while all are young")
	assert.Len(t, a.orders, maxOrders+1, "orders; want every one kept")
	assert.True(t, a.addOrder(&order{OutTradeNo: "later", Created: t0.Add(unpaidTTL + time.Second)}), "an order was refused although the unpaid ones are older than unpaidTTL")
	assert.Contains(t, a.orders, "paid", "the paid order was forgotten")
}

// TestViewingMakesNoOrder checks that only the buy button's POST makes an
// order: views of the product page (by the buyer, or by anyone replaying
// the buyer's cookie) make none and cannot fill the order book, and a
// POST from another site is refused.
func TestViewingMakesNoOrder(t *testing.T) {
	srv, a, _, browser := newTestApp(t)
	for range 20 {
		resp, page := fetch(t, browser, srv.URL+"/")
		require.Equal(t, http.StatusOK, resp.StatusCode, "GET /")
		require.NotRegexp(t, outTradeNoRE, page, "GET / answered with an order")
		require.NotContains(t, page, "BC.click", "GET / answered with an order")
	}
	count := func() int {
		a.mu.Lock()
		defer a.mu.Unlock()
		return len(a.orders)
	}
	require.Zero(t, count(), "orders after viewing the page")

	forged, _ := http.NewRequest(http.MethodPost, srv.URL+OrdersPath, nil)
	forged.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := browser.Do(forged)
	require.NoError(t, err, "a cross-site POST")
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "a cross-site POST")
	assert.Zero(t, count(), "orders made by a cross-site POST")
	anonymous, err := http.Post(srv.URL+OrdersPath, "application/x-www-form-urlencoded", nil)
	require.NoError(t, err, "a POST without the openid cookie")
	anonymous.Body.Close()
	assert.Zero(t, count(), "orders made by a POST without the openid cookie")

	no, _ := buy(t, browser, srv)
	assert.Equal(t, 1, count(), "orders after one press of the button")
	// Another buyer cannot open this buyer's pay page.
	resp, _ = fetch(t, &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, srv.URL+PayPath+no)
	assert.NotEqual(t, http.StatusOK, resp.StatusCode, "a stranger opened the pay page")
}
