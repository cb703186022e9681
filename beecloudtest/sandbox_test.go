package beecloudtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/paybutton/beecloud/internal/channel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The credentials of BeeCloud's public test vectors (button README, webhook example).
const (
	appID        = "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719"
	appSecret    = "39a7a518-9ac8-4a9e-87bc-7885f33cf18c"
	masterSecret = "506371c7-b095-45da-bfce-9ae857c41a85"
)

var testConfig = beecloud.Config{AppID: appID, AppSecret: appSecret, MasterSecret: masterSecret}

// receiver is a merchant's webhook endpoint that answers from a script.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	bodies  [][]byte
	headers []http.Header
	answers []string // answer i is given to request i; later ones get the last
}

func newReceiver(t *testing.T, answers ...string) *receiver {
	t.Helper()
	if len(answers) == 0 {
		answers = []string{"success"}
	}
	rc := &receiver{answers: answers}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.bodies)
		rc.bodies = append(rc.bodies, body)
		rc.headers = append(rc.headers, r.Header.Clone())
		answer := rc.answers[min(n, len(rc.answers)-1)]
		rc.mu.Unlock()
		if code, text, ok := strings.Cut(answer, " "); ok && len(code) == 3 {
			var status int
			if _, err := fmt.Sscan(code, &status); err != nil {
				panic(fmt.Sprintf("recorder answer %q: %v", answer, err)) // a mistake in the test's table
			}
			w.WriteHeader(status)
			io.WriteString(w, text)
			return
		}
		io.WriteString(w, answer)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) received() [][]byte {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([][]byte(nil), rc.bodies...)
}

func newSandbox(t *testing.T, apps ...beecloudtest.App) *beecloudtest.Sandbox {
	t.Helper()
	sb := beecloudtest.NewSandbox(apps...)
	t.Cleanup(sb.Close)
	return sb
}

// data returns signed BC.click data for a valid order, as a map that
// cases change.
func data(outTradeNo string) map[string]any {
	title, amount := "测试商品", int64(150)
	return map[string]any{
		"title":        title,
		"amount":       amount,
		"out_trade_no": outTradeNo,
		"sign":         beecloud.Sign(appID, title, amount, outTradeNo, appSecret),
	}
}

// post sends what the button script sends and decodes the answer.
func post(t *testing.T, sb *beecloudtest.Sandbox, app string, d any, ch beecloud.Channel, mobile bool) (int, map[string]any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"data": d, "channel": ch, "mobile": mobile, "page": "http://shop.example/checkout"})
	require.NoError(t, err)
	resp, err := http.Post(sb.URL+"/2/rest/jsbutton/click?appId="+url.QueryEscape(app), "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"), "Access-Control-Allow-Origin")
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out), "decode answer")
	return resp.StatusCode, out
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// press presses a pay page button (pay, fail or cancel) and returns where
// the browser is sent.
func press(t *testing.T, sb *beecloudtest.Sandbox, bill, action string) string {
	t.Helper()
	resp, err := noRedirect.PostForm(sb.URL+"/sandbox/pay/"+bill+"/"+action, nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "%s: status", action)
	return resp.Header.Get("Location")
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func wait(t *testing.T, sb *beecloudtest.Sandbox, outTradeNo string) beecloudtest.Delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := sb.WaitDelivery(ctx, outTradeNo)
	require.NoError(t, err, "WaitDelivery(%q)", outTradeNo)
	return d
}

// scriptConfig extracts the configuration the sandbox put in its script.
func scriptConfig(t *testing.T, js string) map[string]any {
	t.Helper()
	i := strings.LastIndex(js, "})(")
	j := strings.LastIndex(js, ");")
	require.True(t, i >= 0 && j >= i, "script does not end with its configuration:\n%s", js[max(0, len(js)-200):])
	var cfg map[string]any
	require.NoError(t, json.Unmarshal([]byte(js[i+3:j]), &cfg), "script configuration")
	return cfg
}

func TestScript(t *testing.T) {
	sb := newSandbox(t, beecloudtest.App{Config: testConfig})
	assert.Equal(t, sb.URL+"/1/pay/jsbutton/returnscripts", sb.ScriptURL(), "ScriptURL")
	for _, tc := range []struct {
		name, appID string
		known       bool
	}{
		{"known app", appID, true},
		{"unknown app", "no-such-app", false},
		{"no appId", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Get(sb.ScriptURL() + "?appId=" + url.QueryEscape(tc.appID))
			require.NoError(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			js := string(b)
			require.Equal(t, http.StatusOK, resp.StatusCode, "status")
			ct := resp.Header.Get("Content-Type")
			assert.True(t, strings.HasPrefix(ct, "text/javascript"), "Content-Type: got %q; want text/javascript", ct)
			for _, want := range []string{"window.BC = BC", "click: function (data, event)", "err: function (e) { console.log(e); }", "document.dispatchEvent(new Event('beecloud:onready'))"} {
				assert.Contains(t, js, want, "script")
			}
			cfg := scriptConfig(t, js)
			assert.Equal(t, tc.known, cfg["known"], "config known")
			assert.Equal(t, tc.appID, cfg["appId"], "config appId")
			assert.Equal(t, sb.URL, cfg["base"], "config base")
			// The paths come from the sandbox's Go constants, never from
			// the script itself.
			paths, _ := cfg["paths"].(map[string]any)
			assert.Equal(t, "/2/rest/jsbutton/click", paths["click"], "config paths: click")
			assert.Equal(t, "/sandbox/pay/", paths["pay"], "config paths: pay")
			assert.True(t, strings.HasPrefix(fmt.Sprint(paths["css"]), "/sandbox/static/sandbox.css?v="), "config paths: css %v", paths["css"])
			code := js[:strings.LastIndex(js, "})(")]
			assert.NotContains(t, code, "/sandbox/", "the script repeats a path outside its configuration")
			assert.NotContains(t, code, "/2/rest/", "the script repeats a path outside its configuration")
			msg, _ := cfg["error"].(string)
			if tc.known {
				assert.Empty(t, msg, "config error")
			} else {
				assert.Contains(t, msg, "unknown appId", "config error")
			}
		})
	}
}

