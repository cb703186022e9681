package beecloud_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

func TestWebhookHandlerNilBody(t *testing.T) {
	h, rec, logs := newHandler(t)
	r := paidRequest()
	r.Body = nil
	wantAnswer(t, serve(h, r), http.StatusBadRequest, "no body")
	assert.Equal(t, 0, rec.count(), "Handle calls")
	assert.Contains(t, logs.String(), "no body", "log: want a warning about the missing body")
}

// rawRequest is the head of a webhook POST whose body is size bytes.
func rawRequest(size int) string {
	return fmt.Sprintf("POST / HTTP/1.1\r\nHost: beecloud.test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", size)
}

// TestWebhookHandlerReadTimeout has a client trickle its body one byte at
// a time over a real connection: it is answered 408 after ReadTimeout,
// not when (or if) the body is complete.
func TestWebhookHandlerReadTimeout(t *testing.T) {
	h, rec, _ := newHandler(t)
	h.ReadTimeout = 200 * time.Millisecond
	srv := httptest.NewServer(h)
	defer srv.Close()

	body := beecloudtest.NotificationBody(handlerConfig, beecloudtest.Paid(testOrder))
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err, "Dial")
	defer conn.Close()
	_, err = io.WriteString(conn, rawRequest(len(body)))
	require.NoError(t, err, "writing the request's head")
	answered := make(chan struct{})
	defer close(answered)
	go func() {
		tick := time.NewTicker(50 * time.Millisecond) // the whole body: about a minute
		defer tick.Stop()
		for _, b := range body {
			if _, err := conn.Write([]byte{b}); err != nil {
				return
			}
			select {
			case <-tick.C:
			case <-answered:
				return
			}
		}
	}()
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "no answer to a trickling body")
	resp.Body.Close()
	took := time.Since(start)
	assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode, "answer to a trickling body")
	assert.LessOrEqual(t, took, 2*time.Second, "answered 408 after %v; want after about %v", took, h.ReadTimeout)
	assert.True(t, resp.Close, "the connection stays open after a body that timed out; want Connection: close")
	assert.Equal(t, 0, rec.count(), "Handle calls")
	// A body that arrives in time is handled.
	resp, err = http.Post(srv.URL, "application/json", strings.NewReader(string(body)))
	require.NoError(t, err, "POST")
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "answer to a body in time")
	assert.Equal(t, 1, rec.count(), "Handle calls")
}

// ctxLog is a slog.Handler that notes whether a record was logged with a
// cancelled context.
type ctxLog struct {
	slog.Handler
	cancelled atomic.Bool
}

func (c *ctxLog) Handle(ctx context.Context, r slog.Record) error {
	if ctx.Err() != nil {
		c.cancelled.Store(true)
	}
	return c.Handler.Handle(ctx, r)
}

// TestWebhookHandlerKeepAliveAfterLongHandle checks that the read
// deadline ends with the body: a Handle longer than ReadTimeout neither
// fails, nor sees the request's context cancelled by the server's watch
// on the connection timing out, nor spoils the connection for the next
// delivery.
func TestWebhookHandlerKeepAliveAfterLongHandle(t *testing.T) {
	h, rec, _ := newHandler(t)
	h.ReadTimeout = 100 * time.Millisecond
	logs := &ctxLog{Handler: slog.NewTextHandler(io.Discard, nil)}
	h.Logger = slog.New(logs)
	var calls atomic.Int32
	h.Handle = func(ctx context.Context, n *beecloud.Notification) error {
		if calls.Add(1) == 1 {
			time.Sleep(3 * h.ReadTimeout)
		}
		return rec.handle(ctx, n)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := srv.Client()
	for i, id := range []string{"keep00001", "keep00002"} {
		reused := false
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
		body := beecloudtest.NotificationBody(handlerConfig, beecloudtest.Paid(beecloud.Order{Title: "x", Amount: 1, OutTradeNo: id}))
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodPost, srv.URL, strings.NewReader(string(body)))
		resp, err := client.Do(req)
		require.NoError(t, err, "delivery %d", i)
		text, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "delivery %d: status", i)
		assert.Equal(t, "success", string(text), "delivery %d: answer", i)
		if i == 1 {
			assert.True(t, reused, "the second delivery needed a new connection; want the first one reused")
		}
	}
	assert.False(t, logs.cancelled.Load(), "the request's context was cancelled while the client waited")
}

