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
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(sb.URL+"/2/rest/jsbutton/click?appId="+url.QueryEscape(app), "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("Access-Control-Allow-Origin: got %q; want %q", got, "*")
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode answer: %v", err)
	}
	return resp.StatusCode, out
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// press presses a pay page button (pay, fail or cancel) and returns where
// the browser is sent.
func press(t *testing.T, sb *beecloudtest.Sandbox, bill, action string) string {
	t.Helper()
	resp, err := noRedirect.PostForm(sb.URL+"/sandbox/pay/"+bill+"/"+action, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s: got status %d; want %d", action, resp.StatusCode, http.StatusSeeOther)
	}
	return resp.Header.Get("Location")
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func wait(t *testing.T, sb *beecloudtest.Sandbox, outTradeNo string) beecloudtest.Delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := sb.WaitDelivery(ctx, outTradeNo)
	if err != nil {
		t.Fatalf("WaitDelivery(%q): %v", outTradeNo, err)
	}
	return d
}

// scriptConfig extracts the configuration the sandbox put in its script.
func scriptConfig(t *testing.T, js string) map[string]any {
	t.Helper()
	i := strings.LastIndex(js, "})(")
	j := strings.LastIndex(js, ");")
	if i < 0 || j < i {
		t.Fatalf("script does not end with its configuration:\n%s", js[max(0, len(js)-200):])
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(js[i+3:j]), &cfg); err != nil {
		t.Fatalf("script configuration: %v", err)
	}
	return cfg
}

func TestScript(t *testing.T) {
	sb := newSandbox(t, beecloudtest.App{Config: testConfig})
	if got, want := sb.ScriptURL(), sb.URL+"/1/pay/jsbutton/returnscripts"; got != want {
		t.Errorf("ScriptURL: got %q; want %q", got, want)
	}
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
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			js := string(b)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status: got %d; want 200", resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
				t.Errorf("Content-Type: got %q; want text/javascript", ct)
			}
			for _, want := range []string{"window.BC = BC", "click: function (data, event)", "err: function (e) { console.log(e); }", "document.dispatchEvent(new Event('beecloud:onready'))"} {
				if !strings.Contains(js, want) {
					t.Errorf("script lacks %q", want)
				}
			}
			cfg := scriptConfig(t, js)
			if cfg["known"] != tc.known || cfg["appId"] != tc.appID || cfg["base"] != sb.URL {
				t.Errorf("config: got known=%v appId=%v base=%v; want %v %q %q", cfg["known"], cfg["appId"], cfg["base"], tc.known, tc.appID, sb.URL)
			}
			// The paths come from the sandbox's Go constants, never from
			// the script itself.
			paths, _ := cfg["paths"].(map[string]any)
			if paths["click"] != "/2/rest/jsbutton/click" || paths["pay"] != "/sandbox/pay/" || !strings.HasPrefix(fmt.Sprint(paths["css"]), "/sandbox/static/sandbox.css?v=") {
				t.Errorf("config paths: got %v", paths)
			}
			code := js[:strings.LastIndex(js, "})(")]
			if strings.Contains(code, "/sandbox/") || strings.Contains(code, "/2/rest/") {
				t.Errorf("the script repeats a path outside its configuration")
			}
			msg, _ := cfg["error"].(string)
			if tc.known != (msg == "") || !tc.known && !strings.Contains(msg, "unknown appId") {
				t.Errorf("config error: got %q", msg)
			}
		})
	}
}

