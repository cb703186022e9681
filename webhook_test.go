package beecloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// BeeCloud's public webhook vector (beecloud-dotnet BCUtilTests.cs).
const (
	vecAppID     = "afae2a33-c9cb-4139-88c9-af5c1df472e1"
	vecMaster    = "506371c7-b095-45da-bfce-9ae857c41a85"
	vecTxID      = "5f0c1466d8bd11e6b66d00163e005bb3"
	vecSignature = "e204d63775d3d29dafe6788a0a978755"
)

// vecBody is a webhook in the shape of BeeCloud's example, signed as the
// public vector: PAY, BC, fee 1.
const vecBody = `{"signature":"e204d63775d3d29dafe6788a0a978755","timestamp":1426817510111,` +
	`"channel_type":"BC","sub_channel_type":"BC_NATIVE","transaction_type":"PAY",` +
	`"transaction_id":"5f0c1466d8bd11e6b66d00163e005bb3","transaction_fee":1,"trade_success":true,` +
	`"message_detail":{"trade_no":"2015052300001000620053541865","out_trade_no":"5f0c1466d8bd11e6b66d00163e005bb3",` +
	`"trade_status":"TRADE_SUCCESS","total_fee":"0.01","subject":"测试","buyer_email":"13909965298"},` +
	`"optional":{"agent_id":"Alice","n":12345678901234567890123,"ok":true},` +
	`"channel_transaction_id":"2015052300001000620053541865"}`

var vecConfig = beecloud.Config{AppID: vecAppID, MasterSecret: vecMaster}

// swap returns vecBody with old replaced by new, failing the test if old
// is not in it.
func swap(t testing.TB, old, repl string) string {
	t.Helper()
	require.Contains(t, vecBody, old, "swap: vecBody")
	return strings.Replace(vecBody, old, repl, 1)
}

func TestParseNotificationVector(t *testing.T) {
	n, err := vecConfig.ParseNotification([]byte(vecBody))
	require.NoError(t, err, "ParseNotification")
	want := &beecloud.Notification{
		Signature:       vecSignature,
		Timestamp:       time.UnixMilli(1426817510111),
		ChannelType:     "BC",
		SubChannelType:  "BC_NATIVE",
		TransactionType: "PAY",
		TransactionID:   vecTxID,
		TransactionFee:  1,
		TradeSuccess:    true,
		MessageDetail: json.RawMessage(`{"trade_no":"2015052300001000620053541865","out_trade_no":"5f0c1466d8bd11e6b66d00163e005bb3",` +
			`"trade_status":"TRADE_SUCCESS","total_fee":"0.01","subject":"测试","buyer_email":"13909965298"}`),
		Optional:             map[string]any{"agent_id": "Alice", "n": json.Number("12345678901234567890123"), "ok": true},
		ChannelTransactionID: "2015052300001000620053541865",
		AppID:                vecAppID,
	}
	assert.Equal(t, want, n, "BeeCloud's example body, decoded") // a field-by-field diff on failure
	assert.Equal(t, vecAppID+":PAY:"+vecTxID, n.Key(), "Key()")
	n.Test = true
	assert.Equal(t, "test:"+vecAppID+":PAY:"+vecTxID, n.Key(), "Key() of a test message")
}

func TestParseNotificationDoesNotAliasBody(t *testing.T) {
	body := []byte(vecBody)
	n, err := vecConfig.ParseNotification(body)
	require.NoError(t, err, "ParseNotification")
	for i := range body {
		body[i] = 'x'
	}
	// The Notification must not change with the body it came from.
	assert.Equal(t, vecTxID, n.TransactionID, "ParseNotification: TransactionID after the body was overwritten")
	assert.Truef(t, json.Valid(n.MessageDetail), "ParseNotification: MessageDetail %q after the body was overwritten; want valid JSON", n.MessageDetail)
	assert.Equal(t, vecSignature, n.Signature, "ParseNotification: Signature after the body was overwritten")
}

func TestParseNotificationTampered(t *testing.T) {
	tests := []struct{ name, old, new string }{
		{"fee", `"transaction_fee":1,`, `"transaction_fee":2,`},
		{"fee zero", `"transaction_fee":1,`, `"transaction_fee":0,`},
		{"transaction id", `"transaction_id":"5f0c`, `"transaction_id":"5f0d`},
		{"transaction type", `"transaction_type":"PAY"`, `"transaction_type":"REFUND"`},
		{"channel", `"channel_type":"BC"`, `"channel_type":"WX"`},
		{"signature", vecSignature, "e204d63775d3d29dafe6788a0a978756"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := vecConfig.ParseNotification([]byte(swap(t, tt.old, tt.new)))
			require.ErrorIs(t, err, beecloud.ErrBadSignature, "ParseNotification of the tampered body")
		})
	}
	t.Run("other app", func(t *testing.T) {
		cfg := beecloud.Config{AppID: "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719", MasterSecret: vecMaster}
		_, err := cfg.ParseNotification([]byte(vecBody))
		require.ErrorIs(t, err, beecloud.ErrBadSignature, "ParseNotification with another AppID")
	})
	t.Run("other master secret", func(t *testing.T) {
		cfg := beecloud.Config{AppID: vecAppID, MasterSecret: "39a7a518-9ac8-4a9e-87bc-7885f33cf18c"}
		_, err := cfg.ParseNotification([]byte(vecBody))
		require.ErrorIs(t, err, beecloud.ErrBadSignature, "ParseNotification with another MasterSecret")
	})
}

// Fields outside the signature may change without breaking it: the
// documented reason to grant goods only on the signed ones.
func TestParseNotificationUnsignedFields(t *testing.T) {
	n, err := vecConfig.ParseNotification([]byte(swap(t, `"agent_id":"Alice"`, `"agent_id":"Mallory"`)))
	require.NoError(t, err, "ParseNotification")
	assert.Equal(t, "Mallory", n.Optional["agent_id"], "ParseNotification: Optional[agent_id]")
}

