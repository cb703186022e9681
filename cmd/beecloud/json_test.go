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
)

// decodeStdout decodes the whole of stdout as one JSON value into v: a
// script reading it must not meet any text besides the JSON.
func decodeStdout(t *testing.T, r result, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("stdout is not one JSON value: %v\nstdout: %s\nstderr: %s", err, r.stdout, r.stderr)
	}
}

func TestJSONBillsAndRefunds(t *testing.T) {
	sb, env := newAPISandbox(t)
	api := []string{"-api-url", sb.URL}

	r := runCLI(t, env, "", append([]string{"bills", "-json"}, api...)...)
	if r.code != exitOK {
		t.Fatalf("bills -json: exit %d, stderr %s", r.code, r.stderr)
	}
	var bills []map[string]any
	decodeStdout(t, r, &bills)
	if len(bills) != 1 {
		t.Fatalf("bills -json printed %d bills; want 1: %s", len(bills), r.stdout)
	}
	b := bills[0]
	for key, want := range map[string]any{
		"out_trade_no": "test0001", "title": "tea", "channel": "ALI", "sub_channel": "ALI_WEB",
		"amount": 150.0, "paid": true, "refunded": false, "reverted": false,
	} {
		if b[key] != want {
			t.Errorf("bill %s = %v; want %v", key, b[key], want)
		}
	}
	if id, _ := b["id"].(string); id == "" {
		t.Errorf("bill id = %v; want BeeCloud's record id", b["id"])
	}
	if _, err := time.Parse(time.RFC3339, b["created_at"].(string)); err != nil {
		t.Errorf("created_at %v is not RFC 3339: %v", b["created_at"], err)
	}

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
		if r.code != tt.code || len(got) != tt.n || got == nil {
			t.Errorf("bills -json -out-trade-no %s: exit %d, %d bills (%s); want exit %d, %d bills", tt.order, r.code, len(got), r.stdout, tt.code, tt.n)
		}
	}

	r = runCLI(t, env, "", append([]string{"refunds", "-json"}, api...)...)
	if r.code != exitOK || strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("refunds -json with none: exit %d, stdout %q; want 0 and []", r.code, r.stdout)
	}
	refundNo := beecloud.NewRefundNo(time.Now())
	client := &beecloud.Client{Config: testConfig, BaseURL: sb.URL}
	if _, err := client.Refund(context.Background(), beecloud.RefundRequest{OutTradeNo: "test0001", RefundNo: refundNo, Amount: 50}); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, env, "", append([]string{"refunds", "-json"}, api...)...)
	var refunds []map[string]any
	decodeStdout(t, r, &refunds)
	if len(refunds) != 1 {
		t.Fatalf("refunds -json printed %d refunds; want 1: %s", len(refunds), r.stdout)
	}
	for key, want := range map[string]any{
		"refund_no": refundNo, "out_trade_no": "test0001", "amount": 50.0, "bill_amount": 150.0,
		"state": "succeeded", "channel": "ALI", "sub_channel": "ALI_WEB",
	} {
		if refunds[0][key] != want {
			t.Errorf("refund %s = %v; want %v", key, refunds[0][key], want)
		}
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
	if err := os.WriteFile(good, []byte(paidBody(testConfig)), 0o600); err != nil {
		t.Fatal(err)
	}
	creds := []string{"-app-id", testAppID, "-master-secret", testMasterSecret}

	r := runCLI(t, nil, "", append(append([]string{"verify", "-json"}, creds...), good)...)
	var ok verdict
	decodeStdout(t, r, &ok)
	if r.code != exitOK || !ok.OK || ok.Source != good || ok.Notification == nil {
		t.Fatalf("verify -json of a good body: exit %d, %s", r.code, r.stdout)
	}
	for key, want := range map[string]any{
		"app_id": testAppID, "transaction_type": "PAY", "transaction_id": "test0001", "transaction_fee": 150.0,
		"trade_success": true, "channel_type": "ALI", "sub_channel_type": "ALI_WEB", "legacy": false, "test": false,
	} {
		if ok.Notification[key] != want {
			t.Errorf("notification %s = %v; want %v", key, ok.Notification[key], want)
		}
	}
	if opt, _ := ok.Notification["optional"].(map[string]any); opt["agent_id"] != "Alice" {
		t.Errorf("notification optional = %v; want agent_id Alice", ok.Notification["optional"])
	}
	if _, err := time.Parse(time.RFC3339, ok.Notification["timestamp"].(string)); err != nil {
		t.Errorf("timestamp %v is not RFC 3339: %v", ok.Notification["timestamp"], err)
	}

	wrong := testConfig
	wrong.MasterSecret = "00000000-0000-0000-0000-000000000000"
	r = runCLI(t, nil, paidBody(wrong), append(append([]string{"verify", "-json"}, creds...), "-")...)
	var bad verdict
	decodeStdout(t, r, &bad)
	if r.code != exitFailure || bad.OK || bad.Problem != "signature" || bad.Notification != nil || bad.Source != "stdin" {
		t.Errorf("verify -json of a forged body: exit %d, %s; want exit 1, problem signature", r.code, r.stdout)
	}
	if !strings.HasPrefix(bad.Error, "bad signature") {
		t.Errorf("error %q; want it to start with the cause, with no package prefix", bad.Error)
	}
	if r.stderr != "" {
		t.Errorf("stderr %q; want nothing besides the JSON verdict", r.stderr)
	}

	r = runCLI(t, nil, "{", append(append([]string{"verify", "-json"}, creds...), "-")...)
	decodeStdout(t, r, &bad)
	if r.code != exitFailure || bad.Problem != "malformed" {
		t.Errorf("verify -json of a broken body: exit %d, %s; want problem malformed", r.code, r.stdout)
	}
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
	if r.code != exitOK || req.Method != "POST" || req.Headers["Content-Type"] != "application/json" {
		t.Fatalf("send -dry-run -json: exit %d, %s", r.code, r.stdout)
	}
	if req.URL != "http://shop:xxxxx@127.0.0.1:1/webhook" {
		t.Errorf("url %q; want the -url with its password hidden", req.URL)
	}
	n, err := testConfig.ParseNotification(req.Body)
	if err != nil {
		t.Fatalf("the body does not verify: %v", err)
	}
	if n.TransactionID != "test0001" || n.TransactionFee != 150 {
		t.Errorf("the body's notification: %+v", n)
	}

	r = runCLI(t, nil, "", "send", "-json", "-url", "http://127.0.0.1:1/", "-app-id", testAppID, "-master-secret", testMasterSecret, "-out-trade-no", "test0001", "-amount", "1")
	if r.code != exitUsage || !strings.Contains(r.stderr, "-json goes with -dry-run") {
		t.Errorf("send -json without -dry-run: exit %d, stderr %q; want a usage error", r.code, r.stderr)
	}
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
			if r.code != exitUsage || first != tt.want {
				t.Errorf("exit %d, first line of stderr:\n%s\nwant exit %d and:\n%s", r.code, first, exitUsage, tt.want)
			}
		})
	}
}

// TestOneErrorPrefix: an error is printed behind the command's prefix
// alone, not the library's stacked under it ("beecloud sandbox:
// beecloudtest: start sandbox: …").
func TestOneErrorPrefix(t *testing.T) {
	sb, env := newAPISandbox(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
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
			if r.code == exitOK {
				t.Fatalf("exit 0; want a failure\nstdout: %s", r.stdout)
			}
			first, _, _ := strings.Cut(r.stderr, "\n")
			if prefix, ok := strings.CutSuffix(tt.first, "…"); ok {
				if !strings.HasPrefix(first, prefix) {
					t.Errorf("first line of stderr:\n%s\nwant it to start with:\n%s", first, prefix)
				}
			} else if first != tt.first {
				t.Errorf("first line of stderr:\n%s\nwant:\n%s", first, tt.first)
			}
			for _, stacked := range []string{"beecloud: ", "beecloudtest: "} {
				if strings.Contains(r.stderr, stacked) {
					t.Errorf("stderr stacks the library's prefix %q:\n%s", stacked, r.stderr)
				}
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
		if got := message("%s", tt.in); got != tt.want {
			t.Errorf("message(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