func TestScriptEscapesAppID(t *testing.T) {
	sb := newSandbox(t, beecloudtest.App{Config: testConfig})
	_, js := get(t, sb.ScriptURL()+"?appId="+url.QueryEscape("</script><script>alert(1)</script>\u2028"))
	if strings.Contains(js, "</script>") || strings.Contains(js, "\u2028") {
		t.Errorf("the script carries the appId unescaped")
	}
	if cfg := scriptConfig(t, js); cfg["appId"] != "</script><script>alert(1)</script>\u2028" {
		t.Errorf("appId: got %q", cfg["appId"])
	}
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
			if status != tc.status || !strings.Contains(msg, tc.want) {
				t.Errorf("got %d %q; want %d and a message containing %q", status, msg, tc.status, tc.want)
			}
			if field, _ := out["field"].(string); field != tc.field {
				t.Errorf("field: got %q; want %q", field, tc.field)
			}
			if _, ok := out["channels"]; ok {
				t.Errorf("a refused click got a menu: %v", out)
			}
		})
	}
	if bills := sb.Bills(); len(bills) != 0 {
		t.Errorf("refused clicks made %d bills", len(bills))
	}
	if got := rc.received(); len(got) != 0 {
		t.Errorf("refused clicks sent %d webhooks", len(got))
	}
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
			if status != http.StatusOK || out["ERROR"] != nil {
				t.Fatalf("got %d %v; want 200", status, out["ERROR"])
			}
			var codes []string
			items, _ := out["channels"].([]any)
			for _, it := range items {
				m := it.(map[string]any)
				codes = append(codes, m["code"].(string))
				if want := beecloud.Channel(m["code"].(string)).Name(); m["name"] != want {
					t.Errorf("name of %v: got %v; want %q", m["code"], m["name"], want)
				}
			}
			if strings.Join(codes, ",") != strings.Join(tc.menu, ",") {
				t.Errorf("menu: got %v; want %v", codes, tc.menu)
			}
			if out["title"] != "测试商品" || out["yuan"] != "1.50" {
				t.Errorf("summary: got %v ¥%v; want 测试商品 ¥1.50", out["title"], out["yuan"])
			}
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
			if status != http.StatusOK {
				t.Fatalf("choose %s: got %d %v", tc.channel, status, out["ERROR"])
			}
			bill, _ := out["bill"].(string)
			if want := sb.URL + "/sandbox/pay/" + bill; out["url"] != want {
				t.Errorf("pay page: got %v; want %q", out["url"], want)
			}

			_, page := get(t, sb.URL+"/sandbox/pay/"+bill)
			for _, want := range []string{"测试商品", "¥</span><span class=\"bcs-order-yuan\">1.50", `id="fail"`, `id="cancel"`, tc.channel.Name()} {
				if !strings.Contains(page, want) {
					t.Errorf("pay page lacks %q", want)
				}
			}
			if got := strings.Contains(page, `id="scan"`); got != channel.QRCode(string(tc.channel)) {
				t.Errorf("pay page has the scan button: got %v; want %v", got, channel.QRCode(string(tc.channel)))
			}

			loc := press(t, sb, bill, "pay")
			ret := tc.returnURL
			if ret == "" {
				ret = sb.URL + "/sandbox/result"
			}
			if want := ret + "?bill_no=order0001&spay_result=SUCCESS&total_fee=150"; loc != want {
				t.Errorf("redirect: got %q; want %q", loc, want)
			}

			dl := wait(t, sb, "order0001")
			if !dl.Acknowledged || len(dl.Attempts) != 1 {
				t.Fatalf("delivery: got acknowledged=%v after %d attempts; want true after 1", dl.Acknowledged, len(dl.Attempts))
			}
			got := rc.received()
			if len(got) != 1 || !bytes.Equal(got[0], dl.Body) {
				t.Fatalf("the receiver got %d bodies; want the delivery's body once", len(got))
			}
			if ct := rc.headers[0].Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type: got %q; want application/json", ct)
			}
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
			if err := json.Unmarshal(got[0], &n); err != nil {
				t.Fatal(err)
			}
			if want := beecloud.WebhookSignature(appID, "order0001", "PAY", tc.ctype, 150, masterSecret); n.Signature != want {
				t.Errorf("signature: got %q; want %q", n.Signature, want)
			}
			if n.ChannelType != tc.ctype || n.SubChannelType != tc.sub || n.TransactionType != "PAY" ||
				n.TransactionID != "order0001" || n.TransactionFee != 150 || !n.TradeSuccess {
				t.Errorf("body: got %s", got[0])
			}
			if n.Optional["agent"] != "Alice" || n.Optional["n"] != float64(3) {
				t.Errorf("optional: got %v; want the order's", n.Optional)
			}
			if n.MessageDetail["out_trade_no"] == nil && n.MessageDetail["orderId"] != "order0001" {
				t.Errorf("message_detail names no order: %v", n.MessageDetail)
			}
			// The SDK's own parser accepts the body and reads the same.
			parsed, err := testConfig.ParseNotification(got[0])
			if err != nil {
				t.Fatalf("ParseNotification: %v", err)
			}
			if parsed.ChannelType != tc.ctype || parsed.SubChannelType != tc.sub || parsed.TransactionID != "order0001" ||
				parsed.TransactionFee != 150 || !parsed.TradeSuccess || parsed.TransactionType != "PAY" || parsed.AppID != appID {
				t.Errorf("ParseNotification: got %+v", parsed)
			}
			pays := sb.Payments()
			if len(pays) != 1 || pays[0].ChannelTransactionID == "" || n.ChannelTransactionID != pays[0].ChannelTransactionID {
				t.Errorf("channel_transaction_id: got %q; want the payment's (%v)", n.ChannelTransactionID, pays)
			}
			if age := time.Since(time.UnixMilli(n.Timestamp)); age < 0 || age > time.Minute {
				t.Errorf("timestamp: %d is %v old", n.Timestamp, age)
			}
			if pays[0].SubChannel != tc.sub || pays[0].Mobile != tc.mobile || pays[0].State != beecloudtest.BillPaid {
				t.Errorf("payment: got %+v", pays[0])
			}
		})
	}
}