func TestParseNotificationTolerates(t *testing.T) {
	tests := []struct {
		name, body string
		check      func(*beecloud.Notification) bool
	}{
		{"unknown keys of any type", swap(t, `{"signature"`, `{"new_field":{"a":[1,2.5,null]},"x":-1.5e3,"y":"z","signature"`), nil},
		{"unknown key repeated", swap(t, `{"signature"`, `{"x":1,"x":"2","signature"`), nil},
		{"whitespace around", " \n\t" + vecBody + "\r\n ", nil},
		{"null optional fields", `{"signature":"e204d63775d3d29dafe6788a0a978755","timestamp":1,"channel_type":"BC","transaction_type":"PAY",` +
			`"transaction_id":"5f0c1466d8bd11e6b66d00163e005bb3","transaction_fee":1,"optional":null,"message_detail":null,` +
			`"sub_channel_type":null,"trade_success":null,"channel_transaction_id":null}`,
			func(n *beecloud.Notification) bool {
				return n.Optional == nil && n.MessageDetail == nil && !n.TradeSuccess && n.SubChannelType == ""
			}},
		{"missing optional fields", `{"signature":"e204d63775d3d29dafe6788a0a978755","timestamp":1,"channel_type":"BC","transaction_type":"PAY","transaction_id":"5f0c1466d8bd11e6b66d00163e005bb3","transaction_fee":1}`,
			func(n *beecloud.Notification) bool {
				return n.Optional == nil && n.MessageDetail == nil && !n.TradeSuccess && n.SubChannelType == ""
			}},
		{"escaped strings", swap(t, `"channel_type":"BC"`, `"channel_type":"\u0042C"`),
			func(n *beecloud.Notification) bool { return n.ChannelType == "BC" }},
		{"escaped key", swap(t, `"transaction_fee":1`, `"transaction\u005ffee":1`),
			func(n *beecloud.Notification) bool { return n.TransactionFee == 1 }},
		{"both signature and legacy sign", swap(t, `{"signature"`, `{"sign":"00000000000000000000000000000000","signature"`),
			func(n *beecloud.Notification) bool { return !n.Legacy }},
		{"optional of strings, numbers and booleans", swap(t, `"agent_id":"Alice"`, `"agent_id":"Alice","b":false,"c":-1.25e2,"Agent_ID":"x"`),
			func(n *beecloud.Notification) bool {
				return n.Optional["c"] == json.Number("-1.25e2") && n.Optional["b"] == false && n.Optional["Agent_ID"] == "x"
			}},
		{"known keys nested", swap(t, `{"signature"`, `{"x":{"transaction_fee":1000,"signature":"00000000000000000000000000000000"},"y":[{"transaction_id":"other"}],"signature"`),
			func(n *beecloud.Notification) bool {
				return n.TransactionFee == 1 && n.TransactionID == vecTxID && n.Signature == vecSignature
			}},
		{"PAYPAL refund", vecBodyFor(t, beecloud.ChannelTypePayPal, beecloud.TransactionRefund, vecTxID, 1),
			func(n *beecloud.Notification) bool { return n.ChannelType == "PAYPAL" && n.TransactionType == "REFUND" }},
		{"one-letter id", vecBodyFor(t, "BC", "PAY", "Z", 1), func(n *beecloud.Notification) bool { return n.TransactionID == "Z" }},
		{"32-byte id", vecBodyFor(t, "BC", "PAY", strings.Repeat("9", 32), 1),
			func(n *beecloud.Notification) bool { return len(n.TransactionID) == 32 }},
		{"largest int64 fee", vecBodyFor(t, "BC", "PAY", vecTxID, math.MaxInt64),
			func(n *beecloud.Notification) bool { return n.TransactionFee == math.MaxInt64 }},
		{"largest int64 timestamp", swap(t, `"timestamp":1426817510111`, `"timestamp":9223372036854775807`),
			func(n *beecloud.Notification) bool { return n.Timestamp.UnixMilli() == math.MaxInt64 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := vecConfig.ParseNotification([]byte(tt.body))
			require.NoError(t, err, "ParseNotification")
			if tt.check != nil {
				assert.Truef(t, tt.check(n), "ParseNotification: got %+v", n)
			}
		})
	}
}

// vecBodyFor returns vecBody with the signed fields replaced and signed.
func vecBodyFor(t testing.TB, channel beecloud.ChannelType, typ beecloud.TransactionType, id string, fee int64) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(vecBody), &m), "vecBodyFor: json.Unmarshal(vecBody)")
	m["channel_type"], m["transaction_type"], m["transaction_id"], m["transaction_fee"] = channel, typ, id, fee
	m["signature"] = beecloud.WebhookSignature(vecAppID, id, typ, channel, fee, vecMaster)
	b, err := json.Marshal(m)
	require.NoError(t, err, "vecBodyFor: json.Marshal")
	return string(b)
}

func TestParseNotificationLegacy(t *testing.T) {
	now := time.Date(2016, 5, 1, 12, 0, 0, 0, time.UTC)
	cfg := beecloud.Config{
		AppID:        vecAppID,
		MasterSecret: vecMaster,
		AppSecret:    "39a7a518-9ac8-4a9e-87bc-7885f33cf18c",
		TestSecret:   "2c0c5e0d-7a3b-4b8e-8f0e-3f4d5c6b7a80",
		Now:          func() time.Time { return now },
	}
	body := func(secret string, ts time.Time) []byte {
		n := beecloud.Notification{
			Legacy: true, Timestamp: ts, ChannelType: "ALI", TransactionType: "PAY",
			TransactionID: "bc1234567", TransactionFee: 10, TradeSuccess: true,
		}
		signer := beecloud.Config{AppID: cfg.AppID, TestSecret: secret}
		return beecloudtest.NotificationBody(signer, n)
	}

	t.Run("refused by default", func(t *testing.T) {
		_, err := cfg.ParseNotification(body(cfg.AppSecret, now))
		require.ErrorIs(t, err, beecloud.ErrLegacyDisabled, "ParseNotification of a legacy body without LegacyWebhook")
	})

	on := cfg
	on.LegacyWebhook = true
	tests := []struct {
		name   string
		cfg    beecloud.Config
		secret string
		offset time.Duration
		want   error
	}{
		{"app secret now", on, cfg.AppSecret, 0, nil},
		{"test secret now", on, cfg.TestSecret, 0, nil},
		{"4m59s old", on, cfg.AppSecret, -4*time.Minute - 59*time.Second, nil},
		{"5m old", on, cfg.AppSecret, -5 * time.Minute, nil},
		{"4m59s ahead", on, cfg.AppSecret, 4*time.Minute + 59*time.Second, nil},
		{"5m1s old", on, cfg.AppSecret, -5*time.Minute - time.Second, beecloud.ErrStaleNotification},
		{"5m1s ahead", on, cfg.AppSecret, 5*time.Minute + time.Second, beecloud.ErrStaleNotification},
		{"a day old", on, cfg.AppSecret, -24 * time.Hour, beecloud.ErrStaleNotification},
		{"wrong secret", on, vecMaster, 0, beecloud.ErrBadSignature},
		{"wrong secret and stale", on, vecMaster, time.Hour, beecloud.ErrBadSignature},
		{"window 1m, 2m old", withWindow(on, time.Minute), cfg.AppSecret, -2 * time.Minute, beecloud.ErrStaleNotification},
		{"window 1h, 59m ahead", withWindow(on, time.Hour), cfg.AppSecret, 59 * time.Minute, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := tt.cfg.ParseNotification(body(tt.secret, now.Add(tt.offset)))
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want, "ParseNotification")
				return
			}
			require.NoError(t, err, "ParseNotification")
			assert.True(t, n.Legacy, "ParseNotification: Legacy")
			assert.Equal(t, vecAppID, n.AppID, "ParseNotification: AppID")
			assert.Equal(t, int64(10), n.TransactionFee, "ParseNotification: TransactionFee")
			// A sandbox payment never passes for a real one.
			assert.Equal(t, tt.secret == cfg.TestSecret, n.Test, "ParseNotification: Test (true when signed with the TestSecret)")
		})
	}
}

