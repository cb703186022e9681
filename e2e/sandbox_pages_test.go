package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/paybutton/beecloud"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docsDir is where the screenshots the README shows are kept; a test run
// writes them there only with -update-docs, and into out/docs otherwise,
// so that tests change no tracked file.
const docsDir = "../docs"

var updateDocs = flag.Bool("update-docs", false, "write the README's screenshots into docs/ rather than out/docs/")

// screenshotDoc saves the visible page as name.png, for the README.
func screenshotDoc(t *testing.T, b *Browser, name string) {
	t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err, "e2e: screenshot")
	dir := docsDir
	if !*updateDocs {
		dir = filepath.Join(outDir, "docs")
		require.NoError(t, os.MkdirAll(dir, 0o755), "e2e: screenshot directory")
	}
	path := filepath.Join(dir, name+".png")
	require.NoError(t, os.WriteFile(path, png, 0o644), "e2e: writing %s", path)
	t.Logf("screenshot: %s", path)
}

// overflowing lists the elements that stick out of the viewport sideways,
// and the document if it scrolls sideways.
func overflowing(b *Browser) []string {
	return Eval[[]string](b, `(function () {
		var out = [], w = document.documentElement.clientWidth;
		if (document.documentElement.scrollWidth > w) out.push("document: scrollWidth " + document.documentElement.scrollWidth + " > " + w);
		document.querySelectorAll("body *").forEach(function (e) {
			var r = e.getBoundingClientRect();
			if (r.width === 0 && r.height === 0) return;
			if (r.left < -0.5 || r.right > w + 0.5) {
				out.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && e.className.baseVal === undefined ? "." + e.className.split(" ").join(".") : "") +
					": " + Math.round(r.left) + ".." + Math.round(r.right));
			}
		});
		return out;
	})()`)
}

// lineCounts returns on how many lines the text of each element matching
// selector is laid out.
func lineCounts(b *Browser, selector string) []int {
	return Eval[[]int](b, fmt.Sprintf(`Array.from(document.querySelectorAll(%q), function (e) {
		var r = document.createRange(), tops = {};
		r.selectNodeContents(e);
		Array.from(r.getClientRects()).forEach(function (x) { if (x.width > 0) tops[Math.round(x.top)] = true; });
		return Object.keys(tops).length;
	})`, selector))
}

// checkLayout fails if anything is wider than the viewport, or if the
// text of an element matching oneLine wraps.
func checkLayout(t *testing.T, b *Browser, page string, oneLine ...string) {
	t.Helper()
	assert.Empty(t, overflowing(b), "%s: elements wider than the viewport", page)
	for _, sel := range oneLine {
		counts := lineCounts(b, sel)
		assert.NotEmpty(t, counts, "%s: no element matches %s", page, sel)
		for i, n := range counts {
			assert.Equal(t, 1, n, "%s: lines of %s #%d", page, sel, i)
		}
	}
}

// fixedOrder is the order of the screenshots: the same every run.
func fixedOrder() beecloud.Order {
	return beecloud.Order{Title: "年度会员", Amount: 19900, OutTradeNo: "7d3f9a2c51e84b0c9e6a1f4d2b8c0e35"}
}

