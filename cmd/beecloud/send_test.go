package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
)

// merchant is a webhook endpoint built on beecloud.WebhookHandler, the
// way a merchant's server would be.
type merchant struct {
	mu       sync.Mutex
	handled  []*beecloud.Notification
	failures int // Handle fails this many times before succeeding
}

func (m *merchant) server(t *testing.T) *httptest.Server {
	h := &beecloud.WebhookHandler{
		Apps:   beecloud.Apps{testConfig},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Handle: func(_ context.Context, n *beecloud.Notification) error {
			m.mu.Lock()
			defer m.mu.Unlock()
			if m.failures > 0 {
				m.failures--
				return io.ErrUnexpectedEOF
			}
			m.handled = append(m.handled, n)
			return nil
		},
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestSend(t *testing.T) {
	m := &merchant{}
	srv := m.server(t)
	r := runCLI(t, nil, "", "send", "-url", srv.URL, "-app-id", testAppID, "-master-secret", testMasterSecret,
		"-out-trade-no", "test0001", "-amount", "150", "-channel", "WX", "-sub-channel", "WX_NATIVE",
		"-optional", "product=tea", "-optional", "agent=Alice")
	if r.code != exitOK {
		t.Fatalf("exit code %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if want := "attempt 1: 200 OK: success\n"; r.stdout != want {
		t.Errorf("stdout %q; want %q", r.stdout, want)
	}
	if len(m.handled) != 1 {
		t.Fatalf("handled %d webhooks; want 1", len(m.handled))
	}
	n := m.handled[0]
	if n.TransactionID != "test0001" || n.TransactionFee != 150 || n.ChannelType != "WX" || n.SubChannelType != "WX_NATIVE" || n.TransactionType != "PAY" || !n.TradeSuccess {
		t.Errorf("handled %+v; want the flags' values", n)
	}
	if n.Optional["product"] != "tea" || n.Optional["agent"] != "Alice" {
		t.Errorf("optional %v; want product=tea agent=Alice", n.Optional)
	}
}

func TestSendRetries(t *testing.T) {
	m := &merchant{failures: 2}
	srv := m.server(t)
	c, stdout, stderr := testCLI(map[string]string{envAppID: testAppID, envMasterSecret: testMasterSecret}, "")
	var waits []time.Duration
	c.sleep = func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	}
	code := c.run([]string{"send", "-url", srv.URL, "-out-trade-no", "test0001", "-amount", "1", "-retries", "5"})
	if code != exitOK {
		t.Fatalf("exit code %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	want := []time.Duration{2 * time.Second, 4 * time.Second}
	if len(waits) != len(want) || waits[0] != want[0] || waits[1] != want[1] {
		t.Errorf("waited %v; want %v (BeeCloud's schedule)", waits, want)
	}
	for _, line := range []string{"attempt 1: 500 Internal Server Error: handle failed", "resending in 2s", "attempt 3: 200 OK: success"} {
		if !strings.Contains(stdout.String(), line) {
			t.Errorf("stdout:\n%s\nwant it to contain %q", stdout, line)
		}
	}
}

func TestSendRetryBaseAndGiveUp(t *testing.T) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		io.WriteString(w, "fail")
	}))
	defer srv.Close()
	c, stdout, stderr := testCLI(nil, "")
	var waits []time.Duration
	c.sleep = func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	}
	code := c.run([]string{"send", "-url", srv.URL, "-app-id", testAppID, "-master-secret", testMasterSecret,
		"-out-trade-no", "test0001", "-amount", "1", "-retries", "3", "-retry-base", "10ms"})
	if code != exitFailure {
		t.Fatalf("exit code %d; want 1\nstdout: %s", code, stdout)
	}
	if calls != 4 {
		t.Errorf("%d requests; want 4 (1 + 3 retries)", calls)
	}
	want := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}
	if len(waits) != 3 || waits[0] != want[0] || waits[1] != want[1] || waits[2] != want[2] {
		t.Errorf("waited %v; want %v", waits, want)
	}
	if !strings.Contains(stderr.String(), `did not answer "success"`) {
		t.Errorf("stderr %q; want it to say the answer was not success", stderr)
	}
}