func withWindow(c beecloud.Config, d time.Duration) beecloud.Config {
	c.LegacyWindow = d
	return c
}

func TestParseNotificationInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  beecloud.Config
	}{
		{"zero", beecloud.Config{}},
		{"no master secret", beecloud.Config{AppID: vecAppID, AppSecret: "x"}},
		{"no app id", beecloud.Config{MasterSecret: vecMaster}},
		{"legacy without secrets", beecloud.Config{AppID: vecAppID, MasterSecret: vecMaster, LegacyWebhook: true}},
		{"negative window", beecloud.Config{AppID: vecAppID, MasterSecret: vecMaster, LegacyWindow: -time.Second}},
		{"colon in app id", beecloud.Config{AppID: "a:b", MasterSecret: vecMaster}},
		{"test secret is the app secret", beecloud.Config{AppID: vecAppID, MasterSecret: vecMaster, LegacyWebhook: true, AppSecret: "s", TestSecret: "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The body is valid for vecConfig: only the Config is at fault.
			_, err := tt.cfg.ParseNotification([]byte(vecBody))
			require.ErrorIs(t, err, beecloud.ErrInvalidConfig, "ParseNotification")
			assert.NotContains(t, err.Error(), vecMaster, "ParseNotification: the error shows the secret")
		})
	}
	_, err := (beecloud.Apps{}).ParseNotification([]byte(vecBody))
	require.ErrorIs(t, err, beecloud.ErrInvalidConfig, "ParseNotification of empty Apps")
	_, err = (beecloud.Apps{vecConfig, {}}).ParseNotification([]byte(vecBody))
	require.ErrorIs(t, err, beecloud.ErrInvalidConfig, "ParseNotification of Apps with a zero Config")
}

func TestAppsParseNotification(t *testing.T) {
	other := beecloud.Config{AppID: "c5d1cba1-5e3f-4ba0-941d-9b0a371fe719", MasterSecret: "39a7a518-9ac8-4a9e-87bc-7885f33cf18c"}
	rotated := beecloud.Config{AppID: vecAppID, MasterSecret: "new-master-secret"}
	tests := []struct {
		name    string
		apps    beecloud.Apps
		wantApp string
		wantErr error
	}{
		{"second of two apps", beecloud.Apps{other, vecConfig}, vecAppID, nil},
		{"first of two apps", beecloud.Apps{vecConfig, other}, vecAppID, nil},
		{"old secret during rotation", beecloud.Apps{rotated, vecConfig}, vecAppID, nil},
		{"none", beecloud.Apps{other, rotated}, "", beecloud.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := tt.apps.ParseNotification([]byte(vecBody))
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr, "Apps.ParseNotification")
				return
			}
			require.NoError(t, err, "Apps.ParseNotification")
			assert.Equal(t, tt.wantApp, n.AppID, "Apps.ParseNotification: AppID")
		})
	}
	t.Run("other app's body", func(t *testing.T) {
		n, err := beecloud.Apps{vecConfig, other}.ParseNotification(beecloudtest.NotificationBody(other, beecloudtest.Paid(testOrder)))
		require.NoError(t, err, "Apps.ParseNotification")
		assert.Equal(t, other.AppID, n.AppID, "Apps.ParseNotification: AppID")
	})
	t.Run("legacy on one app only", func(t *testing.T) {
		legacy := other
		legacy.LegacyWebhook, legacy.AppSecret = true, "legacy-app-secret"
		paid := beecloudtest.Paid(testOrder)
		paid.Legacy = true
		n, err := beecloud.Apps{vecConfig, legacy}.ParseNotification(beecloudtest.NotificationBody(legacy, paid))
		require.NoError(t, err, "Apps.ParseNotification")
		assert.Equal(t, other.AppID, n.AppID, "Apps.ParseNotification: AppID")
		assert.True(t, n.Legacy, "Apps.ParseNotification: Legacy")
		assert.False(t, n.Test, "Apps.ParseNotification: Test")
		// Signed with that app's TestSecret: a sandbox payment, marked.
		sandbox := legacy
		sandbox.TestSecret = "legacy-test-secret"
		n, err = beecloud.Apps{vecConfig, sandbox}.ParseNotification(beecloudtest.NotificationBody(
			beecloud.Config{AppID: sandbox.AppID, TestSecret: sandbox.TestSecret}, paid))
		require.NoError(t, err, "Apps.ParseNotification of a sandbox body")
		assert.Equal(t, other.AppID, n.AppID, "Apps.ParseNotification of a sandbox body: AppID")
		assert.True(t, n.Test, "Apps.ParseNotification of a sandbox body: Test")
		// The same body, signed for vecConfig's app: not accepted by the
		// legacy app, refused by vecConfig.
		forVec := vecConfig
		forVec.AppSecret = "legacy-app-secret"
		_, err = beecloud.Apps{vecConfig, legacy}.ParseNotification(beecloudtest.NotificationBody(forVec, paid))
		require.ErrorIs(t, err, beecloud.ErrBadSignature, "Apps.ParseNotification of a body signed for vecConfig's app")
	})
}

var testOrder = beecloud.Order{
	Title:          "测试商品",
	Amount:         150,
	OutTradeNo:     "bc1234567abc",
	Optional:       map[string]any{"agent_id": "Alice", "n": 3},
	InstantChannel: beecloud.ChannelAli,
}

// badBody is one entry of the corpus of bodies ParseNotification refuses.
type badBody struct {
	name  string
	body  string
	want  error
	field string // named in the error message, if not empty
}

