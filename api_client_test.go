package beecloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var apiConfig = Config{
	AppID:        "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
	AppSecret:    "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
	MasterSecret: "506371c7-b095-45da-bfce-9ae857c41a85",
	TestSecret:   "4bfdd244-574d-4bf3-b034-0c751ed34fee",
}

// fakeCall is one request the fake BeeCloud received.
type fakeCall struct {
	Method, Path string
	Params       map[string]any
	Secret       string // "app" or "master": the secret app_sign was made with
}

// lostAnswer, as a fake's status, drops the connection without an answer.
const lostAnswer = -1

// fakeBeeCloud is BeeCloud's REST API as its documentation describes it:
// every request must carry app_id, a timestamp in milliseconds and
// app_sign made with the App Secret (queries) or the Master Secret
// (POST and PUT /2/rest/refund); GET parameters come as ?para=JSON,
// others as a JSON body. Every request is checked for a secret. answer
// gives the reply to a well-signed request.
type fakeBeeCloud struct {
	t      *testing.T
	srv    *httptest.Server
	answer func(c fakeCall) (status int, body string)

	mu    sync.Mutex
	calls []fakeCall
}

func newFake(t *testing.T, answer func(c fakeCall) (int, string)) *fakeBeeCloud {
	t.Helper()
	f := &fakeBeeCloud{t: t, answer: answer}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// client returns a Client of the fake whose retries wait 1 ms.
func (f *fakeBeeCloud) client() *Client {
	return &Client{Config: apiConfig, BaseURL: f.srv.URL, retryWait: func(int) time.Duration { return time.Millisecond }}
}

func (f *fakeBeeCloud) Calls() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeCall(nil), f.calls...)
}

func (f *fakeBeeCloud) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	everything := r.URL.String() + "\n" + string(body)
	for k, vs := range r.Header {
		everything += "\n" + k + ": " + strings.Join(vs, ",")
	}
	for _, secret := range []string{apiConfig.AppSecret, apiConfig.MasterSecret, apiConfig.TestSecret} {
		if strings.Contains(everything, secret) || strings.Contains(everything, url.QueryEscape(secret)) {
			assert.Fail(f.t, "the request carries a secret", "%s %s", r.Method, r.URL.Path)
		}
	}
	c := fakeCall{Method: r.Method, Path: r.URL.Path}
	raw := body
	if r.Method == http.MethodGet {
		raw = []byte(r.URL.Query().Get("para"))
		if len(body) > 0 {
			assert.Fail(f.t, "a GET with a body", r.URL.Path)
		}
	} else if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		assert.Fail(f.t, "wrong Content-Type", "%s %s: got %q; want application/json", r.Method, r.URL.Path, ct)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&c.Params); err != nil {
		writeFake(w, 400, `{"result_code":5,"result_msg":"PARAM_INVALID","err_detail":"para is not JSON"}`)
		return
	}
	appID, _ := c.Params["app_id"].(string)
	sign, _ := c.Params["app_sign"].(string)
	tsNum, _ := c.Params["timestamp"].(json.Number)
	ts, err := tsNum.Int64()
	if appID != apiConfig.AppID || err != nil || sign == "" {
		writeFake(w, 400, `{"result_code":4,"result_msg":"MISS_PARAM","err_detail":"app_id, timestamp or app_sign"}`)
		return
	}
	if d := time.Since(time.UnixMilli(ts)); d > time.Minute || d < -time.Minute {
		assert.Fail(f.t, "timestamp not now in milliseconds", "%s %s: %d", r.Method, r.URL.Path, ts)
	}
	switch sign {
	case APISign(appID, ts, apiConfig.AppSecret):
		c.Secret = "app"
	case APISign(appID, ts, apiConfig.MasterSecret):
		c.Secret = "master"
	}
	delete(c.Params, "app_id")
	delete(c.Params, "app_sign")
	delete(c.Params, "timestamp")
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()

	want := "app"
	if r.URL.Path == "/2/rest/refund" && r.Method != http.MethodGet {
		want = "master"
	}
	if c.Secret != want {
		writeFake(w, 401, `{"result_code":1,"result_msg":"APP_INVALID","err_detail":"app_sign"}`)
		return
	}
	status, answer := f.answer(c)
	switch status {
	case lostAnswer:
		panic(http.ErrAbortHandler)
	case -301:
		w.Header().Set("Location", "https://api.example/2/rest/bills/count")
		w.WriteHeader(http.StatusMovedPermanently)
		return
	}
	writeFake(w, status, answer)
}

