package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeStdout decodes the whole of stdout as one JSON value into v: a
// script reading it must not meet any text besides the JSON.
func decodeStdout(t *testing.T, r result, v any) {
	t.Helper()
	err := json.Unmarshal([]byte(r.stdout), v)
	require.NoError(t, err, "%s: stdout is not one JSON value\nstdout: %s\nstderr: %s", r.cmd, r.stdout, r.stderr)
}

func TestJSONBillsAndRefunds(t *testing.T) {
	sb, env := newAPISandbox(t)
	api := []string{"-api-url", sb.URL}

	r := runCLI(t, env, "", append([]string{"bills", "-json"}, api...)...)
	require.Equal(t, exitOK, r.code, "%s: exit code\nstderr: %s", r.cmd, r.stderr)
	var bills []map[string]any
	decodeStdout(t, r, &bills)
	require.Len(t, bills, 1, "%s: bills printed", r.cmd)
	b := bills[0]
	for key, want := range map[string]any{
		"out_trade_no": "test0001", "title": "tea", "channel": "ALI", "sub_channel": "ALI_WEB",
		"amount": 150.0, "paid": true, "refunded": false, "reverted": false,
	} {
		assert.Equal(t, want, b[key], "%s: bill %s", r.cmd, key)
	}
	id, _ := b["id"].(string)
	assert.NotEmpty(t, id, "%s: bill id %v; want BeeCloud's record id", r.cmd, b["id"])
	_, err := time.Parse(time.RFC3339, b["created_at"].(string))
	require.NoError(t, err, "%s: bill created_at %v is not RFC 3339", r.cmd, b["created_at"])

	// With -out-trade-no the exit code still answers "is it paid?", and
	// stdout holds the JSON alone.
	for _, tt := range []struct {
		order string
		code  int
		n     int
	}{{"test0001", exitOK, 1}, {"nosuch0001", exitFailure, 0}} {
		r := runCLI(t, env, "", append([]string{"bills", "-json", "-out-trade-no", tt.order}, api...)...)
		var got []map[string]any
		decodeStdout(t, r, &got)
		assert.Equal(t, tt.code, r.code, "%s: exit code", r.cmd)
		assert.Len(t, got, tt.n, "%s: bills printed", r.cmd)
		assert.NotNil(t, got, "%s: bills printed; want a list, not null", r.cmd)
	}

	r = runCLI(t, env, "", append([]string{"refunds", "-json"}, api...)...)
	// refunds -json with none.
	assert.Equal(t, exitOK, r.code, "%s: exit code\nstderr: %s", r.cmd, r.stderr)
	assert.Equal(t, "[]", strings.TrimSpace(r.stdout), "%s: stdout", r.cmd)
	refundNo := beecloud.NewRefundNo(time.Now())
	client := &beecloud.Client{Config: testConfig, BaseURL: sb.URL}
	_, err = client.Refund(context.Background(), beecloud.RefundRequest{OutTradeNo: "test0001", RefundNo: refundNo, Amount: 50})
	require.NoError(t, err, "Client.Refund")
	r = runCLI(t, env, "", append([]string{"refunds", "-json"}, api...)...)
	var refunds []map[string]any
	decodeStdout(t, r, &refunds)
	require.Len(t, refunds, 1, "%s: refunds printed", r.cmd)
	for key, want := range map[string]any{
		"refund_no": refundNo, "out_trade_no": "test0001", "amount": 50.0, "bill_amount": 150.0,
		"state": "succeeded", "channel": "ALI", "sub_channel": "ALI_WEB",
	} {
		assert.Equal(t, want, refunds[0][key], "%s: refund %s", r.cmd, key)
	}
}

// verdict is verify -json's output as a script reads it.
type verdict struct {
	OK           bool           `json:"ok"`
	Source       string         `json:"source"`
	Problem      string         `json:"problem"`
	Error        string         `json:"error"`
	Notification map[string]any `json:"notification"`
}