// badBodies returns the corpus: each body is vecBody with one thing wrong,
// so the error must come from that thing.
func badBodies(t testing.TB) []badBody {
	bad := func(name, old, repl string, want error, field string) badBody {
		return badBody{name, swap(t, old, repl), want, field}
	}
	M, S, L := beecloud.ErrMalformedNotification, beecloud.ErrBadSignature, beecloud.ErrLegacyDisabled
	return []badBody{
		{"empty", "", M, ""},
		{"spaces", "  \n", M, ""},
		{"not json", "signature=e204d63775d3d29dafe6788a0a978755&transaction_fee=1", M, ""},
		{"truncated", vecBody[:len(vecBody)/2], M, ""},
		{"truncated by one", vecBody[:len(vecBody)-1], M, ""},
		{"null", "null", M, ""},
		{"array", "[" + vecBody + "]", M, ""},
		{"string", `"` + vecBody + `"`, M, ""},
		{"empty object", "{}", M, "timestamp"},
		{"trailing data", vecBody + "x", M, ""},
		{"two objects", vecBody + vecBody, M, ""},
		{"trailing comma", strings.TrimSuffix(vecBody, "}") + ",}", M, ""},
		{"invalid utf-8", swap(t, "测试", "\xff\xfe"), M, ""},
		{"nul byte", swap(t, `"channel_type":"BC"`, "\"channel_type\":\"B\x00C\""), M, ""},
		bad("fee 1.5", `"transaction_fee":1,`, `"transaction_fee":1.5,`, M, "transaction_fee"),
		bad("fee 1.0", `"transaction_fee":1,`, `"transaction_fee":1.0,`, M, "transaction_fee"),
		bad("fee string", `"transaction_fee":1,`, `"transaction_fee":"1",`, M, "transaction_fee"),
		bad("fee 1e2", `"transaction_fee":1,`, `"transaction_fee":1e2,`, M, "transaction_fee"),
		bad("fee 1E0", `"transaction_fee":1,`, `"transaction_fee":1E0,`, M, "transaction_fee"),
		bad("fee -1", `"transaction_fee":1,`, `"transaction_fee":-1,`, M, "transaction_fee"),
		bad("fee -0", `"transaction_fee":1,`, `"transaction_fee":-0,`, M, "transaction_fee"),
		bad("fee too large", `"transaction_fee":1,`, `"transaction_fee":9223372036854775808,`, M, "transaction_fee"),
		bad("fee null", `"transaction_fee":1,`, `"transaction_fee":null,`, M, "transaction_fee"),
		bad("fee true", `"transaction_fee":1,`, `"transaction_fee":true,`, M, "transaction_fee"),
		bad("fee object", `"transaction_fee":1,`, `"transaction_fee":{"v":1},`, M, "transaction_fee"),
		bad("fee missing", `"transaction_fee":1,`, ``, M, "transaction_fee"),
		bad("fee twice", `"transaction_fee":1,`, `"transaction_fee":1,"transaction_fee":1000,`, M, "transaction_fee"),
		bad("fee in other case", `"transaction_fee":1,`, `"transaction_fee":1,"Transaction_Fee":1000,`, M, "transaction_fee"),
		bad("fee twice, once escaped", `"transaction_fee":1,`, `"transaction_fee":1,"transaction\u005ffee":1000,`, M, "transaction_fee"),
		bad("signature twice, once folded", `"transaction_fee":1,`, `"transaction_fee":1,"\u017fignature":"00000000000000000000000000000000",`, M, "signature"),
		bad("timestamp string", `"timestamp":1426817510111`, `"timestamp":"1426817510111"`, M, "timestamp"),
		bad("timestamp fraction", `"timestamp":1426817510111`, `"timestamp":1426817510111.5`, M, "timestamp"),
		bad("timestamp missing", `"timestamp":1426817510111,`, ``, M, "timestamp"),
		bad("signature missing", `"signature":"e204d63775d3d29dafe6788a0a978755",`, ``, M, "signature"),
		bad("signature null", `"signature":"e204d63775d3d29dafe6788a0a978755"`, `"signature":null`, M, "signature"),
		bad("signature number", `"signature":"e204d63775d3d29dafe6788a0a978755"`, `"signature":1`, M, "signature"),
		bad("signature twice", `"signature":"e204d63775d3d29dafe6788a0a978755"`, `"signature":"e204d63775d3d29dafe6788a0a978755","signature":"e204d63775d3d29dafe6788a0a978755"`, M, "signature"),
		bad("signature uppercase", vecSignature, strings.ToUpper(vecSignature), S, "signature"),
		bad("signature short", vecSignature, vecSignature[:31], S, "signature"),
		bad("signature long", vecSignature, vecSignature+"0", S, "signature"),
		bad("signature empty", vecSignature, "", S, "signature"),
		bad("signature not hex", vecSignature, "g204d63775d3d29dafe6788a0a978755", S, "signature"),
		bad("signature escaped", vecSignature, `\u0065204d63775d3d29dafe6788a0a978755`, S, "signature"),
		bad("legacy sign", `"signature"`, `"sign"`, L, ""),
		bad("legacy sign uppercase", `"signature":"e204d63775d3d29dafe6788a0a978755"`, `"sign":"E204D63775D3D29DAFE6788A0A978755"`, S, "sign"),
		bad("transaction id empty", `"transaction_id":"5f0c1466d8bd11e6b66d00163e005bb3"`, `"transaction_id":""`, M, "transaction_id"),
		bad("transaction id number", `"transaction_id":"5f0c1466d8bd11e6b66d00163e005bb3"`, `"transaction_id":5`, M, "transaction_id"),
		bad("transaction id too long", `"transaction_id":"5f0c1466d8bd11e6b66d00163e005bb3"`, `"transaction_id":"5f0c1466d8bd11e6b66d00163e005bb3a"`, M, "transaction_id"),
		bad("transaction id with hyphens", `"transaction_id":"5f0c1466d8bd11e6b66d00163e005bb3"`, `"transaction_id":"5f0c1466-d8bd-11e6-b66d-00163e005bb3"`, M, "transaction_id"),
		bad("transaction id with colon", `"transaction_id":"5f0c1466d8bd11e6b66d00163e005bb3"`, `"transaction_id":"PAY:5f0c1466"`, M, "transaction_id"),
		bad("transaction id with space", `"transaction_id":"5f0c1466d8bd11e6b66d00163e005bb3"`, `"transaction_id":"5f0c1466 "`, M, "transaction_id"),
		bad("transaction id underscore", `"transaction_id":"5f0c1466d8bd11e6b66d00163e005bb3"`, `"transaction_id":"order_1234"`, M, "transaction_id"),
		bad("transaction id full-width digits", `"transaction_id":"5f0c1466d8bd11e6b66d00163e005bb3"`, `"transaction_id":"order１２３"`, M, "transaction_id"),
		bad("transaction type empty", `"transaction_type":"PAY"`, `"transaction_type":""`, M, "transaction_type"),
		bad("transaction type with colon", `"transaction_type":"PAY"`, `"transaction_type":"PAY:X"`, M, "transaction_type"),
		bad("transaction type lowercase", `"transaction_type":"PAY"`, `"transaction_type":"pay"`, M, "transaction_type"),
		bad("transaction type re-cut", `"transaction_type":"PAY"`, `"transaction_type":"4PAY"`, M, "transaction_type"),
		bad("transaction type unknown", `"transaction_type":"PAY"`, `"transaction_type":"REVERT"`, M, "transaction_type"),
		bad("channel type unknown", `"channel_type":"BC"`, `"channel_type":"PAYPAL_X"`, M, "channel_type"),
		bad("channel type lowercase", `"channel_type":"BC"`, `"channel_type":"bc"`, M, "channel_type"),
		bad("channel type sub channel", `"channel_type":"BC"`, `"channel_type":"BC_NATIVE"`, M, "channel_type"),
		bad("channel type empty", `"channel_type":"BC"`, `"channel_type":""`, M, "channel_type"),
		bad("transaction type array", `"transaction_type":"PAY"`, `"transaction_type":["PAY"]`, M, "transaction_type"),
		bad("channel type missing", `"channel_type":"BC",`, ``, M, "channel_type"),
		bad("channel type bool", `"channel_type":"BC"`, `"channel_type":false`, M, "channel_type"),
		bad("sub channel type number", `"sub_channel_type":"BC_NATIVE"`, `"sub_channel_type":7`, M, "sub_channel_type"),
		bad("trade success string", `"trade_success":true`, `"trade_success":"true"`, M, "trade_success"),
		bad("trade success number", `"trade_success":true`, `"trade_success":1`, M, "trade_success"),
		bad("message detail string", `"message_detail":{`, `"message_detail":"{}","x":{`, M, "message_detail"),
		bad("message detail array", `"message_detail":{`, `"message_detail":[],"x":{`, M, "message_detail"),
		bad("optional string", `"optional":{"agent_id":"Alice","n":12345678901234567890123,"ok":true}`, `"optional":"agent_id=Alice"`, M, "optional"),
		bad("optional twice", `"optional":{`, `"optional":{},"optional":{`, M, "optional"),
		bad("optional key twice", `"agent_id":"Alice"`, `"agent_id":"Alice","agent_id":"Mallory"`, M, "optional.agent_id: appears more than once"),
		bad("optional key twice, once escaped", `"agent_id":"Alice"`, `"agent_id":"Alice","agent\u005fid":"Mallory"`, M, "optional.agent_id: appears more than once"),
		bad("optional nested object", `"agent_id":"Alice"`, `"agent_id":{"name":"Alice"}`, M, "optional.agent_id: must be a string, number or boolean, got an object"),
		bad("optional nested array", `"agent_id":"Alice"`, `"agent_id":["Alice"]`, M, "optional.agent_id: must be a string, number or boolean, got an array"),
		bad("optional null value", `"agent_id":"Alice"`, `"agent_id":null`, M, "optional.agent_id: must be a string, number or boolean, got null"),
		bad("optional odd key", `"agent_id":"Alice"`, `"a\"b c":{}`, M, `optional."a\"b c"`),
		bad("nested garbage", `"optional":{"agent_id":"Alice"`, `"optional":{"agent_id":["Alice",{"x":}]`, M, ""),
		bad("unclosed nesting", `"optional":{"agent_id":"Alice"`, `"optional":{"agent_id":[[[[[[["Alice"`, M, ""),
		bad("channel transaction id number", `"channel_transaction_id":"2015052300001000620053541865"`, `"channel_transaction_id":2015052300001000620053541865`, M, "channel_transaction_id"),
		bad("single quotes", `"channel_type":"BC"`, `'channel_type':'BC'`, M, ""),
		bad("comment", `{"signature"`, `{/* c */"signature"`, M, ""),
		bad("NaN fee", `"transaction_fee":1,`, `"transaction_fee":NaN,`, M, ""),
		bad("hex fee", `"transaction_fee":1,`, `"transaction_fee":0x1,`, M, ""),
		bad("leading zero fee", `"transaction_fee":1,`, `"transaction_fee":01,`, M, ""),
	}
}

