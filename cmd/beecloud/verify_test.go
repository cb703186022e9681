package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testConfig = beecloud.Config{AppID: testAppID, AppSecret: testAppSecret, MasterSecret: testMasterSecret}

func paidBody(cfg beecloud.Config) string {
	n := beecloudtest.Paid(beecloud.Order{OutTradeNo: "test0001", Amount: 150, Optional: map[string]any{"agent_id": "Alice"}})
	n.ChannelType, n.SubChannelType = "ALI", "ALI_WEB"
	return string(beecloudtest.NotificationBody(cfg, n))
}

func TestVerify(t *testing.T) {
	good := paidBody(testConfig)
	dir := t.TempDir()
	file := filepath.Join(dir, "webhook.json")
	require.NoError(t, os.WriteFile(file, []byte(good), 0o600), "WriteFile")
	creds := []string{"-app-id", testAppID, "-master-secret", testMasterSecret}
	env := map[string]string{envAppID: testAppID, envMasterSecret: testMasterSecret}
	wrongMaster := testConfig
	wrongMaster.MasterSecret = "00000000-0000-0000-0000-000000000000"
	withAppSecret := testConfig
	withAppSecret.MasterSecret = testAppSecret
	legacy := beecloudtest.Paid(beecloud.Order{OutTradeNo: "test0001", Amount: 1})
	legacy.Legacy = true
	legacyBody := string(beecloudtest.NotificationBody(testConfig, legacy))

	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		stdin    string
		code     int
		stdout   []string
		stderr   []string
		noSecret bool
	}{
		{
			name:   "file",
			args:   append(creds, file),
			stdout: []string{"OK: " + file + " is a valid webhook for app " + testAppID, "transaction_id:         test0001", "transaction_fee:        150 (分, ¥1.50)", "sub_channel_type:       ALI_WEB", `optional:               {"agent_id":"Alice"}`},
		},
		{name: "stdin dash", args: append(creds, "-"), stdin: good, stdout: []string{"OK: stdin"}},
		{name: "stdin implicit", env: env, stdin: good, stdout: []string{"OK: stdin", "trade_success:          true"}},
		{
			name:     "wrong master secret",
			args:     creds,
			stdin:    paidBody(wrongMaster),
			code:     exitFailure,
			stderr:   []string{"FAILED: the signature: bad signature", "got:      " + beecloud.WebhookSignature(testAppID, "test0001", "PAY", "ALI", 150, wrongMaster.MasterSecret), "expected: " + beecloud.WebhookSignature(testAppID, "test0001", "PAY", "ALI", 150, testMasterSecret)[:6] + "… (the rest with -show-expected)", "= " + testAppID + "test0001PAYALI150<secret: 36 bytes>"},
			noSecret: true,
		},
		{
			name:   "signed with the app secret",
			args:   append(creds, "-app-secret", testAppSecret),
			stdin:  paidBody(withAppSecret),
			code:   exitFailure,
			stderr: []string{"signed with the App Secret"},
		},
		{
			name:   "show secret",
			args:   append(creds, "-show-secret"),
			stdin:  paidBody(wrongMaster),
			code:   exitFailure,
			stderr: []string{"= " + testAppID + "test0001PAYALI150" + testMasterSecret},
		},
		{
			name:   "tampered amount",
			args:   creds,
			stdin:  strings.Replace(good, `"transaction_fee":150`, `"transaction_fee":1`, 1),
			code:   exitFailure,
			stderr: []string{"FAILED: the signature", "PAYALI1<secret"},
		},
		{name: "bad json", args: creds, stdin: `{"signature":`, code: exitFailure, stderr: []string{"FAILED: the body's fields", "not valid JSON"}},
		{name: "empty body", args: creds, stdin: "", code: exitFailure, stderr: []string{"FAILED: the body's fields", "empty body"}},
		{name: "fee as decimal", args: creds, stdin: strings.Replace(good, `"transaction_fee":150`, `"transaction_fee":1.50`, 1), code: exitFailure, stderr: []string{"FAILED: the body's fields", "transaction_fee"}},
		{name: "legacy refused", args: creds, stdin: legacyBody, code: exitFailure, stderr: []string{"FAILED: the signature scheme", "-legacy"}},
		{name: "legacy accepted", args: append(creds, "-legacy", "-app-secret", testAppSecret), stdin: legacyBody, stdout: []string{"OK: stdin", "sign (legacy scheme)"}},
		{name: "legacy needs app secret", args: append(creds, "-legacy"), code: exitUsage, stderr: []string{"-legacy needs -app-secret"}},
		{name: "missing master secret", args: []string{"-app-id", testAppID}, code: exitUsage, stderr: []string{"missing -master-secret (or $BEECLOUD_MASTER_SECRET)"}},
		{name: "missing app id", args: []string{"-master-secret", testMasterSecret}, code: exitUsage, stderr: []string{"missing -app-id"}},
		{name: "no such file", args: append(creds, filepath.Join(dir, "nope.json")), code: exitFailure, stderr: []string{"nope.json: no such file"}},
		{name: "two files", args: append(creds, file, file), code: exitUsage, stderr: []string{"want one file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, tt.stdin, append([]string{"verify"}, tt.args...)...)
			require.Equal(t, tt.code, r.code, "%s: exit code\nstdout: %s\nstderr: %s", r.cmd, r.stdout, r.stderr)
			for _, want := range tt.stdout {
				assert.Contains(t, r.stdout, want, "%s: stdout", r.cmd)
			}
			for _, want := range tt.stderr {
				assert.Contains(t, r.stderr, want, "%s: stderr", r.cmd)
			}
			if tt.code != exitOK {
				assert.Empty(t, r.stdout, "%s: stdout; want nothing on failure", r.cmd)
			}
			if tt.noSecret {
				assert.NotContains(t, r.stdout+r.stderr, testMasterSecret, "%s: the Master Secret was printed", r.cmd)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(paidBody(testConfig))
	f.Add(`{"signature":"x","transaction_fee":"1"}`)
	f.Add(`{"signature":"00000000000000000000000000000000","timestamp":1,"channel_type":"ALI","transaction_type":"PAY","transaction_id":"a","transaction_fee":1e400}`)
	f.Add(`{"signature":"\u001b[2J","timestamp":1,"channel_type":"A\u202eLI","transaction_type":"PAY","transaction_id":"a\u0007","transaction_fee":1}`)
	f.Fuzz(func(t *testing.T, body string) {
		c, stdout, stderr := testCLI(nil, body)
		code := c.run([]string{"verify", "-app-id", testAppID, "-master-secret", testMasterSecret, "-"})
		assert.Contains(t, []int{exitOK, exitFailure}, code, "verify -: exit code")
		assert.NotContains(t, stderr.String(), testMasterSecret, "verify -: stderr; the Master Secret was printed")
		out := stdout.String() + stderr.String()
		control := strings.ContainsFunc(out, func(r rune) bool { return r != '\n' && !strconv.IsPrint(r) })
		assert.False(t, control, "verify - printed a control character:\n%q", out)
		assert.True(t, utf8.ValidString(out), "verify - printed invalid UTF-8:\n%q", out)
	})
}

// A webhook body comes from anywhere: the fields verify prints from it
// must not carry a terminal escape to the terminal, whether the body
// verifies or not.
func TestVerifyQuotesControlCharacters(t *testing.T) {
	n := beecloudtest.Paid(beecloud.Order{OutTradeNo: "test0001", Amount: 1})
	n.ChannelType, n.SubChannelType, n.TransactionType = "ALI\x1b[2J", "ALI_WEB\x1b]0;x\x07", "PAY\u202e"
	n.ChannelTransactionID = "\x1b[31m"
	good := string(beecloudtest.NotificationBody(testConfig, n))
	n.Signature = "\x1b[2Jforged"
	bad := string(beecloudtest.NotificationBody(testConfig, n))
	for _, body := range []string{good, bad} {
		r := runCLI(t, nil, body, "verify", "-app-id", testAppID, "-master-secret", testMasterSecret)
		out := r.stdout + r.stderr
		assert.False(t, strings.ContainsAny(out, "\x1b\x07\u202e"), "%s: printed a control character (exit %d):\n%q", r.cmd, r.code, out)
	}
}
