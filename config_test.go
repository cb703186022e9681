package beecloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
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
			if strings.Contains(out, part) {
				t.Errorf("%s shows secret text %q: %s", how, part, out)
			}
		}
	}
	if !strings.Contains(out, testAppID) {
		t.Errorf("%s does not show the AppID %q: %s", how, testAppID, out)
	}
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
					if strings.Contains(out, s) {
						t.Errorf("Sprintf(%q, %s) shows a secret: %s", verb, name, out)
					}
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
	if got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
	if got := fmt.Sprintf("%#v", Config{AppID: "app", MasterSecret: "m"}); got != want {
		t.Errorf("%%#v = %q; want %q", got, want)
	}
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
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"app_id": "app", "app_secret": "[redacted]", "master_secret": "", "test_secret": "",
		"script_url": "", "legacy_webhook": false,
	}
	if got, wantS := fmt.Sprint(rec.Cfg), fmt.Sprint(want); got != wantS {
		t.Errorf("logged cfg = %s; want %s", got, wantS)
	}
}

func TestConfigMarshalJSON(t *testing.T) {
	cfg := secretConfig()
	b, err := json.Marshal(struct{ Config Config }{cfg})
	if err != nil {
		t.Fatal(err)
	}
	assertRedacted(t, "json.Marshal", string(b))

	// Unmarshalling the output must not set a secret to "[redacted]".
	var back Config
	if err := json.Unmarshal(b[len(`{"Config":`):len(b)-1], &back); err != nil {
		t.Fatal(err)
	}
	if back.AppSecret != "" || back.MasterSecret != "" || back.TestSecret != "" {
		t.Errorf("round trip set secrets: %q %q %q", back.AppSecret, back.MasterSecret, back.TestSecret)
	}
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
		if !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%v.checkSigning() = %v; want ErrInvalidConfig", tt.cfg, err)
			continue
		}
		for _, m := range tt.mention {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%v.checkSigning() = %q; want it to name %s", tt.cfg, err, m)
			}
		}
		if strings.Contains(err.Error(), testAppSecret) || strings.Contains(err.Error(), testMasterSecret) {
			t.Errorf("checkSigning() error shows a secret: %q", err)
		}
	}
	if err := secretConfig().checkSigning(); err != nil {
		t.Errorf("checkSigning() of a complete config = %v; want nil", err)
	}
}

func TestConfigNow(t *testing.T) {
	fixed := time.Date(2015, 3, 20, 2, 11, 50, 0, time.UTC)
	if got := (Config{Now: func() time.Time { return fixed }}).now(); !got.Equal(fixed) {
		t.Errorf("now() with Now set = %v; want %v", got, fixed)
	}
	before := time.Now()
	got := Config{}.now()
	if got.Before(before) || got.After(time.Now()) {
		t.Errorf("now() with nil Now = %v; want the current time", got)
	}
}
