package beecloud

import (
	cryptorand "crypto/rand"
	_ "embed" // the click runtime
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"
)

// DefaultScriptURL is the address of BeeCloud's button script, without the
// appId parameter. [Config.ScriptTag] uses it when Config.ScriptURL is empty.
const DefaultScriptURL = "https://jspay.beecloud.cn/1/pay/jsbutton/returnscripts"

// DefaultScriptTimeout is how long a click on a pay button waits for
// BeeCloud's button script when Config.ScriptTimeout is zero.
const DefaultScriptTimeout = 5 * time.Second

// ErrInvalidCallback is returned, wrapped, by [Config.ClickScript] for a
// [Callbacks] field that is not a JavaScript identifier or dotted path.
var ErrInvalidCallback = errors.New("beecloud: invalid callback name")

// Callbacks names the merchant's own global JavaScript functions that
// BeeCloud's script calls back; the zero value names none. Each field is an
// identifier such as "onPayError" or a dotted path such as
// "shop.onPayError", looked up from window when the buyer clicks: declare
// the function with function or var, or assign it to window (top-level let,
// const and class are not properties of window). The function is passed as
// it is, so it is called with this set to BeeCloud's event object, not to
// the object on its path.
//
// A name is only ever looked up, never evaluated: a string that came from a
// user cannot become code. Names are limited to ASCII identifiers, and
// reserved words, names starting with "__" and the names of functions that
// turn strings into code (eval, Function, setTimeout, setInterval,
// constructor, …) are refused with [ErrInvalidCallback].
type Callbacks struct {
	// DataError is BC.click's event.dataError(msg): the data was refused.
	DataError string
	// WxJsapiFinish is event.wxJsapiFinish(res): WeChat JSAPI pay ended.
	WxJsapiFinish string
	// WxJsapiSuccess is event.wxJsapiSuccess(res): WeChat JSAPI pay succeeded.
	WxJsapiSuccess string
	// WxJsapiFail is event.wxJsapiFail(res): WeChat JSAPI pay failed.
	WxJsapiFail string
	// Err becomes BC.err(err), which receives BC.click's errors as
	// {"ERROR": "…"}; empty keeps BeeCloud's default (console.log). It is
	// also called when a click gives up waiting for BeeCloud's script (see
	// [Config.Button]), with {"ERROR": "beecloud: …", "MESSAGE": "…"}: the
	// developer's message naming the cause, and the Chinese message the
	// page shows the buyer.
	Err string
}

// ErrInvalidNonce is returned, wrapped, by [Config.ScriptTagNonce] for a
// nonce that a Content-Security-Policy header could not carry.
var ErrInvalidNonce = errors.New("beecloud: invalid CSP nonce")

// clickEvents is BC.click's event argument as names, in its JSON keys.
type clickEvents struct {
	DataError      string `json:"dataError,omitempty"`
	WxJsapiFinish  string `json:"wxJsapiFinish,omitempty"`
	WxJsapiSuccess string `json:"wxJsapiSuccess,omitempty"`
	WxJsapiFail    string `json:"wxJsapiFail,omitempty"`
}

// clickSettings is what the page's click runtime reads for one element:
// the JSON of a button's data-beecloud attribute, or of the data block
// that ClickScript renders.
type clickSettings struct {
	Params Params `json:"params"`
	// Err names the Err callback; Events is nil when no event callback is
	// named, so that the runtime calls BC.click(data) exactly as
	// BeeCloud's own examples do.
	Err    string       `json:"err,omitempty"`
	Events *clickEvents `json:"events,omitempty"`
}

// runtimeJS is the click runtime, one copy per page. It is constant text
// with no template action in it: its values come from data attributes.
//
//go:embed render_runtime.js
var runtimeJS string

// scriptTagData is what scriptTagHTML is executed with.
type scriptTagData struct {
	Nonce string
	Src   string
	Wait  int64
}

// scriptTagHTML is the click runtime followed by BeeCloud's tag, loaded
// async so that it never holds up the page. html/template checks the URL's
// scheme (javascript: becomes #ZgotmplZ) and escapes every value for its
// attribute.
var scriptTagHTML = template.Must(template.New("scriptTag").Parse(
	`<script{{with .Nonce}} nonce="{{.}}"{{end}}>` + runtimeJS + `</script>` +
		`<script id="spay-script" type="text/javascript" src="{{.Src}}" async data-beecloud-wait="{{.Wait}}"{{with .Nonce}} nonce="{{.}}"{{end}}></script>`))

// buttonData is what buttonHTML is executed with; Settings is the JSON of
// a clickSettings, which html/template escapes as an attribute value.
type buttonData struct {
	ID       string
	Label    string
	Settings string
}

