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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startQRPay runs the qrpay example offline, as "go run ./examples/qrpay"
// does without credentials (in test mode with -test), until t ends.
func startQRPay(t *testing.T, test bool) *qrshop.Offline {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, "net.Listen")
	o, err := qrshop.StartOffline(ln, qrshop.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, test, 0)
	if err != nil {
		ln.Close()
	}
	require.NoError(t, err, "qrshop.StartOffline")
	t.Cleanup(func() {
		assert.NoError(t, o.Shutdown(context.Background()), "Offline.Shutdown")
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
			require.True(t, ok, "Shop.Order(%q): the page shows an order the shop does not have", no)

			// The drawn code is the code_url's, and big enough to scan.
			want, err := qrshop.NewQRCode(order.CodeURL)
			require.NoError(t, err, "qrshop.NewQRCode(%q)", order.CodeURL)
			require.Equal(t, want.Path, Eval[string](desk, `document.querySelector("#qr path").getAttribute("d")`), "the page's QR code: want the code_url's")
			require.GreaterOrEqual(t, Eval[float64](desk, `document.getElementById("qr").getBoundingClientRect().width`), 150.0, "the QR code's width: a phone needs it big enough")
			desk.Screenshot("qrpay-" + strings.ReplaceAll(name, " ", "-") + "-qr")

			// The phone scans: it opens the code_url and pays there.
			phone := NewBrowser(t)
			phone.Navigate(order.CodeURL)
			phone.Click("#scan")

			desk.WaitVisible("#paid")
			require.False(t, Eval[bool](desk, `!document.getElementById("waiting").hidden`), "the QR code is still shown after payment")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			d, err := o.Sandbox.WaitDelivery(ctx, no)
			require.NoError(t, err, "Sandbox.WaitDelivery(%q)", no)
			require.True(t, d.Acknowledged, "the shop did not acknowledge the webhook: %+v", d)
			pays := o.Sandbox.Payments()
			require.Len(t, pays, 1, "Sandbox.Payments()")
			require.Equal(t, no, pays[0].Order.OutTradeNo, "the payment's order")
			require.Equal(t, test, pays[0].Test, "the payment's Test")
			got, _ := o.Shop.Order(no)
			require.True(t, got.Paid, "Shop.Order(%q).Paid", no)
		})
	}
}
