// The browser harness of the e2e tests: every test here drives a real
// headless Chromium with chromedp.
//
// NewBrowser(t) gives a test its own tab in one Chromium process that the
// package shares (started on first use, stopped by the TestMain below, so
// other test files of the package must not define one). The browser
// is /usr/bin/chromium, or $BEECLOUD_CHROMIUM if set, run with the flags
// the project's COMMON brief fixes and a fresh temporary user-data-dir.
// When the browser is missing the test is skipped with a message saying
// so, unless CI=true: then it fails, so CI never passes without a browser.
//
// A Browser fails its test at once (require) on any error, so tests read as steps:
//
//	b := NewBrowser(t)
//	b.Navigate(srv.URL)               // waits for the load event
//	b.Open(srv.URL)                   // does not (a script may be held back)
//	b.WaitVisible("#pay")
//	b.Click("#pay")                   // a real mouse click at the element
//	b.WaitJS(`window.__calls.length > 0`)
//	b.WaitJSAcrossLoads(`ready()`)    // the page may reload meanwhile
//	n := Eval[int](b, `window.__calls.length`)
//	b.Screenshot("paid")              // writes out/paid.png (gitignored)
//
// Every tab records the JavaScript dialogs (alert, confirm, prompt) that
// opened, dismissing each so the page goes on, the uncaught exceptions and
// the console messages: Dialogs, Exceptions and Console return them, and
// a failed test prints them and saves out/<test name>-failed.png. Logs
// returns what the browser itself logged (CSP violations among them).
// Each tab's actions time out after tabTimeout, and each WaitJS after
// waitTimeout.

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tabTimeout bounds everything one test does in its tab; waitTimeout bounds
// one WaitJS, so that a page that never gets there fails fast.
const (
	tabTimeout  = 60 * time.Second
	waitTimeout = 15 * time.Second
)

// outDir holds screenshots; the repository's .gitignore lists e2e/out/.
const outDir = "out"

var shared struct {
	once sync.Once
	ctx  context.Context // the first tab's context: NewContext on it opens tabs
	err  error
	stop func()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.stop != nil {
		shared.stop()
	}
	os.Exit(code)
}

// chromiumPath is the browser to run.
func chromiumPath() string {
	if p := os.Getenv("BEECLOUD_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

func startBrowser() {
	dir, err := os.MkdirTemp("", "beecloud-e2e-chromium-")
	if err != nil {
		shared.err = err
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath()),
		chromedp.UserDataDir(dir),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-sync", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	shared.stop = func() {
		cancel()
		cancelAlloc()
		os.RemoveAll(dir)
	}
	// The first Run starts the browser; it must not carry a timeout, which
	// would stop the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		shared.err = fmt.Errorf("starting %s: %w", chromiumPath(), err)
		return
	}
	shared.ctx = ctx
}

// Browser is one tab of the shared headless Chromium, owned by one test.
// It is not safe for concurrent use.
type Browser struct {
	t   testing.TB
	ctx context.Context

	mu         sync.Mutex
	dialogs    []string
	exceptions []string
	console    []string
	logs       []string
}

// NewBrowser opens a new tab for t and closes it when t ends. It skips t
// when the browser is missing, unless CI=true, when it fails t.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	return newBrowser(t, tabTimeout)
}

// newBrowser is NewBrowser for a test that walks many pages in its tab and
// needs more than tabTimeout in all.
func newBrowser(t testing.TB, timeout time.Duration) *Browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath()); err != nil {
		msg := fmt.Sprintf("e2e: no browser at %s (%v): install Debian's chromium package or set BEECLOUD_CHROMIUM", chromiumPath(), err)
		if os.Getenv("CI") == "true" {
			require.Fail(t, msg)
		}
		t.Skip(msg)
	}
	shared.once.Do(startBrowser)
	require.NoError(t, shared.err, "e2e")

	tab, closeTab := chromedp.NewContext(shared.ctx)
	ctx, cancel := context.WithTimeout(tab, timeout)
	b := &Browser{t: t, ctx: ctx}
	if err := chromedp.Listen(tab, b.onEvent); err != nil {
		closeTab()
		require.NoError(t, err, "e2e: opening a tab")
	}
	t.Cleanup(func() {
		if t.Failed() {
			b.report()
		}
		cancel()
		closeTab()
	})
	return b
}

