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
		t.Fatalf("run returned %v; stderr: %s", err, stderr.String())
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// Through the fake OAuth and back to the product page; the openid is
	// in the signed cookie, never shown to the buyer.
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `id="buy"`) || strings.Contains(string(page), "oFakeWeChatUser") {
		t.Errorf("ended at %s with %d:\n%s\nwant the product page, without the openid", resp.Request.URL, resp.StatusCode, page)
	}
	// Its buy button makes the order and leads to the pay page.
	resp, err = browser.Post(url+"/orders", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `"openid":"oFakeWeChatUser`) || !strings.Contains(string(page), `"instant_channel":"wx"`) {
		t.Errorf("ended at %s with %d:\n%s\nwant the pay page with the fake openid", resp.Request.URL, resp.StatusCode, page)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run returned %v after Ctrl-C; want nil", err)
	}
	for _, want := range []string{"running offline with a fake WeChat OAuth", "local BeeCloud sandbox", "Ready: open " + url + "/"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output:\n%s\nwant it to contain %q", stdout.String(), want)
		}
	}
}

func TestRunErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
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
				t.Error("run served; want an error")
			})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want an error containing %q", err, tt.want)
			}
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
		t.Fatalf("run returned %v before serving", err)
	}
	spare, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer spare.Close()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run returned %v after Ctrl-C with a spare connection open; want nil", err)
	}
}
