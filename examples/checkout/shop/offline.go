package shop

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// Offline is the shop wired to a local BeeCloud sandbox, as
// "go run ./examples/checkout" runs it without credentials: the sandbox
// serves the button script and the pay pages and sends its webhooks to the
// shop. End-to-end tests start one in-process.
type Offline struct {
	// URL is the shop's base URL, such as http://127.0.0.1:8080.
	URL string
	// Sandbox is the local BeeCloud; Sandbox.Apps()[0].Config is the demo
	// app's.
	Sandbox *beecloudtest.Sandbox
	// Orders is the shop's order book.
	Orders *Orders

	srv    *http.Server
	served chan error
}

// StartOffline serves the shop on ln for a fresh demo app on a new sandbox,
// with cfg's other fields (cfg.BeeCloud is replaced). retryBase is the
// sandbox's wait before the first webhook resend: 2*time.Second is
// BeeCloud's pace, zero the sandbox's fast default for tests.
func StartOffline(ln net.Listener, cfg Config, retryBase time.Duration) (*Offline, error) {
	url := "http://" + ln.Addr().String()
	sandbox := beecloudtest.NewUnstartedSandbox(beecloudtest.App{
		Config:     beecloud.Config{AppID: demoUUID(), AppSecret: demoUUID(), MasterSecret: demoUUID()},
		WebhookURL: url + WebhookPath,
	})
	sandbox.RetryBase = retryBase
	if err := sandbox.StartAt("127.0.0.1:0"); err != nil {
		return nil, err
	}
	cfg.BeeCloud = sandbox.Apps()[0].Config
	cfg.BeeCloud.ScriptURL = sandbox.ScriptURL()
	cfg.Sandbox = true
	if cfg.Orders == nil {
		cfg.Orders = NewOrders()
	}
	h, err := New(cfg)
	if err != nil {
		sandbox.Close()
		return nil, err
	}
	o := &Offline{
		URL:     url,
		Sandbox: sandbox,
		Orders:  cfg.Orders,
		srv:     &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second},
		served:  make(chan error, 1),
	}
	go func() { o.served <- o.srv.Serve(ln) }()
	return o, nil
}

// Done receives the error that stopped the shop's server if it stops by
// itself, not by Shutdown.
func (o *Offline) Done() <-chan error { return o.served }

// Shutdown stops the shop gracefully, then the sandbox.
func (o *Offline) Shutdown(ctx context.Context) error {
	err := o.srv.Shutdown(ctx)
	o.Sandbox.Close()
	return err
}

// demoUUID returns a random UUID, the shape of BeeCloud's App IDs and
// secrets, for the sandbox's demo app.
func demoUUID() string {
	h := beecloud.NewOutTradeNo() // 32 random hex digits
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