// TestSandboxPayFlowLayouts walks the pay flow at 1280×800 and as a phone
// (390×844, a phone's user agent, touch), measures each page through the
// DOM, and writes the README's screenshots.
func TestSandboxPayFlowLayouts(t *testing.T) {
	for _, view := range []struct {
		name  string
		set   func(*Browser)
		sub   string
		sheet string // the menu's align-items: centred modal or bottom sheet
		kinds string // how each channel of the menu pays, in words
	}{
		{"desktop", viewDesktop, "ALI_WEB", "center", "网页支付,扫码支付,网页支付"},
		// A phone's menu has no QR code channel.
		{"phone", viewPhone, "ALI_WAP", "flex-end", "手机网页支付,网页支付"},
	} {
		t.Run(view.name, func(t *testing.T) {
			sb := newTestSandbox(t, beecloud.ChannelAli, beecloud.ChannelWxMP, beecloud.ChannelUN)
			o := fixedOrder()
			s := newSandboxShop(t, sb, sandboxConfig, o, false)
			b := NewBrowser(t)
			view.set(b)
			b.Navigate(s.URL)
			b.Click(".beecloud-button")
			sandboxMenu(b)
			assert.Equal(t, view.sheet, Eval[string](b, `getComputedStyle(document.querySelector("#beecloud-sandbox-menu")).alignItems`), "menu: align-items")
			// Buyers read channel names and how they pay, never codes.
			subs := Eval[string](b, `Array.from(document.querySelectorAll("#beecloud-sandbox-menu .bcs-sub"), e => e.textContent).join(",")`)
			assert.Equal(t, view.kinds, subs, "menu: kinds; want words, not channel codes")
			checkLayout(t, b, "menu")
			if view.name == "desktop" {
				screenshotDoc(t, b, "sandbox-menu")
			} else {
				screenshotDoc(t, b, "sandbox-menu-phone")
			}

			b.Click(`[data-channel="ali"]`)
			b.WaitVisible("#pay")
			assert.Equal(t, view.sub, Eval[string](b, `document.getElementById("bill").dataset.sub`), "pay page: channel")
			assert.NotContains(t, Eval[string](b, `document.querySelector(".bcs-brand").textContent`), "ALI_", "pay page: want the channel's name, not its code")
			checkLayout(t, b, "pay page", "#out-trade-no")
			screenshotDoc(t, b, "pay-"+view.name)

			b.Click("#pay")
			b.WaitVisible("#result")
			checkLayout(t, b, "result page", "#bill-no")
			assert.Equal(t, "支付成功", Eval[string](b, `document.querySelector("#result h1").textContent`), "result page: heading")
			assert.True(t, Eval[bool](b, `!!document.querySelector("#result svg.bcs-state-icon.bcs-ok")`), "result page: no SVG state icon")
			b.Screenshot("sandbox-result-" + view.name)
			waitSandboxWebhook(t, sb, o, view.sub)

			// More bills, then the dashboard, where they are listed.
			for i := range 3 {
				d := o
				d.OutTradeNo = fmt.Sprintf("%s%02d", o.OutTradeNo[:30], i)
				_, err := sb.Pay(sandboxConfig.AppID, mustParams(t, d), beecloud.ChannelWxMP)
				require.NoError(t, err, "Sandbox.Pay(%s)", d.OutTradeNo)
			}
			b.Navigate(sb.URL)
			b.WaitVisible("#bills")
			checkLayout(t, b, "dashboard", "#bills .bcs-no", "#webhooks .bcs-no")
			states := Eval[string](b, `Array.from(document.querySelectorAll("#bills .bcs-tag"), e => e.textContent).join(",")`)
			assert.Equal(t, "已支付,已支付,已支付,已支付", states, "dashboard states: want Chinese states")
			b.Screenshot("sandbox-dashboard-" + view.name)
		})
	}
}

// EvalAsync evaluates the JavaScript expression, a promise, in b's page
// and decodes the JSON value it resolves to into a T.
func EvalAsync[T any](b *Browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	require.NoError(b.t, err, "e2e: evaluating %s", expr)
	return v
}

func mustParams(t *testing.T, o beecloud.Order) beecloud.Params {
	t.Helper()
	p, err := sandboxConfig.Params(o)
	require.NoError(t, err, "Config.Params")
	return p
}

// TestSandboxQRCodeHint checks that a phone is not asked to scan a QR
// code on its own screen, while a desktop is asked to scan it with one.
func TestSandboxQRCodeHint(t *testing.T) {
	for _, view := range []struct {
		name, want, wantNot string
		set                 func(*Browser)
	}{
		{"desktop", "请用手机微信扫描", "另一部手机", viewDesktop},
		{"phone", "另一部手机", "请用手机", viewPhone},
	} {
		t.Run(view.name, func(t *testing.T) {
			sb := newTestSandbox(t, beecloud.ChannelWxMP)
			o := newSandboxOrder()
			o.InstantChannel = beecloud.ChannelWxMP
			s := newSandboxShop(t, sb, sandboxConfig, o, false)
			b := NewBrowser(t)
			view.set(b)
			b.Navigate(s.URL)
			b.Click(".beecloud-button")
			b.WaitVisible("#qr")
			hint := Eval[string](b, `document.getElementById("qr-status").textContent`)
			assert.Contains(t, hint, view.want, "QR hint")
			assert.NotContains(t, hint, view.wantNot, "QR hint")
			checkLayout(t, b, "QR page", "#out-trade-no")
			b.Screenshot("sandbox-qr-" + view.name)
		})
	}
}