func TestScriptEscapesAppID(t *testing.T) {
	sb := newSandbox(t, beecloudtest.App{Config: testConfig})
	_, js := get(t, sb.ScriptURL()+"?appId="+url.QueryEscape("</script><script>alert(1)</script>\u2028"))
	assert.NotContains(t, js, "</script>", "the script carries the appId unescaped")
	assert.NotContains(t, js, "\u2028", "the script carries the appId unescaped")
	assert.Equal(t, "</script><script>alert(1)</script>\u2028", scriptConfig(t, js)["appId"], "appId")
}

func TestClickRefused(t *testing.T) {
	rc := newReceiver(t)
	sb := newSandbox(t,
		beecloudtest.App{Config: testConfig, Channels: []beecloud.Channel{beecloud.ChannelAli, beecloud.ChannelWxMP, beecloud.ChannelWx}, WebhookURL: rc.URL})
	resign := func(d map[string]any) {
		title, _ := d["title"].(string)
		no, _ := d["out_trade_no"].(string)
		var amount int64
		switch a := d["amount"].(type) {
		case int64:
			amount = a
		case int:
			amount = int64(a)
		}
		d["sign"] = beecloud.Sign(appID, title, amount, no, appSecret)
	}
	for _, tc := range []struct {
		name   string
		app    string
		change func(d map[string]any)
		status int
		field  string // the field the error names
		want   string // in the ERROR message
	}{
		{"unknown app", "other-app", func(map[string]any) {}, 404, "", "unknown appId \"other-app\""},
		{"sign mismatch", appID, func(d map[string]any) { d["sign"] = strings.Repeat("0", 32) }, 403, "", "sign mismatch"},
		{"sign of another title", appID, func(d map[string]any) { d["title"] = "别的商品" }, 403, "", "sign mismatch"},
		{"sign of another amount", appID, func(d map[string]any) { d["amount"] = 1 }, 403, "", `"1"`},
		{"sign in upper case", appID, func(d map[string]any) { d["sign"] = strings.ToUpper(d["sign"].(string)) }, 403, "", "lowercase"},
		{"sign missing", appID, func(d map[string]any) { delete(d, "sign") }, 400, "sign", "sign: is required"},
		{"out_trade_no short", appID, func(d map[string]any) { d["out_trade_no"] = "abc"; resign(d) }, 400, "out_trade_no", "out_trade_no: must be 8 to 32"},
		{"out_trade_no not alphanumeric", appID, func(d map[string]any) { d["out_trade_no"] = "order-0001"; resign(d) }, 400, "out_trade_no", "out_trade_no:"},
		{"out_trade_no missing", appID, func(d map[string]any) { delete(d, "out_trade_no"); resign(d) }, 400, "out_trade_no", "out_trade_no: is required"},
		{"out_trade_no a number", appID, func(d map[string]any) { d["out_trade_no"] = 12345678 }, 400, "out_trade_no", "out_trade_no: must be a string"},
		{"title missing", appID, func(d map[string]any) { delete(d, "title"); resign(d) }, 400, "title", "title: is required"},
		{"title with quote", appID, func(d map[string]any) { d["title"] = `a"b`; resign(d) }, 400, "title", "title: must not contain"},
		{"title too long", appID, func(d map[string]any) { d["title"] = strings.Repeat("长", 17); resign(d) }, 400, "title", "title: is 34 GBK bytes"},
		{"amount zero", appID, func(d map[string]any) { d["amount"] = 0; resign(d) }, 400, "amount", "amount: must be a positive"},
		{"amount missing", appID, func(d map[string]any) { delete(d, "amount"); resign(d) }, 400, "amount", "amount: must be a positive"},
		{"amount fractional", appID, func(d map[string]any) { d["amount"] = 1.5 }, 400, "amount", "amount: must be an integer"},
		{"amount in yuan text", appID, func(d map[string]any) { d["amount"] = "1.50" }, 400, "amount", `got the string "1.50"`},
		{"amount with leading zero", appID, func(d map[string]any) { d["amount"] = "0150" }, 400, "amount", "amount: must be an integer"},
		{"amount in exponent form", appID, func(d map[string]any) { d["amount"] = json.Number("1.5e2") }, 400, "amount", "must be written as an integer, got 1.5e2"},
		{"amount a bool", appID, func(d map[string]any) { d["amount"] = true }, 400, "amount", "not a bool"},
		{"amount too large", appID, func(d map[string]any) { d["amount"] = int64(1) << 60; resign(d) }, 400, "amount", "amount: must be at most"},
		{"return_url with query", appID, func(d map[string]any) { d["return_url"] = "https://shop.example/done?id=1" }, 400, "return_url", "return_url: must not carry parameters"},
		{"return_url not http", appID, func(d map[string]any) { d["return_url"] = "ftp://shop.example/done" }, 400, "return_url", "return_url: must start with http"},
		{"return_url with wx", appID, func(d map[string]any) {
			d["return_url"] = "https://shop.example/done"
			d["instant_channel"] = "wx"
			d["openid"] = "o3kKrjlUsMnv__cK5DYZMl0JoAkY"
		}, 400, "return_url", "is not supported by instant_channel"},
		{"optional nested", appID, func(d map[string]any) { d["optional"] = map[string]any{"user": map[string]any{"id": 1}} }, 400, "optional.user", "optional.user: must be a string, number or bool"},
		{"optional null value", appID, func(d map[string]any) { d["optional"] = map[string]any{"user": nil} }, 400, "optional.user", "optional.user:"},
		{"optional an array", appID, func(d map[string]any) { d["optional"] = []any{1} }, 400, "optional", "optional: must be an object"},
		{"optional a string", appID, func(d map[string]any) { d["optional"] = "" }, 400, "optional", "optional: must be an object"},
		{"debug a string", appID, func(d map[string]any) { d["debug"] = "true" }, 400, "debug", "debug: must be true or false"},
		{"need_ali_guide a number", appID, func(d map[string]any) { d["need_ali_guide"] = 0 }, 400, "need_ali_guide", "need_ali_guide: must be true or false"},
		{"use_app a string", appID, func(d map[string]any) { d["use_app"] = "no" }, 400, "use_app", "use_app: must be true or false"},
		{"instant_channel unknown", appID, func(d map[string]any) { d["instant_channel"] = "paypal" }, 400, "instant_channel", `instant_channel: unknown channel "paypal"`},
		{"instant_channel disabled", appID, func(d map[string]any) { d["instant_channel"] = "un" }, 403, "", `channel not enabled for this app: "un" (银联在线支付)`},
		{"openid missing for wx", appID, func(d map[string]any) { d["instant_channel"] = "wx" }, 400, "openid", "openid: is required"},
		{"openid with spaces", appID, func(d map[string]any) { d["openid"] = "o3kK rjl" }, 400, "openid", "openid: must contain only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := data("order0001")
			tc.change(d)
			status, out := post(t, sb, tc.app, d, "", false)
			msg, _ := out["ERROR"].(string)
			assert.Equal(t, tc.status, status, "status (ERROR %q)", msg)
			assert.Contains(t, msg, tc.want, "ERROR")
			field, _ := out["field"].(string)
			assert.Equal(t, tc.field, field, "field")
			assert.NotContains(t, out, "channels", "a refused click got a menu")
		})
	}
	assert.Empty(t, sb.Bills(), "refused clicks made bills")
	assert.Empty(t, rc.received(), "refused clicks sent webhooks")
}