func TestResend(t *testing.T) {
	rc := newReceiver(t, "500 oops", "fail", "200 Success", "success\n")
	sb := beecloudtest.NewUnstartedSandbox(beecloudtest.App{Config: testConfig, WebhookURL: rc.URL})
	sb.RetryBase = 5 * time.Millisecond
	sb.Start()
	defer sb.Close()

	if _, err := sb.Pay(appID, data("order0001"), ""); err != nil {
		t.Fatal(err)
	}
	d := wait(t, sb, "order0001")
	if !d.Acknowledged || d.GaveUp || len(d.Attempts) != 4 {
		t.Fatalf("got acknowledged=%v gaveUp=%v after %d attempts; want acknowledged after 4", d.Acknowledged, d.GaveUp, len(d.Attempts))
	}
	for i, want := range []struct {
		status int
		body   string
	}{{500, "oops"}, {200, "fail"}, {200, "Success"}, {200, "success\n"}} {
		if a := d.Attempts[i]; a.StatusCode != want.status || a.Response != want.body || a.Err != nil {
			t.Errorf("attempt %d: got %d %q %v; want %d %q", i+1, a.StatusCode, a.Response, a.Err, want.status, want.body)
		}
	}
	for i := 1; i < len(d.Attempts); i++ {
		gap := d.Attempts[i].At.Sub(d.Attempts[i-1].At)
		if least := sb.RetryBase << (i - 1); gap < least {
			t.Errorf("wait before attempt %d: got %v; want at least %v", i+1, gap, least)
		}
	}
	if got := rc.received(); len(got) != 4 || !bytes.Equal(got[0], got[3]) {
		t.Errorf("the receiver got %d bodies; want the same body 4 times", len(got))
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
			if _, err := sb.Pay(appID, data("order0001"), beecloud.ChannelAli); err != nil {
				t.Fatal(err)
			}
			d := wait(t, sb, "order0001")
			if d.Acknowledged || !d.GaveUp || len(d.Attempts) != 3 {
				t.Fatalf("got acknowledged=%v gaveUp=%v after %d attempts; want given up after 3", d.Acknowledged, d.GaveUp, len(d.Attempts))
			}
			if a := d.Attempts[2]; a.StatusCode != tc.status || (tc.status == 0) != (a.Err != nil) {
				t.Errorf("last attempt: got %d, err %v", a.StatusCode, a.Err)
			}
		})
	}
}

func TestCloseStopsResending(t *testing.T) {
	rc := newReceiver(t, "no")
	sb := beecloudtest.NewUnstartedSandbox(beecloudtest.App{Config: testConfig, WebhookURL: rc.URL})
	sb.RetryBase = time.Hour
	sb.Start()
	if _, err := sb.Pay(appID, data("order0001"), ""); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sb.WaitDelivery(ctx, "order0001"); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitDelivery with a canceled context: got %v; want context.Canceled", err)
	}
	sb.Close() // returns although the next resend is an hour away
	d := sb.Deliveries()
	if len(d) != 1 || d[0].Done() || len(d[0].Attempts) != 1 {
		t.Errorf("after Close: got %+v; want one delivery, still open, with 1 attempt", d)
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
			if loc := press(t, sb, bill, tc.action); loc != tc.next(bill) {
				t.Errorf("redirect: got %q; want %q", loc, tc.next(bill))
			} else if tc.text != "" {
				if _, page := get(t, loc); !strings.Contains(page, tc.text) || !strings.Contains(page, `href="http://shop.example/checkout"`) {
					t.Errorf("result page lacks %q or the way back", tc.text)
				}
			}
			var state beecloudtest.BillState
			for _, b := range sb.Bills() {
				if b.ID == bill {
					state = b.State
				}
			}
			if state != tc.state {
				t.Errorf("state: got %q; want %q", state, tc.state)
			}
			resp, err := noRedirect.PostForm(sb.URL+"/sandbox/pay/"+bill+"/pay", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusConflict {
				t.Errorf("paying a %s bill: got status %d; want %d", tc.state, resp.StatusCode, http.StatusConflict)
			}
		})
	}
	if p, d := sb.Payments(), sb.Deliveries(); len(p) != 0 || len(d) != 0 || len(rc.received()) != 0 {
		t.Errorf("got %d payments and %d webhooks; want none", len(p), len(d))
	}
	// The buyer may try again after failing, and pay.
	if _, err := sb.Pay(appID, data("order0001"), beecloud.ChannelWxMP); err != nil {
		t.Fatalf("paying after a failure: %v", err)
	}
}

