package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/paybutton/beecloud"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stubConfig is BeeCloud's public test app; ScriptURL is set per test.
var stubConfig = beecloud.Config{
	AppID:     "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
	AppSecret: "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
}

// stubScript stands in for BeeCloud's button script: it defines BC.click,
// which records each call in window.__calls (the data as JSON, the event
// object itself, the number of arguments and how many beecloud:onready
// events had been fired), and then fires beecloud:onready. BeeCloud's
// script fires the event once; the stub fires it twice, to prove that a
// click waiting for it still calls BC.click only once.
const stubScript = `(function () {
	window.__calls = [];
	window.__ready = 0;
	window.BC = {
		click: function (data, event) {
			window.__calls.push({data: JSON.stringify(data), event: event, args: arguments.length, ready: window.__ready});
		},
		err: function (err) { console.log(err); }
	};
	for (var i = 0; i < 2; i++) {
		window.__ready++;
		document.dispatchEvent(new CustomEvent("beecloud:onready"));
	}
	window.__stubDone = true;
})();
`

// stubPage is a merchant's page template using the package's FuncMap. The
// script tag stands in the head, as the package recommends (ScriptLast
// puts it after the buttons, as in BeeCloud's examples). Its head sets
// the merchant's callbacks, counts clicks and CSP violations, and traps
// alert.
const stubPage = `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1.0">
<title>{{.Heading}}</title>
<script{{with .PageNonce}} nonce="{{.}}"{{end}}>
window.__clicks = 0;
window.__errs = [];
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) { window.__csp.push(e.violatedDirective + " " + e.blockedURI); });
document.addEventListener("click", function () { window.__clicks++; window.__clickAt = performance.now(); }, true);
window.shop = {
	onDataError: function (msg) {},
	onPayError: function (err) { window.__errs.push({err: err, after: performance.now() - window.__clickAt}); },
	onSuccess: function (res) {}
};
function onFinish(res) {}
var onFail = function (res) {};
</script>
<style>body{font:16px sans-serif;margin:24px} div{margin:8px 0} button{font-size:16px;padding:6px 16px}</style>
{{if not .ScriptLast}}{{template "tag" .}}{{end}}
</head>
<body>
<h1>{{.Heading}}</h1>
{{range $i, $o := .Orders}}<div id="b{{$i}}">{{$o.Title}}: {{beecloudButton $.Label $o}}</div>
{{end}}
{{- with .Own}}<div>
{{- if $.OwnScriptFirst}}{{beecloudClickScript "own" . $.Callbacks}}{{end -}}
<button type="button" id="own">{{$.Label}}</button>
{{- if not $.OwnScriptFirst}}{{beecloudClickScript "own" . $.Callbacks}}{{end -}}
</div>{{end}}
{{if .ScriptLast}}{{template "tag" .}}{{end}}
</body>
</html>
{{define "tag"}}{{if .Nonce}}{{beecloudScript .Nonce}}{{else}}{{beecloudScript}}{{end}}{{end}}`

type stubPageData struct {
	Heading   string
	Label     string
	Orders    []beecloud.Order
	Own       *beecloud.Order
	Callbacks beecloud.Callbacks
	// OwnScriptFirst puts Own's click script before its button.
	OwnScriptFirst bool
	// ScriptLast puts BeeCloud's script tag after the buttons.
	ScriptLast bool
	// Nonce and PageNonce are set per request by a shop with a CSP:
	// Nonce for beecloudScript, PageNonce for the page's own script.
	Nonce, PageNonce string
	// ScriptTimeout is the Config's.
	ScriptTimeout time.Duration
}

// stubShop is a merchant's server for one page: / renders it with the
// package, and /bc/returnscripts serves stubScript, at once or, after
// Hold, only when Release is called.
type stubShop struct {
	*httptest.Server
	cfg  beecloud.Config
	tmpl *template.Template
	data stubPageData

	mu       sync.Mutex
	appIDs   []string // the appId of each script request
	notFound bool     // answer the script's request with 404
	noBC     bool     // answer it with a script that defines no BC
	// csp sends Content-Security-Policy: script-src 'nonce-…' with a
	// fresh nonce per page; cspControl leaves it off beecloudScript.
	csp, cspControl bool
	cspHeaders      []string

	held     chan struct{} // set by Hold: the script waits for it to close
	release  func()
	released chan struct{}
}

