package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// newAPISandbox returns a sandbox for the test app with order test0001
// (¥1.50) paid through Alipay, and the environment that reaches it.
func newAPISandbox(t *testing.T) (*beecloudtest.Sandbox, map[string]string) {
	t.Helper()
	sb := beecloudtest.NewSandbox(beecloudtest.App{Config: testConfig})
	t.Cleanup(sb.Close)
	params, err := testConfig.Params(beecloud.Order{Title: "tea", Amount: 150, OutTradeNo: "test0001"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Pay(testAppID, params, beecloud.ChannelAli); err != nil {
		t.Fatal(err)
	}
	return sb, map[string]string{envAppID: testAppID, envAppSecret: testAppSecret, envMasterSecret: testMasterSecret}
}

func TestAPICommands(t *testing.T) {
	sb, env := newAPISandbox(t)
	api := []string{"-api-url", sb.URL}
	refundNo := beecloud.NewRefundNo(time.Now())
	wrong := map[string]string{envAppID: testAppID, envAppSecret: "00000000-0000-0000-0000-000000000000"}
	tests := []struct {
		name   string
		env    map[string]string
		stdin  string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"bills of a paid order", env, "", append([]string{"bills", "-out-trade-no", "test0001"}, api...), exitOK, "Order test0001 is PAID", ""},
		{"bills of an unknown order", env, "", append([]string{"bills", "-out-trade-no", "nosuch0001"}, api...), exitFailure, "BeeCloud has no bill for order nosuch0001", ""},
		{"all bills", env, "", append([]string{"bills"}, api...), exitOK, "ALI_WEB", ""},
		{"bills with a wrong secret", wrong, "", append([]string{"bills"}, api...), exitFailure, "", "result_code 1"},
		{"bills limit", env, "", append([]string{"bills", "-limit", "51"}, api...), exitUsage, "", "-limit must be 1 to 50"},
		{"bills without credentials", nil, "", append([]string{"bills"}, api...), exitUsage, "", "missing -app-id (or $BEECLOUD_APP_ID)"},
		{"bills bad url", env, "", []string{"bills", "-api-url", "api.beecloud.cn"}, exitUsage, "", "-api-url \"api.beecloud.cn\" is not an http or https URL"},
		{"refund not confirmed", env, "n\n", append([]string{"refund", "-out-trade-no", "test0001", "-amount", "50"}, api...), exitFailure, "", "not confirmed; nothing was sent"},
		{"refund without an answer", env, "", append([]string{"refund", "-out-trade-no", "test0001", "-amount", "50"}, api...), exitFailure, "", "not confirmed"},
		{"refund in yuan", env, "", append([]string{"refund", "-out-trade-no", "test0001", "-amount", "0.5", "-yes"}, api...), exitUsage, "", "for ¥0.5 write 50"},
		{"refund without master secret", map[string]string{envAppID: testAppID, envAppSecret: testAppSecret}, "", append([]string{"refund", "-out-trade-no", "test0001", "-amount", "1", "-yes"}, api...), exitUsage, "", "missing -master-secret"},
		{"refund number of another day", env, "", append([]string{"refund", "-out-trade-no", "test0001", "-amount", "50", "-refund-no", "20200520r01"}, api...), exitUsage, "", "refund_no: must start with today's date in Beijing"},
		{"refund confirmed", env, "yes\n", append([]string{"refund", "-out-trade-no", "test0001", "-amount", "50", "-refund-no", refundNo}, api...), exitOK, "Refund " + refundNo + " of ¥0.50 for order test0001: taken by BeeCloud", "Refund ¥0.50 of order test0001 (refund_no " + refundNo + ")"},
		{"refund too much", env, "", append([]string{"refund", "-out-trade-no", "test0001", "-amount", "101", "-yes"}, api...), exitFailure, "", "result_code 12"},
		{"refunds", env, "", append([]string{"refunds", "-out-trade-no", "test0001"}, api...), exitOK, refundNo, ""},
		{"no refunds", env, "", append([]string{"refunds", "-out-trade-no", "nosuch0001"}, api...), exitOK, "No refunds.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, tt.stdin, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit code %d; want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, tt.stdout) {
				t.Errorf("stdout:\n%s\nwant it to contain %q", r.stdout, tt.stdout)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr:\n%s\nwant it to contain %q", r.stderr, tt.stderr)
			}
			for _, secret := range []string{testAppSecret, testMasterSecret} {
				if strings.Contains(r.stdout+r.stderr, secret) {
					t.Error("the output shows a secret")
				}
			}
		})
	}
	refunds := sb.Refunds()
	if len(refunds) != 1 || refunds[0].RefundNo != refundNo || refunds[0].Amount != 50 {
		t.Errorf("the sandbox's refunds: %+v; want the one confirmed refund of 50 分", refunds)
	}
}

