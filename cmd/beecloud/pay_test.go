package main

import (
	"testing"

	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/stretchr/testify/assert"
)

const testTestSecret = "4bfdd244-574d-4bf3-b034-0c751ed34fee"

func TestPay(t *testing.T) {
	cfg := testConfig
	cfg.TestSecret = testTestSecret
	sb := beecloudtest.NewSandbox(beecloudtest.App{Config: cfg})
	t.Cleanup(sb.Close)
	api := []string{"-api-url", sb.URL}
	env := map[string]string{envAppID: testAppID, envAppSecret: testAppSecret, envTestSecret: testTestSecret}
	pay := func(args ...string) []string { return append(append([]string{"pay"}, api...), args...) }
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"WX_NATIVE", env, pay("-channel", "WX_NATIVE", "-amount", "1", "-title", "咖啡", "-out-trade-no", "cli000001"), exitOK, "code_url: " + sb.URL + "/sandbox/pay/", ""},
		{"WX_NATIVE in test mode", env, pay("-test", "-channel", "WX_NATIVE", "-amount", "1", "-title", "咖啡", "-out-trade-no", "cli000001"), exitOK, "test mode", ""},
		{"WX_JSAPI", env, pay("-channel", "WX_JSAPI", "-amount", "1", "-title", "t", "-openid", "oUser1"), exitOK, `"paySign":`, ""},
		{"ALI_APP with optional", env, pay("-channel", "ALI_APP", "-amount", "150", "-title", "t", "-optional", "k=v"), exitOK, "order_string: ", ""},
		{"ALI_WEB", env, pay("-channel", "ALI_WEB", "-amount", "1", "-title", "t", "-return-url", "http://shop.example.com/ok"), exitOK, "html: ", ""},
		{"WX_JSAPI without openid", env, pay("-channel", "WX_JSAPI", "-amount", "1", "-title", "t"), exitUsage, "", "openid: is required for WX_JSAPI"},
		{"every problem at once", env, pay("-channel", "ALI_QRCODE", "-amount", "0", "-title", "t", "-out-trade-no", "x"), exitUsage, "", "qr_pay_mode"},
		{"no channel", env, pay("-amount", "1", "-title", "t"), exitUsage, "", "missing -channel"},
		{"amount in yuan", env, pay("-channel", "WX_NATIVE", "-amount", "0.01", "-title", "t"), exitUsage, "", "for ¥0.01 write 1"},
		{"test without test secret", map[string]string{envAppID: testAppID, envAppSecret: testAppSecret}, pay("-test", "-channel", "WX_NATIVE", "-amount", "1", "-title", "t"), exitUsage, "", "-test needs -test-secret"},
		{"wrong secret", map[string]string{envAppID: testAppID, envAppSecret: testMasterSecret}, pay("-channel", "WX_NATIVE", "-amount", "1", "-title", "t"), exitFailure, "", "result_code 1"},
		{"card password from the environment", map[string]string{envAppID: testAppID, envAppSecret: testAppSecret, envCardPassword: "pw1234"},
			pay("-channel", "YEE_NOBANKCARD", "-amount", "1000", "-title", "t", "-card-no", "1234", "-card-type", "SZX"), exitOK, "Bill ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, "", tt.args...)
			assert.Equal(t, tt.code, r.code, "%s: exit code\nstdout: %s\nstderr: %s", r.cmd, r.stdout, r.stderr)
			assert.Contains(t, r.stdout, tt.stdout, "%s: stdout", r.cmd)
			assert.Contains(t, r.stderr, tt.stderr, "%s: stderr", r.cmd)
			for _, secret := range []string{testAppSecret, testMasterSecret, testTestSecret, "pw1234"} {
				assert.NotContains(t, r.stdout+r.stderr, secret, "%s: the output shows a secret", r.cmd)
			}
		})
	}
	var live, test int
	for _, b := range sb.Bills() {
		if b.Order.OutTradeNo == "cli000001" {
			if b.Test {
				test++
			} else {
				live++
			}
		}
	}
	assert.Equal(t, 1, live, "Sandbox.Bills(): live bills of cli000001")
	assert.Equal(t, 1, test, "Sandbox.Bills(): test bills of cli000001")
}