func TestClickAccepted(t *testing.T) {
	sb := newSandbox(t, beecloudtest.App{Config: testConfig})
	for _, tc := range []struct {
		name   string
		change func(d map[string]any)
		menu   []string
		mobile bool
	}{
		{"minimal", func(map[string]any) {}, []string{"ali", "wxmp", "un"}, false},
		// A phone cannot scan a QR code on its own screen.
		{"phone", func(map[string]any) {}, []string{"ali", "un"}, true},
		{"phone with openid", func(d map[string]any) { d["openid"] = "o3kKrjlUsMnv__cK5DYZMl0JoAkY" }, []string{"ali", "wx", "un"}, true},
		{"amount as a digit string", func(d map[string]any) { d["amount"] = "150" }, []string{"ali", "wxmp", "un"}, false},
		{"every key", func(d map[string]any) {
			d["return_url"] = "https://shop.example/done"
			d["debug"] = true
			d["optional"] = map[string]any{"agent": "Alice", "n": 3, "vip": true, "rate": 0.5}
			d["need_ali_guide"] = false
			d["use_app"] = false
		}, []string{"ali", "wxmp", "un"}, false},
		{"openid shows WeChat JSAPI", func(d map[string]any) { d["openid"] = "o3kKrjlUsMnv__cK5DYZMl0JoAkY" }, []string{"ali", "wxmp", "wx", "un"}, false},
		{"keys BeeCloud ignores", func(d map[string]any) { d["app_id"] = appID }, []string{"ali", "wxmp", "un"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := data("order0001")
			tc.change(d)
			status, out := post(t, sb, appID, d, "", tc.mobile)
			require.Equal(t, http.StatusOK, status, "status (ERROR %v)", out["ERROR"])
			require.Nil(t, out["ERROR"], "ERROR")
			var codes []string
			items, _ := out["channels"].([]any)
			for _, it := range items {
				m := it.(map[string]any)
				codes = append(codes, m["code"].(string))
				assert.Equal(t, beecloud.Channel(m["code"].(string)).Name(), m["name"], "name of %v", m["code"])
			}
			assert.Equal(t, tc.menu, codes, "menu")
			assert.Equal(t, "测试商品", out["title"], "summary: title")
			assert.Equal(t, "1.50", out["yuan"], "summary: yuan")
		})
	}
}

