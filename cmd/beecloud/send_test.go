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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.Equal(t, exitOK, r.code, "%s: exit code\nstdout: %s\nstderr: %s", r.cmd, r.stdout, r.stderr)
	assert.Equal(t, "attempt 1: 200 OK: success\n", r.stdout, "%s: stdout", r.cmd)
	require.Len(t, m.handled, 1, "webhooks the merchant handled")
	// The notification handled carries the flags' values.
	n := m.handled[0]
	assert.Equal(t, "test0001", n.TransactionID, "handled notification: TransactionID")
	assert.Equal(t, int64(150), n.TransactionFee, "handled notification: TransactionFee")
	assert.Equal(t, beecloud.ChannelType("WX"), n.ChannelType, "handled notification: ChannelType")
	assert.Equal(t, "WX_NATIVE", n.SubChannelType, "handled notification: SubChannelType")
	assert.Equal(t, beecloud.TransactionType("PAY"), n.TransactionType, "handled notification: TransactionType")
	assert.True(t, n.TradeSuccess, "handled notification: TradeSuccess")
	assert.Equal(t, "tea", n.Optional["product"], "handled notification: Optional %v: product", n.Optional)
	assert.Equal(t, "Alice", n.Optional["agent"], "handled notification: Optional %v: agent", n.Optional)
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
	require.Equal(t, exitOK, code, "send -retries 5: exit code\nstdout: %s\nstderr: %s", stdout, stderr)
	want := []time.Duration{2 * time.Second, 4 * time.Second}
	assert.Equal(t, want, waits, "send -retries 5: the waits between attempts; want BeeCloud's schedule")
	for _, line := range []string{"attempt 1: 500 Internal Server Error: handle failed", "resending in 2s", "attempt 3: 200 OK: success"} {
		assert.Contains(t, stdout.String(), line, "send -retries 5: stdout")
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
	require.Equal(t, exitFailure, code, "send -retries 3 -retry-base 10ms: exit code\nstdout: %s", stdout)
	assert.Equal(t, 4, calls, "send -retries 3 -retry-base 10ms: requests; want 1 + 3 retries")
	want := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}
	assert.Equal(t, want, waits, "send -retries 3 -retry-base 10ms: the waits between attempts")
	assert.Contains(t, stderr.String(), `did not answer "success"`, "send -retries 3 -retry-base 10ms: stderr")
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
			require.Equal(t, tt.code, r.code, "%s: exit code\nstdout: %s\nstderr: %s", r.cmd, r.stdout, r.stderr)
			assert.Contains(t, r.stdout, tt.stdout, "%s: stdout", r.cmd)
			assert.Contains(t, r.stderr, tt.stderr, "%s: stderr", r.cmd)
		})
	}
}

func TestSendVerbosePrintsVerifiableBody(t *testing.T) {
	srv := (&merchant{}).server(t)
	r := runCLI(t, nil, "", "send", "-v", "-url", srv.URL, "-app-id", testAppID, "-master-secret", testMasterSecret, "-out-trade-no", "test0001", "-amount", "1")
	body, ok := strings.CutPrefix(strings.SplitN(r.stdout, "\n", 2)[0], "body: ")
	require.True(t, ok, "%s: stdout %q; want the body first", r.cmd, r.stdout)
	// What send sends, verify accepts.
	v := runCLI(t, nil, body, "verify", "-app-id", testAppID, "-master-secret", testMasterSecret)
	assert.Equal(t, exitOK, v.code, "%s of the body send sent: exit code\nstderr: %s", v.cmd, v.stderr)
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
		assert.Equal(t, tc.want, printable([]byte(tc.in)), "printable(%q)", tc.in)
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
		assert.NotEqual(t, exitOK, r.code, "send -url %s: exit code; want a failure", target)
		assert.NotContains(t, r.stdout+r.stderr, "hunter2", "send -url %s: output; want the password masked", target)
	}
}