func writeFake(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func ok(fields string) string {
	if fields == "" {
		return `{"result_code":0,"result_msg":"OK","err_detail":""}`
	}
	return `{"result_code":0,"result_msg":"OK","err_detail":"",` + fields + `}`
}

const (
	wireBillJSON = `{"id":"9d4b5a2c-1b1f-4f7e-9a4e-bd6c1b2f3a4d","bill_no":"order0001","total_fee":150,"trade_no":"2015052300001000620053541865",` +
		`"channel":"ALI","sub_channel":"ALI_WEB","title":"测试","spay_result":true,"create_time":1426817510111,` +
		`"optional":"{\"agent\":\"Alice\",\"n\":3}","message_detail":"{\"trade_status\":\"TRADE_SUCCESS\"}","revert_result":false,"refund_result":true}`
	wireRefundJSON = `{"id":"5f0c1466-d8bd-11e6-b66d-00163e005bb3","bill_no":"order0001","refund_no":"20260101abc123","total_fee":150,"refund_fee":50,` +
		`"title":"测试","channel":"ALI","sub_channel":"ALI_WEB","finish":true,"result":true,"optional":"{\"why\":\"broken\"}",` +
		`"message_detail":"detail","create_time":1426817510111}`
)

var (
	wantBill = Bill{
		ID: "9d4b5a2c-1b1f-4f7e-9a4e-bd6c1b2f3a4d", OutTradeNo: "order0001", Title: "测试",
		Channel: "ALI", SubChannel: "ALI_WEB", ChannelTransactionID: "2015052300001000620053541865",
		Amount: 150, Paid: true, Refunded: true, CreatedAt: time.UnixMilli(1426817510111),
		Optional:      map[string]any{"agent": "Alice", "n": json.Number("3")},
		MessageDetail: `{"trade_status":"TRADE_SUCCESS"}`,
	}
	wantRefund = Refund{
		ID: "5f0c1466-d8bd-11e6-b66d-00163e005bb3", OutTradeNo: "order0001", RefundNo: "20260101abc123",
		Title: "测试", Channel: "ALI", SubChannel: "ALI_WEB", Amount: 50, BillAmount: 150,
		Finished: true, Succeeded: true, CreatedAt: time.UnixMilli(1426817510111),
		Optional: map[string]any{"why": "broken"}, MessageDetail: "detail",
	}
)

// TestClientEndpoints calls every endpoint and checks the method, path,
// parameters and secret of the request and the decoded answer.
func TestClientEndpoints(t *testing.T) {
	ctx := context.Background()
	since := time.UnixMilli(1426817510000)
	until := time.UnixMilli(1426817520000)
	refundNo := NewRefundNo(time.Now())
	tests := []struct {
		name       string
		run        func(c *Client) (any, error)
		answer     string
		method     string
		path       string
		params     map[string]any
		secret     string
		wantResult any
	}{
		{
			"bills, every filter",
			func(c *Client) (any, error) {
				return c.Bills(ctx, BillQuery{OutTradeNo: "order0001", Channel: "ALI", PaidOnly: true, RefundedOnly: true, Since: since, Until: until, Skip: 5, Limit: 50, Detail: true})
			},
			ok(`"bills":[` + wireBillJSON + `]`),
			"GET", "/2/rest/bills",
			map[string]any{"bill_no": "order0001", "channel": "ALI", "spay_result": true, "refund_result": true, "start_time": json.Number("1426817510000"), "end_time": json.Number("1426817520000"), "skip": json.Number("5"), "limit": json.Number("50"), "need_detail": true},
			"app", []Bill{wantBill},
		},
		{
			"bills, zero query",
			func(c *Client) (any, error) { return c.Bills(ctx, BillQuery{}) },
			ok(`"bills":[]`), "GET", "/2/rest/bills", map[string]any{}, "app", []Bill{},
		},
		{
			"count bills",
			func(c *Client) (any, error) { return c.CountBills(ctx, BillQuery{PaidOnly: true, Skip: 3, Limit: 7}) },
			ok(`"count":42`), "GET", "/2/rest/bills/count", map[string]any{"spay_result": true}, "app", 42,
		},
		{
			"get bill",
			func(c *Client) (any, error) { return c.GetBill(ctx, "9d4b/5a2c") },
			ok(`"pay":` + wireBillJSON), "GET", "/2/rest/bill/9d4b/5a2c", map[string]any{}, "app", &wantBill,
		},
		{
			"refund",
			func(c *Client) (any, error) {
				return c.Refund(ctx, RefundRequest{OutTradeNo: "order0001", RefundNo: refundNo, Amount: 50, Channel: "ALI", Optional: map[string]any{"why": "broken"}, NeedApproval: true})
			},
			ok(`"id":"r1","url":"https://mapi.alipay.com/confirm"`), "POST", "/2/rest/refund",
			map[string]any{"bill_no": "order0001", "refund_no": refundNo, "refund_fee": json.Number("50"), "channel": "ALI", "optional": map[string]any{"why": "broken"}, "need_approval": true},
			"master", &RefundResult{ID: "r1", URL: "https://mapi.alipay.com/confirm"},
		},
		{
			"approve refunds",
			func(c *Client) (any, error) {
				return c.ApproveRefunds(ctx, RefundApproval{Channel: "ALI", IDs: []string{"r1", "r2"}, Agree: false, DenyReason: "no"})
			},
			ok(`"result_map":{"r1":"OK","r2":"NOT_PENDING"}`), "PUT", "/2/rest/refund",
			map[string]any{"channel": "ALI", "ids": []any{"r1", "r2"}, "agree": false, "deny_reason": "no"},
			"master", &ApprovalResult{Results: map[string]string{"r1": "OK", "r2": "NOT_PENDING"}},
		},
		{
			"refunds, every filter",
			func(c *Client) (any, error) {
				return c.Refunds(ctx, RefundQuery{OutTradeNo: "order0001", RefundNo: "20260101abc123", Channel: "ALI", NeedApproval: true, Since: since, Until: until, Skip: 1, Limit: 2, Detail: true})
			},
			ok(`"refunds":[` + wireRefundJSON + `]`), "GET", "/2/rest/refunds",
			map[string]any{"bill_no": "order0001", "refund_no": "20260101abc123", "channel": "ALI", "need_approval": true, "start_time": json.Number("1426817510000"), "end_time": json.Number("1426817520000"), "skip": json.Number("1"), "limit": json.Number("2"), "need_detail": true},
			"app", []Refund{wantRefund},
		},
		{
			"count refunds",
			func(c *Client) (any, error) {
				return c.CountRefunds(ctx, RefundQuery{OutTradeNo: "order0001", Limit: 3})
			},
			ok(`"count":0`), "GET", "/2/rest/refunds/count", map[string]any{"bill_no": "order0001"}, "app", 0,
		},
		{
			"get refund",
			func(c *Client) (any, error) { return c.GetRefund(ctx, "5f0c1466") },
			ok(`"refund":` + wireRefundJSON), "GET", "/2/rest/refund/5f0c1466", map[string]any{}, "app", &wantRefund,
		},
		{
			"refund status",
			func(c *Client) (any, error) { return c.RefundStatus(ctx, "WX", "20260101abc123") },
			ok(`"refund_status":"PROCESSING"`), "GET", "/2/rest/refund/status",
			map[string]any{"channel": "WX", "refund_no": "20260101abc123"}, "app", RefundProcessing,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(fakeCall) (int, string) { return 200, tt.answer })
			got, err := tt.run(f.client())
			require.NoError(t, err)
			assert.Equal(t, tt.wantResult, got)
			calls := f.Calls()
			require.Len(t, calls, 1)
			assert.Equal(t, tt.method, calls[0].Method)
			assert.Equal(t, tt.path, calls[0].Path)
			assert.Equal(t, tt.params, calls[0].Params)
			assert.Equal(t, tt.secret, calls[0].Secret)
		})
	}
}

