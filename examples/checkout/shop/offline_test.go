package shop

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
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
	defer func() {
		if err := o.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	}()

	no, page := buy(t, &httptest.Server{URL: o.URL}, "tea")
	if !strings.Contains(page, o.Sandbox.ScriptURL()) || !strings.Contains(page, "Sandbox mode") {
		t.Fatalf("page does not load the sandbox's script:\n%s", page)
	}
	order, ok := o.Orders.Get(no)
	if !ok {
		t.Fatalf("order %s is not in the order book", no)
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

// TestOfflineShutdownClosesUnusedConnections checks that a connection that
// never sent a request, as browsers open to have one ready, does not hold
// up Shutdown: http.Server.Shutdown alone waits 5 s for it, longer than
// the deadline here, and the grace is made too long to help.
func TestOfflineShutdownClosesUnusedConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o, err := StartOffline(ln, Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, 0)
	if err != nil {
		t.Fatal(err)
	}
	o.grace = time.Hour
	spare, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer spare.Close()
	// The server accepts connections in order: once this request is
	// answered, the spare connection is known to it.
	if code, _ := get(t, o.URL+"/"); code != 200 {
		t.Fatalf("GET /: %d", code)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	if err := o.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v; want nil, the spare connection closed at once", err)
	}
	if n, err := spare.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("spare connection: read %d bytes, %v; want it closed", n, err)
	}
	if _, err := o.Sandbox.Redeliver(context.Background(), "x"); err == nil {
		t.Error("the sandbox still runs after Shutdown")
	}
}