func newStubShop(t *testing.T, data stubPageData) *stubShop {
	t.Helper()
	s := &stubShop{data: data, released: make(chan struct{})}
	var once sync.Once
	s.release = func() { once.Do(func() { close(s.released) }) }
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("GET /bc/returnscripts", s.script)
	s.Server = httptest.NewServer(mux)
	// Cleanups run last-in first-out: release a held script before Close
	// waits for its handler.
	t.Cleanup(s.Close)
	t.Cleanup(s.release)
	s.cfg = stubConfig
	s.cfg.ScriptURL = s.URL + "/bc/returnscripts"
	s.cfg.ScriptTimeout = data.ScriptTimeout
	s.tmpl = template.Must(template.New("page").Funcs(s.cfg.FuncMap()).Parse(stubPage))
	return s
}

// Hold makes the script wait until Release.
func (s *stubShop) Hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = s.released
}

// Release lets a held script through.
func (s *stubShop) Release() { s.release() }

// NotFound makes the script's request, once let through, answer 404.
func (s *stubShop) NotFound() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notFound = true
}

// NoBC makes the script's request answer with a script that loads but
// defines no BC and fires no beecloud:onready.
func (s *stubShop) NoBC() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noBC = true
}

// StrictCSP makes every page carry a nonce-only Content-Security-Policy;
// with control, beecloudScript gets no nonce (so the policy must block it).
func (s *stubShop) StrictCSP(control bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.csp, s.cspControl = true, control
}

func (s *stubShop) page(w http.ResponseWriter, r *http.Request) {
	data := s.data
	s.mu.Lock()
	if s.csp {
		nonce := beecloud.NewNonce()
		h := "script-src 'nonce-" + nonce + "'; object-src 'none'; base-uri 'none'"
		s.cspHeaders = append(s.cspHeaders, h)
		w.Header().Set("Content-Security-Policy", h)
		data.PageNonce = nonce
		if !s.cspControl {
			data.Nonce = nonce
		}
	}
	s.mu.Unlock()
	var b strings.Builder
	if err := s.tmpl.Execute(&b, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, b.String())
}

func (s *stubShop) script(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.appIDs = append(s.appIDs, r.URL.Query().Get("appId"))
	held := s.held
	s.mu.Unlock()
	if held != nil {
		select {
		case <-held:
		case <-r.Context().Done():
			return
		}
	}
	s.mu.Lock()
	notFound, noBC := s.notFound, s.noBC
	s.mu.Unlock()
	if notFound {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	if noBC {
		fmt.Fprint(w, "window.__stubDone = true;\n")
		return
	}
	fmt.Fprint(w, stubScript)
}

func (s *stubShop) scriptAppIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.appIDs...)
}

// stubCall is one BC.click call as the stub recorded it.
type stubCall struct {
	Data  string `json:"data"`
	Args  int    `json:"args"`
	Ready int    `json:"ready"`
}

func stubCalls(b *Browser) []stubCall {
	return Eval[[]stubCall](b, `window.__calls.map(function (c) { return {data: c.data, args: c.args, ready: c.ready}; })`)
}

// checkStubData fails unless the JSON that BC.click got equals the Params of o.
func checkStubData(t *testing.T, cfg beecloud.Config, got string, o beecloud.Order) {
	t.Helper()
	p, err := cfg.Params(o)
	require.NoError(t, err, "Config.Params")
	want, err := json.Marshal(p)
	require.NoError(t, err, "json.Marshal(Params)")
	var g, w map[string]any
	require.NoError(t, json.Unmarshal([]byte(got), &g), "BC.click data %s", got)
	require.NoError(t, json.Unmarshal(want, &w), "json.Unmarshal(Params)")
	assert.Equal(t, w, g, "BC.click data: got %s; want %s", got, want)
	assert.Equal(t, o.Title, g["title"], "BC.click data: title")
}