func TestPayment(t *testing.T) {
	for _, tc := range []struct {
		name      string
		channel   beecloud.Channel
		mobile    bool
		returnURL string
		sub       string
		ctype     beecloud.ChannelType
	}{
		{"alipay desktop", beecloud.ChannelAli, false, "https://shop.example/done", "ALI_WEB", "ALI"},
		{"alipay mobile", beecloud.ChannelAli, true, "https://shop.example/done", "ALI_WAP", "ALI"},
		{"wechat QR", beecloud.ChannelWxMP, false, "http://127.0.0.1:9/paid", "WX_NATIVE", "WX"},
		{"unionpay, default return_url", beecloud.ChannelUN, false, "", "UN_WEB", "UN"},
		{"BeeCloud QR", beecloud.ChannelBCWxMP, false, "", "BC_NATIVE", "BC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t)
			sb := newSandbox(t, beecloudtest.App{
				Config: testConfig, WebhookURL: rc.URL,
				Channels: []beecloud.Channel{beecloud.ChannelAli, beecloud.ChannelWxMP, beecloud.ChannelUN, beecloud.ChannelBCWxMP},
			})
			d := data("order0001")
			d["optional"] = map[string]any{"agent": "Alice", "n": 3}
			if tc.returnURL != "" {
				d["return_url"] = tc.returnURL
			}
			status, out := post(t, sb, appID, d, tc.channel, tc.mobile)
			require.Equal(t, http.StatusOK, status, "choose %s (ERROR %v)", tc.channel, out["ERROR"])
			bill, _ := out["bill"].(string)
			assert.Equal(t, sb.URL+"/sandbox/pay/"+bill, out["url"], "pay page")

			_, page := get(t, sb.URL+"/sandbox/pay/"+bill)
			for _, want := range []string{"测试商品", "¥</span><span class=\"bcs-order-yuan\">1.50", `id="fail"`, `id="cancel"`, tc.channel.Name()} {
				assert.Contains(t, page, want, "pay page")
			}
			assert.Equal(t, channel.QRCode(string(tc.channel)), strings.Contains(page, `id="scan"`), "pay page has the scan button")

			loc := press(t, sb, bill, "pay")
			ret := tc.returnURL
			if ret == "" {
				ret = sb.URL + "/sandbox/result"
			}
			assert.Equal(t, ret+"?bill_no=order0001&spay_result=SUCCESS&total_fee=150", loc, "redirect")

			dl := wait(t, sb, "order0001")
			require.True(t, dl.Acknowledged, "delivery acknowledged")
			require.Len(t, dl.Attempts, 1, "delivery attempts")
			got := rc.received()
			require.Len(t, got, 1, "the receiver's bodies")
			require.Equal(t, dl.Body, got[0], "the receiver got the delivery's body")
			assert.Equal(t, "application/json", rc.headers[0].Get("Content-Type"), "Content-Type")
			var n struct {
				Signature            string               `json:"signature"`
				Timestamp            int64                `json:"timestamp"`
				ChannelType          beecloud.ChannelType `json:"channel_type"`
				SubChannelType       string               `json:"sub_channel_type"`
				TransactionType      string               `json:"transaction_type"`
				TransactionID        string               `json:"transaction_id"`
				TransactionFee       int64                `json:"transaction_fee"`
				TradeSuccess         bool                 `json:"trade_success"`
				MessageDetail        map[string]any       `json:"message_detail"`
				Optional             map[string]any       `json:"optional"`
				ChannelTransactionID string               `json:"channel_transaction_id"`
			}
			require.NoError(t, json.Unmarshal(got[0], &n))
			assert.Equal(t, beecloud.WebhookSignature(appID, "order0001", "PAY", tc.ctype, 150, masterSecret), n.Signature, "signature")
			assert.Equal(t, tc.ctype, n.ChannelType, "channel_type")
			assert.Equal(t, tc.sub, n.SubChannelType, "sub_channel_type")
			assert.Equal(t, "PAY", n.TransactionType, "transaction_type")
			assert.Equal(t, "order0001", n.TransactionID, "transaction_id")
			assert.Equal(t, int64(150), n.TransactionFee, "transaction_fee")
			assert.True(t, n.TradeSuccess, "trade_success")
			assert.Equal(t, "Alice", n.Optional["agent"], "optional: want the order's")
			assert.InDelta(t, 3, n.Optional["n"], 0, "optional: want the order's") // a JSON number; delta 0: exact
			assert.True(t, n.MessageDetail["out_trade_no"] != nil || n.MessageDetail["orderId"] == "order0001", "message_detail names no order: %v", n.MessageDetail)
			// The SDK's own parser accepts the body and reads the same.
			parsed, err := testConfig.ParseNotification(got[0])
			require.NoError(t, err, "ParseNotification")
			assert.Equal(t, tc.ctype, parsed.ChannelType, "ParseNotification: ChannelType")
			assert.Equal(t, tc.sub, parsed.SubChannelType, "ParseNotification: SubChannelType")
			assert.Equal(t, "order0001", parsed.TransactionID, "ParseNotification: TransactionID")
			assert.Equal(t, int64(150), parsed.TransactionFee, "ParseNotification: TransactionFee")
			assert.True(t, parsed.TradeSuccess, "ParseNotification: TradeSuccess")
			assert.Equal(t, beecloud.TransactionType("PAY"), parsed.TransactionType, "ParseNotification: TransactionType")
			assert.Equal(t, appID, parsed.AppID, "ParseNotification: AppID")
			pays := sb.Payments()
			require.Len(t, pays, 1, "payments")
			assert.NotEmpty(t, pays[0].ChannelTransactionID, "the payment's ChannelTransactionID")
			assert.Equal(t, pays[0].ChannelTransactionID, n.ChannelTransactionID, "channel_transaction_id: want the payment's")
			age := time.Since(time.UnixMilli(n.Timestamp))
			assert.GreaterOrEqual(t, age, time.Duration(0), "timestamp: %d is %v old", n.Timestamp, age)
			assert.LessOrEqual(t, age, time.Minute, "timestamp: %d is %v old", n.Timestamp, age)
			assert.Equal(t, tc.sub, pays[0].SubChannel, "payment: SubChannel")
			assert.Equal(t, tc.mobile, pays[0].Mobile, "payment: Mobile")
			assert.Equal(t, beecloudtest.BillPaid, pays[0].State, "payment: State")
		})
	}
}

