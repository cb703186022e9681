package beecloud_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

var handlerConfig = beecloud.Config{
	AppID:        vecAppID,
	AppSecret:    "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
	MasterSecret: "8f1b2c3d-4e5f-4a6b-9c7d-0e1f2a3b4c5d",
	TestSecret:   "2c0c5e0d-7a3b-4b8e-8f0e-3f4d5c6b7a80",
}

// recorder is a Handle function that counts its calls and fails or
// blocks on demand.
type recorder struct {
	mu    sync.Mutex
	calls []*beecloud.Notification
	err   error
}

func (r *recorder) handle(ctx context.Context, n *beecloud.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, n)
	return r.err
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// newHandler returns a handler for handlerConfig whose log goes to the
// returned buffer.
func newHandler(t *testing.T) (*beecloud.WebhookHandler, *recorder, *syncBuffer) {
	t.Helper()
	rec := new(recorder)
	logs := new(syncBuffer)
	h := &beecloud.WebhookHandler{
		Apps:   beecloud.Apps{handlerConfig},
		Handle: rec.handle,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	return h, rec, logs
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func post(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func paidRequest() *http.Request {
	return beecloudtest.NewRequest(handlerConfig, beecloudtest.Paid(testOrder))
}

func wantAnswer(t *testing.T, w *httptest.ResponseRecorder, status int, body string) {
	t.Helper()
	assert.Equal(t, status, w.Code, "status (body %q)", w.Body.String())
	if body != "" {
		assert.Equal(t, body, w.Body.String(), "body")
	}
	if status != http.StatusOK {
		assert.NotEqual(t, "success", w.Body.String(), "answered success with status %d", w.Code)
	}
	assert.Equal(t, "text/plain; charset=utf-8", w.Header().Get("Content-Type"), "Content-Type")
}

func TestWebhookHandlerSuccess(t *testing.T) {
	h, rec, _ := newHandler(t)
	w := serve(h, paidRequest())
	wantAnswer(t, w, http.StatusOK, "success")
	require.Equal(t, 1, rec.count(), "Handle calls")
	n := rec.calls[0]
	assert.Equal(t, testOrder.OutTradeNo, n.TransactionID, "Handle's TransactionID (%+v)", n)
	assert.Equal(t, testOrder.Amount, n.TransactionFee, "Handle's TransactionFee")
	assert.Equal(t, vecAppID, n.AppID, "Handle's AppID")
	assert.Equal(t, beecloud.ChannelType("ALI"), n.ChannelType, "Handle's ChannelType")
}

func TestWebhookHandlerMethods(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions, http.MethodPatch} {
		t.Run(method, func(t *testing.T) {
			h, rec, _ := newHandler(t)
			r := paidRequest()
			r.Method = method
			w := serve(h, r)
			wantAnswer(t, w, http.StatusMethodNotAllowed, "")
			assert.Equal(t, "POST", w.Header().Get("Allow"), "Allow")
			assert.Equal(t, 0, rec.count(), "Handle calls")
		})
	}
}

func TestWebhookHandlerBodyLimit(t *testing.T) {
	valid := string(beecloudtest.NotificationBody(handlerConfig, beecloudtest.Paid(testOrder)))
	padded := strings.Replace(valid, `"optional":{`, `"optional":{"pad":"`+strings.Repeat("x", 2<<20)+`",`, 1)
	tests := []struct {
		name          string
		max           int64
		body          string
		contentLength int64 // -1: unknown (chunked)
		status        int
	}{
		{"2 MiB, default limit", 0, padded, int64(len(padded)), http.StatusRequestEntityTooLarge},
		{"2 MiB chunked, default limit", 0, padded, -1, http.StatusRequestEntityTooLarge},
		{"over a small limit", 100, valid, int64(len(valid)), http.StatusRequestEntityTooLarge},
		{"over a small limit, chunked", 100, valid, -1, http.StatusRequestEntityTooLarge},
		{"content length lies", 100, valid, 50, http.StatusRequestEntityTooLarge},
		{"exactly the limit", int64(len(valid)), valid, int64(len(valid)), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, rec, _ := newHandler(t)
			h.MaxBodyBytes = tt.max
			r := post(tt.body)
			r.RemoteAddr = beecloudtest.SenderAddr
			r.ContentLength = tt.contentLength
			w := serve(h, r)
			wantAnswer(t, w, tt.status, "")
			if tt.status != http.StatusOK {
				assert.Equal(t, 0, rec.count(), "Handle calls")
			}
		})
	}
}

func TestWebhookHandlerRefusesBadBodies(t *testing.T) {
	corpus := append(badBodies(t), testdataBodies(t)...)
	corpus = append(corpus, hugeBody())
	for _, tt := range corpus {
		t.Run(tt.name, func(t *testing.T) {
			h, rec, _ := newHandler(t)
			w := serve(h, post(tt.body))
			status := http.StatusForbidden
			switch {
			case tt.name == "2 MiB":
				status = http.StatusRequestEntityTooLarge
			case errors.Is(tt.want, beecloud.ErrMalformedNotification):
				status = http.StatusBadRequest
			}
			wantAnswer(t, w, status, "")
			assert.Equal(t, 0, rec.count(), "Handle calls for a refused body")
		})
	}
}

func TestWebhookHandlerMisconfigured(t *testing.T) {
	tests := []struct {
		name string
		h    *beecloud.WebhookHandler
	}{
		{"zero value", &beecloud.WebhookHandler{}},
		{"no Handle", &beecloud.WebhookHandler{Apps: beecloud.Apps{handlerConfig}}},
		{"no master secret", &beecloud.WebhookHandler{Apps: beecloud.Apps{beecloud.Config{AppID: vecAppID, AppSecret: handlerConfig.AppSecret}}, Handle: new(recorder).handle}},
		{"bad extra app", &beecloud.WebhookHandler{Apps: beecloud.Apps{handlerConfig, {AppID: "x"}}, Handle: new(recorder).handle}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := new(syncBuffer)
			tt.h.Logger = slog.New(slog.NewTextHandler(logs, nil))
			w := serve(tt.h, paidRequest())
			wantAnswer(t, w, http.StatusInternalServerError, "")
			assert.Contains(t, logs.String(), "level=ERROR", "log: want an error saying the handler is misconfigured")
			assert.Contains(t, logs.String(), "misconfigured", "log: want an error saying the handler is misconfigured")
		})
	}
}

