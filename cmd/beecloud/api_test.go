package main

import (
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
