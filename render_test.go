package beecloud

import (
	"encoding/json"
	"flag"
	"html"
	"html/template"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The golden files are rewritten by: go test -run Golden -update .
// The flag is registered only if no other test file of the package has.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata/")
	}
}

func updatingGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// renderConfig is BeeCloud's public test app.
var renderConfig = Config{
	AppID:     "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
	AppSecret: "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
}

func renderOrder() Order {
	return Order{Title: "test", Amount: 1, OutTradeNo: "test0001"}
}

// renderHostile holds values that pass Validate but would break out of a naive
// <script> or attribute.
var renderHostile = []string{
	"</script>",
	"<!--",
	"<script>alert(1)</script>",
	"a\u2028b\u2029c",
	`back\slash\\`,
	"&amp;&lt;",
	"😀中文",
	"]]>-->",
	"<img src=x onerror=alert(1)>",
}

func renderGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "render", name)
	if updatingGolden() {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	assert.Equal(t, string(want), string(got), "%s differs from the golden file (go test -update rewrites it)", name)
}

func TestScriptTagGolden(t *testing.T) {
	renderGolden(t, "script_tag.golden", []byte(renderConfig.ScriptTag()+"\n"))
}

func TestButtonGolden(t *testing.T) {
	o := renderOrder()
	o.ReturnURL = "https://shop.example/paid"
	o.Optional = map[string]any{"agent_id": "Alice", "n": 3}
	p, err := renderConfig.Params(o)
	require.NoError(t, err, "Params()")
	h, err := renderConfig.button("beecloud-test0001-0000000000000000", "支付 ¥0.01", p)
	require.NoError(t, err, "button()")
	renderGolden(t, "button.golden", []byte(h+"\n"))
}

func TestClickScriptGolden(t *testing.T) {
	p, err := renderConfig.Params(renderOrder())
	require.NoError(t, err, "Params()")
	h, err := renderConfig.clickScript("pay", p, Callbacks{
		DataError:     "shop.onDataError",
		WxJsapiFinish: "onFinish",
		Err:           "shop.onPayError",
	})
	require.NoError(t, err, "clickScript()")
	renderGolden(t, "click_script.golden", []byte(h+"\n"))
}

// The golden files pin the exact output; this pins that the exported
// functions produce that output too.
func TestClickScriptMatchesInternal(t *testing.T) {
	cb := Callbacks{DataError: "shop.onDataError", WxJsapiFinish: "onFinish", Err: "shop.onPayError"}
	got, err := renderConfig.ClickScript("pay", renderOrder(), cb)
	require.NoError(t, err, "ClickScript()")
	p, _ := renderConfig.Params(renderOrder())
	want, _ := renderConfig.clickScript("pay", p, cb)
	assert.Equal(t, want, got, "ClickScript(); want clickScript's")
}