var buttonHTML = template.Must(template.New("button").Parse(
	`<button type="button" id="{{.ID}}" class="beecloud-button" data-beecloud="{{.Settings}}">{{.Label}}</button>`))

// clickBlockData is what clickBlockHTML is executed with.
type clickBlockData struct {
	ID       string
	Settings *clickSettings
}

// clickBlockHTML is a JSON data block: the browser never runs it, and
// html/template marshals Settings with encoding/json and escapes <, >, &,
// U+2028 and U+2029 in it, so no value can end the element.
var clickBlockHTML = template.Must(template.New("clickScript").Parse(
	`<script type="application/json" data-beecloud-for="{{.ID}}">{{.Settings}}</script>`))

// ScriptTag returns what a page with pay buttons needs once, best in its
// <head>: a short inline script, the click runtime that every
// [Config.Button] and [Config.ClickScript] on the page relies on, then the
// tag that loads BeeCloud's button script for c's app, as the dashboard
// gives it (APP → 设置 → 秒支付button) but with async added:
//
//	<script>…</script><script id="spay-script" type="text/javascript" src="https://jspay.beecloud.cn/1/pay/jsbutton/returnscripts?appId=APP_ID" async data-beecloud-wait="5000"></script>
//
// The src is c.ScriptURL, or [DefaultScriptURL] if that is empty, with the
// query-escaped AppID added as appId (after & if ScriptURL already has a
// query). Being async, the script never holds up the page however slowly
// BeeCloud answers; the runtime, which comes first, hears whether it
// loaded or failed whenever that happens. Under a Content Security Policy
// without 'unsafe-inline', use [Config.ScriptTagNonce].
func (c Config) ScriptTag() template.HTML {
	h, err := execute(scriptTagHTML, &scriptTagData{Src: c.scriptSrc(), Wait: c.scriptWait()}, len(runtimeJS)+256)
	if err != nil {
		// Unreachable: the template is fixed and its values are strings
		// and a number, which html/template always knows how to escape.
		return ""
	}
	return h
}

// ScriptTagNonce is [Config.ScriptTag] with nonce, the page's
// Content-Security-Policy nonce for this response, on both script
// elements, so that a policy such as
//
//	Content-Security-Policy: script-src 'nonce-NONCE' 'strict-dynamic'
//
// lets them run with no 'unsafe-inline'. Use a fresh nonce for every
// response ([NewNonce] makes one) and the same one in the header. A nonce
// must be 16 to 256 characters of base64 (A–Z, a–z, 0–9, +, /, - and _,
// then up to two =); anything else is refused with [ErrInvalidNonce].
// Buttons need no nonce: they carry data, not script.
func (c Config) ScriptTagNonce(nonce string) (template.HTML, error) {
	if err := checkNonce(nonce); err != nil {
		return "", err
	}
	return execute(scriptTagHTML, &scriptTagData{Nonce: nonce, Src: c.scriptSrc(), Wait: c.scriptWait()}, len(runtimeJS)+320)
}

