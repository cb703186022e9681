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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
			assert.Equal(t, exitUsage, r.code, "%s: exit code", r.cmd)
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			require.Len(t, lines, 2, "%s: stderr:\n%s\nwant 2 lines: %q and a hint to run -h", r.cmd, r.stderr, tt.want)
			assert.Contains(t, lines[0], tt.want, "%s: first line of stderr", r.cmd)
			assert.True(t, strings.HasPrefix(lines[1], "Run \"beecloud "), "%s: second line of stderr %q; want a hint to run -h", r.cmd, lines[1])
		})
	}
}

func TestVersion(t *testing.T) {
	r := runCLI(t, nil, "", "version")
	assert.Equal(t, exitOK, r.code, "%s: exit code", r.cmd)
	assert.True(t, strings.HasPrefix(r.stdout, "beecloud "), "%s: stdout %q; want the version", r.cmd, r.stdout)
	assert.Contains(t, r.stdout, "go1.", "%s: stdout; want the Go version", r.cmd)
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
		assert.Equal(t, tc.want, describeBuild(&tc.info), "describeBuild of version %s", tc.info.Main.Version)
	}
	r = runCLI(t, nil, "", "version", "extra")
	assert.Equal(t, exitUsage, r.code, "%s: exit code", r.cmd)
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
		assert.Equal(t, exitOK, code, "verify %q, terminal %t: exit code", tc.args, tc.terminal)
		assert.True(t, strings.HasPrefix(stdout.String(), "OK: stdin"), "verify %q, terminal %t: stdout %q; want OK", tc.args, tc.terminal, stdout)
		const notice = "reading the webhook body from stdin"
		if tc.notice {
			assert.Contains(t, stderr.String(), notice, "verify %q, terminal %t: stderr", tc.args, tc.terminal)
		} else {
			assert.NotContains(t, stderr.String(), notice, "verify %q, terminal %t: stderr", tc.args, tc.terminal)
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
	assert.Equal(t, exitFailure, r.code, "%s: exit code", r.cmd)
	assert.NotContains(t, r.stderr, full, "%s: stderr; want only the first characters of the expected signature", r.cmd)
	assert.Contains(t, r.stderr, "expected: "+full[:6]+"…", "%s: stderr", r.cmd)
	r = runCLI(t, env, body, "verify", "-show-expected", "-")
	assert.Equal(t, exitFailure, r.code, "%s: exit code", r.cmd)
	assert.Contains(t, r.stderr, "expected: "+full+"\n", "%s: stderr", r.cmd)
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
		assert.Equal(t, tc.code, r.code, "send to an endpoint answering %d %q: exit code", tc.status, tc.body)
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "localhost": true, "127.1.2.3": true,
		"0.0.0.0": false, "::": false, "192.168.1.10": false, "example.com": false,
	} {
		assert.Equal(t, want, isLoopback(host), "isLoopback(%q)", host)
	}
}

func TestSandboxBannerGrammar(t *testing.T) {
	for n, want := range map[string]string{"1": "sent 1 more time,", "2": "sent 2 more times,"} {
		_, stdout, stop := startSandbox(t, nil, "-addr", "127.0.0.1:0", "-webhook-url", "http://127.0.0.1:1/hook", "-duplicates", n)
		stop()
		assert.Contains(t, stdout.String(), want, "sandbox -duplicates %s: output", n)
		assert.NotContains(t, stdout.String(), "beyond this machine", "sandbox -duplicates %s: a loopback sandbox warns that it listens beyond this machine", n)
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
	require.Equal(t, exitOK, r.code, "%s: exit code\nstderr: %s", r.cmd, r.stderr)
	require.True(t, strings.HasPrefix(r.stdout, "{"), "%s: stdout %q; want the body", r.cmd, r.stdout)
	v := runCLI(t, env, r.stdout, "verify", "-")
	assert.Equal(t, exitOK, v.code, "%s of send -dry-run's body: exit code\nstderr: %s", v.cmd, v.stderr)
}

// TestSandboxPayThenBills pays an order at the sandbox's start and finds
// it with bills and refunds it, as the README does.
func TestSandboxPayThenBills(t *testing.T) {
	env := map[string]string{envAppID: testAppID, envAppSecret: testAppSecret, envMasterSecret: testMasterSecret}
	url, stdout, _ := startSandbox(t, env, "-addr", "127.0.0.1:0", "-pay", "test0001=150")
	assert.Contains(t, stdout.String(), "Paid order test0001: ¥1.50", "sandbox -pay test0001=150: output")
	r := runCLI(t, env, "", "bills", "-api-url", url, "-out-trade-no", "test0001")
	assert.Equal(t, exitOK, r.code, "%s: exit code\nstdout: %s\nstderr: %s", r.cmd, r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "is PAID", "%s: stdout", r.cmd)
	r = runCLI(t, env, "yes\n", "refund", "-api-url", url, "-out-trade-no", "test0001", "-amount", "150")
	assert.Equal(t, exitOK, r.code, "%s: exit code\nstdout: %s\nstderr: %s", r.cmd, r.stdout, r.stderr)
	// -pay with yuan is a usage error.
	r = runCLI(t, env, "", "sandbox", "-pay", "x=1.5")
	assert.Equal(t, exitUsage, r.code, "%s: exit code", r.cmd)
	assert.Contains(t, r.stderr, "-pay x=1.5", "%s: stderr", r.cmd)
}