// TestAPIErrors checks that every result_code, with a 2xx or a 4xx
// status, is an *APIError that names the code and the message, and is
// not retried.
func TestAPIErrors(t *testing.T) {
	for code := Code(1); code <= 18; code++ {
		for _, status := range []int{200, 400, 404} {
			t.Run(fmt.Sprintf("code %d HTTP %d", code, status), func(t *testing.T) {
				msg := "SOME_MESSAGE"
				if int(code) < len(codeNames) {
					msg = codeNames[code]
				}
				f := newFake(t, func(fakeCall) (int, string) {
					return status, fmt.Sprintf(`{"result_code":%d,"result_msg":%q,"err_detail":"detail %d"}`, code, msg, code)
				})
				_, err := f.client().Bills(context.Background(), BillQuery{})
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, APIError{Code: code, Message: msg, Detail: fmt.Sprintf("detail %d", code), HTTPStatus: status}, *apiErr)
				text := err.Error()
				assert.Contains(t, text, fmt.Sprintf("result_code %d", code))
				assert.Contains(t, text, msg)
				assert.Contains(t, text, "GET /2/rest/bills")
				assertNoSecret(t, text)
				assert.Len(t, f.Calls(), 1, "an APIError is not retried")
			})
		}
	}
}

func assertNoSecret(t *testing.T, text string) {
	t.Helper()
	for _, secret := range []string{apiConfig.AppSecret, apiConfig.MasterSecret, apiConfig.TestSecret} {
		assert.NotContains(t, text, secret, "a secret in an error")
	}
}

