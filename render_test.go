package beecloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"html"
	"html/template"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
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
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestScriptTagGolden(t *testing.T) {
	renderGolden(t, "script_tag.golden", []byte(renderConfig.ScriptTag()+"\n"))
}

func TestButtonGolden(t *testing.T) {
	o := renderOrder()
	o.ReturnURL = "https://shop.example/paid"
	o.Optional = map[string]any{"agent_id": "Alice", "n": 3}
	p, err := renderConfig.Params(o)
	if err != nil {
		t.Fatal(err)
	}
	h, err := renderConfig.button("beecloud-test0001-0000000000000000", "支付 ¥0.01", p)
	if err != nil {
		t.Fatal(err)
	}
	renderGolden(t, "button.golden", []byte(h+"\n"))
}

func TestClickScriptGolden(t *testing.T) {
	p, err := renderConfig.Params(renderOrder())
	if err != nil {
		t.Fatal(err)
	}
	h, err := renderConfig.clickScript("pay", p, Callbacks{
		DataError:     "shop.onDataError",
		WxJsapiFinish: "onFinish",
		Err:           "shop.onPayError",
	})
	if err != nil {
		t.Fatal(err)
	}
	renderGolden(t, "click_script.golden", []byte(h+"\n"))
}

// The golden files pin the exact output; this pins that the exported
// functions produce that output too.
func TestClickScriptMatchesInternal(t *testing.T) {
	cb := Callbacks{DataError: "shop.onDataError", WxJsapiFinish: "onFinish", Err: "shop.onPayError"}
	got, err := renderConfig.ClickScript("pay", renderOrder(), cb)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := renderConfig.Params(renderOrder())
	want, _ := renderConfig.clickScript("pay", p, cb)
	if got != want {
		t.Errorf("got %q; want %q", got, want)
	}
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
			if !strings.Contains(got, tt.want) {
				t.Errorf("got %q; want it to contain %q", got, tt.want)
			}
			checkScriptTag(t, got, "")
		})
	}
}

// checkScriptTag fails unless h is the runtime's inline script followed by
// BeeCloud's async tag, each with the nonce if there is one.
func checkScriptTag(t *testing.T, h, nonce string) {
	t.Helper()
	lower := renderASCIILower(h)
	if n, m := strings.Count(lower, "<script"), strings.Count(lower, "</script"); n != 2 || m != 2 {
		t.Fatalf("got %d <script and %d </script in %q; want 2 of each", n, m, h)
	}
	open := "<script>"
	attr := ""
	if nonce != "" {
		open = `<script nonce="` + nonce + `">`
		attr = ` nonce="` + nonce + `"`
	}
	runtime, tag, ok := strings.Cut(h, "</script>")
	if !ok || !strings.HasPrefix(runtime, open) {
		t.Fatalf("got %q; want it to start with %s", h, open)
	}
	if !strings.Contains(runtime, `window.__beecloud`) || !strings.Contains(runtime, `"beecloud:onready"`) {
		t.Errorf("the first script %q is not the click runtime", runtime)
	}
	if !strings.HasPrefix(tag, `<script id="spay-script" type="text/javascript" src="`) ||
		!regexp.MustCompile(`" async data-beecloud-wait="[0-9]+"`+regexp.QuoteMeta(attr)+`></script>$`).MatchString(tag) {
		t.Errorf("got %q; want the dashboard's tag, async, with the wait%s", tag, attr)
	}
}

// TestRuntimeIsConstant pins that the click runtime has nothing the
// template would fill in or that would end its element, and that a page
// gets it once with its tag.
func TestRuntimeIsConstant(t *testing.T) {
	for _, bad := range []string{"{{", "</script", "<!--", "<script", "\u2028", "`"} {
		if strings.Contains(renderASCIILower(runtimeJS), bad) {
			t.Errorf("render_runtime.js contains %q", bad)
		}
	}
	a, b := renderConfig.ScriptTag(), Config{AppID: "other", ScriptURL: "https://x.test/"}.ScriptTag()
	ra, _, _ := strings.Cut(string(a), "</script>")
	rb, _, _ := strings.Cut(string(b), "</script>")
	if ra != rb {
		t.Errorf("the runtime differs between configs:\n%s\n%s", ra, rb)
	}
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
				if !errors.Is(err, ErrInvalidNonce) || h != "" {
					t.Fatalf("got %q, %v; want no HTML and ErrInvalidNonce", h, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkScriptTag(t, string(h), tt.want)
		})
	}
}