func TestResend(t *testing.T) {
	rc := newReceiver(t, "500 oops", "fail", "200 Success", "success\n")
	sb := beecloudtest.NewUnstartedSandbox(beecloudtest.App{Config: testConfig, WebhookURL: rc.URL})
	sb.RetryBase = 5 * time.Millisecond
	sb.Start()
	defer sb.Close()

	_, err := sb.Pay(appID, data("order0001"), "")
	require.NoError(t, err)
	d := wait(t, sb, "order0001")
	require.True(t, d.Acknowledged, "acknowledged")
	require.False(t, d.GaveUp, "gave up")
	require.Len(t, d.Attempts, 4, "attempts")
	for i, want := range []struct {
		status int
		body   string
	}{{500, "oops"}, {200, "fail"}, {200, "Success"}, {200, "success\n"}} {
		a := d.Attempts[i]
		require.NoError(t, a.Err, "attempt %d", i+1)
		assert.Equal(t, want.status, a.StatusCode, "attempt %d: status", i+1)
		assert.Equal(t, want.body, a.Response, "attempt %d: response", i+1)
	}
	for i := 1; i < len(d.Attempts); i++ {
		gap := d.Attempts[i].At.Sub(d.Attempts[i-1].At)
		assert.GreaterOrEqual(t, gap, sb.RetryBase<<(i-1), "wait before attempt %d", i+1)
	}
	if got := rc.received(); assert.Len(t, got, 4, "the receiver's bodies") {
		assert.Equal(t, got[0], got[3], "the receiver got the same body 4 times")
	}
}

func TestGiveUp(t *testing.T) {
	rc := newReceiver(t, "ok")
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	for _, tc := range []struct {
		name, url string
		status    int
	}{
		{"wrong answer", rc.URL, 200},
		{"unreachable", deadURL, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := beecloudtest.NewUnstartedSandbox(beecloudtest.App{Config: testConfig, WebhookURL: tc.url})
			sb.MaxAttempts = 3
			sb.RetryBase = time.Millisecond
			sb.Start()
			defer sb.Close()
			_, err := sb.Pay(appID, data("order0001"), beecloud.ChannelAli)
			require.NoError(t, err)
			d := wait(t, sb, "order0001")
			require.False(t, d.Acknowledged, "acknowledged")
			require.True(t, d.GaveUp, "gave up")
			require.Len(t, d.Attempts, 3, "attempts")
			a := d.Attempts[2]
			assert.Equal(t, tc.status, a.StatusCode, "last attempt: status")
			if tc.status == 0 {
				assert.Error(t, a.Err, "last attempt")
			} else {
				assert.NoError(t, a.Err, "last attempt")
			}
		})
	}
}

func TestCloseStopsResending(t *testing.T) {
	rc := newReceiver(t, "no")
	sb := beecloudtest.NewUnstartedSandbox(beecloudtest.App{Config: testConfig, WebhookURL: rc.URL})
	sb.RetryBase = time.Hour
	sb.Start()
	_, err := sb.Pay(appID, data("order0001"), "")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = sb.WaitDelivery(ctx, "order0001")
	require.ErrorIs(t, err, context.Canceled, "WaitDelivery with a canceled context")
	sb.Close() // returns although the next resend is an hour away
	if d := sb.Deliveries(); assert.Len(t, d, 1, "after Close: deliveries") {
		assert.False(t, d[0].Done(), "after Close: the delivery is done; want it still open")
		assert.Len(t, d[0].Attempts, 1, "after Close: attempts")
	}
}

