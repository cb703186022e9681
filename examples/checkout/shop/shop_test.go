package shop

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
	orders := NewOrders()
	h, err := New(Config{
		BeeCloud: testConfig,
		Orders:   orders,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:      func() time.Time { return time.Date(2026, 5, 20, 13, 14, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, orders
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

var outTradeNoRE = regexp.MustCompile(`订单号 Order no\. ([0-9a-f]{32})`)

func TestIndexHasAButtonPerProduct(t *testing.T) {
	srv, orders := newTestShop(t)
	code, page := get(t, srv.URL+"/")
	if code != http.StatusOK {
		t.Fatalf("status %d; want 200", code)
	}
	for _, want := range []string{
		`<meta name="viewport" content="width=device-width`,
		string(testConfig.ScriptTag()),
		"测试商品",
		"BeeCloud Demo Shop",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	nos := outTradeNoRE.FindAllStringSubmatch(page, -1)
	if len(nos) != len(DefaultProducts()) {
		t.Fatalf("page shows %d orders; want one per product (%d)", len(nos), len(DefaultProducts()))
	}
	for i, p := range DefaultProducts() {
		no := nos[i][1]
		order, ok := orders.Get(no)
		if !ok {
			t.Fatalf("order %s on the page is not in the order book", no)
		}
		if order.Amount != p.Amount || order.Title != p.Title || order.State != StatePending {
			t.Errorf("order %+v; want a pending order for %+v", order, p)
		}
		// The button carries the order signed with the app's secret.
		sign := beecloud.Sign(testConfig.AppID, p.Title, p.Amount, no, testConfig.AppSecret)
		if !strings.Contains(page, sign) {
			t.Errorf("page lacks the sign %s of product %s", sign, p.ID)
		}
		if !strings.Contains(page, srv.URL+ResultPath+no) {
			t.Errorf("page lacks the return_url of order %s", no)
		}
	}

	// A second view makes fresh orders: an out_trade_no is paid once.
	_, again := get(t, srv.URL+"/")
	if nos2 := outTradeNoRE.FindAllStringSubmatch(again, -1); len(nos2) == 0 || nos2[0][1] == nos[0][1] {
		t.Errorf("second view reuses order %s", nos[0][1])
	}
}

func TestWebhookMarksOrderPaidOnce(t *testing.T) {
	srv, orders := newTestShop(t)
	orders.Add(Order{OutTradeNo: "order0001", ProductID: "tea", Title: "Green tea 绿茶", Amount: 150})
	n := beecloudtest.Paid(beecloud.Order{OutTradeNo: "order0001", Amount: 150, InstantChannel: beecloud.ChannelAli})

	// Before the webhook the result page says pending and refreshes.
	_, page := get(t, srv.URL+ResultPath+"order0001?spay_result=true&total_fee=150")
	if !strings.Contains(page, `data-state="pending"`) || !strings.Contains(page, `http-equiv="refresh"`) {
		t.Errorf("result page before the webhook:\n%s\nwant pending with auto-refresh (return_url parameters are not trusted)", page)
	}

	for i := range 3 { // BeeCloud resends; the order is paid once
		code, answer := postWebhook(t, srv, testConfig, n)
		if code != http.StatusOK || answer != "success" {
			t.Fatalf("delivery %d answered %d %q; want 200 success", i+1, code, answer)
		}
	}
	order, _ := orders.Get("order0001")
	if order.State != StatePaid || order.SubChannel != "ALI_WEB" {
		t.Errorf("order %+v; want paid through ALI_WEB", order)
	}

	_, page = get(t, srv.URL+ResultPath+"order0001")
	if !strings.Contains(page, `data-state="paid"`) || strings.Contains(page, `http-equiv="refresh"`) {
		t.Errorf("result page after the webhook:\n%s\nwant paid, without refresh", page)
	}
	for _, want := range []string{"已支付", "Paid", "¥1.50", "ALI_WEB", "2026-05-20 13:14:00 UTC"} {
		if !strings.Contains(page, want) {
			t.Errorf("result page lacks %q", want)
		}
	}
}

func TestWebhookRefusals(t *testing.T) {
	srv, orders := newTestShop(t)
	orders.Add(Order{OutTradeNo: "order0001", Amount: 150})
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
	code, page := get(t, srv.URL+ResultPath+"nosuchorder")
	if code != http.StatusNotFound || !strings.Contains(page, "nosuchorder") {
		t.Errorf("got %d %q; want 404 naming the order", code, page)
	}
	// The order number is escaped, not echoed as HTML.
	code, page = get(t, srv.URL+ResultPath+"%3Cscript%3E")
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