func TestWrongSecretIsAPIError(t *testing.T) {
	f := newFake(t, func(fakeCall) (int, string) { return 200, ok(`"count":1`) })
	c := f.client()
	c.Config.AppSecret = "wrong"
	_, err := c.CountBills(context.Background(), BillQuery{})
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, CodeAppInvalid, apiErr.Code)
	assert.Equal(t, 401, apiErr.HTTPStatus)
}

// TestQueryRetries checks which failures a query retries, and how often.
func TestQueryRetries(t *testing.T) {
	tests := []struct {
		name      string
		answers   []int // status per attempt; lostAnswer drops it; 200 after them
		wantCalls int
		wantErr   string
		apiErr    bool
	}{
		{"one 502 then OK", []int{502}, 2, "", false},
		{"three 5xx then OK", []int{500, 503, 504}, 4, "", false},
		{"always 503", []int{503, 503, 503, 503, 503}, 4, "gave up after 4 attempts", false},
		{"lost answers then OK", []int{lostAnswer, lostAnswer}, 3, "", false},
		{"always lost", []int{lostAnswer, lostAnswer, lostAnswer, lostAnswer}, 4, "gave up after 4 attempts", false},
		{"5xx with a result_code, retried", []int{-500, -500, -500, -500}, 4, "RUNTIME_ERROR", true},
		{"429 is retried", []int{429}, 2, "", false},
		{"a 404 page is not retried", []int{404}, 1, "unexpected answer without result_code: HTTP 404", false},
		{"a 200 without result_code is not retried", []int{-200}, 1, "malformed answer (no result_code)", false},
		{"a redirect is not followed", []int{-301}, 1, "redirected to https://api.example/2/rest/bills/count: BeeCloud does not redirect; check BaseURL", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			n := 0
			f := newFake(t, func(fakeCall) (int, string) {
				mu.Lock()
				defer mu.Unlock()
				n++
				if n > len(tt.answers) {
					return 200, ok(`"count":7`)
				}
				switch s := tt.answers[n-1]; s {
				case -500:
					return 500, `{"result_code":14,"result_msg":"RUNTIME_ERROR","err_detail":""}`
				case -200:
					return 200, `<html>gateway</html>`
				case -301:
					return -301, ""
				case lostAnswer:
					return s, ""
				default:
					return s, "<html><h1>" + http.StatusText(s) + "</h1></html>"
				}
			})
			got, err := f.client().CountBills(context.Background(), BillQuery{})
			assert.Len(t, f.Calls(), tt.wantCalls)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, 7, got)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			var apiErr *APIError
			assert.Equal(t, tt.apiErr, errors.As(err, &apiErr))
		})
	}
}

func TestQueryBackoffIsJitteredAndGrows(t *testing.T) {
	c := &Client{}
	ctx := context.Background()
	for n := 1; n <= 3; n++ {
		start := time.Now()
		require.NoError(t, c.wait(ctx, n))
		d := time.Since(start)
		lo := (retryBase << (n - 1)) / 2
		assert.GreaterOrEqual(t, d, lo, "wait %d", n)
		assert.LessOrEqual(t, d, retryBase<<(n-1)+time.Second, "wait %d", n)
	}
}

