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
)

// startCheckout runs the checkout example offline, as
// "go run ./examples/checkout" does without credentials, with cfg's
// options, until t ends.
func startCheckout(t *testing.T, cfg shop.Config) *shop.Offline {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	o, err := shop.StartOffline(ln, cfg, 0)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := o.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
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
	if err != nil || !d.Acknowledged {
		t.Fatalf("the shop did not acknowledge the webhook: %+v, %v", d, err)
	}
	return d
}

// onlyPayment returns the sandbox's one payment.
func onlyPayment(t *testing.T, o *shop.Offline) beecloudtest.Bill {
	t.Helper()
	pays := o.Sandbox.Payments()
	if len(pays) != 1 {
		t.Fatalf("got %d payments; want 1", len(pays))
	}
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
	if !strings.HasSuffix(Eval[string](b, `location.pathname`), shop.ResultPath+bill.Order.OutTradeNo) {
		t.Errorf("return_url: got %q; want the shop's result page of %s", Eval[string](b, `location.href`), bill.Order.OutTradeNo)
	}
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
	order, ok := o.Orders.Get(bill.Order.OutTradeNo)
	if !ok || order.State != shop.StatePaid || order.SubChannel != sub || order.Amount != bill.Order.Amount ||
		order.ChannelTransactionID != bill.ChannelTransactionID || order.Handled != 1 {
		t.Errorf("order book: got %+v; want paid through %s, handled once", order, sub)
	}
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
			} else if menu := sandboxMenu(b); strings.Contains(menu, "wxmp") {
				t.Errorf("phone menu %q offers 微信扫码支付", menu)
			}
			b.Click(`#beecloud-sandbox-menu [data-channel="` + tc.channel + `"]`)
			b.Click(tc.button)
			b.WaitVisible("#state")
			bill := onlyPayment(t, o)
			if got := Eval[string](b, `location.pathname`); got != shop.ResultPath+bill.Order.OutTradeNo {
				t.Errorf("return_url: got %q; want the shop's result page of %s", got, bill.Order.OutTradeNo)
			}
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
		if err != nil {
			t.Fatal(err)
		}
		if !dup.Acknowledged || !dup.Duplicate || len(dup.Attempts) != 1 || strings.TrimSpace(dup.Attempts[0].Response) != "success" || string(dup.Body) != string(first.Body) {
			t.Errorf("resent webhook: got %+v; want the same webhook acknowledged with success at once", dup)
		}
	}
	if n := len(o.Sandbox.Deliveries()); n != 3 {
		t.Errorf("got %d deliveries; want the webhook and 2 duplicates", n)
	}
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
	if n < 2 {
		t.Fatalf("delivery %+v; want at least 2 attempts", d)
	}
	if a := d.Attempts[0]; a.StatusCode == 200 && strings.TrimSpace(a.Response) == "success" {
		t.Errorf("first attempt answered %d %q; want a failure", a.StatusCode, a.Response)
	}
	if a := d.Attempts[n-1]; a.StatusCode != 200 || strings.TrimSpace(a.Response) != "success" {
		t.Errorf("last attempt answered %d %q; want 200 success", a.StatusCode, a.Response)
	}
	if order := checkOrder(t, o, bill, "ALI_WEB"); order.FailedWebhooks != 1 {
		t.Errorf("order failed %d webhooks on purpose; want 1", order.FailedWebhooks)
	}
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
	if bill.Channel != shop.DirectChannel {
		t.Errorf("paid through %q; want %q", bill.Channel, shop.DirectChannel)
	}
	if bills := o.Sandbox.Bills(); len(bills) != 1 {
		t.Errorf("got %d bills; want 1", len(bills))
	}
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
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	b := NewBrowser(t)
	viewDesktop(b)
	b.Navigate(srv.URL + "/")
	b.Click("#buy-test")
	b.WaitVisible("#pay-order")
	payPage := Eval[string](b, `location.href`)
	if Eval[bool](b, `document.getElementById("pay-error").hidden === false`) {
		t.Fatal("the error shows before any click")
	}
	b.Click("#pay-order")
	b.WaitVisible("#pay-error")
	msg := Eval[string](b, `document.getElementById("pay-error").textContent`)
	if !strings.Contains(msg, "无法发起支付") || !strings.Contains(msg, "请") || strings.Contains(msg, "beecloud") {
		t.Errorf("page shows %q; want a buyer's message in Chinese saying what to do, without the developer's detail", msg)
	}
	if console := strings.Join(b.Console(), "\n"); !strings.Contains(console, beecloudtest.ErrSignMismatch.Error()) {
		t.Errorf("console %q; want the developer's detail, the sign mismatch", console)
	}
	b.Screenshot("checkout-bad-sign")
	if Eval[bool](b, `document.getElementById("beecloud-sandbox-menu") !== null`) {
		t.Error("the channel menu opened for a refused click")
	}
	if got := Eval[string](b, `location.href`); got != payPage {
		t.Errorf("the browser went to %s; want it to stay on the pay page %s", got, payPage)
	}
	if bills, pays := sb.Bills(), sb.Payments(); len(bills) != 0 || len(pays) != 0 {
		t.Errorf("got %d bills and %d payments; want none", len(bills), len(pays))
	}
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
		if lines > 1.2 {
			t.Errorf("#%s takes %.1f lines; want 1", id, lines)
		}
	}
	if Eval[bool](b, `!!document.getElementById("handled") || !!document.getElementById("paid-by") || /Handled|webhook/.test(document.body.textContent)`) {
		t.Error("the result page shows the buyer the shop's internals (webhook handling)")
	}
	if !Eval[bool](b, `(function () {
		var dd = document.getElementById("order-no"), dt = dd.previousElementSibling;
		return dt.getBoundingClientRect().bottom <= dd.getBoundingClientRect().top + 1;
	})()`) {
		t.Error("the label of the order number is beside it; want it above")
	}
}

