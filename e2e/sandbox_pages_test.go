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
	if err != nil {
		t.Fatalf("e2e: screenshot: %v", err)
	}
	dir := docsDir
	if !*updateDocs {
		dir = filepath.Join(outDir, "docs")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("e2e: %v", err)
		}
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("e2e: %v", err)
	}
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
	if over := overflowing(b); len(over) != 0 {
		t.Errorf("%s: elements wider than the viewport: %q", page, over)
	}
	for _, sel := range oneLine {
		counts := lineCounts(b, sel)
		if len(counts) == 0 {
			t.Errorf("%s: no element matches %s", page, sel)
		}
		for i, n := range counts {
			if n != 1 {
				t.Errorf("%s: %s #%d is laid out on %d lines; want 1", page, sel, i, n)
			}
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
	}{
		{"desktop", viewDesktop, "ALI_WEB", "center"},
		{"phone", viewPhone, "ALI_WAP", "flex-end"},
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
			if got := Eval[string](b, `getComputedStyle(document.querySelector("#beecloud-sandbox-menu")).alignItems`); got != view.sheet {
				t.Errorf("menu: got align-items %q; want %q", got, view.sheet)
			}
			// Buyers read channel names and how they pay, never codes.
			subs := Eval[string](b, `Array.from(document.querySelectorAll("#beecloud-sandbox-menu .bcs-sub"), e => e.textContent).join(",")`)
			// A phone's menu has no QR code channel.
			if subs != "网页支付,扫码支付,网页支付" && subs != "手机网页支付,网页支付" {
				t.Errorf("menu: got kinds %q; want words, not channel codes", subs)
			}
			checkLayout(t, b, "menu")
			if view.name == "desktop" {
				screenshotDoc(t, b, "sandbox-menu")
			} else {
				screenshotDoc(t, b, "sandbox-menu-phone")
			}

			b.Click(`[data-channel="ali"]`)
			b.WaitVisible("#pay")
			if got := Eval[string](b, `document.getElementById("bill").dataset.sub`); got != view.sub {
				t.Errorf("pay page: got channel %q; want %q", got, view.sub)
			}
			if brand := Eval[string](b, `document.querySelector(".bcs-brand").textContent`); strings.Contains(brand, "ALI_") {
				t.Errorf("pay page: got %q; want the channel's name, not its code", brand)
			}
			checkLayout(t, b, "pay page", "#out-trade-no")
			screenshotDoc(t, b, "pay-"+view.name)

			b.Click("#pay")
			b.WaitVisible("#result")
			checkLayout(t, b, "result page", "#bill-no")
			if got := Eval[string](b, `document.querySelector("#result h1").textContent`); got != "支付成功" {
				t.Errorf("result page: got %q; want 支付成功", got)
			}
			if svg := Eval[bool](b, `!!document.querySelector("#result svg.bcs-state-icon.bcs-ok")`); !svg {
				t.Errorf("result page: no SVG state icon")
			}
			b.Screenshot("sandbox-result-" + view.name)
			waitSandboxWebhook(t, sb, o, view.sub)

			// More bills, then the dashboard, where they are listed.
			for i := range 3 {
				d := o
				d.OutTradeNo = fmt.Sprintf("%s%02d", o.OutTradeNo[:30], i)
				if _, err := sb.Pay(sandboxConfig.AppID, mustParams(t, d), beecloud.ChannelWxMP); err != nil {
					t.Fatal(err)
				}
			}
			b.Navigate(sb.URL)
			b.WaitVisible("#bills")
			checkLayout(t, b, "dashboard", "#bills .bcs-no", "#webhooks .bcs-no")
			states := Eval[string](b, `Array.from(document.querySelectorAll("#bills .bcs-tag"), e => e.textContent).join(",")`)
			if states != "已支付,已支付,已支付,已支付" {
				t.Errorf("dashboard states: got %q; want Chinese states", states)
			}
			b.Screenshot("sandbox-dashboard-" + view.name)
		})
	}
}

// EvalAsync evaluates the JavaScript expression, a promise, in b's page
// and decodes the JSON value it resolves to into a T.
func EvalAsync[T any](b *Browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("e2e: evaluating %s: %v", expr, err)
	}
	return v
}

