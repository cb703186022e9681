package shop

import (
	"io"
	"log/slog"
	"net/http"
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

// newTestShop starts a shop with its own order book.
func newTestShop(t *testing.T) (*httptest.Server, *Orders) {
	t.Helper()
	return newTestShopConfig(t, Config{})
}

// newTestShopConfig starts a shop with cfg and the test's BeeCloud config,
// order book, logger and clock.
func newTestShopConfig(t *testing.T, cfg Config) (*httptest.Server, *Orders) {
	t.Helper()
	orders := NewOrders()
	cfg.BeeCloud = testConfig
	cfg.Orders = orders
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Now = func() time.Time { return time.Date(2026, 5, 20, 13, 14, 0, 0, time.UTC) }
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, orders
}

func mustAdd(t *testing.T, orders *Orders, o Order) {
	t.Helper()
	if err := orders.Add(o); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// postWebhook sends the webhook BeeCloud sends when o is paid, signed
// with cfg, and returns the answer.
func postWebhook(t *testing.T, srv *httptest.Server, cfg beecloud.Config, n beecloud.Notification) (int, string) {
	t.Helper()
	body := beecloudtest.NotificationBody(cfg, n)
	resp, err := http.Post(srv.URL+WebhookPath, "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(answer)
}

var payPathRE = regexp.MustCompile(`^` + PayPath + `([0-9a-f]{32})$`)

// buy presses the product's 购买 button and returns the new order's number
// and its pay page.
func buy(t *testing.T, srv *httptest.Server, product string) (string, string) {
	t.Helper()
	resp, err := http.PostForm(srv.URL+OrdersPath, url.Values{"product": {product}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	m := payPathRE.FindStringSubmatch(resp.Request.URL.Path)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("buying %s: %d at %s; want the new order's pay page", product, resp.StatusCode, resp.Request.URL)
	}
	return m[1], string(page)
}

// TestIndexCreatesNoOrder views the product page many times: it shows a
// 购买 form per product and creates no order.
func TestIndexCreatesNoOrder(t *testing.T) {
	srv, orders := newTestShop(t)
	for range 5 {
		code, page := get(t, srv.URL+"/")
		if code != http.StatusOK {
			t.Fatalf("status %d; want 200", code)
		}
		for _, p := range DefaultProducts() {
			if want := `id="buy-` + p.ID + `"`; !strings.Contains(page, want) || !strings.Contains(page, p.Title) {
				t.Errorf("page lacks the 购买 button %s of %s", want, p.Title)
			}
		}
		if !strings.Contains(page, `<form method="post" action="/orders">`) {
			t.Error("page lacks the order form")
		}
	}
	if n := len(orders.List(0, false)); n != 0 {
		t.Errorf("viewing the page made %d orders; want none", n)
	}
}

func TestBuyShowsPayPage(t *testing.T) {
	srv, orders := newTestShop(t)
	for _, p := range DefaultProducts() {
		t.Run(p.ID, func(t *testing.T) {
			no, page := buy(t, srv, p.ID)
			order, ok := orders.Get(no)
			if !ok || order.Amount != p.Amount || order.Title != p.Title || order.State != StatePending || order.ProductID != p.ID {
				t.Fatalf("order %+v; want a pending order for %+v", order, p)
			}
			for _, want := range []string{
				`<meta name="viewport" content="width=device-width`,
				`<script id="spay-script" type="text/javascript" src="` + testConfig.ScriptURL,
				`"shop.payError"`, // BC.err shows refusals on the page
				`id="pay-error"`,
				`<button type="button" id="pay-order">`,
				`<button type="button" class="secondary qr-only" id="pay-order-wxmp">`,
				// The button carries the order signed with the app's secret.
				beecloud.Sign(testConfig.AppID, p.Title, p.Amount, no, testConfig.AppSecret),
				srv.URL + ResultPath + no, // return_url
				`href="` + ResultPath + no + `"`,
			} {
				if !strings.Contains(page, want) {
					t.Errorf("pay page lacks %q", want)
				}
			}
			// Under the page's CSP, its own script, the click runtime and
			// BeeCloud's tag carry the nonce; nothing else is a script.
			if nonces := regexp.MustCompile(`<script nonce="[A-Za-z0-9+/=&#;_-]{20,}"|<script id="spay-script"[^>]* nonce="`).FindAllString(page, -1); len(nonces) != 3 {
				t.Errorf("pay page: got %d scripts with a nonce; want 3 (the page's, the runtime, BeeCloud's tag)", len(nonces))
			}
			if direct := regexp.MustCompile(`"out_trade_no":"` + no + `"[^<]*"instant_channel":"wxmp"`); !direct.MatchString(page) {
				t.Errorf("page lacks order %s with instant_channel wxmp", no)
			}
			// Reloading the pay page makes no new order.
			if code, again := get(t, srv.URL+PayPath+no); code != http.StatusOK || !strings.Contains(again, no) {
				t.Errorf("reloading the pay page: %d", code)
			}
		})
	}
	if n := len(orders.List(0, false)); n != len(DefaultProducts()) {
		t.Errorf("got %d orders; want one per purchase (%d)", n, len(DefaultProducts()))
	}
}

func TestBuyRefusals(t *testing.T) {
	srv, orders := newTestShop(t)
	orders.MaxPending = 1
	post := func(form url.Values, header http.Header) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+OrdersPath, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post(url.Values{"product": {"nosuch"}}, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown product: %d; want 400", resp.StatusCode)
	}
	if resp := post(url.Values{"product": {"tea"}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site form: %d; want 403", resp.StatusCode)
	}
	if resp := post(url.Values{"product": {"tea"}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first order: %d; want 303", resp.StatusCode)
	}
	resp := post(url.Values{"product": {"tea"}}, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("order beyond MaxPending: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if n := len(orders.List(0, false)); n != 1 {
		t.Errorf("got %d orders; want the first one only", n)
	}
}

func TestFavicon(t *testing.T) {
	srv, _ := newTestShop(t)
	for _, path := range []string{"/favicon.ico", "/favicon.svg"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(string(body), "<svg") {
			t.Errorf("GET %s: %d %s; want 200 and an SVG icon", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

func TestWebhookMarksOrderPaidOnce(t *testing.T) {
	srv, orders := newTestShop(t)
	mustAdd(t, orders, Order{OutTradeNo: "order0001", ProductID: "tea", Title: "Green tea 绿茶", Amount: 150, Created: time.Date(2026, 5, 20, 13, 10, 0, 0, time.UTC)})
	n := beecloudtest.Paid(beecloud.Order{OutTradeNo: "order0001", Amount: 150, InstantChannel: beecloud.ChannelAli})

	// Back from BeeCloud before the webhook, the result page waits for it
	// (return_url parameters are not trusted) for a bounded time.
	_, page := get(t, srv.URL+ResultPath+"order0001?bill_no=order0001&spay_result=SUCCESS&total_fee=150")
	for _, want := range []string{`data-state="pending" data-waiting="true"`, `fetch("/result/order0001/status"`, `deadline = Date.now() +  60000 `, `id="pay-again"`} {
		if !strings.Contains(page, want) {
			t.Errorf("result page before the webhook lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, `http-equiv="refresh"`) {
		t.Error("the result page reloads itself for ever")
	}
	// "View order" of an unpaid order says so at once and offers to pay again.
	_, page = get(t, srv.URL+ResultPath+"order0001")
	for _, want := range []string{`data-state="pending" data-waiting="false"`, "尚未支付", "Not paid", `href="` + PayPath + `order0001"`} {
		if !strings.Contains(page, want) {
			t.Errorf("unpaid order's page lacks %q", want)
		}
	}
	if strings.Contains(page, "setTimeout(poll") {
		t.Error("the unpaid order's page polls")
	}

	for i := range 3 { // BeeCloud resends; the order is paid once
		code, answer := postWebhook(t, srv, testConfig, n)
		if code != http.StatusOK || answer != "success" {
			t.Fatalf("delivery %d answered %d %q; want 200 success", i+1, code, answer)
		}
	}
	order, _ := orders.Get("order0001")
	if order.State != StatePaid || order.SubChannel != "ALI_WEB" || order.Handled != 1 || order.PaidBy != "webhook" {
		t.Errorf("order %+v; want paid by the webhook through ALI_WEB, handled once", order)
	}
	if code, body := get(t, srv.URL+ResultPath+"order0001/status"); code != http.StatusOK || strings.TrimSpace(body) != `{"state":"paid"}` {
		t.Errorf("status: %d %s; want paid", code, body)
	}

	_, page = get(t, srv.URL+ResultPath+"order0001?spay_result=SUCCESS")
	if !strings.Contains(page, `data-state="paid"`) || strings.Contains(page, "setTimeout(poll") {
		t.Errorf("result page after the webhook:\n%s\nwant paid, without polling", page)
	}
	// Beijing time; the channel's name, not its code; an SVG icon, not a
	// glyph some fonts lack.
	for _, want := range []string{"已支付", "Paid", "¥1.50", "支付宝", "2026-05-20 21:14:00", "2026-05-20 21:10:00", `<svg class="icon"`} {
		if !strings.Contains(page, want) {
			t.Errorf("result page lacks %q", want)
		}
	}
	for _, unwanted := range []string{"✓", "ALI_WEB", ":00 UTC"} {
		if strings.Contains(page, unwanted) {
			t.Errorf("result page shows %q", unwanted)
		}
	}
	// The pay page of a paid order leads to its result.
	resp, err := http.Get(srv.URL + PayPath + "order0001")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != ResultPath+"order0001" {
		t.Errorf("the pay page of a paid order ended at %s; want its result page", resp.Request.URL.Path)
	}
}

func TestWebhookRefusals(t *testing.T) {
	srv, orders := newTestShop(t)
	mustAdd(t, orders, Order{OutTradeNo: "order0001", Amount: 150})
	wrongSecret := testConfig
	wrongSecret.MasterSecret = "wrong"

	tests := []struct {
		name string
		cfg  beecloud.Config
		n    beecloud.Notification
		code int
	}{
		{"amount mismatch", testConfig, beecloudtest.Paid(beecloud.Order{OutTradeNo: "order0001", Amount: 1}), http.StatusUnprocessableEntity},
		{"unknown order", testConfig, beecloudtest.Paid(beecloud.Order{OutTradeNo: "order9999", Amount: 150}), http.StatusInternalServerError},
		{"wrong signature", wrongSecret, beecloudtest.Paid(beecloud.Order{OutTradeNo: "order0001", Amount: 150}), http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, answer := postWebhook(t, srv, tt.cfg, tt.n)
			if code != tt.code || answer == "success" {
				t.Errorf("answered %d %q; want %d and not success", code, answer, tt.code)
			}
			if order, _ := orders.Get("order0001"); order.State != StatePending {
				t.Errorf("order is %s; want it still pending", order.State)
			}
		})
	}

	// A refund notification is acknowledged and changes nothing.
	refund := beecloudtest.Paid(beecloud.Order{OutTradeNo: "order0001", Amount: 150})
	refund.TransactionType = "REFUND"
	if code, answer := postWebhook(t, srv, testConfig, refund); code != http.StatusOK || answer != "success" {
		t.Errorf("refund answered %d %q; want 200 success", code, answer)
	}
	if order, _ := orders.Get("order0001"); order.State != StatePending {
		t.Errorf("a refund webhook changed the order to %s", order.State)
	}
}

func TestResultUnknownOrder(t *testing.T) {
	srv, _ := newTestShop(t)
	for _, path := range []string{ResultPath, PayPath} {
		code, page := get(t, srv.URL+path+"nosuchorder")
		if code != http.StatusNotFound || !strings.Contains(page, "There is no order nosuchorder") {
			t.Errorf("%s: got %d %q; want 404 naming the order", path, code, page)
		}
	}
	if code, _ := get(t, srv.URL+ResultPath+"nosuchorder/status"); code != http.StatusNotFound {
		t.Errorf("status of an unknown order: %d; want 404", code)
	}
	// The order number is escaped, not echoed as HTML.
	code, page := get(t, srv.URL+ResultPath+"%3Cscript%3E")
	if code != http.StatusNotFound || strings.Contains(page, "<script>") {
		t.Errorf("got %d with the raw order number echoed", code)
	}
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	cfg := testConfig
	cfg.MasterSecret = ""
	if _, err := New(Config{BeeCloud: cfg}); err == nil {
		t.Error("New accepted a config without the Master Secret")
	}
}

func TestFailFirstFailsEachOrdersFirstWebhooks(t *testing.T) {
	srv, orders := newTestShopConfig(t, Config{FailFirst: 2})
	mustAdd(t, orders, Order{OutTradeNo: "order0001", Amount: 150})
	mustAdd(t, orders, Order{OutTradeNo: "order0002", Amount: 1})
	n1 := beecloudtest.Paid(beecloud.Order{OutTradeNo: "order0001", Amount: 150, InstantChannel: beecloud.ChannelAli})
	n2 := beecloudtest.Paid(beecloud.Order{OutTradeNo: "order0002", Amount: 1, InstantChannel: beecloud.ChannelWxMP})

	for i, want := range []bool{false, false, true, true} { // BeeCloud resends until success
		code, answer := postWebhook(t, srv, testConfig, n1)
		if got := code == http.StatusOK && answer == "success"; got != want {
			t.Errorf("delivery %d answered %d %q; want success %t", i+1, code, answer, want)
		}
	}
	order, _ := orders.Get("order0001")
	if order.State != StatePaid || order.Handled != 1 || order.FailedWebhooks != 2 {
		t.Errorf("order %+v; want paid, handled once after 2 failed webhooks", order)
	}
	// Each order fails its own first webhooks.
	if code, answer := postWebhook(t, srv, testConfig, n2); answer == "success" {
		t.Errorf("order0002's first delivery answered %d %q; want a failure", code, answer)
	}
	if order, _ := orders.Get("order0002"); order.State != StatePending || order.FailedWebhooks != 1 {
		t.Errorf("order %+v; want pending after 1 failed webhook", order)
	}
}
