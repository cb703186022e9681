package shop

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// adminBrowser is a browser that opened the admin page: it holds the
// page's session cookie and form token.
type adminBrowser struct {
	base   string
	client *http.Client
	token  string
	page   string
}

var tokenRE = regexp.MustCompile(`name="token" value="([0-9a-f]{64})"`)

// openAdmin opens the admin page of the shop at base as a browser does.
func openAdmin(t *testing.T, base string) *adminBrowser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	a := &adminBrowser{base: base, client: &http.Client{Jar: jar}}
	a.reload(t)
	return a
}

func (a *adminBrowser) reload(t *testing.T) {
	t.Helper()
	resp, err := a.client.Get(a.base + AdminPath)
	require.NoError(t, err, "GET %s", AdminPath)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "admin page: %s", body)
	a.page = string(body)
	if m := tokenRE.FindStringSubmatch(a.page); m != nil {
		a.token = m[1]
	}
}

// post submits an admin form to AdminPath+path with the page's token, as
// the page's own forms do, and returns the status and where it ended.
func (a *adminBrowser) post(t *testing.T, path string, form url.Values) (int, *url.URL) {
	t.Helper()
	form.Set("token", a.token)
	req, _ := http.NewRequest(http.MethodPost, a.base+AdminPath+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", a.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := a.client.Do(req)
	require.NoError(t, err, "POST %s%s", AdminPath, path)
	resp.Body.Close()
	return resp.StatusCode, resp.Request.URL
}

// TestSandboxAdminRefusesForeignHosts checks that the open admin page of
// a sandbox shop answers only requests for a loopback host name: a page
// on the internet whose domain resolves to 127.0.0.1 (DNS rebinding)
// sends Host and Origin both naming its domain, which the cross-origin
// check alone lets through.
func TestSandboxAdminRefusesForeignHosts(t *testing.T) {
	o := startOfflineShop(t, Config{SweepEvery: -1})
	no := payInSandbox(t, o, "tea", beecloud.ChannelAli, false)
	eventually(t, "the webhook", func() bool { got, _ := o.Orders.Get(no); return got.State == StatePaid })
	port := strings.TrimPrefix(o.URL, "http://127.0.0.1:")
	admin := openAdmin(t, o.URL) // a session and a token, as a rebinding page cannot get them

	tests := []struct {
		host string
		want int
	}{
		{"evil.example:" + port, http.StatusForbidden},
		{"evil.example", http.StatusForbidden},
		{"127.0.0.1.evil.example:" + port, http.StatusForbidden},
		{"localhost.evil.example:" + port, http.StatusForbidden},
		{"10.0.0.1:" + port, http.StatusForbidden},
		{"127.0.0.1:" + port, http.StatusOK},
		{"127.1.2.3:" + port, http.StatusOK},
		{"localhost:" + port, http.StatusOK},
		{"LOCALHOST", http.StatusOK},
		{"[::1]:" + port, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			page, _ := http.NewRequest(http.MethodGet, o.URL+AdminPath, nil)
			page.Host = tt.host
			assert.Equal(t, tt.want, roundTrip(t, page), "GET /admin with Host %s", tt.host)
			if tt.want == http.StatusOK {
				return
			}
			form := url.Values{"out_trade_no": {no}, "amount": {"0.01"}, "token": {admin.token}}
			refund, _ := http.NewRequest(http.MethodPost, o.URL+AdminPath+"/refund", strings.NewReader(form.Encode()))
			refund.Host = tt.host
			refund.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			refund.Header.Set("Origin", "http://"+tt.host)
			for _, c := range admin.client.Jar.Cookies(&url.URL{Scheme: "http", Host: strings.TrimPrefix(o.URL, "http://"), Path: AdminPath}) {
				refund.AddCookie(c)
			}
			assert.Equal(t, http.StatusForbidden, roundTrip(t, refund), "POST /admin/refund with Host and Origin %s", tt.host)
		})
	}
	assert.Empty(t, o.Sandbox.Refunds(), "the sandbox's refunds")
}

func roundTrip(t *testing.T, req *http.Request) int {
	t.Helper()
	resp, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err, "%s %s", req.Method, req.URL.Path)
	resp.Body.Close()
	return resp.StatusCode
}