// stubCallbacks names every callback after the functions of stubPage's head.
var stubCallbacks = beecloud.Callbacks{
	DataError:      "shop.onDataError",
	WxJsapiFinish:  "onFinish",
	WxJsapiSuccess: "shop.onSuccess",
	WxJsapiFail:    "onFail",
	Err:            "shop.onPayError",
}

// checkStubCallbacks fails unless call i got the functions stubCallbacks names
// themselves, not wrappers, and BC.err is the merchant's.
func checkStubCallbacks(t *testing.T, b *Browser, i int) {
	t.Helper()
	checks := []string{
		`ev.dataError === window.shop.onDataError`,
		`ev.wxJsapiFinish === window.onFinish`,
		`ev.wxJsapiSuccess === window.shop.onSuccess`,
		`ev.wxJsapiFail === window.onFail`,
		`BC.err === window.shop.onPayError`,
		`Object.keys(ev).sort().join() === "dataError,wxJsapiFail,wxJsapiFinish,wxJsapiSuccess"`,
	}
	for _, expr := range checks {
		assert.True(t, Eval[bool](b, fmt.Sprintf(`(function (ev) { return %s; })(window.__calls[%d].event)`, expr, i)), "call %d: %s is false", i, expr)
	}
}

// checkNothingRan fails if the page opened a dialog, threw, or sprang a trap.
func checkNothingRan(t *testing.T, b *Browser) {
	t.Helper()
	assert.Empty(t, b.Dialogs(), "dialogs opened")
	assert.Empty(t, b.Exceptions(), "uncaught exceptions")
	assert.Equal(t, "undefined", Eval[string](b, `String(window.__pwned)`), "window.__pwned: a value ran as code")
}

func TestButtonCallsBCClick(t *testing.T) {
	order := beecloud.Order{
		Title: "测试商品", Amount: 150, OutTradeNo: beecloud.NewOutTradeNo(),
		ReturnURL: "https://shop.example/paid", Optional: map[string]any{"user": "u42", "n": 7},
	}
	s := newStubShop(t, stubPageData{Heading: "Checkout", Label: "支付 ¥1.50", Orders: []beecloud.Order{order}})
	b := NewBrowser(t)
	b.Navigate(s.URL)
	b.WaitJS(`window.__stubDone`)

	b.Click("#b0 button")
	b.WaitJS(`window.__calls.length > 0`)
	got := stubCalls(b)
	require.Len(t, got, 1, "BC.click calls")
	checkStubData(t, s.cfg, got[0].Data, order)
	assert.Equal(t, 1, got[0].Args, "BC.click arguments: want data only")
	assert.Equal(t, []string{s.cfg.AppID}, s.scriptAppIDs(), "appId of the script's requests")
	assert.Equal(t, "支付 ¥1.50", Eval[string](b, `document.querySelector("#b0 button").textContent`), "the button's label")
	b.Screenshot("button")
	checkNothingRan(t, b)
}

// TestButtonClickBeforeScriptLoads clicks while BeeCloud's script is still
// on its way: each click must reach BC.click once the script fires
// beecloud:onready, exactly once per click.
func TestButtonClickBeforeScriptLoads(t *testing.T) {
	once := beecloud.Order{Title: "clicked once", Amount: 1, OutTradeNo: beecloud.NewOutTradeNo()}
	twice := beecloud.Order{Title: "clicked twice", Amount: 2, OutTradeNo: beecloud.NewOutTradeNo()}
	own := beecloud.Order{Title: "own button", Amount: 3, OutTradeNo: beecloud.NewOutTradeNo()}
	s := newStubShop(t, stubPageData{
		Heading: "Early click", Label: "支付", Orders: []beecloud.Order{once, twice},
		Own: &own, Callbacks: stubCallbacks,
	})
	s.Hold()
	b := NewBrowser(t)
	b.Open(s.URL)
	b.WaitVisible("#own")

	b.Click("#b0 button")
	b.Click("#b1 button")
	b.Click("#b1 button")
	b.Click("#own")
	b.WaitJS(`window.__clicks === 4`)
	require.Equal(t, "undefined", Eval[string](b, `typeof BC`), "typeof BC before the script was released: the test needs it undefined")
	b.Screenshot("button-before-load")

	s.Release()
	b.WaitJS(`window.__stubDone`)
	got := stubCalls(b)
	require.Len(t, got, 4, "BC.click calls: want one per click")
	perOrder := map[string]int{}
	for i, c := range got {
		assert.Equal(t, 1, c.Ready, "call %d: beecloud:onready events fired; want it in the first", i)
		var d struct {
			OutTradeNo string `json:"out_trade_no"`
		}
		require.NoError(t, json.Unmarshal([]byte(c.Data), &d), "call %d: data %s", i, c.Data)
		perOrder[d.OutTradeNo]++
		switch d.OutTradeNo {
		case once.OutTradeNo:
			checkStubData(t, s.cfg, c.Data, once)
		case twice.OutTradeNo:
			checkStubData(t, s.cfg, c.Data, twice)
		case own.OutTradeNo:
			checkStubData(t, s.cfg, c.Data, own)
			checkStubCallbacks(t, b, i)
		}
	}
	assert.Equal(t, map[string]int{once.OutTradeNo: 1, twice.OutTradeNo: 2, own.OutTradeNo: 1}, perOrder, "BC.click calls per order")

	// Loaded now, a click calls BC.click at once.
	b.Click("#b0 button")
	b.WaitJS(`window.__calls.length === 5`)
	checkNothingRan(t, b)
}

