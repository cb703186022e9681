package beecloudtest_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// lockedBuffer is a log destination a test reads while the sandbox
// writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRESTSecretsInRequest sends calls the way BeeCloud's own Node.js SDK
// does, with the app's three secrets in every request: BeeCloud serves
// them, so the sandbox does too, and warns once per app without printing
// a secret. The signature is still checked.
func TestRESTSecretsInRequest(t *testing.T) {
	const testSecret = "7c7d1d55-5f0b-4d7b-9e53-6c7e07d4b0f2"
	cfg := testConfig
	cfg.TestSecret = testSecret
	other := beecloud.Config{AppID: "app2", AppSecret: "app2-secret-0123456789", MasterSecret: "app2-master-0123456789"}
	var logs lockedBuffer
	sb := beecloudtest.NewUnstartedSandbox(beecloudtest.App{Config: cfg}, beecloudtest.App{Config: other})
	sb.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	sb.Start()
	t.Cleanup(sb.Close)
	params, err := cfg.Params(beecloud.Order{Title: "测试", Amount: 100, OutTradeNo: beecloud.NewOutTradeNo()})
	require.NoError(t, err)
	b, err := sb.Pay(appID, params, beecloud.ChannelAli)
	require.NoError(t, err)

	leaky := func(extra map[string]any) map[string]any {
		m := map[string]any{"app_secret": appSecret, "master_secret": masterSecret, "test_secret": testSecret}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	status, code, detail := rawCall(t, sb, "GET", "/2/rest/bills", leaky(nil), appSecret)
	assert.Equal(t, 200, status)
	assert.Equal(t, 0, code, "a GET carrying the secrets is served: %s", detail)
	status, code, _ = rawCall(t, sb, "GET", "/2/rest/bills/count", leaky(nil), appSecret)
	assert.Equal(t, 200, status)
	assert.Equal(t, 0, code)
	status, code, detail = rawCall(t, sb, "POST", "/2/rest/refund",
		leaky(map[string]any{"bill_no": b.Order.OutTradeNo, "refund_no": beecloud.NewRefundNo(time.Now()), "refund_fee": 1}), appSecret)
	assert.Equal(t, 401, status)
	assert.Equal(t, int(beecloud.CodeAppInvalid), code, "a refund signed with the App Secret is refused even so")
	assert.Contains(t, detail, "Master Secret")
	assert.Empty(t, sb.Refunds())

	out := logs.String()
	assert.Equal(t, 1, strings.Count(out, "level=WARN"), "one warning for the app, however many calls: %s", out)
	assert.Contains(t, out, "app_id="+appID)
	assert.Contains(t, out, "App Secret, Master Secret, Test Secret")
	for _, secret := range []string{appSecret, masterSecret, testSecret} {
		assert.NotContains(t, out, secret, "the warning never prints a secret")
	}

	_, code, _ = rawCall(t, sb, "GET", "/2/rest/bills", map[string]any{"app_id": other.AppID, "title": other.AppSecret}, other.AppSecret)
	assert.Equal(t, 0, code)
	out = logs.String()
	assert.Equal(t, 2, strings.Count(out, "level=WARN"), "each app is warned once: %s", out)
	assert.Contains(t, out, `secrets="App Secret"`)
	assert.NotContains(t, out, other.AppSecret)
}

// TestRESTSubChannelFilter queries bills and refunds by a channel such as
// ALI, which keeps all its sub-channels, and by a sub-channel such as
// ALI_WEB, as BeeCloud does.
func TestRESTSubChannelFilter(t *testing.T) {
	s := newRESTShop(t)
	ctx := context.Background()
	ali := s.pay(t, 150, beecloud.ChannelAli)
	wx := s.pay(t, 3, beecloud.ChannelWxMP)
	un := s.pay(t, 20, beecloud.ChannelUN)
	require.Equal(t, "ALI_WEB", ali.SubChannel)
	require.Equal(t, "WX_NATIVE", wx.SubChannel)
	for _, b := range []beecloudtest.Bill{ali, wx} {
		_, err := s.client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: b.Order.OutTradeNo, RefundNo: beecloud.NewRefundNo(time.Now()), Amount: 1})
		require.NoError(t, err)
	}

	tests := []struct {
		channel string
		bills   []string // out_trade_no, newest first
		refunds []string
	}{
		{"", []string{un.Order.OutTradeNo, wx.Order.OutTradeNo, ali.Order.OutTradeNo}, []string{wx.Order.OutTradeNo, ali.Order.OutTradeNo}},
		{"ALI", []string{ali.Order.OutTradeNo}, []string{ali.Order.OutTradeNo}},
		{"ALI_WEB", []string{ali.Order.OutTradeNo}, []string{ali.Order.OutTradeNo}},
		{"ALI_WAP", nil, nil},
		{"WX", []string{wx.Order.OutTradeNo}, []string{wx.Order.OutTradeNo}},
		{"WX_NATIVE", []string{wx.Order.OutTradeNo}, []string{wx.Order.OutTradeNo}},
		{"WX_JSAPI", nil, nil},
		{un.SubChannel, []string{un.Order.OutTradeNo}, nil},
	}
	for _, tt := range tests {
		t.Run("channel="+tt.channel, func(t *testing.T) {
			bills, err := s.client.Bills(ctx, beecloud.BillQuery{Channel: beecloud.ChannelType(tt.channel)})
			require.NoError(t, err)
			var got []string
			for _, b := range bills {
				got = append(got, b.OutTradeNo)
			}
			assert.Equal(t, tt.bills, got, "bills")
			n, err := s.client.CountBills(ctx, beecloud.BillQuery{Channel: beecloud.ChannelType(tt.channel)})
			require.NoError(t, err)
			wantBills, wantRefunds := len(tt.bills), len(tt.refunds)
			assert.Equal(t, wantBills, n, "bills/count")

			refunds, err := s.client.Refunds(ctx, beecloud.RefundQuery{Channel: beecloud.ChannelType(tt.channel)})
			require.NoError(t, err)
			got = nil
			for _, r := range refunds {
				got = append(got, r.OutTradeNo)
			}
			assert.Equal(t, tt.refunds, got, "refunds")
			n, err = s.client.CountRefunds(ctx, beecloud.RefundQuery{Channel: beecloud.ChannelType(tt.channel)})
			require.NoError(t, err)
			assert.Equal(t, wantRefunds, n, "refunds/count")
		})
	}
}

