package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer that the command's goroutine writes while
// the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startSandbox runs "beecloud sandbox args…" until the test ends and
// returns its URL and its output so far.
func startSandbox(t *testing.T, env map[string]string, args ...string) (string, *syncBuffer, func() int) {
	t.Helper()
	url, stdout, _, stop := startSandboxStderr(t, env, args...)
	return url, stdout, stop
}

// startSandboxStderr is startSandbox that also returns the command's
// stderr.
func startSandboxStderr(t *testing.T, env map[string]string, args ...string) (string, *syncBuffer, *syncBuffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	c := &cli{ctx: ctx, stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return env[k] }}
	urls := make(chan string, 1)
	c.listening = func(u string) { urls <- u }
	done := make(chan int, 1)
	go func() { done <- c.run(append([]string{"sandbox"}, args...)) }()
	var url string
	select {
	case url = <-urls:
	case code := <-done:
		cancel()
		require.Failf(t, "sandbox exited before listening", "exit code %d; stderr: %s", code, stderr.String())
	}
	code := -1
	stop := func() int {
		if code < 0 {
			cancel()
			code = <-done
		}
		return code
	}
	t.Cleanup(func() { stop() })
	return url, &stdout, &stderr, stop
}

var scriptSrcRE = regexp.MustCompile(`<script id="spay-script" type="text/javascript" src="([^"]+)"></script>`)

func TestSandboxServesScript(t *testing.T) {
	url, stdout, stop := startSandbox(t, nil, "-addr", "127.0.0.1:0")
	out := stdout.String()
	m := scriptSrcRE.FindStringSubmatch(out)
	require.NotNil(t, m, "sandbox output has no script tag:\n%s", out)
	src := strings.ReplaceAll(m[1], "&amp;", "&")
	assert.True(t, strings.HasPrefix(src, url+"/"), "script src %q is not on the sandbox %s", src, url)
	appID := regexp.MustCompile(`app_id:\s+(\S+)`).FindStringSubmatch(out)
	if assert.NotNil(t, appID, "sandbox output:\n%s\nwant random demo credentials", out) {
		assert.True(t, strings.HasSuffix(src, "appId="+appID[1]), "script src %q; want the app_id of the demo credentials, %s", src, appID[1])
	}
	resp, err := http.Get(src)
	require.NoError(t, err, "GET %s", src)
	script, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: status", src)
	assert.Contains(t, string(script), "BC", "GET %s: want the button script", src)
	assert.Equal(t, exitOK, stop(), "sandbox: exit code after Ctrl-C")
	assert.Contains(t, stdout.String(), "Stopping the sandbox", "sandbox output after Ctrl-C")
	// The port is free again.
	ln, err := net.Listen("tcp", strings.TrimPrefix(url, "http://"))
	if assert.NoError(t, err, "net.Listen on the port of the stopped sandbox") {
		ln.Close()
	}
}

func TestSandboxGivenCredentials(t *testing.T) {
	env := map[string]string{envAppID: testAppID, envAppSecret: testAppSecret, envMasterSecret: testMasterSecret}
	_, stdout, _ := startSandbox(t, env, "-addr", "127.0.0.1:0", "-webhook-url", "http://127.0.0.1:9/webhook", "-channels", "ali,wx")
	out := stdout.String()
	for _, want := range []string{"App " + testAppID, "Channels: ali,wx", "Webhooks: POST http://127.0.0.1:9/webhook, resent after 2s, 4s", "appId=" + testAppID} {
		assert.Contains(t, out, want, "sandbox output")
	}
	for _, secret := range []string{testAppSecret, testMasterSecret} {
		assert.NotContains(t, out, secret, "sandbox output shows a secret that was given")
	}
}

func TestSandboxRedactsWebhookPassword(t *testing.T) {
	_, stdout, _ := startSandbox(t, nil, "-addr", "127.0.0.1:0", "-webhook-url", "http://shop:hunter2@127.0.0.1:9/webhook")
	out := stdout.String()
	assert.NotContains(t, out, "hunter2", "sandbox output shows the webhook URL's password")
	assert.Contains(t, out, "Webhooks: POST http://shop:xxxxx@127.0.0.1:9/webhook", "sandbox output")
}

func TestSandboxErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, "net.Listen")
	defer busy.Close()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"address in use", nil, []string{"-addr", busy.Addr().String()}, exitFailure, "choose another address with -addr"},
		{"bad port", nil, []string{"-addr", "127.0.0.1:99999"}, exitUsage, `-addr "127.0.0.1:99999"`},
		{"bad address", nil, []string{"-addr", "127.0.0.1"}, exitUsage, `-addr "127.0.0.1"`},
		{"unknown channel", nil, []string{"-channels", "ali,paypal"}, exitUsage, `unknown channel "paypal"`},
		{"no channel", nil, []string{"-channels", ","}, exitUsage, "lists no channel"},
		{"app id without secret", map[string]string{envAppID: testAppID}, nil, exitUsage, "missing -app-secret"},
		{"webhook without master secret", map[string]string{envAppID: testAppID, envAppSecret: testAppSecret}, []string{"-webhook-url", "http://127.0.0.1:9/"}, exitUsage, "-webhook-url needs -master-secret"},
		{"bad webhook url", nil, []string{"-webhook-url", "127.0.0.1:9/webhook"}, exitUsage, "is not an http or https URL"},
		{"webhook url without host", nil, []string{"-webhook-url", "http:///webhook"}, exitUsage, "is not an http or https URL"},
		{"bad retry base", nil, []string{"-retry-base", "-1s"}, exitUsage, "-retry-base must be positive"},
		{"negative duplicates", nil, []string{"-duplicates", "-1"}, exitUsage, "-duplicates must be 0 or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, "", append([]string{"sandbox"}, tt.args...)...)
			assert.Equal(t, tt.code, r.code, "%s: exit code\nstderr: %s", r.cmd, r.stderr)
			assert.Contains(t, r.stderr, tt.want, "%s: stderr", r.cmd)
			if tt.name != "address in use" {
				assert.NotContains(t, r.stderr, "another sandbox", "%s: stderr blames another sandbox", r.cmd)
			}
		})
	}
}

// TestSandboxPrintsDeliveries checks the lines printed for webhook
// attempts, on a sandbox paid through its Go API.
func TestSandboxPrintsDeliveries(t *testing.T) {
	var calls int
	var mu sync.Mutex
	merchant := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "success")
	})
	srv := httptest.NewServer(merchant)
	defer srv.Close()
	sb := beecloudtest.NewUnstartedSandbox(beecloudtest.App{Config: testConfig, WebhookURL: srv.URL})
	sb.RetryBase = time.Millisecond
	sb.Duplicates = 1
	sb.Start()
	defer sb.Close()
	order := beecloud.Order{Title: "测试商品", Amount: 1, OutTradeNo: "test0001"}
	p, err := testConfig.Params(order)
	require.NoError(t, err, "Params")
	_, err = sb.Pay(testAppID, p, beecloud.ChannelAli)
	require.NoError(t, err, "Sandbox.Pay")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := sb.WaitDelivery(ctx, "test0001")
	require.NoError(t, err, "WaitDelivery")
	require.True(t, d.Acknowledged, "WaitDelivery: delivery %+v; want acknowledged", d)

	c, stdout, _ := testCLI(nil, "")
	printed := c.printDeliveries(sb, nil)
	c.printDeliveries(sb, printed) // nothing new: nothing printed twice
	got := regexp.MustCompile(`\d\d:\d\d:\d\d `).ReplaceAllString(stdout.String(), "")
	want := "webhook for order test0001, attempt 1 → 503: \"not yet\\n\"\n" +
		"webhook for order test0001, attempt 2 → 200: success\n" +
		"duplicate webhook for order test0001, attempt 1 → 200: success\n"
	assert.Equal(t, want, got, "printDeliveries, clock times removed")
}

// TestSandboxWarnsOfSecretsInRequests: a REST call carrying the app's
// secrets, as BeeCloud's own Node.js SDK sends them, is served, and the
// command warns once, without printing the secret.
func TestSandboxWarnsOfSecretsInRequests(t *testing.T) {
	env := map[string]string{envAppID: testAppID, envAppSecret: testAppSecret, envMasterSecret: testMasterSecret}
	url, _, stderr, _ := startSandboxStderr(t, env, "-addr", "127.0.0.1:0")
	for range 2 {
		ts := time.Now().UnixMilli()
		para, err := json.Marshal(map[string]any{"app_id": testAppID, "timestamp": ts,
			"app_sign": beecloud.APISign(testAppID, ts, testAppSecret), "app_secret": testAppSecret, "master_secret": testMasterSecret})
		require.NoError(t, err, "json.Marshal")
		resp, err := http.Get(url + "/2/rest/bills/count?para=" + neturl.QueryEscape(string(para)))
		require.NoError(t, err, "GET /2/rest/bills/count")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Contains(t, string(body), `"result_code":0`, "GET /2/rest/bills/count carrying the secrets; want it served")
	}
	out := stderr.String()
	want := "beecloud sandbox: warning: a REST call carries secrets of its app"
	assert.Equal(t, 1, strings.Count(out, want), "sandbox stderr:\n%s\nwant one warning %q", out, want)
	assert.Contains(t, out, "secrets=App Secret, Master Secret", "sandbox stderr; want the warning to name the secrets")
	assert.Contains(t, out, "app_id="+testAppID, "sandbox stderr; want the warning to name the app")
	for _, secret := range []string{testAppSecret, testMasterSecret} {
		assert.NotContains(t, out, secret, "sandbox stderr: the warning prints a secret")
	}
}