func TestJSONVerify(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	require.NoError(t, os.WriteFile(good, []byte(paidBody(testConfig)), 0o600), "WriteFile")
	creds := []string{"-app-id", testAppID, "-master-secret", testMasterSecret}

	r := runCLI(t, nil, "", append(append([]string{"verify", "-json"}, creds...), good)...)
	var ok verdict
	decodeStdout(t, r, &ok)
	// verify -json of a good body.
	require.Equal(t, exitOK, r.code, "%s: exit code\nstdout: %s", r.cmd, r.stdout)
	require.True(t, ok.OK, "%s: ok\nstdout: %s", r.cmd, r.stdout)
	require.Equal(t, good, ok.Source, "%s: source", r.cmd)
	require.NotNil(t, ok.Notification, "%s: notification\nstdout: %s", r.cmd, r.stdout)
	for key, want := range map[string]any{
		"app_id": testAppID, "transaction_type": "PAY", "transaction_id": "test0001", "transaction_fee": 150.0,
		"trade_success": true, "channel_type": "ALI", "sub_channel_type": "ALI_WEB", "legacy": false, "test": false,
	} {
		assert.Equal(t, want, ok.Notification[key], "%s: notification %s", r.cmd, key)
	}
	opt, _ := ok.Notification["optional"].(map[string]any)
	assert.Equal(t, "Alice", opt["agent_id"], "%s: notification optional %v: agent_id", r.cmd, ok.Notification["optional"])
	_, err := time.Parse(time.RFC3339, ok.Notification["timestamp"].(string))
	require.NoError(t, err, "%s: notification timestamp %v is not RFC 3339", r.cmd, ok.Notification["timestamp"])

	wrong := testConfig
	wrong.MasterSecret = "00000000-0000-0000-0000-000000000000"
	r = runCLI(t, nil, paidBody(wrong), append(append([]string{"verify", "-json"}, creds...), "-")...)
	var bad verdict
	decodeStdout(t, r, &bad)
	// verify -json of a forged body.
	assert.Equal(t, exitFailure, r.code, "%s: exit code\nstdout: %s", r.cmd, r.stdout)
	assert.False(t, bad.OK, "%s: ok", r.cmd)
	assert.Equal(t, "signature", bad.Problem, "%s: problem", r.cmd)
	assert.Nil(t, bad.Notification, "%s: notification", r.cmd)
	assert.Equal(t, "stdin", bad.Source, "%s: source", r.cmd)
	assert.True(t, strings.HasPrefix(bad.Error, "bad signature"), "%s: error %q; want it to start with the cause, with no package prefix", r.cmd, bad.Error)
	assert.Empty(t, r.stderr, "%s: stderr; want nothing besides the JSON verdict", r.cmd)

	r = runCLI(t, nil, "{", append(append([]string{"verify", "-json"}, creds...), "-")...)
	decodeStdout(t, r, &bad)
	// verify -json of a broken body.
	assert.Equal(t, exitFailure, r.code, "%s: exit code\nstdout: %s", r.cmd, r.stdout)
	assert.Equal(t, "malformed", bad.Problem, "%s: problem", r.cmd)
}

func TestJSONSendDryRun(t *testing.T) {
	args := []string{"send", "-dry-run", "-json", "-app-id", testAppID, "-master-secret", testMasterSecret,
		"-out-trade-no", "test0001", "-amount", "150", "-url", "http://shop:hunter2@127.0.0.1:1/webhook"}
	r := runCLI(t, nil, "", args...)
	var req struct {
		Method  string            `json:"method"`
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	}
	decodeStdout(t, r, &req)
	require.Equal(t, exitOK, r.code, "%s: exit code\nstdout: %s", r.cmd, r.stdout)
	require.Equal(t, "POST", req.Method, "%s: method", r.cmd)
	require.Equal(t, "application/json", req.Headers["Content-Type"], "%s: Content-Type", r.cmd)
	assert.Equal(t, "http://shop:xxxxx@127.0.0.1:1/webhook", req.URL, "%s: url; want the -url with its password hidden", r.cmd)
	n, err := testConfig.ParseNotification(req.Body)
	require.NoError(t, err, "%s: ParseNotification of the body", r.cmd)
	assert.Equal(t, "test0001", n.TransactionID, "%s: the body's transaction_id", r.cmd)
	assert.Equal(t, int64(150), n.TransactionFee, "%s: the body's transaction_fee", r.cmd)

	r = runCLI(t, nil, "", "send", "-json", "-url", "http://127.0.0.1:1/", "-app-id", testAppID, "-master-secret", testMasterSecret, "-out-trade-no", "test0001", "-amount", "1")
	// -json without -dry-run is a usage error.
	assert.Equal(t, exitUsage, r.code, "%s: exit code\nstderr: %s", r.cmd, r.stderr)
	assert.Contains(t, r.stderr, "-json goes with -dry-run", "%s: stderr", r.cmd)
}