func TestQRPolling(t *testing.T) {
	sb := newSandbox(t, beecloudtest.App{Config: testConfig})
	_, out := post(t, sb, appID, data("order0001"), beecloud.ChannelWxMP, false)
	bill := out["bill"].(string)
	poll := func() map[string]any {
		_, body := get(t, sb.URL+"/sandbox/bill/"+bill)
		var st map[string]any
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatalf("bill status %q: %v", body, err)
		}
		return st
	}
	if st := poll(); st["state"] != "pending" || st["next"] != nil {
		t.Errorf("before paying: got %v; want pending", st)
	}
	if status, svg := get(t, sb.URL+"/sandbox/qr/"+bill+".svg"); status != 200 || !strings.HasPrefix(svg, "<svg") {
		t.Errorf("QR image: got %d %.40q", status, svg)
	}
	// The simulated scan pays without navigating: it asks for JSON.
	req, _ := http.NewRequest(http.MethodPost, sb.URL+"/sandbox/pay/"+bill+"/pay", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := sb.URL + "/sandbox/result?bill_no=order0001&spay_result=SUCCESS&total_fee=150"
	if st := poll(); st["state"] != "paid" || st["next"] != want {
		t.Errorf("after paying: got %v; want paid and next %q", st, want)
	}
	if status, _ := get(t, sb.URL+"/sandbox/qr/nosuchbill.svg"); status != http.StatusNotFound {
		t.Errorf("QR image of no bill: got %d; want 404", status)
	}
}

func TestWeChatJSAPI(t *testing.T) {
	rc := newReceiver(t)
	sb := newSandbox(t, beecloudtest.App{Config: testConfig, WebhookURL: rc.URL})
	d := data("order0001")
	d["openid"] = "o3kKrjlUsMnv__cK5DYZMl0JoAkY"
	d["return_url"] = "https://shop.example/done" // for the other channels; JSAPI never uses it
	status, out := post(t, sb, appID, d, beecloud.ChannelWx, true)
	if status != http.StatusOK {
		t.Fatalf("got %d %v", status, out["ERROR"])
	}
	bill := out["bill"].(string)
	args, _ := out["jsapi"].(map[string]any)
	if args["package"] != "prepay_id=sandbox_"+bill || args["signType"] != "MD5" || args["appId"] == "" {
		t.Errorf("getBrandWCPayRequest arguments: got %v", args)
	}
	if loc := press(t, sb, bill, "pay"); strings.HasPrefix(loc, "https://shop.example/") {
		t.Errorf("JSAPI payment went to return_url: %q", loc)
	}
	dl := wait(t, sb, "order0001")
	var n map[string]any
	if err := json.Unmarshal(dl.Body, &n); err != nil {
		t.Fatalf("webhook body %s: %v", dl.Body, err)
	}
	detail, _ := n["message_detail"].(map[string]any)
	if n["sub_channel_type"] != "WX_JSAPI" || detail["openid"] != "o3kKrjlUsMnv__cK5DYZMl0JoAkY" || detail["trade_type"] != "JSAPI" {
		t.Errorf("body: got %s", dl.Body)
	}
}