// TestClickScriptCallbacks binds the merchant's own button and checks that
// BC.click gets the merchant's functions themselves, not wrappers.
func TestClickScriptCallbacks(t *testing.T) {
	own := beecloud.Order{Title: "own button", Amount: 1, OutTradeNo: beecloud.NewOutTradeNo(), InstantChannel: beecloud.ChannelWx, OpenID: "o-buyer_1"}
	s := newStubShop(t, stubPageData{
		Heading: "Own button", Label: "微信支付", Own: &own, Callbacks: stubCallbacks,
	})
	b := NewBrowser(t)
	b.Navigate(s.URL)
	b.WaitJS(`window.__stubDone`)
	b.Click("#own")
	b.WaitJS(`window.__calls.length > 0`)

	got := stubCalls(b)
	require.Len(t, got, 1, "BC.click calls")
	checkStubData(t, s.cfg, got[0].Data, own)
	assert.Equal(t, 2, got[0].Args, "BC.click arguments: want data, event")
	checkStubCallbacks(t, b, 0)
	checkNothingRan(t, b)
}

// TestClickScriptMissingCallback checks that a name the page does not
// define is left out, with a console error, and the click still pays; its
// click script stands before the button it binds.
func TestClickScriptMissingCallback(t *testing.T) {
	own := beecloud.Order{Title: "own button", Amount: 1, OutTradeNo: beecloud.NewOutTradeNo()}
	s := newStubShop(t, stubPageData{
		Heading: "Missing callback", Label: "支付", Own: &own, OwnScriptFirst: true,
		Callbacks: beecloud.Callbacks{DataError: "shop.missing", WxJsapiFinish: "onFinish", Err: "nowhere.onErr"},
	})
	b := NewBrowser(t)
	b.Navigate(s.URL)
	b.WaitJS(`window.__stubDone`)
	b.Click("#own")
	b.WaitJS(`window.__calls.length > 0`)
	assert.Equal(t, "wxJsapiFinish", Eval[string](b, `Object.keys(window.__calls[0].event).join()`), "the event's keys")
	assert.True(t, Eval[bool](b, `BC.err !== undefined && BC.err.toString().indexOf("console.log") >= 0`), "BC.err was replaced; want the script's own")
	console := strings.Join(b.Console(), "\n")
	for _, want := range []string{"shop.missing is not a function", "nowhere.onErr is not a function"} {
		assert.Contains(t, console, want, "console")
	}
	checkNothingRan(t, b)
}

