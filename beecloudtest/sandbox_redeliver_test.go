package beecloudtest_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRedeliverSendsTheSameWebhookAgain(t *testing.T) {
	rc := newReceiver(t, "success", "500 busy", "success")
	sb := newSandbox(t, beecloudtest.App{Config: testConfig, WebhookURL: rc.URL})
	_, err := sb.Pay(appID, data("order0001"), beecloud.ChannelAli)
	require.NoError(t, err)
	first := wait(t, sb, "order0001")
	require.True(t, first.Acknowledged, "first delivery acknowledged")
	require.False(t, first.Duplicate, "first delivery is a duplicate")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dup, err := sb.Redeliver(ctx, "order0001")
	require.NoError(t, err, "Redeliver")
	// The receiver answers the duplicate's first attempt 500: the
	// sandbox resends it as it would any webhook.
	assert.True(t, dup.Acknowledged, "duplicate acknowledged")
	assert.True(t, dup.Duplicate, "duplicate marked Duplicate")
	if assert.Len(t, dup.Attempts, 2, "duplicate: want acknowledged on the second attempt") {
		assert.Equal(t, 500, dup.Attempts[0].StatusCode, "duplicate: first attempt's status")
	}
	// The first delivery's webhook again.
	assert.Equal(t, first.Body, dup.Body, "duplicate: Body")
	assert.Equal(t, first.BillID, dup.BillID, "duplicate: BillID")
	assert.Equal(t, first.URL, dup.URL, "duplicate: URL")
	assert.Equal(t, appID, dup.AppID, "duplicate: AppID")
	if got := rc.received(); assert.Len(t, got, 3, "receiver's bodies") {
		assert.Equal(t, got[0], got[1], "receiver got the same body 3 times")
		assert.Equal(t, got[1], got[2], "receiver got the same body 3 times")
	}
	if dl := sb.Deliveries(); assert.Len(t, dl, 2, "deliveries: want the first and its duplicate") {
		assert.False(t, dl[0].Duplicate, "deliveries[0] is a duplicate")
		assert.True(t, dl[1].Duplicate, "deliveries[1] is no duplicate")
	}
	assert.True(t, wait(t, sb, "order0001").Duplicate, "WaitDelivery: want the newest, the duplicate")
	assert.Len(t, sb.Payments(), 1, "payments: a duplicate is no new payment")
}

func TestRedeliverIsHandledOnce(t *testing.T) {
	var handled atomic.Int32
	hook := httptest.NewServer(&beecloud.WebhookHandler{
		Apps:   beecloud.Apps{testConfig},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Handle: func(context.Context, *beecloud.Notification) error { handled.Add(1); return nil },
	})
	defer hook.Close()
	sb := newSandbox(t, beecloudtest.App{Config: testConfig, WebhookURL: hook.URL})
	_, err := sb.Pay(appID, data("order0001"), beecloud.ChannelWxMP)
	require.NoError(t, err)
	wait(t, sb, "order0001")
	for range 2 {
		d, err := sb.Redeliver(context.Background(), "order0001")
		require.NoError(t, err, "Redeliver")
		require.True(t, d.Acknowledged, "Redeliver = %+v; want acknowledged at once", d)
		require.Equal(t, "success", d.Attempts[0].Response, "Redeliver: first attempt's answer")
	}
	assert.Equal(t, int32(1), handled.Load(), "Handle ran for a webhook delivered 3 times")
}

func TestRedeliverErrors(t *testing.T) {
	rc := newReceiver(t, "fail") // never acknowledges
	sb := beecloudtest.NewSandbox(
		beecloudtest.App{Config: testConfig, WebhookURL: rc.URL},
		beecloudtest.App{Config: beecloud.Config{AppID: "other", AppSecret: "other-secret"}},
	)
	sb.Close()
	_, err := sb.Redeliver(context.Background(), "order0001")
	require.ErrorIs(t, err, beecloudtest.ErrSandboxClosed, "Redeliver after Close")

	sb = newSandbox(t,
		beecloudtest.App{Config: testConfig, WebhookURL: rc.URL},
		beecloudtest.App{Config: beecloud.Config{AppID: "other", AppSecret: "other-secret"}},
	)
	sb.RetryBase = time.Hour // the first attempt only, within this test
	_, err = sb.Redeliver(context.Background(), "order0001")
	require.ErrorIs(t, err, beecloudtest.ErrNoWebhook, "Redeliver of an unpaid order")
	// Paid, but the other app has no WebhookURL: nothing to send again.
	_, err = sb.Pay("other", map[string]any{"title": "test", "amount": 1, "out_trade_no": "test0001", "sign": beecloud.Sign("other", "test", 1, "test0001", "other-secret")}, "")
	require.NoError(t, err)
	_, err = sb.Redeliver(context.Background(), "test0001")
	require.ErrorIs(t, err, beecloudtest.ErrNoWebhook, "Redeliver for an app without webhook")

	// A context that ends returns the delivery so far, which goes on.
	_, err = sb.Pay(appID, data("order0002"), "")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := sb.Redeliver(ctx, "order0002")
	require.ErrorIs(t, err, context.Canceled, "Redeliver with a canceled context")
	assert.True(t, d.Duplicate, "canceled: want the pending duplicate, got %+v", d)
	assert.Equal(t, "order0002", d.OutTradeNo, "canceled: OutTradeNo")
	assert.False(t, d.Done(), "canceled: want the pending duplicate, got %+v", d)
}