// onEvent runs on chromedp's reading goroutine: it must not block or call
// into the tab, so it dismisses a dialog from another goroutine.
func (b *Browser) onEvent(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *page.EventJavascriptDialogOpening:
		b.dialogs = append(b.dialogs, fmt.Sprintf("%s: %s", ev.Type, ev.Message))
		go chromedp.Do(b.ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error { //nolint:errcheck // a dialog left open shows in b.dialogs
			_, err := cdp.Call(ctx, t, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			return err
		}))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		b.exceptions = append(b.exceptions, text)
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range ev.Args {
			if len(a.Value) > 0 {
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		b.console = append(b.console, string(ev.Type)+": "+strings.Join(parts, " "))
	case *cdplog.EventEntryAdded:
		b.logs = append(b.logs, string(ev.Entry.Source)+" "+string(ev.Entry.Level)+": "+ev.Entry.Text)
	}
}

// report logs what the page said and saves a screenshot of a failed test.
func (b *Browser) report() {
	b.mu.Lock()
	b.t.Logf("dialogs: %q\nexceptions: %q\nconsole: %q\nbrowser log: %q", b.dialogs, b.exceptions, b.console, b.logs)
	b.mu.Unlock()
	if png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot()); err == nil {
		assert.NoError(b.t, b.save(safeName(b.t.Name())+"-failed", png), "e2e: saving the failed test's screenshot")
	}
}

// Dialogs returns the JavaScript dialogs opened so far, as "type: message".
func (b *Browser) Dialogs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.dialogs...)
}

// Exceptions returns the page's uncaught JavaScript exceptions so far.
func (b *Browser) Exceptions() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.exceptions...)
}

// Console returns the page's console messages so far, as "type: args".
func (b *Browser) Console() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// Logs returns what the browser itself logged for the page so far (a
// content security policy's violations, failed loads), as
// "source level: text".
func (b *Browser) Logs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.logs...)
}

// Do runs chromedp actions in the tab.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, actions...), "e2e")
}

// Navigate loads url and waits for its load event.
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	b.Do(chromedp.Navigate(url))
}

// Open starts loading url and returns without waiting for the load event,
// for pages whose scripts are held back on purpose.
func (b *Browser) Open(url string) {
	b.t.Helper()
	b.Do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, page.Navigate, page.NavigateParams{URL: url})
		if err == nil && res.ErrorText != "" {
			err = fmt.Errorf("navigating to %s: %s", url, res.ErrorText)
		}
		return err
	}))
}

// WaitVisible waits until the element matching the CSS selector is visible.
func (b *Browser) WaitVisible(selector string) {
	b.t.Helper()
	b.Do(chromedp.WaitVisible(chromedp.CSS(selector)))
}

// Click clicks the element matching the CSS selector with the mouse, once
// it is visible. A node found in a document that a navigation then
// replaced is looked up again in the new one.
func (b *Browser) Click(selector string) {
	b.t.Helper()
	for try := 1; ; try++ {
		err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(selector)))
		if err != nil && try < 3 && strings.Contains(err.Error(), "Could not find node with given id") {
			continue
		}
		require.NoError(b.t, err, "e2e: clicking %s", selector)
		return
	}
}

// WaitJS waits until the JavaScript expression is truthy, for at most
// waitTimeout.
func (b *Browser) WaitJS(expr string) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(waitTimeout)))
	require.NoError(b.t, err, "e2e: waiting for %s", expr)
}

// WaitJSAcrossLoads waits, as WaitJS does, until the JavaScript
// expression is truthy, in whatever document the tab shows: when the page
// navigates or reloads meanwhile (a meta refresh, a script that sets
// location), it evaluates the expression again in the new document.
func (b *Browser) WaitJSAcrossLoads(expr string) {
	b.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			require.Failf(b.t, chromedp.ErrPollingTimeout.Error(), "e2e: waiting for %s across page loads", expr)
		}
		_, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(left)))
		switch {
		case err == nil:
			return
		case errors.Is(err, chromedp.ErrPollingTimeout) || b.ctx.Err() != nil:
			require.NoError(b.t, err, "e2e: waiting for %s across page loads", expr)
		}
		// The document went away under the poll: wait for the next one.
	}
}

// Eval evaluates the JavaScript expression in b's page and decodes its
// JSON value into a T.
func Eval[T any](b *Browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	require.NoError(b.t, err, "e2e: evaluating %s", expr)
	return v
}

// Screenshot saves the visible page as out/name.png.
func (b *Browser) Screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	require.NoError(b.t, err, "e2e: screenshot")
	assert.NoError(b.t, b.save(name, png), "e2e: saving the screenshot %s", name)
}

// save writes png as out/name.png.
func (b *Browser) save(name string, png []byte) error {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(outDir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return err
	}
	b.t.Logf("screenshot: e2e/%s", path)
	return nil
}

// safeName turns a test name into a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}