func TestPay(t *testing.T) {
	rc := newReceiver(t)
	other := beecloud.Config{AppID: "afae2a33-c9cb-4139-88c9-af5c1df472e1", AppSecret: "other-secret", MasterSecret: "other-master"}
	sb := newSandbox(t,
		beecloudtest.App{Config: testConfig, WebhookURL: rc.URL},
		beecloudtest.App{Config: other, Channels: []beecloud.Channel{beecloud.ChannelUN}})

	params, err := testConfig.Params(beecloud.Order{Title: "test", Amount: 1, OutTradeNo: "test0001", Optional: map[string]any{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := sb.Pay(appID, params, "")
	if err != nil {
		t.Fatal(err)
	}
	if b.Channel != beecloud.ChannelAli || b.State != beecloudtest.BillPaid || b.AppID != appID || b.Order.Optional["k"] != "v" {
		t.Errorf("bill: got %+v", b)
	}
	if _, err := sb.Pay(appID, params, beecloud.ChannelWxMP); !errors.Is(err, beecloudtest.ErrAlreadyPaid) {
		t.Errorf("paying twice: got %v; want ErrAlreadyPaid", err)
	}
	if _, err := sb.Pay("nope", params, ""); !errors.Is(err, beecloudtest.ErrUnknownApp) {
		t.Errorf("unknown app: got %v; want ErrUnknownApp", err)
	}
	if _, err := sb.Pay(other.AppID, params, ""); !errors.Is(err, beecloudtest.ErrSignMismatch) {
		t.Errorf("another app's sign: got %v; want ErrSignMismatch", err)
	}
	p2, _ := other.Params(beecloud.Order{Title: "test", Amount: 1, OutTradeNo: "test0001"})
	if _, err := sb.Pay(other.AppID, p2, beecloud.ChannelAli); !errors.Is(err, beecloudtest.ErrChannelNotEnabled) {
		t.Errorf("disabled channel: got %v; want ErrChannelNotEnabled", err)
	}
	p2.Amount = 2
	var verr *beecloud.ValidationError
	if _, err := sb.Pay(other.AppID, map[string]any{"title": "test", "amount": 0, "out_trade_no": "x", "sign": "s"}, ""); !errors.As(err, &verr) || !errors.Is(err, beecloud.ErrInvalidOrder) {
		t.Errorf("invalid order: got %v; want a *beecloud.ValidationError", err)
	} else if _, ok := verr.Field("out_trade_no"); !ok {
		t.Errorf("invalid order: %v does not name out_trade_no", err)
	}
	// Apps are apart: the other app may use the same out_trade_no.
	b2, err := sb.Pay(other.AppID, map[string]any{"title": "test", "amount": 1, "out_trade_no": "test0001", "sign": beecloud.Sign(other.AppID, "test", 1, "test0001", "other-secret")}, "")
	if err != nil || b2.Channel != beecloud.ChannelUN || b2.SubChannel != "UN_WEB" {
		t.Errorf("other app: got %+v, %v", b2, err)
	}
	if d := wait(t, sb, "test0001"); d.AppID != appID {
		t.Errorf("delivery: got app %q; want %q (the other app has no webhook URL)", d.AppID, appID)
	}
	if n := len(sb.Deliveries()); n != 1 {
		t.Errorf("got %d deliveries; want 1", n)
	}
}

func TestSnapshotsAreCopies(t *testing.T) {
	rc := newReceiver(t)
	sb := newSandbox(t, beecloudtest.App{Config: testConfig, WebhookURL: rc.URL})
	d := data("order0001")
	d["optional"] = map[string]any{"k": "v"}
	if _, err := sb.Pay(appID, d, ""); err != nil {
		t.Fatal(err)
	}
	wait(t, sb, "order0001")
	b := sb.Bills()
	b[0].Order.Optional["k"] = "changed"
	b[0].State = beecloudtest.BillFailed
	dl := sb.Deliveries()
	dl[0].Body[0] = 'X'
	dl[0].Attempts[0].StatusCode = 999
	if b := sb.Bills(); b[0].Order.Optional["k"] != "v" || b[0].State != beecloudtest.BillPaid {
		t.Errorf("changing a snapshot changed the sandbox: %+v", b[0])
	}
	if dl := sb.Deliveries(); dl[0].Body[0] != '{' || dl[0].Attempts[0].StatusCode != 200 {
		t.Errorf("changing a snapshot changed the sandbox: %+v", dl[0])
	}
	apps := sb.Apps()
	apps[0].Channels[0] = beecloud.ChannelJD
	if got := sb.Apps()[0].Channels[0]; got != beecloud.ChannelAli {
		t.Errorf("changing Apps changed the sandbox: %q", got)
	}
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
			if _, err := sb.Pay(appID, data(fmt.Sprintf("order%04d", i)), ""); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			_ = sb.Bills()
			_ = sb.Payments()
			for _, d := range sb.Deliveries() {
				_ = len(d.Attempts)
			}
			get(t, sb.URL+"/")
		}()
	}
	wg.Wait()
	for i := range n {
		if d := wait(t, sb, fmt.Sprintf("order%04d", i)); !d.Acknowledged {
			t.Errorf("order%04d not acknowledged", i)
		}
	}
	if b, p, d := len(sb.Bills()), len(sb.Payments()), len(sb.Deliveries()); b != n || p != n || d != n {
		t.Errorf("got %d bills, %d payments, %d deliveries; want %d each", b, p, d, n)
	}
	_, index := get(t, sb.URL+"/")
	if !strings.Contains(index, "order0019") || !strings.Contains(index, appID) {
		t.Errorf("the index page does not list the bills and the app")
	}
}

func TestStartAt(t *testing.T) {
	sb := beecloudtest.NewUnstartedSandbox(beecloudtest.App{Config: testConfig})
	if err := sb.StartAt("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if !strings.HasPrefix(sb.URL, "http://127.0.0.1:") {
		t.Errorf("URL: got %q", sb.URL)
	}
	if status, js := get(t, sb.ScriptURL()+"?appId="+appID); status != 200 || !strings.Contains(js, "beecloud:onready") {
		t.Errorf("script: got %d", status)
	}
	// A page on another origin asks before it posts JSON.
	req, _ := http.NewRequest(http.MethodOptions, sb.URL+"/2/rest/jsbutton/click?appId="+appID, nil)
	req.Header.Set("Origin", "http://shop.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); resp.StatusCode != http.StatusNoContent || got != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Errorf("preflight: got %d, Allow-Origin %q, Allow-Headers %q", resp.StatusCode, got, resp.Header.Get("Access-Control-Allow-Headers"))
	}
	taken := beecloudtest.NewUnstartedSandbox()
	if err := taken.StartAt(strings.TrimPrefix(sb.URL, "http://")); err == nil {
		taken.Close()
		t.Errorf("StartAt on a taken address: got nil error")
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
			defer func() {
				if recover() == nil {
					t.Errorf("NewUnstartedSandbox did not panic")
				}
			}()
			beecloudtest.NewUnstartedSandbox(tc.apps...)
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
	if _, err := sb.Pay(appID, data("order0001"), beecloud.ChannelWxMP); err != nil {
		t.Fatal(err)
	}
	d := wait(t, sb, "order0001")
	if !d.Acknowledged || len(d.Attempts) != 2 || d.Attempts[0].StatusCode != http.StatusInternalServerError {
		t.Errorf("delivery: got acknowledged=%v, attempts %+v; want a 500, then success", d.Acknowledged, d.Attempts)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(handled) != 1 || handled[0] != "order0001" {
		t.Errorf("handled: got %q; want order0001 once", handled)
	}
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
			if !errors.Is(err, beecloudtest.ErrUnknownApp) || err.Error() != tc.want {
				t.Errorf("got %v; want %q", err, tc.want)
			}
		})
	}
}

func TestIndexHidesWebhookPassword(t *testing.T) {
	const hook = "http://shop:hunter2@127.0.0.1:9/webhook"
	sb := beecloudtest.NewUnstartedSandbox(beecloudtest.App{Config: testConfig, WebhookURL: hook})
	sb.MaxAttempts = 1
	sb.Start()
	defer sb.Close()
	if _, err := sb.Pay(appID, data("order0001"), ""); err != nil {
		t.Fatal(err)
	}
	wait(t, sb, "order0001")
	_, index := get(t, sb.URL+"/")
	if strings.Contains(index, "hunter2") {
		t.Errorf("the index page shows the webhook URL's password:\n%s", index)
	}
	if want := "http://shop:xxxxx@127.0.0.1:9/webhook"; strings.Count(index, want) != 2 {
		t.Errorf("the index page shows %q %d times; want twice, for the app and its delivery", want, strings.Count(index, want))
	}
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
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: got status %d; want %d", tc.method, tc.path, resp.StatusCode, http.StatusNotFound)
		}
	}
}