// TestButtonHostileValues renders values that pass Validate but would break
// naive HTML or JavaScript: in the title (no quotes: Validate refuses
// them), the optional values and keys, and the label. Nothing may run,
// and BC.click must get every value byte for byte.
func TestButtonHostileValues(t *testing.T) {
	titles := []string{
		"</script><script>alert(1)//",
		"<!--<script>alert(1)</script>",
		"<img src=x onerror=alert(1)>",
		"a\u2028b\u2029c\\d&amp;😀中文",
		`\u003c/script\u003e \x3c`,
		"]]>--><svg onload=alert(1)>",
	}
	optional := map[string]any{
		"script":     "</script><script>window.__pwned='script'</script>",
		"comment":    "<!--<script>",
		"img":        `<img src=x onerror="window.__pwned='img'">`,
		"quotes":     `"'` + "`${window.__pwned='tpl'}`",
		"separators": "\u2028\u2029",
		"backslash":  `\\\"\n`,
		"entity":     "&amp;&lt;&#x3c;",
		"emoji":      "😀👍🏽",
		"中文":         "中文",
		"</script>":  "key",
		"n":          42,
		"f":          1.5,
		"b":          true,
	}
	label := `</button><script>window.__pwned='label'</script><img src=x onerror="window.__pwned='label-img'"> ` + "\u2028&amp;😀支付"
	var orders []beecloud.Order
	for _, title := range titles {
		orders = append(orders, beecloud.Order{Title: title, Amount: 1, OutTradeNo: beecloud.NewOutTradeNo(), Optional: optional})
	}
	s := newStubShop(t, stubPageData{Heading: "Hostile", Label: label, Orders: orders})
	b := NewBrowser(t)
	b.Navigate(s.URL)
	b.WaitJS(`window.__stubDone`)
	require.Equal(t, len(orders), Eval[int](b, `document.querySelectorAll("button.beecloud-button").length`), "buttons")
	assert.Equal(t, len(orders), Eval[int](b, `new Set(Array.from(document.querySelectorAll("button.beecloud-button"), function (e) { return e.id; })).size`), "distinct button ids")

	for i, o := range orders {
		sel := fmt.Sprintf("#b%d button", i)
		assert.Equal(t, label, Eval[string](b, `document.querySelector("`+sel+`").textContent`), "button %d: label", i)
		b.Click(sel)
		b.WaitJS(fmt.Sprintf(`window.__calls.length === %d`, i+1))
		got := stubCalls(b)[i]
		checkStubData(t, s.cfg, got.Data, o)
	}
	b.Screenshot("hostile")
	checkNothingRan(t, b)
}

// stubErr is one call of the merchant's Err callback, as the page saw it.
type stubErr struct {
	Err   map[string]string `json:"err"`
	After float64           `json:"after"` // milliseconds after the last click
}

