package shop

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOfflinePayFlow pays an order of the offline shop through the sandbox,
// as a buyer's browser would, and checks that the webhook, not the return
// trip, marks it paid.
func TestOfflinePayFlow(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, "net.Listen")
	o, err := StartOffline(ln, Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, 0)
	require.NoError(t, err, "StartOffline")
	defer func() {
		assert.NoError(t, o.Shutdown(context.Background()), "Shutdown")
	}()

	no, page := buy(t, &httptest.Server{URL: o.URL}, "tea")
	require.Contains(t, page, o.Sandbox.ScriptURL(), "page: the sandbox's script")
	require.Contains(t, page, "Sandbox mode", "page")
	order, ok := o.Orders.Get(no)
	require.True(t, ok, "order %s is not in the order book", no)

	app := o.Sandbox.Apps()[0]
	params, err := app.Config.Params(beecloud.Order{Title: order.Title, Amount: order.Amount, OutTradeNo: order.OutTradeNo})
	require.NoError(t, err, "Params")
	_, err = o.Sandbox.Pay(app.Config.AppID, params, beecloud.ChannelAli)
	require.NoError(t, err, "Sandbox.Pay")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := o.Sandbox.WaitDelivery(ctx, order.OutTradeNo)
	require.NoError(t, err, "WaitDelivery")
	require.True(t, d.Acknowledged, "delivery %+v; want the shop to answer success", d)
	_, page = get(t, o.URL+ResultPath+order.OutTradeNo)
	assert.Contains(t, page, `data-state="paid"`, "result page after the webhook")
}

// TestOfflineShutdownClosesUnusedConnections checks that a connection that
// never sent a request, as browsers open to have one ready, does not hold
// up Shutdown: http.Server.Shutdown alone waits 5 s for it, longer than
// the deadline here, and the grace is made too long to help.
func TestOfflineShutdownClosesUnusedConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, "net.Listen")
	o, err := StartOffline(ln, Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, 0)
	require.NoError(t, err, "StartOffline")
	o.grace = time.Hour
	spare, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err, "net.Dial: the spare connection")
	defer spare.Close()
	// The server accepts connections in order: once this request is
	// answered, the spare connection is known to it.
	code, _ := get(t, o.URL+"/")
	require.Equal(t, http.StatusOK, code, "GET /")

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	require.NoError(t, o.Shutdown(ctx), "Shutdown: want nil, the spare connection closed at once")
	n, err := spare.Read(make([]byte, 1))
	assert.Zero(t, n, "spare connection: bytes read; want it closed")
	require.Error(t, err, "spare connection: Read; want it closed")
	_, err = o.Sandbox.Redeliver(context.Background(), "x")
	assert.Error(t, err, "the sandbox still runs after Shutdown")
}
