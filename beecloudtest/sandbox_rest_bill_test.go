package beecloudtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

const testSecret = "4bfdd244-574d-4bf3-b034-0c751ed34fee"

// postBill posts params, signed with secret, to path and decodes the
// answer.
func postBill(t *testing.T, url, path, secret string, params map[string]any) (int, map[string]any) {
	t.Helper()
	ts := time.Now().UnixMilli()
	params["app_id"], params["timestamp"], params["app_sign"] = appID, ts, beecloud.APISign(appID, ts, secret)
	body, err := json.Marshal(params)
	require.NoError(t, err)
	resp, err := http.Post(url+path, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

func newBillSandbox(t *testing.T) *beecloudtest.Sandbox {
	cfg := testConfig
	cfg.TestSecret = testSecret
	sb := beecloudtest.NewSandbox(beecloudtest.App{Config: cfg})
	t.Cleanup(sb.Close)
	return sb
}

// TestSandboxBillRefusals: the sandbox checks a new bill as BeeCloud does.
func TestSandboxBillRefusals(t *testing.T) {
	sb := newBillSandbox(t)
	base := func() map[string]any {
		return map[string]any{"channel": "WX_NATIVE", "bill_no": beecloud.NewOutTradeNo(), "title": "测试", "total_fee": 1}
	}
	tests := []struct {
		name   string
		edit   func(m map[string]any)
		path   string
		secret string
		code   beecloud.Code
	}{
		{"ok", func(map[string]any) {}, "/2/rest/bill", appSecret, beecloud.CodeOK},
		{"ok in test mode", func(map[string]any) {}, "/2/rest/sandbox/bill", testSecret, beecloud.CodeOK},
		{"test mode signed with the App Secret", func(map[string]any) {}, "/2/rest/sandbox/bill", appSecret, beecloud.CodeAppInvalid},
		{"live signed with the Master Secret", func(map[string]any) {}, "/2/rest/bill", masterSecret, beecloud.CodeAppInvalid},
		{"unknown channel", func(m map[string]any) { m["channel"] = "WX_SCAN" }, "/2/rest/bill", appSecret, beecloud.CodeChannelInvalid},
		{"no bill_no", func(m map[string]any) { delete(m, "bill_no") }, "/2/rest/bill", appSecret, beecloud.CodeMissParam},
		{"bad bill_no", func(m map[string]any) { m["bill_no"] = "no-1" }, "/2/rest/bill", appSecret, beecloud.CodeParamInvalid},
		{"zero fee", func(m map[string]any) { m["total_fee"] = 0 }, "/2/rest/bill", appSecret, beecloud.CodeParamInvalid},
		{"WX_JSAPI without openid", func(m map[string]any) { m["channel"] = "WX_JSAPI" }, "/2/rest/bill", appSecret, beecloud.CodeMissParam},
		{"ALI_WEB without return_url", func(m map[string]any) { m["channel"] = "ALI_WEB" }, "/2/rest/bill", appSecret, beecloud.CodeMissParam},
		{"ALI_QRCODE bad mode", func(m map[string]any) {
			m["channel"], m["return_url"], m["qr_pay_mode"] = "ALI_QRCODE", "http://shop.example.com/ok", "2"
		}, "/2/rest/bill", appSecret, beecloud.CodeParamInvalid},
		{"YEE_NOBANKCARD without card", func(m map[string]any) { m["channel"] = "YEE_NOBANKCARD" }, "/2/rest/bill", appSecret, beecloud.CodeMissParam},
		{"JD with bill_timeout", func(m map[string]any) {
			m["channel"], m["return_url"], m["bill_timeout"] = "JD_WEB", "http://shop.example.com/ok", 600
		}, "/2/rest/bill", appSecret, beecloud.CodeParamInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			tt.edit(m)
			_, out := postBill(t, sb.URL, tt.path, tt.secret, m)
			assert.EqualValues(t, tt.code, out["result_code"], "%v", out)
		})
	}
}

// TestSandboxBillPages: what a web channel's answer holds leads to the
// sandbox's pay page, and paying there sends the webhook.
func TestSandboxBillPages(t *testing.T) {
	rcv := newReceiver(t, "success")
	cfg := testConfig
	cfg.TestSecret = testSecret
	sb := beecloudtest.NewSandbox(beecloudtest.App{Config: cfg, WebhookURL: rcv.URL})
	t.Cleanup(sb.Close)

	_, out := postBill(t, sb.URL, "/2/rest/bill", appSecret, map[string]any{
		"channel": "ALI_WEB", "bill_no": "webbill01", "title": "网页", "total_fee": 150, "return_url": "http://shop.example.com/ok",
	})
	require.EqualValues(t, 0, out["result_code"], "%v", out)
	html, _ := out["html"].(string)
	action := regexp.MustCompile(`action="([^"]+)"`).FindStringSubmatch(html)
	require.NotNil(t, action, html)
	assert.Equal(t, out["url"], action[1])

	// The form's target is the pay page, with its buttons.
	resp, err := http.Get(action[1])
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(page), `id="pay"`)
	assert.Contains(t, string(page), "支付宝")

	// 支付成功 pays and sends the buyer to return_url.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = client.Post(action[1]+"/pay", "application/x-www-form-urlencoded", strings.NewReader(""))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.True(t, strings.HasPrefix(resp.Header.Get("Location"), "http://shop.example.com/ok?"), resp.Header.Get("Location"))

	d, err := sb.WaitDelivery(context.Background(), "webbill01")
	require.NoError(t, err)
	n, err := testConfig.ParseNotification(d.Body)
	require.NoError(t, err)
	assert.Equal(t, beecloud.ChannelTypeAli, n.ChannelType)
	assert.Equal(t, "ALI_WEB", n.SubChannelType)
	assert.EqualValues(t, 150, n.TransactionFee)
}

func TestSandboxMarkPaid(t *testing.T) {
	sb := newBillSandbox(t)
	_, out := postBill(t, sb.URL, "/2/rest/sandbox/bill", testSecret, map[string]any{
		"channel": "UN_APP", "bill_no": "appbill01", "title": "app", "total_fee": 1,
	})
	require.EqualValues(t, 0, out["result_code"], "%v", out)
	tn, _ := out["tn"].(string)
	require.NotEmpty(t, tn)

	_, err := sb.MarkPaid("no such thing")
	require.ErrorIs(t, err, beecloudtest.ErrNoSuchBill)

	b, err := sb.MarkPaid(tn)
	require.NoError(t, err)
	assert.Equal(t, beecloudtest.BillPaid, b.State)
	assert.True(t, b.Test)
	assert.Equal(t, beecloud.Channel("UN_APP"), b.Channel)

	// Paying again changes nothing; the v1 path answers JSON too.
	resp, err := http.Get(sb.URL + "/1/rest/sandbox/" + appID + "/" + b.ID)
	require.NoError(t, err)
	var ack map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ack))
	resp.Body.Close()
	assert.EqualValues(t, 0, ack["result_code"])

	// A button bill cannot be paid this way.
	params, err := testConfig.Params(beecloud.Order{Title: "按钮", Amount: 1, OutTradeNo: "button001"})
	require.NoError(t, err)
	bb, err := sb.Pay(appID, params, beecloud.ChannelAli)
	require.NoError(t, err)
	resp, err = http.Get(sb.URL + "/2/rest/sandbox/notify/" + appID + "/" + bb.ID)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}
