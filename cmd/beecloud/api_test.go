package main

import (
	"context"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newAPISandbox returns a sandbox for the test app with order test0001
// (¥1.50) paid through Alipay, and the environment that reaches it.
func newAPISandbox(t *testing.T) (*beecloudtest.Sandbox, map[string]string) {
	t.Helper()
	sb := beecloudtest.NewSandbox(beecloudtest.App{Config: testConfig})
	t.Cleanup(sb.Close)
	params, err := testConfig.Params(beecloud.Order{Title: "tea", Amount: 150, OutTradeNo: "test0001"})
	require.NoError(t, err, "Params")
	_, err = sb.Pay(testAppID, params, beecloud.ChannelAli)
	require.NoError(t, err, "Sandbox.Pay")
	return sb, map[string]string{envAppID: testAppID, envAppSecret: testAppSecret, envMasterSecret: testMasterSecret}
}

func TestAPICommands(t *testing.T) {
	sb, env := newAPISandbox(t)
	api := []string{"-api-url", sb.URL}
	refundNo := beecloud.NewRefundNo(time.Now())
	wrong := map[string]string{envAppID: testAppID, envAppSecret: "00000000-0000-0000-0000-000000000000"}
	// The rows are steps on one sandbox, run in order: "refunds" lists the
	// refund that "refund confirmed" made, so run the test whole.
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
			assert.Equal(t, tt.code, r.code, "%s: exit code\nstdout: %s\nstderr: %s", r.cmd, r.stdout, r.stderr)
			assert.Contains(t, r.stdout, tt.stdout, "%s: stdout", r.cmd)
			assert.Contains(t, r.stderr, tt.stderr, "%s: stderr", r.cmd)
			for _, secret := range []string{testAppSecret, testMasterSecret} {
				assert.NotContains(t, r.stdout+r.stderr, secret, "%s: the output shows a secret", r.cmd)
			}
		})
	}
	refunds := sb.Refunds()
	require.Len(t, refunds, 1, "Sandbox.Refunds(); want the one confirmed refund")
	assert.Equal(t, refundNo, refunds[0].RefundNo, "Sandbox.Refunds()[0].RefundNo")
	assert.Equal(t, int64(50), refunds[0].Amount, "Sandbox.Refunds()[0].Amount, in 分")
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
	assert.Equal(t, exitUnknown, code, "refund with a lost answer: exit code\nstdout: %s\nstderr: %s", stdout, stderr)
	for _, want := range []string{"OUTCOME UNKNOWN", "Do NOT refund again", "beecloud refund-outcome -refund-no " + no} {
		assert.Contains(t, stdout.String(), want, "refund with a lost answer: stdout")
	}
	assert.NotContains(t, stdout.String()+stderr.String(), "beecloud refund -", "refund with a lost answer: the output offers to refund again")
	assert.Contains(t, stderr.String(), "outcome unknown", "refund with a lost answer: stderr; want the error")
	assert.Empty(t, sb.Refunds(), "Sandbox.Refunds(); want none (the 502 came before it)")

	r := runCLI(t, env, "", append([]string{"refund-outcome", "-refund-no", no}, api...)...)
	// refund-outcome of a refund BeeCloud lacks.
	assert.Equal(t, exitFailure, r.code, "%s: exit code\nstdout: %s\nstderr: %s", r.cmd, r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "BeeCloud has no refund "+no+" yet", "%s: stdout", r.cmd)
	assert.Contains(t, r.stdout, "Do NOT refund again yet", "%s: stdout", r.cmd)
	made := runCLI(t, env, "", append([]string{"refund", "-out-trade-no", "test0001", "-amount", "30", "-yes"}, api...)...)
	require.Equal(t, exitOK, made.code, "%s: exit code\nstdout: %s\nstderr: %s", made.cmd, made.stdout, made.stderr)
	refunds := sb.Refunds()
	require.NotEmpty(t, refunds, "Sandbox.Refunds() after %s", made.cmd)
	other := refunds[0].RefundNo
	// refund-outcome of a refund BeeCloud has.
	r = runCLI(t, env, "", append([]string{"refund-outcome", "-refund-no", other}, api...)...)
	assert.Equal(t, exitOK, r.code, "%s: exit code\nstdout: %s\nstderr: %s", r.cmd, r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "Refund "+other+" of ¥0.30 for order test0001: BeeCloud has it", "%s: stdout", r.cmd)
	// A number BeeCloud has is never sent again: it would refund twice.
	r = runCLI(t, env, "", append([]string{"refund", "-out-trade-no", "test0001", "-amount", "30", "-refund-no", other, "-yes"}, api...)...)
	assert.Equal(t, exitFailure, r.code, "%s: exit code\nstdout: %s\nstderr: %s", r.cmd, r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "exists already", "%s: stdout", r.cmd)
	assert.Contains(t, r.stdout, "nothing was sent", "%s: stdout", r.cmd)
	assert.Len(t, sb.Refunds(), 1, "Sandbox.Refunds()")
	r = runCLI(t, env, "", append([]string{"refund-outcome"}, api...)...)
	assert.Equal(t, exitUsage, r.code, "%s: exit code\nstderr: %s", r.cmd, r.stderr)
	assert.Contains(t, r.stderr, "missing -refund-no", "%s: stderr", r.cmd)
}