func TestFailAndCancel(t *testing.T) {
	rc := newReceiver(t)
	sb := newSandbox(t, beecloudtest.App{Config: testConfig, WebhookURL: rc.URL})
	for _, tc := range []struct {
		action string
		state  beecloudtest.BillState
		next   func(bill string) string
		text   string
	}{
		{"fail", beecloudtest.BillFailed, func(bill string) string { return sb.URL + "/sandbox/result?bill=" + bill }, "支付失败"},
		{"cancel", beecloudtest.BillCancelled, func(string) string { return "http://shop.example/checkout" }, ""},
	} {
		t.Run(tc.action, func(t *testing.T) {
			d := data("order0001")
			d["return_url"] = "https://shop.example/done"
			_, out := post(t, sb, appID, d, beecloud.ChannelAli, false)
			bill := out["bill"].(string)
			loc := press(t, sb, bill, tc.action)
			if assert.Equal(t, tc.next(bill), loc, "redirect") && tc.text != "" {
				_, page := get(t, loc)
				assert.Contains(t, page, tc.text, "result page")
				assert.Contains(t, page, `href="http://shop.example/checkout"`, "result page: the way back")
			}
			var state beecloudtest.BillState
			for _, b := range sb.Bills() {
				if b.ID == bill {
					state = b.State
				}
			}
			assert.Equal(t, tc.state, state, "state")
			resp, err := noRedirect.PostForm(sb.URL+"/sandbox/pay/"+bill+"/pay", nil)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusConflict, resp.StatusCode, "paying a %s bill: status", tc.state)
		})
	}
	assert.Empty(t, sb.Payments(), "payments")
	assert.Empty(t, sb.Deliveries(), "webhooks")
	assert.Empty(t, rc.received(), "webhooks received")
	// The buyer may try again after failing, and pay.
	_, err := sb.Pay(appID, data("order0001"), beecloud.ChannelWxMP)
	require.NoError(t, err, "paying after a failure")
}

func TestQRPolling(t *testing.T) {
	sb := newSandbox(t, beecloudtest.App{Config: testConfig})
	_, out := post(t, sb, appID, data("order0001"), beecloud.ChannelWxMP, false)
	bill := out["bill"].(string)
	poll := func() map[string]any {
		_, body := get(t, sb.URL+"/sandbox/bill/"+bill)
		var st map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &st), "bill status %q", body)
		return st
	}
	st := poll()
	assert.Equal(t, "pending", st["state"], "before paying: state")
	assert.Nil(t, st["next"], "before paying: next")
	status, svg := get(t, sb.URL+"/sandbox/qr/"+bill+".svg")
	assert.Equal(t, 200, status, "QR image: status")
	assert.True(t, strings.HasPrefix(svg, "<svg"), "QR image: got %.40q", svg)
	// The simulated scan pays without navigating: it asks for JSON.
	req, _ := http.NewRequest(http.MethodPost, sb.URL+"/sandbox/pay/"+bill+"/pay", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	st = poll()
	assert.Equal(t, "paid", st["state"], "after paying: state")
	assert.Equal(t, sb.URL+"/sandbox/result?bill_no=order0001&spay_result=SUCCESS&total_fee=150", st["next"], "after paying: next")
	status, _ = get(t, sb.URL+"/sandbox/qr/nosuchbill.svg")
	assert.Equal(t, http.StatusNotFound, status, "QR image of no bill: status")
}

func TestWeChatJSAPI(t *testing.T) {
	rc := newReceiver(t)
	sb := newSandbox(t, beecloudtest.App{Config: testConfig, WebhookURL: rc.URL})
	d := data("order0001")
	d["openid"] = "o3kKrjlUsMnv__cK5DYZMl0JoAkY"
	d["return_url"] = "https://shop.example/done" // for the other channels; JSAPI never uses it
	status, out := post(t, sb, appID, d, beecloud.ChannelWx, true)
	require.Equal(t, http.StatusOK, status, "status (ERROR %v)", out["ERROR"])
	bill := out["bill"].(string)
	args, _ := out["jsapi"].(map[string]any)
	assert.Equal(t, "prepay_id=sandbox_"+bill, args["package"], "getBrandWCPayRequest arguments: package")
	assert.Equal(t, "MD5", args["signType"], "getBrandWCPayRequest arguments: signType")
	assert.NotEmpty(t, args["appId"], "getBrandWCPayRequest arguments: appId")
	loc := press(t, sb, bill, "pay")
	assert.False(t, strings.HasPrefix(loc, "https://shop.example/"), "JSAPI payment went to return_url: %q", loc)
	dl := wait(t, sb, "order0001")
	var n map[string]any
	require.NoError(t, json.Unmarshal(dl.Body, &n), "webhook body %s", dl.Body)
	detail, _ := n["message_detail"].(map[string]any)
	assert.Equal(t, "WX_JSAPI", n["sub_channel_type"], "sub_channel_type")
	assert.Equal(t, "o3kKrjlUsMnv__cK5DYZMl0JoAkY", detail["openid"], "message_detail: openid")
	assert.Equal(t, "JSAPI", detail["trade_type"], "message_detail: trade_type")
}