func TestParseNotificationBadBodies(t *testing.T) {
	corpus := append(badBodies(t), hugeBody())
	require.GreaterOrEqual(t, len(corpus), 30, "badBodies: bodies in the corpus")
	for _, tt := range corpus {
		t.Run(tt.name, func(t *testing.T) {
			n, err := vecConfig.ParseNotification([]byte(tt.body))
			require.ErrorIs(t, err, tt.want, "ParseNotification")
			assert.Nil(t, n, "ParseNotification: a notification with the error")
			assert.Contains(t, err.Error(), tt.field, "ParseNotification: the error names the field")
			assert.NotContains(t, err.Error(), vecMaster, "ParseNotification: the error shows the secret")
		})
	}
}

// The cause of a syntax error stays reachable, with its offset.
func TestParseNotificationSyntaxErrorWrapped(t *testing.T) {
	_, err := vecConfig.ParseNotification([]byte(`{"signature":}`))
	require.ErrorIs(t, err, beecloud.ErrMalformedNotification, "ParseNotification")
	var syntax *json.SyntaxError
	require.ErrorAs(t, err, &syntax, "ParseNotification")
	assert.Equal(t, int64(14), syntax.Offset, "ParseNotification: SyntaxError.Offset") // encoding/json counts the bad byte
}

func hugeBody() badBody {
	pad := strings.Repeat("x", 2<<20)
	return badBody{"2 MiB", strings.Replace(vecBody, `"optional":{`, `"optional":{"pad":"`+pad+`",`, 1) + "}", beecloud.ErrMalformedNotification, ""}
}

// testdataBodies reads testdata/webhook: each file's name starts with the
// error it must give: malformed-, badsig- or legacy-.
func testdataBodies(t testing.TB) []badBody {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "webhook", "*.json"))
	require.NoError(t, err, "filepath.Glob(testdata/webhook/*.json)")
	var corpus []badBody
	for _, f := range files {
		body, err := os.ReadFile(f)
		require.NoError(t, err, "os.ReadFile(%s)", f)
		name := filepath.Base(f)
		var want error
		switch prefix, _, _ := strings.Cut(name, "-"); prefix {
		case "malformed":
			want = beecloud.ErrMalformedNotification
		case "badsig":
			want = beecloud.ErrBadSignature
		case "legacy":
			want = beecloud.ErrLegacyDisabled
		default:
			require.Failf(t, "testdata/webhook: unknown prefix", "%s: name does not say which error it gives", f)
		}
		corpus = append(corpus, badBody{name: name, body: string(body), want: want})
	}
	require.NotEmpty(t, corpus, "testdata/webhook: files")
	return corpus
}

func TestParseNotificationTestdata(t *testing.T) {
	for _, tt := range testdataBodies(t) {
		t.Run(tt.name, func(t *testing.T) {
			_, err := vecConfig.ParseNotification([]byte(tt.body))
			require.ErrorIs(t, err, tt.want, "ParseNotification")
		})
	}
}