func TestWebhookHandlerHandleError(t *testing.T) {
	h, rec, logs := newHandler(t)
	rec.err = errors.New("database down")
	wantAnswer(t, serve(h, paidRequest()), http.StatusInternalServerError, "")
	assert.Contains(t, logs.String(), "database down", "log: want Handle's error")
	// BeeCloud sends again: Handle runs again, and succeeds this time.
	rec.err = nil
	wantAnswer(t, serve(h, paidRequest()), http.StatusOK, "success")
	// Then never again.
	wantAnswer(t, serve(h, paidRequest()), http.StatusOK, "success")
	assert.Equal(t, 2, rec.count(), "Handle calls")
}

func TestWebhookHandlerDuplicates(t *testing.T) {
	h, rec, _ := newHandler(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	h.Handle = func(ctx context.Context, n *beecloud.Notification) error {
		if calls.Add(1) == 1 {
			close(entered)
			<-release
		}
		return rec.handle(ctx, n)
	}
	first := make(chan *httptest.ResponseRecorder)
	go func() { first <- serve(h, paidRequest()) }()
	<-entered

	// In flight: refused so that BeeCloud retries later.
	wantAnswer(t, serve(h, paidRequest()), http.StatusConflict, "")
	// Another transaction is not held up.
	other := beecloudtest.Paid(beecloud.Order{Title: "x", Amount: 1, OutTradeNo: "other0001"})
	wantAnswer(t, serve(h, beecloudtest.NewRequest(handlerConfig, other)), http.StatusOK, "success")
	// The same transaction id in a refund is another transaction.
	refund := beecloudtest.Paid(testOrder)
	refund.TransactionType = beecloud.TransactionRefund
	wantAnswer(t, serve(h, beecloudtest.NewRequest(handlerConfig, refund)), http.StatusOK, "success")

	close(release)
	wantAnswer(t, <-first, http.StatusOK, "success")
	// After success: success without Handle.
	for range 3 {
		wantAnswer(t, serve(h, paidRequest()), http.StatusOK, "success")
	}
	assert.Equal(t, int32(3), calls.Load(), "Handle calls: want one per transaction")
}

func TestWebhookHandlerPanicReleases(t *testing.T) {
	h, rec, _ := newHandler(t)
	h.Handle = func(ctx context.Context, n *beecloud.Notification) error { panic("boom") }
	assert.Panics(t, func() { serve(h, paidRequest()) }, "the panic did not reach the server")
	h.Handle = rec.handle
	wantAnswer(t, serve(h, paidRequest()), http.StatusOK, "success")
	assert.Equal(t, 1, rec.count(), "Handle calls after the panic")
}

func TestWebhookHandlerContext(t *testing.T) {
	h, _, _ := newHandler(t)
	var handleErr error
	var deadline time.Duration
	h.HandleTimeout = time.Minute
	h.Handle = func(ctx context.Context, n *beecloud.Notification) error {
		handleErr = ctx.Err()
		d, _ := ctx.Deadline()
		deadline = time.Until(d)
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // BeeCloud hung up
	wantAnswer(t, serve(h, paidRequest().WithContext(ctx)), http.StatusOK, "success")
	require.NoError(t, handleErr, "Handle's context: want not cancelled when the client hangs up")
	assert.GreaterOrEqual(t, deadline, time.Minute-time.Second, "Handle's deadline: want HandleTimeout (1m) from now")
	assert.LessOrEqual(t, deadline, time.Minute, "Handle's deadline: want HandleTimeout (1m) from now")
}

// Handle's context carries the request's values and is cancelled once
// Handle has returned. (TestLeaseHandleTimeout checks its deadline.)
func TestWebhookHandlerContextValues(t *testing.T) {
	type key struct{}
	h, _, _ := newHandler(t)
	var value any
	var handleCtx context.Context
	h.Handle = func(ctx context.Context, n *beecloud.Notification) error {
		value, handleCtx = ctx.Value(key{}), ctx
		return nil
	}
	ctx := context.WithValue(context.Background(), key{}, "request value")
	wantAnswer(t, serve(h, paidRequest().WithContext(ctx)), http.StatusOK, "success")
	require.ErrorIs(t, handleCtx.Err(), context.Canceled, "Handle's ctx after it returned")
	assert.Equal(t, "request value", value, "Handle's ctx value: want the request's")
}

func TestWebhookHandlerAmount(t *testing.T) {
	lookupErr := errors.New("no such order")
	tests := []struct {
		name   string
		amount int64
		err    error
		status int
		calls  int
		log    string
	}{
		{"match", testOrder.Amount, nil, http.StatusOK, 1, "handled"},
		{"mismatch", testOrder.Amount + 1, nil, http.StatusUnprocessableEntity, 0, "amount mismatch"},
		{"unknown order", 0, lookupErr, http.StatusInternalServerError, 0, "no such order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, rec, logs := newHandler(t)
			h.ExpectedAmount = func(ctx context.Context, n *beecloud.Notification) (int64, error) {
				assert.Equal(t, testOrder.OutTradeNo, n.TransactionID, "ExpectedAmount asked for")
				return tt.amount, tt.err
			}
			wantAnswer(t, serve(h, paidRequest()), tt.status, "")
			assert.Equal(t, tt.calls, rec.count(), "Handle calls")
			assert.Contains(t, logs.String(), tt.log, "log")
			if tt.status != http.StatusOK {
				assert.Contains(t, logs.String(), "level=ERROR", "log: want an error record")
			}
			// Once the records are right, the resend goes through.
			tt.amount, tt.err = testOrder.Amount, nil
			wantAnswer(t, serve(h, paidRequest()), http.StatusOK, "success")
			assert.Equal(t, 1, rec.count(), "Handle calls in all")
		})
	}
}

// ExpectedAmount is asked about payments and refunds (with the refund
// number), and not about the other types.
func TestWebhookHandlerAmountTypes(t *testing.T) {
	tests := []struct {
		txType beecloud.TransactionType
		asked  bool
	}{
		{beecloud.TransactionPay, true},
		{beecloud.TransactionRefund, true},
		{beecloud.TransactionTransfer, false},
		{beecloud.TransactionSubscription, false},
		{beecloud.TransactionSign, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.txType), func(t *testing.T) {
			h, rec, _ := newHandler(t)
			var asked []string
			h.ExpectedAmount = func(ctx context.Context, n *beecloud.Notification) (int64, error) {
				asked = append(asked, string(n.TransactionType)+" "+n.TransactionID)
				return 99, nil // the refund the merchant asked for
			}
			msg := beecloudtest.Paid(beecloud.Order{Title: "x", Amount: 150, OutTradeNo: "refund0001"})
			msg.TransactionType = tt.txType
			msg.TransactionFee = 99
			wantAnswer(t, serve(h, beecloudtest.NewRequest(handlerConfig, msg)), http.StatusOK, "success")
			want := []string(nil)
			if tt.asked {
				want = []string{string(tt.txType) + " refund0001"}
			}
			assert.Equal(t, want, asked, "what ExpectedAmount was asked")
			assert.Equal(t, 1, rec.count(), "Handle calls")
			if !tt.asked {
				return
			}
			// A refund of another amount than the one asked for is refused.
			msg.TransactionID, msg.TransactionFee = "refund0002", 150
			wantAnswer(t, serve(h, beecloudtest.NewRequest(handlerConfig, msg)), http.StatusUnprocessableEntity, "amount mismatch")
			assert.Equal(t, 1, rec.count(), "Handle calls")
		})
	}
}

