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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startOfflineShop starts the offline shop with cfg until t ends.
func startOfflineShop(t *testing.T, cfg Config) *Offline {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, "net.Listen")
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	o, err := StartOffline(ln, cfg, 0)
	require.NoError(t, err, "StartOffline")
	t.Cleanup(func() {
		assert.NoError(t, o.Shutdown(context.Background()), "Shutdown")
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
	require.NoError(t, err, "Params")
	_, err = o.Sandbox.Pay(app.AppID, params, ch)
	require.NoError(t, err, "Sandbox.Pay")
	return no
}

// eventually waits up to 10 s for cond, which it polls every 10 ms.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, 10*time.Millisecond, "timed out waiting for %s", what)
}

// postForm posts form to the shop and returns the answer's status and the
// URL it ended at, after redirects.
func postForm(t *testing.T, target string, form url.Values) (int, *url.URL) {
	t.Helper()
	resp, err := http.PostForm(target, form)
	require.NoError(t, err, "POST %s", target)
	resp.Body.Close()
	return resp.StatusCode, resp.Request.URL
}

// TestCheckRecoversDroppedWebhook pays an order whose webhook never
// comes: "check payment status" asks BeeCloud and records the payment,
// once, and the webhook sent later is a duplicate.
func TestCheckRecoversDroppedWebhook(t *testing.T) {
	o := startOfflineShop(t, Config{SweepEvery: -1})
	no := payInSandbox(t, o, "tea", beecloud.ChannelAli, true)
	got, _ := o.Orders.Get(no)
	require.Equal(t, StatePending, got.State, "order before the check (the webhook was dropped)")
	code, end := postForm(t, o.URL+ResultPath+no+"/check", nil)
	require.Equal(t, http.StatusOK, code, "check: status at %s", end)
	require.Equal(t, "paid", end.Query().Get("checked"), "check: ended at %s; want the result page with checked=paid", end)
	_, page := get(t, end.String())
	for _, want := range []string{`data-state="paid"`, "BeeCloud confirms the payment"} {
		assert.Contains(t, page, want, "result page")
	}
	_, admin := get(t, o.URL+AdminPath)
	assert.Contains(t, admin, `id="paid-by-`+no+`" data-paid-by="reconciliation"`, "admin page: that a query confirmed %s", no)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := o.Sandbox.Redeliver(ctx, no)
	require.NoError(t, err, "Redeliver: the late webhook")
	require.True(t, d.Acknowledged, "the late webhook: %+v; want it acknowledged", d)
	got, _ = o.Orders.Get(no)
	assert.Equal(t, StatePaid, got.State, "order %+v", got)
	assert.Equal(t, 1, got.Handled, "order %+v: times handled", got)
	assert.Equal(t, "reconciliation", got.PaidBy, "order %+v: paid by", got)

	// An order never paid: BeeCloud has no bill for it. Asking again at
	// once is refused: the button cannot flood BeeCloud with queries.
	other, _ := buy(t, &httptest.Server{URL: o.URL}, "mug")
	for _, want := range []string{"nobill", "wait"} {
		_, end := postForm(t, o.URL+ResultPath+other+"/check", nil)
		assert.Equal(t, want, end.Query().Get("checked"), "check of an order never paid ended at %s", end)
	}
	got, _ = o.Orders.Get(other)
	assert.Equal(t, StatePending, got.State, "the unpaid order")
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
	// More sweeps: none may run Handle again. The sweeper sweeps one at a
	// time, so once three more have begun, two more have run to their end.
	paidAt := o.Shop.Sweeps()
	eventually(t, "three more sweeps", func() bool { return o.Shop.Sweeps() >= paidAt+3 })
	got, _ := o.Orders.Get(no)
	assert.Equal(t, 1, got.Handled, "order %+v: times handled", got)
	assert.Equal(t, "reconciliation", got.PaidBy, "order %+v: paid by", got)
	ds := o.Sandbox.Deliveries()
	require.Len(t, ds, 1, "deliveries %+v; want the one dropped webhook", ds)
	assert.True(t, ds[0].Dropped, "deliveries %+v; want the one dropped webhook", ds)
}

// TestAdminRefunds refunds a paid order from the admin page in two parts:
// each REFUND webhook marks its refund done, and the order ends refunded.
func TestAdminRefunds(t *testing.T) {
	o := startOfflineShop(t, Config{SweepEvery: -1})
	no := payInSandbox(t, o, "tea", beecloud.ChannelAli, false)
	eventually(t, "the webhook", func() bool { got, _ := o.Orders.Get(no); return got.State == StatePaid })

	admin := openAdmin(t, o.URL)
	require.Contains(t, admin.page, `id="order-`+no+`"`, "admin page: order %s", no)
	require.Contains(t, admin.page, `value="1.50"`, "admin page: a refund form for ¥1.50")
	for i, tc := range []struct {
		amount   string
		refunded int64
	}{{"0.50", 50}, {"1", 150}} {
		_, end := admin.post(t, "/refund", url.Values{"out_trade_no": {no}, "amount": {tc.amount}})
		require.Equal(t, AdminPath, end.Path, "refund %d ended at %s; want the admin page saying it is asked", i+1, end)
		require.NotEmpty(t, end.Query().Get("done"), "refund %d ended at %s; want the admin page saying it is asked", i+1, end)
		eventually(t, "the REFUND webhook", func() bool { got, _ := o.Orders.Get(no); return got.Refunded() == tc.refunded })
	}
	got, _ := o.Orders.Get(no)
	assert.Len(t, got.Refunds, 2, "order %+v: refunds", got)
	assert.Zero(t, got.Refundable(), "order %+v: Refundable()", got)
	_, page := get(t, o.URL+ResultPath+no)
	assert.Contains(t, page, `data-state="refunded"`, "the result page")
	// Nothing is left: the form refuses more, naming the bounds.
	_, end := admin.post(t, "/refund", url.Values{"out_trade_no": {no}, "amount": {"0.01"}})
	assert.Contains(t, end.Query().Get("error"), "want 1 to 0 分", "a refund beyond the paid amount ended at %s", end)
	assert.Len(t, o.Sandbox.Refunds(), 2, "the sandbox's refunds")
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
			require.NoError(t, err, "%s %s", tt.method, tt.path)
			resp.Body.Close()
			assert.Equal(t, tt.code, resp.StatusCode, "%s %s", tt.method, tt.path)
		})
	}
	// Without a password and outside the sandbox there is no admin page.
	plain, _ := newTestShop(t)
	code, _ := get(t, plain.URL+AdminPath)
	assert.Equal(t, http.StatusNotFound, code, "admin page of a shop without password")
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
		if tc.ok {
			require.NoError(t, err, "parseYuan(%q)", tc.in)
		} else {
			require.Error(t, err, "parseYuan(%q)", tc.in)
		}
		assert.Equal(t, tc.want, got, "parseYuan(%q)", tc.in)
	}
}