func FuzzParseNotification(f *testing.F) {
	f.Add([]byte(vecBody))
	for _, b := range badBodies(f) {
		f.Add([]byte(b.body))
	}
	for _, b := range testdataBodies(f) {
		f.Add([]byte(b.body))
	}
	legacy := vecConfig
	legacy.LegacyWebhook, legacy.AppSecret = true, "app-secret"
	legacy.Now = func() time.Time { return time.UnixMilli(1426817510111) }
	sentinels := []error{beecloud.ErrMalformedNotification, beecloud.ErrBadSignature, beecloud.ErrLegacyDisabled, beecloud.ErrStaleNotification}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, cfg := range []beecloud.Config{vecConfig, legacy} {
			n, err := cfg.ParseNotification(body)
			// Exactly one of a notification and an error.
			if err != nil {
				require.Nil(t, n, "ParseNotification: a notification with the error %v", err)
				require.Truef(t, slices.ContainsFunc(sentinels, func(s error) bool { return errors.Is(err, s) }),
					"ParseNotification: error %v matches no sentinel", err)
				continue
			}
			require.NotNil(t, n, "ParseNotification: neither a notification nor an error")
			// Whatever verified must carry a correct signature of its fields.
			want := beecloud.WebhookSignature(n.AppID, n.TransactionID, n.TransactionType, n.ChannelType, n.TransactionFee, vecMaster)
			if n.Legacy {
				want = beecloud.LegacyWebhookSign(n.AppID, "app-secret", n.Timestamp.UnixMilli())
			}
			require.Equal(t, want, n.Signature, "ParseNotification accepted %+v: Signature", n)
			require.GreaterOrEqual(t, n.TransactionFee, int64(0), "ParseNotification accepted %+v: TransactionFee", n)
			require.Truef(t, isBeeCloudNumber(n.TransactionID), "ParseNotification accepted %+v: TransactionID is not 1 to 32 letters and digits", n)
			require.Contains(t, []beecloud.TransactionType{"PAY", "REFUND", "TRANSFER", "SUBSCRIPTION", "SIGN"}, n.TransactionType,
				"ParseNotification accepted %+v: TransactionType", n)
			require.Contains(t, []beecloud.ChannelType{"WX", "ALI", "UN", "KUAIQIAN", "JD", "BD", "YEE", "PAYPAL", "BC"}, n.ChannelType,
				"ParseNotification accepted %+v: ChannelType", n)
			require.Falsef(t, n.Test && !n.Legacy, "ParseNotification accepted %+v: Test on a notification that is not legacy", n)
			// What a merchant's own encoding/json reads from the body must be
			// what was verified.
			var w wireBaseline
			d := json.NewDecoder(bytes.NewReader(body))
			d.UseNumber()
			require.NoError(t, d.Decode(&w), "json.Decoder.Decode of a body ParseNotification accepted")
			require.Equal(t, w.TransactionID, n.TransactionID, "ParseNotification: TransactionID; encoding/json reads %+v", w)
			require.Equal(t, w.TransactionType, n.TransactionType, "ParseNotification: TransactionType; encoding/json reads %+v", w)
			require.Equal(t, w.ChannelType, n.ChannelType, "ParseNotification: ChannelType; encoding/json reads %+v", w)
			require.Equal(t, w.TransactionFee, n.TransactionFee, "ParseNotification: TransactionFee; encoding/json reads %+v", w)
			require.Equal(t, w.Timestamp, n.Timestamp.UnixMilli(), "ParseNotification: Timestamp in ms; encoding/json reads %+v", w)
			require.Equal(t, w.TradeSuccess, n.TradeSuccess, "ParseNotification: TradeSuccess; encoding/json reads %+v", w)
			require.Equal(t, w.SubChannelType, n.SubChannelType, "ParseNotification: SubChannelType; encoding/json reads %+v", w)
			require.Equal(t, w.ChannelTransactionID, n.ChannelTransactionID, "ParseNotification: ChannelTransactionID; encoding/json reads %+v", w)
			if !n.Legacy {
				require.Equal(t, w.Signature, n.Signature, "ParseNotification: Signature; encoding/json reads %+v", w)
			}
			require.Equal(t, w.Optional, n.Optional, "ParseNotification: Optional; encoding/json reads %+v", w)
		}
	})
}

// isBeeCloudNumber reports whether s is 1 to 32 ASCII letters and digits.
func isBeeCloudNumber(s string) bool {
	if s == "" || len(s) > beecloud.MaxTransactionIDLength {
		return false
	}
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}

func TestNotificationBodyRoundTrip(t *testing.T) {
	cfg := beecloud.Config{AppID: vecAppID, MasterSecret: vecMaster, Now: func() time.Time { return time.UnixMilli(1426817510111) }}
	want := beecloudtest.Paid(testOrder)
	n, err := cfg.ParseNotification(beecloudtest.NotificationBody(cfg, want))
	require.NoError(t, err, "ParseNotification")
	want.AppID = vecAppID
	want.Signature = n.Signature
	want.Timestamp = time.UnixMilli(1426817510111)
	want.Optional["n"] = json.Number("3")
	assert.Equal(t, &want, n, "beecloudtest's body, decoded")
}

// benchBody is a realistic webhook of about 1 KB: BeeCloud's example's shape with an
// Alipay notification as message_detail, signed as the public vector. The
// scanner's tests in internal/webhookjson read the same file.
var benchBody = readBody(filepath.Join("testdata", "webhook-1k.json"))

// readBody returns the file at path as a string, without its final newline.
func readBody(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return strings.TrimSuffix(string(b), "\n")
}

// wireBaseline has the shape of Notification with the body's JSON types:
// what a plain json.Unmarshal decodes a webhook into.
type wireBaseline struct {
	Signature            string                   `json:"signature"`
	Timestamp            int64                    `json:"timestamp"`
	ChannelType          beecloud.ChannelType     `json:"channel_type"`
	SubChannelType       string                   `json:"sub_channel_type"`
	TransactionType      beecloud.TransactionType `json:"transaction_type"`
	TransactionID        string                   `json:"transaction_id"`
	TransactionFee       int64                    `json:"transaction_fee"`
	TradeSuccess         bool                     `json:"trade_success"`
	MessageDetail        json.RawMessage          `json:"message_detail"`
	Optional             map[string]any           `json:"optional"`
	ChannelTransactionID string                   `json:"channel_transaction_id"`
}

