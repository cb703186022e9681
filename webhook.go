package beecloud

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors of [Config.ParseNotification] and [WebhookHandler], matched with
// errors.Is. The errors returned wrap them with a message that names the
// field at fault; they never contain a secret, a signature, or the body.
var (
	// ErrMalformedNotification means the body is not a webhook BeeCloud
	// could have sent: not one JSON object, a known field of the wrong
	// type, a required field missing, or a field repeated.
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

// The transaction types BeeCloud sends in a webhook's transaction_type.
// BeeCloud adds no new ones: a webhook with any other type is malformed.
const (
	TransactionPay          = "PAY"
	TransactionRefund       = "REFUND"
	TransactionTransfer     = "TRANSFER"
	TransactionSubscription = "SUBSCRIPTION"
	TransactionSign         = "SIGN"
)

// Notification is one webhook (回调) from BeeCloud, verified. Amounts are in
// 分 (1 = ¥0.01).
//
// The current signature covers only the app, TransactionID,
// TransactionType, ChannelType and TransactionFee: the other fields, though
// they come from BeeCloud, could be altered by anyone replaying a genuine
// message. Even the signed fields are hashed end to end without
// separators, so one signature holds for TransactionID "order1234" with
// TransactionType "PAY" and for "order123" with "4PAY": compare
// TransactionType with the constant you expect and TransactionFee with
// your own order's amount (see [WebhookHandler].ExpectedAmount). Grant
// goods on the signed fields and your own order records; treat Optional
// and MessageDetail as information. A legacy signature (Legacy true)
// covers no field at all, only the app and the timestamp.
type Notification struct {
	// Signature is the body's signature, or its legacy "sign" if Legacy.
	Signature string
	// Timestamp is when BeeCloud sent the message (from milliseconds).
	Timestamp time.Time
	// ChannelType is the pay channel: "ALI", "WX", "UN", "BC", … Unknown
	// values are passed through: BeeCloud adds channels over time.
	ChannelType string
	// SubChannelType is the precise channel, such as "ALI_WEB" or
	// "BC_NATIVE"; it may be empty.
	SubChannelType string
	// TransactionType is "PAY", "REFUND", "TRANSFER", … It never contains
	// a colon.
	TransactionType string
	// TransactionID is the order's out_trade_no for a payment (the refund
	// number for a refund). It is at most 128 bytes long.
	TransactionID string
	// TransactionFee is the amount in 分; never negative.
	TransactionFee int64
	// TradeSuccess reports whether the transaction succeeded. BeeCloud
	// sends webhooks only for successful transactions today.
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
}

// Key returns the key under which a [WebhookHandler] records n in its
// [Store]: AppID, TransactionType and TransactionID joined by colons. It
// is unique per transaction, and BeeCloud's resends of one message share
// it.
func (n *Notification) Key() string {
	return n.AppID + ":" + n.TransactionType + ":" + n.TransactionID
}

// Limits that [Config.ParseNotification] enforces beyond BeeCloud's types.
const (
	maxTransactionID   = 128
	maxTransactionType = 32
	maxAppID           = 128
	// defaultLegacyWindow is BeeCloud's own receivers' tolerance.
	defaultLegacyWindow = 5 * time.Minute
)

// Apps is a set of credentials that verify webhooks together: several
// apps sharing one endpoint, or one app during a Master Secret rotation
// (the new Config and the old one, with the same AppID).
type Apps []Config

// ParseNotification verifies body, the raw bytes of a webhook BeeCloud
// POSTed, and returns its content. Pass the bytes exactly as received:
// a body parsed and re-encoded by a framework no longer verifies.
//
// The body must be one JSON object in UTF-8 with nothing after it. Fields
// this package knows must have BeeCloud's types and appear once:
// transaction_fee and timestamp are non-negative JSON integers (1.5, "1",
// 1e2 and -1 are refused, not rounded), message_detail and optional are
// objects, and a key differing from a known one only in case is refused.
// signature, timestamp, channel_type, transaction_type, transaction_id and
// transaction_fee are required; the other known fields may be missing or
// null. transaction_id must not be empty nor longer than 128 bytes, and
// transaction_type not empty, at most 32 bytes and without a colon, so that
// [Notification.Key] is unambiguous. Unknown keys are ignored, whatever
// their value, because BeeCloud adds fields over time. ParseNotification
// reads all of body: bound its size before, as [WebhookHandler] does.
//
// The signature must be 32 lowercase hex digits equal to
// [WebhookSignature] with c's AppID and MasterSecret; the comparison takes
// constant time. A body signed with the legacy scheme (field "sign"
// instead of "signature") is refused with [ErrLegacyDisabled] unless
// c.LegacyWebhook is set; then it must match [LegacyWebhookSign] with the
// AppSecret or the TestSecret, and its timestamp must be within
// c.LegacyWindow of c.Now(), before or after.
//
// The error matches, with errors.Is, [ErrInvalidConfig] if c lacks the
// AppID or the MasterSecret (checked before the body is read),
// [ErrMalformedNotification], [ErrBadSignature], [ErrLegacyDisabled] or
// [ErrStaleNotification]. The returned Notification shares no memory
// with body.
func (c Config) ParseNotification(body []byte) (*Notification, error) {
	cs := [1]Config{c}
	return parseNotification(body, cs[:])
}

// ParseNotification is [Config.ParseNotification] for several credential
// sets: it accepts body if any Config of a verifies it, and sets the
// Notification's AppID to that Config's. Every Config is tried, so the time
// taken does not depend on which one matched. An empty Apps, or one whose
// Configs do not all pass [Config.ParseNotification]'s configuration
// checks, refuses every body with [ErrInvalidConfig].
func (a Apps) ParseNotification(body []byte) (*Notification, error) {
	return parseNotification(body, a)
}

func parseNotification(body []byte, cfgs []Config) (*Notification, error) {
	if len(cfgs) == 0 {
		return nil, fmt.Errorf("%w: no app configured for webhooks", ErrInvalidConfig)
	}
	for i := range cfgs {
		if err := cfgs[i].checkWebhook(); err != nil {
			return nil, err
		}
	}
	n, sig, optional, err := decodeNotification(body)
	if err != nil {
		return nil, err
	}
	if err := verify(n, sig, cfgs); err != nil {
		return nil, err
	}
	if optional != nil {
		// Decoded only now: building maps is the costly part of a body, and
		// a forged one should not get that far.
		v, _ := decodeValue(optional, 0)
		n.Optional, _ = v.(map[string]any) // always a map: optional starts with '{'
	}
	return n, nil
}

// checkWebhook reports what c lacks for verifying webhooks.
func (c Config) checkWebhook() error {
	switch {
	case c.AppID == "" && c.MasterSecret == "":
		return fmt.Errorf("%w: AppID and MasterSecret are empty", ErrInvalidConfig)
	case c.AppID == "":
		return fmt.Errorf("%w: AppID is empty", ErrInvalidConfig)
	case c.MasterSecret == "":
		return fmt.Errorf("%w: MasterSecret is empty (it verifies webhooks)", ErrInvalidConfig)
	case len(c.AppID) > maxAppID || strings.ContainsRune(c.AppID, ':'):
		return fmt.Errorf("%w: AppID is not a BeeCloud App ID", ErrInvalidConfig)
	case c.LegacyWebhook && c.AppSecret == "" && c.TestSecret == "":
		return fmt.Errorf("%w: LegacyWebhook needs the AppSecret or the TestSecret", ErrInvalidConfig)
	case c.LegacyWindow < 0:
		return fmt.Errorf("%w: LegacyWindow is negative", ErrInvalidConfig)
	}
	return nil
}

func (c Config) legacyWindow() time.Duration {
	if c.LegacyWindow == 0 {
		return defaultLegacyWindow
	}
	return c.LegacyWindow
}

// verify checks n's signature against every Config and sets n.AppID.
func verify(n *Notification, sig []byte, cfgs []Config) error {
	match := -1
	try := func(i int, want string) {
		if subtle.ConstantTimeCompare([]byte(want), sig) == 1 && match < 0 {
			match = i
		}
	}
	if !n.Legacy {
		for i, c := range cfgs {
			try(i, WebhookSignature(c.AppID, n.TransactionID, n.TransactionType, n.ChannelType, n.TransactionFee, c.MasterSecret))
		}
		if match < 0 {
			return fmt.Errorf("%w: signature does not match %s", ErrBadSignature, appsPhrase(cfgs))
		}
		n.AppID = cfgs[match].AppID
		return nil
	}

	legacy := 0
	ms := n.Timestamp.UnixMilli()
	for i, c := range cfgs {
		if !c.LegacyWebhook {
			continue
		}
		legacy++
		for _, secret := range [2]string{c.AppSecret, c.TestSecret} {
			if secret != "" {
				try(i, LegacyWebhookSign(c.AppID, secret, ms))
			}
		}
	}
	if legacy == 0 {
		return fmt.Errorf("%w: the body has a legacy \"sign\" and no \"signature\"; set Config.LegacyWebhook to accept it", ErrLegacyDisabled)
	}
	if match < 0 {
		return fmt.Errorf("%w: legacy sign does not match %s", ErrBadSignature, appsPhrase(cfgs))
	}
	c := cfgs[match]
	age := c.now().Sub(n.Timestamp)
	if window := c.legacyWindow(); age > window || age < -window {
		return fmt.Errorf("%w: legacy timestamp is %s from now; the window is %s", ErrStaleNotification, age.Round(time.Second), window)
	}
	n.AppID = c.AppID
	return nil
}

func appsPhrase(cfgs []Config) string {
	if len(cfgs) == 1 {
		return "app " + cfgs[0].AppID
	}
	return fmt.Sprintf("any of %d apps", len(cfgs))
}

// The top-level keys this package knows, as bits of a set.
const (
	fSignature = 1 << iota
	fSign
	fTimestamp
	fChannelType
	fSubChannelType
	fTransactionType
	fTransactionID
	fTransactionFee
	fTradeSuccess
	fMessageDetail
	fOptional
	fChannelTransactionID

	fRequired = fTimestamp | fChannelType | fTransactionType | fTransactionID | fTransactionFee
)

var knownKeys = [...]string{
	"signature", "sign", "timestamp", "channel_type", "sub_channel_type",
	"transaction_type", "transaction_id", "transaction_fee", "trade_success",
	"message_detail", "optional", "channel_transaction_id",
}

func keyBit(key string) int {
	for i, k := range knownKeys {
		if k == key {
			return 1 << i
		}
	}
	return 0
}

func malformed(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformedNotification, field, fmt.Sprintf(format, args...))
}

