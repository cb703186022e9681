package beecloudtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

var cfg = beecloud.Config{
	AppID:        "afae2a33-c9cb-4139-88c9-af5c1df472e1",
	MasterSecret: "506371c7-b095-45da-bfce-9ae857c41a85",
	AppSecret:    "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
	TestSecret:   "2c0c5e0d-7a3b-4b8e-8f0e-3f4d5c6b7a80",
}

var order = beecloud.Order{Title: "测试", Amount: 150, OutTradeNo: "bc1234567", InstantChannel: beecloud.ChannelWxMP,
	Optional: map[string]any{"agent_id": "Alice"}}

// BeeCloud's public webhook vector, made by the signer.
func TestNotificationBodyVector(t *testing.T) {
	n := beecloud.Notification{ChannelType: "BC", TransactionType: "PAY", TransactionID: "5f0c1466d8bd11e6b66d00163e005bb3", TransactionFee: 1, Timestamp: time.UnixMilli(1426817510111)}
	var got map[string]any
	if err := json.Unmarshal(beecloudtest.NotificationBody(cfg, n), &got); err != nil {
		t.Fatal(err)
	}
	if got["signature"] != "e204d63775d3d29dafe6788a0a978755" || got["timestamp"] != 1426817510111.0 || got["transaction_fee"] != 1.0 {
		t.Errorf("got %v; want the public vector's signature, timestamp and fee", got)
	}
	if _, ok := got["sign"]; ok {
		t.Errorf("current scheme body has a legacy sign: %v", got)
	}
}

func TestPaid(t *testing.T) {
	n := beecloudtest.Paid(order)
	if n.TransactionType != "PAY" || n.TransactionID != order.OutTradeNo || n.TransactionFee != order.Amount ||
		!n.TradeSuccess || n.ChannelType != "WX" || n.SubChannelType != "WX_NATIVE" || n.Optional["agent_id"] != "Alice" {
		t.Errorf("got %+v", n)
	}
	n.Optional["agent_id"] = "Bob"
	if order.Optional["agent_id"] != "Alice" {
		t.Error("Paid shares the order's Optional map")
	}
	if n := beecloudtest.Paid(beecloud.Order{Title: "x", Amount: 1, OutTradeNo: "12345678"}); n.ChannelType != "BC" || n.SubChannelType != "BC_NATIVE" {
		t.Errorf("no instant channel: got %s/%s; want BC/BC_NATIVE", n.ChannelType, n.SubChannelType)
	}
}

func TestNotificationBodyVerifies(t *testing.T) {
	now := time.Date(2016, 5, 1, 12, 0, 0, 0, time.UTC)
	legacyCfg := cfg
	legacyCfg.LegacyWebhook = true
	legacyCfg.Now = func() time.Time { return now }
	onlyTest := beecloud.Config{AppID: cfg.AppID, TestSecret: cfg.TestSecret}

	current := beecloudtest.Paid(order)
	legacy := beecloudtest.Paid(order)
	legacy.Legacy, legacy.Timestamp = true, now
	forged := beecloudtest.Paid(order)
	forged.Signature = strings.Repeat("0", 32)

	tests := []struct {
		name     string
		signer   beecloud.Config
		verifier beecloud.Config
		n        beecloud.Notification
		want     error
	}{
		{"current", cfg, cfg, current, nil},
		{"legacy with the app secret", cfg, legacyCfg, legacy, nil},
		{"legacy with the test secret", onlyTest, legacyCfg, legacy, nil},
		{"legacy, receiver without legacy", cfg, cfg, legacy, beecloud.ErrLegacyDisabled},
		{"signature given", cfg, cfg, forged, beecloud.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := tt.verifier.ParseNotification(beecloudtest.NotificationBody(tt.signer, tt.n))
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("got %v; want %v", err, tt.want)
			}
			if err == nil && (n.TransactionID != order.OutTradeNo || n.Legacy != tt.n.Legacy) {
				t.Errorf("got %+v", n)
			}
		})
	}
}

func TestNotificationBodyTimestamp(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	c := cfg
	c.Now = func() time.Time { return at }
	n, err := c.ParseNotification(beecloudtest.NotificationBody(c, beecloudtest.Paid(order)))
	if err != nil {
		t.Fatal(err)
	}
	if !n.Timestamp.Equal(at) {
		t.Errorf("Timestamp %v; want cfg.Now() %v", n.Timestamp, at)
	}
}