// TestQueryDeadline checks that a slow answer ends with the context and
// that no retry waits past the context's deadline.
func TestQueryDeadline(t *testing.T) {
	t.Run("slow answer", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		f := newFake(t, func(fakeCall) (int, string) {
			<-release
			return 200, ok(`"count":1`)
		})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := f.client().CountBills(ctx, BillQuery{})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 2*time.Second)
		assert.Len(t, f.Calls(), 1)
	})
	t.Run("no retry past the deadline", func(t *testing.T) {
		f := newFake(t, func(fakeCall) (int, string) { return 503, "busy" })
		c := f.client()
		c.retryWait = func(int) time.Duration { return time.Hour }
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.CountBills(ctx, BillQuery{})
		require.ErrorContains(t, err, "HTTP 503")
		require.ErrorContains(t, err, "deadline comes before the next attempt")
		assert.Less(t, time.Since(start), time.Second)
		assert.Len(t, f.Calls(), 1)
	})
	t.Run("cancel", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		f := newFake(t, func(fakeCall) (int, string) {
			<-release
			return 200, ok(`"count":1`)
		})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		_, err := f.client().CountBills(ctx, BillQuery{})
		require.ErrorIs(t, err, context.Canceled)
	})
}

// refundFake is a fake whose POST /2/rest/refund applies the refund (or
// not) and then answers (or not), and whose /2/rest/refunds finds it.
type refundFake struct {
	mu      sync.Mutex
	refunds map[string]string // refund_no → id
	posts   int
	// script says, per POST, whether the refund is applied and how the
	// answer goes: "apply+ok", "apply+lost", "lost", "apply+502", "502",
	// "code12"; after it, "apply+ok".
	script []string
	// lookup is the answer to a lookup: "" finds what was applied,
	// "fail" answers 400 without result_code, "apierr" RUNTIME_ERROR.
	lookup string
}

func (r *refundFake) answer(c fakeCall) (int, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch c.Path {
	case "/2/rest/refund":
		r.posts++
		step := "apply+ok"
		if r.posts <= len(r.script) {
			step = r.script[r.posts-1]
		}
		no := c.Params["refund_no"].(string)
		if strings.HasPrefix(step, "apply") {
			r.refunds[no] = fmt.Sprintf("id%d", r.posts)
		}
		switch {
		case strings.HasSuffix(step, "ok"):
			return 200, ok(`"id":"` + r.refunds[no] + `"`)
		case strings.HasSuffix(step, "lost"):
			return lostAnswer, ""
		case strings.HasSuffix(step, "502"):
			return 502, "<html>Bad Gateway</html>"
		case step == "code12":
			return 200, `{"result_code":12,"result_msg":"REFUND_AMOUNT_TOO_LARGE","err_detail":""}`
		}
	case "/2/rest/refunds":
		switch r.lookup {
		case "fail":
			return 400, "bad"
		case "apierr":
			return 200, `{"result_code":14,"result_msg":"RUNTIME_ERROR","err_detail":"busy"}`
		}
		fee := 50
		if r.lookup == "other" {
			fee = 70
		}
		no := c.Params["refund_no"].(string)
		if id, found := r.refunds[no]; found {
			return 200, ok(`"refunds":[{"id":"` + id + `","bill_no":"order0001","refund_no":"` + no + `","refund_fee":` + fmt.Sprint(fee) + `,"total_fee":150,"finish":true,"result":true,"create_time":1}]`)
		}
		return 200, ok(`"refunds":[]`)
	}
	return 404, "not found"
}

