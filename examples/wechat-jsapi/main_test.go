package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOfflineOAuthReachesPayPage(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr bytes.Buffer
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, func(string) string { return "" }, &stdout, &stderr, func(u string) { urls <- u })
	}()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		require.FailNowf(t, "run returned before serving", "run returned %v; stderr: %s", err, stderr.String())
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(url + "/")
	require.NoError(t, err, "GET /")
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// Through the fake OAuth and back to the product page; the openid is
	// in the signed cookie, never shown to the buyer.
	assert.Equal(t, http.StatusOK, resp.StatusCode, "GET /: ended at %s", resp.Request.URL)
	assert.Contains(t, string(page), `id="buy"`, "GET /: ended at %s; want the product page", resp.Request.URL)
	assert.NotContains(t, string(page), "oFakeWeChatUser", "GET /: the product page shows the openid")
	// Its buy button makes the order and leads to the pay page.
	resp, err = browser.Post(url+"/orders", "application/x-www-form-urlencoded", nil)
	require.NoError(t, err, "POST /orders")
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "POST /orders: ended at %s", resp.Request.URL)
	assert.Contains(t, string(page), `"openid":"oFakeWeChatUser`, "POST /orders: ended at %s; want the pay page with the fake openid", resp.Request.URL)
	assert.Contains(t, string(page), `"instant_channel":"wx"`, "POST /orders: ended at %s; want the pay page", resp.Request.URL)

	cancel()
	require.NoError(t, <-done, "run, after Ctrl-C")
	for _, want := range []string{"running offline with a fake WeChat OAuth", "local BeeCloud sandbox", "Ready: open " + url + "/"} {
		assert.Contains(t, stdout.String(), want, "output")
	}
}

func TestRunErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, "net.Listen")
	defer busy.Close()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"address in use", nil, []string{"-addr", busy.Addr().String()}, "cannot listen on " + busy.Addr().String()},
		{"beecloud without wechat", map[string]string{"BEECLOUD_APP_ID": "a", "BEECLOUD_APP_SECRET": "b", "BEECLOUD_MASTER_SECRET": "c"}, []string{"-addr", "127.0.0.1:0"}, "WECHAT_APPID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tt.args, func(k string) string { return tt.env[k] }, &out, &out, func(string) {
				assert.Fail(t, "run served; want an error")
			})
			assert.ErrorContains(t, err, tt.want, "run(%q)", tt.args)
		})
	}
}

// TestCtrlCWithSpareConnection checks that Ctrl-C stops the example cleanly
// while a browser holds a connection it opened and never used (browsers
// open spare ones), which http.Server.Shutdown alone waits 5 s for.
func TestCtrlCWithSpareConnection(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, func(string) string { return "" }, &out, io.Discard, func(u string) { urls <- u })
	}()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		require.FailNowf(t, "run returned before serving", "run returned %v", err)
	}
	spare, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	require.NoError(t, err, "net.Dial: the spare connection")
	defer spare.Close()
	cancel()
	assert.NoError(t, <-done, "run, after Ctrl-C with a spare connection open")
}
