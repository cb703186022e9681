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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, err, "New")
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, orders
}

func mustAdd(t *testing.T, orders *Orders, o Order) {
	t.Helper()
	require.NoError(t, orders.Add(o), "Orders.Add(%s)", o.OutTradeNo)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err, "GET %s", url)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "GET %s: reading the body", url)
	return resp.StatusCode, string(body)
}

// postWebhook sends the webhook BeeCloud sends when o is paid, signed
// with cfg, and returns the answer.
func postWebhook(t *testing.T, srv *httptest.Server, cfg beecloud.Config, n beecloud.Notification) (int, string) {
	t.Helper()
	body := beecloudtest.NotificationBody(cfg, n)
	resp, err := http.Post(srv.URL+WebhookPath, "application/json", strings.NewReader(string(body)))
	require.NoError(t, err, "POST %s", WebhookPath)
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
	require.NoError(t, err, "buying %s", product)
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "buying %s: status at %s", product, resp.Request.URL)
	m := payPathRE.FindStringSubmatch(resp.Request.URL.Path)
	require.NotNil(t, m, "buying %s: ended at %s; want the new order's pay page", product, resp.Request.URL)
	return m[1], string(page)
}

// TestIndexCreatesNoOrder views the product page many times: it shows a
// 购买 form per product and creates no order.
func TestIndexCreatesNoOrder(t *testing.T) {
	srv, orders := newTestShop(t)
	for range 5 {
		code, page := get(t, srv.URL+"/")
		require.Equal(t, http.StatusOK, code, "GET /")
		for _, p := range DefaultProducts() {
			assert.Contains(t, page, `id="buy-`+p.ID+`"`, "page: the 购买 button of %s", p.Title)
			assert.Contains(t, page, p.Title, "page: the title of %s", p.ID)
		}
		assert.Contains(t, page, `<form method="post" action="/orders">`, "page: the order form")
	}
	assert.Empty(t, orders.List(0, false), "orders made by viewing the page")
}

func TestBuyShowsPayPage(t *testing.T) {
	srv, orders := newTestShop(t)
	for _, p := range DefaultProducts() {
		t.Run(p.ID, func(t *testing.T) {
			no, page := buy(t, srv, p.ID)
			order, ok := orders.Get(no)
			require.True(t, ok, "order %s is not in the order book", no)
			require.Equal(t, p.Amount, order.Amount, "order %+v: amount", order)
			require.Equal(t, p.Title, order.Title, "order %+v: title", order)
			require.Equal(t, StatePending, order.State, "order %+v: state", order)
			require.Equal(t, p.ID, order.ProductID, "order %+v: product", order)
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
				assert.Contains(t, page, want, "pay page")
			}
			// Under the page's CSP, its own script, the click runtime and
			// BeeCloud's tag carry the nonce; nothing else is a script.
			nonces := regexp.MustCompile(`<script nonce="[A-Za-z0-9+/=&#;_-]{20,}"|<script id="spay-script"[^>]* nonce="`).FindAllString(page, -1)
			assert.Len(t, nonces, 3, "pay page: scripts with a nonce; want the page's, the runtime, BeeCloud's tag")
			assert.Regexp(t, `"out_trade_no":"`+no+`"[^<]*"instant_channel":"wxmp"`, page, "page: order %s with instant_channel wxmp", no)
			// Reloading the pay page makes no new order.
			code, again := get(t, srv.URL+PayPath+no)
			assert.Equal(t, http.StatusOK, code, "reloading the pay page")
			assert.Contains(t, again, no, "reloading the pay page")
		})
	}
	assert.Len(t, orders.List(0, false), len(DefaultProducts()), "orders: one per purchase")
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
		require.NoError(t, err, "POST %s", OrdersPath)
		resp.Body.Close()
		return resp
	}
	assert.Equal(t, http.StatusBadRequest, post(url.Values{"product": {"nosuch"}}, nil).StatusCode, "unknown product")
	assert.Equal(t, http.StatusForbidden, post(url.Values{"product": {"tea"}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}).StatusCode, "a cross-site form")
	require.Equal(t, http.StatusSeeOther, post(url.Values{"product": {"tea"}}, nil).StatusCode, "first order")
	resp := post(url.Values{"product": {"tea"}}, nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "order beyond MaxPending")
	assert.NotEmpty(t, resp.Header.Get("Retry-After"), "order beyond MaxPending: Retry-After")
	assert.Len(t, orders.List(0, false), 1, "orders: the first one only")
}

