package beecloudtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fetch does a request and returns the status, Content-Type and body.
func fetch(t *testing.T, method, u, accept string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	require.NoError(t, err)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

// TestPagesSayWhatHappened checks that each page a buyer or developer may
// reach by mistake is a styled HTML page, with the right status, that
// says what happened and what to do.
func TestPagesSayWhatHappened(t *testing.T) {
	sb := newSandbox(t, beecloudtest.App{Config: testConfig})
	paid, err := sb.Pay(appID, data("order0001"), beecloud.ChannelAli)
	require.NoError(t, err)
	for _, tc := range []struct {
		name, method, path string
		status             int
		want               []string
	}{
		{"unknown pay page", "GET", "/sandbox/pay/nope", 404, []string{`data-problem="no-bill"`, "找不到这笔账单", "重新点击支付按钮"}},
		{"unknown bill's result", "GET", "/sandbox/result?bill=nope", 404, []string{`data-problem="no-bill"`, "最近 1000 笔"}},
		{"result of nothing", "GET", "/sandbox/result", 404, []string{`data-problem="no-result"`, "没有支付结果"}},
		{"unknown page", "GET", "/nope", 404, []string{`data-problem="not-found"`, "页面不存在"}},
		{"unknown action", "POST", "/sandbox/pay/" + paid.ID + "/refund", 404, []string{`data-problem="not-found"`}},
		{"支付失败 after paying", "POST", "/sandbox/pay/" + paid.ID + "/fail", 409, []string{
			`data-problem="settled"`, "这笔账单已支付", "不能再标记为“支付失败”", "（北京时间）", "/sandbox/result?bill_no=order0001", "查看支付结果",
		}},
		{"取消 after paying", "POST", "/sandbox/pay/" + paid.ID + "/cancel", 409, []string{`data-problem="settled"`, "不能再标记为“已取消”"}},
		{"paid pay page", "GET", "/sandbox/pay/" + paid.ID, 200, []string{`id="settled"`, "已支付", `id="next"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, ct, body := fetch(t, tc.method, sb.URL+tc.path, "")
			assert.Equal(t, tc.status, status, "status")
			assert.True(t, strings.HasPrefix(ct, "text/html"), "Content-Type: got %s; want text/html", ct)
			for _, want := range append([]string{`<link rel="stylesheet" href="/sandbox/static/sandbox.css?v=`, `<link rel="icon"`, "BeeCloud 沙箱"}, tc.want...) {
				assert.Contains(t, body, want, "page")
			}
		})
	}
}

func TestPayPageWords(t *testing.T) {
	sb := newSandbox(t, beecloudtest.App{Config: testConfig, Channels: []beecloud.Channel{beecloud.ChannelAli, beecloud.ChannelWxMP}})
	for _, tc := range []struct {
		ch      beecloud.Channel
		mobile  bool
		want    []string
		wantNot []string
	}{
		{beecloud.ChannelAli, false, []string{"<h1>支付宝</h1><p>网页支付</p>", `data-sub="ALI_WEB"`}, []string{"<p>ALI_WEB"}},
		{beecloud.ChannelAli, true, []string{"<p>手机网页支付</p>"}, nil},
		{beecloud.ChannelWxMP, false, []string{"请用手机微信扫描二维码完成支付"}, []string{"另一部手机"}},
		{beecloud.ChannelWxMP, true, []string{"另一部手机的微信扫描"}, []string{"请用手机"}},
	} {
		_, out := post(t, sb, appID, data(beecloud.NewOutTradeNo()), tc.ch, tc.mobile)
		_, page := get(t, sb.URL+"/sandbox/pay/"+out["bill"].(string))
		for _, want := range tc.want {
			assert.Contains(t, page, want, "%s mobile=%t: page", tc.ch, tc.mobile)
		}
		for _, not := range tc.wantNot {
			assert.NotContains(t, page, not, "%s mobile=%t: page", tc.ch, tc.mobile)
		}
		assert.Contains(t, page, `addEventListener("pageshow"`, "pay page does not reload when restored from the back-forward cache")
	}
}