func TestScriptTag(t *testing.T) {
	tests := []struct {
		name, scriptURL, appID, want string
	}{
		{"default", "", "app", `src="` + DefaultScriptURL + `?appId=app"`},
		{"custom", "http://127.0.0.1:8080/bc.js", "app", `src="http://127.0.0.1:8080/bc.js?appId=app"`},
		{"relative", "/sandbox/bc.js", "app", `src="/sandbox/bc.js?appId=app"`},
		{"existing query", "https://x.test/bc.js?v=2", "app", `src="https://x.test/bc.js?v=2&amp;appId=app"`},
		{"trailing ?", "https://x.test/bc.js?", "app", `src="https://x.test/bc.js?appId=app"`},
		{"trailing &", "https://x.test/bc.js?v=2&", "app", `src="https://x.test/bc.js?v=2&amp;appId=app"`},
		{"fragment", "https://x.test/bc.js#top", "app", `src="https://x.test/bc.js?appId=app#top"`},
		{"appId escaped", "", `a&b c"><script>`, `?appId=a%26b&#43;c%22%3E%3Cscript%3E"`},
		{"javascript URL refused", "javascript:alert(1)", "app", `src="#ZgotmplZ"`},
		{"attribute break escaped", `https://x.test/"><script>alert(1)</script>`, "app", `src="https://x.test/%22%3e%3cscript%3ealert%281%29%3c/script%3e?appId=app"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{AppID: tt.appID, ScriptURL: tt.scriptURL}
			got := string(c.ScriptTag())
			assert.Contains(t, got, tt.want, "ScriptTag()")
			checkScriptTag(t, got, "")
		})
	}
}

// checkScriptTag fails unless h is the runtime's inline script followed by
// BeeCloud's async tag, each with the nonce if there is one.
func checkScriptTag(t *testing.T, h, nonce string) {
	t.Helper()
	lower := renderASCIILower(h)
	require.Equal(t, 2, strings.Count(lower, "<script"), "<script in %q", h)
	require.Equal(t, 2, strings.Count(lower, "</script"), "</script in %q", h)
	open := "<script>"
	attr := ""
	if nonce != "" {
		open = `<script nonce="` + nonce + `">`
		attr = ` nonce="` + nonce + `"`
	}
	runtime, tag, ok := strings.Cut(h, "</script>")
	require.True(t, ok, "no </script> in %q", h)
	require.True(t, strings.HasPrefix(runtime, open), "got %q; want it to start with %s", h, open)
	assert.Contains(t, runtime, `window.__beecloud`, "the first script is not the click runtime")
	assert.Contains(t, runtime, `"beecloud:onready"`, "the first script is not the click runtime")
	assert.True(t, strings.HasPrefix(tag, `<script id="spay-script" type="text/javascript" src="`),
		"got %q; want the dashboard's tag", tag)
	assert.Regexp(t, `" async data-beecloud-wait="[0-9]+"`+regexp.QuoteMeta(attr)+`></script>$`, tag,
		"want the dashboard's tag, async, with the wait%s", attr)
}

// TestRuntimeIsConstant pins that the click runtime has nothing the
// template would fill in or that would end its element, and that a page
// gets it once with its tag.
func TestRuntimeIsConstant(t *testing.T) {
	for _, bad := range []string{"{{", "</script", "<!--", "<script", "\u2028", "`"} {
		assert.NotContains(t, renderASCIILower(runtimeJS), bad, "render_runtime.js")
	}
	a, b := renderConfig.ScriptTag(), Config{AppID: "other", ScriptURL: "https://x.test/"}.ScriptTag()
	ra, _, _ := strings.Cut(string(a), "</script>")
	rb, _, _ := strings.Cut(string(b), "</script>")
	assert.Equal(t, ra, rb, "the runtime differs between configs")
}

func TestScriptTagNonce(t *testing.T) {
	tests := []struct {
		nonce string
		want  string // in the attribute, or "" when refused
	}{
		{"abcdefghijklmnop", "abcdefghijklmnop"},
		{"AAAAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAAAA=="},
		{"a+b/c-d_e0123456789=", "a&#43;b/c-d_e0123456789="},
		{"", ""},
		{"short", ""},
		{strings.Repeat("a", 257), ""},
		{"abcdefghijklmnop===", ""},
		{"================", ""},
		{`abcdefghijklmnop" onload="x`, ""},
		{"abcdefghijklmnop'", ""},
		{"abcdefghijklmnop>", ""},
		{"abcdefghij klmnop", ""},
		{"abcdefghijklmnop\u00e9", ""},
		{"abcdefgh=ijklmnop", ""},
	}
	for _, tt := range tests {
		t.Run(tt.nonce, func(t *testing.T) {
			h, err := renderConfig.ScriptTagNonce(tt.nonce)
			if tt.want == "" {
				require.ErrorIs(t, err, ErrInvalidNonce, "ScriptTagNonce(%q)", tt.nonce)
				assert.Empty(t, h, "ScriptTagNonce(%q); want no HTML", tt.nonce)
				return
			}
			require.NoError(t, err, "ScriptTagNonce(%q)", tt.nonce)
			checkScriptTag(t, string(h), tt.want)
		})
	}
}

func TestNewNonce(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		n := NewNonce()
		require.NoError(t, checkNonce(n), "NewNonce() = %q", n)
		assert.Len(t, n, 22, "NewNonce(); want 22 characters (128 bits)")
		assert.Equal(t, n, template.HTMLEscapeString(n), "NewNonce() in HTML; want it unchanged, as in the header")
		require.False(t, seen[n], "NewNonce() repeated %q", n)
		seen[n] = true
	}
}