func TestWebhookHandlerAllowedSenders(t *testing.T) {
	proxy := "10.0.0.2:55123"
	tests := []struct {
		name       string
		header     string // ClientIPHeader
		remoteAddr string
		xff        []string
		status     int
	}{
		{"BeeCloud", "", "123.57.146.46:1234", nil, http.StatusOK},
		{"BeeCloud's other address", "", "182.92.114.175:1234", nil, http.StatusOK},
		{"BeeCloud over IPv6-mapped IPv4", "", "[::ffff:182.92.114.175]:1234", nil, http.StatusOK},
		{"stranger", "", "203.0.113.9:1234", nil, http.StatusForbidden},
		{"behind a proxy, no header option", "", proxy, []string{"123.57.146.46"}, http.StatusForbidden},
		{"no port", "", "123.57.146.46", nil, http.StatusOK},
		{"garbage RemoteAddr", "", "pipe", nil, http.StatusForbidden},
		{"proxy header", "X-Forwarded-For", proxy, []string{"123.57.146.46"}, http.StatusOK},
		{"proxy header, chain", "X-Forwarded-For", proxy, []string{"198.51.100.1, 123.57.146.46"}, http.StatusOK},
		{"proxy header, spoofed first", "X-Forwarded-For", proxy, []string{"123.57.146.46, 203.0.113.9"}, http.StatusForbidden},
		{"proxy header, spoofed first line", "X-Forwarded-For", proxy, []string{"123.57.146.46", "203.0.113.9"}, http.StatusForbidden},
		{"proxy header missing", "X-Forwarded-For", "123.57.146.46:1234", nil, http.StatusForbidden},
		{"proxy header garbage", "X-Forwarded-For", proxy, []string{"unknown"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, rec, _ := newHandler(t)
			h.AllowedSenders = beecloud.WebhookSenders()
			h.ClientIPHeader = tt.header
			r := paidRequest()
			r.RemoteAddr = tt.remoteAddr
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			wantAnswer(t, serve(h, r), tt.status, "")
			want := map[bool]int{true: 1, false: 0}[tt.status == http.StatusOK]
			assert.Equal(t, want, rec.count(), "Handle calls")
		})
	}
	t.Run("off by default", func(t *testing.T) {
		h, _, _ := newHandler(t)
		r := paidRequest()
		r.RemoteAddr = "203.0.113.9:1234"
		wantAnswer(t, serve(h, r), http.StatusOK, "success")
	})
	t.Run("own prefixes", func(t *testing.T) {
		h, _, _ := newHandler(t)
		h.AllowedSenders = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		r := paidRequest()
		r.RemoteAddr = "10.1.2.3:1234"
		wantAnswer(t, serve(h, r), http.StatusOK, "success")
	})
}

