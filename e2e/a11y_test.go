package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paybutton/beecloud/examples/checkout/shop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// axeScript returns axe-core's browser script, from $BEECLOUD_AXE or
// e2e/node_modules/axe-core/axe.min.js ("npm install" in e2e/ installs
// it), and skips the test without it. Under CI=true with
// BEECLOUD_REQUIRE_AXE=1 it fails instead.
func axeScript(t *testing.T) string {
	t.Helper()
	src := axeScriptOrEmpty()
	if src == "" {
		msg := "e2e: no axe-core: run npm install in e2e/ or set BEECLOUD_AXE to axe.min.js"
		if os.Getenv("CI") == "true" && os.Getenv("BEECLOUD_REQUIRE_AXE") == "1" {
			require.Fail(t, msg)
		}
		t.Skip(msg)
	}
	return src
}

// axeScriptOrEmpty is axe-core's script, or "" when it is not installed,
// for tests that check accessibility on the way: checkAxe then does
// nothing.
func axeScriptOrEmpty() string {
	path := os.Getenv("BEECLOUD_AXE")
	if path == "" {
		path = filepath.Join("node_modules", "axe-core", "axe.min.js")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(src)
}

// axeViolation is one rule that axe-core found broken, with up to five of
// the elements that break it.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// checkAxe runs axe-core on the page in b and fails for every violation
// of the WCAG 2.1 A and AA rules and axe's best practices.
func checkAxe(t *testing.T, b *Browser, axe, page string) {
	t.Helper()
	if axe == "" {
		return
	}
	if !Eval[bool](b, `typeof axe !== "undefined"`) {
		Eval[bool](b, axe+"\n;true")
	}
	vs := EvalAsync[[]axeViolation](b, `axe.run(document, {resultTypes: ["violations"]}).then(function (r) {
		return r.violations.map(function (v) {
			return {id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(function (n) {
				return n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " ");
			})};
		});
	})`)
	for _, v := range vs {
		assert.Failf(t, "axe violation", "%s: axe %s (%s): %s\n\t%s", page, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
	}
}

// TestAccessibility walks the checkout example's pages and the sandbox's,
// at 1280×800 and as a phone (390×844), checks each with axe-core, and
// screenshots it as ui-<page>-<view>.png: into out/docs, or into docs/
// with -update-docs.
func TestAccessibility(t *testing.T) {
	axe := axeScript(t)
	for _, view := range []struct {
		name string
		set  func(*Browser)
	}{
		{"desktop", viewDesktop},
		{"phone", viewPhone},
	} {
		t.Run(view.name, func(t *testing.T) {
			o := startCheckout(t, shop.Config{})
			b := newBrowser(t, 4*time.Minute) // a dozen pages, each checked by axe

			view.set(b)
			page := func(name string) {
				t.Helper()
				checkAxe(t, b, axe, name)
				screenshotDoc(t, b, "ui-"+name+"-"+view.name)
			}

			b.Navigate(o.URL + "/")
			page("shop")
			b.Navigate(o.URL + "/no-such-page")
			page("shop-404")

			buyCheckout(b, o, "tea")
			page("pay")
			// A browser hides a script's nonce attribute once a policy is in
			// force, keeping the value in the nonce property.
			assert.True(t, Eval[bool](b, `(function (s) { return s.nonce.length >= 16 && s.getAttribute("nonce") === ""; })(document.getElementById("spay-script"))`),
				"pay page: want a Content-Security-Policy in force and BeeCloud's tag carrying its nonce")
			b.Click("#pay-order")
			sandboxMenu(b)
			page("sandbox-menu")
			b.Click(`#beecloud-sandbox-menu [data-channel="ali"]`)
			b.WaitVisible("#pay")
			page("sandbox-pay")
			b.Click("#pay")
			b.WaitVisible("#state")
			waitPaidPage(b)
			page("result")

			b.Navigate(o.URL + shop.AdminPath)
			page("admin")

			// WeChat's QR code page (a desktop's: a phone's menu has no QR
			// code channel, and its product button is for desktops), and
			// the sandbox's own result page, where a failed payment ends.
			if view.name == "desktop" {
				buyCheckout(b, o, "mug")
				b.Click("#pay-order-wxmp")
				b.WaitVisible("#qr")
				page("sandbox-qr")
			} else {
				buyCheckout(b, o, "mug")
				b.Click("#pay-order")
				b.Click(`#beecloud-sandbox-menu [data-channel="un"]`)
				b.WaitVisible("#fail")
			}
			b.Click("#fail")
			b.WaitVisible("#result")
			page("sandbox-result")

			b.Navigate(o.Sandbox.URL)
			b.WaitVisible("#bills")
			page("sandbox-dashboard")

			// The pay page runs under a nonce-only script-src: the walk
			// through it must not have tripped it.
			for _, l := range b.Logs() {
				assert.NotContains(t, l, "Content Security Policy", "browser log")
			}
		})
	}
}
