package main

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSign(t *testing.T) {
	creds := []string{"-app-id", testAppID, "-app-secret", testAppSecret}
	env := map[string]string{envAppID: testAppID, envAppSecret: testAppSecret}
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stdout string   // exact, when not empty
		stderr []string // substrings
	}{
		{
			name:   "public vector",
			args:   append(creds, "-title", "test", "-amount", "1", "-out-trade-no", "test0001"),
			stdout: "e68639606d2d0a99b2e2c8872729d004\n",
		},
		{
			name:   "secrets from env",
			env:    env,
			args:   []string{"-title", "test", "-amount", "1", "-out-trade-no", "test0001"},
			stdout: "e68639606d2d0a99b2e2c8872729d004\n",
		},
		{
			name:   "flag wins over env",
			env:    map[string]string{envAppID: testAppID, envAppSecret: "wrong"},
			args:   []string{"-app-secret", testAppSecret, "-title", "test", "-amount", "1", "-out-trade-no", "test0001"},
			stdout: "e68639606d2d0a99b2e2c8872729d004\n",
		},
		{
			name:   "too long title warns but signs",
			args:   append(creds, "-title", "测试商品测试商品测试商品测试商品x", "-amount", "100", "-out-trade-no", "test0001"),
			stdout: sign(testAppID+"测试商品测试商品测试商品测试商品x100test0001"+testAppSecret) + "\n",
			stderr: []string{"warning: title: is 33 GBK bytes long", "BeeCloud will refuse"},
		},
		{
			name:   "bad out_trade_no warns",
			args:   append(creds, "-title", "test", "-amount", "1", "-out-trade-no", "t-1"),
			stderr: []string{"warning: out_trade_no: must be 8 to 32"},
		},
		{
			name:   "zero amount warns",
			args:   append(creds, "-title", "test", "-amount", "0", "-out-trade-no", "test0001"),
			stderr: []string{"warning: amount: must be a positive number of 分"},
		},
		{
			name:   "leading zeros warn",
			args:   append(creds, "-title", "test", "-amount", "001", "-out-trade-no", "test0001"),
			stdout: "e68639606d2d0a99b2e2c8872729d004\n",
			stderr: []string{`-amount "001" is signed as 1`},
		},
		{
			name:   "yuan amount",
			args:   append(creds, "-title", "test", "-amount", "1.00", "-out-trade-no", "test0001"),
			code:   exitUsage,
			stderr: []string{`amount "1.00" is not an integer`, "分 (fen), 1 = ¥0.01", "for ¥1.00 write 100"},
		},
		{
			name:   "exponent amount",
			args:   append(creds, "-title", "test", "-amount", "1e2", "-out-trade-no", "test0001"),
			code:   exitUsage,
			stderr: []string{`amount "1e2" is not an integer`},
		},
		{
			name:   "huge amount",
			args:   append(creds, "-title", "test", "-amount", "99999999999999999999", "-out-trade-no", "test0001"),
			code:   exitUsage,
			stderr: []string{"out of range"},
		},
		{
			name:   "missing app id",
			args:   []string{"-app-secret", testAppSecret, "-title", "test", "-amount", "1", "-out-trade-no", "test0001"},
			code:   exitUsage,
			stderr: []string{"missing -app-id (or $BEECLOUD_APP_ID)"},
		},
		{
			name:   "missing app secret",
			args:   []string{"-app-id", testAppID, "-title", "test", "-amount", "1", "-out-trade-no", "test0001"},
			code:   exitUsage,
			stderr: []string{"missing -app-secret (or $BEECLOUD_APP_SECRET)"},
		},
		{
			name:   "missing title",
			args:   append(creds, "-amount", "1", "-out-trade-no", "test0001"),
			code:   exitUsage,
			stderr: []string{"missing -title"},
		},
		{
			name:   "missing amount",
			args:   append(creds, "-title", "test", "-out-trade-no", "test0001"),
			code:   exitUsage,
			stderr: []string{"missing -amount"},
		},
		{
			name:   "missing out_trade_no",
			args:   append(creds, "-title", "test", "-amount", "1"),
			code:   exitUsage,
			stderr: []string{"missing -out-trade-no"},
		},
		{
			name:   "unknown flag",
			args:   append(creds, "-price", "1"),
			code:   exitUsage,
			stderr: []string{"unknown flag -price"},
		},
		{
			name:   "extra argument",
			args:   append(creds, "-title", "test", "-amount", "1", "-out-trade-no", "test0001", "extra"),
			code:   exitUsage,
			stderr: []string{`unexpected argument "extra"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, "", append([]string{"sign"}, tt.args...)...)
			require.Equal(t, tt.code, r.code, "%s: exit code (stderr %q)", r.cmd, r.stderr)
			if tt.stdout != "" {
				assert.Equal(t, tt.stdout, r.stdout, "%s: stdout", r.cmd)
			}
			if tt.code == exitOK {
				assert.Len(t, strings.TrimSpace(r.stdout), 32, "%s: stdout; want a 32-digit sign", r.cmd)
			} else {
				assert.Empty(t, r.stdout, "%s: stdout; want nothing on failure", r.cmd)
			}
			for _, want := range tt.stderr {
				assert.Contains(t, r.stderr, want, "%s: stderr", r.cmd)
			}
			if len(tt.stderr) == 0 {
				assert.Empty(t, r.stderr, "%s: stderr", r.cmd)
			}
		})
	}
}

func TestSignVerbose(t *testing.T) {
	base := []string{"sign", "-app-id", testAppID, "-app-secret", testAppSecret, "-title", "中文", "-amount", "150", "-out-trade-no", "test0001", "-v"}

	t.Run("masked", func(t *testing.T) {
		r := runCLI(t, nil, "", base...)
		require.Equal(t, exitOK, r.code, "%s: exit code (stderr %q)", r.cmd, r.stderr)
		assert.NotContains(t, r.stdout, testAppSecret, "%s: -v printed the secret", r.cmd)
		for _, want := range []string{
			"hashed:       " + testAppID + "中文150test0001<secret: 36 bytes>\n",
			`title:        "中文" (UTF-8: e4 b8 ad e6 96 87)`,
			"amount:       150 (分, ¥1.50)",
			"(89 bytes of UTF-8",
			"sign:         " + sign(testAppID+"中文150test0001"+testAppSecret),
		} {
			assert.Contains(t, r.stdout, want, "%s: stdout", r.cmd)
		}
	})
	t.Run("show secret", func(t *testing.T) {
		r := runCLI(t, nil, "", append(base, "-show-secret")...)
		assert.Contains(t, r.stdout, "hashed:       "+testAppID+"中文150test0001"+testAppSecret+"\n", "%s: stdout", r.cmd)
	})
}

func TestParseFen(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"1", 1, ""},
		{"150", 150, ""},
		{" 100 ", 100, ""},
		{"-5", -5, ""},
		{"1.00", 0, "for ¥1.00 write 100"},
		{"1.5", 0, "for ¥1.5 write 150"},
		{"0.01", 0, "for ¥0.01 write 1"},
		{"1.234", 0, "is not an integer"},
		{".5", 0, "is not an integer"},
		{"abc", 0, "is not an integer"},
		{"", 0, "empty amount"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseFen(tt.in)
			if tt.wantErr == "" {
				require.NoError(t, err, "parseFen(%q)", tt.in)
				assert.Equal(t, tt.want, got, "parseFen(%q)", tt.in)
				return
			}
			// The message is the hint the user reads.
			assert.ErrorContains(t, err, tt.wantErr, "parseFen(%q)", tt.in)
		})
	}
}

func FuzzParseFen(f *testing.F) {
	for _, s := range []string{"1", "1.00", "1.5", "-3", "1e2", "", "99999999999999999999", "12345678901234.99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseFen(s)
		if err == nil && n == 0 {
			// Only a spelling of zero may read as 0 without an error.
			zero := strings.TrimSpace(s) == "0" || strings.Trim(strings.TrimSpace(s), "0+-") == ""
			assert.True(t, zero, "parseFen(%q) = 0 without error", s)
		}
	})
}

func sign(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