func TestWebhookSendersIsACopy(t *testing.T) {
	s := beecloud.WebhookSenders()
	s[0] = netip.MustParsePrefix("0.0.0.0/0")
	assert.Equal(t, "123.57.146.46/32", beecloud.WebhookSenders()[0].String(), "WebhookSenders()[0] after changing a copy")
}

func TestWebhookHandlerApps(t *testing.T) {
	other := beecloud.Config{AppID: "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719", MasterSecret: "other-master"}
	h, rec, _ := newHandler(t)
	h.Apps = beecloud.Apps{handlerConfig, other}
	wantAnswer(t, serve(h, paidRequest()), http.StatusOK, "success")
	// The same order number in the other app is another transaction.
	wantAnswer(t, serve(h, beecloudtest.NewRequest(other, beecloudtest.Paid(testOrder))), http.StatusOK, "success")
	if assert.Equal(t, 2, rec.count(), "Handle calls: want one per app") {
		assert.Equal(t, vecAppID, rec.calls[0].AppID, "first Handle's AppID")
		assert.Equal(t, other.AppID, rec.calls[1].AppID, "second Handle's AppID")
	}

	// The order of Apps does not matter.
	h2, rec2, _ := newHandler(t)
	h2.Apps = beecloud.Apps{other, handlerConfig}
	wantAnswer(t, serve(h2, paidRequest()), http.StatusOK, "success")
	if assert.Equal(t, 1, rec2.count(), "Handle calls") {
		assert.Equal(t, vecAppID, rec2.calls[0].AppID, "Handle's AppID")
	}
	// But an app with only a secret, or only an AppID, is a mistake, and
	// so is no app at all.
	h2.Apps = beecloud.Apps{other, {AppID: vecAppID}}
	wantAnswer(t, serve(h2, paidRequest()), http.StatusInternalServerError, "")
	h2.Apps = nil
	wantAnswer(t, serve(h2, paidRequest()), http.StatusInternalServerError, "")
}

