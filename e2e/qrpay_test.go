package e2e

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/paybutton/beecloud/examples/qrpay/qrshop"
)

// startQRPay runs the qrpay example offline, as "go run ./examples/qrpay"
// does without credentials (in test mode with -test), until t ends.
func startQRPay(t *testing.T, test bool) *qrshop.Offline {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o, err := qrshop.StartOffline(ln, qrshop.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, test, 0)
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

// TestQRPayInBrowser: the buyer orders on the shop's page, which shows the
// WeChat QR code the shop drew from the bill's code_url; a second tab, the
// phone, opens what the code holds and pays; the first page, polling,
// shows the payment without a reload.
func TestQRPayInBrowser(t *testing.T) {
	for _, test := range []bool{false, true} {
		name := "live"
		if test {
			name = "test mode"
		}
		t.Run(name, func(t *testing.T) {
			o := startQRPay(t, test)
			desk := NewBrowser(t)
			desk.Navigate(o.URL + "/")
			desk.Click("#buy")
			desk.WaitVisible("#qr")
			no := Eval[string](desk, `document.getElementById("no").textContent`)
			order, ok := o.Shop.Order(no)
			if !ok {
				t.Fatalf("the page shows order %q, which the shop does not have", no)
			}

			// The drawn code is the code_url's, and big enough to scan.
			want, err := qrshop.NewQRCode(order.CodeURL)
			if err != nil {
				t.Fatal(err)
			}
			if got := Eval[string](desk, `document.querySelector("#qr path").getAttribute("d")`); got != want.Path {
				t.Fatalf("the page's QR code is not the code_url's")
			}
			if w := Eval[float64](desk, `document.getElementById("qr").getBoundingClientRect().width`); w < 150 {
				t.Fatalf("the QR code is %v px wide; a phone needs more", w)
			}
			desk.Screenshot("qrpay-" + strings.ReplaceAll(name, " ", "-") + "-qr")

			// The phone scans: it opens the code_url and pays there.
			phone := NewBrowser(t)
			phone.Navigate(order.CodeURL)
			phone.Click("#scan")

			desk.WaitVisible("#paid")
			if Eval[bool](desk, `!document.getElementById("waiting").hidden`) {
				t.Fatal("the QR code is still shown after payment")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			d, err := o.Sandbox.WaitDelivery(ctx, no)
			if err != nil || !d.Acknowledged {
				t.Fatalf("the shop did not acknowledge the webhook: %+v, %v", d, err)
			}
			pays := o.Sandbox.Payments()
			if len(pays) != 1 || pays[0].Order.OutTradeNo != no || pays[0].Test != test {
				t.Fatalf("payments: %+v; want one of order %s, test %v", pays, no, test)
			}
			if got, _ := o.Shop.Order(no); !got.Paid {
				t.Fatal("the shop's order is not paid")
			}
		})
	}
}
