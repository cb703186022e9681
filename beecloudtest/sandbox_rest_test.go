package beecloudtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// restShop is a sandbox whose webhooks reach a WebhookHandler, and a
// Client of its REST API.
type restShop struct {
	sb     *beecloudtest.Sandbox
	client *beecloud.Client

	mu    sync.Mutex
	notes []beecloud.Notification
}

func newRESTShop(t *testing.T) *restShop {
	t.Helper()
	s := &restShop{}
	h := &beecloud.WebhookHandler{
		Apps: beecloud.Apps{testConfig},
		Handle: func(ctx context.Context, n *beecloud.Notification) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.notes = append(s.notes, *n)
			return nil
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s.sb = beecloudtest.NewSandbox(beecloudtest.App{
		Config:     testConfig,
		Channels:   []beecloud.Channel{beecloud.ChannelAli, beecloud.ChannelWxMP, beecloud.ChannelUN},
		WebhookURL: srv.URL,
	})
	t.Cleanup(s.sb.Close)
	s.client = &beecloud.Client{Config: testConfig, BaseURL: s.sb.URL}
	return s
}

// afterMillisecond returns once the clock has left at's millisecond.
func afterMillisecond(t *testing.T, at time.Time) {
	t.Helper()
	require.Eventually(t, func() bool { return time.Now().UnixMilli() > at.UnixMilli() }, 10*time.Second, 100*time.Microsecond,
		"the clock did not leave %v's millisecond", at)
}

// pay pays a new order of amount through ch and waits for its webhook.
func (s *restShop) pay(t *testing.T, amount int64, ch beecloud.Channel) beecloudtest.Bill {
	t.Helper()
	params, err := testConfig.Params(beecloud.Order{Title: "测试", Amount: amount, OutTradeNo: beecloud.NewOutTradeNo(), Optional: map[string]any{"k": "v"}})
	require.NoError(t, err)
	b, err := s.sb.Pay(appID, params, ch)
	require.NoError(t, err)
	_, err = s.sb.WaitDelivery(context.Background(), b.Order.OutTradeNo)
	require.NoError(t, err)
	return b
}

func (s *restShop) notifications() []beecloud.Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]beecloud.Notification(nil), s.notes...)
}

func requireCode(t *testing.T, err error, code beecloud.Code) {
	t.Helper()
	var apiErr *beecloud.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, code, apiErr.Code, "got %v", err)
}

func TestRESTBills(t *testing.T) {
	s := newRESTShop(t)
	ctx := context.Background()
	// BeeCloud's time filters work in milliseconds: each bill gets a
	// millisecond of its own, or a fast machine makes all three at once.
	ali := s.pay(t, 150, beecloud.ChannelAli)
	afterMillisecond(t, ali.Created)
	un := s.pay(t, 20, beecloud.ChannelUN)
	afterMillisecond(t, un.Created)
	wx := s.pay(t, 3, beecloud.ChannelWxMP)

	bills, err := s.client.Bills(ctx, beecloud.BillQuery{})
	require.NoError(t, err)
	require.Len(t, bills, 3)
	assert.Equal(t, []string{wx.ID, un.ID, ali.ID}, []string{bills[0].ID, bills[1].ID, bills[2].ID}, "newest first")

	got, err := s.client.GetBill(ctx, ali.ID)
	require.NoError(t, err)
	assert.Equal(t, beecloud.Bill{
		ID: ali.ID, OutTradeNo: ali.Order.OutTradeNo, Title: "测试", Channel: "ALI", SubChannel: "ALI_WEB",
		ChannelTransactionID: ali.ChannelTransactionID, Amount: 150, Paid: true,
		CreatedAt: ali.Created.Truncate(time.Millisecond), Optional: map[string]any{"k": "v"},
		MessageDetail: got.MessageDetail,
	}, *got)
	assert.Contains(t, got.MessageDetail, ali.ChannelTransactionID)

	tests := []struct {
		name string
		q    beecloud.BillQuery
		want []string
	}{
		{"by order", beecloud.BillQuery{OutTradeNo: un.Order.OutTradeNo}, []string{un.ID}},
		{"by channel", beecloud.BillQuery{Channel: "WX"}, []string{wx.ID}},
		{"paid", beecloud.BillQuery{PaidOnly: true, Limit: 50}, []string{wx.ID, un.ID, ali.ID}},
		{"page", beecloud.BillQuery{Skip: 1, Limit: 1}, []string{un.ID}},
		{"since", beecloud.BillQuery{Since: un.Created.Truncate(time.Millisecond)}, []string{wx.ID, un.ID}},
		{"until", beecloud.BillQuery{Until: ali.Created}, []string{ali.ID}},
		{"none", beecloud.BillQuery{OutTradeNo: "nosuchorder"}, nil},
		{"refunded", beecloud.BillQuery{RefundedOnly: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bills, err := s.client.Bills(ctx, tt.q)
			require.NoError(t, err)
			var ids []string
			for _, b := range bills {
				ids = append(ids, b.ID)
			}
			assert.Equal(t, tt.want, ids)
			if tt.q.RefundedOnly {
				return // BeeCloud cannot count by refund_result
			}
			q := tt.q
			q.Skip, q.Limit = 0, 0
			n, err := s.client.CountBills(ctx, q)
			require.NoError(t, err)
			if tt.name != "page" {
				assert.Equal(t, len(tt.want), n)
			}
		})
	}

	_, err = s.client.GetBill(ctx, "nosuchbill")
	requireCode(t, err, beecloud.CodeNoSuchBill)
}

