package e2e

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/paybutton/beecloud/examples/checkout/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startCheckout runs the checkout example offline, as
// "go run ./examples/checkout" does without credentials, with cfg's
// options, until t ends.
func startCheckout(t *testing.T, cfg shop.Config) *shop.Offline {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, "net.Listen")
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	o, err := shop.StartOffline(ln, cfg, 0)
	if err != nil {
		ln.Close()
	}
	require.NoError(t, err, "shop.StartOffline")
	t.Cleanup(func() {
		assert.NoError(t, o.Shutdown(context.Background()), "Offline.Shutdown")
	})
	return o
}

// waitAcknowledged waits until the shop answered success to the newest
// webhook of the order, and returns that delivery.
func waitAcknowledged(t *testing.T, o *shop.Offline, outTradeNo string) beecloudtest.Delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := o.Sandbox.WaitDelivery(ctx, outTradeNo)
	require.NoError(t, err, "Sandbox.WaitDelivery(%q)", outTradeNo)
	require.True(t, d.Acknowledged, "the shop did not acknowledge the webhook: %+v", d)
	return d
}

// onlyPayment returns the sandbox's one payment.
func onlyPayment(t *testing.T, o *shop.Offline) beecloudtest.Bill {
	t.Helper()
	pays := o.Sandbox.Payments()
	require.Len(t, pays, 1, "Sandbox.Payments()")
	return pays[0]
}

// buyCheckout presses the product's 购买 button on the shop's page and
// waits for the new order's pay page.
func buyCheckout(b *Browser, o *shop.Offline, product string) {
	b.Navigate(o.URL + "/")
	b.Click("#buy-" + product)
	b.WaitVisible("#pay-order")
}

// payCheckout buys the product in the checkout shop through channel
// (whose pay page button is pressButton), and returns the paid bill once
// the buyer is back on the shop's result page.
func payCheckout(t *testing.T, b *Browser, o *shop.Offline, product, channel, pressButton string) beecloudtest.Bill {
	t.Helper()
	buyCheckout(b, o, product)
	b.Click("#pay-order")
	b.Click(`#beecloud-sandbox-menu [data-channel="` + channel + `"]`)
	b.Click(pressButton)
	b.WaitVisible("#state") // the shop's result page: return_url
	bill := onlyPayment(t, o)
	assert.True(t, strings.HasSuffix(Eval[string](b, `location.pathname`), shop.ResultPath+bill.Order.OutTradeNo),
		"return_url: got %q; want the shop's result page of %s", Eval[string](b, `location.href`), bill.Order.OutTradeNo)
	return bill
}

// waitPaidPage waits until the result page in b says paid: the webhook
// may come after the buyer, and the page refreshes itself until it has.
func waitPaidPage(b *Browser) {
	b.WaitJSAcrossLoads(`(function () { var s = document.getElementById("state"); return s && s.dataset.state === "paid"; })()`)
}

// checkOrder checks the order book: paid through sub, for the bill, by
// one run of the webhook's Handle.
func checkOrder(t *testing.T, o *shop.Offline, bill beecloudtest.Bill, sub string) shop.Order {
	t.Helper()
	no := bill.Order.OutTradeNo
	order, ok := o.Orders.Get(no)
	assert.True(t, ok, "Orders.Get(%q): no such order", no)
	assert.Equal(t, shop.StatePaid, order.State, "Orders.Get(%q).State", no)
	assert.Equal(t, sub, order.SubChannel, "Orders.Get(%q).SubChannel", no)
	assert.Equal(t, bill.Order.Amount, order.Amount, "Orders.Get(%q).Amount", no)
	assert.Equal(t, bill.ChannelTransactionID, order.ChannelTransactionID, "Orders.Get(%q).ChannelTransactionID", no)
	assert.Equal(t, 1, order.Handled, "Orders.Get(%q).Handled: want it handled once", no)
	return order
}