func TestNewNonce(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		n := NewNonce()
		if err := checkNonce(n); err != nil {
			t.Fatalf("NewNonce() = %q: %v", n, err)
		}
		if len(n) != 22 {
			t.Errorf("NewNonce() = %q; want 22 characters (128 bits)", n)
		}
		if html := template.HTMLEscapeString(n); html != n {
			t.Errorf("NewNonce() = %q reads %q in HTML; want it unchanged, as in the header", n, html)
		}
		if seen[n] {
			t.Fatalf("NewNonce() repeated %q", n)
		}
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
			if err := tt.order.Validate(); !errors.Is(err, ErrInvalidOrder) {
				t.Errorf("Validate: got %v; want ErrInvalidOrder", err)
			}
			h, err := renderConfig.Button("支付", tt.order)
			if !errors.Is(err, ErrInvalidOrder) {
				t.Fatalf("got error %v; want one matching ErrInvalidOrder", err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %T; want *ValidationError", err)
			}
			if _, ok := ve.Field(tt.field); !ok {
				t.Errorf("got %v; want a problem with %q", err, tt.field)
			}
			if h != "" {
				t.Errorf("got HTML %q with the error; want none", h)
			}
			h, err = renderConfig.ClickScript("pay", tt.order, Callbacks{})
			if !errors.Is(err, ErrInvalidOrder) || h != "" {
				t.Errorf("ClickScript: got %q, %v; want no HTML and ErrInvalidOrder", h, err)
			}
		})
	}
}

