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
	"strings"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
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
	if err != nil {
		t.Fatal(err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := outTradeNoRE.FindStringSubmatch(string(body))
	if resp.StatusCode != http.StatusOK || m == nil || resp.Request.URL.Path != PayPath+m[1] {
		t.Fatalf("buying ended at %s with %d; want the order's pay page:\n%s", resp.Request.URL, resp.StatusCode, body)
	}
	return m[1], string(body)
}

func fetch(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
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
	if resp.StatusCode != http.StatusOK || resp.Request.URL.String() != srv.URL+"/" || !strings.Contains(page, `id="buy"`) || strings.Contains(page, fake.OpenID) {
		t.Fatalf("ended at %s with %d; want the product page:\n%s", resp.Request.URL, resp.StatusCode, page)
	}
	no, page := buy(t, browser, srv)
	if _, again := fetch(t, browser, srv.URL+PayPath+no); !strings.Contains(again, no) {
		t.Errorf("reloading the pay page lost the order:\n%s", again)
	}
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
		if !strings.Contains(page, want) {
			t.Errorf("pay page lacks %q", want)
		}
	}
	if strings.Contains(page, "return_url") {
		t.Error("pay page sets return_url, which WeChat JSAPI payment does not support")
	}

	// The second visit reuses the openid cookie: no OAuth round trip.
	client := *browser
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if resp, _ := fetch(t, &client, srv.URL+"/"); resp.StatusCode != http.StatusOK {
		t.Errorf("second visit answered %d; want the pay page", resp.StatusCode)
	}

	// The result page waits for the webhook, then shows paid. What
	// wxJsapiSuccess passes on from WeChat is shown, escaped, and proves
	// nothing.
	if _, page := fetch(t, browser, srv.URL+ResultPath+no+"?wx=get_brand_wcpay_request%3Aok%3Cb%3E"); !strings.Contains(page, `data-state="pending"`) ||
		!strings.Contains(page, `data-wx="get_brand_wcpay_request:ok&lt;b&gt;"`) || strings.Contains(page, "openid") {
		t.Errorf("result before the webhook:\n%s\nwant pending, with what WeChat said escaped", page)
	}
	n := beecloudtest.Paid(beecloud.Order{OutTradeNo: no, Amount: 1, InstantChannel: beecloud.ChannelWx, OpenID: fake.OpenID})
	req := beecloudtest.NewRequest(testConfig, n)
	req.URL, _ = url.Parse(srv.URL + WebhookPath)
	req.RequestURI = ""
	wresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(wresp.Body)
	wresp.Body.Close()
	if string(answer) != "success" {
		t.Fatalf("webhook answered %q; want success", answer)
	}
	if _, page := fetch(t, browser, srv.URL+ResultPath+no); !strings.Contains(page, `data-state="paid" data-channel="WX_JSAPI"`) || !strings.Contains(page, "微信支付") || strings.Contains(page, "✓") {
		t.Errorf("result after the webhook:\n%s\nwant paid through WX_JSAPI", page)
	}
}

func TestOAuthRedirect(t *testing.T) {
	srv, fake, browser := newTestShop(t)
	client := *browser
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, _ := fetch(t, &client, srv.URL+"/")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d; want 302 to WeChat", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if q.Get("appid") != fake.AppID || q.Get("redirect_uri") != srv.URL+CallbackPath ||
		q.Get("response_type") != "code" || q.Get("scope") != "snsapi_base" || len(q.Get("state")) != 32 || loc.Fragment != "wechat_redirect" {
		t.Errorf("redirected to %s; want WeChat's authorize URL for this shop", loc)
	}
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
			if resp, _ := fetch(t, &client, srv.URL+CallbackPath+tt.query); resp.StatusCode != tt.code {
				t.Errorf("status %d; want %d", resp.StatusCode, tt.code)
			}
		})
	}
}

