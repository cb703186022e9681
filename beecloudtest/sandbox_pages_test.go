package beecloudtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// fetch does a request and returns the status, Content-Type and body.
func fetch(t *testing.T, method, u, accept string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

// TestPagesSayWhatHappened checks that each page a buyer or developer may
// reach by mistake is a styled HTML page, with the right status, that
// says what happened and what to do.
func TestPagesSayWhatHappened(t *testing.T) {
	sb := newSandbox(t, beecloudtest.App{Config: testConfig})
	paid, err := sb.Pay(appID, data("order0001"), beecloud.ChannelAli)
	if err != nil {
		t.Fatal(err)
	}
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
			if status != tc.status || !strings.HasPrefix(ct, "text/html") {
				t.Errorf("got %d %s; want %d text/html", status, ct, tc.status)
			}
			for _, want := range append([]string{`<link rel="stylesheet" href="/sandbox/static/sandbox.css?v=`, `<link rel="icon"`, "BeeCloud 沙箱"}, tc.want...) {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %q:\n%s", want, body)
				}
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
			if !strings.Contains(page, want) {
				t.Errorf("%s mobile=%t: page lacks %q", tc.ch, tc.mobile, want)
			}
		}
		for _, not := range tc.wantNot {
			if strings.Contains(page, not) {
				t.Errorf("%s mobile=%t: page says %q", tc.ch, tc.mobile, not)
			}
		}
		if !strings.Contains(page, `addEventListener("pageshow"`) {
			t.Errorf("pay page does not reload when restored from the back-forward cache")
		}
	}
}