func TestWebhookHandlerLegacy(t *testing.T) {
	now := time.Date(2016, 5, 1, 12, 0, 0, 0, time.UTC)
	legacy := beecloudtest.Paid(testOrder)
	legacy.Legacy, legacy.Timestamp = true, now

	h, rec, _ := newHandler(t)
	wantAnswer(t, serve(h, beecloudtest.NewRequest(handlerConfig, legacy)), http.StatusForbidden, "legacy signature disabled")
	h.Apps[0].LegacyWebhook = true
	h.Apps[0].Now = func() time.Time { return now.Add(10 * time.Minute) }
	wantAnswer(t, serve(h, beecloudtest.NewRequest(handlerConfig, legacy)), http.StatusForbidden, "stale notification")
	h.Apps[0].Now = func() time.Time { return now.Add(time.Minute) }
	wantAnswer(t, serve(h, beecloudtest.NewRequest(handlerConfig, legacy)), http.StatusOK, "success")
	if assert.Equal(t, 1, rec.count(), "Handle calls") {
		assert.True(t, rec.calls[0].Legacy, "Handle's notification: want a legacy one")
	}
}

// A message signed with the TestSecret is recorded under its own key: a
// Handle that ignores test messages does not make the handler answer the
// live payment of the same order from the test one's record.
func TestWebhookHandlerTestModeApart(t *testing.T) {
	now := time.Date(2016, 5, 1, 12, 0, 0, 0, time.UTC)
	test := beecloudtest.Paid(testOrder)
	test.Legacy, test.Test, test.Timestamp = true, true, now
	live := beecloudtest.Paid(testOrder)
	live.Timestamp = now

	h, _, _ := newHandler(t)
	store := new(beecloud.MemStore)
	h.Store = store
	h.Apps[0].LegacyWebhook = true
	h.Apps[0].Now = func() time.Time { return now }
	var tests, lives int
	h.Handle = func(ctx context.Context, n *beecloud.Notification) error {
		if n.Test {
			tests++
			return nil // the obvious way to ignore test payments
		}
		lives++
		return nil
	}
	wantAnswer(t, serve(h, beecloudtest.NewRequest(handlerConfig, test)), http.StatusOK, "success")
	wantAnswer(t, serve(h, beecloudtest.NewRequest(handlerConfig, live)), http.StatusOK, "success")
	require.Equal(t, 1, tests, "test messages Handle got")
	require.Equal(t, 1, lives, "live messages Handle got: the live payment must reach Handle")
	// Each is a duplicate of its own kind only.
	wantAnswer(t, serve(h, beecloudtest.NewRequest(handlerConfig, live)), http.StatusOK, "success")
	wantAnswer(t, serve(h, beecloudtest.NewRequest(handlerConfig, test)), http.StatusOK, "success")
	assert.Equal(t, 1, tests, "test messages Handle got after resends")
	assert.Equal(t, 1, lives, "live messages Handle got after resends")
	assert.Equal(t, 2, store.Len(), "records in the store: want one test and one live")
}

