package beecloud

import (
	"encoding/binary"
	"encoding/hex"
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
	// also called, with {"ERROR": "beecloud: …"} naming the cause, when a
	// click gives up waiting for BeeCloud's script (see [Config.Button]).
	Err string
}

// clickEvents is BC.click's event argument as names, in its JSON keys.
type clickEvents struct {
	DataError      string `json:"dataError,omitempty"`
	WxJsapiFinish  string `json:"wxJsapiFinish,omitempty"`
	WxJsapiSuccess string `json:"wxJsapiSuccess,omitempty"`
	WxJsapiFail    string `json:"wxJsapiFail,omitempty"`
}

// clickData is what clickJS and buttonHTML are executed with.
type clickData struct {
	ID     string // the element's, for the button's id attribute
	Label  string
	Params Params
	Script clickConfig
}

// clickConfig is the click script's settings, one JSON object: a single
// template value rather than one per setting, since each value costs the
// template a reflective call to its escaper.
type clickConfig struct {
	ID string `json:"id"`
	// Src is the script tag's src, to recognise its error event; Wait is
	// how long a click waits for the script, in milliseconds.
	Src  string `json:"src"`
	Wait int64  `json:"wait"`
	// Err names the Err callback; Events is nil when no event callback is
	// named, so that the script calls BC.click(data) exactly as BeeCloud's
	// own examples do.
	Err    string       `json:"err,omitempty"`
	Events *clickEvents `json:"events,omitempty"`
}

// scriptTagHTML is the dashboard's tag. html/template checks the URL's
// scheme (javascript: becomes #ZgotmplZ) and escapes it for the attribute.
var scriptTagHTML = template.Must(template.New("scriptTag").Parse(
	`<script id="spay-script" type="text/javascript" src="{{.}}"></script>`))

