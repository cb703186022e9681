package storetest

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is a TCP proxy on loopback for fault-injection tests: a client
// that connects to [Proxy.Addr] is connected to the target, and
// [Proxy.Cut] breaks every connection at once, as a network outage or a
// restarted load balancer would. Point a store's client at Addr instead of
// at the backend.
//
// Make one with [NewProxy]. A Proxy is safe for concurrent use.
type Proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	refuse  time.Time // new connections are refused until then
	closed  bool
	cuts    atomic.Int64
	refused atomic.Int64
	wg      sync.WaitGroup
}

// NewProxy starts a Proxy on a free port of 127.0.0.1 that forwards to
// target (host:port) and closes it when t ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("storetest: proxy: %v", err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { p.Close() })
	return p
}

// Addr returns the address clients connect to, host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every connection through the proxy now, on both sides, and
// for d refuses new ones: they are accepted and reset at once, so that a
// client sees its connection fail rather than hang. It returns at once.
func (p *Proxy) Cut(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cuts.Add(1)
	if until := time.Now().Add(d); until.After(p.refuse) {
		p.refuse = until
	}
	for c := range p.conns {
		reset(c)
	}
	clear(p.conns)
}

// Cuts returns how many times Cut was called.
func (p *Proxy) Cuts() int { return int(p.cuts.Load()) }

// Refused returns how many connections the proxy refused during cuts or
// could not connect to the target.
func (p *Proxy) Refused() int { return int(p.refused.Load()) }

// Close stops the proxy and closes every connection through it.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		p.mu.Lock()
		refuse := p.closed || time.Now().Before(p.refuse)
		p.mu.Unlock()
		if refuse {
			p.refused.Add(1)
			reset(c)
			continue
		}
		p.wg.Add(1)
		go p.forward(c)
	}
}

// forward connects client to the target and copies both ways until either
// side closes or a Cut.
func (p *Proxy) forward(client net.Conn) {
	defer p.wg.Done()
	server, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		p.refused.Add(1)
		reset(client)
		return
	}
	if !p.track(client, server) {
		reset(client)
		reset(server)
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src) // ends when either side closes or is cut
		// One side ended: end both, as a cut would.
		dst.Close()
		src.Close()
	}
	go pipe(server, client)
	go pipe(client, server)
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}

// track registers a new pair of connections, unless a Cut or Close came
// while the server side was being dialled.
func (p *Proxy) track(client, server net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || time.Now().Before(p.refuse) {
		return false
	}
	p.conns[client] = struct{}{}
	p.conns[server] = struct{}{}
	return true
}

// reset closes c with a TCP reset rather than an orderly close, as a
// broken network path is seen by the peer that writes next.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // best effort: Close still ends the connection
	}
	c.Close()
}