func TestFavicon(t *testing.T) {
	srv, _ := newTestShop(t)
	for _, path := range []string{"/favicon.ico", "/favicon.svg"} {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err, "GET %s", path)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "GET %s", path)
		assert.Equal(t, "image/svg+xml", resp.Header.Get("Content-Type"), "GET %s", path)
		assert.True(t, strings.HasPrefix(string(body), "<svg"), "GET %s: body %.40q…; want an SVG icon", path, body)
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
		assert.Contains(t, page, want, "result page before the webhook")
	}
	assert.NotContains(t, page, `http-equiv="refresh"`, "the result page reloads itself for ever")
	// "View order" of an unpaid order says so at once and offers to pay again.
	_, page = get(t, srv.URL+ResultPath+"order0001")
	for _, want := range []string{`data-state="pending" data-waiting="false"`, "尚未支付", "Not paid", `href="` + PayPath + `order0001"`} {
		assert.Contains(t, page, want, "unpaid order's page")
	}
	assert.NotContains(t, page, "setTimeout(poll", "the unpaid order's page polls")

	for i := range 3 { // BeeCloud resends; the order is paid once
		code, answer := postWebhook(t, srv, testConfig, n)
		require.Equal(t, http.StatusOK, code, "delivery %d answered %q", i+1, answer)
		require.Equal(t, "success", answer, "delivery %d", i+1)
	}
	order, _ := orders.Get("order0001")
	assert.Equal(t, StatePaid, order.State, "order %+v", order)
	assert.Equal(t, "ALI_WEB", order.SubChannel, "order %+v: sub-channel", order)
	assert.Equal(t, 1, order.Handled, "order %+v: times handled", order)
	assert.Equal(t, "webhook", order.PaidBy, "order %+v: paid by", order)
	code, body := get(t, srv.URL+ResultPath+"order0001/status")
	assert.Equal(t, http.StatusOK, code, "status")
	assert.Equal(t, `{"state":"paid"}`, strings.TrimSpace(body), "status") //nolint:testifylint // encoded-compare: the exact answer, as before, not JSONEq's looser equivalence

	_, page = get(t, srv.URL+ResultPath+"order0001?spay_result=SUCCESS")
	assert.Contains(t, page, `data-state="paid"`, "result page after the webhook")
	assert.NotContains(t, page, "setTimeout(poll", "result page after the webhook polls")
	// Beijing time; the channel's name, not its code; an SVG icon, not a
	// glyph some fonts lack.
	for _, want := range []string{"已支付", "Paid", "¥1.50", "支付宝", "2026-05-20 21:14:00", "2026-05-20 21:10:00", `<svg class="icon"`} {
		assert.Contains(t, page, want, "result page")
	}
	for _, unwanted := range []string{"✓", "ALI_WEB", ":00 UTC"} {
		assert.NotContains(t, page, unwanted, "result page")
	}
	// The pay page of a paid order leads to its result.
	resp, err := http.Get(srv.URL + PayPath + "order0001")
	require.NoError(t, err, "GET the pay page of a paid order")
	resp.Body.Close()
	assert.Equal(t, ResultPath+"order0001", resp.Request.URL.Path, "where the pay page of a paid order ended")
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
			assert.Equal(t, tt.code, code, "webhook answered %q", answer)
			assert.NotEqual(t, "success", answer, "webhook answer")
			order, _ := orders.Get("order0001")
			assert.Equal(t, StatePending, order.State, "order: want it still pending")
		})
	}

	// A refund notification is acknowledged and changes nothing.
	refund := beecloudtest.Paid(beecloud.Order{OutTradeNo: "order0001", Amount: 150})
	refund.TransactionType = "REFUND"
	code, answer := postWebhook(t, srv, testConfig, refund)
	assert.Equal(t, http.StatusOK, code, "refund webhook answered %q", answer)
	assert.Equal(t, "success", answer, "refund webhook")
	order, _ := orders.Get("order0001")
	assert.Equal(t, StatePending, order.State, "a refund webhook changed the order")
}

func TestResultUnknownOrder(t *testing.T) {
	srv, _ := newTestShop(t)
	for _, path := range []string{ResultPath, PayPath} {
		code, page := get(t, srv.URL+path+"nosuchorder")
		assert.Equal(t, http.StatusNotFound, code, "%s of an unknown order", path)
		assert.Contains(t, page, "There is no order nosuchorder", "%s of an unknown order: want it named", path)
	}
	code, _ := get(t, srv.URL+ResultPath+"nosuchorder/status")
	assert.Equal(t, http.StatusNotFound, code, "status of an unknown order")
	// The order number is escaped, not echoed as HTML.
	code, page := get(t, srv.URL+ResultPath+"%3Cscript%3E")
	assert.Equal(t, http.StatusNotFound, code, "result page of order <script>")
	assert.NotContains(t, page, "<script>", "result page of order <script>: the raw order number echoed")
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	cfg := testConfig
	cfg.MasterSecret = ""
	_, err := New(Config{BeeCloud: cfg})
	assert.Error(t, err, "New accepted a config without the Master Secret")
}

func TestFailFirstFailsEachOrdersFirstWebhooks(t *testing.T) {
	srv, orders := newTestShopConfig(t, Config{FailFirst: 2})
	mustAdd(t, orders, Order{OutTradeNo: "order0001", Amount: 150})
	mustAdd(t, orders, Order{OutTradeNo: "order0002", Amount: 1})
	n1 := beecloudtest.Paid(beecloud.Order{OutTradeNo: "order0001", Amount: 150, InstantChannel: beecloud.ChannelAli})
	n2 := beecloudtest.Paid(beecloud.Order{OutTradeNo: "order0002", Amount: 1, InstantChannel: beecloud.ChannelWxMP})

	for i, want := range []bool{false, false, true, true} { // BeeCloud resends until success
		code, answer := postWebhook(t, srv, testConfig, n1)
		assert.Equal(t, want, code == http.StatusOK && answer == "success", "delivery %d answered %d %q; want success %t", i+1, code, answer, want)
	}
	order, _ := orders.Get("order0001")
	assert.Equal(t, StatePaid, order.State, "order %+v", order)
	assert.Equal(t, 1, order.Handled, "order %+v: times handled", order)
	assert.Equal(t, 2, order.FailedWebhooks, "order %+v: failed webhooks", order)
	// Each order fails its own first webhooks.
	code, answer := postWebhook(t, srv, testConfig, n2)
	assert.NotEqual(t, "success", answer, "order0002's first delivery answered %d; want a failure", code)
	order, _ = orders.Get("order0002")
	assert.Equal(t, StatePending, order.State, "order %+v", order)
	assert.Equal(t, 1, order.FailedWebhooks, "order %+v: failed webhooks", order)
}