func TestButtonInvalidOrder(t *testing.T) {
	tests := []struct {
		name  string
		order Order
		field string
	}{
		{"zero order", Order{}, "out_trade_no"},
		{"double quote in title", Order{Title: `say "hi"`, Amount: 1, OutTradeNo: "test0001"}, "title"},
		{"single quote in title", Order{Title: "it's", Amount: 1, OutTradeNo: "test0001"}, "title"},
		{"negative amount", Order{Title: "t", Amount: -1, OutTradeNo: "test0001"}, "amount"},
		{"hostile out_trade_no", Order{Title: "t", Amount: 1, OutTradeNo: "</script>0001"}, "out_trade_no"},
		{"nested optional", Order{Title: "t", Amount: 1, OutTradeNo: "test0001", Optional: map[string]any{"k": []string{"x"}}}, "optional.k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, tt.order.Validate(), ErrInvalidOrder, "Validate()")
			h, err := renderConfig.Button("支付", tt.order)
			require.ErrorIs(t, err, ErrInvalidOrder, "Button()")
			var ve *ValidationError
			require.ErrorAs(t, err, &ve, "Button()")
			_, ok := ve.Field(tt.field)
			assert.True(t, ok, "Button() = %v; want a problem with %q", err, tt.field)
			assert.Empty(t, h, "Button(); want no HTML with the error")
			h, err = renderConfig.ClickScript("pay", tt.order, Callbacks{})
			assert.Empty(t, h, "ClickScript(); want no HTML with the error")
			assert.ErrorIs(t, err, ErrInvalidOrder, "ClickScript()")
		})
	}
}

func TestButtonInvalidConfig(t *testing.T) {
	h, err := Config{AppID: "app"}.Button("支付", renderOrder())
	assert.Empty(t, h, "Button(); want no HTML with the error")
	assert.ErrorIs(t, err, ErrInvalidConfig, "Button()")
}

func TestClickScriptCallbacks(t *testing.T) {
	valid := []string{"onPay", "shop.onPayError", "$", "_x", "a.b.c.d", "jQuery$1", "window.shop.err"}
	invalid := []string{
		"on pay", "shop..err", ".x", "x.", "1x", "a.1b", "alert(1)", "x;alert(1)", "x//",
		"eval", "window.eval", "Function", "x.constructor", "a.constructor.constructor",
		"setTimeout", "window.setInterval", "__proto__", "x.__defineGetter__", "if", "new",
		"ünicode", "a-b", "a[0]", `a"b`, "a\u2028b", "</script>", strings.Repeat("a", 257),
	}
	for _, name := range valid {
		t.Run("valid "+name, func(t *testing.T) {
			for _, cb := range everyCallbackField(name) {
				_, err := renderConfig.ClickScript("pay", renderOrder(), cb)
				assert.NoError(t, err, "ClickScript() with %+v", cb)
			}
		})
	}
	for _, name := range invalid {
		t.Run("invalid "+name, func(t *testing.T) {
			for _, cb := range everyCallbackField(name) {
				h, err := renderConfig.ClickScript("pay", renderOrder(), cb)
				assert.Empty(t, h, "ClickScript() with %+v; want no HTML with the error", cb)
				assert.ErrorIs(t, err, ErrInvalidCallback, "ClickScript() with %+v", cb)
			}
		})
	}
}

// everyCallbackField returns Callbacks with name in each field in turn.
func everyCallbackField(name string) []Callbacks {
	return []Callbacks{
		{DataError: name}, {WxJsapiFinish: name}, {WxJsapiSuccess: name},
		{WxJsapiFail: name}, {Err: name},
	}
}

func TestClickScriptReportsEveryProblem(t *testing.T) {
	_, err := renderConfig.ClickScript("", Order{}, Callbacks{DataError: "eval", Err: "a b"})
	for _, want := range []error{ErrInvalidOrder, ErrInvalidCallback} {
		require.ErrorIs(t, err, want, "ClickScript()")
	}
	for _, want := range []string{"empty element id", `DataError "eval"`, `Err "a b"`} {
		assert.ErrorContains(t, err, want, "ClickScript()")
	}
}

func TestClickScriptElementIDIsData(t *testing.T) {
	h, err := renderConfig.ClickScript(`x");alert(1);//</script>`, renderOrder(), Callbacks{})
	require.NoError(t, err, "ClickScript()")
	assert.Contains(t, string(h), `data-beecloud-for="x&#34;);alert(1);//&lt;/script&gt;"`, "ClickScript()")
	checkDataBlock(t, string(h))
}