func TestWebhookHandlerLogsNoSecret(t *testing.T) {
	h, rec, logs := newHandler(t)
	h.ExpectedAmount = func(ctx context.Context, n *beecloud.Notification) (int64, error) { return testOrder.Amount, nil }
	valid := beecloudtest.NewRequest(handlerConfig, beecloudtest.Paid(testOrder))
	serve(h, valid)                                                           // handled
	serve(h, paidRequest())                                                   // duplicate
	serve(h, post(vecBody))                                                   // bad signature for this app
	serve(h, post(swap(t, `"transaction_fee":1,`, `"transaction_fee":1.5,`))) // malformed
	rec.err = fmt.Errorf("handle failed with %v", h.Apps[0])                  // a Config printed by the merchant
	serve(h, beecloudtest.NewRequest(handlerConfig, beecloudtest.Paid(beecloud.Order{Title: "x", Amount: 150, OutTradeNo: "failing001"})))
	legacy := beecloudtest.Paid(testOrder)
	legacy.Legacy = true
	serve(h, beecloudtest.NewRequest(handlerConfig, legacy)) // legacy disabled
	h.ExpectedAmount = func(ctx context.Context, n *beecloud.Notification) (int64, error) { return 1, nil }
	serve(h, beecloudtest.NewRequest(handlerConfig, beecloudtest.Paid(beecloud.Order{Title: "x", Amount: 150, OutTradeNo: "mismatch01"})))
	broken := &beecloud.WebhookHandler{Apps: beecloud.Apps{handlerConfig}, Logger: h.Logger}
	serve(broken, paidRequest())

	out := logs.String()
	for _, secret := range []string{handlerConfig.MasterSecret, handlerConfig.AppSecret, handlerConfig.TestSecret} {
		assert.NotContains(t, out, secret, "log shows a secret")
	}
	for _, bodyPart := range []string{"message_detail", "TRADE_SUCCESS", "agent_id", vecSignature} {
		assert.NotContains(t, out, bodyPart, "log shows the body")
	}
	for _, want := range []string{"handled", "already handled", "bad signature", "malformed", "legacy", "amount mismatch", "misconfigured", "transaction_id=" + testOrder.OutTradeNo, "client=123.57.146.46"} {
		assert.Contains(t, out, want, "log")
	}
}

// TestWebhookHandlerConcurrentDeliveries plays BeeCloud: 1,000 deliveries
// of 100 transactions from many goroutines, each resent until it is
// answered success, while Handle fails 30% of the time. Every transaction
// must be handled successfully exactly once, and never by two Handles at
// a time.
func TestWebhookHandlerConcurrentDeliveries(t *testing.T) {
	const transactions, deliveries, workers = 100, 1000, 16
	var (
		mu        sync.Mutex
		running   = map[string]int{}
		succeeded = map[string]int{}
		overlaps  atomic.Int32
		failures  atomic.Int32
	)
	h := &beecloud.WebhookHandler{
		Apps:   beecloud.Apps{handlerConfig},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Handle: func(ctx context.Context, n *beecloud.Notification) error {
			mu.Lock()
			running[n.TransactionID]++
			if running[n.TransactionID] > 1 {
				overlaps.Add(1)
			}
			mu.Unlock()
			runtime.Gosched() // let duplicates arrive while this runs
			fail := rand.Float64() < 0.3
			mu.Lock()
			running[n.TransactionID]--
			if !fail {
				succeeded[n.TransactionID]++
			}
			mu.Unlock()
			if fail {
				failures.Add(1)
				return errors.New("flaky")
			}
			return nil
		},
	}
	bodies := make([][]byte, transactions)
	for i := range bodies {
		o := beecloud.Order{Title: "x", Amount: int64(i + 1), OutTradeNo: fmt.Sprintf("order%05d", i)}
		bodies[i] = beecloudtest.NotificationBody(handlerConfig, beecloudtest.Paid(o))
	}
	// Every transaction once, then resends and duplicates at random.
	order := make([]int, deliveries)
	for i := range order {
		order[i] = i % transactions
		if i >= transactions {
			order[i] = rand.IntN(transactions)
		}
	}
	rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	queue := make(chan []byte, deliveries)
	for _, i := range order {
		queue <- bodies[i]
	}
	close(queue)

	var wg sync.WaitGroup
	var lost atomic.Int32
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range queue {
				for try := 0; ; try++ {
					if try == 10000 {
						lost.Add(1)
						break
					}
					r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
					w := serve(h, r)
					if w.Code == http.StatusOK && w.Body.String() == "success" {
						break
					}
					if !assert.Contains(t, []int{http.StatusConflict, http.StatusInternalServerError}, w.Code, "answer %d %q: want 409 or 500 until success", w.Code, w.Body.String()) {
						return
					}
					runtime.Gosched()
				}
			}
		}()
	}
	wg.Wait()

	assert.Zero(t, lost.Load(), "deliveries never answered success")
	assert.Zero(t, overlaps.Load(), "Handle runs while another Handle ran for the same transaction")
	assert.Len(t, succeeded, transactions, "transactions handled")
	for id, n := range succeeded {
		assert.Equal(t, 1, n, "transaction %s: successful Handle runs", id)
	}
	assert.NotZero(t, failures.Load(), "Handle never failed: the test proves nothing about retries")
}

