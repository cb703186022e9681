package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// TestMistypedFlagIsOneLine checks that a typo gets one line naming it,
// with the flag meant when one is close, and a hint: not the whole help.
func TestMistypedFlagIsOneLine(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"sign", "-titel", "x"}, `beecloud sign: unknown flag -titel (did you mean -title?)`},
		{[]string{"verify", "-master-secert", "x"}, `beecloud verify: unknown flag -master-secert (did you mean -master-secret?)`},
		{[]string{"send", "-zzz"}, `beecloud send: unknown flag -zzz`},
		{[]string{"sandbox", "-retries", "1"}, `beecloud sandbox: unknown flag -retries`},
		{[]string{"sign", "-amount"}, `beecloud sign: flag needs an argument: -amount`},
		{[]string{"send", "-retries", "many"}, `beecloud send: invalid value "many" for flag -retries`},
		{[]string{"sing"}, `beecloud: unknown command "sing" (did you mean "sign"?)`},
		{[]string{"refunds", "-refund", "x"}, `(did you mean -refund-no?)`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runCLI(t, nil, "", tt.args...)
			if r.code != exitUsage {
				t.Errorf("exit code %d; want %d", r.code, exitUsage)
			}
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if len(lines) != 2 || !strings.Contains(lines[0], tt.want) || !strings.HasPrefix(lines[1], "Run \"beecloud ") {
				t.Errorf("stderr:\n%s\nwant 2 lines: %q and a hint to run -h", r.stderr, tt.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	r := runCLI(t, nil, "", "version")
	if r.code != exitOK || !strings.HasPrefix(r.stdout, "beecloud ") || !strings.Contains(r.stdout, "go1.") {
		t.Errorf("version: %d %q; want the version and the Go version", r.code, r.stdout)
	}
	for _, tc := range []struct {
		info debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{GoVersion: "go1.25.0", Main: debug.Module{Path: "github.com/paybutton/beecloud", Version: "v0.1.0"}},
			"beecloud v0.1.0 (module github.com/paybutton/beecloud, go1.25.0)"},
		{debug.BuildInfo{GoVersion: "go1.25.0", Main: debug.Module{Path: "github.com/paybutton/beecloud", Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-05-20T12:00:00Z"}, {Key: "vcs.modified", Value: "true"}}},
			"beecloud (devel), commit 0123456789ab of 2026-05-20T12:00:00Z, modified (module github.com/paybutton/beecloud, go1.25.0)"},
	} {
		if got := describeBuild(&tc.info); got != tc.want {
			t.Errorf("got %q; want %q", got, tc.want)
		}
	}
	if r := runCLI(t, nil, "", "version", "extra"); r.code != exitUsage {
		t.Errorf("version extra: exit %d; want %d", r.code, exitUsage)
	}
}

// TestVerifyTerminalSaysItReadsStdin checks that verify without a file,
// on a terminal, says it waits for a body there instead of hanging
// silently; with "-" or piped input it says nothing.
func TestVerifyTerminalSaysItReadsStdin(t *testing.T) {
	env := map[string]string{envAppID: testAppID, envMasterSecret: testMasterSecret}
	body := string(beecloudtest.NotificationBody(testConfig, beecloudtest.Paid(beecloud.Order{OutTradeNo: "test0001", Amount: 1})))
	for _, tc := range []struct {
		terminal bool
		args     []string
		notice   bool
	}{
		{true, nil, true},
		{true, []string{"-"}, false},
		{false, nil, false},
	} {
		c, stdout, stderr := testCLI(env, body)
		c.stdinTerminal = tc.terminal
		code := c.run(append([]string{"verify"}, tc.args...))
		if code != exitOK || !strings.HasPrefix(stdout.String(), "OK: stdin") {
			t.Errorf("terminal %t, args %q: exit %d, stdout %q; want OK", tc.terminal, tc.args, code, stdout)
		}
		if got := strings.Contains(stderr.String(), "reading the webhook body from stdin"); got != tc.notice {
			t.Errorf("terminal %t, args %q: stderr %q; want the notice %t", tc.terminal, tc.args, stderr, tc.notice)
		}
	}
}

// TestVerifyShowsExpectedOnlyWhenAsked checks that a failing body does not
// get its whole expected signature printed, which would forge it, unless
// -show-expected.
func TestVerifyShowsExpectedOnlyWhenAsked(t *testing.T) {
	forged := testConfig
	forged.MasterSecret = "not-the-secret"
	body := string(beecloudtest.NotificationBody(forged, beecloudtest.Paid(beecloud.Order{OutTradeNo: "test0001", Amount: 150, InstantChannel: beecloud.ChannelAli})))
	full := beecloud.WebhookSignature(testAppID, "test0001", "PAY", "ALI", 150, testMasterSecret)
	env := map[string]string{envAppID: testAppID, envMasterSecret: testMasterSecret}
	r := runCLI(t, env, body, "verify", "-")
	if r.code != exitFailure || strings.Contains(r.stderr, full) || !strings.Contains(r.stderr, "expected: "+full[:6]+"…") {
		t.Errorf("stderr:\n%s\nwant only the first characters of %s", r.stderr, full)
	}
	r = runCLI(t, env, body, "verify", "-show-expected", "-")
	if r.code != exitFailure || !strings.Contains(r.stderr, "expected: "+full+"\n") {
		t.Errorf("-show-expected: stderr:\n%s\nwant %s", r.stderr, full)
	}
}

func TestSendAcknowledgementRule(t *testing.T) {
	// The rule BeeCloud and the sandbox apply: a 2xx status and the text
	// success, spaces around it allowed.
	for _, tc := range []struct {
		status int
		body   string
		code   int
	}{{200, "success", exitOK}, {200, "success\n", exitOK}, {201, " success ", exitOK}, {200, "SUCCESS", exitFailure}, {302, "success", exitFailure}} {
		srv := answerServer(t, tc.status, tc.body)
		r := runCLI(t, nil, "", "send", "-url", srv, "-app-id", testAppID, "-master-secret", testMasterSecret, "-out-trade-no", "test0001", "-amount", "1")
		if r.code != tc.code {
			t.Errorf("answer %d %q: exit %d; want %d", tc.status, tc.body, r.code, tc.code)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "localhost": true, "127.1.2.3": true,
		"0.0.0.0": false, "::": false, "192.168.1.10": false, "example.com": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %t; want %t", host, got, want)
		}
	}
}

func TestSandboxBannerGrammar(t *testing.T) {
	for n, want := range map[string]string{"1": "sent 1 more time,", "2": "sent 2 more times,"} {
		_, stdout, stop := startSandbox(t, nil, "-addr", "127.0.0.1:0", "-webhook-url", "http://127.0.0.1:1/hook", "-duplicates", n)
		stop()
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("-duplicates %s: output:\n%s\nwant %q", n, stdout, want)
		}
		if strings.Contains(stdout.String(), "beyond this machine") {
			t.Error("a loopback sandbox warns that it listens beyond this machine")
		}
	}
}

// answerServer is a webhook endpoint that answers status and body.
func answerServer(t *testing.T, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestSendDryRunThenVerify gets a body as the README does and verifies it.
func TestSendDryRunThenVerify(t *testing.T) {
	env := map[string]string{envAppID: testAppID, envMasterSecret: testMasterSecret}
	r := runCLI(t, env, "", "send", "-dry-run", "-out-trade-no", "test0001", "-amount", "150")
	if r.code != exitOK || !strings.HasPrefix(r.stdout, "{") {
		t.Fatalf("send -dry-run: %d %q %q; want the body", r.code, r.stdout, r.stderr)
	}
	if v := runCLI(t, env, r.stdout, "verify", "-"); v.code != exitOK {
		t.Errorf("verify of send -dry-run's body: %d %s", v.code, v.stderr)
	}
}

// TestSandboxPayThenBills pays an order at the sandbox's start and finds
// it with bills and refunds it, as the README does.
func TestSandboxPayThenBills(t *testing.T) {
	env := map[string]string{envAppID: testAppID, envAppSecret: testAppSecret, envMasterSecret: testMasterSecret}
	url, stdout, _ := startSandbox(t, env, "-addr", "127.0.0.1:0", "-pay", "test0001=150")
	if !strings.Contains(stdout.String(), "Paid order test0001: ¥1.50") {
		t.Errorf("output:\n%s\nwant the paid order", stdout)
	}
	if r := runCLI(t, env, "", "bills", "-api-url", url, "-out-trade-no", "test0001"); r.code != exitOK || !strings.Contains(r.stdout, "is PAID") {
		t.Errorf("bills: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, env, "yes\n", "refund", "-api-url", url, "-out-trade-no", "test0001", "-amount", "150"); r.code != exitOK {
		t.Errorf("refund: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, env, "", "sandbox", "-pay", "x=1.5"); r.code != exitUsage || !strings.Contains(r.stderr, "-pay x=1.5") {
		t.Errorf("-pay with yuan: %d %q; want a usage error", r.code, r.stderr)
	}
}