func TestDashboard(t *testing.T) {
	rc := newReceiver(t)
	sb := newSandbox(t, beecloudtest.App{Config: testConfig, WebhookURL: rc.URL})
	if _, err := sb.Pay(appID, data("order0001"), beecloud.ChannelAli); err != nil {
		t.Fatal(err)
	}
	wait(t, sb, "order0001")
	_, out := post(t, sb, appID, data("order0002"), beecloud.ChannelUN, false)
	press(t, sb, out["bill"].(string), "cancel")
	client := &beecloud.Client{Config: testConfig, BaseURL: sb.URL}
	refundNo := beecloud.NewRefundNo(time.Now())
	if _, err := client.Refund(context.Background(), beecloud.RefundRequest{OutTradeNo: "order0001", RefundNo: refundNo, Amount: 50}); err != nil {
		t.Fatal(err)
	}
	_, page := get(t, sb.URL+"/")
	for _, want := range []string{
		// The refund, with its number and state.
		`data-label="退款单号"><code class="bcs-no">` + refundNo + `</code>`, `¥0.50`, `bcs-tag-paid">已退款<`,
		// The script tag as BeeCloud's dashboard gives it, shown as text.
		`&lt;script id=&#34;spay-script&#34; type=&#34;text/javascript&#34; src=&#34;` + sb.ScriptURL() + `?appId=` + appID + `&#34;&gt;&lt;/script&gt;`,
		">已支付<", ">已取消<", ">已确认<", "支付宝 · ALI_WEB", "银联在线支付 · UN_WEB", "北京时间",
		`data-label="订单号"><code class="bcs-no">order0001</code>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	for _, english := range []string{">paid<", ">cancelled<", ">pending<", "success</td>", "duplicate"} {
		if strings.Contains(page, english) {
			t.Errorf("dashboard shows %q in English", english)
		}
	}
	// Times are Beijing time (UTC+8).
	b := sb.Bills()[0]
	if want := b.Created.In(time.FixedZone("", 8*3600)).Format("2006-01-02 15:04:05"); !strings.Contains(page, want) {
		t.Errorf("dashboard lacks the Beijing time %s", want)
	}
}

// TestChanges checks the dashboard's long poll: it answers at once when
// the version it has is old, and as soon as the sandbox changes when not.
func TestChanges(t *testing.T) {
	sb := newSandbox(t, beecloudtest.App{Config: testConfig})
	version := func(after string) uint64 {
		_, _, body := fetch(t, "GET", sb.URL+"/sandbox/changes?after="+after, "")
		var v struct{ Version uint64 }
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("changes: %v: %s", err, body)
		}
		return v.Version
	}
	v0 := version("999999")
	done := make(chan uint64)
	go func() { done <- version(strconv.FormatUint(v0, 10)) }()
	time.Sleep(50 * time.Millisecond)
	select {
	case v := <-done:
		t.Fatalf("changes answered %d before any change", v)
	default:
	}
	start := time.Now()
	if _, err := sb.Pay(appID, data("order0001"), beecloud.ChannelAli); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-done:
		if v <= v0 {
			t.Errorf("version after a payment: got %d; want more than %d", v, v0)
		}
		t.Logf("changes answered %v after the payment", time.Since(start).Round(time.Microsecond))
	case <-time.After(5 * time.Second):
		t.Fatal("changes did not answer after a payment")
	}
}

func TestStaticAssets(t *testing.T) {
	sb := newSandbox(t, beecloudtest.App{Config: testConfig})
	for _, path := range []string{"/favicon.ico", "/sandbox/static/icon.svg"} {
		status, ct, body := fetch(t, "GET", sb.URL+path, "")
		if status != 200 || ct != "image/svg+xml" || !strings.HasPrefix(body, "<svg") {
			t.Errorf("%s: got %d %s; want 200 image/svg+xml", path, status, ct)
		}
	}
	_, _, js := fetch(t, "GET", sb.ScriptURL()+"?appId="+appID, "")
	if strings.Contains(js, ".bcs-sheet {") {
		t.Errorf("the script carries the stylesheet; want it linked, served once")
	}
	cfg := scriptConfig(t, js)
	css := cfg["paths"].(map[string]any)["css"].(string)
	req, _ := http.NewRequest("GET", sb.URL+css, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age") {
		t.Errorf("stylesheet: got %d, Cache-Control %q; want 200 and cacheable", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
}

// TestClickBounds checks the bounds on what a click may make the sandbox
// keep: the request's size, the page's length, and one bill for the same
// click sent again.
func TestClickBounds(t *testing.T) {
	sb := newSandbox(t, beecloudtest.App{Config: testConfig})
	send := func(body map[string]any) (int, map[string]any) {
		raw, _ := json.Marshal(body)
		resp, err := http.Post(sb.URL+"/2/rest/jsbutton/click?appId="+appID, "application/json", bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Errorf("decoding the answer: %v", err)
		}
		return resp.StatusCode, out
	}
	big := data("order0001")
	big["optional"] = map[string]any{"k": strings.Repeat("x", 40<<10)}
	if status, out := send(map[string]any{"data": big, "channel": "ali"}); status != http.StatusRequestEntityTooLarge || !strings.Contains(out["ERROR"].(string), "32 KiB") {
		t.Errorf("a 40 KiB click: got %d %v; want 413 naming the limit", status, out)
	}

	long := "http://shop.example/?" + strings.Repeat("q", 3000)
	_, first := send(map[string]any{"data": data("order0002"), "channel": "ali", "page": long})
	_, again := send(map[string]any{"data": data("order0002"), "channel": "ali", "page": long})
	if first["bill"] == nil || first["bill"] != again["bill"] {
		t.Errorf("the same click twice: got bills %v and %v; want one", first["bill"], again["bill"])
	}
	if n := len(sb.Bills()); n != 1 {
		t.Errorf("got %d bills; want 1", n)
	}
	// The page was too long to keep: 取消 goes to the result page.
	if loc := press(t, sb, first["bill"].(string), "cancel"); !strings.HasPrefix(loc, sb.URL+"/sandbox/result?bill=") {
		t.Errorf("取消 with a page too long to keep: got %q; want the result page", loc)
	}
	// Once the bill is settled, the same click makes a new bill.
	_, third := send(map[string]any{"data": data("order0002"), "channel": "ali"})
	if third["bill"] == first["bill"] {
		t.Errorf("a click after 取消 got the cancelled bill back")
	}
}
