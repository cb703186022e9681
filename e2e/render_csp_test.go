package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
)

// TestPayPageRendersWhileScriptHangs holds BeeCloud's script back for the
// whole test, as a host that never answers would: the page, whose script
// tag stands in its head, must be parsed and painted at once, and a click
// must report the failure within ScriptTimeout.
func TestPayPageRendersWhileScriptHangs(t *testing.T) {
	const timeout = 1500 * time.Millisecond
	own := beecloud.Order{Title: "own button", Amount: 2, OutTradeNo: beecloud.NewOutTradeNo()}
	order := beecloud.Order{Title: "button", Amount: 1, OutTradeNo: beecloud.NewOutTradeNo()}
	s := newStubShop(t, stubPageData{
		Heading: "Hanging host", Label: "支付", Orders: []beecloud.Order{order},
		Own: &own, Callbacks: stubCallbacks, ScriptTimeout: timeout,
	})
	s.Hold()
	b := NewBrowser(t)
	opened := time.Now()
	b.Open(s.URL)
	b.WaitJS(`document.readyState !== "loading" && !!document.getElementById("own")`)
	if took := time.Since(opened); took > 2*time.Second {
		t.Errorf("the page took %v to be parsed with BeeCloud's script hanging; want it at once", took)
	}
	parsed := Eval[float64](b, `performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd`)
	t.Logf("DOMContentLoaded %.0f ms after navigation, with the script still hanging", parsed)
	if parsed > 1000 {
		t.Errorf("DOMContentLoaded came %.0f ms after navigation; want it not to wait for BeeCloud's script", parsed)
	}
	if h := Eval[string](b, `document.querySelector("h1").textContent`); h != "Hanging host" {
		t.Errorf("got heading %q; want the page's", h)
	}
	if typ := Eval[string](b, `typeof BC`); typ != "undefined" {
		t.Fatalf("typeof BC = %q; the test needs the script held back", typ)
	}

	b.Click("#own")
	b.WaitJS(`window.__errs.length > 0`)
	errs := Eval[[]stubErr](b, `window.__errs`)
	took := time.Duration(errs[0].After * float64(time.Millisecond))
	t.Logf("Err after %v: %s", took.Round(time.Millisecond), errs[0].Err["ERROR"])
	if took < timeout || took > timeout+time.Second {
		t.Errorf("Err came %v after the click; want it within [%v, %v]", took, timeout, timeout+time.Second)
	}
	if !strings.Contains(errs[0].Err["ERROR"], "has not loaded 1.5 s after the click") {
		t.Errorf("Err got %q; want it to say the script has not loaded", errs[0].Err["ERROR"])
	}
	b.Screenshot("pay-page-script-hanging")
	if e := b.Exceptions(); len(e) != 0 {
		t.Errorf("uncaught exceptions: %q", e)
	}
}

// TestButtonsUnderStrictCSP serves a page of ten buttons and one button
// of the page's own under Content-Security-Policy: script-src 'nonce-…'
// with no 'unsafe-inline' and no host: the runtime and BeeCloud's tag
// run by the nonce alone, once per page; each click calls BC.click once
// with its own order; a script that fails to load still reaches Err; and
// the browser reports no violation. A control page whose beecloudScript
// has no nonce proves that the policy is enforced.
func TestButtonsUnderStrictCSP(t *testing.T) {
	var orders []beecloud.Order
	for i := range 10 {
		orders = append(orders, beecloud.Order{Title: fmt.Sprintf("商品 %d", i+1), Amount: int64(100 + i), OutTradeNo: beecloud.NewOutTradeNo()})
	}
	own := beecloud.Order{Title: "own button", Amount: 2, OutTradeNo: beecloud.NewOutTradeNo()}
	data := stubPageData{Heading: "CSP", Label: "支付", Orders: orders, Own: &own, Callbacks: stubCallbacks, ScriptTimeout: 1500 * time.Millisecond}

	t.Run("clicks", func(t *testing.T) {
		s := newStubShop(t, data)
		s.StrictCSP(false)
		b := NewBrowser(t)
		b.Navigate(s.URL)
		b.WaitJS(`window.__stubDone`)
		checkOneRuntime(t, b)

		for i, o := range orders {
			b.Click(fmt.Sprintf("#b%d button", i))
			b.WaitJS(fmt.Sprintf(`window.__calls.length === %d`, i+1))
			got := stubCalls(b)
			checkStubData(t, s.cfg, got[i].Data, o)
		}
		b.Click("#own")
		b.WaitJS(`window.__calls.length === 11`)
		checkStubData(t, s.cfg, stubCalls(b)[10].Data, own)
		checkStubCallbacks(t, b, 10)
		checkNoViolations(t, b)
		checkNothingRan(t, b)
	})

	t.Run("script fails", func(t *testing.T) {
		s := newStubShop(t, data)
		s.StrictCSP(false)
		s.NotFound()
		b := NewBrowser(t)
		b.Navigate(s.URL)
		b.Click("#own")
		b.WaitJS(`window.__errs.length === 1`)
		if e := Eval[[]stubErr](b, `window.__errs`)[0].Err["ERROR"]; !strings.Contains(e, "failed to load from") {
			t.Errorf("Err got %q; want it to say the script failed to load", e)
		}
		checkOneRuntime(t, b)
		checkNoViolations(t, b)
	})

	t.Run("control without the nonce", func(t *testing.T) {
		s := newStubShop(t, data)
		s.StrictCSP(true)
		b := NewBrowser(t)
		b.Navigate(s.URL)
		b.WaitJS(`window.__csp.length >= 2`)
		if Eval[bool](b, `!!window.__beecloud || typeof BC !== "undefined"`) {
			t.Errorf("the runtime or BeeCloud's script ran without the nonce: the policy is not enforced, so the test proves nothing")
		}
		if !strings.Contains(strings.Join(b.Logs(), "\n"), "Content Security Policy") {
			t.Errorf("browser log %q; want it to report the violations, as checkNoViolations expects", b.Logs())
		}
	})
}

// checkOneRuntime fails unless the page holds exactly one copy of the
// click runtime and no script besides the page's own, the runtime and
// BeeCloud's tag.
func checkOneRuntime(t *testing.T, b *Browser) {
	t.Helper()
	got := Eval[map[string]int](b, `({
		runtimes: Array.prototype.filter.call(document.scripts, function (s) { return s.textContent.indexOf("window.__beecloud") >= 0; }).length,
		tags: document.querySelectorAll("script#spay-script").length,
		executable: Array.prototype.filter.call(document.scripts, function (s) { return !s.type || s.type === "text/javascript"; }).length
	})`)
	if got["runtimes"] != 1 || got["tags"] != 1 || got["executable"] != 3 {
		t.Errorf("got %v; want 1 runtime, 1 BeeCloud tag and 3 executable scripts (the page's, the runtime, the tag)", got)
	}
}

// checkNoViolations fails if the page saw a securitypolicyviolation event
// or the browser logged a Content Security Policy message.
func checkNoViolations(t *testing.T, b *Browser) {
	t.Helper()
	if v := Eval[[]string](b, `window.__csp`); len(v) != 0 {
		t.Errorf("securitypolicyviolation events: %q", v)
	}
	for _, l := range b.Logs() {
		if strings.Contains(l, "Content Security Policy") {
			t.Errorf("browser log: %s", l)
		}
	}
	for _, l := range b.Console() {
		if strings.Contains(l, "Content Security Policy") {
			t.Errorf("console: %s", l)
		}
	}
}