func TestCheckoutPaysThroughSandbox(t *testing.T) {
	for _, tc := range []struct {
		name, product, channel, button, sub string
		phone                               bool
	}{
		{"alipay on a desktop", "tea", "ali", "#pay", "ALI_WEB", false},
		// A phone's menu has no QR code channel: it cannot scan its own screen.
		{"alipay on a phone", "test", "ali", "#pay", "ALI_WAP", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := startCheckout(t, shop.Config{})
			b := NewBrowser(t)
			if tc.phone {
				viewPhone(b)
			} else {
				viewDesktop(b)
			}
			buyCheckout(b, o, tc.product)
			b.Click("#pay-order")
			b.WaitVisible(`#beecloud-sandbox-menu [data-channel="` + tc.channel + `"]`)
			if !tc.phone {
				screenshotDoc(t, b, "checkout-menu")
			} else {
				assert.NotContains(t, sandboxMenu(b), "wxmp", "the phone's menu offers 微信扫码支付")
			}
			b.Click(`#beecloud-sandbox-menu [data-channel="` + tc.channel + `"]`)
			b.Click(tc.button)
			b.WaitVisible("#state")
			bill := onlyPayment(t, o)
			assert.Equal(t, shop.ResultPath+bill.Order.OutTradeNo, Eval[string](b, `location.pathname`), "return_url: want the shop's result page")
			// The page shows what the webhook said, not what the URL says.
			waitPaidPage(b)
			waitAcknowledged(t, o, bill.Order.OutTradeNo)
			checkOrder(t, o, bill, tc.sub)
			if !tc.phone {
				b.Screenshot("checkout-result")
			}
		})
	}
}

// TestCheckoutHandlesResentWebhookOnce pays in the browser, then has the
// sandbox send the acknowledged webhook again, as BeeCloud and the
// channels sometimes do: the shop answers success and marks the order once.
func TestCheckoutHandlesResentWebhookOnce(t *testing.T) {
	o := startCheckout(t, shop.Config{})
	b := NewBrowser(t)
	viewDesktop(b)
	bill := payCheckout(t, b, o, "mug", "un", "#pay")
	first := waitAcknowledged(t, o, bill.Order.OutTradeNo)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for range 2 {
		dup, err := o.Sandbox.Redeliver(ctx, bill.Order.OutTradeNo)
		require.NoError(t, err, "Sandbox.Redeliver")
		// The same webhook, acknowledged with success at once.
		assert.True(t, dup.Acknowledged, "Redeliver: %+v; want it acknowledged", dup)
		assert.True(t, dup.Duplicate, "Redeliver: %+v; want a duplicate", dup)
		if assert.Len(t, dup.Attempts, 1, "Redeliver: attempts") {
			assert.Equal(t, "success", strings.TrimSpace(dup.Attempts[0].Response), "Redeliver: the shop's answer")
		}
		assert.Equal(t, string(first.Body), string(dup.Body), "Redeliver: body; want the first webhook's")
	}
	assert.Len(t, o.Sandbox.Deliveries(), 3, "Sandbox.Deliveries(): want the webhook and 2 duplicates")
	checkOrder(t, o, bill, "UN_WEB")
	b.Navigate(o.URL + shop.ResultPath + bill.Order.OutTradeNo)
	waitPaidPage(b)
}

// TestCheckoutFailFirstEndsPaidAfterResend runs the shop with -fail-first
// 1: its first webhook answer is an error, the sandbox sends it again, and
// the buyer's result page, pending at first, ends paid.
func TestCheckoutFailFirstEndsPaidAfterResend(t *testing.T) {
	o := startCheckout(t, shop.Config{FailFirst: 1})
	b := NewBrowser(t)
	viewDesktop(b)
	bill := payCheckout(t, b, o, "tea", "ali", "#pay")
	waitPaidPage(b)

	d := waitAcknowledged(t, o, bill.Order.OutTradeNo)
	n := len(d.Attempts)
	require.GreaterOrEqual(t, n, 2, "delivery %+v: attempts", d)
	a := d.Attempts[0]
	assert.False(t, a.StatusCode == 200 && strings.TrimSpace(a.Response) == "success", "first attempt answered %d %q; want a failure", a.StatusCode, a.Response)
	a = d.Attempts[n-1]
	assert.Equal(t, 200, a.StatusCode, "last attempt: status")
	assert.Equal(t, "success", strings.TrimSpace(a.Response), "last attempt: the shop's answer")
	assert.Equal(t, 1, checkOrder(t, o, bill, "ALI_WEB").FailedWebhooks, "order.FailedWebhooks: webhooks failed on purpose")
}