// TestWebhookHandlerClientHangsUp covers BeeCloud going away: after the
// whole body, Handle still runs to its end, with a live context, once the
// server has seen the client go, and is recorded, so the resend is
// answered without it; in the middle of the body, nothing is handled.
func TestWebhookHandlerClientHangsUp(t *testing.T) {
	h, rec, _ := newHandler(t)
	cutLogged := make(chan struct{}, 1)
	h.Logger = slog.New(&onMessage{Handler: h.Logger.Handler(), msg: "reading the body failed", seen: cutLogged})
	store := &completeSignal{completed: make(chan struct{}, 1)}
	h.Store = store
	hungUp := make(chan context.Context, 1) // the request's context, cancelled when the server sees the client go
	var handleErr error
	h.Handle = func(ctx context.Context, n *beecloud.Notification) error {
		<-(<-hungUp).Done()
		handleErr = ctx.Err()
		return rec.handle(ctx, n)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case hungUp <- r.Context():
		default:
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	body := beecloudtest.NotificationBody(handlerConfig, beecloudtest.Paid(testOrder))

	hangUp := func(t *testing.T, data string) {
		t.Helper()
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		require.NoError(t, err, "Dial")
		_, err = io.WriteString(conn, data)
		require.NoError(t, err, "writing the request")
		conn.Close()
	}
	t.Run("after the body", func(t *testing.T) {
		hangUp(t, rawRequest(len(body))+string(body))
		select {
		case <-store.completed:
		case <-time.After(5 * time.Second):
			require.Fail(t, "Handle's completion was not recorded after the client hung up")
		}
		require.NoError(t, handleErr, "Handle's ctx once the client had gone: want live")
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(string(body)))
		require.NoError(t, err, "resend")
		text, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, "success", string(text), "resend's answer (status %d)", resp.StatusCode)
		require.Equal(t, 1, rec.count(), "Handle runs")
	})
	t.Run("in the body", func(t *testing.T) {
		before := rec.count()
		hangUp(t, rawRequest(len(body))+string(body[:len(body)/2]))
		select {
		case <-cutLogged:
		case <-time.After(5 * time.Second):
			require.Fail(t, "no warning about the cut body")
		}
		assert.Equal(t, before, rec.count(), "Handle runs: want none for a cut body")
	})
}

// completeSignal is a MemStore that tells when a completion is recorded.
type completeSignal struct {
	beecloud.MemStore
	completed chan struct{}
}

func (s *completeSignal) Complete(ctx context.Context, key, token string) error {
	err := s.MemStore.Complete(ctx, key, token)
	if err == nil {
		s.completed <- struct{}{}
	}
	return err
}

// onMessage is a slog.Handler that tells when a record's message
// contains msg.
type onMessage struct {
	slog.Handler
	msg  string
	seen chan struct{}
}

func (o *onMessage) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, o.msg) {
		select {
		case o.seen <- struct{}{}:
		default:
		}
	}
	return o.Handler.Handle(ctx, r)
}

func TestWebhookHandlerValidate(t *testing.T) {
	handle := new(recorder).handle
	valid := func() *beecloud.WebhookHandler {
		return &beecloud.WebhookHandler{Apps: beecloud.Apps{handlerConfig}, Handle: handle}
	}
	tests := []struct {
		name   string
		change func(h *beecloud.WebhookHandler)
		want   []string // in the error; none: valid
	}{
		{"valid", func(h *beecloud.WebhookHandler) {}, nil},
		{"all set", func(h *beecloud.WebhookHandler) {
			h.Lease, h.HandleTimeout, h.ReadTimeout, h.MaxBodyBytes = time.Minute, time.Minute, time.Second, 4096
			h.AllowedSenders = beecloud.WebhookSenders()
		}, nil},
		{"no apps", func(h *beecloud.WebhookHandler) { h.Apps = nil }, []string{"Apps is empty"}},
		{"app without secret", func(h *beecloud.WebhookHandler) {
			h.Apps = append(h.Apps, beecloud.Config{AppID: vecAppID})
		}, []string{"MasterSecret is empty", "Apps[1]"}},
		{"no Handle", func(h *beecloud.WebhookHandler) { h.Handle = nil }, []string{"Handle is nil"}},
		{"nil Store", func(h *beecloud.WebhookHandler) {
			var s *beecloud.MemStore
			h.Store = s
		}, []string{"Store is a nil *beecloud.MemStore"}},
		{"short lease", func(h *beecloud.WebhookHandler) { h.Lease = time.Millisecond }, []string{"Lease 1ms is below MinLease"}},
		{"negative lease", func(h *beecloud.WebhookHandler) { h.Lease = -time.Second }, []string{"Lease -1s"}},
		{"negative timeouts", func(h *beecloud.WebhookHandler) {
			h.HandleTimeout, h.ReadTimeout = -1, -1
		}, []string{"HandleTimeout -1ns is negative", "ReadTimeout -1ns is negative"}},
		{"negative body size", func(h *beecloud.WebhookHandler) { h.MaxBodyBytes = -1 }, []string{"MaxBodyBytes -1"}},
		{"zero prefix", func(h *beecloud.WebhookHandler) {
			h.AllowedSenders = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), {}}
		}, []string{"AllowedSenders[1]"}},
		{"everything wrong", func(h *beecloud.WebhookHandler) {
			h.Apps, h.Handle, h.Lease = nil, nil, time.Nanosecond
		}, []string{"Apps is empty", "Handle is nil", "Lease 1ns"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := valid()
			tt.change(h)
			err := h.Validate()
			if len(tt.want) == 0 {
				require.NoError(t, err, "Validate()")
				return
			}
			require.ErrorIs(t, err, beecloud.ErrInvalidConfig, "Validate()")
			// A test of the message: it names every mistake.
			for _, w := range tt.want {
				require.ErrorContains(t, err, w, "Validate()")
			}
			// And ServeHTTP refuses to work, loudly.
			logs := new(syncBuffer)
			h.Logger = newTextLogger(logs)
			wantAnswer(t, serve(h, paidRequest()), http.StatusInternalServerError, "handler misconfigured")
			assert.Contains(t, logs.String(), tt.want[0], "log")
		})
	}
}

func newTextLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
