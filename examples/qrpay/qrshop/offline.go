package qrshop

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// Offline is the shop wired to a local BeeCloud sandbox: the sandbox makes
// the bills, serves the page a QR code leads to (where a click stands for
// paying in WeChat) and sends the shop its webhooks.
type Offline struct {
	// URL is the shop's base URL, such as http://127.0.0.1:8082.
	URL string
	// Sandbox is the local BeeCloud.
	Sandbox *beecloudtest.Sandbox
	// Shop is the shop being served.
	Shop *Shop

	srv *http.Server
}

// StartOffline serves the shop on ln for a fresh demo app on a new
// sandbox, with cfg's other fields (cfg.Client is replaced by one of the
// sandbox), in BeeCloud's test mode if test. retryBase is the sandbox's
// wait before it resends a webhook: 2*time.Second is BeeCloud's pace, zero
// the sandbox's fast default for tests.
func StartOffline(ln net.Listener, cfg Config, test bool, retryBase time.Duration) (*Offline, error) {
	url := "http://" + ln.Addr().String()
	sandbox := beecloudtest.NewUnstartedSandbox(beecloudtest.App{
		Config:     beecloud.Config{AppID: demoUUID(), AppSecret: demoUUID(), MasterSecret: demoUUID(), TestSecret: demoUUID()},
		WebhookURL: url + WebhookPath,
	})
	sandbox.RetryBase = retryBase
	if err := sandbox.StartAt("127.0.0.1:0"); err != nil {
		return nil, err
	}
	cfg.Client = &beecloud.Client{Config: sandbox.Apps()[0].Config, BaseURL: sandbox.URL, Test: test}
	shop, err := New(cfg)
	if err != nil {
		sandbox.Close()
		return nil, err
	}
	srv := &http.Server{
		Handler:           shop,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	go srv.Serve(ln) //nolint:errcheck // Serve returns ErrServerClosed after Shutdown
	return &Offline{URL: url, Sandbox: sandbox, Shop: shop, srv: srv}, nil
}

// Shutdown stops the shop, giving requests under way until ctx ends, and
// then the sandbox.
func (o *Offline) Shutdown(ctx context.Context) error {
	err := o.srv.Shutdown(ctx)
	if err != nil {
		_ = o.srv.Close()
	}
	o.Sandbox.Close()
	return err
}

// demoUUID returns a random UUID, the shape of BeeCloud's App IDs and
// secrets, for the sandbox's demo app.
func demoUUID() string {
	h := beecloud.NewOutTradeNo() // 32 random hex digits
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