// TestRESTAlipayRefundURL: a direct Alipay refund, and an approved Alipay
// pre-refund, is answered with the url of the page where, on BeeCloud, the
// merchant confirms it; other channels' refunds, pre-refunds before
// approval and denials have none.
func TestRESTAlipayRefundURL(t *testing.T) {
	s := newRESTShop(t)
	ctx := context.Background()
	ali := s.pay(t, 150, beecloud.ChannelAli)
	wx := s.pay(t, 3, beecloud.ChannelWxMP)

	res, err := s.client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: ali.Order.OutTradeNo, RefundNo: beecloud.NewRefundNo(time.Now()), Amount: 50})
	require.NoError(t, err)
	assert.Equal(t, s.sb.URL+"/sandbox/refund/"+res.ID, res.URL)
	resp, err := http.Get(res.URL)
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, string(page), `data-problem="refund-succeeded"`)
	assert.Contains(t, string(page), "退款成功")
	assert.Contains(t, string(page), "0.50")

	res, err = s.client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: wx.Order.OutTradeNo, RefundNo: beecloud.NewRefundNo(time.Now()), Amount: 1})
	require.NoError(t, err)
	assert.Empty(t, res.URL, "a WeChat refund has no confirmation page")
	res, err = s.client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: ali.Order.OutTradeNo, RefundNo: beecloud.NewRefundNo(time.Now()), Amount: 1, NeedApproval: true})
	require.NoError(t, err)
	assert.Empty(t, res.URL, "a pre-refund is confirmed when approved")
	out, err := s.client.ApproveRefunds(ctx, beecloud.RefundApproval{Channel: "ALI", IDs: []string{res.ID, "nosuchid"}, Agree: true})
	require.NoError(t, err)
	assert.Equal(t, s.sb.URL+"/sandbox/refund/"+res.ID, out.URL, "an approved Alipay pre-refund is confirmed on Alipay's page too")
	resp, err = http.Get(out.URL)
	require.NoError(t, err)
	page, err = io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	require.NoError(t, err)
	assert.Contains(t, string(page), `data-problem="refund-succeeded"`)

	res, err = s.client.Refund(ctx, beecloud.RefundRequest{OutTradeNo: ali.Order.OutTradeNo, RefundNo: beecloud.NewRefundNo(time.Now()), Amount: 1, NeedApproval: true})
	require.NoError(t, err)
	out, err = s.client.ApproveRefunds(ctx, beecloud.RefundApproval{Channel: "ALI", IDs: []string{res.ID}, DenyReason: "no"})
	require.NoError(t, err)
	assert.Empty(t, out.URL, "a denied pre-refund has nothing to confirm")

	resp, err = http.Get(s.sb.URL + "/sandbox/refund/nosuchrefund")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, 404, resp.StatusCode)
}
