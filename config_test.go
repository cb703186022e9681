package beecloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testAppID        = "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719"
	testAppSecret    = "app-secret-7c1f0e2a"
	testMasterSecret = "master-secret-9b3d44d1"
	testTestSecret   = "test-secret-51aa08e6"
)

func secretConfig() Config {
	return Config{
		AppID:         testAppID,
		AppSecret:     testAppSecret,
		MasterSecret:  testMasterSecret,
		TestSecret:    testTestSecret,
		ScriptURL:     "https://jspay.beecloud.cn/1/pay/jsbutton/returnscripts",
		LegacyWebhook: true,
		LegacyWindow:  time.Minute,
		Now:           func() time.Time { return time.Unix(1426817510, 0) },
	}
}

// assertRedacted fails unless out shows the AppID and no secret, nor a
// long fragment of one.
func assertRedacted(t *testing.T, how, out string) {
	t.Helper()
	for _, secret := range []string{testAppSecret, testMasterSecret, testTestSecret} {
		for _, part := range []string{secret, secret[len(secret)-8:], secret[:len(secret)-9]} {
			assert.NotContains(t, out, part, "%s shows secret text", how)
		}
	}
	assert.Contains(t, out, testAppID, "%s does not show the AppID", how)
}

func TestConfigRedactsFmt(t *testing.T) {
	cfg := secretConfig()
	type holder struct{ Config Config }
	type ptrHolder struct{ Config *Config }
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%t", "%10.3v"} {
		for name, arg := range map[string]any{
			"Config":                    cfg,
			"*Config":                   &cfg,
			"exported field":            holder{cfg},
			"pointer in exported field": ptrHolder{&cfg},
			"slice":                     []Config{cfg},
			"map value":                 map[string]Config{"shop": cfg},
		} {
			out := fmt.Sprintf(verb, arg)
			if name == "pointer in exported field" {
				// fmt prints a nested pointer as an address.
				for _, s := range []string{testAppSecret, testMasterSecret, testTestSecret} {
					assert.NotContains(t, out, s, "Sprintf(%q, %s) shows a secret", verb, name)
				}
				continue
			}
			assertRedacted(t, fmt.Sprintf("Sprintf(%q, %s)", verb, name), out)
		}
	}
}

func TestConfigStringShowsWhatIsSet(t *testing.T) {
	got := Config{AppID: "app", MasterSecret: "m"}.String()
	want := `beecloud.Config{AppID:"app", AppSecret:"", MasterSecret:"[redacted]", TestSecret:"", ScriptURL:"", LegacyWebhook:false, LegacyWindow:0s}`
	assert.Equal(t, want, got, "String()")
	assert.Equal(t, want, fmt.Sprintf("%#v", Config{AppID: "app", MasterSecret: "m"}), "Sprintf(%q)", "%#v")
}

func TestConfigRedactsSlog(t *testing.T) {
	cfg := secretConfig()
	type holder struct{ Config Config }
	for _, h := range []struct {
		name string
		new  func(*bytes.Buffer) slog.Handler
	}{
		{"TextHandler", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
		{"JSONHandler", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
	} {
		for name, arg := range map[string]any{
			"Config":         cfg,
			"*Config":        &cfg,
			"exported field": holder{cfg},
			"slice":          []Config{cfg},
		} {
			var buf bytes.Buffer
			slog.New(h.new(&buf)).Info("starting", "cfg", arg)
			assertRedacted(t, h.name+" with "+name, buf.String())
		}
		var buf bytes.Buffer
		slog.New(h.new(&buf)).With("cfg", cfg).WithGroup("g").Error("failed", slog.Any("cfg", cfg))
		assertRedacted(t, h.name+" With and WithGroup", buf.String())
	}
}

func TestConfigSlogShape(t *testing.T) {
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "cfg", Config{AppID: "app", AppSecret: "s"})
	var rec struct{ Cfg map[string]any }
	require.NoError(t, json.Unmarshal(buf.Bytes(), &rec), "json.Unmarshal(%s)", buf.Bytes())
	want := map[string]any{
		"app_id": "app", "app_secret": "[redacted]", "master_secret": "", "test_secret": "",
		"script_url": "", "legacy_webhook": false,
	}
	assert.Equal(t, want, rec.Cfg, "logged cfg")
}

func TestConfigMarshalJSON(t *testing.T) {
	cfg := secretConfig()
	b, err := json.Marshal(struct{ Config Config }{cfg})
	require.NoError(t, err, "json.Marshal")
	assertRedacted(t, "json.Marshal", string(b))

	// Unmarshalling the output must not set a secret to "[redacted]".
	var back Config
	require.NoError(t, json.Unmarshal(b[len(`{"Config":`):len(b)-1], &back), "json.Unmarshal(%s)", b)
	assert.Empty(t, back.AppSecret, "round trip set AppSecret")
	assert.Empty(t, back.MasterSecret, "round trip set MasterSecret")
	assert.Empty(t, back.TestSecret, "round trip set TestSecret")
}

func TestConfigCheckSigning(t *testing.T) {
	tests := []struct {
		cfg     Config
		mention []string
	}{
		{Config{}, []string{"AppID", "AppSecret"}},
		{Config{AppSecret: testAppSecret}, []string{"AppID"}},
		{Config{AppID: testAppID, MasterSecret: testMasterSecret}, []string{"AppSecret"}},
	}
	for _, tt := range tests {
		err := tt.cfg.checkSigning()
		require.ErrorIs(t, err, ErrInvalidConfig, "%v.checkSigning()", tt.cfg)
		for _, m := range tt.mention {
			require.ErrorContains(t, err, m, "%v.checkSigning(); want it to name %s", tt.cfg, m)
		}
		assert.NotContains(t, err.Error(), testAppSecret, "checkSigning() error shows a secret")
		assert.NotContains(t, err.Error(), testMasterSecret, "checkSigning() error shows a secret")
	}
	assert.NoError(t, secretConfig().checkSigning(), "checkSigning() of a complete config")
}

func TestConfigNow(t *testing.T) {
	fixed := time.Date(2015, 3, 20, 2, 11, 50, 0, time.UTC)
	got := (Config{Now: func() time.Time { return fixed }}).now()
	assert.True(t, got.Equal(fixed), "now() with Now set = %v; want %v", got, fixed)
	before := time.Now()
	got = Config{}.now()
	assert.WithinRange(t, got, before, time.Now(), "now() with nil Now; want the current time")
}
