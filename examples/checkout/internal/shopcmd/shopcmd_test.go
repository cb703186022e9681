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
		t.Fatalf("run returned %v before serving; stderr: %s", err, stderr.String())
	}
	stopped := false
	stop := func() string {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run returned %v after Ctrl-C; want nil", err)
			}
		}
		return stdout.String()
	}
	t.Cleanup(func() { stop() })
	return url, stop
}

func getPage(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	return string(b)
}

// buy presses the product's 购买 button: a POST that creates an order and
// leads to its pay page, which buy returns.
func buy(t *testing.T, shopURL, product string) string {
	t.Helper()
	resp, err := http.PostForm(shopURL+"/orders", url.Values{"product": {product}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Request.URL.Path, "/pay/") {
		t.Fatalf("buying %s: %d at %s; want the order's pay page", product, resp.StatusCode, resp.Request.URL)
	}
	return string(b)
}

func TestOfflineRunsShopAndSandbox(t *testing.T) {
	url, stop := start(t, nil, "-addr", "127.0.0.1:0")
	page := buy(t, url, "test")
	i := strings.Index(page, `<script id="spay-script" type="text/javascript" src="`)
	if i < 0 {
		t.Fatalf("page has no script tag:\n%s", page)
	}
	src, _, _ := strings.Cut(page[i+len(`<script id="spay-script" type="text/javascript" src="`):], `"`)
	src = strings.ReplaceAll(src, "&amp;", "&")
	if !strings.HasPrefix(src, "http://127.0.0.1:") || strings.HasPrefix(src, beecloud.DefaultScriptURL) {
		t.Errorf("script src %q; want the local sandbox", src)
	}
	if script := getPage(t, src); !strings.Contains(script, "BC") {
		t.Errorf("the sandbox's script does not define BC:\n%.200s", script)
	}
	out := stop()
	for _, want := range []string{"running offline with a local BeeCloud sandbox", "Demo app for this run: app_id ", "Shop ready: open " + url + "/", "Shutting down"} {
		if !strings.Contains(out, want) {
			t.Errorf("output:\n%s\nwant it to contain %q", out, want)
		}
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
	if want := `src="` + beecloud.DefaultScriptURL + `?appId=c5d1cba1-5e3f-4ba0-941d-9b0a371fe719"`; !strings.Contains(page, want) {
		t.Errorf("page lacks BeeCloud's real script tag %s", want)
	}
	out := stop()
	if !strings.Contains(out, "payments are REAL") || strings.Contains(out, "sandbox") {
		t.Errorf("output:\n%s\nwant it to say BeeCloud itself is used", out)
	}
	if strings.Contains(out, env["BEECLOUD_APP_SECRET"]) || strings.Contains(out, env["BEECLOUD_MASTER_SECRET"]) {
		t.Errorf("output shows a secret:\n%s", out)
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
				t.Error("run served; want an error")
			})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want an error containing %q", err, tt.want)
			}
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
	if err != nil {
		t.Fatal(err)
	}
	defer spare.Close()
	stop() // fails the test unless run returns nil
}