func FuzzWebhookHandler(f *testing.F) {
	f.Add([]byte(vecBody))
	f.Add(beecloudtest.NotificationBody(handlerConfig, beecloudtest.Paid(testOrder)))
	for _, b := range badBodies(f) {
		f.Add([]byte(b.body))
	}
	h := &beecloud.WebhookHandler{
		Apps:   beecloud.Apps{handlerConfig, vecConfig},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, verr := h.Apps.ParseNotification(body)
		verifies := verr == nil && n.TradeSuccess
		called := false
		h.Handle = func(ctx context.Context, n *beecloud.Notification) error {
			called = true
			return errors.New("not recorded as done")
		}
		w := serve(h, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
		if !verifies {
			require.False(t, called, "Handle called for a body that does not verify")
		}
		require.NotEqual(t, "success", w.Body.String(), "answered success though Handle failed")
		if verifies && len(body) <= beecloud.DefaultMaxBodyBytes {
			require.True(t, called, "verified body not handled: %d %q", w.Code, w.Body.String())
		}
	})
}

// nopStore claims every key, so that every request runs Handle.
type nopStore struct{}

func (nopStore) Claim(ctx context.Context, key, token string, lease time.Duration) (beecloud.ClaimState, error) {
	return beecloud.ClaimOK, nil
}
func (nopStore) Complete(ctx context.Context, key, token string) error { return nil }
func (nopStore) Release(ctx context.Context, key, token string) error  { return nil }

func BenchmarkServeHTTP(b *testing.B) {
	body := []byte(benchBody)
	run := func(b *testing.B, store beecloud.Store) {
		h := &beecloud.WebhookHandler{
			Apps:   beecloud.Apps{vecConfig},
			Store:  store,
			Handle: func(ctx context.Context, n *beecloud.Notification) error { return nil },
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
			if w.Body.String() != "success" {
				b.Fatalf("answer %d %q", w.Code, w.Body.String())
			}
		}
	}
	b.Run("handled", func(b *testing.B) { run(b, nopStore{}) })
	b.Run("duplicate", func(b *testing.B) { run(b, new(beecloud.MemStore)) })
}

// Over a real connection, as BeeCloud sends.
func TestWebhookHandlerOverHTTP(t *testing.T) {
	h, rec, _ := newHandler(t)
	srv := httptest.NewServer(h)
	defer srv.Close()

	send := func(body io.Reader) (int, string) {
		t.Helper()
		resp, err := http.Post(srv.URL, "application/json", body)
		require.NoError(t, err, "POST")
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err, "reading the answer")
		return resp.StatusCode, string(b)
	}
	body := beecloudtest.NotificationBody(handlerConfig, beecloudtest.Paid(testOrder))
	for i := range 2 {
		code, got := send(bytes.NewReader(body))
		assert.Equal(t, http.StatusOK, code, "delivery %d: status", i)
		assert.Equal(t, "success", got, "delivery %d: answer", i)
	}
	// A body of unknown length (chunked) past the limit.
	huge := io.MultiReader(bytes.NewReader(body[:len(body)-1]), strings.NewReader(strings.Repeat(" ", 2<<20)), strings.NewReader("}"))
	code, _ := send(io.NopCloser(huge))
	assert.Equal(t, http.StatusRequestEntityTooLarge, code, "2 MiB chunked body: status")
	assert.Equal(t, 1, rec.count(), "Handle calls")
}

// callStore records the calls a handler makes, and answers Claim with
// state and claimErr.
type callStore struct {
	state    beecloud.ClaimState
	claimErr error

	mu     sync.Mutex
	calls  []string
	tokens []string
	ctxErr []error
}

func (s *callStore) record(ctx context.Context, call, key, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call+" "+key)
	s.tokens = append(s.tokens, token)
	s.ctxErr = append(s.ctxErr, ctx.Err())
}

func (s *callStore) Claim(ctx context.Context, key, token string, lease time.Duration) (beecloud.ClaimState, error) {
	s.record(ctx, "Claim", key, token)
	return s.state, s.claimErr
}

func (s *callStore) Complete(ctx context.Context, key, token string) error {
	s.record(ctx, "Complete", key, token)
	return nil
}

