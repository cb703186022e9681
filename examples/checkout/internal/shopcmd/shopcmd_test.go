package shopcmd

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/paybutton/beecloud"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testCommand is examples/checkout's command.
var testCommand = Command{Name: "checkout", Stores: []Store{Memory}, Elsewhere: "; see withdb"}

// start runs the example with args and env until the test ends, and
// returns the shop's URL and a function that stops it and returns what it
// printed.
func start(t *testing.T, env map[string]string, args ...string) (string, func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- testCommand.Run(ctx, args, func(k string) string { return env[k] }, &stdout, &stderr, func(u string) { urls <- u })
	}()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		cancel()
		require.FailNowf(t, "run returned before serving", "run returned %v; stderr: %s", err, stderr.String())
	}
	stopped := false
	stop := func() string {
		if !stopped {
			stopped = true
			cancel()
			require.NoError(t, <-done, "run, after Ctrl-C")
		}
		return stdout.String()
	}
	t.Cleanup(func() { stop() })
	return url, stop
}

func getPage(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err, "GET %s", url)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s", url)
	return string(b)
}

// buy presses the product's 购买 button: a POST that creates an order and
// leads to its pay page, which buy returns.
func buy(t *testing.T, shopURL, product string) string {
	t.Helper()
	resp, err := http.PostForm(shopURL+"/orders", url.Values{"product": {product}})
	require.NoError(t, err, "buying %s", product)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "buying %s: status at %s", product, resp.Request.URL)
	require.Contains(t, resp.Request.URL.Path, "/pay/", "buying %s: where it ended; want the order's pay page", product)
	return string(b)
}

func TestOfflineRunsShopAndSandbox(t *testing.T) {
	url, stop := start(t, nil, "-addr", "127.0.0.1:0")
	page := buy(t, url, "test")
	i := strings.Index(page, `<script id="spay-script" type="text/javascript" src="`)
	require.GreaterOrEqual(t, i, 0, "page has no script tag:\n%s", page)
	src, _, _ := strings.Cut(page[i+len(`<script id="spay-script" type="text/javascript" src="`):], `"`)
	src = strings.ReplaceAll(src, "&amp;", "&")
	assert.True(t, strings.HasPrefix(src, "http://127.0.0.1:"), "script src %q; want the local sandbox", src)
	assert.False(t, strings.HasPrefix(src, beecloud.DefaultScriptURL), "script src %q; want the local sandbox", src)
	script := getPage(t, src)
	assert.Contains(t, script, "BC", "the sandbox's script: want it to define BC")
	out := stop()
	for _, want := range []string{"running offline with a local BeeCloud sandbox", "Demo app for this run: app_id ", "Shop ready: open " + url + "/", "Shutting down"} {
		assert.Contains(t, out, want, "output")
	}
}

func TestRealCredentialsUseBeeCloud(t *testing.T) {
	env := map[string]string{
		"BEECLOUD_APP_ID":        "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
		"BEECLOUD_APP_SECRET":    "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
		"BEECLOUD_MASTER_SECRET": "506371c7-b095-45da-bfce-9ae857c41a85",
	}
	url, stop := start(t, env, "-addr", "127.0.0.1:0")
	page := buy(t, url, "tea")
	assert.Contains(t, page, `src="`+beecloud.DefaultScriptURL+`?appId=c5d1cba1-5e3f-4ba0-941d-9b0a371fe719"`, "page: BeeCloud's real script tag")
	out := stop()
	assert.Contains(t, out, "payments are REAL", "output: want it to say BeeCloud itself is used")
	assert.NotContains(t, out, "sandbox", "output: want it to say BeeCloud itself is used")
	assert.NotContains(t, out, env["BEECLOUD_APP_SECRET"], "output shows the App Secret")
	assert.NotContains(t, out, env["BEECLOUD_MASTER_SECRET"], "output shows the Master Secret")
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
		{"partial credentials", map[string]string{"BEECLOUD_APP_ID": "x"}, []string{"-addr", "127.0.0.1:0"}, "set all of BEECLOUD_APP_ID"},
		{"unknown store", nil, []string{"-store", "mysql"}, `unknown -store "mysql" (want memory); see withdb`},
		{"store of withdb", nil, []string{"-store", "postgres"}, `unknown -store "postgres" (want memory); see withdb`},
		{"extra argument", nil, []string{"now"}, `unexpected argument "now"`},
		{"negative fail-first", nil, []string{"-fail-first", "-1"}, "-fail-first -1: want 0 or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := testCommand.Run(context.Background(), tt.args, func(k string) string { return tt.env[k] }, &out, &out, func(string) {
				assert.Fail(t, "run served; want an error")
			})
			assert.ErrorContains(t, err, tt.want, "Run(%q)", tt.args)
		})
	}
}

// TestCtrlCWithSpareConnection checks that Ctrl-C stops the shop cleanly
// while a browser holds a connection it opened and never used (browsers
// open spare ones), which http.Server.Shutdown alone waits 5 s for. The
// offline shop is checked in package shop; this is the real-BeeCloud mode.
func TestCtrlCWithSpareConnection(t *testing.T) {
	env := map[string]string{
		"BEECLOUD_APP_ID":        "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719",
		"BEECLOUD_APP_SECRET":    "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
		"BEECLOUD_MASTER_SECRET": "506371c7-b095-45da-bfce-9ae857c41a85",
	}
	url, stop := start(t, env, "-addr", "127.0.0.1:0")
	spare, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	require.NoError(t, err, "net.Dial: the spare connection")
	defer spare.Close()
	stop() // fails the test unless run returns nil
}
