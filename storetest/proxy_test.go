package storetest_test

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/paybutton/beecloud/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoServer accepts connections on loopback and echoes each line back.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
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
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestProxy(t *testing.T) {
	p := storetest.NewProxy(t, echoServer(t))
	c := dial(t, p.Addr())
	require.NoError(t, roundTrip(c, "hello"), "through the proxy")

	const cut = 300 * time.Millisecond
	start := time.Now()
	p.Cut(cut)
	require.Error(t, roundTrip(c, "after cut"), "a connection made before Cut still works; want it broken")
	// New connections are refused while the cut lasts (a machine too busy
	// to dial before it ends cannot tell)…
	if err := dialTrip(t, p.Addr(), "during cut"); time.Since(start) < cut {
		assert.Error(t, err, "a connection made during the cut works; want it refused")
	}
	// …and work again after it: the first dial after its end succeeds.
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		assert.NoError(ct, dialTrip(t, p.Addr(), "after"), "a connection made after the cut")
	}, cut+10*time.Second, 10*time.Millisecond)
	assert.Equal(t, 1, p.Cuts(), "Cuts")
	assert.GreaterOrEqual(t, p.Refused(), 1, "Refused")

	c = dial(t, p.Addr())
	require.NoError(t, roundTrip(c, "before close"))
	require.NoError(t, p.Close(), "Close")
	require.Error(t, roundTrip(c, "after close"), "a connection works after Close; want it broken")
	_, err := net.DialTimeout("tcp", p.Addr(), time.Second)
	require.Error(t, err, "the proxy accepts connections after Close")
	assert.NoError(t, p.Close(), "second Close")
}

func TestProxyTargetDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	p := storetest.NewProxy(t, addr)
	require.Error(t, dialTrip(t, p.Addr(), "nobody"), "a connection to a target that is down works")
	assert.Equal(t, 1, p.Refused(), "Refused")
}
