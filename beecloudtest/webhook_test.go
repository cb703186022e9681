package beecloudtest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, json.Unmarshal(beecloudtest.NotificationBody(cfg, n), &got))
	assert.Equal(t, "e204d63775d3d29dafe6788a0a978755", got["signature"], "signature")
	// JSON numbers, read as float64; delta 0 keeps the comparison exact.
	assert.InDelta(t, 1426817510111.0, got["timestamp"], 0, "timestamp")
	assert.InDelta(t, 1.0, got["transaction_fee"], 0, "transaction_fee")
	assert.NotContains(t, got, "sign", "current scheme body has a legacy sign")
}

func TestPaid(t *testing.T) {
	n := beecloudtest.Paid(order)
	assert.Equal(t, beecloud.TransactionType("PAY"), n.TransactionType, "TransactionType")
	assert.Equal(t, order.OutTradeNo, n.TransactionID, "TransactionID")
	assert.Equal(t, order.Amount, n.TransactionFee, "TransactionFee")
	assert.True(t, n.TradeSuccess, "TradeSuccess")
	assert.Equal(t, beecloud.ChannelType("WX"), n.ChannelType, "ChannelType")
	assert.Equal(t, "WX_NATIVE", n.SubChannelType, "SubChannelType")
	assert.Equal(t, "Alice", n.Optional["agent_id"], "Optional")
	n.Optional["agent_id"] = "Bob"
	assert.Equal(t, "Alice", order.Optional["agent_id"], "Paid shares the order's Optional map")
	n = beecloudtest.Paid(beecloud.Order{Title: "x", Amount: 1, OutTradeNo: "12345678"})
	assert.Equal(t, beecloud.ChannelType("BC"), n.ChannelType, "no instant channel: ChannelType")
	assert.Equal(t, "BC_NATIVE", n.SubChannelType, "no instant channel: SubChannelType")
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
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want, "ParseNotification")
				return
			}
			require.NoError(t, err, "ParseNotification")
			assert.Equal(t, order.OutTradeNo, n.TransactionID, "TransactionID")
			assert.Equal(t, tt.n.Legacy, n.Legacy, "Legacy")
		})
	}
}

func TestNotificationBodyTimestamp(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	c := cfg
	c.Now = func() time.Time { return at }
	n, err := c.ParseNotification(beecloudtest.NotificationBody(c, beecloudtest.Paid(order)))
	require.NoError(t, err)
	assert.True(t, n.Timestamp.Equal(at), "Timestamp %v; want cfg.Now() %v", n.Timestamp, at)
}

func TestNotificationBodyTestMode(t *testing.T) {
	c := cfg
	c.LegacyWebhook = true
	for _, test := range []bool{false, true} {
		n := beecloudtest.Paid(order)
		n.Legacy, n.Test = true, test
		got, err := c.ParseNotification(beecloudtest.NotificationBody(c, n))
		require.NoError(t, err, "Test %t", test)
		assert.Equal(t, test, got.Test, "a legacy body made with Test %t", test)
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
				r := recover()
				msg, _ := r.(string)
				assert.True(t, strings.HasPrefix(msg, "beecloudtest: "), "panic %v; want a beecloudtest: message", r)
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
	assert.Equal(t, http.MethodPost, r.Method, "NewRequest: method")
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"), "NewRequest: Content-Type")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	require.Equal(t, http.StatusOK, w.Code, "answer: status")
	require.Equal(t, "success", w.Body.String(), "answer: body")
	require.NotNil(t, got, "Handle was not called")
	assert.Equal(t, order.Amount, got.TransactionFee, "Handle got %+v", got)
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
		require.NoError(t, err, "ParseNotification")
		require.Equal(t, id, n.TransactionID, "TransactionID")
		require.Equal(t, typ, string(n.TransactionType), "TransactionType")
		require.Equal(t, channel, string(n.ChannelType), "ChannelType")
		require.Equal(t, fee, n.TransactionFee, "TransactionFee")
		require.Equal(t, value, n.Optional[key], "Optional[%q]", key)
		require.True(t, n.Timestamp.Equal(in.Timestamp), "Timestamp %v; want %v", n.Timestamp, in.Timestamp)
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