// TestRefundIsNeverSentTwice checks what Refund does when its answer is
// lost: it looks the refund up, and never sends it again.
func TestRefundIsNeverSentTwice(t *testing.T) {
	tests := []struct {
		name        string
		script      []string
		lookup      string
		wantApplied int
		want        *RefundResult
		wantErr     error
		wantText    string
	}{
		{"answered", nil, "", 1, &RefundResult{ID: "id1"}, nil, ""},
		{"applied, answer lost: found", []string{"apply+lost"}, "", 1, &RefundResult{ID: "id1", Recovered: true}, nil, ""},
		{"applied, 502: found", []string{"apply+502"}, "", 1, &RefundResult{ID: "id1", Recovered: true}, nil, ""},
		{"not applied, lost: unknown", []string{"lost"}, "", 0, nil, ErrUnknownOutcome, "BeeCloud has no record of it yet"},
		{"not applied, 502: unknown", []string{"502"}, "", 0, nil, ErrUnknownOutcome, "BeeCloud has no record of it yet"},
		{"lost, lookup fails", []string{"apply+lost"}, "fail", 1, nil, ErrUnknownOutcome, "the last failed"},
		{"lost, lookup refused", []string{"apply+lost"}, "apierr", 1, nil, ErrUnknownOutcome, "RUNTIME_ERROR"},
		{"refused", []string{"code12"}, "", 0, nil, &APIError{}, "REFUND_AMOUNT_TOO_LARGE"},
		{"lost, another refund has the number", []string{"apply+lost"}, "other", 1, nil, ErrUnknownOutcome, "refund numbers must be unique"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rf := &refundFake{refunds: map[string]string{}, script: tt.script, lookup: tt.lookup}
			f := newFake(t, rf.answer)
			no := NewRefundNo(time.Now())
			got, err := f.client().Refund(context.Background(), RefundRequest{OutTradeNo: "order0001", RefundNo: no, Amount: 50})
			var apiErr *APIError
			switch {
			case tt.wantErr == nil:
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
			case errors.As(tt.wantErr, &apiErr):
				require.ErrorAs(t, err, &apiErr)
			default:
				require.ErrorIs(t, err, tt.wantErr)
				require.NotErrorAs(t, err, &apiErr, "an unknown outcome must not read as BeeCloud's refusal")
			}
			if tt.wantText != "" {
				require.ErrorContains(t, err, tt.wantText)
				require.ErrorContains(t, err, no, "the error names the refund")
				assertNoSecret(t, err.Error())
			}
			rf.mu.Lock()
			defer rf.mu.Unlock()
			assert.Equal(t, 1, rf.posts, "POSTs")
			assert.Len(t, rf.refunds, tt.wantApplied, "refunds made")
		})
	}
}

func TestRefundNotSentWhenCancelled(t *testing.T) {
	rf := &refundFake{refunds: map[string]string{}}
	f := newFake(t, rf.answer)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.client().Refund(ctx, RefundRequest{OutTradeNo: "order0001", RefundNo: NewRefundNo(time.Now()), Amount: 1})
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, f.Calls())
}

func TestRefundRetriesWhenNeverSent(t *testing.T) {
	f := newFake(t, func(fakeCall) (int, string) { return 200, ok(`"id":"x"`) })
	c := f.client()
	c.BaseURL = "http://127.0.0.1:1" // nothing listens: the dial fails
	_, err := c.Refund(context.Background(), RefundRequest{OutTradeNo: "order0001", RefundNo: NewRefundNo(time.Now()), Amount: 1})
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrUnknownOutcome, "a refund that never left is known not to be made")
	require.ErrorContains(t, err, "connect")
}

func TestApproveRefundsLostAnswer(t *testing.T) {
	f := newFake(t, func(fakeCall) (int, string) { return lostAnswer, "" })
	_, err := f.client().ApproveRefunds(context.Background(), RefundApproval{Channel: "ALI", IDs: []string{"r1"}, Agree: true})
	require.ErrorIs(t, err, ErrUnknownOutcome)
	assert.Len(t, f.Calls(), 1, "a PUT is not sent twice")
}

