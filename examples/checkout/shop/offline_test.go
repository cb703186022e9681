package shop

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
)

// TestOfflinePayFlow pays an order of the offline shop through the sandbox,
// as a buyer's browser would, and checks that the webhook, not the return
// trip, marks it paid.
func TestOfflinePayFlow(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o, err := StartOffline(ln, Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Shutdown(context.Background())

	_, page := get(t, o.URL+"/")
	if !strings.Contains(page, o.Sandbox.ScriptURL()) || !strings.Contains(page, "Sandbox mode") {
		t.Fatalf("page does not load the sandbox's script:\n%s", page)
	}
	m := outTradeNoRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("page shows no order")
	}
	order, ok := o.Orders.Get(m[1])
	if !ok {
		t.Fatalf("order %s is not in the order book", m[1])
	}

	app := o.Sandbox.Apps()[0]
	params, err := app.Config.Params(beecloud.Order{Title: order.Title, Amount: order.Amount, OutTradeNo: order.OutTradeNo})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Sandbox.Pay(app.Config.AppID, params, beecloud.ChannelAli); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := o.Sandbox.WaitDelivery(ctx, order.OutTradeNo)
	if err != nil || !d.Acknowledged {
		t.Fatalf("delivery %+v, %v; want the shop to answer success", d, err)
	}
	if _, page := get(t, o.URL+ResultPath+order.OutTradeNo); !strings.Contains(page, `data-state="paid"`) {
		t.Errorf("result page after the webhook:\n%s\nwant paid", page)
	}
}