// TestButtonHostile renders hostile values in the title, the optional
// values and the label, and checks that the HTML has exactly one script
// element, that the label is text, and that BC.click's argument decodes to
// exactly the Params.
func TestButtonHostile(t *testing.T) {
	for _, s := range renderHostile {
		t.Run(s, func(t *testing.T) {
			o := renderOrder()
			o.Title = s
			o.Optional = map[string]any{s: s, "k": s}
			h, err := renderConfig.Button(s, o)
			require.NoError(t, err, "Button()")
			checkNoScript(t, string(h))
			assert.Contains(t, string(h), ">"+template.HTMLEscapeString(s)+"</button>", "Button(); want the label escaped as text")
			want, _ := renderConfig.Params(o)
			assert.Equal(t, renderRoundTrip(t, want), clickArgument(t, string(h)), "Button(): what BC.click gets")
			cb := Callbacks{Err: "shop.onErr"}
			h, err = renderConfig.ClickScript("pay", o, cb)
			require.NoError(t, err, "ClickScript()")
			checkDataBlock(t, string(h))
			assert.Equal(t, renderRoundTrip(t, want), clickArgument(t, string(h)), "ClickScript(): what BC.click gets")
		})
	}
}

var (
	buttonSettingsRe = regexp.MustCompile(`^<button [^>]* data-beecloud="([^"]*)">`)
	blockSettingsRe  = regexp.MustCompile(`^<script type="application/json" data-beecloud-for="[^"]*">(.*)</script>$`)
)

// clickArgument returns BC.click's data in h, a Button or a ClickScript,
// as the page's runtime reads it: the attribute's value or the data
// block's text, decoded as JSON.
func clickArgument(t *testing.T, h string) map[string]any {
	t.Helper()
	var raw string
	if m := buttonSettingsRe.FindStringSubmatch(h); m != nil {
		raw = html.UnescapeString(m[1])
	} else if m := blockSettingsRe.FindStringSubmatch(h); m != nil {
		raw = m[1]
	} else {
		require.Fail(t, "no click settings", "in %s", h)
	}
	var v struct {
		Params map[string]any `json:"params"`
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &v), "the click settings %s are not JSON", raw)
	return v.Params
}

func renderRoundTrip(t *testing.T, p Params) map[string]any {
	t.Helper()
	b, err := json.Marshal(p)
	require.NoError(t, err, "json.Marshal(Params)")
	var v map[string]any
	require.NoError(t, json.Unmarshal(b, &v), "json.Unmarshal(%s)", b)
	return v
}

// checkNoScript fails unless h, a button, holds no script and no
// sequence that would open a comment or a script.
func checkNoScript(t *testing.T, h string) {
	t.Helper()
	lower := renderASCIILower(h)
	for _, bad := range []string{"<script", "</script", "<!--", "-->"} {
		require.NotContains(t, lower, bad, "the button")
	}
	assert.Equal(t, 2, strings.Count(h, "<"), "tags in %s; want the button's two", h)
}

// checkDataBlock fails unless h holds exactly one script element, a JSON
// data block, and none of the sequences that end or confuse one inside it.
func checkDataBlock(t *testing.T, h string) {
	t.Helper()
	lower := renderASCIILower(h)
	require.Equal(t, 1, strings.Count(lower, "<script"), "<script in %s", h)
	require.Equal(t, 1, strings.Count(lower, "</script"), "</script in %s", h)
	assert.True(t, strings.HasPrefix(h, `<script type="application/json" `) && strings.HasSuffix(h, "</script>"),
		"got %s; want one JSON data block", h)
	for _, bad := range []string{"<!--", "-->", "\u2028", "\u2029"} {
		assert.NotContains(t, h, bad, "the data block")
	}
}

// renderASCIILower lowercases ASCII letters only, keeping every byte offset, as
// HTML matches tag names.
func renderASCIILower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

var buttonIDRe = regexp.MustCompile(`<button type="button" id="(beecloud-test0001-[0-9a-f]{16})" class="beecloud-button" data-beecloud="`)

func TestButtonIDs(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		h, err := renderConfig.Button("支付", renderOrder())
		require.NoError(t, err, "Button()")
		m := buttonIDRe.FindStringSubmatch(string(h))
		require.NotNil(t, m, "Button() = %s; want a button with id beecloud-test0001-<16 hex digits>", h)
		require.False(t, seen[m[1]], "Button(): id %q repeated", m[1])
		seen[m[1]] = true
	}
}