func TestButtonInvalidConfig(t *testing.T) {
	h, err := Config{AppID: "app"}.Button("支付", renderOrder())
	if !errors.Is(err, ErrInvalidConfig) || h != "" {
		t.Errorf("got %q, %v; want no HTML and ErrInvalidConfig", h, err)
	}
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
				if _, err := renderConfig.ClickScript("pay", renderOrder(), cb); err != nil {
					t.Errorf("%+v: got %v; want no error", cb, err)
				}
			}
		})
	}
	for _, name := range invalid {
		t.Run("invalid "+name, func(t *testing.T) {
			for _, cb := range everyCallbackField(name) {
				h, err := renderConfig.ClickScript("pay", renderOrder(), cb)
				if !errors.Is(err, ErrInvalidCallback) || h != "" {
					t.Errorf("%+v: got %q, %v; want no HTML and ErrInvalidCallback", cb, h, err)
				}
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
		if !errors.Is(err, want) {
			t.Errorf("got %v; want it to match %v", err, want)
		}
	}
	for _, want := range []string{"empty element id", `DataError "eval"`, `Err "a b"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v; want it to mention %q", err, want)
		}
	}
}

func TestClickScriptElementIDIsData(t *testing.T) {
	h, err := renderConfig.ClickScript(`x");alert(1);//</script>`, renderOrder(), Callbacks{})
	if err != nil {
		t.Fatal(err)
	}
	want := `data-beecloud-for="x&#34;);alert(1);//&lt;/script&gt;"`
	if !strings.Contains(string(h), want) {
		t.Errorf("got %s; want it to contain %s", h, want)
	}
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
			if err != nil {
				t.Fatal(err)
			}
			checkNoScript(t, string(h))
			if !strings.Contains(string(h), ">"+template.HTMLEscapeString(s)+"</button>") {
				t.Errorf("got %s; want the label %q escaped as text", h, s)
			}
			want, _ := renderConfig.Params(o)
			if got := clickArgument(t, string(h)); !reflect.DeepEqual(got, renderRoundTrip(t, want)) {
				t.Errorf("BC.click gets %#v; want %#v", got, renderRoundTrip(t, want))
			}
			cb := Callbacks{Err: "shop.onErr"}
			h, err = renderConfig.ClickScript("pay", o, cb)
			if err != nil {
				t.Fatal(err)
			}
			checkDataBlock(t, string(h))
			if got := clickArgument(t, string(h)); !reflect.DeepEqual(got, renderRoundTrip(t, want)) {
				t.Errorf("ClickScript: BC.click gets %#v; want %#v", got, renderRoundTrip(t, want))
			}
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
		t.Fatalf("no click settings in %s", h)
	}
	var v struct {
		Params map[string]any `json:"params"`
	}
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatalf("the click settings %s are not JSON: %v", raw, err)
	}
	return v.Params
}

func renderRoundTrip(t *testing.T, p Params) map[string]any {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// checkNoScript fails unless h, a button, holds no script and no
// sequence that would open a comment or a script.
func checkNoScript(t *testing.T, h string) {
	t.Helper()
	lower := renderASCIILower(h)
	for _, bad := range []string{"<script", "</script", "<!--", "-->"} {
		if strings.Contains(lower, bad) {
			t.Fatalf("got %q in %s", bad, h)
		}
	}
	if n := strings.Count(h, "<"); n != 2 {
		t.Errorf("got %d tags in %s; want the button's two", n, h)
	}
}

// checkDataBlock fails unless h holds exactly one script element, a JSON
// data block, and none of the sequences that end or confuse one inside it.
func checkDataBlock(t *testing.T, h string) {
	t.Helper()
	lower := renderASCIILower(h)
	if n := strings.Count(lower, "<script"); n != 1 {
		t.Fatalf("got %d <script; want 1 in %s", n, h)
	}
	if n := strings.Count(lower, "</script"); n != 1 {
		t.Fatalf("got %d </script; want 1 in %s", n, h)
	}
	if !strings.HasPrefix(h, `<script type="application/json" `) || !strings.HasSuffix(h, "</script>") {
		t.Errorf("got %s; want one JSON data block", h)
	}
	for _, bad := range []string{"<!--", "-->", "\u2028", "\u2029"} {
		if strings.Contains(h, bad) {
			t.Errorf("got %q in %s", bad, h)
		}
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
		if err != nil {
			t.Fatal(err)
		}
		m := buttonIDRe.FindStringSubmatch(string(h))
		if m == nil {
			t.Fatalf("got %s; want a button with id beecloud-test0001-<16 hex digits>", h)
		}
		if seen[m[1]] {
			t.Fatalf("id %q repeated", m[1])
		}
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
	if err := page.Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"<title>&lt;shop&gt;</title>",
		string(renderConfig.ScriptTag()),
		`">支付</button>`,
		`">付款</button>`,
		`<script type="application/json" data-beecloud-for="own">`,
		`"events":{"dataError":"onErr"}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("got %s; want it to contain %s", got, want)
		}
	}
	ids := buttonIDRe.FindAllStringSubmatch(got, -1)
	if len(ids) != 2 || ids[0][1] == ids[1][1] {
		t.Errorf("got button ids %q; want two distinct ones", ids)
	}

	data.Order.Title = `"quoted"`
	err := page.Execute(&b, data)
	if !errors.Is(err, ErrInvalidOrder) {
		t.Errorf("got %v; want Execute to fail with ErrInvalidOrder", err)
	}

	nonced := template.Must(template.New("page").Funcs(renderConfig.FuncMap()).Parse(`{{beecloudScript .}}`))
	b.Reset()
	if err := nonced.Execute(&b, "abcdefghijklmnop"); err != nil {
		t.Fatal(err)
	}
	if want, _ := renderConfig.ScriptTagNonce("abcdefghijklmnop"); b.String() != string(want) {
		t.Errorf("{{beecloudScript .Nonce}}: got %s; want ScriptTagNonce's %s", b.String(), want)
	}
	if err := nonced.Execute(&b, "bad nonce"); !errors.Is(err, ErrInvalidNonce) {
		t.Errorf("got %v; want Execute to fail with ErrInvalidNonce", err)
	}
	two := template.Must(template.New("page").Funcs(renderConfig.FuncMap()).Parse(`{{beecloudScript . .}}`))
	if err := two.Execute(&b, "abcdefghijklmnop"); err == nil || !strings.Contains(err.Error(), "at most one argument") {
		t.Errorf("got %v; want Execute to fail naming the extra argument", err)
	}
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
			if !errors.Is(err, ErrInvalidOrder) || h != "" {
				t.Fatalf("got %q, %v; want no HTML and ErrInvalidOrder", h, err)
			}
			return
		}
		checkNoScript(t, string(h))
		want, _ := renderConfig.Params(o)
		if got := clickArgument(t, string(h)); !reflect.DeepEqual(got, renderRoundTrip(t, want)) {
			t.Fatalf("BC.click gets %#v; want %#v", got, renderRoundTrip(t, want))
		}
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
			if !errors.Is(err, ErrInvalidCallback) {
				t.Fatalf("got %v; want ErrInvalidCallback", err)
			}
			return
		}
		if name != "" && !callbackRe.MatchString(name) {
			t.Fatalf("accepted %q, which is not an identifier path", name)
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
			if h := c.ScriptTag(); !strings.Contains(string(h), tt.want) {
				t.Errorf("got %s; want it to contain %q", h, tt.want)
			}
		})
	}
}
