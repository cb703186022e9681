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
	fake := &FakeWeChat{AppID: "wxtest", Secret: "wxsecret", OpenID: "oTestUser0000000000000000001"}
	wx := httptest.NewServer(fake)
	t.Cleanup(wx.Close)
	h, err := New(Config{
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
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return srv, fake, &http.Client{Jar: jar}
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

	// The first visit goes through OAuth and lands on the pay page.
	resp, page := fetch(t, browser, srv.URL+"/")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.String() != srv.URL+"/" {
		t.Fatalf("ended at %s with %d; want the pay page", resp.Request.URL, resp.StatusCode)
	}
	m := outTradeNoRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("pay page has no order number:\n%s", page)
	}
	no := m[1]
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
	_, page := fetch(t, browser, srv.URL+"/")
	m := outTradeNoRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("pay page has no order number:\n%s", page)
	}
	no := m[1]
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
