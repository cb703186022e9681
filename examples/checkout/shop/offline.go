package shop

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
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
	conns  *unusedConns
	grace  time.Duration // ShutdownGrace; tests change it
	served chan error
}

// ShutdownGrace bounds how long [Offline.Shutdown] waits for requests
// under way before it closes their connections.
const ShutdownGrace = time.Second

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
		conns:   &unusedConns{state: make(map[net.Conn]http.ConnState)},
		grace:   ShutdownGrace,
		served:  make(chan error, 1),
	}
	o.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ConnState: o.conns.track}
	o.srv.RegisterOnShutdown(o.conns.close)
	go func() { o.served <- o.srv.Serve(ln) }()
	return o, nil
}

// Done receives the error that stopped the shop's server if it stops by
// itself, not by Shutdown.
func (o *Offline) Done() <-chan error { return o.served }

// Shutdown stops the shop gracefully, then the sandbox. It closes at once
// the connections that never sent a request (browsers open spare ones,
// which http.Server.Shutdown alone waits 5 s for), lets requests under way
// finish for up to ShutdownGrace, or until ctx ends, and then closes every
// connection. It returns ctx's error if ctx ended first.
func (o *Offline) Shutdown(ctx context.Context) error {
	grace, cancel := context.WithTimeout(ctx, o.grace)
	defer cancel()
	err := o.srv.Shutdown(grace)
	if err != nil {
		o.srv.Close() // the listener is closed already; Close only ends connections
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			err = nil // the grace ran out, not the caller's time
		}
	}
	o.Sandbox.Close()
	return err
}

// unusedConns tracks the server's connections that have not sent a request
// yet, so that Shutdown can close them rather than wait for them.
type unusedConns struct {
	mu    sync.Mutex
	state map[net.Conn]http.ConnState
}

func (u *unusedConns) track(c net.Conn, s http.ConnState) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if s == http.StateNew {
		u.state[c] = s
	} else {
		delete(u.state, c) // active, idle (Shutdown closes it), hijacked or closed
	}
}

// close closes the connections that never sent a request. It runs when
// Shutdown has closed the listener.
func (u *unusedConns) close() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for c := range u.state {
		c.Close()
		delete(u.state, c)
	}
}

// demoUUID returns a random UUID, the shape of BeeCloud's App IDs and
// secrets, for the sandbox's demo app.
func demoUUID() string {
	h := beecloud.NewOutTradeNo() // 32 random hex digits
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