// decodeNotification reads body in one pass after checking that it is
// valid JSON and UTF-8. It returns the signature bytes to compare and the
// optional object, undecoded, both aliasing body.
func decodeNotification(body []byte) (n *Notification, sig, optional []byte, err error) {
	if !json.Valid(body) {
		if len(bytes.TrimSpace(body)) == 0 {
			return nil, nil, nil, fmt.Errorf("%w: empty body", ErrMalformedNotification)
		}
		// Only to describe the error; json.Valid is the faster check.
		var v json.RawMessage
		err := json.Unmarshal(body, &v)
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, nil, nil, fmt.Errorf("%w: body is not valid JSON: %w (at byte %d)", ErrMalformedNotification, err, syntax.Offset)
		}
		return nil, nil, nil, fmt.Errorf("%w: body is not valid JSON", ErrMalformedNotification)
	}
	if !utf8.Valid(body) {
		return nil, nil, nil, fmt.Errorf("%w: body is not valid UTF-8", ErrMalformedNotification)
	}
	i := skipSpace(body, 0)
	if body[i] != '{' {
		return nil, nil, nil, fmt.Errorf("%w: body is %s, not an object", ErrMalformedNotification, kind(body[i]))
	}
	i = skipSpace(body, i+1)
	n = new(Notification)
	var sign []byte
	seen := 0
	for body[i] != '}' {
		end := skipString(body, i)
		key, err := decodeString(body[i:end])
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%w: bad key", ErrMalformedNotification)
		}
		i = skipSpace(body, end)
		i = skipSpace(body, i+1) // past ':'
		end = skipValue(body, i)
		v := body[i:end]
		i = skipSpace(body, end)
		if body[i] == ',' {
			i = skipSpace(body, i+1)
		}

		bit := keyBit(key)
		if bit == 0 {
			for _, k := range knownKeys {
				if strings.EqualFold(k, key) {
					return nil, nil, nil, malformed(k, "key %s differs from %q only in case", shortQuote(key), k)
				}
			}
			continue
		}
		if seen&bit != 0 {
			return nil, nil, nil, malformed(key, "appears more than once")
		}
		seen |= bit
		if v[0] == 'n' && bit&(fRequired|fSignature|fSign) == 0 {
			continue // null: as if missing
		}
		switch bit {
		case fSignature, fSign:
			if v[0] != '"' {
				return nil, nil, nil, malformed(key, "must be a string, got %s", kind(v[0]))
			}
			s := v[1 : len(v)-1]
			if !isLowerHex32(s) {
				return nil, nil, nil, fmt.Errorf("%w: %s must be 32 lowercase hex digits", ErrBadSignature, key)
			}
			if bit == fSignature {
				sig = s
			} else {
				sign = s
			}
		case fTimestamp:
			ms, err := decodeUint(key, v)
			if err != nil {
				return nil, nil, nil, err
			}
			n.Timestamp = time.UnixMilli(ms)
		case fTransactionFee:
			fee, err := decodeUint(key, v)
			if err != nil {
				return nil, nil, nil, err
			}
			n.TransactionFee = fee
		case fTradeSuccess:
			if v[0] != 't' && v[0] != 'f' {
				return nil, nil, nil, malformed(key, "must be a boolean, got %s", kind(v[0]))
			}
			n.TradeSuccess = v[0] == 't'
		case fMessageDetail:
			if v[0] != '{' {
				return nil, nil, nil, malformed(key, "must be an object, got %s", kind(v[0]))
			}
			n.MessageDetail = append(json.RawMessage(nil), v...)
		case fOptional:
			if v[0] != '{' {
				return nil, nil, nil, malformed(key, "must be an object, got %s", kind(v[0]))
			}
			optional = v
		default:
			if v[0] != '"' {
				return nil, nil, nil, malformed(key, "must be a string, got %s", kind(v[0]))
			}
			s, err := decodeString(v)
			if err != nil {
				return nil, nil, nil, malformed(key, "bad string")
			}
			switch bit {
			case fChannelType:
				n.ChannelType = s
			case fSubChannelType:
				n.SubChannelType = s
			case fTransactionType:
				n.TransactionType = s
			case fTransactionID:
				n.TransactionID = s
			case fChannelTransactionID:
				n.ChannelTransactionID = s
			}
		}
	}

	if missing := fRequired &^ seen; missing != 0 {
		for i, k := range knownKeys {
			if missing&(1<<i) != 0 {
				return nil, nil, nil, malformed(k, "is missing")
			}
		}
	}
	switch {
	case sig != nil:
		n.Signature = string(sig)
	case sign != nil:
		n.Signature = string(sign)
		n.Legacy = true
		sig = sign
	default:
		return nil, nil, nil, malformed("signature", "is missing")
	}
	switch {
	case n.TransactionID == "":
		return nil, nil, nil, malformed("transaction_id", "is empty")
	case len(n.TransactionID) > maxTransactionID:
		return nil, nil, nil, malformed("transaction_id", "is longer than %d bytes", maxTransactionID)
	case n.TransactionType == "":
		return nil, nil, nil, malformed("transaction_type", "is empty")
	case len(n.TransactionType) > maxTransactionType || strings.ContainsRune(n.TransactionType, ':'):
		return nil, nil, nil, malformed("transaction_type", "is not a transaction type")
	case n.ChannelType == "":
		return nil, nil, nil, malformed("channel_type", "is empty")
	}
	return n, sig, optional, nil
}

