package beecloudtest_test

import (
	"bytes"
	"context"
	"errors"
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
)

func TestRedeliverSendsTheSameWebhookAgain(t *testing.T) {
	rc := newReceiver(t, "success", "500 busy", "success")
	sb := newSandbox(t, beecloudtest.App{Config: testConfig, WebhookURL: rc.URL})
	if _, err := sb.Pay(appID, data("order0001"), beecloud.ChannelAli); err != nil {
		t.Fatal(err)
	}
	first := wait(t, sb, "order0001")
	if !first.Acknowledged || first.Duplicate {
		t.Fatalf("first delivery %+v; want acknowledged, not a duplicate", first)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dup, err := sb.Redeliver(ctx, "order0001")
	if err != nil {
		t.Fatal(err)
	}
	// The receiver answers the duplicate's first attempt 500: the
	// sandbox resends it as it would any webhook.
	if !dup.Acknowledged || !dup.Duplicate || len(dup.Attempts) != 2 || dup.Attempts[0].StatusCode != 500 {
		t.Errorf("duplicate %+v; want acknowledged on the second attempt", dup)
	}
	if !bytes.Equal(dup.Body, first.Body) || dup.BillID != first.BillID || dup.URL != first.URL || dup.AppID != appID {
		t.Errorf("duplicate %+v; want the first delivery's webhook %s", dup, first.Body)
	}
	got := rc.received()
	if len(got) != 3 || !bytes.Equal(got[0], got[1]) || !bytes.Equal(got[1], got[2]) {
		t.Errorf("receiver got %d bodies; want the same body 3 times", len(got))
	}
	if dl := sb.Deliveries(); len(dl) != 2 || dl[0].Duplicate || !dl[1].Duplicate {
		t.Errorf("deliveries %+v; want the first and its duplicate", dl)
	}
	if d := wait(t, sb, "order0001"); !d.Duplicate {
		t.Errorf("WaitDelivery returned %+v; want the newest, the duplicate", d)
	}
	if n := len(sb.Payments()); n != 1 {
		t.Errorf("got %d payments; want 1: a duplicate is no new payment", n)
	}
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
	if _, err := sb.Pay(appID, data("order0001"), beecloud.ChannelWxMP); err != nil {
		t.Fatal(err)
	}
	wait(t, sb, "order0001")
	for range 2 {
		d, err := sb.Redeliver(context.Background(), "order0001")
		if err != nil || !d.Acknowledged || d.Attempts[0].Response != "success" {
			t.Fatalf("Redeliver = %+v, %v; want acknowledged at once", d, err)
		}
	}
	if n := handled.Load(); n != 1 {
		t.Errorf("Handle ran %d times for a webhook delivered 3 times; want 1", n)
	}
}

func TestRedeliverErrors(t *testing.T) {
	rc := newReceiver(t, "fail") // never acknowledges
	sb := beecloudtest.NewSandbox(
		beecloudtest.App{Config: testConfig, WebhookURL: rc.URL},
		beecloudtest.App{Config: beecloud.Config{AppID: "other", AppSecret: "other-secret"}},
	)
	sb.Close()
	if _, err := sb.Redeliver(context.Background(), "order0001"); !errors.Is(err, beecloudtest.ErrSandboxClosed) {
		t.Errorf("after Close: got %v; want ErrSandboxClosed", err)
	}

	sb = newSandbox(t,
		beecloudtest.App{Config: testConfig, WebhookURL: rc.URL},
		beecloudtest.App{Config: beecloud.Config{AppID: "other", AppSecret: "other-secret"}},
	)
	sb.RetryBase = time.Hour // the first attempt only, within this test
	if _, err := sb.Redeliver(context.Background(), "order0001"); !errors.Is(err, beecloudtest.ErrNoWebhook) {
		t.Errorf("unpaid order: got %v; want ErrNoWebhook", err)
	}
	// Paid, but the other app has no WebhookURL: nothing to send again.
	if _, err := sb.Pay("other", map[string]any{"title": "test", "amount": 1, "out_trade_no": "test0001", "sign": beecloud.Sign("other", "test", 1, "test0001", "other-secret")}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Redeliver(context.Background(), "test0001"); !errors.Is(err, beecloudtest.ErrNoWebhook) {
		t.Errorf("app without webhook: got %v; want ErrNoWebhook", err)
	}

	// A context that ends returns the delivery so far, which goes on.
	if _, err := sb.Pay(appID, data("order0002"), ""); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := sb.Redeliver(ctx, "order0002")
	if !errors.Is(err, context.Canceled) || !d.Duplicate || d.OutTradeNo != "order0002" || d.Done() {
		t.Errorf("canceled: got %+v, %v; want the pending duplicate and context.Canceled", d, err)
	}
}

func TestDuplicatesSendsEveryWebhookAgain(t *testing.T) {
	rc := newReceiver(t)
	sb := beecloudtest.NewUnstartedSandbox(beecloudtest.App{Config: testConfig, WebhookURL: rc.URL})
	sb.Duplicates = 2
	sb.Start()
	defer sb.Close()
	if _, err := sb.Pay(appID, data("order0001"), ""); err != nil {
		t.Fatal(err)
	}
	// WaitDelivery returns once the last copy is done.
	if d := wait(t, sb, "order0001"); !d.Duplicate || !d.Acknowledged {
		t.Errorf("WaitDelivery returned %+v; want the last duplicate, acknowledged", d)
	}
	dl := sb.Deliveries()
	if len(dl) != 3 || dl[0].Duplicate || !dl[1].Duplicate || !dl[2].Duplicate {
		t.Fatalf("got %d deliveries %+v; want the webhook and 2 duplicates", len(dl), dl)
	}
	got := rc.received()
	if len(got) != 3 || !bytes.Equal(got[0], got[2]) {
		t.Errorf("receiver got %d bodies; want the same body 3 times", len(got))
	}
	// A duplicate follows only an acknowledged delivery.
	for i := 1; i < len(dl); i++ {
		if dl[i].Attempts[0].At.Before(dl[i-1].Attempts[len(dl[i-1].Attempts)-1].At) {
			t.Errorf("delivery %d started before delivery %d was acknowledged", i, i-1)
		}
	}
}

// A delivery that Close stops is never done: WaitDelivery and Redeliver
// waiting on it must return, not block until their context ends.
func TestCloseEndsWaits(t *testing.T) {
	rc := newReceiver(t, "fail") // never acknowledges
	sb := beecloudtest.NewUnstartedSandbox(beecloudtest.App{Config: testConfig, WebhookURL: rc.URL})
	sb.RetryBase = time.Hour
	sb.Start()
	if _, err := sb.Pay(appID, data("order0001"), ""); err != nil {
		t.Fatal(err)
	}
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
	for len(rc.received()) < 2 {
		time.Sleep(time.Millisecond)
	}
	sb.Close()
	for range 3 {
		r := <-results
		if !errors.Is(r.err, beecloudtest.ErrSandboxClosed) || r.d.Done() {
			t.Errorf("%s after Close: got done=%v, %v; want an unfinished delivery and ErrSandboxClosed", r.name, r.d.Done(), r.err)
		}
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
	if err := sb.StartAt("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Pay(appID, data("order0001"), ""); err != nil {
		t.Fatal(err)
	}
	if d := wait(t, sb, "order0001"); !d.Acknowledged {
		t.Fatalf("delivery %+v; want it acknowledged", d)
	}
	sb.Close()
	for deadline := time.Now().Add(5 * time.Second); open.Load() > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections to the webhook URL still open after Close", open.Load())
		}
	}
}

// A payment to an app without a WebhookURL sends no webhook: WaitDelivery
// says so at once rather than waiting for its context to end.
func TestWaitDeliveryWithoutWebhookURL(t *testing.T) {
	sb := newSandbox(t, beecloudtest.App{Config: testConfig})
	if _, err := sb.Pay(appID, data("order0001"), ""); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := sb.WaitDelivery(ctx, "order0001"); !errors.Is(err, beecloudtest.ErrNoWebhook) {
		t.Errorf("got %v; want ErrNoWebhook", err)
	}
}