// TestButtonScriptNeverLoads blocks BeeCloud's script in each way a buyer
// meets it and checks that a click is not lost in silence: the Err
// callback gets {"ERROR": …} naming the cause, within the timeout, the
// buttons show the error state, and the console says why.
func TestButtonScriptNeverLoads(t *testing.T) {
	const timeout = 1500 * time.Millisecond
	tests := []struct {
		name string
		// setup prepares the shop and the tab before the page loads, and
		// returns what to do after the clicks.
		setup func(s *stubShop, b *Browser) (afterClick func())
		// cause is in the developer's message, buyer in the buyer's.
		cause, buyer string
		// Err is called after the click no sooner than min and, if max is
		// set, sooner than max: a failure the browser reports comes before
		// ScriptTimeout, however loaded the machine.
		min, max time.Duration
	}{
		{
			name: "blocked by the browser",
			setup: func(s *stubShop, b *Browser) func() {
				b.Do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
						return err
					}
					_, err := cdp.Call(ctx, tg, network.SetBlockedURLs, network.SetBlockedURLsParams{
						URLPatterns: []*network.BlockPattern{{URLPattern: s.URL + "/bc/*", Block: true}},
					})
					return err
				}))
				return nil
			},
			// The tag failed before the click: the click fails at once.
			cause: "failed to load from " + "SCRIPT",
			buyer: "支付组件加载失败",
			max:   timeout,
		},
		{
			name: "not found after the click",
			setup: func(s *stubShop, b *Browser) func() {
				s.Hold()
				s.NotFound()
				return s.Release
			},
			cause: "failed to load from " + "SCRIPT",
			buyer: "支付组件加载失败",
			max:   timeout,
		},
		{
			name: "never answers",
			setup: func(s *stubShop, b *Browser) func() {
				s.Hold()
				return nil
			},
			cause: "from SCRIPT has not loaded 1.5 s after the click: the network is slow",
			buyer: "支付组件加载超时",
			min:   timeout,
		},
		{
			name: "loads without BC",
			setup: func(s *stubShop, b *Browser) func() {
				s.NoBC()
				return nil
			},
			cause: "from SCRIPT loaded but was not ready 1.5 s after the click",
			buyer: "支付服务暂时不可用",
			min:   timeout,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			order := beecloud.Order{Title: "button", Amount: 1, OutTradeNo: beecloud.NewOutTradeNo()}
			own := beecloud.Order{Title: "own button", Amount: 2, OutTradeNo: beecloud.NewOutTradeNo()}
			s := newStubShop(t, stubPageData{
				Heading: "Blocked", Label: "支付", Orders: []beecloud.Order{order},
				Own: &own, Callbacks: stubCallbacks, ScriptTimeout: timeout,
			})
			b := NewBrowser(t)
			after := tt.setup(s, b)
			b.Open(s.URL)
			b.WaitVisible("#own")
			if tt.name == "blocked by the browser" || tt.name == "loads without BC" {
				b.WaitJS(`document.readyState === "complete"`)
			}

			b.Click("#own")
			if after != nil {
				// Once the click waits for the script, let it fail.
				b.WaitJS(`document.getElementById("own").getAttribute("data-beecloud-state") === "loading"`)
				after()
			}
			b.WaitJS(`window.__errs.length > 0`)
			errs := Eval[[]stubErr](b, `window.__errs`)
			cause := strings.ReplaceAll(tt.cause, "SCRIPT", s.cfg.ScriptURL+"?appId="+s.cfg.AppID)
			require.Len(t, errs, 1, "Err calls: %v", errs)
			require.True(t, strings.HasPrefix(errs[0].Err["ERROR"], "beecloud: "), "Err got %v; want {ERROR: beecloud: …}", errs[0].Err)
			require.Contains(t, errs[0].Err["ERROR"], cause, "Err's ERROR")
			took := time.Duration(errs[0].After * float64(time.Millisecond))
			t.Logf("Err after %v: %s", took.Round(time.Millisecond), errs[0].Err["ERROR"])
			assert.GreaterOrEqual(t, took, tt.min, "Err came %v after the click", took)
			if tt.max > 0 {
				assert.Less(t, took, tt.max, "Err came %v after the click; want it before ScriptTimeout", took)
			}
			assert.Equal(t, "error", Eval[string](b, `document.getElementById("own").getAttribute("data-beecloud-state")`), "own button: data-beecloud-state")
			// The buyer reads a Chinese message after the button, in a
			// live region, with no developer's detail in it; Err gets both.
			msg := Eval[map[string]string](b, `(function (m) { return m ? {text: m.textContent, role: m.getAttribute("role")} : {}; })(document.querySelector("#own + .beecloud-message"))`)
			assert.True(t, strings.HasPrefix(msg["text"], tt.buyer), "buyer's message %q; want it to start %q", msg["text"], tt.buyer)
			assert.Contains(t, msg["text"], "请", "buyer's message: want it to say what to do")
			assert.Equal(t, "alert", msg["role"], "buyer's message: role")
			assert.NotContains(t, msg["text"], "beecloud", "buyer's message carries the developer's detail")
			assert.NotContains(t, msg["text"], "http", "buyer's message carries the developer's detail")
			assert.Equal(t, msg["text"], errs[0].Err["MESSAGE"], "Err's MESSAGE: want the buyer's message")

			// The button without callbacks says it on the console and in
			// its state.
			b.Click("#b0 button")
			b.WaitJS(`document.querySelector("#b0 button").getAttribute("data-beecloud-state") === "error"`)
			console := strings.Join(b.Console(), "\n")
			assert.Equal(t, 2, strings.Count(console, "error: \"beecloud: "), "console:\n%s\nwant 2 errors from beecloud (own button, Button)", console)
			assert.Equal(t, 1, Eval[int](b, `window.__errs.length`), "Err calls: want once (the Button has no callbacks)")
			assert.Zero(t, Eval[int](b, `(window.__calls || []).length`), "BC.click calls")
			if tt.name == "never answers" {
				b.Screenshot("button-script-timeout")
			}
			assert.Equal(t, 2, Eval[int](b, `document.querySelectorAll(".beecloud-message").length`), "buyer's messages: want one per button")
			assert.Empty(t, b.Exceptions(), "uncaught exceptions")
		})
	}
}

