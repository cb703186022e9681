package qrshop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"rsc.io/qr"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/paybutton/beecloud/examples/qrpay/qrshop"
)

func startOffline(t *testing.T, test bool) *qrshop.Offline {
	t.Helper()
	return startOfflineWith(t, qrshop.Config{}, test)
}

func startOfflineWith(t *testing.T, cfg qrshop.Config, test bool) *qrshop.Offline {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	off, err := qrshop.StartOffline(ln, cfg, test, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = off.Shutdown(context.Background()) })
	return off
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// buy presses 微信扫码支付 and returns the order's page path.
func buy(t *testing.T, off *qrshop.Offline) string {
	t.Helper()
	resp, err := noRedirect.Post(off.URL+"/orders", "application/x-www-form-urlencoded", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	return resp.Header.Get("Location")
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func status(t *testing.T, off *qrshop.Offline, no string) qrshop.Status {
	t.Helper()
	code, body := get(t, off.URL+"/orders/"+no+"/status")
	require.Equal(t, http.StatusOK, code, body)
	var s qrshop.Status
	require.NoError(t, json.Unmarshal([]byte(body), &s))
	return s
}

// modules reads the dark modules of the page's QR code back from its SVG
// path.
func modules(t *testing.T, page string) map[[2]int]bool {
	t.Helper()
	m := regexp.MustCompile(`\sd="([^"]*)"`).FindStringSubmatch(page)
	require.NotNil(t, m, "no QR path in the page")
	dark := map[[2]int]bool{}
	for _, sq := range regexp.MustCompile(`M(\d+) (\d+)h1v1h-1z`).FindAllStringSubmatch(m[1], -1) {
		var x, y int
		_, err := fmt.Sscan(sq[1]+" "+sq[2], &x, &y)
		require.NoError(t, err)
		dark[[2]int{x, y}] = true
	}
	return dark
}

func TestQRPaymentEndToEnd(t *testing.T) {
	for _, test := range []bool{false, true} {
		name := "live"
		if test {
			name = "test mode"
		}
		t.Run(name, func(t *testing.T) {
			off := startOffline(t, test)
			path := buy(t, off)
			no := strings.TrimPrefix(path, "/orders/")
			o, ok := off.Shop.Order(no)
			require.True(t, ok)
			require.NotEmpty(t, o.CodeURL)

			code, page := get(t, off.URL+path)
			require.Equal(t, http.StatusOK, code)
			assert.Contains(t, page, no)

			// The page's QR code is the code_url's, module for module, with
			// a quiet zone of 4.
			want, err := qr.Encode(o.CodeURL, qr.M)
			require.NoError(t, err)
			dark := modules(t, page)
			n := 0
			for y := 0; y < want.Size; y++ {
				for x := 0; x < want.Size; x++ {
					if want.Black(x, y) {
						n++
						require.True(t, dark[[2]int{x + 4, y + 4}], "module %d,%d", x, y)
					}
				}
			}
			assert.Len(t, dark, n)

			// What the code holds opens the sandbox's pay page.
			code, _ = get(t, o.CodeURL)
			assert.Equal(t, http.StatusOK, code)

			assert.False(t, status(t, off, no).Paid)
			b, err := off.Sandbox.MarkPaid(o.CodeURL)
			require.NoError(t, err)
			assert.Equal(t, test, b.Test)
			d, err := off.Sandbox.WaitDelivery(context.Background(), no)
			require.NoError(t, err)
			require.True(t, d.Acknowledged, "%+v", d.Attempts)
			assert.True(t, status(t, off, no).Paid)
		})
	}
}

func TestAppPay(t *testing.T) {
	off := startOffline(t, false)
	post := func(body string) (int, qrshop.AppPayment) {
		resp, err := http.Post(off.URL+"/api/pay", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		var p qrshop.AppPayment
		_ = json.NewDecoder(resp.Body).Decode(&p)
		return resp.StatusCode, p
	}
	code, wx := post(`{"channel":"WX_APP"}`)
	require.Equal(t, http.StatusOK, code)
	require.NotNil(t, wx.WxApp)
	assert.NotEmpty(t, wx.WxApp.PrepayID)
	assert.NotEmpty(t, wx.WxApp.PaySign)

	code, ali := post(`{"channel":"ALI_APP"}`)
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, ali.OrderString, ali.OutTradeNo)

	// The app's SDK pays with what it was handed.
	for _, p := range []struct {
		no, ref string
	}{{wx.OutTradeNo, wx.WxApp.PrepayID}, {ali.OutTradeNo, ali.OrderString}} {
		_, err := off.Sandbox.MarkPaid(p.ref)
		require.NoError(t, err)
		_, err = off.Sandbox.WaitDelivery(context.Background(), p.no)
		require.NoError(t, err)
		assert.True(t, status(t, off, p.no).Paid)
	}

	for _, body := range []string{`{"channel":"WX_NATIVE"}`, `{}`, `not json`} {
		code, _ := post(body)
		assert.Equal(t, http.StatusBadRequest, code, body)
	}
}

// TestTestWebhookNeverPaysLiveOrder: a webhook signed for test mode is
// refused by a live shop, and its order stays unpaid.
func TestTestWebhookNeverPaysLiveOrder(t *testing.T) {
	off := startOffline(t, false)
	no := strings.TrimPrefix(buy(t, off), "/orders/")
	cfg := off.Sandbox.Apps()[0].Config
	n := beecloudtest.Paid(beecloud.Order{OutTradeNo: no, Amount: qrshop.Product.Amount, Title: qrshop.Product.Title})
	n.Legacy, n.Test = true, true
	resp, err := http.Post(off.URL+qrshop.WebhookPath, "application/json", bytes.NewReader(beecloudtest.NotificationBody(cfg, n)))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.False(t, status(t, off, no).Paid)
}

func TestUnknownOrder(t *testing.T) {
	off := startOffline(t, false)
	code, _ := get(t, off.URL+"/orders/nosuchorder1")
	assert.Equal(t, http.StatusNotFound, code)
	code, _ = get(t, off.URL+"/orders/nosuchorder1/status")
	assert.Equal(t, http.StatusNotFound, code)
}

// TestLostWebhookFoundByPolling: when the webhook never comes, the page's
// polling asks BeeCloud and the order ends paid.
func TestLostWebhookFoundByPolling(t *testing.T) {
	off := startOfflineWith(t, qrshop.Config{CheckAfter: time.Nanosecond}, false)
	no := strings.TrimPrefix(buy(t, off), "/orders/")
	off.Sandbox.DropWebhook(no)
	o, _ := off.Shop.Order(no)
	_, err := off.Sandbox.MarkPaid(o.CodeURL)
	require.NoError(t, err)
	d, err := off.Sandbox.WaitDelivery(context.Background(), no)
	require.NoError(t, err)
	require.True(t, d.Dropped)
	assert.True(t, status(t, off, no).Paid)
}
