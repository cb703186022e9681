package beecloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/paybutton/beecloud/internal/webhookjson"
)

// Errors of [Config.ParseNotification] and [WebhookHandler], matched with
// errors.Is. The errors returned wrap them with a message that names the
// field at fault; they never contain a secret, a signature, or the body.
var (
	// ErrMalformedNotification means the body is not a webhook BeeCloud
	// could have sent: not one JSON object, a known field of the wrong
	// type, a required field missing or repeated, a transaction type or
	// channel type BeeCloud does not send, or a transaction id that is not
	// one of BeeCloud's numbers.
	ErrMalformedNotification = errors.New("beecloud: malformed notification")
	// ErrBadSignature means the body's signature is not 32 lowercase hex
	// digits or was not made with any configured app's secret.
	ErrBadSignature = errors.New("beecloud: bad signature")
	// ErrLegacyDisabled means the body is signed with the legacy scheme
	// (field "sign"), which no configured app accepts: see
	// [Config].LegacyWebhook.
	ErrLegacyDisabled = errors.New("beecloud: legacy webhook signature disabled")
	// ErrStaleNotification means a correctly signed legacy webhook's
	// timestamp is further from now than [Config].LegacyWindow.
	ErrStaleNotification = errors.New("beecloud: stale notification")
	// ErrAmountMismatch means a verified webhook's transaction_fee differs
	// from the amount the merchant's own order records. See
	// [WebhookHandler].ExpectedAmount.
	ErrAmountMismatch = errors.New("beecloud: amount mismatch")
)

// TransactionType is a webhook's transaction_type: what kind of
// transaction it reports.
type TransactionType string

// The transaction types BeeCloud sends. BeeCloud adds no new ones: a
// webhook with any other type is malformed.
const (
	TransactionPay          TransactionType = "PAY"
	TransactionRefund       TransactionType = "REFUND"
	TransactionTransfer     TransactionType = "TRANSFER"
	TransactionSubscription TransactionType = "SUBSCRIPTION"
	TransactionSign         TransactionType = "SIGN"
)

// String returns t as BeeCloud spells it, such as "PAY".
func (t TransactionType) String() string { return string(t) }

// ChannelType is a webhook's channel_type: the pay channel's family, of
// which sub_channel_type is the precise channel. It is also the channel
// of a [Bill] or a [Refund] found through the REST API.
type ChannelType string

// The channel types BeeCloud sends. BeeCloud adds no new ones: a webhook
// with any other channel type is malformed.
const (
	ChannelTypeWx       ChannelType = "WX"       // WeChat Pay (微信支付)
	ChannelTypeAli      ChannelType = "ALI"      // Alipay (支付宝)
	ChannelTypeUN       ChannelType = "UN"       // UnionPay (银联)
	ChannelTypeKuaiqian ChannelType = "KUAIQIAN" // 快钱
	ChannelTypeJD       ChannelType = "JD"       // JD Pay (京东支付)
	ChannelTypeBD       ChannelType = "BD"       // Baidu Wallet (百度钱包)
	ChannelTypeYee      ChannelType = "YEE"      // YeePay (易宝支付)
	ChannelTypePayPal   ChannelType = "PAYPAL"   // PayPal
	ChannelTypeBC       ChannelType = "BC"       // BeeCloud's own channels (BC_NATIVE, BC_EXPRESS, …)
)

// String returns c as BeeCloud spells it, such as "ALI".
func (c ChannelType) String() string { return string(c) }

// MaxTransactionIDLength is the longest transaction_id a webhook may
// carry: BeeCloud's bill numbers (the button's out_trade_no), refund
// numbers and transfer numbers are all at most 32 ASCII letters and
// digits. Their shortest is 8, but a webhook's transaction_id needs only
// one: a short number cannot be read as anything else, and refusing a
// genuine message would leave its transaction unrecorded.
const MaxTransactionIDLength = 32