func TestDashboard(t *testing.T) {
	rc := newReceiver(t)
	sb := newSandbox(t, beecloudtest.App{Config: testConfig, WebhookURL: rc.URL})
	_, err := sb.Pay(appID, data("order0001"), beecloud.ChannelAli)
	require.NoError(t, err)
	wait(t, sb, "order0001")
	_, out := post(t, sb, appID, data("order0002"), beecloud.ChannelUN, false)
	press(t, sb, out["bill"].(string), "cancel")
	client := &beecloud.Client{Config: testConfig, BaseURL: sb.URL}
	refundNo := beecloud.NewRefundNo(time.Now())
	_, err = client.Refund(context.Background(), beecloud.RefundRequest{OutTradeNo: "order0001", RefundNo: refundNo, Amount: 50})
	require.NoError(t, err, "Refund")
	_, page := get(t, sb.URL+"/")
	for _, want := range []string{
		// The refund, with its number and state.
		`data-label="退款单号"><code class="bcs-no">` + refundNo + `</code>`, `¥0.50`, `bcs-tag-paid">已退款<`,
		// The script tag as BeeCloud's dashboard gives it, shown as text.
		`&lt;script id=&#34;spay-script&#34; type=&#34;text/javascript&#34; src=&#34;` + sb.ScriptURL() + `?appId=` + appID + `&#34;&gt;&lt;/script&gt;`,
		">已支付<", ">已取消<", ">已确认<", "支付宝 · ALI_WEB", "银联在线支付 · UN_WEB", "北京时间",
		`data-label="订单号"><code class="bcs-no">order0001</code>`,
	} {
		assert.Contains(t, page, want, "dashboard")
	}
	for _, english := range []string{">paid<", ">cancelled<", ">pending<", "success</td>", "duplicate"} {
		assert.NotContains(t, page, english, "dashboard shows %q in English", english)
	}
	// Times are Beijing time (UTC+8).
	b := sb.Bills()[0]
	assert.Contains(t, page, b.Created.In(time.FixedZone("", 8*3600)).Format("2006-01-02 15:04:05"), "dashboard lacks the Beijing time")
}

func TestStaticAssets(t *testing.T) {
	sb := newSandbox(t, beecloudtest.App{Config: testConfig})
	for _, path := range []string{"/favicon.ico", "/sandbox/static/icon.svg"} {
		status, ct, body := fetch(t, "GET", sb.URL+path, "")
		assert.Equal(t, 200, status, "%s: status", path)
		assert.Equal(t, "image/svg+xml", ct, "%s: Content-Type", path)
		assert.True(t, strings.HasPrefix(body, "<svg"), "%s: body starts %.40q; want <svg", path, body)
	}
	_, _, js := fetch(t, "GET", sb.ScriptURL()+"?appId="+appID, "")
	assert.NotContains(t, js, ".bcs-sheet {", "the script carries the stylesheet; want it linked, served once")
	cfg := scriptConfig(t, js)
	css := cfg["paths"].(map[string]any)["css"].(string)
	req, _ := http.NewRequest("GET", sb.URL+css, nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode, "stylesheet: status")
	assert.Contains(t, resp.Header.Get("Cache-Control"), "max-age", "stylesheet: want it cacheable")
}

// TestClickBounds checks the bounds on what a click may make the sandbox
// keep: the request's size, the page's length, and one bill for the same
// click sent again.
func TestClickBounds(t *testing.T) {
	sb := newSandbox(t, beecloudtest.App{Config: testConfig})
	send := func(body map[string]any) (int, map[string]any) {
		raw, _ := json.Marshal(body)
		resp, err := http.Post(sb.URL+"/2/rest/jsbutton/click?appId="+appID, "application/json", bytes.NewReader(raw))
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		assert.NoError(t, json.NewDecoder(resp.Body).Decode(&out), "decoding the answer")
		return resp.StatusCode, out
	}
	big := data("order0001")
	big["optional"] = map[string]any{"k": strings.Repeat("x", 40<<10)}
	status, out := send(map[string]any{"data": big, "channel": "ali"})
	assert.Equal(t, http.StatusRequestEntityTooLarge, status, "a 40 KiB click: status")
	msg, _ := out["ERROR"].(string)
	assert.Contains(t, msg, "32 KiB", "a 40 KiB click: want the ERROR to name the limit")

	long := "http://shop.example/?" + strings.Repeat("q", 3000)
	_, first := send(map[string]any{"data": data("order0002"), "channel": "ali", "page": long})
	_, again := send(map[string]any{"data": data("order0002"), "channel": "ali", "page": long})
	require.NotNil(t, first["bill"], "the first click's bill")
	assert.Equal(t, first["bill"], again["bill"], "the same click twice: want one bill")
	assert.Len(t, sb.Bills(), 1, "bills")
	// The page was too long to keep: 取消 goes to the result page.
	loc := press(t, sb, first["bill"].(string), "cancel")
	assert.True(t, strings.HasPrefix(loc, sb.URL+"/sandbox/result?bill="), "取消 with a page too long to keep: got %q; want the result page", loc)
	// Once the bill is settled, the same click makes a new bill.
	_, third := send(map[string]any{"data": data("order0002"), "channel": "ali"})
	assert.NotEqual(t, first["bill"], third["bill"], "a click after 取消 got the cancelled bill back")
}