func BenchmarkParseNotification(b *testing.B) {
	body := []byte(benchBody)
	if _, err := vecConfig.ParseNotification(body); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := vecConfig.ParseNotification(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseNotificationBaseline only decodes the same body with
// encoding/json: no strictness, no signature.
func BenchmarkParseNotificationBaseline(b *testing.B) {
	body := []byte(benchBody)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var n wireBaseline
		if err := json.Unmarshal(body, &n); err != nil {
			b.Fatal(err)
		}
	}
}

// deepOptionalBody is the vector's genuine webhook replayed with an
// optional (which no signature covers) nested as deep as encoding/json
// allows: what anyone holding one genuine message can send. It is
// refused, as optional is flat, but only once the whole body is scanned.
var deepOptionalBody = []byte(`{"signature":"` + vecSignature + `","timestamp":1,"channel_type":"BC",` +
	`"transaction_type":"PAY","transaction_id":"` + vecTxID + `","transaction_fee":1,"optional":` +
	strings.Repeat(`{"a":`, 9000) + `1` + strings.Repeat(`}`, 9000) + `}`)

// BenchmarkParseNotificationDeepOptional must stay within a small factor
// of its baseline: the work must grow with the body's length, not with its
// length times its depth.
func BenchmarkParseNotificationDeepOptional(b *testing.B) {
	b.SetBytes(int64(len(deepOptionalBody)))
	b.ReportAllocs()
	for range b.N {
		if _, err := vecConfig.ParseNotification(deepOptionalBody); !errors.Is(err, beecloud.ErrMalformedNotification) {
			b.Fatalf("got %v; want %v", err, beecloud.ErrMalformedNotification)
		}
	}
}

// BenchmarkParseNotificationDeepOptionalBaseline decodes the same body
// with encoding/json.
func BenchmarkParseNotificationDeepOptionalBaseline(b *testing.B) {
	b.SetBytes(int64(len(deepOptionalBody)))
	b.ReportAllocs()
	for range b.N {
		var n wireBaseline
		if err := json.Unmarshal(deepOptionalBody, &n); err != nil {
			b.Fatal(err)
		}
	}
}

// The signatures that Node.js, Python and Java computed
// (testdata/webhook_vectors.json) verify in whole bodies.
func TestParseNotificationCrossLanguageVectors(t *testing.T) {
	var file struct {
		Webhook []struct {
			AppID           string            `json:"app_id"`
			TransactionID   string            `json:"transaction_id"`
			TransactionType string            `json:"transaction_type"`
			ChannelType     string            `json:"channel_type"`
			TransactionFee  int64             `json:"transaction_fee"`
			MasterSecret    string            `json:"master_secret"`
			Sign            map[string]string `json:"sign"`
		}
		Legacy []struct {
			AppID     string            `json:"app_id"`
			Secret    string            `json:"secret"`
			Timestamp int64             `json:"timestamp"`
			Sign      map[string]string `json:"sign"`
		}
	}
	b, err := os.ReadFile(filepath.Join("testdata", "webhook_vectors.json"))
	require.NoError(t, err, "os.ReadFile(testdata/webhook_vectors.json)")
	require.NoError(t, json.Unmarshal(b, &file), "json.Unmarshal(testdata/webhook_vectors.json)")
	for _, v := range file.Webhook {
		t.Run(v.TransactionID, func(t *testing.T) {
			body, err := json.Marshal(map[string]any{
				"signature": v.Sign["java"], "timestamp": 1426817510111, "channel_type": v.ChannelType,
				"transaction_type": v.TransactionType, "transaction_id": v.TransactionID,
				"transaction_fee": v.TransactionFee, "trade_success": true,
			})
			require.NoError(t, err, "json.Marshal")
			cfg := beecloud.Config{AppID: v.AppID, MasterSecret: v.MasterSecret}
			n, err := cfg.ParseNotification(body)
			require.NoError(t, err, "ParseNotification")
			assert.Equal(t, v.TransactionFee, n.TransactionFee, "ParseNotification: TransactionFee")
			assert.Equal(t, v.TransactionID, n.TransactionID, "ParseNotification: TransactionID")
			assert.Equal(t, v.AppID, n.AppID, "ParseNotification: AppID")
		})
	}
	for _, v := range file.Legacy {
		t.Run(fmt.Sprint("legacy ", v.Timestamp), func(t *testing.T) {
			body := fmt.Sprintf(`{"sign":%q,"timestamp":%d,"channel_type":"ALI","transaction_type":"PAY","transaction_id":"bc1234567","transaction_fee":1}`,
				v.Sign["java"], v.Timestamp)
			ts := time.UnixMilli(v.Timestamp)
			cfg := beecloud.Config{AppID: v.AppID, MasterSecret: "m", AppSecret: v.Secret, LegacyWebhook: true,
				Now: func() time.Time { return ts.Add(time.Minute) }}
			n, err := cfg.ParseNotification([]byte(body))
			require.NoError(t, err, "ParseNotification")
			assert.True(t, n.Legacy, "ParseNotification: Legacy")
			assert.Truef(t, n.Timestamp.Equal(ts), "ParseNotification: Timestamp = %v; want %v", n.Timestamp, ts)
		})
	}
}

// resplits returns every other way to read the signed string id + typ +
// channel + fee as those four fields, with the fee written as the body
// would carry it: a JSON integer where the digits allow one, else a
// string. The first return is the genuine cut's fee, for building bodies.
func resplits(id, typ, channel string, fee int64) [][4]string {
	signed := id + typ + channel + strconv.FormatInt(fee, 10)
	var out [][4]string
	for a := 0; a <= len(signed); a++ {
		for b := a; b <= len(signed); b++ {
			for c := b; c <= len(signed); c++ {
				cut := [4]string{signed[:a], signed[a:b], signed[b:c], signed[c:]}
				if cut == [4]string{id, typ, channel, strconv.FormatInt(fee, 10)} {
					continue
				}
				out = append(out, cut)
			}
		}
	}
	return out
}

// resplitBody is a body in vecBody's shape with the signed fields of cut
// and signature sig. The fee is a JSON integer where its digits allow one,
// else a string: all the attacker can send.
func resplitBody(cut [4]string, sig string) []byte {
	fee := strconv.Quote(cut[3])
	if n, err := strconv.ParseInt(cut[3], 10, 64); err == nil && strconv.FormatInt(n, 10) == cut[3] {
		fee = cut[3]
	}
	return fmt.Appendf(nil, `{"signature":%q,"timestamp":1426817510111,"channel_type":%q,"sub_channel_type":"BC_NATIVE",`+
		`"transaction_type":%q,"transaction_id":%q,"transaction_fee":%s,"trade_success":true,`+
		`"optional":{"agent_id":"Alice"},"channel_transaction_id":"2015052300001000620053541865"}`,
		sig, cut[2], cut[1], cut[0], fee)
}

// The signature hashes the signed fields without separators. For a
// genuine body, every other cut of its signed string carries a valid
// signature; each must be refused as malformed by ParseNotification,
// before any Store or Handle sees it.
func TestParseNotificationResplit(t *testing.T) {
	genuine := []struct {
		id      string
		typ     beecloud.TransactionType
		channel beecloud.ChannelType
		fee     int64
	}{
		{vecTxID, beecloud.TransactionPay, beecloud.ChannelTypeBC, 1},
		{"order1234", beecloud.TransactionPay, beecloud.ChannelTypeWx, 150},               // "order123" + "4PAY"
		{"order123", beecloud.TransactionPay, beecloud.ChannelTypePayPal, 150},            // "order123PAY" + "PAY" + "PAL"
		{"order123PAY", beecloud.TransactionPay, beecloud.ChannelTypePayPal, 150},         // an id that ends in a type
		{"order123PAY", beecloud.TransactionPay, beecloud.ChannelTypeWx, 50},              // "WX1" + 50 instead of "WX" + 150
		{"bill2026REFUND", beecloud.TransactionRefund, beecloud.ChannelTypeUN, 1},         // type after a type
		{"20261130SIGN", beecloud.TransactionSign, beecloud.ChannelTypeBC, 10},            // digits, then a type
		{"t0TRANSFERBC", beecloud.TransactionTransfer, beecloud.ChannelTypeBC, 0},         // a type and a channel in the id
		{"SUBSCRIPTIONALI", beecloud.TransactionSubscription, beecloud.ChannelTypeAli, 9}, // all letters
		{"2026113000011", beecloud.TransactionRefund, beecloud.ChannelTypeKuaiqian, 1500},
	}
	handled := 0
	h := &beecloud.WebhookHandler{
		Apps:   beecloud.Apps{vecConfig},
		Handle: func(context.Context, *beecloud.Notification) error { handled++; return nil },
		Store:  new(beecloud.MemStore),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	tried := 0
	for _, g := range genuine {
		sig := beecloud.WebhookSignature(vecAppID, g.id, g.typ, g.channel, g.fee, vecMaster)
		cut := [4]string{g.id, string(g.typ), string(g.channel), strconv.FormatInt(g.fee, 10)}
		_, err := vecConfig.ParseNotification(resplitBody(cut, sig))
		require.NoError(t, err, "ParseNotification of genuine %q", cut)
		for _, cut := range resplits(g.id, string(g.typ), string(g.channel), g.fee) {
			tried++
			body := resplitBody(cut, sig)
			n, err := vecConfig.ParseNotification(body)
			require.ErrorIs(t, err, beecloud.ErrMalformedNotification, "ParseNotification of re-cut %q of %+v: got %+v", cut, g, n)
			if tried%16 != 0 {
				continue // the handler runs ParseNotification first: a sample shows it
			}
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
			h.ServeHTTP(rec, req)
			assert.Equal(t, http.StatusBadRequest, rec.Code, "ServeHTTP of re-cut %q: answered %q", cut, rec.Body)
		}
	}
	assert.Equal(t, 0, handled, "Handle calls")
	assert.Equal(t, 0, h.Store.(*beecloud.MemStore).Len(), "MemStore.Len()")
	assert.GreaterOrEqual(t, tried, 5000, "re-cuts tried: the genuine bodies should give thousands")
	t.Logf("refused all %d re-cuts of %d genuine bodies", tried, len(genuine))
}

// Every type and channel BeeCloud sends is accepted.
func TestParseNotificationClosedSets(t *testing.T) {
	types := []beecloud.TransactionType{beecloud.TransactionPay, beecloud.TransactionRefund, beecloud.TransactionTransfer,
		beecloud.TransactionSubscription, beecloud.TransactionSign}
	channels := []beecloud.ChannelType{beecloud.ChannelTypeWx, beecloud.ChannelTypeAli, beecloud.ChannelTypeUN, beecloud.ChannelTypeKuaiqian,
		beecloud.ChannelTypeJD, beecloud.ChannelTypeBD, beecloud.ChannelTypeYee, beecloud.ChannelTypePayPal, beecloud.ChannelTypeBC}
	for _, typ := range types {
		for _, channel := range channels {
			n, err := vecConfig.ParseNotification([]byte(vecBodyFor(t, channel, typ, vecTxID, 1)))
			require.NoError(t, err, "ParseNotification of %s %s", typ, channel)
			assert.Equal(t, typ, n.TransactionType, "ParseNotification of %s %s: TransactionType", typ, channel)
			assert.Equal(t, channel, n.ChannelType, "ParseNotification of %s %s: ChannelType", typ, channel)
		}
	}
}

// FuzzParseNotificationResplit cuts the signed string of a genuine body
// anywhere: what verifies must be the genuine reading.
func FuzzParseNotificationResplit(f *testing.F) {
	f.Add("order123", "PAY", "PAYPAL", int64(150), uint(11), uint(14), uint(17))
	f.Add("order1234", "PAY", "WX", int64(150), uint(8), uint(12), uint(14))
	f.Add("bc1234567", "REFUND", "ALI", int64(0), uint(3), uint(3), uint(40))
	f.Fuzz(func(t *testing.T, id, typ, channel string, fee int64, a, b, c uint) {
		if fee < 0 {
			fee = -(fee + 1)
		}
		sig := beecloud.WebhookSignature(vecAppID, id, beecloud.TransactionType(typ), beecloud.ChannelType(channel), fee, vecMaster)
		signed := id + typ + channel + strconv.FormatInt(fee, 10)
		cuts := []int{int(a % uint(len(signed)+1)), int(b % uint(len(signed)+1)), int(c % uint(len(signed)+1))}
		slices.Sort(cuts)
		cut := [4]string{signed[:cuts[0]], signed[cuts[0]:cuts[1]], signed[cuts[1]:cuts[2]], signed[cuts[2]:]}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(vecBody), &m), "json.Unmarshal(vecBody)")
		m["transaction_id"], m["transaction_type"], m["channel_type"], m["signature"] = cut[0], cut[1], cut[2], sig
		m["transaction_fee"] = json.Number(cut[3])
		if !json.Valid([]byte(cut[3])) {
			m["transaction_fee"] = cut[3]
		}
		body, err := json.Marshal(m)
		if err != nil {
			return // invalid UTF-8 in a field: nothing to send
		}
		n, err := vecConfig.ParseNotification(body)
		if err != nil {
			return
		}
		// What verifies must be the genuine reading of the signed string.
		require.Equal(t, id, n.TransactionID, "ParseNotification of signed %q: TransactionID", signed)
		require.Equal(t, typ, string(n.TransactionType), "ParseNotification of signed %q: TransactionType", signed)
		require.Equal(t, channel, string(n.ChannelType), "ParseNotification of signed %q: ChannelType", signed)
		require.Equal(t, fee, n.TransactionFee, "ParseNotification of signed %q: TransactionFee", signed)
	})
}