// decodeUint parses a JSON number that must be a non-negative integer
// fitting in an int64.
func decodeUint(key string, v []byte) (int64, error) {
	switch {
	case v[0] == '-':
		return 0, malformed(key, "must not be negative")
	case v[0] < '0' || v[0] > '9':
		return 0, malformed(key, "must be an integer, got %s", kind(v[0]))
	}
	var x int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, malformed(key, "must be an integer, without fraction or exponent")
		}
		d := int64(c - '0')
		if x > (math.MaxInt64-d)/10 {
			return 0, malformed(key, "is too large")
		}
		x = x*10 + d
	}
	return x, nil
}

func isLowerHex32(s []byte) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// kind names the JSON type of a value that starts with c.
func kind(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// shortQuote quotes s for an error message, cut to a few bytes: the text
// comes from the sender.
func shortQuote(s string) string {
	const max = 40
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

// The functions below walk JSON that json.Valid accepted, so they need not
// check the grammar; they only find where each token ends.

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i].
func skipString(b []byte, i int) int {
	for i++; ; i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}

// skipValue returns the index after the value that starts at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
	}
	for i < len(b) && !strings.ContainsRune(",}] \t\r\n", rune(b[i])) {
		i++
	}
	return i
}

// decodeString decodes the JSON string v, quotes included.
func decodeString(v []byte) (string, error) {
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), nil
	}
	var s string
	err := json.Unmarshal(v, &s)
	return s, err
}