// clickJS binds one element's click to BC.click, at once if the element is
// there, else when the document has been parsed. It is BeeCloud's
// recommended click code (call BC.click, or wait for beecloud:onready)
// without its globals: every value reaches JavaScript through
// html/template's JS escaper, which marshals it with encoding/json and
// escapes <, >, &, U+2028 and U+2029, so no value can end the script or
// become code.
//
// A click before BeeCloud's script has defined BC waits for the
// beecloud:onready event; each waiting click settles once, through the
// flag done, so every click calls BC.click at most once however often the
// event fires. The data object is built afresh for each call in case
// BC.click changes it.
//
// A waiting click gives up when the script's element fires error (seen by
// a capturing listener on window, as the event does not bubble) or after
// Wait milliseconds; fail then marks the element and reports the cause to
// the Err callback and the console. The message is built from fixed text,
// the src and the wait: nothing in it comes from the order.
var clickJS = template.Must(template.New("clickScript").Parse(`<script>
(function () {
	var s = {{.Script}}, id = s.id, src = s.src, wait = s.wait, broken = "", waiting = [], abs;
	function fn(path) {
		var v = window, parts = path.split(".");
		for (var i = 0; i < parts.length && v != null; i++) v = v[parts[i]];
		if (typeof v === "function") return v;
		if (window.console) console.error("beecloud: " + path + " is not a function");
	}
	function pay() {
		var data = {{.Params}}, onErr, ev, k, f;
		if (s.err && (onErr = fn(s.err))) BC.err = onErr;
		if (!s.events) {
			BC.click(data);
			return;
		}
		ev = {};
		for (k in s.events) if (Object.prototype.hasOwnProperty.call(s.events, k) && (f = fn(s.events[k]))) ev[k] = f;
		BC.click(data, ev);
	}
	function state(s) {
		var el = document.getElementById(id);
		if (!el) return;
		if (s) el.setAttribute("data-beecloud-state", s);
		else el.removeAttribute("data-beecloud-state");
		if (s === "loading") el.setAttribute("aria-busy", "true");
		else el.removeAttribute("aria-busy");
	}
	function fail(msg) {
		state("error");
		if (window.console) console.error(msg);
		var onErr = s.err && fn(s.err);
		if (onErr) onErr({ERROR: msg});
	}
	function ours(el) {
		if (!abs) {
			var a = document.createElement("a");
			a.href = src;
			abs = a.href;
		}
		return !!el && el.tagName === "SCRIPT" && (el.id === "spay-script" || el.src === abs);
	}
	window.addEventListener("error", function (e) {
		if (!ours(e.target)) return;
		broken = "beecloud: BeeCloud's button script failed to load from " + e.target.src +
			": it was blocked (an ad blocker or a content security policy), not found, or the network failed";
		var w = waiting;
		waiting = [];
		for (var i = 0; i < w.length; i++) w[i](broken);
	}, true);
	function timedOut() {
		var tags = document.getElementsByTagName("script");
		for (var i = 0; i < tags.length; i++) {
			if (ours(tags[i])) {
				return "beecloud: BeeCloud's button script from " + tags[i].src + " has not loaded " +
					wait / 1000 + " s after the click: it may be blocked or the network is slow";
			}
		}
		return "beecloud: no script tag on the page loads BeeCloud's button script from " + src + ": add Config.ScriptTag";
	}
	function click() {
		if (typeof BC !== "undefined") {
			state("");
			pay();
			return;
		}
		if (broken) {
			fail(broken);
			return;
		}
		var done = false, timer;
		function settle() {
			if (done) return false;
			done = true;
			document.removeEventListener("beecloud:onready", ready, false);
			clearTimeout(timer);
			for (var i = 0; i < waiting.length; i++) if (waiting[i] === give) waiting.splice(i, 1);
			return true;
		}
		function ready() {
			if (!settle()) return;
			state("");
			pay();
		}
		function give(msg) {
			if (settle()) fail(msg);
		}
		document.addEventListener("beecloud:onready", ready, false);
		waiting.push(give);
		state("loading");
		timer = setTimeout(function () {
			if (typeof BC !== "undefined") ready();
			else give(timedOut());
		}, wait);
	}
	function bind() {
		var el = document.getElementById(id);
		if (el) el.addEventListener("click", click, false);
		else if (window.console) console.error("beecloud: no element with id " + id);
	}
	if (document.readyState === "loading" && !document.getElementById(id)) {
		document.addEventListener("DOMContentLoaded", bind, false);
	} else {
		bind();
	}
})();
</script>`))

// buttonHTML is a pay button followed by its click script.
var buttonHTML = template.Must(template.Must(clickJS.Clone()).New("button").Parse(
	`<button type="button" id="{{.ID}}" class="beecloud-button">{{.Label}}</button>{{template "clickScript" .}}`))

