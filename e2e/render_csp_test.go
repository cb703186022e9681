package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	b.Open(s.URL)
	// The script is held for the whole test: a page that waited for it
	// would never get past "loading", and WaitJS would fail.
	b.WaitJS(`document.readyState !== "loading" && !!document.getElementById("own")`)
	parsed := Eval[float64](b, `performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd`)
	t.Logf("DOMContentLoaded %.0f ms after navigation, with the script still hanging", parsed)
	assert.Equal(t, "Hanging host", Eval[string](b, `document.querySelector("h1").textContent`), "the page's heading")
	require.Equal(t, "undefined", Eval[string](b, `typeof BC`), "typeof BC: the test needs the script held back")

	b.Click("#own")
	b.WaitJS(`window.__errs.length > 0`)
	errs := Eval[[]stubErr](b, `window.__errs`)
	took := time.Duration(errs[0].After * float64(time.Millisecond))
	t.Logf("Err after %v: %s", took.Round(time.Millisecond), errs[0].Err["ERROR"])
	assert.GreaterOrEqual(t, took, timeout, "Err came %v after the click; want it no sooner than ScriptTimeout", took)
	assert.Contains(t, errs[0].Err["ERROR"], "has not loaded 1.5 s after the click", "Err's ERROR: want it to say the script has not loaded")
	b.Screenshot("pay-page-script-hanging")
	assert.Empty(t, b.Exceptions(), "uncaught exceptions")
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
		assert.Contains(t, Eval[[]stubErr](b, `window.__errs`)[0].Err["ERROR"], "failed to load from", "Err's ERROR: want it to say the script failed to load")
		checkOneRuntime(t, b)
		checkNoViolations(t, b)
	})

	t.Run("control without the nonce", func(t *testing.T) {
		s := newStubShop(t, data)
		s.StrictCSP(true)
		b := NewBrowser(t)
		b.Navigate(s.URL)
		b.WaitJS(`window.__csp.length >= 2`)
		assert.False(t, Eval[bool](b, `!!window.__beecloud || typeof BC !== "undefined"`),
			"the runtime or BeeCloud's script ran without the nonce: the policy is not enforced, so the test proves nothing")
		assert.Contains(t, strings.Join(b.Logs(), "\n"), "Content Security Policy", "browser log: want it to report the violations, as checkNoViolations expects")
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
	assert.Equal(t, map[string]int{"runtimes": 1, "tags": 1, "executable": 3}, got,
		"scripts: want 1 runtime, 1 BeeCloud tag and 3 executable scripts (the page's, the runtime, the tag)")
}

// checkNoViolations fails if the page saw a securitypolicyviolation event
// or the browser logged a Content Security Policy message.
func checkNoViolations(t *testing.T, b *Browser) {
	t.Helper()
	assert.Empty(t, Eval[[]string](b, `window.__csp`), "securitypolicyviolation events")
	for _, l := range b.Logs() {
		assert.NotContains(t, l, "Content Security Policy", "browser log")
	}
	for _, l := range b.Console() {
		assert.NotContains(t, l, "Content Security Policy", "console")
	}
}