func TestForgedOpenIDCookieIsIgnored(t *testing.T) {
	srv, _, _ := newTestShop(t)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	req.AddCookie(&http.Cookie{Name: openIDCookie, Value: "oSomeoneElse.0000"})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("status %d; want 302 to OAuth: a forged cookie must not set the openid", resp.StatusCode)
	}
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
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	order := beecloud.Order{OutTradeNo: no, Amount: 1, InstantChannel: beecloud.ChannelWx, OpenID: fake.OpenID}
	wrong := beecloudtest.Paid(order)
	wrong.TransactionFee = 2
	if got := post(wrong); got == "success" {
		t.Errorf("webhook for 2 分 on a 1 分 order answered %q; want a refusal", got)
	}
	refund := beecloudtest.Paid(order)
	refund.TransactionType = beecloud.TransactionRefund
	if got := post(refund); got != "success" {
		t.Errorf("a refund's webhook answered %q; want success, or BeeCloud sends it for days", got)
	}
	if _, page := fetch(t, browser, srv.URL+ResultPath+no); !strings.Contains(page, `data-state="pending"`) {
		t.Errorf("result after a wrong amount and a refund:\n%s\nwant pending", page)
	}
}

// TestOrdersNeverForgetYoungUnpaid fills the order book with unpaid
// orders: a new one is refused rather than an order a buyer may be paying
// forgotten, until the oldest unpaid one is older than unpaidTTL. Paid
// orders never count nor go.
func TestOrdersNeverForgetYoungUnpaid(t *testing.T) {
	a := &app{orders: make(map[string]*order)}
	t0 := time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)
	if !a.addOrder(&order{OutTradeNo: "paid", Created: t0, Paid: true}) {
		t.Fatal("the first order was refused")
	}
	for i := range maxOrders {
		if !a.addOrder(&order{OutTradeNo: fmt.Sprint("u", i), Created: t0.Add(time.Duration(i) * time.Millisecond)}) {
			t.Fatalf("order %d of %d was refused", i+1, maxOrders)
		}
	}
	if a.addOrder(&order{OutTradeNo: "late", Created: t0.Add(unpaidTTL - time.Second)}) {
		t.Error("an order beyond maxOrders unpaid ones was accepted while all are young")
	}
	if len(a.orders) != maxOrders+1 {
		t.Errorf("%d orders; want every one kept", len(a.orders))
	}
	if !a.addOrder(&order{OutTradeNo: "later", Created: t0.Add(unpaidTTL + time.Second)}) {
		t.Error("an order was refused although the unpaid ones are older than unpaidTTL")
	}
	if _, ok := a.orders["paid"]; !ok {
		t.Error("the paid order was forgotten")
	}
}

// TestViewingMakesNoOrder checks that only the buy button's POST makes an
// order: views of the product page (by the buyer, or by anyone replaying
// the buyer's cookie) make none and cannot fill the order book, and a
// POST from another site is refused.
func TestViewingMakesNoOrder(t *testing.T) {
	srv, a, _, browser := newTestApp(t)
	for range 20 {
		resp, page := fetch(t, browser, srv.URL+"/")
		if resp.StatusCode != http.StatusOK || outTradeNoRE.MatchString(page) || strings.Contains(page, "BC.click") {
			t.Fatalf("GET / answered %d with an order:\n%s", resp.StatusCode, page)
		}
	}
	count := func() int {
		a.mu.Lock()
		defer a.mu.Unlock()
		return len(a.orders)
	}
	if n := count(); n != 0 {
		t.Fatalf("%d orders after viewing the page; want none", n)
	}

	forged, _ := http.NewRequest(http.MethodPost, srv.URL+OrdersPath, nil)
	forged.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := browser.Do(forged)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || count() != 0 {
		t.Errorf("a cross-site POST answered %d and made %d orders; want 403 and none", resp.StatusCode, count())
	}
	anonymous, err := http.Post(srv.URL+OrdersPath, "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	anonymous.Body.Close()
	if count() != 0 {
		t.Errorf("a POST without the openid cookie made %d orders; want none", count())
	}

	no, _ := buy(t, browser, srv)
	if n := count(); n != 1 {
		t.Errorf("%d orders after one press of the button; want 1", n)
	}
	// Another buyer cannot open this buyer's pay page.
	if resp, _ := fetch(t, &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, srv.URL+PayPath+no); resp.StatusCode == http.StatusOK {
		t.Errorf("a stranger opened the pay page: %d", resp.StatusCode)
	}
}