func TestSendFailures(t *testing.T) {
	answer := func(status int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	wrongSecret := (&merchant{}).server(t)

	base := func(url string) []string {
		return []string{"-url", url, "-app-id", testAppID, "-master-secret", testMasterSecret, "-out-trade-no", "test0001", "-amount", "1"}
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"unreachable", base(down.URL), exitFailure, "", "connection refused"},
		{"not success", base(answer(200, "fail")), exitFailure, "attempt 1: 200 OK: fail", `did not answer "success"`},
		{"success with error status", base(answer(500, "success")), exitFailure, "500 Internal Server Error: success", `the answer says success, but with status 500`},
		{"empty answer", base(answer(204, "")), exitFailure, "(empty body)", `did not answer`},
		{"wrong secret", []string{"-url", wrongSecret.URL, "-app-id", testAppID, "-master-secret", "wrong", "-out-trade-no", "test0001", "-amount", "1"}, exitFailure, "403 Forbidden: bad signature", ""},
		{"missing url", base("")[2:], exitUsage, "", "missing -url"},
		{"bad url", base("127.0.0.1:8080/webhook"), exitUsage, "", "not an http or https URL"},
		{"missing master secret", []string{"-url", "http://127.0.0.1:1/", "-app-id", testAppID, "-out-trade-no", "test0001", "-amount", "1"}, exitUsage, "", "missing -master-secret"},
		{"missing out trade no", base("http://127.0.0.1:1/")[:6], exitUsage, "", "missing -out-trade-no"},
		{"missing amount", base("http://127.0.0.1:1/")[:8], exitUsage, "", "missing -amount"},
		{"yuan amount", append(base("http://127.0.0.1:1/")[:8], "-amount", "0.01"), exitUsage, "", "for ¥0.01 write 1"},
		{"negative amount", append(base("http://127.0.0.1:1/")[:8], "-amount", "-1"), exitUsage, "", "must not be negative"},
		{"bad optional", append(base("http://127.0.0.1:1/"), "-optional", "novalue"), exitUsage, "", "want key=value"},
		{"too many retries", append(base("http://127.0.0.1:1/"), "-retries", "18"), exitUsage, "", "-retries must be 0 to 17"},
		{"bad retry base", append(base("http://127.0.0.1:1/"), "-retry-base", "0s"), exitUsage, "", "-retry-base must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, "", append([]string{"send"}, tt.args...)...)
			if r.code != tt.code {
				t.Fatalf("exit code %d; want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.stdout) {
				t.Errorf("stdout:\n%s\nwant it to contain %q", r.stdout, tt.stdout)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr:\n%s\nwant it to contain %q", r.stderr, tt.stderr)
			}
		})
	}
}

func TestSendVerbosePrintsVerifiableBody(t *testing.T) {
	srv := (&merchant{}).server(t)
	r := runCLI(t, nil, "", "send", "-v", "-url", srv.URL, "-app-id", testAppID, "-master-secret", testMasterSecret, "-out-trade-no", "test0001", "-amount", "1")
	body, ok := strings.CutPrefix(strings.SplitN(r.stdout, "\n", 2)[0], "body: ")
	if !ok {
		t.Fatalf("stdout %q; want the body first", r.stdout)
	}
	// What send sends, verify accepts.
	v := runCLI(t, nil, body, "verify", "-app-id", testAppID, "-master-secret", testMasterSecret)
	if v.code != exitOK {
		t.Errorf("verify refused the body send sent: %s", v.stderr)
	}
}

// The answer of a webhook endpoint is printed to a terminal: a control
// character in it must not reach the terminal as is.
func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"success", "success"},
		{"", "(empty body)"},
		{"签名错误", "签名错误"},
		{"a\nb", `"a\nb"`},
		{"\x1b]0;pwned\x07\x1b[2J", `"\x1b]0;pwned\a\x1b[2J"`},
		{"ok\u202etxt", `"ok\u202etxt"`},
		{"\xff", `"\xff"`},
	} {
		if got := printable([]byte(tc.in)); got != tc.want {
			t.Errorf("printable(%q): got %s; want %s", tc.in, got, tc.want)
		}
	}
}

func TestSendNeverPrintsURLPassword(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	for _, target := range []string{
		"ftp://shop:hunter2@127.0.0.1:1/webhook",                       // refused
		strings.Replace(down.URL, "://", "://shop:hunter2@", 1) + "/x", // unreachable
	} {
		r := runCLI(t, nil, "", "send", "-url", target, "-app-id", testAppID, "-master-secret", testMasterSecret, "-out-trade-no", "test0001", "-amount", "1")
		if r.code == exitOK || strings.Contains(r.stdout+r.stderr, "hunter2") {
			t.Errorf("send -url %s: exit code %d, output:\n%s%s\nwant a failure that masks the password", target, r.code, r.stdout, r.stderr)
		}
	}
}