func TestFuncMap(t *testing.T) {
	page := template.Must(template.New("page").Funcs(renderConfig.FuncMap()).Parse(
		`<title>{{.Title}}</title>{{beecloudScript}}` +
			`<p>{{beecloudButton "支付" .Order}}</p><p>{{beecloudButton "付款" .Order}}</p>` +
			`<button type="button" id="own">Pay</button>{{beecloudClickScript "own" .Order .Callbacks}}`))
	data := struct {
		Title     string
		Order     *Order
		Callbacks Callbacks
	}{"<shop>", &Order{Title: "test", Amount: 1, OutTradeNo: "test0001"}, Callbacks{DataError: "onErr"}}

	var b strings.Builder
	require.NoError(t, page.Execute(&b, data), "Execute()")
	got := b.String()
	for _, want := range []string{
		"<title>&lt;shop&gt;</title>",
		string(renderConfig.ScriptTag()),
		`">支付</button>`,
		`">付款</button>`,
		`<script type="application/json" data-beecloud-for="own">`,
		`"events":{"dataError":"onErr"}`,
	} {
		assert.Contains(t, got, want, "the executed page")
	}
	ids := buttonIDRe.FindAllStringSubmatch(got, -1)
	if assert.Len(t, ids, 2, "button ids; want two distinct ones") {
		assert.NotEqual(t, ids[0][1], ids[1][1], "button ids; want two distinct ones")
	}

	data.Order.Title = `"quoted"`
	require.ErrorIs(t, page.Execute(&b, data), ErrInvalidOrder, "Execute() with an invalid order")

	nonced := template.Must(template.New("page").Funcs(renderConfig.FuncMap()).Parse(`{{beecloudScript .}}`))
	b.Reset()
	require.NoError(t, nonced.Execute(&b, "abcdefghijklmnop"), "Execute() with a nonce")
	want, _ := renderConfig.ScriptTagNonce("abcdefghijklmnop")
	assert.Equal(t, string(want), b.String(), "{{beecloudScript .Nonce}}; want ScriptTagNonce's")
	require.ErrorIs(t, nonced.Execute(&b, "bad nonce"), ErrInvalidNonce, "Execute() with a bad nonce")
	two := template.Must(template.New("page").Funcs(renderConfig.FuncMap()).Parse(`{{beecloudScript . .}}`))
	assert.ErrorContains(t, two.Execute(&b, "abcdefghijklmnop"), "at most one argument", "Execute() with two arguments; want it to name the extra one")
}

func FuzzButton(f *testing.F) {
	for _, s := range renderHostile {
		f.Add(s, s, s)
	}
	f.Add("支付", "test", "Alice")
	f.Fuzz(func(t *testing.T, label, title, optional string) {
		o := Order{Title: title, Amount: 1, OutTradeNo: "test0001", Optional: map[string]any{"k": optional}}
		h, err := renderConfig.Button(label, o)
		if err != nil {
			require.Empty(t, h, "Button(); want no HTML with the error")
			require.ErrorIs(t, err, ErrInvalidOrder, "Button()")
			return
		}
		checkNoScript(t, string(h))
		want, _ := renderConfig.Params(o)
		require.Equal(t, renderRoundTrip(t, want), clickArgument(t, string(h)), "Button(): what BC.click gets")
	})
}

var callbackRe = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*$`)

func FuzzCallbackName(f *testing.F) {
	for _, s := range []string{"onPay", "shop.onPayError", "eval", "a..b", "x;alert(1)", "__proto__"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		h, err := renderConfig.ClickScript("pay", renderOrder(), Callbacks{DataError: name, Err: name})
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidCallback, "ClickScript()")
			return
		}
		if name != "" {
			require.Regexp(t, callbackRe, name, "ClickScript() accepted a name that is not an identifier path")
		}
		checkDataBlock(t, string(h))
	})
}

// benchButtonOrder is a typical order: Chinese title, return_url, one optional.
var benchButtonOrder = Order{
	Title:      "测试商品 test",
	Amount:     150,
	OutTradeNo: "bc20261125184512a1b2c3d4",
	ReturnURL:  "https://shop.example/paid",
	Optional:   map[string]any{"user_id": "u42"},
}

func BenchmarkButton(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		if _, err := renderConfig.Button("支付", benchButtonOrder); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkButtonBaseline is the least any button must do: validate and
// sign the order (Config.Params) and marshal the data to JSON.
func BenchmarkButtonBaseline(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		p, err := renderConfig.Params(benchButtonOrder)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScriptTag(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		_ = renderConfig.ScriptTag()
	}
}

func TestScriptTagWait(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		want    string
	}{
		{"zero is the default", 0, `data-beecloud-wait="5000"`},
		{"negative is the default", -time.Second, `data-beecloud-wait="5000"`},
		{"set", 2500 * time.Millisecond, `data-beecloud-wait="2500"`},
		{"under a millisecond", time.Microsecond, `data-beecloud-wait="1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := renderConfig
			c.ScriptTimeout = tt.timeout
			assert.Contains(t, string(c.ScriptTag()), tt.want, "ScriptTag()")
		})
	}
}
