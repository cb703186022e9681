package main

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"
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
			if r.code != tt.code {
				t.Fatalf("exit code %d; want %d (stderr %q)", r.code, tt.code, r.stderr)
			}
			if tt.stdout != "" && r.stdout != tt.stdout {
				t.Errorf("stdout %q; want %q", r.stdout, tt.stdout)
			}
			if tt.code != exitOK && r.stdout != "" {
				t.Errorf("stdout %q; want nothing on failure", r.stdout)
			}
			if tt.code == exitOK && len(strings.TrimSpace(r.stdout)) != 32 {
				t.Errorf("stdout %q; want a 32-digit sign", r.stdout)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr %q; want it to contain %q", r.stderr, want)
				}
			}
			if len(tt.stderr) == 0 && r.stderr != "" {
				t.Errorf("stderr %q; want nothing", r.stderr)
			}
		})
	}
}

func TestSignVerbose(t *testing.T) {
	base := []string{"sign", "-app-id", testAppID, "-app-secret", testAppSecret, "-title", "中文", "-amount", "150", "-out-trade-no", "test0001", "-v"}

	t.Run("masked", func(t *testing.T) {
		r := runCLI(t, nil, "", base...)
		if r.code != exitOK {
			t.Fatalf("exit code %d; stderr %q", r.code, r.stderr)
		}
		if strings.Contains(r.stdout, testAppSecret) {
			t.Errorf("-v printed the secret:\n%s", r.stdout)
		}
		for _, want := range []string{
			"hashed:       " + testAppID + "中文150test0001<secret: 36 bytes>\n",
			`title:        "中文" (UTF-8: e4 b8 ad e6 96 87)`,
			"amount:       150 (分, ¥1.50)",
			"(89 bytes of UTF-8",
			"sign:         " + sign(testAppID+"中文150test0001"+testAppSecret),
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout:\n%s\nwant it to contain %q", r.stdout, want)
			}
		}
	})
	t.Run("show secret", func(t *testing.T) {
		r := runCLI(t, nil, "", append(base, "-show-secret")...)
		if want := "hashed:       " + testAppID + "中文150test0001" + testAppSecret + "\n"; !strings.Contains(r.stdout, want) {
			t.Errorf("stdout:\n%s\nwant it to contain %q", r.stdout, want)
		}
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
				if err != nil || got != tt.want {
					t.Errorf("parseFen(%q) = %d, %v; want %d, nil", tt.in, got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseFen(%q) error %v; want it to contain %q", tt.in, err, tt.wantErr)
			}
		})
	}
}

func FuzzParseFen(f *testing.F) {
	for _, s := range []string{"1", "1.00", "1.5", "-3", "1e2", "", "99999999999999999999", "12345678901234.99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseFen(s)
		if err == nil && n == 0 && strings.TrimSpace(s) != "0" && strings.Trim(strings.TrimSpace(s), "0+-") != "" {
			t.Errorf("parseFen(%q) = 0 without error", s)
		}
	})
}

func sign(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