func TestPay(t *testing.T) {
	rc := newReceiver(t)
	other := beecloud.Config{AppID: "afae2a33-c9cb-4139-88c9-af5c1df472e1", AppSecret: "other-secret", MasterSecret: "other-master"}
	sb := newSandbox(t,
		beecloudtest.App{Config: testConfig, WebhookURL: rc.URL},
		beecloudtest.App{Config: other, Channels: []beecloud.Channel{beecloud.ChannelUN}})

	params, err := testConfig.Params(beecloud.Order{Title: "test", Amount: 1, OutTradeNo: "test0001", Optional: map[string]any{"k": "v"}})
	require.NoError(t, err)
	b, err := sb.Pay(appID, params, "")
	require.NoError(t, err)
	assert.Equal(t, beecloud.ChannelAli, b.Channel, "bill: Channel")
	assert.Equal(t, beecloudtest.BillPaid, b.State, "bill: State")
	assert.Equal(t, appID, b.AppID, "bill: AppID")
	assert.Equal(t, "v", b.Order.Optional["k"], "bill: Optional")
	_, err = sb.Pay(appID, params, beecloud.ChannelWxMP)
	require.ErrorIs(t, err, beecloudtest.ErrAlreadyPaid, "paying twice")
	_, err = sb.Pay("nope", params, "")
	require.ErrorIs(t, err, beecloudtest.ErrUnknownApp, "unknown app")
	_, err = sb.Pay(other.AppID, params, "")
	require.ErrorIs(t, err, beecloudtest.ErrSignMismatch, "another app's sign")
	p2, _ := other.Params(beecloud.Order{Title: "test", Amount: 1, OutTradeNo: "test0001"})
	_, err = sb.Pay(other.AppID, p2, beecloud.ChannelAli)
	require.ErrorIs(t, err, beecloudtest.ErrChannelNotEnabled, "disabled channel")
	var verr *beecloud.ValidationError
	_, err = sb.Pay(other.AppID, map[string]any{"title": "test", "amount": 0, "out_trade_no": "x", "sign": "s"}, "")
	if assert.ErrorAs(t, err, &verr, "invalid order") && assert.ErrorIs(t, err, beecloud.ErrInvalidOrder, "invalid order") {
		_, ok := verr.Field("out_trade_no")
		assert.True(t, ok, "invalid order: %v does not name out_trade_no", err)
	}
	// Apps are apart: the other app may use the same out_trade_no.
	b2, err := sb.Pay(other.AppID, map[string]any{"title": "test", "amount": 1, "out_trade_no": "test0001", "sign": beecloud.Sign(other.AppID, "test", 1, "test0001", "other-secret")}, "")
	require.NoError(t, err, "other app")
	assert.Equal(t, beecloud.ChannelUN, b2.Channel, "other app: Channel")
	assert.Equal(t, "UN_WEB", b2.SubChannel, "other app: SubChannel")
	d := wait(t, sb, "test0001")
	assert.Equal(t, appID, d.AppID, "delivery: app (the other app has no webhook URL)")
	assert.Len(t, sb.Deliveries(), 1, "deliveries")
}

func TestSnapshotsAreCopies(t *testing.T) {
	rc := newReceiver(t)
	sb := newSandbox(t, beecloudtest.App{Config: testConfig, WebhookURL: rc.URL})
	d := data("order0001")
	d["optional"] = map[string]any{"k": "v"}
	_, err := sb.Pay(appID, d, "")
	require.NoError(t, err)
	wait(t, sb, "order0001")
	b := sb.Bills()
	b[0].Order.Optional["k"] = "changed"
	b[0].State = beecloudtest.BillFailed
	dl := sb.Deliveries()
	dl[0].Body[0] = 'X'
	dl[0].Attempts[0].StatusCode = 999
	b = sb.Bills()
	assert.Equal(t, "v", b[0].Order.Optional["k"], "changing a snapshot changed the sandbox's bill")
	assert.Equal(t, beecloudtest.BillPaid, b[0].State, "changing a snapshot changed the sandbox's bill")
	dl = sb.Deliveries()
	assert.Equal(t, byte('{'), dl[0].Body[0], "changing a snapshot changed the sandbox's delivery")
	assert.Equal(t, 200, dl[0].Attempts[0].StatusCode, "changing a snapshot changed the sandbox's delivery")
	apps := sb.Apps()
	apps[0].Channels[0] = beecloud.ChannelJD
	assert.Equal(t, beecloud.ChannelAli, sb.Apps()[0].Channels[0], "changing Apps changed the sandbox")
}