// ScriptTag returns the tag that loads BeeCloud's button script for c's
// app, as the dashboard gives it (APP → 设置 → 秒支付button):
//
//	<script id="spay-script" type="text/javascript" src="https://jspay.beecloud.cn/1/pay/jsbutton/returnscripts?appId=APP_ID"></script>
//
// The src is c.ScriptURL, or [DefaultScriptURL] if that is empty, with the
// query-escaped AppID added as appId (after & if ScriptURL already has a
// query). Put it once on a page, before or after the buttons.
func (c Config) ScriptTag() template.HTML {
	h, err := execute(scriptTagHTML, c.scriptSrc(), 192)
	if err != nil {
		// Unreachable: the template is fixed and its one value is a
		// string, which html/template always knows how to escape.
		return ""
	}
	return h
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
// text label (escaped, so any text is safe), followed by the inline script
// that calls BC.click with c.Params(o) when it is clicked. The page also
// needs [Config.ScriptTag].
//
// A click before BeeCloud's script has loaded is not lost: it waits for
// the beecloud:onready event, as BeeCloud's own click code does. Every
// click calls BC.click at most once, before or after the script has
// loaded; a double click is two calls, as it would be with the script
// loaded.
//
// A click never waits in silence for a script that will not come. It
// gives up when the script tag fires its error event (the script was
// blocked by an ad blocker or a content security policy, its URL is
// wrong, or BeeCloud is down) or c.ScriptTimeout after the click
// ([DefaultScriptTimeout] if zero), whichever is first; a script that
// failed before the button's script ran is noticed by the timeout. Giving
// up, it sets the button's data-beecloud-state attribute to "error" and
// logs a message naming the cause with console.error; with
// [Config.ClickScript] it also calls the Err callback with {"ERROR":
// message}. While a click waits, the attribute is "loading" (and
// aria-busy is "true"); it is removed when BC.click is called. A page can
// style both:
//
//	.beecloud-button[data-beecloud-state=loading] { cursor: progress; }
//	.beecloud-button[data-beecloud-state=error]::after { content: " 支付暂不可用"; }
//
// A script that arrives after a click gave up does not call BC.click for
// that click; the buyer's next click pays.
//
// The button's id is "beecloud-" + o.OutTradeNo + "-" + 16 random hex
// digits, and it carries the class "beecloud-button" for styling, so
// several buttons on a page, even for the same order, never collide; the
// script defines no global. An order or Config that [Config.Params]
// refuses gives its error and no HTML. For callbacks, or to use a button
// of your own, see [Config.ClickScript].
func (c Config) Button(label string, o Order) (template.HTML, error) {
	p, err := c.Params(o)
	if err != nil {
		return "", err
	}
	return c.button(newButtonID(p.OutTradeNo), label, p)
}

func (c Config) button(id, label string, p Params) (template.HTML, error) {
	d := &clickData{ID: id, Label: label, Params: p, Script: clickConfig{ID: id, Src: c.scriptSrc(), Wait: c.scriptWait()}}
	return execute(buttonHTML, d, 4096)
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

// ClickScript returns only the <script> that binds the click of the
// page's element with id elementID to BC.click with c.Params(o) and the
// functions cb names. Place it anywhere in the page: if the element is not
// there yet, the script binds it once the document has been parsed. It
// behaves as the script of [Config.Button] does: a click before BeeCloud's
// script has loaded waits for beecloud:onready, each click calls BC.click
// at most once, and a click whose script does not come gives up, marks
// the element with data-beecloud-state="error", and calls the function
// cb.Err names with {"ERROR": message}, the message naming the cause. It
// does not stop the click's default action: use a <button type="button">,
// not a submit button or a link.
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
	d := &clickData{ID: id, Params: p, Script: clickConfig{ID: id, Src: c.scriptSrc(), Wait: c.scriptWait(), Err: cb.Err}}
	if ev := (clickEvents{cb.DataError, cb.WxJsapiFinish, cb.WxJsapiSuccess, cb.WxJsapiFail}); ev != (clickEvents{}) {
		d.Script.Events = &ev
	}
	return execute(clickJS, d, 4096)
}

// FuncMap returns template functions that render c's snippets, for
// html/template's Template.Funcs:
//
//	{{beecloudScript}}                               is c.ScriptTag()
//	{{beecloudButton "支付" .Order}}                  is c.Button("支付", .Order)
//	{{beecloudClickScript "pay" .Order .Callbacks}}  is c.ClickScript("pay", .Order, .Callbacks)
//
// .Order may be an Order or a *Order. An error (an invalid order) stops
// the template's execution and is returned by Execute, so a page never
// shows a button that cannot pay. The functions are safe for concurrent
// use.
func (c Config) FuncMap() template.FuncMap {
	return template.FuncMap{
		"beecloudScript":      c.ScriptTag,
		"beecloudButton":      c.Button,
		"beecloudClickScript": c.ClickScript,
	}
}

// execute runs t with data. It is the one place this package makes
// template.HTML, and that is safe because t is an html/template parsed from
// a constant: its contextual escaping has escaped every value in data for
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