func TestNotificationBodyTestMode(t *testing.T) {
	c := cfg
	c.LegacyWebhook = true
	for _, test := range []bool{false, true} {
		n := beecloudtest.Paid(order)
		n.Legacy, n.Test = true, test
		got, err := c.ParseNotification(beecloudtest.NotificationBody(c, n))
		if err != nil {
			t.Fatalf("Test %t: %v", test, err)
		}
		if got.Test != test {
			t.Errorf("a legacy body made with Test %t parses with Test %t", test, got.Test)
		}
	}
}

func TestNotificationBodyPanics(t *testing.T) {
	legacy := beecloudtest.Paid(order)
	legacy.Legacy = true
	badOptional := beecloudtest.Paid(order)
	badOptional.Optional = map[string]any{"f": func() {}}
	tests := []struct {
		name string
		cfg  beecloud.Config
		n    beecloud.Notification
	}{
		{"no app id", beecloud.Config{MasterSecret: "m"}, beecloudtest.Paid(order)},
		{"no master secret", beecloud.Config{AppID: cfg.AppID}, beecloudtest.Paid(order)},
		{"legacy without secrets", beecloud.Config{AppID: cfg.AppID, MasterSecret: "m"}, legacy},
		{"unencodable optional", cfg, badOptional},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "beecloudtest: ") {
					t.Errorf("panic %v; want a beecloudtest: message", r)
				}
			}()
			beecloudtest.NotificationBody(tt.cfg, tt.n)
		})
	}
}

func TestNewRequest(t *testing.T) {
	var got *beecloud.Notification
	h := &beecloud.WebhookHandler{
		Apps:           beecloud.Apps{cfg},
		AllowedSenders: beecloud.WebhookSenders(),
		Handle: func(ctx context.Context, n *beecloud.Notification) error {
			got = n
			return nil
		},
	}
	r := beecloudtest.NewRequest(cfg, beecloudtest.Paid(order))
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s with Content-Type %q; want POST application/json", r.Method, r.Header.Get("Content-Type"))
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || w.Body.String() != "success" {
		t.Fatalf("answer %d %q; want 200 success", w.Code, w.Body.String())
	}
	if got == nil || got.TransactionFee != order.Amount {
		t.Errorf("Handle got %+v", got)
	}
}

// Whatever NotificationBody signs, ParseNotification reads back the same.
func FuzzNotificationBodyRoundTrip(f *testing.F) {
	f.Add("bc1234567", "PAY", "ALI", int64(150), "agent_id", "Alice")
	f.Add("<script>&\u2028", "REFUND", "测试", int64(0), "", "\"quoted\"\n")
	f.Add("x", "SIGN", "PAYPAL", int64(1<<62), "k", "\x00")
	f.Fuzz(func(t *testing.T, id, typ, channel string, fee int64, key, value string) {
		// ParseNotification takes only BeeCloud's types, channels and numbers.
		valid := id != "" && len(id) <= beecloud.MaxTransactionIDLength && strings.Trim(id, alnum) == "" &&
			strings.Contains(" PAY REFUND TRANSFER SUBSCRIPTION SIGN ", " "+typ+" ") && strings.Trim(typ, alnum) == "" &&
			strings.Contains(" WX ALI UN KUAIQIAN JD BD YEE PAYPAL BC ", " "+channel+" ") && strings.Trim(channel, alnum) == "" &&
			fee >= 0 && allValid(id, typ, channel, key, value)
		if !valid {
			return
		}
		in := beecloud.Notification{
			ChannelType: beecloud.ChannelType(channel), TransactionType: beecloud.TransactionType(typ), TransactionID: id, TransactionFee: fee,
			TradeSuccess: true, Optional: map[string]any{key: value}, Timestamp: time.UnixMilli(1426817510111),
		}
		n, err := cfg.ParseNotification(beecloudtest.NotificationBody(cfg, in))
		if err != nil {
			t.Fatalf("ParseNotification: %v", err)
		}
		if n.TransactionID != id || string(n.TransactionType) != typ || string(n.ChannelType) != channel || n.TransactionFee != fee ||
			n.Optional[key] != value || !n.Timestamp.Equal(in.Timestamp) {
			t.Fatalf("got %+v; want %+v", n, in)
		}
	})
}

const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func allValid(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}