func TestConcurrentUse(t *testing.T) {
	rc := newReceiver(t, "fail", "success")
	sb := newSandbox(t, beecloudtest.App{Config: testConfig, WebhookURL: rc.URL})
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := sb.Pay(appID, data(fmt.Sprintf("order%04d", i)), "")
			assert.NoError(t, err, "Pay(order%04d)", i)
		}()
		go func() {
			defer wg.Done()
			_ = sb.Bills()
			_ = sb.Payments()
			for _, d := range sb.Deliveries() {
				_ = len(d.Attempts)
			}
			// Not get: its require may not end the test from here.
			resp, err := http.Get(sb.URL + "/")
			if assert.NoError(t, err, "GET /") {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	for i := range n {
		d := wait(t, sb, fmt.Sprintf("order%04d", i))
		assert.True(t, d.Acknowledged, "order%04d acknowledged", i)
	}
	assert.Len(t, sb.Bills(), n, "bills")
	assert.Len(t, sb.Payments(), n, "payments")
	assert.Len(t, sb.Deliveries(), n, "deliveries")
	_, index := get(t, sb.URL+"/")
	assert.Contains(t, index, "order0019", "the index page lists the bills")
	assert.Contains(t, index, appID, "the index page lists the app")
}

func TestStartAt(t *testing.T) {
	sb := beecloudtest.NewUnstartedSandbox(beecloudtest.App{Config: testConfig})
	require.NoError(t, sb.StartAt("127.0.0.1:0"))
	defer sb.Close()
	assert.True(t, strings.HasPrefix(sb.URL, "http://127.0.0.1:"), "URL: got %q", sb.URL)
	status, js := get(t, sb.ScriptURL()+"?appId="+appID)
	assert.Equal(t, 200, status, "script: status")
	assert.Contains(t, js, "beecloud:onready", "script")
	// A page on another origin asks before it posts JSON.
	req, _ := http.NewRequest(http.MethodOptions, sb.URL+"/2/rest/jsbutton/click?appId="+appID, nil)
	req.Header.Set("Origin", "http://shop.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode, "preflight: status")
	assert.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"), "preflight: Access-Control-Allow-Origin")
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "Content-Type", "preflight: Access-Control-Allow-Headers")
	taken := beecloudtest.NewUnstartedSandbox()
	if err := taken.StartAt(strings.TrimPrefix(sb.URL, "http://")); !assert.Error(t, err, "StartAt on a taken address") {
		taken.Close()
	}
	sb.Close()
	sb.Close() // a second Close does nothing
}

func TestNewSandboxPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		apps []beecloudtest.App
	}{
		{"no AppID", []beecloudtest.App{{Config: beecloud.Config{AppSecret: "s"}}}},
		{"no AppSecret", []beecloudtest.App{{Config: beecloud.Config{AppID: "a"}}}},
		{"WebhookURL without MasterSecret", []beecloudtest.App{{Config: beecloud.Config{AppID: "a", AppSecret: "s"}, WebhookURL: "http://127.0.0.1:9/"}}},
		{"same AppID twice", []beecloudtest.App{{Config: testConfig}, {Config: testConfig}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Panics(t, func() { beecloudtest.NewUnstartedSandbox(tc.apps...) }, "NewUnstartedSandbox")
		})
	}
}

// The SDK's WebhookHandler and the sandbox agree: a Handle that fails
// makes the sandbox resend, and the second delivery is handled once.
func TestWebhookHandlerInterop(t *testing.T) {
	var mu sync.Mutex
	var handled []string
	calls := 0
	h := &beecloud.WebhookHandler{
		Apps:   beecloud.Apps{testConfig},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Handle: func(ctx context.Context, n *beecloud.Notification) error {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if calls == 1 {
				return errors.New("the database is down")
			}
			handled = append(handled, n.TransactionID)
			return nil
		},
		ExpectedAmount: func(ctx context.Context, n *beecloud.Notification) (int64, error) { return 150, nil },
	}
	hook := httptest.NewServer(h)
	defer hook.Close()
	sb := newSandbox(t, beecloudtest.App{Config: testConfig, WebhookURL: hook.URL})
	_, err := sb.Pay(appID, data("order0001"), beecloud.ChannelWxMP)
	require.NoError(t, err)
	d := wait(t, sb, "order0001")
	assert.True(t, d.Acknowledged, "delivery acknowledged")
	if assert.Len(t, d.Attempts, 2, "delivery attempts: want a 500, then success") {
		assert.Equal(t, http.StatusInternalServerError, d.Attempts[0].StatusCode, "first attempt: status")
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"order0001"}, handled, "handled")
}

func TestPayUnknownAppNamesTheApps(t *testing.T) {
	for _, tc := range []struct {
		name string
		apps []beecloudtest.App
		want string
	}{
		{"no app", nil, `beecloudtest: unknown appId "nope": the sandbox serves no app`},
		{"one app", []beecloudtest.App{{Config: testConfig}}, `beecloudtest: unknown appId "nope": the sandbox serves "` + appID + `"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := newSandbox(t, tc.apps...)
			_, err := sb.Pay("nope", data("order0001"), "")
			require.ErrorIs(t, err, beecloudtest.ErrUnknownApp, "Pay")
			assert.EqualError(t, err, tc.want, "Pay")
		})
	}
}

func TestIndexHidesWebhookPassword(t *testing.T) {
	const hook = "http://shop:hunter2@127.0.0.1:9/webhook"
	sb := beecloudtest.NewUnstartedSandbox(beecloudtest.App{Config: testConfig, WebhookURL: hook})
	sb.MaxAttempts = 1
	sb.Start()
	defer sb.Close()
	_, err := sb.Pay(appID, data("order0001"), "")
	require.NoError(t, err)
	wait(t, sb, "order0001")
	_, index := get(t, sb.URL+"/")
	assert.NotContains(t, index, "hunter2", "the index page shows the webhook URL's password")
	want := "http://shop:xxxxx@127.0.0.1:9/webhook"
	assert.Equal(t, 2, strings.Count(index, want), "the index page shows %q; want twice, for the app and its delivery", want)
}

func TestNoSuchBill(t *testing.T) {
	sb := newSandbox(t, beecloudtest.App{Config: testConfig})
	for _, tc := range []struct {
		method, path, accept string
	}{
		{"GET", "/sandbox/pay/nope", ""},
		{"POST", "/sandbox/pay/nope/pay", ""},
		{"POST", "/sandbox/pay/nope/cancel", "application/json"},
		{"GET", "/sandbox/bill/nope", ""},
		{"GET", "/sandbox/qr/nope.svg", ""},
	} {
		req, _ := http.NewRequest(tc.method, sb.URL+tc.path, nil)
		req.Header.Set("Accept", tc.accept)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, "%s %s: status", tc.method, tc.path)
	}
}
