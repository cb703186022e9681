package e2e

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/paybutton/beecloud/examples/checkout/shop"
)

// startCheckout runs the checkout example offline, as
// "go run ./examples/checkout" does without credentials, until t ends.
func startCheckout(t *testing.T) *shop.Offline {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o, err := shop.StartOffline(ln, shop.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, 0)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Chromium opens spare connections that send no request, which
		// http.Server.Shutdown waits 5 s for; the test need not wait.
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		o.Shutdown(ctx) //nolint:errcheck // a deadline error here only means spare connections were left open

	})
	return o
}

// payCheckout buys the product in the checkout shop through channel
// (whose pay button is pressButton), and returns the paid bill once the
// shop acknowledged its webhook.
func payCheckout(t *testing.T, b *Browser, o *shop.Offline, product, channel, pressButton string) beecloudtest.Bill {
	t.Helper()
	b.Navigate(o.URL + "/")
	b.Click("#product-" + product + " .beecloud-button")
	b.Click(`#beecloud-sandbox-menu [data-channel="` + channel + `"]`)
	b.Click(pressButton)
	b.WaitVisible("#state") // the shop's result page: return_url
	pays := o.Sandbox.Payments()
	if len(pays) != 1 {
		t.Fatalf("got %d payments; want 1", len(pays))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if d, err := o.Sandbox.WaitDelivery(ctx, pays[0].Order.OutTradeNo); err != nil || !d.Acknowledged {
		t.Fatalf("the shop did not acknowledge the webhook: %+v, %v", d, err)
	}
	return pays[0]
}

func TestCheckoutPaysThroughSandbox(t *testing.T) {
	for _, tc := range []struct {
		name, product, channel, button, sub string
		phone                               bool
	}{
		{"alipay on a desktop", "tea", "ali", "#pay", "ALI_WEB", false},
		{"wechat QR code on a phone", "test", "wxmp", "#scan", "WX_NATIVE", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := startCheckout(t)
			b := NewBrowser(t)
			if tc.phone {
				viewPhone(b)
			} else {
				viewDesktop(b)
			}
			bill := payCheckout(t, b, o, tc.product, tc.channel, tc.button)
			if !strings.HasSuffix(Eval[string](b, `location.pathname`), "/result/"+bill.Order.OutTradeNo) {
				t.Errorf("return_url: got %q; want the shop's result page of %s", Eval[string](b, `location.href`), bill.Order.OutTradeNo)
			}
			// The page shows what the webhook said, not what the URL says.
			b.Navigate(o.URL + shop.ResultPath + bill.Order.OutTradeNo)
			if got := Eval[string](b, `document.getElementById("state").dataset.state`); got != "paid" {
				t.Errorf("result page: got state %q; want paid", got)
			}
			order, ok := o.Orders.Get(bill.Order.OutTradeNo)
			if !ok || order.State != shop.StatePaid || order.SubChannel != tc.sub || order.Amount != bill.Order.Amount ||
				order.ChannelTransactionID != bill.ChannelTransactionID {
				t.Errorf("order book: got %+v; want paid through %s", order, tc.sub)
			}
			if !tc.phone {
				b.Screenshot("checkout-paid")
			}
		})
	}
}