func TestRESTRefunds(t *testing.T) {
	s := newRESTShop(t)
	ctx := context.Background()
	b := s.pay(t, 150, beecloud.ChannelAli)
	no := b.Order.OutTradeNo

	first := beecloud.NewRefundNo(time.Now())
	res, err := s.client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: no, RefundNo: first, Amount: 50, Channel: "ALI", Optional: map[string]any{"why": "broken"}})
	require.NoError(t, err)
	require.NotEmpty(t, res.ID)
	d, err := s.sb.WaitDelivery(ctx, no)
	require.NoError(t, err)
	assert.Equal(t, beecloud.TransactionRefund, d.TransactionType)
	assert.Equal(t, first, d.RefundNo)
	assert.True(t, d.Acknowledged, "the REFUND webhook verifies")

	bills, err := s.client.Bills(ctx, beecloud.BillQuery{OutTradeNo: no})
	require.NoError(t, err)
	assert.True(t, bills[0].Refunded)

	_, err = s.client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: no, RefundNo: beecloud.NewRefundNo(time.Now()), Amount: 101})
	requireCode(t, err, beecloud.CodeRefundAmountTooLarge)
	second := beecloud.NewRefundNo(time.Now())
	_, err = s.client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: no, RefundNo: second, Amount: 100})
	require.NoError(t, err)
	_, err = s.client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: no, RefundNo: beecloud.NewRefundNo(time.Now()), Amount: 1})
	requireCode(t, err, beecloud.CodeRefundAmountTooLarge)
	d, err = s.sb.WaitDelivery(ctx, no)
	require.NoError(t, err)
	assert.Equal(t, second, d.RefundNo)

	refunds, err := s.client.Refunds(ctx, beecloud.RefundQuery{OutTradeNo: no})
	require.NoError(t, err)
	require.Len(t, refunds, 2)
	assert.Equal(t, second, refunds[0].RefundNo, "newest first")
	assert.Equal(t, beecloud.Refund{
		ID: res.ID, OutTradeNo: no, RefundNo: first, Title: "测试", Channel: "ALI", SubChannel: "ALI_WEB",
		Amount: 50, BillAmount: 150, Finished: true, Succeeded: true,
		CreatedAt: refunds[1].CreatedAt, Optional: map[string]any{"why": "broken"},
	}, refunds[1])
	n, err := s.client.CountRefunds(ctx, beecloud.RefundQuery{OutTradeNo: no})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	one, err := s.client.Refunds(ctx, beecloud.RefundQuery{RefundNo: first})
	require.NoError(t, err)
	require.Len(t, one, 1)
	got, err := s.client.GetRefund(ctx, res.ID)
	require.NoError(t, err)
	assert.Equal(t, first, got.RefundNo)
	assert.NotEmpty(t, got.MessageDetail)
	_, err = s.client.GetRefund(ctx, "nosuchrefund")
	requireCode(t, err, beecloud.CodeNoSuchRefund)

	var refundNotes []beecloud.Notification
	for _, n := range s.notifications() {
		if n.TransactionType == beecloud.TransactionRefund {
			refundNotes = append(refundNotes, n)
		}
	}
	require.Len(t, refundNotes, 2)
	assert.Equal(t, first, refundNotes[0].TransactionID)
	assert.Equal(t, int64(50), refundNotes[0].TransactionFee)
	assert.Equal(t, beecloud.ChannelTypeAli, refundNotes[0].ChannelType)
	assert.Equal(t, "broken", refundNotes[0].Optional["why"])
	assert.Len(t, s.sb.Refunds(), 2)
}