// checkFitsPhone checks that no element of the page in b is wider than
// the phone's 390 px viewport.
func checkFitsPhone(t *testing.T, b *Browser, page string) {
	t.Helper()
	if w := Eval[int](b, `innerWidth`); w != 390 {
		t.Fatalf("viewport %d px wide; want 390", w)
	}
	if wide := Eval[[]string](b, `Array.from(document.querySelectorAll("body *"))
		.filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)
		.map(e => e.tagName + (e.id ? "#" + e.id : ""))`); len(wide) > 0 {
		t.Errorf("%s: elements wider than the viewport: %q", page, wide)
	}
	if sw := Eval[int](b, `document.documentElement.scrollWidth`); sw > 390 {
		t.Errorf("%s scrolls sideways: %d px wide", page, sw)
	}
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
	if Eval[bool](b, `document.getElementById("pay-order-wxmp").offsetParent !== null`) {
		t.Error("the pay page offers the WeChat QR button on a phone")
	}
	payURL := Eval[string](b, `location.href`)
	b.Click("#view-order")
	b.WaitVisible("#pay-again")
	checkFitsPhone(t, b, "the unpaid order's page")
	b.Screenshot("checkout-unpaid-phone")
	if got := Eval[string](b, `document.getElementById("state").dataset.waiting`); got != "false" {
		t.Errorf("data-waiting %q; want false: nothing was paid", got)
	}
	if text := Eval[string](b, `document.querySelector(".card").textContent`); !strings.Contains(text, "尚未支付") || !strings.Contains(text, "nothing was charged") {
		t.Errorf("the page says %q; want it to say the order is not paid", text)
	}
	b.Do(chromedp.Evaluate[chromedp.Void](`window.__stayed = true`))
	time.Sleep(3 * time.Second) // the old page reloaded every 2 s
	if !Eval[bool](b, `window.__stayed === true`) {
		t.Error("the page reloaded itself")
	}
	b.Click("#pay-again")
	b.WaitVisible("#pay-order")
	if got := Eval[string](b, `location.href`); got != payURL {
		t.Errorf("Pay again went to %s; want the order's pay page %s", got, payURL)
	}
	if n := len(o.Orders.List(0, false)); n != 1 {
		t.Errorf("got %d orders; want the one order paid again", n)
	}
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
	if !Eval[bool](b, `document.getElementById("waiting") !== null`) {
		t.Error("the result page does not wait for the webhook after paying")
	}
	b.WaitVisible("#late")
	if got := Eval[string](b, `document.getElementById("state").dataset.waiting`); got != "false" {
		t.Errorf("data-waiting %q after ConfirmWait; want false", got)
	}
	b.WaitVisible("#pay-again")
	b.Screenshot("checkout-late-webhook")
	b.Click("#check")
	waitPaidPage(b)
	if text := Eval[string](b, `document.getElementById("notice").textContent`); !strings.Contains(text, "BeeCloud confirms the payment") {
		t.Errorf("notice %q; want BeeCloud's confirmation", text)
	}
	if order, _ := o.Orders.Get(no); order.Handled != 1 || order.PaidBy != "reconciliation" {
		t.Errorf("order %+v; want paid by reconciliation, handled once", order)
	}
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
	time.Sleep(300 * time.Millisecond) // a few more sweeps
	if order, _ := o.Orders.Get(no); order.State != shop.StatePaid || order.Handled != 1 || order.PaidBy != "reconciliation" {
		t.Errorf("order %+v; want paid by the sweeper, handled once", order)
	}
	if ds := o.Sandbox.Deliveries(); len(ds) != 1 || !ds[0].Dropped {
		t.Errorf("deliveries %+v; want the one dropped webhook", ds)
	}

	row := `#order-` + no
	b.Navigate(o.URL + shop.AdminPath)
	b.Do(chromedp.SetValue(chromedp.CSS(row+` input[name="amount"]`), "0.50"))
	b.Click(row + ` button[type="submit"]`)
	b.WaitVisible("#admin-done")
	waitRefunded(t, o, no, 50)
	b.Navigate(o.URL + shop.AdminPath)
	if got := Eval[string](b, `document.querySelector("`+row+` input[name=amount]").value`); got != "1.00" {
		t.Errorf("the form offers %q after refunding ¥0.50 of ¥1.50; want 1.00", got)
	}
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
	if n := len(o.Sandbox.Refunds()); n != 2 {
		t.Errorf("the sandbox made %d refunds; want 2", n)
	}
}

// waitRefunded waits until REFUND webhooks have confirmed refunds of
// amount 分 of the order.
func waitRefunded(t *testing.T, o *shop.Offline, no string, amount int64) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		order, _ := o.Orders.Get(no)
		if order.Refunded() == amount {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %+v: refunded %d 分; want %d (the REFUND webhook)", order, order.Refunded(), amount)
		}
	}
}