// TestRefundOutcomeUnknown checks that a refund whose answer is lost is
// shown as unknown, with the command that checks it again, never one that
// refunds again, and that refund-outcome settles it.
func TestRefundOutcomeUnknown(t *testing.T) {
	sb, env := newAPISandbox(t)
	api := []string{"-api-url", sb.URL}
	sb.FailNext(beecloudtest.Fault{Method: "POST", Path: "/2/rest/refund", Status: 502})
	c, stdout, stderr := testCLI(env, "")
	// Two seconds: a second for the answer, a second of look-ups.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c.ctx = ctx
	no := beecloud.NewRefundNo(time.Now())
	code := c.run(append([]string{"refund", "-out-trade-no", "test0001", "-amount", "50", "-refund-no", no, "-yes"}, api...))
	if code != exitUnknown {
		t.Errorf("exit code %d; want %d (unknown)\nstdout: %s\nstderr: %s", code, exitUnknown, stdout, stderr)
	}
	for _, want := range []string{"OUTCOME UNKNOWN", "Do NOT refund again", "beecloud refund-outcome -refund-no " + no} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout:\n%s\nwant it to contain %q", stdout, want)
		}
	}
	if strings.Contains(stdout.String()+stderr.String(), "beecloud refund -") {
		t.Errorf("the output offers to refund again:\n%s%s", stdout, stderr)
	}
	if !strings.Contains(stderr.String(), "outcome unknown") {
		t.Errorf("stderr:\n%s\nwant the error", stderr)
	}
	if n := len(sb.Refunds()); n != 0 {
		t.Errorf("the sandbox made %d refunds; want none (the 502 came before it)", n)
	}

	r := runCLI(t, env, "", append([]string{"refund-outcome", "-refund-no", no}, api...)...)
	if r.code != exitFailure || !strings.Contains(r.stdout, "BeeCloud has no refund "+no+" yet") || !strings.Contains(r.stdout, "Do NOT refund again yet") {
		t.Errorf("refund-outcome of a refund BeeCloud lacks: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	made := runCLI(t, env, "", append([]string{"refund", "-out-trade-no", "test0001", "-amount", "30", "-yes"}, api...)...)
	if made.code != exitOK {
		t.Fatalf("refund: %d %s %s", made.code, made.stdout, made.stderr)
	}
	other := sb.Refunds()[0].RefundNo
	r = runCLI(t, env, "", append([]string{"refund-outcome", "-refund-no", other}, api...)...)
	if r.code != exitOK || !strings.Contains(r.stdout, "Refund "+other+" of ¥0.30 for order test0001: BeeCloud has it") {
		t.Errorf("refund-outcome of a refund BeeCloud has: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A number BeeCloud has is never sent again: it would refund twice.
	r = runCLI(t, env, "", append([]string{"refund", "-out-trade-no", "test0001", "-amount", "30", "-refund-no", other, "-yes"}, api...)...)
	if r.code != exitFailure || !strings.Contains(r.stdout, "exists already") || !strings.Contains(r.stdout, "nothing was sent") {
		t.Errorf("refund with a number BeeCloud has: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := len(sb.Refunds()); n != 1 {
		t.Errorf("the sandbox made %d refunds; want 1", n)
	}
	if r := runCLI(t, env, "", append([]string{"refund-outcome"}, api...)...); r.code != exitUsage || !strings.Contains(r.stderr, "missing -refund-no") {
		t.Errorf("refund-outcome without -refund-no: %d %s", r.code, r.stderr)
	}
}