// TestSandboxMenuDialog checks the channel menu against the WAI-ARIA
// dialog pattern: focus moves in and stays in, Escape closes it, focus
// goes back to the pay button, and the page behind does not scroll.
func TestSandboxMenuDialog(t *testing.T) {
	sb := newTestSandbox(t, beecloud.ChannelAli, beecloud.ChannelWxMP, beecloud.ChannelUN)
	s := newSandboxShop(t, sb, sandboxConfig, newSandboxOrder(), false)
	b := NewBrowser(t)
	viewDesktop(b)
	b.Navigate(s.URL)
	b.Click(".beecloud-button")
	sandboxMenu(b)
	b.WaitJS(`document.activeElement && document.activeElement.dataset.channel === "ali"`)
	assert.Equal(t, "dialog,true,选择支付方式", Eval[string](b, `(s => s.getAttribute("role") + "," + s.getAttribute("aria-modal") + "," + document.getElementById(s.getAttribute("aria-labelledby")).textContent)(document.querySelector("#beecloud-sandbox-menu .bcs-sheet"))`),
		"sheet: role,aria-modal,label")
	assert.Equal(t, "hidden", Eval[string](b, `getComputedStyle(document.documentElement).overflow`), "page behind the menu: overflow")
	focused := func() string {
		return Eval[string](b, `(e => e.dataset.channel || e.dataset.action || e.tagName)(document.activeElement)`)
	}
	// Tab walks the channels and the close button (first in the
	// document, at the top), and wraps.
	var order []string
	for range 5 {
		b.Do(chromedp.KeyEvent(kb.Tab))
		order = append(order, focused())
	}
	assert.Equal(t, "wxmp,un,close,ali,wxmp", strings.Join(order, ","), "Tab order")
	order = nil
	for range 3 {
		b.Do(chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift)))
		order = append(order, focused())
	}
	assert.Equal(t, "ali,close,un", strings.Join(order, ","), "Shift+Tab order")
	b.Do(chromedp.KeyEvent(kb.Escape))
	b.WaitJS(`!document.getElementById("beecloud-sandbox-menu")`)
	if !Eval[bool](b, `document.activeElement === document.querySelector(".beecloud-button")`) {
		assert.Fail(t, "after Escape: focus on "+focused()+"; want the pay button")
	}
	assert.Equal(t, "visible", Eval[string](b, `getComputedStyle(document.documentElement).overflow`), "after closing: overflow")
	// The close button and a click on the backdrop close it too.
	b.Click(".beecloud-button")
	sandboxMenu(b)
	b.Click(`#beecloud-sandbox-menu [data-action="close"]`)
	b.WaitJS(`!document.getElementById("beecloud-sandbox-menu") && document.activeElement === document.querySelector(".beecloud-button")`)
	assert.Empty(t, sb.Bills(), "closing the menu made a bill")
}

// TestSandboxBackAfterPaying goes back to the pay page after paying: the
// page must show that the bill is paid, and a button pressed on a stale
// copy must get a page that says what happened.
func TestSandboxBackAfterPaying(t *testing.T) {
	sb := newTestSandbox(t, beecloud.ChannelAli)
	o := newSandboxOrder()
	s := newSandboxShop(t, sb, sandboxConfig, o, false)
	s.order.ReturnURL = s.URL + "/done"
	b := NewBrowser(t)
	viewDesktop(b)
	b.Navigate(s.URL)
	b.Click(".beecloud-button")
	b.Click(`[data-channel="ali"]`)
	b.WaitVisible("#pay")
	b.Click("#pay")
	b.WaitVisible("#done")

	b.Do(chromedp.NavigateBack())
	b.WaitJSAcrossLoads(`document.getElementById("settled") !== null`)
	assert.Contains(t, Eval[string](b, `document.getElementById("settled").textContent`), "已支付", "pay page after Back: want it to say the bill is paid")
	assert.False(t, Eval[bool](b, `!!document.getElementById("fail")`), "pay page after Back still offers 支付失败")
	// "reload" when the page came from the back-forward cache and its
	// pageshow handler loaded it again, "back_forward" when Chromium
	// loaded it afresh.
	t.Logf("pay page after Back: navigation type %s", Eval[string](b, `performance.getEntriesByType("navigation")[0].type`))
	b.Screenshot("sandbox-back-after-paying")

	// A copy of a pay page that still shows the buttons, as one restored
	// without reloading would: its bill is paid behind its back, as from
	// another tab, and then the buyer presses 支付失败.
	s.order = newSandboxOrder()
	b.Navigate(s.URL)
	b.Click(".beecloud-button")
	b.Click(`[data-channel="ali"]`)
	b.WaitVisible("#fail")
	id := Eval[string](b, `document.getElementById("bill").dataset.bill`)
	require.Equal(t, 200, EvalAsync[int](b, `fetch("/sandbox/pay/`+id+`/pay", {method: "POST", headers: {Accept: "application/json"}}).then(r => r.status)`), "paying the bill from the page: status")
	b.Click("#fail")
	b.WaitVisible("#problem")
	assert.Equal(t, "settled: 这笔账单已支付", Eval[string](b, `document.getElementById("problem").dataset.problem + ": " + document.querySelector("#problem h1").textContent`), "支付失败 on a paid bill: want the settled page")
	assert.True(t, Eval[bool](b, `!!document.querySelector("#problem a#next") && getComputedStyle(document.body).backgroundColor === "rgb(242, 243, 245)"`), "the settled page is not styled or offers no way on")
	msg := Eval[string](b, `document.querySelector("#problem .bcs-message").textContent`)
	assert.Contains(t, msg, "支付成功", "the settled page: want it to say what happened")
	assert.Contains(t, msg, "北京时间", "the settled page: want it to say when (Beijing time)")
	b.Screenshot("sandbox-settled")
}