// NewNonce returns a fresh Content-Security-Policy nonce: 128 random bits
// from crypto/rand, in URL-safe base64 without padding, so that it reads
// the same in the header and in an HTML attribute. Make one per response
// and use it in both the header and [Config.ScriptTagNonce].
func NewNonce() string {
	var b [16]byte
	_, _ = cryptorand.Read(b[:]) // never fails: crypto/rand.Read panics rather than return an error
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// checkNonce accepts CSP's base64-value grammar, at least 16 characters
// long (96 bits) so that it cannot be guessed.
func checkNonce(nonce string) error {
	if len(nonce) < 16 || len(nonce) > 256 {
		return fmt.Errorf("%w: %d characters; want 16 to 256 (use beecloud.NewNonce)", ErrInvalidNonce, len(nonce))
	}
	body := strings.TrimRight(nonce, "=")
	if len(nonce)-len(body) > 2 || body == "" {
		return fmt.Errorf("%w: at most two = may end it", ErrInvalidNonce)
	}
	for i := 0; i < len(body); i++ {
		if c := body[i]; !isAlnum(c) && c != '+' && c != '/' && c != '-' && c != '_' {
			return fmt.Errorf("%w: byte %d is %q; want base64 (A-Z a-z 0-9 + / - _)", ErrInvalidNonce, i, c)
		}
	}
	return nil
}

// scriptSrc is the script's URL with appId added to its query.
func (c Config) scriptSrc() string {
	base := c.ScriptURL
	if base == "" {
		base = DefaultScriptURL
	}
	var fragment string
	if i := strings.IndexByte(base, '#'); i >= 0 {
		base, fragment = base[:i], base[i:]
	}
	sep := "?"
	switch {
	case strings.HasSuffix(base, "?") || strings.HasSuffix(base, "&"):
		sep = ""
	case strings.Contains(base, "?"):
		sep = "&"
	}
	return base + sep + "appId=" + url.QueryEscape(c.AppID) + fragment
}

// Button returns a pay button for o: a <button type="button"> with the
// text label (escaped, so any text is safe) and, in its data-beecloud
// attribute, the JSON of c.Params(o). It holds no script: the page's click
// runtime, which [Config.ScriptTag] renders once, calls BC.click with that
// data when it is clicked. Without ScriptTag on the page the button does
// nothing.
//
// A click before BeeCloud's script has loaded is not lost: it waits for
// the beecloud:onready event, as BeeCloud's own click code does. Every
// click calls BC.click at most once, before or after the script has
// loaded; a double click is two calls, as it would be with the script
// loaded. The runtime hears clicks on the document, so a click handler of
// the page that calls preventDefault or stopPropagation stops the payment.
//
// A click never waits in silence for a script that will not come. When
// BeeCloud's script tag has failed (blocked by an ad blocker or a content
// security policy, a wrong URL, BeeCloud down), at any time before or
// after the click, the click gives up at once; otherwise it gives up
// c.ScriptTimeout after the click ([DefaultScriptTimeout] if zero). While
// a click waits, the button has data-beecloud-state="loading" and
// aria-busy="true", shown by a spinner; giving up, the state is "error",
// a message for the buyer in Chinese (what went wrong, what to do) appears
// right after the button in a <span class="beecloud-message"
// role="alert">, and the developer's message, naming the cause, goes to
// console.error and, with [Config.ClickScript], to the Err callback. The
// default look has zero specificity, so a page restyles it with plain
// selectors:
//
//	.beecloud-button[data-beecloud-state=loading] { opacity: .6; }
//	.beecloud-message { color: #a61b1b; }
//
// A script that arrives after a click gave up does not call BC.click for
// that click; the buyer's next click pays.
//
// The button's id is "beecloud-" + o.OutTradeNo + "-" + 16 random hex
// digits, and it carries the class "beecloud-button" for styling, so
// several buttons on a page, even for the same order, never collide. An
// order or Config that [Config.Params] refuses gives its error and no
// HTML. For callbacks, or to use a button of your own, see
// [Config.ClickScript].
func (c Config) Button(label string, o Order) (template.HTML, error) {
	p, err := c.Params(o)
	if err != nil {
		return "", err
	}
	return c.button(newButtonID(p.OutTradeNo), label, p)
}

func (c Config) button(id, label string, p Params) (template.HTML, error) {
	settings, err := json.Marshal(&clickSettings{Params: p})
	if err != nil {
		return "", fmt.Errorf("beecloud: rendering button: %w", err)
	}
	return execute(buttonHTML, &buttonData{ID: id, Label: label, Settings: string(settings)}, 512+2*len(settings))
}

// scriptWait is c.ScriptTimeout in milliseconds, at least 1.
func (c Config) scriptWait() int64 {
	d := c.ScriptTimeout
	if d <= 0 {
		d = DefaultScriptTimeout
	}
	return max(d.Milliseconds(), 1)
}

// newButtonID returns a fresh id for a button of the order outTradeNo. The
// random part need not be secret, only distinct on one page.
func newButtonID(outTradeNo string) string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], rand.Uint64()) //nolint:gosec // G404: an element id, unique on one page, not a secret
	return "beecloud-" + outTradeNo + "-" + hex.EncodeToString(b[:])
}

// ClickScript returns what binds the click of the page's element with id
// elementID to BC.click with c.Params(o) and the functions cb names: a
// JSON data block, <script type="application/json"
// data-beecloud-for="ID">, that the browser never runs and that the page's
// click runtime ([Config.ScriptTag]) reads when that element, or anything
// inside it, is clicked. So it needs no CSP nonce, and it may stand
// anywhere in the page, before or after the element. A click behaves as
// on a [Config.Button]: it waits for BeeCloud's script, calls BC.click at
// most once, shows the loading and error states on the element and the
// buyer's message after it, and, when the script does not come, calls the
// function cb.Err names with {"ERROR": developer's message, "MESSAGE":
// buyer's message}. It does not stop the click's default action: use a
// <button type="button">, not a submit button or a link.
func (c Config) ClickScript(elementID string, o Order, cb Callbacks) (template.HTML, error) {
	var errs []error
	if elementID == "" {
		errs = append(errs, errors.New("beecloud: empty element id"))
	}
	errs = append(errs, cb.validate())
	p, err := c.Params(o)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	return c.clickScript(elementID, p, cb)
}

func (c Config) clickScript(id string, p Params, cb Callbacks) (template.HTML, error) {
	s := &clickSettings{Params: p, Err: cb.Err}
	if ev := (clickEvents{cb.DataError, cb.WxJsapiFinish, cb.WxJsapiSuccess, cb.WxJsapiFail}); ev != (clickEvents{}) {
		s.Events = &ev
	}
	return execute(clickBlockHTML, &clickBlockData{ID: id, Settings: s}, 1024)
}