// TestCheckoutDirectButtonSkipsMenu pays with the product's WeChat QR
// button, whose instant_channel goes straight to the pay page.
func TestCheckoutDirectButtonSkipsMenu(t *testing.T) {
	o := startCheckout(t, shop.Config{})
	b := NewBrowser(t)
	viewDesktop(b)
	buyCheckout(b, o, "tea")
	b.Click("#pay-order-" + string(shop.DirectChannel))
	// No menu click: the sandbox's QR pay page comes at once.
	b.Click("#scan")
	b.WaitVisible("#state")
	bill := onlyPayment(t, o)
	assert.Equal(t, shop.DirectChannel, bill.Channel, "the payment's channel")
	assert.Len(t, o.Sandbox.Bills(), 1, "Sandbox.Bills()")
	waitPaidPage(b)
	waitAcknowledged(t, o, bill.Order.OutTradeNo)
	checkOrder(t, o, bill, "WX_NATIVE")
}

// TestCheckoutBadSignShowsError runs the shop with an App Secret that is
// not the app's, so every sign is wrong: BeeCloud refuses the click, the
// page shows the buyer BC.err's message, and nothing is paid.
func TestCheckoutBadSignShowsError(t *testing.T) {
	app := beecloud.Config{AppID: "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719", AppSecret: "39a7a518-9ac8-4a9e-87bc-7885f33cf18c", MasterSecret: "506371c7-b095-45da-bfce-9ae857c41a85"}
	sb := beecloudtest.NewSandbox(beecloudtest.App{Config: app})
	t.Cleanup(sb.Close)
	cfg := app
	cfg.AppSecret = "00000000-0000-0000-0000-000000000000"
	cfg.ScriptURL = sb.ScriptURL()
	h, err := shop.New(shop.Config{BeeCloud: cfg, Sandbox: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err, "shop.New")
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	b := NewBrowser(t)
	viewDesktop(b)
	b.Navigate(srv.URL + "/")
	b.Click("#buy-test")
	b.WaitVisible("#pay-order")
	payPage := Eval[string](b, `location.href`)
	require.False(t, Eval[bool](b, `document.getElementById("pay-error").hidden === false`), "the error shows before any click")
	b.Click("#pay-order")
	b.WaitVisible("#pay-error")
	// A buyer's message in Chinese saying what to do, without the
	// developer's detail.
	msg := Eval[string](b, `document.getElementById("pay-error").textContent`)
	assert.Contains(t, msg, "无法发起支付", "#pay-error")
	assert.Contains(t, msg, "请", "#pay-error: want it to say what to do")
	assert.NotContains(t, msg, "beecloud", "#pay-error: want no developer's detail")
	assert.Contains(t, strings.Join(b.Console(), "\n"), beecloudtest.ErrSignMismatch.Error(), "console: want the developer's detail, the sign mismatch")
	b.Screenshot("checkout-bad-sign")
	assert.False(t, Eval[bool](b, `document.getElementById("beecloud-sandbox-menu") !== null`), "the channel menu opened for a refused click")
	assert.Equal(t, payPage, Eval[string](b, `location.href`), "location.href: want the browser to stay on the pay page")
	assert.Empty(t, sb.Bills(), "Sandbox.Bills()")
	assert.Empty(t, sb.Payments(), "Sandbox.Payments()")
}

// TestCheckoutResultOnPhone pays on a phone and measures the result page
// through the DOM: nothing is wider than the 390 px viewport, each label
// stands above its value, and the order number and the time each hold on
// one line.
func TestCheckoutResultOnPhone(t *testing.T) {
	o := startCheckout(t, shop.Config{})
	b := NewBrowser(t)
	viewPhone(b)
	bill := payCheckout(t, b, o, "tea", "ali", "#pay")
	waitPaidPage(b)
	waitAcknowledged(t, o, bill.Order.OutTradeNo)
	b.Screenshot("checkout-result-phone")

	checkFitsPhone(t, b, "the result page")
	for _, id := range []string{"order-no", "paid-at"} {
		lines := Eval[float64](b, `(function () {
			var e = document.getElementById("`+id+`");
			return e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight);
		})()`)
		assert.LessOrEqual(t, lines, 1.2, "#%s: lines; want 1", id)
	}
	assert.False(t, Eval[bool](b, `!!document.getElementById("handled") || !!document.getElementById("paid-by") || /Handled|webhook/.test(document.body.textContent)`),
		"the result page shows the buyer the shop's internals (webhook handling)")
	assert.True(t, Eval[bool](b, `(function () {
		var dd = document.getElementById("order-no"), dt = dd.previousElementSibling;
		return dt.getBoundingClientRect().bottom <= dd.getBoundingClientRect().top + 1;
	})()`), "the label of the order number is beside it; want it above")
}

// checkFitsPhone checks that no element of the page in b is wider than
// the phone's 390 px viewport.
func checkFitsPhone(t *testing.T, b *Browser, page string) {
	t.Helper()
	require.Equal(t, 390, Eval[int](b, `innerWidth`), "innerWidth: the phone's viewport")
	wide := Eval[[]string](b, `Array.from(document.querySelectorAll("body *"))
		.filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)
		.map(e => e.tagName + (e.id ? "#" + e.id : ""))`)
	assert.Empty(t, wide, "%s: elements wider than the viewport", page)
	assert.LessOrEqual(t, Eval[int](b, `document.documentElement.scrollWidth`), 390, "%s: scrollWidth; want no sideways scroll", page)
}

// TestCheckoutViewUnpaidOrder opens "View order" of an order not paid: the
// page says so at once, does not reload itself, and its "Pay again" leads
// to the same order's pay page.
func TestCheckoutViewUnpaidOrder(t *testing.T) {
	o := startCheckout(t, shop.Config{})
	b := NewBrowser(t)
	viewPhone(b)
	b.Navigate(o.URL + "/")
	checkFitsPhone(t, b, "the shop's page")
	buyCheckout(b, o, "mug")
	checkFitsPhone(t, b, "the pay page")
	// A phone is not offered to scan a QR code on its own screen.
	assert.False(t, Eval[bool](b, `document.getElementById("pay-order-wxmp").offsetParent !== null`), "the pay page offers the WeChat QR button on a phone")
	payURL := Eval[string](b, `location.href`)
	b.Click("#view-order")
	b.WaitVisible("#pay-again")
	checkFitsPhone(t, b, "the unpaid order's page")
	b.Screenshot("checkout-unpaid-phone")
	assert.Equal(t, "false", Eval[string](b, `document.getElementById("state").dataset.waiting`), "data-waiting: nothing was paid")
	text := Eval[string](b, `document.querySelector(".card").textContent`)
	assert.Contains(t, text, "尚未支付", "the page; want it to say the order is not paid")
	assert.Contains(t, text, "nothing was charged", "the page; want it to say the order is not paid")
	// The page must not reload itself (the old one had a 2 s meta refresh).
	// Rather than watch it for a while, check that it holds no way to: no
	// refresh, in a meta tag or in a header, and no script at all.
	assert.Zero(t, Eval[int](b, `document.querySelectorAll('meta[http-equiv="refresh" i]').length`), "meta refresh tags on the unpaid order's page")
	assert.Empty(t, EvalAsync[string](b, `fetch(location.href, {cache: "no-store"}).then(r => r.headers.get("Refresh") || "")`), "Refresh header of the unpaid order's page")
	assert.Zero(t, Eval[int](b, `document.scripts.length`), "scripts on the unpaid order's page: one could reload it")
	b.Click("#pay-again")
	b.WaitVisible("#pay-order")
	assert.Equal(t, payURL, Eval[string](b, `location.href`), "Pay again: want the order's pay page")
	assert.Len(t, o.Orders.List(0, false), 1, "Orders.List: want the one order paid again")
	b.Navigate(o.URL + shop.AdminPath)
	b.WaitVisible("#order-" + Eval[string](b, `document.querySelector("tr[data-state]").id.slice(6)`))
	checkFitsPhone(t, b, "the admin page")
}

// TestCheckoutLateWebhook pays an order whose webhook the sandbox drops,
// with the sweeper off: back on the shop, the result page waits
// ConfirmWait for the webhook, then stops, says it is late and offers to
// pay again or to ask BeeCloud; asking records the payment.
func TestCheckoutLateWebhook(t *testing.T) {
	o := startCheckout(t, shop.Config{SweepEvery: -1, ConfirmWait: 2 * time.Second})
	b := NewBrowser(t)
	viewDesktop(b)
	buyCheckout(b, o, "tea")
	no := Eval[string](b, `document.getElementById("order-no").textContent`)
	o.Sandbox.DropWebhook(no)
	b.Click("#pay-order")
	b.Click(`#beecloud-sandbox-menu [data-channel="ali"]`)
	b.Click("#pay")
	b.WaitVisible("#state")
	// Back from BeeCloud, the page waits for the webhook (it may have
	// given up already on a slow machine: #waiting is then hidden).
	assert.True(t, Eval[bool](b, `document.getElementById("waiting") !== null`), "the result page does not wait for the webhook after paying")
	b.WaitVisible("#late")
	assert.Equal(t, "false", Eval[string](b, `document.getElementById("state").dataset.waiting`), "data-waiting after ConfirmWait")
	b.WaitVisible("#pay-again")
	b.Screenshot("checkout-late-webhook")
	b.Click("#check")
	waitPaidPage(b)
	assert.Contains(t, Eval[string](b, `document.getElementById("notice").textContent`), "BeeCloud confirms the payment", "#notice")
	order, _ := o.Orders.Get(no)
	assert.Equal(t, 1, order.Handled, "Orders.Get(%q).Handled: want it handled once", no)
	assert.Equal(t, "reconciliation", order.PaidBy, "Orders.Get(%q).PaidBy", no)
}

// TestCheckoutSweepAndRefund pays with the webhook dropped: the shop's
// sweeper finds the payment and marks the order paid, once. The admin
// page then refunds it in two parts; each REFUND webhook arrives and the
// order ends refunded.
func TestCheckoutSweepAndRefund(t *testing.T) {
	o := startCheckout(t, shop.Config{SweepEvery: 100 * time.Millisecond, SweepAfter: time.Millisecond})
	b := NewBrowser(t)
	viewDesktop(b)
	buyCheckout(b, o, "tea")
	no := Eval[string](b, `document.getElementById("order-no").textContent`)
	o.Sandbox.DropWebhook(no)
	b.Click("#pay-order")
	b.Click(`#beecloud-sandbox-menu [data-channel="ali"]`)
	b.Click("#pay")
	waitPaidPage(b)
	// A few more sweeps must not handle the paid order again. The
	// background sweeper's rounds cannot be observed, so the test runs
	// these sweeps itself, as RunSweeper does.
	for range 3 {
		require.NoError(t, o.Shop.Sweep(t.Context()).Err(), "Shop.Sweep")
	}
	order, _ := o.Orders.Get(no)
	assert.Equal(t, shop.StatePaid, order.State, "Orders.Get(%q).State", no)
	assert.Equal(t, 1, order.Handled, "Orders.Get(%q).Handled: want it handled once", no)
	assert.Equal(t, "reconciliation", order.PaidBy, "Orders.Get(%q).PaidBy: want the sweeper", no)
	if ds := o.Sandbox.Deliveries(); assert.Len(t, ds, 1, "Sandbox.Deliveries(): want the one dropped webhook") {
		assert.True(t, ds[0].Dropped, "Sandbox.Deliveries()[0].Dropped")
	}

	row := `#order-` + no
	b.Navigate(o.URL + shop.AdminPath)
	b.Do(chromedp.SetValue(chromedp.CSS(row+` input[name="amount"]`), "0.50"))
	b.Click(row + ` button[type="submit"]`)
	b.WaitVisible("#admin-done")
	waitRefunded(t, o, no, 50)
	b.Navigate(o.URL + shop.AdminPath)
	assert.Equal(t, "1.00", Eval[string](b, `document.querySelector("`+row+` input[name=amount]").value`), "the form's amount after refunding ¥0.50 of ¥1.50")
	b.Screenshot("checkout-admin")
	viewPhone(b)
	b.Navigate(o.URL + shop.AdminPath)
	checkFitsPhone(t, b, "the admin page")
	b.Screenshot("checkout-admin-phone")
	b.Click(row + ` button[type="submit"]`)
	b.WaitVisible("#admin-done")
	waitRefunded(t, o, no, 150)
	b.Navigate(o.URL + shop.ResultPath + no)
	b.WaitJS(`document.getElementById("state").dataset.state === "refunded"`)
	assert.Len(t, o.Sandbox.Refunds(), 2, "Sandbox.Refunds()")
}

// waitRefunded waits until REFUND webhooks have confirmed refunds of
// amount 分 of the order.
func waitRefunded(t *testing.T, o *shop.Offline, no string, amount int64) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		order, _ := o.Orders.Get(no)
		assert.Equal(c, amount, order.Refunded(), "order %+v: refunded 分 (the REFUND webhook)", order)
	}, 15*time.Second, 20*time.Millisecond)
}