// TestSandboxErrorPages checks that each page a developer may reach by
// mistake is a styled page that says what happened, and that the sandbox
// has a favicon.
func TestSandboxErrorPages(t *testing.T) {
	sb := newTestSandbox(t)
	b := NewBrowser(t)
	viewPhone(b)
	for _, tc := range []struct{ path, problem, heading string }{
		{"/sandbox/pay/nosuchbill", "no-bill", "找不到这笔账单"},
		{"/sandbox/result?bill=nosuchbill", "no-bill", "找不到这笔账单"},
		{"/sandbox/result", "no-result", "没有支付结果"},
		{"/no/such/page", "not-found", "页面不存在"},
	} {
		b.Navigate(sb.URL + tc.path)
		b.WaitVisible("#problem")
		got := Eval[string](b, `document.getElementById("problem").dataset.problem + ": " + document.querySelector("#problem h1").textContent`)
		assert.Equal(t, tc.problem+": "+tc.heading, got, "%s: problem: heading", tc.path)
		assert.True(t, Eval[bool](b, `getComputedStyle(document.body).backgroundColor === "rgb(242, 243, 245)" && document.querySelector(".bcs-message").textContent.length > 10`), "%s: not styled, or says nothing", tc.path)
		checkLayout(t, b, tc.path)
	}
	b.Screenshot("sandbox-no-bill")
	assert.Equal(t, "200 image/svg+xml,200 image/svg+xml", EvalAsync[string](b, `Promise.all(["/favicon.ico", document.querySelector("link[rel=icon]").href].map(u => fetch(u).then(r => r.status + " " + r.headers.get("Content-Type")))).then(a => a.join(","))`), "favicon: status and type")
}

// TestSandboxDashboardLive keeps the dashboard open while bills are made
// and paid: it must show them without being reloaded.
func TestSandboxDashboardLive(t *testing.T) {
	sb := newTestSandbox(t, beecloud.ChannelAli)
	b := NewBrowser(t)
	viewDesktop(b)
	b.Navigate(sb.URL)
	b.WaitVisible("#bills")
	Eval[bool](b, `window.__sameDocument = true`)
	o := newSandboxOrder()
	start := time.Now()
	_, err := sb.Pay(sandboxConfig.AppID, mustParams(t, o), beecloud.ChannelAli)
	require.NoError(t, err, "Sandbox.Pay")
	b.WaitJS(`document.querySelector("#bills").textContent.includes("` + o.OutTradeNo + `") && document.querySelector("#webhooks").textContent.includes("已确认")`)
	t.Logf("the dashboard showed the payment and its webhook %v after it", time.Since(start).Round(time.Millisecond))
	assert.True(t, Eval[bool](b, `window.__sameDocument === true`), "the dashboard reloaded; want it to update in place")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = sb.WaitDelivery(ctx, o.OutTradeNo)
	require.NoError(t, err, "Sandbox.WaitDelivery(%q)", o.OutTradeNo)
	b.WaitJS(`document.querySelector("#webhooks").textContent.includes("已确认")`)
	tags := Eval[string](b, `Array.from(document.querySelectorAll("#dashboard .bcs-tag"), e => e.textContent).join(",")`)
	assert.Equal(t, "已支付,已确认", tags, "dashboard states")
	assert.Contains(t, Eval[string](b, `document.getElementById("dashboard").innerText`), "北京时间", "dashboard: want it to say its times are Beijing time")
	b.Screenshot("sandbox-dashboard-live")
}