// decodeValue decodes the JSON value that starts at b[i] the way
// encoding/json decodes into an interface with UseNumber (numbers become
// json.Number; of repeated keys the last wins), and returns the index
// after it. It reads each byte once, so that its time grows with the
// length of b, whatever the nesting.
func decodeValue(b []byte, i int) (any, int) {
	switch b[i] {
	case '"':
		end := skipString(b, i)
		s, _ := decodeString(b[i:end])
		return s, end
	case '{':
		m := make(map[string]any)
		i = skipSpace(b, i+1)
		for b[i] != '}' {
			end := skipString(b, i)
			key, _ := decodeString(b[i:end])
			i = skipSpace(b, end)
			m[key], i = decodeValue(b, skipSpace(b, i+1))
			i = skipSpace(b, i)
			if b[i] == ',' {
				i = skipSpace(b, i+1)
			}
		}
		return m, i + 1
	case '[':
		a := []any{}
		i = skipSpace(b, i+1)
		for b[i] != ']' {
			var x any
			x, i = decodeValue(b, i)
			a = append(a, x)
			i = skipSpace(b, i)
			if b[i] == ',' {
				i = skipSpace(b, i+1)
			}
		}
		return a, i + 1
	case 't':
		return true, i + len("true")
	case 'f':
		return false, i + len("false")
	case 'n':
		return nil, i + len("null")
	}
	end := skipValue(b, i)
	return json.Number(b[i:end]), end
}