// TestRequestValidation checks that bad requests are refused before they
// leave, naming the field.
func TestRequestValidation(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	today := NewRefundNo(now)
	tests := []struct {
		name  string
		run   func(c *Client) error
		field string
		text  string
	}{
		{"refund amount zero", func(c *Client) error {
			_, err := c.Refund(ctx, RefundRequest{OutTradeNo: "order0001", RefundNo: today, Amount: 0})
			return err
		}, "refund_fee", "positive"},
		{"refund amount negative", func(c *Client) error {
			_, err := c.Refund(ctx, RefundRequest{OutTradeNo: "order0001", RefundNo: today, Amount: -5})
			return err
		}, "refund_fee", "got -5"},
		{"refund without out_trade_no", func(c *Client) error {
			_, err := c.Refund(ctx, RefundRequest{RefundNo: today, Amount: 1})
			return err
		}, "bill_no", "is required"},
		{"refund without refund_no", func(c *Client) error {
			_, err := c.Refund(ctx, RefundRequest{OutTradeNo: "order0001", Amount: 1})
			return err
		}, "refund_no", "is required"},
		{"refund_no 22 characters", func(c *Client) error {
			_, err := c.Refund(ctx, RefundRequest{OutTradeNo: "order0001", RefundNo: today + "x", Amount: 1})
			return err
		}, "refund_no", "at most 21"},
		{"refund_no serial too short", func(c *Client) error {
			_, err := c.Refund(ctx, RefundRequest{OutTradeNo: "order0001", RefundNo: today[:10], Amount: 1})
			return err
		}, "refund_no", "3 or more"},
		{"refund_no serial 000", func(c *Client) error {
			_, err := c.Refund(ctx, RefundRequest{OutTradeNo: "order0001", RefundNo: today[:8] + "000", Amount: 1})
			return err
		}, "refund_no", `"000"`},
		{"refund_no with a dash", func(c *Client) error {
			_, err := c.Refund(ctx, RefundRequest{OutTradeNo: "order0001", RefundNo: today[:8] + "ab-c", Amount: 1})
			return err
		}, "refund_no", "letters or digits only"},
		{"refund_no not a date", func(c *Client) error {
			_, err := c.Refund(ctx, RefundRequest{OutTradeNo: "order0001", RefundNo: "20261345abc", Amount: 1})
			return err
		}, "refund_no", "real date"},
		{"refund_no of last week", func(c *Client) error {
			_, err := c.Refund(ctx, RefundRequest{OutTradeNo: "order0001", RefundNo: NewRefundNo(now.AddDate(0, 0, -7)), Amount: 1})
			return err
		}, "refund_no", "today's date"},
		{"refund channel in lower case", func(c *Client) error {
			_, err := c.Refund(ctx, RefundRequest{OutTradeNo: "order0001", RefundNo: today, Amount: 1, Channel: "ali"})
			return err
		}, "channel", `did you mean "ALI"`},
		{"refund optional nested", func(c *Client) error {
			_, err := c.Refund(ctx, RefundRequest{OutTradeNo: "order0001", RefundNo: today, Amount: 1, Optional: map[string]any{"a": []int{1}}})
			return err
		}, "optional.a", "string, number or bool"},
		{"bills limit 51", func(c *Client) error { _, err := c.Bills(ctx, BillQuery{Limit: 51}); return err }, "limit", "at most 50"},
		{"bills negative skip", func(c *Client) error { _, err := c.Bills(ctx, BillQuery{Skip: -1}); return err }, "skip", "negative"},
		{"bills bad out_trade_no", func(c *Client) error { _, err := c.Bills(ctx, BillQuery{OutTradeNo: "a b"}); return err }, "bill_no", "letters or digits"},
		{"bills until before since", func(c *Client) error {
			_, err := c.Bills(ctx, BillQuery{Since: now, Until: now.Add(-time.Hour)})
			return err
		}, "end_time", "before start_time"},
		{"count bills by refund", func(c *Client) error { _, err := c.CountBills(ctx, BillQuery{RefundedOnly: true}); return err }, "refund_result", "cannot count"},
		{"get bill without id", func(c *Client) error { _, err := c.GetBill(ctx, ""); return err }, "id", "is required"},
		{"get refund with a space", func(c *Client) error { _, err := c.GetRefund(ctx, "a b"); return err }, "id", "printable"},
		{"refunds limit 100", func(c *Client) error { _, err := c.Refunds(ctx, RefundQuery{Limit: 100}); return err }, "limit", "at most 50"},
		{"refund status of ALI", func(c *Client) error { _, err := c.RefundStatus(ctx, "ALI", today); return err }, "channel", `"WX", "YEE", "KUAIQIAN" or "BD"`},
		{"refund status without refund_no", func(c *Client) error { _, err := c.RefundStatus(ctx, "WX", ""); return err }, "refund_no", "is required"},
		{"approve without ids", func(c *Client) error { _, err := c.ApproveRefunds(ctx, RefundApproval{Channel: "ALI"}); return err }, "ids", "is required"},
		{"approve without channel", func(c *Client) error {
			_, err := c.ApproveRefunds(ctx, RefundApproval{IDs: []string{"x"}})
			return err
		}, "channel", "is required"},
		{"approve an empty id", func(c *Client) error {
			_, err := c.ApproveRefunds(ctx, RefundApproval{Channel: "ALI", IDs: []string{"x", ""}})
			return err
		}, "ids[1]", "is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(fakeCall) (int, string) { return 200, ok("") })
			err := tt.run(f.client())
			require.ErrorIs(t, err, ErrInvalidRequest)
			require.NotErrorIs(t, err, ErrInvalidOrder)
			var rerr *ValidationError
			require.ErrorAs(t, err, &rerr)
			p, found := rerr.Field(tt.field)
			require.True(t, found, "got %q; want a problem with %s", err, tt.field)
			assert.Contains(t, err.Error(), tt.field+": "+p.Reason)
			assert.Contains(t, p.Reason, tt.text)
			assert.Empty(t, f.Calls(), "a refused request is not sent")
		})
	}
}