// Notification is one webhook (回调) from BeeCloud, verified. Amounts are in
// 分 (1 = ¥0.01).
//
// The current signature covers only the app, TransactionID,
// TransactionType, ChannelType and TransactionFee: the other fields, though
// they come from BeeCloud, could be altered by anyone replaying a genuine
// message. Grant goods on the signed fields and your own order records
// (see [WebhookHandler].ExpectedAmount); treat Optional and MessageDetail
// as information. A legacy signature (Legacy true) covers no field at all,
// only the app and the timestamp.
//
// The signed fields are hashed end to end without separators, so that
// one signature would hold for TransactionID "order1234" with type "PAY"
// and for "order123" with "4PAY". [Config.ParseNotification] therefore
// refuses, as malformed, a TransactionType or ChannelType outside the
// constants above and a TransactionID other than 1 to 32 letters and
// digits; with those rules a signature has exactly one reading.
type Notification struct {
	// Signature is the body's signature, or its legacy "sign" if Legacy.
	Signature string
	// Timestamp is when BeeCloud sent the message (from milliseconds).
	Timestamp time.Time
	// ChannelType is the pay channel's family, such as [ChannelTypeAli].
	ChannelType ChannelType
	// SubChannelType is the precise channel, such as "ALI_WEB" or
	// "BC_NATIVE"; it may be empty.
	SubChannelType string
	// TransactionType is what the message reports, such as
	// [TransactionPay].
	TransactionType TransactionType
	// TransactionID is the order's out_trade_no for a payment (the refund
	// number for a refund, the transfer number for a transfer): 1 to
	// [MaxTransactionIDLength] ASCII letters and digits.
	TransactionID string
	// TransactionFee is the amount in 分; never negative.
	TransactionFee int64
	// TradeSuccess reports whether the transaction succeeded. BeeCloud
	// sends webhooks only for successful transactions today. It is not
	// signed.
	TradeSuccess bool
	// MessageDetail is the channel's own notification, a JSON object whose
	// shape differs per channel, or nil if the body had none.
	MessageDetail json.RawMessage
	// Optional is the order's optional data, echoed. Numbers are
	// json.Number, so that no digit is lost; nil if the body had none.
	Optional map[string]any
	// ChannelTransactionID is the channel's own order number; it may be
	// empty.
	ChannelTransactionID string

	// AppID is the App ID of the Config the message was verified with.
	AppID string
	// Legacy reports whether the message was signed with the legacy scheme
	// (field "sign") rather than the current one (field "signature").
	Legacy bool
	// Test reports whether the message was signed with the app's
	// TestSecret: it comes from BeeCloud's test mode (the sandbox), where
	// no money moves. Only a legacy message can be a test one; never
	// grant goods for it in production.
	Test bool
}

// Key returns the key under which a [WebhookHandler] records n in its
// [Store]: AppID, TransactionType and TransactionID joined by colons,
// after "test:" for a test message (Test), so that a test message and a
// live one never share a record. It is unique per transaction, and
// BeeCloud's resends of one message share it.
func (n *Notification) Key() string {
	key := n.AppID + ":" + string(n.TransactionType) + ":" + n.TransactionID
	if n.Test {
		return "test:" + key
	}
	return key
}

// checkSigned reports, as ErrMalformedNotification, a signed field of n
// that BeeCloud never sends: its transaction type and channel type are
// closed sets, and its transaction numbers are letters and digits.
func checkSigned(n *Notification) error {
	switch n.TransactionType {
	case TransactionPay, TransactionRefund, TransactionTransfer, TransactionSubscription, TransactionSign:
	default:
		return malformed("transaction_type", "%s is not a BeeCloud transaction type (PAY, REFUND, TRANSFER, SUBSCRIPTION, SIGN)", shortQuote(string(n.TransactionType)))
	}
	switch n.ChannelType {
	case ChannelTypeWx, ChannelTypeAli, ChannelTypeUN, ChannelTypeKuaiqian, ChannelTypeJD,
		ChannelTypeBD, ChannelTypeYee, ChannelTypePayPal, ChannelTypeBC:
	default:
		return malformed("channel_type", "%s is not a BeeCloud channel type (WX, ALI, UN, KUAIQIAN, JD, BD, YEE, PAYPAL, BC)", shortQuote(string(n.ChannelType)))
	}
	id := n.TransactionID
	switch {
	case id == "":
		return malformed("transaction_id", "is empty")
	case len(id) > MaxTransactionIDLength:
		return malformed("transaction_id", "is %d bytes long; BeeCloud's numbers have at most %d", len(id), MaxTransactionIDLength)
	}
	for i := 0; i < len(id); i++ {
		if !isAlnum(id[i]) {
			return malformed("transaction_id", "must be ASCII letters and digits, found %q", firstRune(id[i:]))
		}
	}
	return nil
}

// decodeNotification reads body with the strict reader of
// internal/webhookjson and checks its signed fields. It returns the
// signature bytes to compare, aliasing body, and the text of the optional
// object, undecoded.
func decodeNotification(body []byte) (*Notification, []byte, string, error) {
	f, sig, optional, err := webhookjson.Decode(body)
	if err != nil {
		sentinel := ErrMalformedNotification
		if e := (*webhookjson.Error)(nil); errors.As(err, &e) && e.BadSignature {
			sentinel = ErrBadSignature
		}
		return nil, nil, "", fmt.Errorf("%w: %w", sentinel, err)
	}
	n := &Notification{
		Signature:            f.Signature,
		Timestamp:            time.UnixMilli(f.TimestampMillis),
		ChannelType:          ChannelType(f.ChannelType),
		SubChannelType:       f.SubChannelType,
		TransactionType:      TransactionType(f.TransactionType),
		TransactionID:        f.TransactionID,
		TransactionFee:       f.TransactionFee,
		TradeSuccess:         f.TradeSuccess,
		MessageDetail:        f.MessageDetail,
		ChannelTransactionID: f.ChannelTransactionID,
		Legacy:               f.Legacy,
	}
	if err := checkSigned(n); err != nil {
		return nil, nil, "", err
	}
	return n, sig, optional, nil
}

func malformed(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformedNotification, field, fmt.Sprintf(format, args...))
}

// shortQuote quotes s for an error message, cut to a few bytes: the text
// comes from the sender.
func shortQuote(s string) string {
	const limit = 40
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}
