package beecloudtest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestChanges checks the dashboard's long poll: it answers at once when
// the version it has is old, and as soon as the sandbox changes when not.
// It runs in a bubble, where synctest.Wait says when the request is
// waiting and the clock moves only when everything waits, so "at once"
// and "not before a change" are exact.
func TestChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		app := App{Config: beecloud.Config{AppID: "app", AppSecret: "s"}}
		s := NewUnstartedSandbox(app)
		defer s.Close()
		h := s.handler()
		// A failed check leaves no request waiting: the bubble would
		// report it as a deadlock.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// changes serves a request for changes after the version given;
		// its answer comes on the channel returned.
		changes := func(after string) <-chan *httptest.ResponseRecorder {
			done := make(chan *httptest.ResponseRecorder, 1)
			go func() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", changesPath+"?after="+after, nil))
				done <- rec
			}()
			return done
		}
		// answered waits until the request is answered or waits itself,
		// and returns the version answered, if any.
		answered := func(done <-chan *httptest.ResponseRecorder) (uint64, bool) {
			t.Helper()
			synctest.Wait()
			select {
			case rec := <-done:
				var v struct{ Version uint64 }
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v), "changes: %s", rec.Body)
				return v.Version, true
			default:
				return 0, false
			}
		}

		start := time.Now()
		v0, ok := answered(changes("999999"))
		require.True(t, ok, "changes after an old version did not answer at once")
		require.Equal(t, start, time.Now(), "changes after an old version waited")

		done := changes(strconv.FormatUint(v0, 10))
		v, ok := answered(done)
		require.False(t, ok, "changes answered %d before any change", v)
		params, err := app.Config.Params(beecloud.Order{Title: "t", Amount: 1, OutTradeNo: "order0001"})
		require.NoError(t, err)
		_, err = s.Pay(app.Config.AppID, params, beecloud.ChannelAli)
		require.NoError(t, err, "Pay")
		v, ok = answered(done)
		require.True(t, ok, "changes did not answer after a payment")
		assert.Greater(t, v, v0, "version after a payment")
		assert.Equal(t, start, time.Now(), "changes waited for more than the payment")
	})
}

// FuzzHandler sends the sandbox's endpoints what any browser may: any
// method, path, query, Host and body. No request may panic, every JSON
// answer must be JSON, and the hostile text in the bills' data, the
// buyer's page and the request must never reach an HTML page, a script
// or a JSON answer unescaped. "BILL" in the path stands for a pending
// bill's ID, "PAID" for a paid one's.
func FuzzHandler(f *testing.F) {
	const hostile = "<hostile"
	app := App{
		Config:   beecloud.Config{AppID: "app", AppSecret: "s", MasterSecret: "m"},
		Channels: beecloud.Channels(),
	}
	s := NewUnstartedSandbox(app)
	defer s.Close()
	defer func(wait time.Duration) { changesWait = wait }(changesWait)
	changesWait = time.Millisecond
	h := s.handler()
	newBill := func(ch beecloud.Channel) string {
		o := beecloud.Order{Title: hostile + ">&", Amount: 150, OutTradeNo: beecloud.NewOutTradeNo(), OpenID: hostile,
			Optional: map[string]any{hostile: hostile + "\u2028"}}
		b, err := s.newBill(app, click{order: o}, ch, true, "http://shop.example/"+hostile+`">`)
		require.NoError(f, err, "newBill")
		return b.ID
	}
	pending, paid := newBill(beecloud.ChannelWxMP), newBill(beecloud.ChannelAli)
	require.NoError(f, s.settle(paid, BillPaid), "settle")
	signed := `{"data":{"title":"<hostile","amount":1,"out_trade_no":"order0001","sign":"` +
		beecloud.Sign("app", hostile, 1, "order0001", "s") + `"},"channel":"wx","mobile":true,"page":"<hostile"}`
	for _, seed := range []struct {
		method, target, host string
		body                 string
	}{
		{"GET", "/1/pay/jsbutton/returnscripts?appId=app", "127.0.0.1:1", ""},
		{"GET", "/1/pay/jsbutton/returnscripts?appId=%3Chostile", "<hostile", ""},
		{"POST", "/2/rest/jsbutton/click?appId=app", "127.0.0.1:1", signed},
		{"POST", "/2/rest/jsbutton/click?appId=app", "127.0.0.1:1", `{"data":{"amount":"1e9","optional":{"a":[1]}},"channel":"<hostile"}`},
		{"POST", "/2/rest/jsbutton/click?appId=<hostile", "h", `{"data":null}`},
		{"OPTIONS", "/2/rest/jsbutton/click", "h", ""},
		{"GET", "/sandbox/pay/BILL", "127.0.0.1:1", ""},
		{"GET", "/sandbox/pay/PAID", "127.0.0.1:1", ""},
		{"POST", "/sandbox/pay/BILL/cancel", "127.0.0.1:1", ""},
		{"POST", "/sandbox/pay/PAID/fail", "127.0.0.1:1", ""},
		{"GET", "/sandbox/bill/PAID", "127.0.0.1:1", ""},
		{"GET", "/sandbox/qr/BILL.svg", "127.0.0.1:1", ""},
		{"GET", "/sandbox/result?bill_no=%3Chostile&spay_result=%3Chostile&total_fee=-1", "127.0.0.1:1", ""},
		{"GET", "/sandbox/result?bill=PAID", "127.0.0.1:1", ""},
		{"GET", "/", "<hostile", ""},
		{"GET", "/sandbox/changes?after=1", "h", ""},
		{"GET", "/sandbox/changes?after=%3Chostile", "h", ""},
		{"GET", "/sandbox/pay/%3Chostile", "h", ""},
		{"POST", "/sandbox/pay/%3Chostile/pay", "h", ""},
		{"POST", "/sandbox/pay/BILL/%3Chostile", "h", ""},
		{"GET", "/sandbox/result?bill=%3Chostile", "h", ""},
		{"GET", "/sandbox/result", "h", ""},
		{"GET", "/%3Chostile", "h", ""},
		{"GET", "/favicon.ico", "h", ""},
		{"GET", "/sandbox/static/sandbox.css", "h", ""},
	} {
		f.Add(seed.method, seed.target, seed.host, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, method, target, host string, body []byte) {
		target = strings.NewReplacer("BILL", pending, "PAID", paid).Replace(target)
		req, err := http.NewRequest(method, "http://sandbox.test"+target, bytes.NewReader(body))
		if err != nil || !strings.HasPrefix(req.URL.Path, "/") {
			return
		}
		req.Host = host
		if strings.Contains(target, "/pay/") && len(body)%2 == 1 {
			req.Header.Set("Accept", "application/json")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		ct := rec.Header().Get("Content-Type")
		got := rec.Body.Bytes()
		if strings.HasPrefix(ct, "application/json") {
			require.True(t, json.Valid(got), "%s %s: answer is not JSON: %s", method, target, got)
		}
		if strings.HasPrefix(ct, "text/html") || strings.HasPrefix(ct, "text/javascript") || strings.HasPrefix(ct, "application/json") {
			require.NotContains(t, string(got), hostile, "%s %s (Host %q): %s answer carries it unescaped", method, target, host, ct)
		}
	})
}