func TestClientConfig(t *testing.T) {
	ctx := context.Background()
	f := newFake(t, func(fakeCall) (int, string) { return 200, ok(`"count":1`) })
	tests := []struct {
		name string
		cfg  Config
		run  func(c *Client) error
		text string
	}{
		{"query without AppSecret", Config{AppID: "a", MasterSecret: "m"}, func(c *Client) error { _, err := c.CountBills(ctx, BillQuery{}); return err }, "AppSecret is empty"},
		{"query without AppID", Config{AppSecret: "s"}, func(c *Client) error { _, err := c.CountBills(ctx, BillQuery{}); return err }, "AppID is empty"},
		{"refund without MasterSecret", Config{AppID: "a", AppSecret: "s"}, func(c *Client) error {
			_, err := c.Refund(ctx, RefundRequest{OutTradeNo: "order0001", RefundNo: NewRefundNo(time.Now()), Amount: 1})
			return err
		}, "MasterSecret is empty"},
		{"refund without AppSecret", Config{AppID: "a", MasterSecret: "m"}, func(c *Client) error {
			_, err := c.Refund(ctx, RefundRequest{OutTradeNo: "order0001", RefundNo: NewRefundNo(time.Now()), Amount: 1})
			return err
		}, "looks a refund up"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run(&Client{Config: tt.cfg, BaseURL: f.srv.URL})
			require.ErrorIs(t, err, ErrInvalidConfig)
			assert.ErrorContains(t, err, tt.text)
		})
	}
	assert.Empty(t, f.Calls())
}

func TestDefaultHTTPClient(t *testing.T) {
	c := &Client{}
	assert.Same(t, defaultHTTPClient, c.httpClient())
	assert.Positive(t, defaultHTTPClient.Timeout)
	assert.Equal(t, DefaultAPIURL, c.baseURL())
	c.BaseURL = "http://127.0.0.1:8090/"
	assert.Equal(t, "http://127.0.0.1:8090", c.baseURL(), "a trailing slash is dropped")
}

func TestAPISign(t *testing.T) {
	// MD5("app" + "1426817510111" + "secret"), computed independently.
	assert.Equal(t, md5Hex([]byte("app1426817510111secret")), APISign("app", 1426817510111, "secret"))
}

func TestNewRefundNo(t *testing.T) {
	// 20:00 UTC on 1 January is 04:00 on 2 January in Beijing.
	at := time.Date(2026, 1, 1, 20, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	for range 1000 {
		no := NewRefundNo(at)
		require.Len(t, no, MaxRefundNoLen)
		require.True(t, strings.HasPrefix(no, "20260102"), "got %q; want the Beijing date 20260102", no)
		require.Empty(t, checkRefundNo(no, at))
		require.False(t, seen[no], "got %q twice", no)
		seen[no] = true
	}
}

func TestAPIErrorText(t *testing.T) {
	tests := []struct {
		err  APIError
		want string
	}{
		{APIError{Code: 8, Message: "NO_SUCH_BILL", HTTPStatus: 200}, "beecloud: BeeCloud result_code 8 (NO_SUCH_BILL)"},
		{APIError{Code: 12, Message: "退款金额过大", Detail: "refund_fee 200 > 150"}, "beecloud: BeeCloud result_code 12 (REFUND_AMOUNT_TOO_LARGE): 退款金额过大: refund_fee 200 > 150"},
		{APIError{Code: 99, Message: "NEW"}, "beecloud: BeeCloud result_code 99: NEW"},
		{APIError{Code: -1}, "beecloud: BeeCloud result_code -1"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.err.Error())
	}
	long := APIError{Code: 14, Detail: strings.Repeat("界", 400)}
	assert.LessOrEqual(t, len(long.Error()), 600, "a long detail is cut")
}