// FuncMap returns template functions that render c's snippets, for
// html/template's Template.Funcs:
//
//	{{beecloudScript}}                               is c.ScriptTag()
//	{{beecloudScript .Nonce}}                        is c.ScriptTagNonce(.Nonce)
//	{{beecloudButton "支付" .Order}}                  is c.Button("支付", .Order)
//	{{beecloudClickScript "pay" .Order .Callbacks}}  is c.ClickScript("pay", .Order, .Callbacks)
//
// .Order may be an Order or a *Order. An error (an invalid order or
// nonce) stops the template's execution and is returned by Execute, so a
// page never shows a button that cannot pay. The functions are safe for
// concurrent use.
func (c Config) FuncMap() template.FuncMap {
	return template.FuncMap{
		"beecloudScript": func(nonce ...string) (template.HTML, error) {
			switch len(nonce) {
			case 0:
				return c.ScriptTag(), nil
			case 1:
				return c.ScriptTagNonce(nonce[0])
			}
			return "", fmt.Errorf("beecloud: beecloudScript takes at most one argument, the nonce; got %d", len(nonce))
		},
		"beecloudButton":      c.Button,
		"beecloudClickScript": c.ClickScript,
	}
}

// execute runs t with data. It is the one place this package makes
// template.HTML, and that is safe because t is an html/template parsed from
// constants: its contextual escaping has escaped every value in data for
// where it stands (text, attribute, URL or JavaScript), and no value is
// ever itself typed template.HTML, template.JS or template.URL.
func execute(t *template.Template, data any, sizeHint int) (template.HTML, error) {
	var b strings.Builder
	b.Grow(sizeHint)
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("beecloud: rendering %s: %w", t.Name(), err)
	}
	return template.HTML(b.String()), nil //nolint:gosec // G203: b is html/template's output, escaped for its context
}

// maxCallbackLen bounds a callback name; real ones are short.
const maxCallbackLen = 256

func (cb Callbacks) validate() error {
	var errs []error
	for _, f := range [...]struct{ field, name string }{
		{"DataError", cb.DataError},
		{"WxJsapiFinish", cb.WxJsapiFinish},
		{"WxJsapiSuccess", cb.WxJsapiSuccess},
		{"WxJsapiFail", cb.WxJsapiFail},
		{"Err", cb.Err},
	} {
		if f.name == "" {
			continue
		}
		if reason := checkCallback(f.name); reason != "" {
			errs = append(errs, fmt.Errorf("%w: %s %q: %s", ErrInvalidCallback, f.field, f.name, reason))
		}
	}
	return errors.Join(errs...)
}

// checkCallback says what is wrong with a callback name, or "" if nothing.
func checkCallback(name string) string {
	if len(name) > maxCallbackLen {
		return fmt.Sprintf("is longer than %d bytes", maxCallbackLen)
	}
	for _, part := range strings.Split(name, ".") {
		if part == "" {
			return "must be an identifier or a dotted path such as shop.onPayError"
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !(isAlnum(c) || c == '_' || c == '$') || i == 0 && '0' <= c && c <= '9' {
				return "must be an identifier or a dotted path of ASCII letters, digits, _ and $"
			}
		}
		if strings.HasPrefix(part, "__") {
			return fmt.Sprintf("must not use %q: names starting with __ are the runtime's", part)
		}
		if forbiddenCallbackNames[part] {
			return fmt.Sprintf("must not use %q: it is a reserved word or turns strings into code", part)
		}
	}
	return ""
}

// forbiddenCallbackNames are JavaScript's reserved words and the names
// that reach functions which run a string as code: BeeCloud passes its
// callbacks messages that may echo order data.
var forbiddenCallbackNames = map[string]bool{
	"eval": true, "Function": true, "constructor": true, "prototype": true,
	"setTimeout": true, "setInterval": true, "setImmediate": true,
	"execScript": true, "AsyncFunction": true, "GeneratorFunction": true,

	"await": true, "break": true, "case": true, "catch": true, "class": true,
	"const": true, "continue": true, "debugger": true, "default": true,
	"delete": true, "do": true, "else": true, "enum": true, "export": true,
	"extends": true, "false": true, "finally": true, "for": true,
	"function": true, "if": true, "implements": true, "import": true,
	"in": true, "instanceof": true, "interface": true, "let": true,
	"new": true, "null": true, "package": true, "private": true,
	"protected": true, "public": true, "return": true, "static": true,
	"super": true, "switch": true, "this": true, "throw": true, "true": true,
	"try": true, "typeof": true, "var": true, "void": true, "while": true,
	"with": true, "yield": true,
}