func TestRESTRefundRefusals(t *testing.T) {
	s := newRESTShop(t)
	ctx := context.Background()
	_, err := s.client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: "nosuchorder", RefundNo: beecloud.NewRefundNo(time.Now()), Amount: 1})
	requireCode(t, err, beecloud.CodeNoSuchBill)

	// A bill the buyer opened but did not pay.
	params, err := testConfig.Params(beecloud.Order{Title: "t", Amount: 5, OutTradeNo: "unpaid0001"})
	require.NoError(t, err)
	body, _ := json.Marshal(map[string]any{"data": params, "channel": "ali"})
	resp, err := http.Post(s.sb.URL+"/2/rest/jsbutton/click?appId="+appID, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	_, err = s.client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: "unpaid0001", RefundNo: beecloud.NewRefundNo(time.Now()), Amount: 1})
	requireCode(t, err, beecloud.CodeBillUnsuccess)

	b := s.pay(t, 10, beecloud.ChannelAli)
	_, err = s.client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: b.Order.OutTradeNo, RefundNo: beecloud.NewRefundNo(time.Now()), Amount: 1, Channel: "WX"})
	requireCode(t, err, beecloud.CodeParamInvalid)

	wrong := *s.client
	wrong.Config.MasterSecret = testConfig.AppSecret
	_, err = wrong.Refund(ctx, beecloud.RefundRequest{OutTradeNo: b.Order.OutTradeNo, RefundNo: beecloud.NewRefundNo(time.Now()), Amount: 1})
	requireCode(t, err, beecloud.CodeAppInvalid)
	var apiErr *beecloud.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Contains(t, apiErr.Detail, "Master Secret")
	assert.Contains(t, apiErr.Detail, "signed with the other secret")

	wrong = *s.client
	wrong.Config.AppSecret = "wrong"
	_, err = wrong.Bills(ctx, beecloud.BillQuery{})
	requireCode(t, err, beecloud.CodeAppInvalid)
	assert.Empty(t, s.sb.Refunds())
}

func TestRESTPreRefunds(t *testing.T) {
	s := newRESTShop(t)
	ctx := context.Background()
	b := s.pay(t, 100, beecloud.ChannelAli)
	no := b.Order.OutTradeNo
	pre := beecloud.NewRefundNo(time.Now())
	res, err := s.client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: no, RefundNo: pre, Amount: 30, NeedApproval: true})
	require.NoError(t, err)
	_, err = s.client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: no, RefundNo: beecloud.NewRefundNo(time.Now()), Amount: 10})
	requireCode(t, err, beecloud.CodeAlreadyRefunding)

	pending, err := s.client.Refunds(ctx, beecloud.RefundQuery{NeedApproval: true})
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.False(t, pending[0].Finished)
	direct, err := s.client.Refunds(ctx, beecloud.RefundQuery{})
	require.NoError(t, err)
	assert.Empty(t, direct)

	out, err := s.client.ApproveRefunds(ctx, beecloud.RefundApproval{Channel: "ALI", IDs: []string{res.ID, "nosuchid"}, Agree: true})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{res.ID: "OK", "nosuchid": "NO_SUCH_REFUND"}, out.Results)
	d, err := s.sb.WaitDelivery(ctx, no)
	require.NoError(t, err)
	assert.Equal(t, pre, d.RefundNo)
	out, err = s.client.ApproveRefunds(ctx, beecloud.RefundApproval{Channel: "ALI", IDs: []string{res.ID}, Agree: false, DenyReason: "twice"})
	require.NoError(t, err)
	assert.Contains(t, out.Results[res.ID], "NOT_PENDING")

	denied := beecloud.NewRefundNo(time.Now())
	res, err = s.client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: no, RefundNo: denied, Amount: 70, NeedApproval: true})
	require.NoError(t, err)
	out, err = s.client.ApproveRefunds(ctx, beecloud.RefundApproval{Channel: "ALI", IDs: []string{res.ID}, DenyReason: "no"})
	require.NoError(t, err)
	assert.Equal(t, "OK", out.Results[res.ID])
	got, err := s.client.GetRefund(ctx, res.ID)
	require.NoError(t, err)
	assert.True(t, got.Finished)
	assert.False(t, got.Succeeded)
}