// TestButtonLateScript holds BeeCloud's script back past the clicks but
// within the timeout: each click must call BC.click exactly once, and no
// error may follow, even after the timeout has passed. The script is let
// through once the clicks wait for it, and "after the timeout" is a timer
// of the page's that fires after the runtime's: no fixed sleep.
func TestButtonLateScript(t *testing.T) {
	const timeout = 2 * time.Second
	order := beecloud.Order{Title: "button", Amount: 1, OutTradeNo: beecloud.NewOutTradeNo()}
	own := beecloud.Order{Title: "own button", Amount: 2, OutTradeNo: beecloud.NewOutTradeNo()}
	s := newStubShop(t, stubPageData{
		Heading: "Late script", Label: "支付", Orders: []beecloud.Order{order},
		Own: &own, Callbacks: stubCallbacks, ScriptTimeout: timeout,
	})
	s.Hold()
	b := NewBrowser(t)
	b.Open(s.URL)
	b.WaitVisible("#own")
	beforeClicks := time.Now()
	b.Click("#b0 button")
	b.Click("#own")
	assert.Equal(t, "loading,true", Eval[string](b, `document.getElementById("own").getAttribute("data-beecloud-state") + "," + document.getElementById("own").getAttribute("aria-busy")`),
		"waiting button: data-beecloud-state,aria-busy")
	// A timer set after the clicks' timeouts, for longer, fires after them:
	// once it has, the timeout has passed for both clicks.
	b.Do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`setTimeout(function () { window.__pastTimeout = true; }, %d)`, (timeout + 100*time.Millisecond).Milliseconds())))
	s.Release()
	b.WaitJS(`window.__stubDone`)
	if late := time.Since(beforeClicks); late >= timeout {
		t.Skipf("the script came up to %v after the clicks, not surely within the %v timeout: the machine is too slow to test a late script", late.Round(time.Millisecond), timeout)
	}
	// Past the timeout: nothing more may happen.
	b.WaitJS(`window.__pastTimeout === true`)

	require.Len(t, stubCalls(b), 2, "BC.click calls: want one per click")
	assert.Empty(t, Eval[[]stubErr](b, `window.__errs`), "Err calls")
	assert.Equal(t, "nullnull", Eval[string](b, `String(document.getElementById("own").getAttribute("data-beecloud-state")) + String(document.querySelector("#b0 button").getAttribute("data-beecloud-state"))`),
		"buttons: data-beecloud-state; want none once BC.click was called")
	for _, line := range b.Console() {
		assert.False(t, strings.HasPrefix(line, "error:"), "console error: %s", line)
	}
	checkNothingRan(t, b)
}

// TestButtonScriptAfterTimeout lets BeeCloud's script arrive after a click
// gave up: that click must not pay behind the buyer's back, and the next
// click pays at once.
func TestButtonScriptAfterTimeout(t *testing.T) {
	own := beecloud.Order{Title: "own button", Amount: 2, OutTradeNo: beecloud.NewOutTradeNo()}
	s := newStubShop(t, stubPageData{
		Heading: "Too late", Label: "支付", Own: &own, Callbacks: stubCallbacks, ScriptTimeout: time.Second,
	})
	s.Hold()
	b := NewBrowser(t)
	b.Open(s.URL)
	b.WaitVisible("#own")
	b.Click("#own")
	b.WaitJS(`window.__errs.length === 1`)
	s.Release()
	b.WaitJS(`window.__stubDone`)
	assert.Empty(t, stubCalls(b), "BC.click calls from the script that came after the timeout")
	b.Click("#own")
	b.WaitJS(`window.__calls.length === 1`)
	assert.Equal(t, "null", Eval[string](b, `String(document.getElementById("own").getAttribute("data-beecloud-state"))`), "after paying: data-beecloud-state")
	assert.Equal(t, 1, Eval[int](b, `window.__errs.length`), "Err calls: want once, for the first click")
	checkNothingRan(t, b)
}