func TestDuplicatesSendsEveryWebhookAgain(t *testing.T) {
	rc := newReceiver(t)
	sb := beecloudtest.NewUnstartedSandbox(beecloudtest.App{Config: testConfig, WebhookURL: rc.URL})
	sb.Duplicates = 2
	sb.Start()
	defer sb.Close()
	_, err := sb.Pay(appID, data("order0001"), "")
	require.NoError(t, err)
	// WaitDelivery returns once the last copy is done.
	d := wait(t, sb, "order0001")
	assert.True(t, d.Duplicate, "WaitDelivery: want the last duplicate, got %+v", d)
	assert.True(t, d.Acknowledged, "WaitDelivery: want it acknowledged, got %+v", d)
	dl := sb.Deliveries()
	require.Len(t, dl, 3, "deliveries: want the webhook and 2 duplicates")
	require.False(t, dl[0].Duplicate, "deliveries[0] is a duplicate")
	require.True(t, dl[1].Duplicate, "deliveries[1] is no duplicate")
	require.True(t, dl[2].Duplicate, "deliveries[2] is no duplicate")
	if got := rc.received(); assert.Len(t, got, 3, "receiver's bodies") {
		assert.Equal(t, got[0], got[2], "receiver got the same body 3 times")
	}
	// A duplicate follows only an acknowledged delivery.
	for i := 1; i < len(dl); i++ {
		acked := dl[i-1].Attempts[len(dl[i-1].Attempts)-1].At
		assert.False(t, dl[i].Attempts[0].At.Before(acked), "delivery %d started before delivery %d was acknowledged", i, i-1)
	}
}

// A delivery that Close stops is never done: WaitDelivery and Redeliver
// waiting on it must return, not block until their context ends.
func TestCloseEndsWaits(t *testing.T) {
	rc := newReceiver(t, "fail") // never acknowledges
	sb := beecloudtest.NewUnstartedSandbox(beecloudtest.App{Config: testConfig, WebhookURL: rc.URL})
	sb.RetryBase = time.Hour
	sb.Start()
	_, err := sb.Pay(appID, data("order0001"), "")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	type result struct {
		name string
		d    beecloudtest.Delivery
		err  error
	}
	results := make(chan result, 3)
	go func() {
		d, err := sb.WaitDelivery(ctx, "order0001")
		results <- result{"WaitDelivery", d, err}
	}()
	go func() {
		d, err := sb.Redeliver(ctx, "order0001")
		results <- result{"Redeliver", d, err}
	}()
	go func() {
		d, err := sb.WaitDelivery(ctx, "order0002") // never paid
		results <- result{"WaitDelivery of an unpaid order", d, err}
	}()
	// Close once the duplicate's first attempt was made, so that
	// Redeliver is waiting for its resend.
	require.Eventually(t, func() bool { return len(rc.received()) >= 2 }, 10*time.Second, time.Millisecond,
		"the receiver did not get the webhook and its duplicate")
	sb.Close()
	for range 3 {
		r := <-results
		require.ErrorIs(t, r.err, beecloudtest.ErrSandboxClosed, "%s after Close", r.name)
		assert.False(t, r.d.Done(), "%s after Close: want an unfinished delivery", r.name)
	}
}

// Close leaves no connection to the app's webhook URL open: a test that
// checks for leaked goroutines, or a merchant server shut down gracefully,
// would otherwise wait on the sandbox's idle keep-alive connection.
func TestCloseClosesWebhookConnections(t *testing.T) {
	var open atomic.Int32
	hook := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "success")
	}))
	hook.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	hook.Start()
	defer hook.Close()
	// StartAt, as the beecloud CLI runs it: httptest.Server.Close would
	// close http.DefaultTransport's idle connections for any sandbox.
	sb := beecloudtest.NewUnstartedSandbox(beecloudtest.App{Config: testConfig, WebhookURL: hook.URL})
	require.NoError(t, sb.StartAt("127.0.0.1:0"))
	_, err := sb.Pay(appID, data("order0001"), "")
	require.NoError(t, err)
	d := wait(t, sb, "order0001")
	require.True(t, d.Acknowledged, "delivery %+v; want it acknowledged", d)
	sb.Close()
	// The server sees the close a moment after the sandbox made it.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Zero(c, open.Load(), "connections to the webhook URL still open after Close")
	}, 5*time.Second, time.Millisecond)
}

// A payment to an app without a WebhookURL sends no webhook: WaitDelivery
// says so at once rather than waiting for its context to end.
func TestWaitDeliveryWithoutWebhookURL(t *testing.T) {
	sb := newSandbox(t, beecloudtest.App{Config: testConfig})
	_, err := sb.Pay(appID, data("order0001"), "")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = sb.WaitDelivery(ctx, "order0001")
	assert.ErrorIs(t, err, beecloudtest.ErrNoWebhook, "WaitDelivery")
}