func TestRESTRefundStatus(t *testing.T) {
	s := newRESTShop(t)
	ctx := context.Background()
	b := s.pay(t, 100, beecloud.ChannelWxMP)
	no := beecloud.NewRefundNo(time.Now())
	_, err := s.client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: b.Order.OutTradeNo, RefundNo: no, Amount: 100})
	require.NoError(t, err)
	status, err := s.client.RefundStatus(ctx, "WX", no)
	require.NoError(t, err)
	assert.Equal(t, beecloud.RefundSuccess, status)
	d, err := s.sb.WaitDelivery(ctx, b.Order.OutTradeNo)
	require.NoError(t, err)
	assert.Equal(t, beecloud.TransactionPay, d.TransactionType, "WeChat sends no refund webhook")
	_, err = s.client.RefundStatus(ctx, "WX", beecloud.NewRefundNo(time.Now()))
	requireCode(t, err, beecloud.CodeNoSuchRefund)
}

// rawCall sends a REST call by hand, signed with secret, and returns the
// HTTP status, result_code and err_detail.
func rawCall(t *testing.T, sb *beecloudtest.Sandbox, method, path string, params map[string]any, secret string) (int, int, string) {
	t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	if _, ok := params["timestamp"]; !ok {
		params["timestamp"] = time.Now().UnixMilli()
	}
	ts, _ := params["timestamp"].(int64)
	if _, ok := params["app_id"]; !ok {
		params["app_id"] = appID
	}
	if _, ok := params["app_sign"]; !ok {
		params["app_sign"] = beecloud.APISign(params["app_id"].(string), ts, secret)
	}
	data, err := json.Marshal(params)
	require.NoError(t, err)
	var req *http.Request
	if method == http.MethodGet {
		req, err = http.NewRequest(method, sb.URL+path+"?para="+url.QueryEscape(string(data)), nil)
	} else {
		req, err = http.NewRequest(method, sb.URL+path, bytes.NewReader(data))
		req.Header.Set("Content-Type", "application/json")
	}
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		Code   int    `json:"result_code"`
		Detail string `json:"err_detail"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out.Code, out.Detail
}

// TestRESTResultCodes checks the sandbox's answers to calls a client
// would refuse to send.
func TestRESTResultCodes(t *testing.T) {
	s := newRESTShop(t)
	b := s.pay(t, 100, beecloud.ChannelAli)
	today := beecloud.NewRefundNo(time.Now())
	refund := func(m map[string]any) map[string]any {
		out := map[string]any{"bill_no": b.Order.OutTradeNo, "refund_no": today, "refund_fee": 1}
		for k, v := range m {
			if v == nil {
				delete(out, k)
			} else {
				out[k] = v
			}
		}
		return out
	}
	tests := []struct {
		name, method, path string
		params             map[string]any
		secret             string
		status, code       int
		detail             string
	}{
		{"wrong secret", "GET", "/2/rest/bills", nil, "wrong", 401, 1, "App Secret"},
		{"unknown app", "GET", "/2/rest/bills", map[string]any{"app_id": "nosuchapp"}, appSecret, 401, 1, "unknown app_id"},
		{"timestamp in seconds", "GET", "/2/rest/bills", map[string]any{"timestamp": time.Now().Unix()}, appSecret, 401, 1, "milliseconds"},
		{"stale timestamp", "GET", "/2/rest/bills", map[string]any{"timestamp": time.Now().Add(-time.Hour).UnixMilli()}, appSecret, 401, 1, "away from"},
		{"upper-case sign accepted", "GET", "/2/rest/bills/count", map[string]any{"app_sign": "UPPER"}, appSecret, 200, 0, ""},
		{"a secret in the request, served as by BeeCloud", "GET", "/2/rest/bills", map[string]any{"title": appSecret}, appSecret, 200, 0, ""},
		{"limit 51", "GET", "/2/rest/bills", map[string]any{"limit": 51}, appSecret, 400, 5, "limit"},
		{"skip a string", "GET", "/2/rest/bills", map[string]any{"skip": "1"}, appSecret, 400, 5, "skip"},
		{"refund without refund_fee", "POST", "/2/rest/refund", refund(map[string]any{"refund_fee": nil}), masterSecret, 400, 4, "refund_fee"},
		{"refund without refund_no", "POST", "/2/rest/refund", refund(map[string]any{"refund_no": nil}), masterSecret, 400, 4, "refund_no"},
		{"refund_no 000", "POST", "/2/rest/refund", refund(map[string]any{"refund_no": today[:8] + "000"}), masterSecret, 400, 5, "000"},
		{"refund_no of another day", "POST", "/2/rest/refund", refund(map[string]any{"refund_no": "20200101abc"}), masterSecret, 400, 5, "today's date"},
		{"refund_fee zero", "POST", "/2/rest/refund", refund(map[string]any{"refund_fee": 0}), masterSecret, 400, 5, "positive"},
		{"refund signed with the App Secret", "POST", "/2/rest/refund", refund(nil), appSecret, 401, 1, "other secret"},
		{"status of ALI", "GET", "/2/rest/refund/status", map[string]any{"channel": "ALI", "refund_no": today}, appSecret, 400, 5, "WX, YEE"},
		{"status without channel", "GET", "/2/rest/refund/status", map[string]any{"refund_no": today}, appSecret, 400, 4, "channel"},
		{"approve without ids", "PUT", "/2/rest/refund", map[string]any{"channel": "ALI"}, masterSecret, 400, 4, "ids"},
		{"unknown path", "GET", "/2/rest/nosuch", nil, appSecret, 404, 5, "no API call GET /2/rest/nosuch"},
		{"identity check, not served", "POST", "/2/auth", nil, appSecret, 404, 5, "/2/auth"},
		{"in-store bill, not served", "POST", "/2/rest/offline/bill", nil, appSecret, 404, 5, "/2/rest/offline/bill"},
		{"bills by POST", "POST", "/2/rest/bills", nil, appSecret, 405, 5, "takes GET, not POST"},
		{"refund by DELETE", "DELETE", "/2/rest/refund", nil, masterSecret, 405, 5, "takes POST or PUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := tt.params
			if tt.name == "upper-case sign accepted" {
				ts := time.Now().UnixMilli()
				params = map[string]any{"timestamp": ts, "app_sign": strings.ToUpper(beecloud.APISign(appID, ts, appSecret))}
			}
			status, code, detail := rawCall(t, s.sb, tt.method, tt.path, params, tt.secret)
			assert.Equal(t, tt.status, status)
			assert.Equal(t, tt.code, code, "detail %q", detail)
			assert.Contains(t, detail, tt.detail)
		})
	}
	assert.Empty(t, s.sb.Refunds())

	t.Run("para missing", func(t *testing.T) {
		resp, err := http.Get(s.sb.URL + "/2/rest/bills")
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		assert.Equal(t, 400, resp.StatusCode)
		assert.Contains(t, string(body), `"result_code":4`)
	})
	t.Run("para not JSON", func(t *testing.T) {
		resp, err := http.Get(s.sb.URL + "/2/rest/bills?para=%7Bnope")
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		assert.Contains(t, string(body), `"result_code":5`)
	})
}

// TestRESTFaults checks the injected faults and that the client copes.
func TestRESTFaults(t *testing.T) {
	s := newRESTShop(t)
	ctx := context.Background()
	b := s.pay(t, 100, beecloud.ChannelAli)

	t.Run("5xx then OK", func(t *testing.T) {
		s.sb.FailNext(beecloudtest.Fault{Status: 502})
		bills, err := s.client.Bills(ctx, beecloud.BillQuery{})
		require.NoError(t, err)
		assert.Len(t, bills, 1)
	})
	t.Run("lost refund answer", func(t *testing.T) {
		s.sb.FailNext(beecloudtest.Fault{Method: "POST", Path: "/2/rest/refund", LoseAnswer: true})
		res, err := s.client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: b.Order.OutTradeNo, RefundNo: beecloud.NewRefundNo(time.Now()), Amount: 10})
		require.NoError(t, err)
		assert.True(t, res.Recovered)
		assert.Len(t, s.sb.Refunds(), 1, "made once")
	})
	t.Run("refund 502 before BeeCloud", func(t *testing.T) {
		s.sb.FailNext(beecloudtest.Fault{Method: "POST", Status: 502})
		short, cancel := context.WithTimeout(ctx, 2*time.Second) // look-ups for a second
		defer cancel()
		no := beecloud.NewRefundNo(time.Now())
		_, err := s.client.Refund(short, beecloud.RefundRequest{OutTradeNo: b.Order.OutTradeNo, RefundNo: no, Amount: 10})
		require.ErrorIs(t, err, beecloud.ErrUnknownOutcome, "not found proves nothing: never sent again")
		assert.Len(t, s.sb.Refunds(), 1)
		_, err = s.client.RefundOutcome(ctx, no)
		require.ErrorIs(t, err, beecloud.ErrRefundNotFound)
	})
	t.Run("latency", func(t *testing.T) {
		s.sb.FailNext(beecloudtest.Fault{Delay: time.Minute})
		ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := s.client.CountBills(ctx, beecloud.BillQuery{})
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("a refund slower than the client's patience", func(t *testing.T) {
		before := len(s.sb.Refunds())
		s.sb.FailNext(beecloudtest.Fault{Method: "POST", Delay: 100 * time.Millisecond})
		short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
		defer cancel()
		no := beecloud.NewRefundNo(time.Now())
		res, err := s.client.Refund(short, beecloud.RefundRequest{OutTradeNo: b.Order.OutTradeNo, RefundNo: no, Amount: 1})
		if err == nil {
			// The one look-up the deadline left found it.
			assert.True(t, res.Recovered)
		} else {
			require.ErrorIs(t, err, beecloud.ErrUnknownOutcome)
			require.ErrorContains(t, err, no)
		}
		require.Eventually(t, func() bool { return len(s.sb.Refunds()) == before+1 }, 5*time.Second, 10*time.Millisecond, "the sandbox made it after all")
		found, err := s.client.Refunds(ctx, beecloud.RefundQuery{RefundNo: no})
		require.NoError(t, err)
		assert.Len(t, found, 1, "looked up by its refund_no, as the error says")
	})
	t.Run("a fault for another path waits", func(t *testing.T) {
		s.sb.FailNext(beecloudtest.Fault{Path: "/2/rest/refunds", Status: 500, Times: 4})
		_, err := s.client.CountBills(ctx, beecloud.BillQuery{})
		require.NoError(t, err)
		_, err = s.client.Refunds(ctx, beecloud.RefundQuery{})
		require.ErrorContains(t, err, "HTTP 500")
		var apiErr *beecloud.APIError
		assert.NotErrorAs(t, err, &apiErr)
	})
}

// TestRESTRefundWebhookResent checks that a REFUND webhook is signed and
// resent until acknowledged, like a PAY one.
func TestRESTRefundWebhookResent(t *testing.T) {
	// The payment is acknowledged; the refund's first two attempts fail.
	rc := newReceiver(t, "success", "500 down", "busy", "success")
	sb := newSandbox(t, beecloudtest.App{Config: testConfig, WebhookURL: rc.URL})
	ctx := context.Background()
	b, err := sb.Pay(appID, data("refund0001"), beecloud.ChannelAli)
	require.NoError(t, err)
	_, err = sb.WaitDelivery(ctx, b.Order.OutTradeNo)
	require.NoError(t, err)
	client := &beecloud.Client{Config: testConfig, BaseURL: sb.URL}
	no := beecloud.NewRefundNo(time.Now())
	_, err = client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: "refund0001", RefundNo: no, Amount: 150})
	require.NoError(t, err)
	d, err := sb.WaitDelivery(ctx, "refund0001")
	require.NoError(t, err)
	require.True(t, d.Acknowledged)
	assert.Len(t, d.Attempts, 3)
	assert.Equal(t, []int{500, 200, 200}, []int{d.Attempts[0].StatusCode, d.Attempts[1].StatusCode, d.Attempts[2].StatusCode})

	n, err := testConfig.ParseNotification(d.Body)
	require.NoError(t, err, "the REFUND webhook verifies with the Master Secret")
	assert.Equal(t, beecloud.TransactionRefund, n.TransactionType)
	assert.Equal(t, no, n.TransactionID)
	assert.Equal(t, int64(150), n.TransactionFee)
	assert.Equal(t, "ALI_WEB", n.SubChannelType)
	assert.Equal(t, b.ChannelTransactionID, n.ChannelTransactionID)

	d, err = sb.Redeliver(ctx, "refund0001")
	require.NoError(t, err)
	assert.Equal(t, beecloud.TransactionRefund, d.TransactionType, "a duplicate keeps the type")
	assert.Equal(t, no, d.RefundNo)
}
