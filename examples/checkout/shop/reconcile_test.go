package shop

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
)

// startOfflineShop starts the offline shop with cfg until t ends.
func startOfflineShop(t *testing.T, cfg Config) *Offline {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	o, err := StartOffline(ln, cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := o.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return o
}

// payInSandbox buys product in the offline shop and pays the order in the
// sandbox through channel, its webhook dropped if drop is set, and returns
// the order's number.
func payInSandbox(t *testing.T, o *Offline, product string, ch beecloud.Channel, drop bool) string {
	t.Helper()
	no, _ := buy(t, &httptest.Server{URL: o.URL}, product)
	order, _ := o.Orders.Get(no)
	if drop {
		o.Sandbox.DropWebhook(no)
	}
	app := o.Sandbox.Apps()[0].Config
	params, err := app.Params(beecloud.Order{Title: order.Title, Amount: order.Amount, OutTradeNo: no})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Sandbox.Pay(app.AppID, params, ch); err != nil {
		t.Fatal(err)
	}
	return no
}

// eventually waits up to 10 s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// postForm posts form to the shop and returns the answer's status and the
// URL it ended at, after redirects.
func postForm(t *testing.T, target string, form url.Values) (int, *url.URL) {
	t.Helper()
	resp, err := http.PostForm(target, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Request.URL
}

// TestCheckRecoversDroppedWebhook pays an order whose webhook never
// comes: "check payment status" asks BeeCloud and records the payment,
// once, and the webhook sent later is a duplicate.
func TestCheckRecoversDroppedWebhook(t *testing.T) {
	o := startOfflineShop(t, Config{SweepEvery: -1})
	no := payInSandbox(t, o, "tea", beecloud.ChannelAli, true)
	if got, _ := o.Orders.Get(no); got.State != StatePending {
		t.Fatalf("order is %s before the check; want pending (the webhook was dropped)", got.State)
	}
	code, end := postForm(t, o.URL+ResultPath+no+"/check", nil)
	if code != http.StatusOK || end.Query().Get("checked") != "paid" {
		t.Fatalf("check: %d at %s; want the result page with checked=paid", code, end)
	}
	_, page := get(t, end.String())
	for _, want := range []string{`data-state="paid"`, "BeeCloud confirms the payment"} {
		if !strings.Contains(page, want) {
			t.Errorf("result page lacks %q", want)
		}
	}
	if _, admin := get(t, o.URL+AdminPath); !strings.Contains(admin, `id="paid-by-`+no+`" data-paid-by="reconciliation"`) {
		t.Errorf("admin page does not say that a query confirmed %s:\n%s", no, admin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if d, err := o.Sandbox.Redeliver(ctx, no); err != nil || !d.Acknowledged {
		t.Fatalf("the late webhook: %+v, %v; want it acknowledged", d, err)
	}
	if got, _ := o.Orders.Get(no); got.State != StatePaid || got.Handled != 1 || got.PaidBy != "reconciliation" {
		t.Errorf("order %+v; want paid by reconciliation, handled once", got)
	}

	// An order never paid: BeeCloud has no bill for it. Asking again at
	// once is refused: the button cannot flood BeeCloud with queries.
	other, _ := buy(t, &httptest.Server{URL: o.URL}, "mug")
	for _, want := range []string{"nobill", "wait"} {
		if _, end := postForm(t, o.URL+ResultPath+other+"/check", nil); end.Query().Get("checked") != want {
			t.Errorf("check of an order never paid ended at %s; want checked=%s", end, want)
		}
	}
	if got, _ := o.Orders.Get(other); got.State != StatePending {
		t.Errorf("the unpaid order is %s; want pending", got.State)
	}
}

// TestSweeperRecoversDroppedWebhook lets the shop's sweeper find a payment
// whose webhook never came.
func TestSweeperRecoversDroppedWebhook(t *testing.T) {
	o := startOfflineShop(t, Config{SweepEvery: 20 * time.Millisecond, SweepAfter: time.Millisecond})
	no := payInSandbox(t, o, "test", beecloud.ChannelWxMP, true)
	eventually(t, "the sweeper to mark the order paid", func() bool {
		got, _ := o.Orders.Get(no)
		return got.State == StatePaid
	})
	time.Sleep(100 * time.Millisecond) // more sweeps: none may run Handle again
	if got, _ := o.Orders.Get(no); got.Handled != 1 || got.PaidBy != "reconciliation" {
		t.Errorf("order %+v; want handled once, by reconciliation", got)
	}
	if ds := o.Sandbox.Deliveries(); len(ds) != 1 || !ds[0].Dropped {
		t.Errorf("deliveries %+v; want the one dropped webhook", ds)
	}
}

// TestAdminRefunds refunds a paid order from the admin page in two parts:
// each REFUND webhook marks its refund done, and the order ends refunded.
func TestAdminRefunds(t *testing.T) {
	o := startOfflineShop(t, Config{SweepEvery: -1})
	no := payInSandbox(t, o, "tea", beecloud.ChannelAli, false)
	eventually(t, "the webhook", func() bool { got, _ := o.Orders.Get(no); return got.State == StatePaid })

	admin := openAdmin(t, o.URL)
	if !strings.Contains(admin.page, `id="order-`+no+`"`) || !strings.Contains(admin.page, `value="1.50"`) {
		t.Fatalf("admin page lacks order %s with a refund form for ¥1.50", no)
	}
	for i, tc := range []struct {
		amount   string
		refunded int64
	}{{"0.50", 50}, {"1", 150}} {
		_, end := admin.post(t, "/refund", url.Values{"out_trade_no": {no}, "amount": {tc.amount}})
		if end.Path != AdminPath || end.Query().Get("done") == "" {
			t.Fatalf("refund %d ended at %s; want the admin page saying it is asked", i+1, end)
		}
		eventually(t, "the REFUND webhook", func() bool { got, _ := o.Orders.Get(no); return got.Refunded() == tc.refunded })
	}
	got, _ := o.Orders.Get(no)
	if len(got.Refunds) != 2 || got.Refundable() != 0 {
		t.Errorf("order %+v; want two refunds, nothing left to refund", got)
	}
	if _, page := get(t, o.URL+ResultPath+no); !strings.Contains(page, `data-state="refunded"`) {
		t.Error("the result page does not say refunded")
	}
	// Nothing is left: the form refuses more, naming the bounds.
	if _, end := admin.post(t, "/refund", url.Values{"out_trade_no": {no}, "amount": {"0.01"}}); !strings.Contains(end.Query().Get("error"), "want 1 to 0 分") {
		t.Errorf("a refund beyond the paid amount ended at %s; want an error", end)
	}
	if n := len(o.Sandbox.Refunds()); n != 2 {
		t.Errorf("the sandbox has %d refunds; want 2", n)
	}
}

func TestAdminRefusals(t *testing.T) {
	srv, _ := newTestShopConfig(t, Config{AdminPassword: "s3cret"})
	tests := []struct {
		name, method, path, user, pass string
		header                         http.Header
		code                           int
	}{
		{"no password", "GET", AdminPath, "", "", nil, http.StatusUnauthorized},
		{"wrong password", "GET", AdminPath, "admin", "guess", nil, http.StatusUnauthorized},
		{"right password", "GET", AdminPath, "admin", "s3cret", nil, http.StatusOK},
		{"cross-site refund", "POST", AdminPath + "/refund", "admin", "s3cret", http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden},
		{"refund without the form's token", "POST", AdminPath + "/refund", "admin", "s3cret", nil, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader("out_trade_no=x&amount=1"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.user != "" {
				req.SetBasicAuth(tt.user, tt.pass)
			}
			for k, v := range tt.header {
				req.Header[k] = v
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.code {
				t.Errorf("got %d; want %d", resp.StatusCode, tt.code)
			}
		})
	}
	// Without a password and outside the sandbox there is no admin page.
	plain, _ := newTestShop(t)
	if code, _ := get(t, plain.URL+AdminPath); code != http.StatusNotFound {
		t.Errorf("admin page of a shop without password: %d; want 404", code)
	}
}

func TestParseYuan(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1.50", 150, true}, {"2", 200, true}, {"0.01", 1, true}, {"¥3.5", 350, true}, {" 12.34 ", 1234, true},
		{"0", 0, false}, {"", 0, false}, {"1.234", 0, false}, {"-1", 0, false}, {"1e3", 0, false}, {".5", 0, false}, {"9999999999", 0, false},
	} {
		got, err := parseYuan(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseYuan(%q) = %d, %v; want %d, ok %t", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
