package storetest_test

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/paybutton/beecloud/storetest"
)

// echoServer accepts connections on loopback and echoes each line back.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c) // an echo server: ends with the connection
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line through c and reads it back.
func roundTrip(c net.Conn, line string) error {
	if err := c.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return err
	}
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if got != line+"\n" {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// dialTrip connects to addr and sends a line through: a refused
// connection may fail in the dial itself (a reset before connect returns).
func dialTrip(t *testing.T, addr, line string) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return roundTrip(c, line)
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestProxy(t *testing.T) {
	p := storetest.NewProxy(t, echoServer(t))
	c := dial(t, p.Addr())
	if err := roundTrip(c, "hello"); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}

	const cut = 300 * time.Millisecond
	start := time.Now()
	p.Cut(cut)
	if err := roundTrip(c, "after cut"); err == nil {
		t.Error("a connection made before Cut still works; want it broken")
	}
	// New connections are refused while the cut lasts…
	if err := dialTrip(t, p.Addr(), "during cut"); err == nil && time.Since(start) < cut {
		t.Error("a connection made during the cut works; want it refused")
	}
	// …and work again after it.
	time.Sleep(time.Until(start.Add(cut + 50*time.Millisecond)))
	if err := dialTrip(t, p.Addr(), "after"); err != nil {
		t.Errorf("a connection made after the cut: %v", err)
	}
	if p.Cuts() != 1 || p.Refused() < 1 {
		t.Errorf("Cuts, Refused = %d, %d; want 1, at least 1", p.Cuts(), p.Refused())
	}

	c = dial(t, p.Addr())
	if err := roundTrip(c, "before close"); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := roundTrip(c, "after close"); err == nil {
		t.Error("a connection works after Close; want it broken")
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		t.Error("the proxy accepts connections after Close")
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestProxyTargetDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	p := storetest.NewProxy(t, addr)
	if err := dialTrip(t, p.Addr(), "nobody"); err == nil {
		t.Fatal("a connection to a target that is down works")
	}
	if p.Refused() != 1 {
		t.Errorf("Refused = %d; want 1", p.Refused())
	}
}