// TestMissingFlagsAtOnce: a command names every required flag that is
// missing in one line, not one per run.
func TestMissingFlagsAtOnce(t *testing.T) {
	const (
		appID  = "-app-id (or $BEECLOUD_APP_ID)"
		app    = "-app-secret (or $BEECLOUD_APP_SECRET)"
		master = "-master-secret (or $BEECLOUD_MASTER_SECRET)"
	)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"sign", nil, []string{"sign"}, "beecloud sign: missing " + appID + ", " + app + ", -title, -amount and -out-trade-no"},
		{"sign with an app id", map[string]string{envAppID: testAppID}, []string{"sign", "-title", "tea"}, "beecloud sign: missing " + app + ", -amount and -out-trade-no"},
		{"send", nil, []string{"send"}, "beecloud send: missing -url, " + appID + ", " + master + ", -out-trade-no and -amount"},
		{"send -dry-run", nil, []string{"send", "-dry-run", "-amount", "1"}, "beecloud send: missing " + appID + ", " + master + " and -out-trade-no"},
		{"verify", nil, []string{"verify"}, "beecloud verify: missing " + appID + " and " + master},
		{"bills", nil, []string{"bills"}, "beecloud bills: missing " + appID + " and " + app},
		{"refunds", map[string]string{envAppSecret: testAppSecret}, []string{"refunds"}, "beecloud refunds: missing " + appID},
		{"refund", nil, []string{"refund"}, "beecloud refund: missing " + appID + ", " + app + ", " + master + ", -out-trade-no and -amount"},
		{"refund with an order", map[string]string{envAppID: testAppID, envAppSecret: testAppSecret}, []string{"refund", "-out-trade-no", "test0001"}, "beecloud refund: missing " + master + " and -amount"},
		{"sandbox", map[string]string{envAppID: testAppID}, []string{"sandbox"}, "beecloud sandbox: missing " + app + " (or give no credentials at all for random demo ones)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, "", tt.args...)
			first, _, _ := strings.Cut(r.stderr, "\n")
			assert.Equal(t, exitUsage, r.code, "%s: exit code", r.cmd)
			assert.Equal(t, tt.want, first, "%s: first line of stderr", r.cmd)
		})
	}
}

// TestOneErrorPrefix: an error is printed behind the command's prefix
// alone, not the library's stacked under it ("beecloud sandbox:
// beecloudtest: start sandbox: …").
func TestOneErrorPrefix(t *testing.T) {
	sb, env := newAPISandbox(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, "net.Listen")
	defer busy.Close()
	wrong := map[string]string{envAppID: testAppID, envAppSecret: "00000000-0000-0000-0000-000000000000"}
	tests := []struct {
		name  string
		env   map[string]string
		stdin string
		args  []string
		first string // the first line of stderr, exactly, or its start ending in "…"
	}{
		{"sandbox address in use", nil, "", []string{"sandbox", "-addr", busy.Addr().String()},
			"beecloud sandbox: cannot listen on " + busy.Addr().String() + ": the address is in use"},
		{"bills refused", wrong, "", []string{"bills", "-api-url", sb.URL}, "beecloud bills: GET /2/rest/bills: BeeCloud result_code 1 (APP_INVALID)…"},
		{"bills unreachable", env, "", []string{"bills", "-api-url", "http://127.0.0.1:1"}, "beecloud bills: GET /2/rest/bills…"},
		{"refund refused", env, "", []string{"refund", "-out-trade-no", "test0001", "-amount", "999999", "-yes", "-api-url", sb.URL}, "beecloud refund: …"},
		{"refund invalid", env, "", []string{"refund", "-out-trade-no", "test0001", "-amount", "1", "-refund-no", "x", "-yes", "-api-url", sb.URL}, "beecloud refund: invalid refund request: …"},
		{"verify forged", nil, paidBody(beecloud.Config{AppID: testAppID, MasterSecret: "wrong"}), []string{"verify", "-app-id", testAppID, "-master-secret", testMasterSecret}, "FAILED: the signature: bad signature…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, tt.stdin, tt.args...)
			require.NotEqual(t, exitOK, r.code, "%s: exit code; want a failure\nstdout: %s", r.cmd, r.stdout)
			first, _, _ := strings.Cut(r.stderr, "\n")
			if prefix, ok := strings.CutSuffix(tt.first, "…"); ok {
				assert.True(t, strings.HasPrefix(first, prefix), "%s: first line of stderr:\n%s\nwant it to start with:\n%s", r.cmd, first, prefix)
			} else {
				assert.Equal(t, tt.first, first, "%s: first line of stderr", r.cmd)
			}
			for _, stacked := range []string{"beecloud: ", "beecloudtest: "} {
				assert.NotContains(t, r.stderr, stacked, "%s: stderr stacks the library's prefix", r.cmd)
			}
		})
	}
}

func TestMessageDropsLibraryPrefixes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"beecloudtest: start sandbox: listen tcp: x", "start sandbox: listen tcp: x"},
		{"beecloud: outcome unknown: beecloud: POST /2/rest/refund: EOF", "outcome unknown: POST /2/rest/refund: EOF"},
		{"beecloud: beecloud: twice", "twice"},
		{"a\nbeecloud: second line", "a\nsecond line"},
		{"the file beecloud: notes.txt", "the file beecloud: notes.txt"},
		{"mybeecloud: x", "mybeecloud: x"},
		{"lost (beecloud: POST /2/rest/refund: EOF)", "lost (POST /2/rest/refund: EOF)"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, message("%s", tt.in), "message(%q, %q)", "%s", tt.in)
	}
}