// TestAdminRefundNeedsSessionToken checks that a refund POST needs the
// token of the browser's own admin session, not just a same-origin
// header: a request forged without the page's token refunds nothing.
func TestAdminRefundNeedsSessionToken(t *testing.T) {
	o := startOfflineShop(t, Config{SweepEvery: -1})
	no := payInSandbox(t, o, "tea", beecloud.ChannelAli, false)
	eventually(t, "the webhook", func() bool { got, _ := o.Orders.Get(no); return got.State == StatePaid })
	admin := openAdmin(t, o.URL)
	other := openAdmin(t, o.URL)
	require.NotEmpty(t, admin.token, "the admin page's token")
	require.NotEqual(t, admin.token, other.token, "tokens: want one per session")
	form := func(token string) string {
		return url.Values{"out_trade_no": {no}, "amount": {"0.01"}, "token": {token}}.Encode()
	}
	cookies := admin.client.Jar.Cookies(&url.URL{Scheme: "http", Host: strings.TrimPrefix(o.URL, "http://"), Path: AdminPath})
	tests := []struct {
		name    string
		body    string
		cookies bool
		header  http.Header
	}{
		{"no token, no cookie", url.Values{"out_trade_no": {no}, "amount": {"0.01"}}.Encode(), false, nil},
		{"no cookie", form(admin.token), false, nil},
		{"no token", url.Values{"out_trade_no": {no}, "amount": {"0.01"}}.Encode(), true, nil},
		{"another session's token", form(other.token), true, nil},
		{"a token made up", form(strings.Repeat("0", 64)), true, nil},
		{"same-origin header alone", form(""), true, http.Header{"Sec-Fetch-Site": {"same-origin"}}},
		{"cross-site, with the token", form(admin.token), true, http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{"another origin, with the token", form(admin.token), true, http.Header{"Origin": {"http://evil.example"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, o.URL+AdminPath+"/refund", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tt.header {
				req.Header[k] = v
			}
			if tt.cookies {
				for _, c := range cookies {
					req.AddCookie(c)
				}
			}
			assert.Equal(t, http.StatusForbidden, roundTrip(t, req), "POST %s/refund", AdminPath)
		})
	}
	got, _ := o.Orders.Get(no)
	require.Empty(t, got.Refunds, "the order's refunds")
	require.Empty(t, o.Sandbox.Refunds(), "the sandbox's refunds")
	code, end := admin.post(t, "/refund", url.Values{"out_trade_no": {no}, "amount": {"0.01"}})
	assert.Equal(t, http.StatusOK, code, "the admin's own form: ended at %s", end)
	assert.NotEmpty(t, end.Query().Get("done"), "the admin's own form: ended at %s; want the refund asked", end)
	assert.Len(t, o.Sandbox.Refunds(), 1, "the sandbox's refunds")
}

// TestAdminUnknownRefund checks that a refund whose answer is lost is
// shown as unknown, with a button to check it again and none to refund
// its money again, and that checking settles it once BeeCloud has it.
func TestAdminUnknownRefund(t *testing.T) {
	o := startOfflineShop(t, Config{SweepEvery: -1, RefundTimeout: 2 * time.Second})
	// WeChat sends no refund webhook: only the check settles the refund.
	no := payInSandbox(t, o, "tea", beecloud.ChannelWxMP, false)
	eventually(t, "the webhook", func() bool { got, _ := o.Orders.Get(no); return got.State == StatePaid })
	admin := openAdmin(t, o.URL)

	// A gateway answers 502 before BeeCloud sees the refund.
	o.Sandbox.FailNext(beecloudtest.Fault{Method: "POST", Path: "/2/rest/refund", Status: 502})
	_, end := admin.post(t, "/refund", url.Values{"out_trade_no": {no}, "amount": {"1.50"}})
	msg := end.Query().Get("error")
	require.Contains(t, msg, "OUTCOME UNKNOWN", "refund: ended at %s", end)
	require.Contains(t, msg, "Do not refund again", "refund: ended at %s", end)
	got, _ := o.Orders.Get(no)
	require.Len(t, got.Refunds, 1, "order %+v: refunds", got)
	require.True(t, got.Refunds[0].Unknown, "order %+v: want the refund unknown", got)
	require.Zero(t, got.Refundable(), "order %+v: Refundable()", got)
	refundNo := got.Refunds[0].RefundNo
	admin.reload(t)
	row := admin.page[strings.Index(admin.page, `id="order-`+no+`"`):]
	row = row[:strings.Index(row, "</tr>")]
	for _, want := range []string{"Outcome unknown", `action="/admin/refund/check"`, `value="` + refundNo + `"`, "Check again"} {
		assert.Contains(t, row, want, "the order's row")
	}
	assert.NotContains(t, row, `action="/admin/refund"`, "the order's row offers to refund again")

	// Not found yet: it stays unknown.
	_, end = admin.post(t, "/refund/check", url.Values{"refund_no": {refundNo}})
	msg = end.Query().Get("error")
	assert.Contains(t, msg, "no refund "+refundNo+" yet", "check: ended at %s", end)
	assert.Contains(t, msg, "Do not refund again", "check: ended at %s", end)
	got, _ = o.Orders.Get(no)
	assert.True(t, got.Refunds[0].Unknown, "a refund not found is no longer unknown")

	// The lost request reaches BeeCloud late: the check finds it.
	app := o.Sandbox.Apps()[0].Config
	late := &beecloud.Client{Config: app, BaseURL: o.Sandbox.URL}
	_, err := late.Refund(context.Background(), beecloud.RefundRequest{OutTradeNo: no, RefundNo: refundNo, Amount: 150})
	require.NoError(t, err, "Refund: the lost request, late")
	_, end = admin.post(t, "/refund/check", url.Values{"refund_no": {refundNo}})
	assert.Contains(t, end.Query().Get("done"), "BeeCloud has it", "check: ended at %s; want found", end)
	eventually(t, "the refund settled", func() bool { got, _ := o.Orders.Get(no); return !got.Refunds[0].Unknown && got.Refunded() == 150 })
	assert.Len(t, o.Sandbox.Refunds(), 1, "the sandbox's refunds")
}