func mustParams(t *testing.T, o beecloud.Order) beecloud.Params {
	t.Helper()
	p, err := sandboxConfig.Params(o)
	if err != nil {
		t.Fatal(err)
	}
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
			if !strings.Contains(hint, view.want) || strings.Contains(hint, view.wantNot) {
				t.Errorf("QR hint %q; want it to say %q and not %q", hint, view.want, view.wantNot)
			}
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
	if role := Eval[string](b, `(s => s.getAttribute("role") + "," + s.getAttribute("aria-modal") + "," + document.getElementById(s.getAttribute("aria-labelledby")).textContent)(document.querySelector("#beecloud-sandbox-menu .bcs-sheet"))`); role != "dialog,true,选择支付方式" {
		t.Errorf("sheet: got role,aria-modal,label %q; want dialog,true,选择支付方式", role)
	}
	if got := Eval[string](b, `getComputedStyle(document.documentElement).overflow`); got != "hidden" {
		t.Errorf("page behind the menu: got overflow %q; want hidden", got)
	}
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
	if got, want := strings.Join(order, ","), "wxmp,un,close,ali,wxmp"; got != want {
		t.Errorf("Tab order: got %s; want %s", got, want)
	}
	order = nil
	for range 3 {
		b.Do(chromedp.KeyEvent(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift)))
		order = append(order, focused())
	}
	if got, want := strings.Join(order, ","), "ali,close,un"; got != want {
		t.Errorf("Shift+Tab order: got %s; want %s", got, want)
	}
	b.Do(chromedp.KeyEvent(kb.Escape))
	b.WaitJS(`!document.getElementById("beecloud-sandbox-menu")`)
	if !Eval[bool](b, `document.activeElement === document.querySelector(".beecloud-button")`) {
		t.Errorf("after Escape: focus on %s; want the pay button", focused())
	}
	if got := Eval[string](b, `getComputedStyle(document.documentElement).overflow`); got != "visible" {
		t.Errorf("after closing: got overflow %q; want visible", got)
	}
	// The close button and a click on the backdrop close it too.
	b.Click(".beecloud-button")
	sandboxMenu(b)
	b.Click(`#beecloud-sandbox-menu [data-action="close"]`)
	b.WaitJS(`!document.getElementById("beecloud-sandbox-menu") && document.activeElement === document.querySelector(".beecloud-button")`)
	if len(sb.Bills()) != 0 {
		t.Errorf("closing the menu made a bill")
	}
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
	if got := Eval[string](b, `document.getElementById("settled").textContent`); !strings.Contains(got, "已支付") {
		t.Errorf("pay page after Back: got %q; want it to say the bill is paid", got)
	}
	if Eval[bool](b, `!!document.getElementById("fail")`) {
		t.Errorf("pay page after Back still offers 支付失败")
	}
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
	if got := EvalAsync[int](b, `fetch("/sandbox/pay/`+id+`/pay", {method: "POST", headers: {Accept: "application/json"}}).then(r => r.status)`); got != 200 {
		t.Fatalf("paying the bill from the page: got status %d", got)
	}
	b.Click("#fail")
	b.WaitVisible("#problem")
	if got := Eval[string](b, `document.getElementById("problem").dataset.problem + ": " + document.querySelector("#problem h1").textContent`); got != "settled: 这笔账单已支付" {
		t.Errorf("支付失败 on a paid bill: got %q; want the settled page", got)
	}
	if !Eval[bool](b, `!!document.querySelector("#problem a#next") && getComputedStyle(document.body).backgroundColor === "rgb(242, 243, 245)"`) {
		t.Errorf("the settled page is not styled or offers no way on")
	}
	if msg := Eval[string](b, `document.querySelector("#problem .bcs-message").textContent`); !strings.Contains(msg, "支付成功") || !strings.Contains(msg, "北京时间") {
		t.Errorf("the settled page says %q; want what happened, when (Beijing time)", msg)
	}
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
		if want := tc.problem + ": " + tc.heading; got != want {
			t.Errorf("%s: got %q; want %q", tc.path, got, want)
		}
		if !Eval[bool](b, `getComputedStyle(document.body).backgroundColor === "rgb(242, 243, 245)" && document.querySelector(".bcs-message").textContent.length > 10`) {
			t.Errorf("%s: not styled, or says nothing", tc.path)
		}
		checkLayout(t, b, tc.path)
	}
	b.Screenshot("sandbox-no-bill")
	if got := EvalAsync[string](b, `Promise.all(["/favicon.ico", document.querySelector("link[rel=icon]").href].map(u => fetch(u).then(r => r.status + " " + r.headers.get("Content-Type")))).then(a => a.join(","))`); got != "200 image/svg+xml,200 image/svg+xml" {
		t.Errorf("favicon: got %q", got)
	}
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
	if _, err := sb.Pay(sandboxConfig.AppID, mustParams(t, o), beecloud.ChannelAli); err != nil {
		t.Fatal(err)
	}
	b.WaitJS(`document.querySelector("#bills").textContent.includes("` + o.OutTradeNo + `") && document.querySelector("#webhooks").textContent.includes("已确认")`)
	t.Logf("the dashboard showed the payment and its webhook %v after it", time.Since(start).Round(time.Millisecond))
	if !Eval[bool](b, `window.__sameDocument === true`) {
		t.Errorf("the dashboard reloaded; want it to update in place")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := sb.WaitDelivery(ctx, o.OutTradeNo); err != nil {
		t.Fatal(err)
	}
	b.WaitJS(`document.querySelector("#webhooks").textContent.includes("已确认")`)
	tags := Eval[string](b, `Array.from(document.querySelectorAll("#dashboard .bcs-tag"), e => e.textContent).join(",")`)
	if tags != "已支付,已确认" {
		t.Errorf("dashboard states: got %q; want 已支付,已确认", tags)
	}
	if text := Eval[string](b, `document.getElementById("dashboard").innerText`); !strings.Contains(text, "北京时间") {
		t.Errorf("dashboard: %q; want it to say its times are Beijing time", text)
	}
	b.Screenshot("sandbox-dashboard-live")
}
