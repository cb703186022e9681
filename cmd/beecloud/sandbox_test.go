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
		t.Fatalf("sandbox exited %d before listening; stderr: %s", code, stderr.String())
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
	if m == nil {
		t.Fatalf("output has no script tag:\n%s", out)
	}
	src := strings.ReplaceAll(m[1], "&amp;", "&")
	if !strings.HasPrefix(src, url+"/") {
		t.Errorf("script src %q is not on the sandbox %s", src, url)
	}
	appID := regexp.MustCompile(`app_id:\s+(\S+)`).FindStringSubmatch(out)
	if appID == nil || !strings.HasSuffix(src, "appId="+appID[1]) {
		t.Errorf("output:\n%s\nwant random demo credentials whose app_id the script tag carries", out)
	}
	resp, err := http.Get(src)
	if err != nil {
		t.Fatal(err)
	}
	script, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(script), "BC") {
		t.Errorf("GET %s: %d %.200s; want the button script", src, resp.StatusCode, script)
	}
	if code := stop(); code != exitOK {
		t.Errorf("exit code %d after Ctrl-C; want 0", code)
	}
	if !strings.Contains(stdout.String(), "Stopping the sandbox") {
		t.Errorf("output %q; want it to say it stops", stdout.String())
	}
	// The port is free again.
	if ln, err := net.Listen("tcp", strings.TrimPrefix(url, "http://")); err != nil {
		t.Errorf("the sandbox's port is still in use after it stopped: %v", err)
	} else {
		ln.Close()
	}
}

func TestSandboxGivenCredentials(t *testing.T) {
	env := map[string]string{envAppID: testAppID, envAppSecret: testAppSecret, envMasterSecret: testMasterSecret}
	_, stdout, _ := startSandbox(t, env, "-addr", "127.0.0.1:0", "-webhook-url", "http://127.0.0.1:9/webhook", "-channels", "ali,wx")
	out := stdout.String()
	for _, want := range []string{"App " + testAppID, "Channels: ali,wx", "Webhooks: POST http://127.0.0.1:9/webhook, resent after 2s, 4s", "appId=" + testAppID} {
		if !strings.Contains(out, want) {
			t.Errorf("output:\n%s\nwant it to contain %q", out, want)
		}
	}
	if strings.Contains(out, testAppSecret) || strings.Contains(out, testMasterSecret) {
		t.Errorf("output shows a secret that was given:\n%s", out)
	}
}

func TestSandboxRedactsWebhookPassword(t *testing.T) {
	_, stdout, _ := startSandbox(t, nil, "-addr", "127.0.0.1:0", "-webhook-url", "http://shop:hunter2@127.0.0.1:9/webhook")
	out := stdout.String()
	if strings.Contains(out, "hunter2") {
		t.Errorf("output shows the webhook URL's password:\n%s", out)
	}
	if want := "Webhooks: POST http://shop:xxxxx@127.0.0.1:9/webhook"; !strings.Contains(out, want) {
		t.Errorf("output:\n%s\nwant it to contain %q", out, want)
	}
}

func TestSandboxErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
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
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit code %d, stderr %q; want %d and %q", r.code, r.stderr, tt.code, tt.want)
			}
			if tt.name != "address in use" && strings.Contains(r.stderr, "another sandbox") {
				t.Errorf("stderr %q blames another sandbox", r.stderr)
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
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Pay(testAppID, p, beecloud.ChannelAli); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if d, err := sb.WaitDelivery(ctx, "test0001"); err != nil || !d.Acknowledged {
		t.Fatalf("delivery %+v, %v; want acknowledged", d, err)
	}

	c, stdout, _ := testCLI(nil, "")
	printed := c.printDeliveries(sb, nil)
	c.printDeliveries(sb, printed) // nothing new: nothing printed twice
	got := regexp.MustCompile(`\d\d:\d\d:\d\d `).ReplaceAllString(stdout.String(), "")
	want := "webhook for order test0001, attempt 1 → 503: \"not yet\\n\"\n" +
		"webhook for order test0001, attempt 2 → 200: success\n" +
		"duplicate webhook for order test0001, attempt 1 → 200: success\n"
	if got != want {
		t.Errorf("got %q; want %q", got, want)
	}
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
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(url + "/2/rest/bills/count?para=" + neturl.QueryEscape(string(para)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `"result_code":0`) {
			t.Fatalf("a call carrying the secrets: %s; want it served", body)
		}
	}
	out := stderr.String()
	want := "beecloud sandbox: warning: a REST call carries secrets of its app"
	if strings.Count(out, want) != 1 || !strings.Contains(out, "secrets=App Secret, Master Secret") || !strings.Contains(out, "app_id="+testAppID) {
		t.Errorf("stderr:\n%s\nwant one warning %q naming the app and its secrets", out, want)
	}
	if strings.Contains(out, testAppSecret) || strings.Contains(out, testMasterSecret) {
		t.Error("the warning prints a secret")
	}
}
