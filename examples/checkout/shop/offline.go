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
	// Shop is the shop being served.
	Shop *Shop

	*Server
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
	// The sandbox answers BeeCloud's REST API too: the shop can check a
	// payment, sweep, and refund offline.
	cfg.Client = &beecloud.Client{Config: cfg.BeeCloud, BaseURL: sandbox.URL}
	if cfg.Orders == nil {
		cfg.Orders = NewOrders()
	}
	h, err := New(cfg)
	if err != nil {
		sandbox.Close()
		return nil, err
	}
	return &Offline{URL: url, Sandbox: sandbox, Orders: cfg.Orders, Shop: h, Server: Serve(ln, h)}, nil
}

// Shutdown stops the shop as [Server.Shutdown] does, then the sandbox.
func (o *Offline) Shutdown(ctx context.Context) error {
	err := o.Server.Shutdown(ctx)
	o.Sandbox.Close()
	return err
}

// Timeouts of the shop's server: a slow or stalled client cannot hold a
// connection (and its memory) for long.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 30 * time.Second // the "check payment status" button waits for BeeCloud
	IdleTimeout       = 2 * time.Minute
)

// ShutdownGrace bounds how long [Server.Shutdown] waits for requests
// under way before it closes their connections.
const ShutdownGrace = time.Second

// Server serves a handler on a listener with the timeouts above and a
// Shutdown that does not wait for the spare connections browsers open.
type Server struct {
	srv    *http.Server
	conns  *unusedConns
	grace  time.Duration // ShutdownGrace; tests change it
	served chan error

	stopSweep  context.CancelFunc
	sweepEnded chan struct{}
}

// Serve serves the shop on ln in a new goroutine, and runs its sweeper
// (see [Shop.RunSweeper]) in another, until Shutdown.
func Serve(ln net.Listener, sh *Shop) *Server {
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{
		conns:      &unusedConns{state: make(map[net.Conn]http.ConnState)},
		grace:      ShutdownGrace,
		served:     make(chan error, 1),
		stopSweep:  stop,
		sweepEnded: make(chan struct{}),
	}
	go func() {
		defer close(s.sweepEnded)
		sh.RunSweeper(ctx)
	}()
	s.srv = &http.Server{
		Handler:           sh,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		ConnState:         s.conns.track,
	}
	s.srv.RegisterOnShutdown(s.conns.close)
	go func() { s.served <- s.srv.Serve(ln) }()
	return s
}

// Done receives the error that stopped the server if it stops by itself,
// not by Shutdown.
func (s *Server) Done() <-chan error { return s.served }

// Shutdown stops the server gracefully. It closes at once the connections
// that never sent a request (browsers open spare ones, which
// http.Server.Shutdown alone waits 5 s for), lets requests under way
// finish for up to ShutdownGrace, or until ctx ends, and then closes every
// connection. It returns ctx's error if ctx ended first.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopSweep()
	<-s.sweepEnded
	grace, cancel := context.WithTimeout(ctx, s.grace)
	defer cancel()
	err := s.srv.Shutdown(grace)
	if err != nil {
		_ = s.srv.Close() // the listener is closed already; Close only ends connections
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			err = nil // the grace ran out, not the caller's time
		}
	}
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
