package beecloudtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/internal/channel"
)

// Paid returns the notification BeeCloud sends when a buyer has paid o: a
// successful PAY transaction whose TransactionID is o.OutTradeNo,
// TransactionFee o.Amount, and Optional a copy of o.Optional. The channel
// is o.InstantChannel's as on a desktop browser, or BeeCloud's own QR code
// channel (BC, BC_NATIVE) when o has none. Timestamp is left zero, which
// [NotificationBody] reads as now; set any field to vary it.
func Paid(o beecloud.Order) beecloud.Notification {
	chType, sub := beecloud.ChannelTypeBC, "BC_NATIVE"
	if o.InstantChannel.Known() {
		chType, sub = beecloud.ChannelType(channel.Type(string(o.InstantChannel))), channel.Sub(string(o.InstantChannel), false)
	}
	channelID := "4200" + o.OutTradeNo
	detail, err := json.Marshal(map[string]any{
		"out_trade_no":   o.OutTradeNo,
		"total_fee":      o.Amount,
		"trade_status":   "TRADE_SUCCESS",
		"transaction_id": channelID,
	})
	if err != nil {
		panic("beecloudtest: Paid: " + err.Error())
	}
	return beecloud.Notification{
		ChannelType:          chType,
		SubChannelType:       sub,
		TransactionType:      beecloud.TransactionPay,
		TransactionID:        o.OutTradeNo,
		TransactionFee:       o.Amount,
		TradeSuccess:         true,
		MessageDetail:        detail,
		Optional:             maps.Clone(o.Optional),
		ChannelTransactionID: channelID,
	}
}

// wireNotification is a webhook body, keys in BeeCloud's order.
type wireNotification struct {
	Signature            string                   `json:"signature,omitempty"`
	Sign                 string                   `json:"sign,omitempty"`
	Timestamp            int64                    `json:"timestamp"`
	ChannelType          beecloud.ChannelType     `json:"channel_type"`
	SubChannelType       string                   `json:"sub_channel_type,omitempty"`
	TransactionType      beecloud.TransactionType `json:"transaction_type"`
	TransactionID        string                   `json:"transaction_id"`
	TransactionFee       int64                    `json:"transaction_fee"`
	TradeSuccess         bool                     `json:"trade_success"`
	MessageDetail        json.RawMessage          `json:"message_detail,omitempty"`
	Optional             map[string]any           `json:"optional,omitempty"`
	ChannelTransactionID string                   `json:"channel_transaction_id,omitempty"`
}

// NotificationBody returns the JSON body of the webhook BeeCloud would
// send for n to the app cfg, signed with cfg.AppID and cfg.MasterSecret
// as [beecloud.Config.ParseNotification] checks it. n.AppID is ignored.
//
// If n.Legacy is set, the body is signed with the legacy scheme instead
// (field "sign"): with cfg.TestSecret, as BeeCloud's test mode does, when
// n.Test is set or the AppSecret is empty; with cfg.AppSecret otherwise.
//
// A zero n.Timestamp means cfg.Now(), or time.Now() if cfg.Now is nil. A
// non-empty n.Signature is written as is instead of a computed signature,
// to test how a bad one is refused. Empty string fields other than the
// required ones are left out, as are a nil MessageDetail and Optional.
//
// NotificationBody panics if cfg lacks the AppID or the secret it needs,
// or if n.Optional or n.MessageDetail cannot be encoded: it is meant for
// tests, where that is a bug in the test.
func NotificationBody(cfg beecloud.Config, n beecloud.Notification) []byte {
	if cfg.AppID == "" {
		panic("beecloudtest: NotificationBody: cfg.AppID is empty")
	}
	ts := n.Timestamp
	if ts.IsZero() {
		if cfg.Now != nil {
			ts = cfg.Now()
		} else {
			ts = time.Now()
		}
	}
	w := wireNotification{
		Timestamp:            ts.UnixMilli(),
		ChannelType:          n.ChannelType,
		SubChannelType:       n.SubChannelType,
		TransactionType:      n.TransactionType,
		TransactionID:        n.TransactionID,
		TransactionFee:       n.TransactionFee,
		TradeSuccess:         n.TradeSuccess,
		MessageDetail:        n.MessageDetail,
		Optional:             n.Optional,
		ChannelTransactionID: n.ChannelTransactionID,
	}
	switch {
	case n.Legacy:
		w.Sign = n.Signature
		if w.Sign == "" {
			secret := cfg.AppSecret
			if n.Test || secret == "" {
				secret = cfg.TestSecret
			}
			if secret == "" {
				panic("beecloudtest: NotificationBody: legacy signing needs cfg.AppSecret, or cfg.TestSecret for a test-mode n")
			}
			w.Sign = beecloud.LegacyWebhookSign(cfg.AppID, secret, w.Timestamp)
		}
	default:
		w.Signature = n.Signature
		if w.Signature == "" {
			if cfg.MasterSecret == "" {
				panic("beecloudtest: NotificationBody: cfg.MasterSecret is empty")
			}
			w.Signature = beecloud.WebhookSignature(cfg.AppID, n.TransactionID, n.TransactionType, n.ChannelType, n.TransactionFee, cfg.MasterSecret)
		}
	}
	body, err := json.Marshal(w)
	if err != nil {
		panic(fmt.Sprintf("beecloudtest: NotificationBody: %v", err))
	}
	return body
}

// SenderAddr is the RemoteAddr of requests made by [NewRequest]: one of
// BeeCloud's webhook addresses (see [beecloud.WebhookSenders]).
const SenderAddr = "123.57.146.46:40312"

// NewRequest returns an incoming POST request carrying
// NotificationBody(cfg, n), as BeeCloud sends it: Content-Type
// application/json and RemoteAddr [SenderAddr]. Pass it to a handler's
// ServeHTTP with an httptest.ResponseRecorder. Like httptest.NewRequest,
// it panics where NotificationBody does.
func NewRequest(cfg beecloud.Config, n beecloud.Notification) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(NotificationBody(cfg, n)))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = SenderAddr
	return r
}