func (s *callStore) Release(ctx context.Context, key, token string) error {
	s.record(ctx, "Release", key, token)
	return nil
}

// TestWebhookHandlerStoreCalls checks that every path through the handler
// leaves the Store right: a claim is completed once Handle succeeded,
// released on every other outcome (panics included), and left alone when
// it was not granted; Complete and Release run with a live context.
func TestWebhookHandlerStoreCalls(t *testing.T) {
	ok := func(ctx context.Context, n *beecloud.Notification) error { return nil }
	fail := func(ctx context.Context, n *beecloud.Notification) error { return errors.New("fail") }
	amount := func(a int64, err error) func(context.Context, *beecloud.Notification) (int64, error) {
		return func(context.Context, *beecloud.Notification) (int64, error) { return a, err }
	}
	tests := []struct {
		name     string
		state    beecloud.ClaimState
		claimErr error
		handle   func(context.Context, *beecloud.Notification) error
		expected func(context.Context, *beecloud.Notification) (int64, error)
		timeout  time.Duration // HandleTimeout
		status   int
		calls    []string
	}{
		{"handled", beecloud.ClaimOK, nil, ok, nil, 0, http.StatusOK, []string{"Claim", "Complete"}},
		{"handle fails", beecloud.ClaimOK, nil, fail, nil, 0, http.StatusInternalServerError, []string{"Claim", "Release"}},
		{"handle panics", beecloud.ClaimOK, nil, func(context.Context, *beecloud.Notification) error { panic("boom") }, nil, 0, 0, []string{"Claim", "Release"}},
		{"amount matches", beecloud.ClaimOK, nil, ok, amount(testOrder.Amount, nil), 0, http.StatusOK, []string{"Claim", "Complete"}},
		{"amount differs", beecloud.ClaimOK, nil, ok, amount(testOrder.Amount+1, nil), 0, http.StatusUnprocessableEntity, []string{"Claim", "Release"}},
		{"amount lookup fails", beecloud.ClaimOK, nil, ok, amount(0, errors.New("no order")), 0, http.StatusInternalServerError, []string{"Claim", "Release"}},
		{"amount lookup panics", beecloud.ClaimOK, nil, ok, func(context.Context, *beecloud.Notification) (int64, error) { panic("boom") }, 0, 0, []string{"Claim", "Release"}},
		{"handle outlives HandleTimeout", beecloud.ClaimOK, nil, func(ctx context.Context, n *beecloud.Notification) error {
			<-ctx.Done()
			return nil
		}, nil, time.Millisecond, http.StatusOK, []string{"Claim", "Complete"}},
		{"done before", beecloud.ClaimDone, nil, fail, nil, 0, http.StatusOK, []string{"Claim"}},
		{"busy", beecloud.ClaimBusy, nil, fail, nil, 0, http.StatusConflict, []string{"Claim"}},
		{"claim fails", 0, errors.New("down"), fail, nil, 0, http.StatusServiceUnavailable, []string{"Claim"}},
		{"unknown claim state", beecloud.ClaimState(42), nil, fail, nil, 0, http.StatusServiceUnavailable, []string{"Claim"}},
	}
	key := vecAppID + ":" + string(beecloud.TransactionPay) + ":" + testOrder.OutTradeNo
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &callStore{state: tt.state, claimErr: tt.claimErr}
			h, _, _ := newHandler(t)
			h.Store, h.Handle, h.ExpectedAmount, h.HandleTimeout = store, tt.handle, tt.expected, tt.timeout
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := paidRequest().WithContext(ctx)
			var w *httptest.ResponseRecorder
			func() {
				defer func() {
					p := recover()
					assert.Equal(t, tt.status == 0, p != nil, "a panic (%v) out of ServeHTTP", p)
				}()
				cancel() // BeeCloud hung up: the bookkeeping must go on
				w = serve(h, r)
			}()
			if tt.status != 0 {
				assert.Equal(t, tt.status, w.Code, "status")
			}
			var want []string
			for _, c := range tt.calls {
				want = append(want, c+" "+key)
			}
			require.Equal(t, want, store.calls, "store calls")
			for i := range store.tokens {
				assert.Equal(t, store.tokens[0], store.tokens[i], "%s: token; want Claim's", store.calls[i])
				if i > 0 {
					assert.NoError(t, store.ctxErr[i], "%s with a dead context", store.calls[i])
				}
			}
		})
	}
}
