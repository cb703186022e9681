package beecloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// ErrInvalidOrder is matched by errors.Is for every error that
// [Order.Validate] and [Config.Params] return for a bad order. Use
// errors.As with *[ValidationError] to see which fields are wrong.
var ErrInvalidOrder = errors.New("beecloud: invalid order")

// Limits of the BC.click data that [Order.Validate] enforces.
const (
	// MaxTitleBytes is the longest title BeeCloud accepts, counted as GBK
	// bytes: 32 ASCII characters or 16 Chinese characters.
	MaxTitleBytes = 32
	// MaxAmount is the largest amount in 分 that survives the trip through
	// JavaScript, whose numbers are exact only up to 2^53-1.
	MaxAmount = 1<<53 - 1
	// MaxOpenIDLength bounds data.openid; WeChat's openids have 28 characters.
	MaxOpenIDLength = 64
)

// Order is one purchase as the merchant's server knows it: what BC.click
// needs besides the app's credentials. Amount is in 分 (1 = ¥0.01).
//
// The zero values of the optional fields mean BeeCloud's defaults.
type Order struct {
	// Title is the goods' name shown on the pay page; at most 32 GBK bytes
	// (16 Chinese characters) and without ' or ".
	Title string
	// Amount is the total in 分; it must be positive.
	Amount int64
	// OutTradeNo is the merchant's unique order number: 8 to 32 ASCII
	// letters and digits. [NewOutTradeNo] makes one.
	OutTradeNo string

	// ReturnURL is where the buyer's browser goes after paying: http or
	// https, with no query and no fragment. Never grant goods on it; wait
	// for the webhook. WeChat JSAPI payment (wx, bcwx) does not support it.
	ReturnURL string
	// Optional is echoed back in the webhook. Values must be strings,
	// numbers or booleans: BeeCloud takes no nested objects. Integers must
	// be within ±(2^53-1), which JavaScript holds exactly; pass larger ids
	// as strings. Keys must not be empty nor "__proto__", which the
	// buyer's browser drops without a word.
	Optional map[string]any
	// InstantChannel skips the channel menu and goes straight to one
	// channel. Empty shows the menu.
	InstantChannel Channel
	// OpenID is the buyer's WeChat openid, required for paying inside
	// WeChat (ChannelWx, ChannelBCWx).
	OpenID string
	// Debug makes BeeCloud's script alert diagnostics.
	Debug bool
	// NoAliGuide turns off the guide that tells a buyer inside WeChat to
	// open Alipay in a browser (need_ali_guide: false).
	NoAliGuide bool
	// NoAliApp stops mobile pages from opening the Alipay app
	// (use_app: false).
	NoAliApp bool
}

// Params is the data argument of BC.click for one order, signed. Marshal
// it with encoding/json (or let [Config.Button] do it): the keys are
// BeeCloud's, amount is a JSON number, and unset optional keys are omitted.
type Params struct {
	Title          string         `json:"title"`
	Amount         int64          `json:"amount"`
	OutTradeNo     string         `json:"out_trade_no"`
	Sign           string         `json:"sign"`
	ReturnURL      string         `json:"return_url,omitempty"`
	Debug          bool           `json:"debug,omitempty"`
	Optional       map[string]any `json:"optional,omitempty"`
	InstantChannel Channel        `json:"instant_channel,omitempty"`
	// NeedAliGuide and UseApp are nil for BeeCloud's default (true).
	NeedAliGuide *bool  `json:"need_ali_guide,omitempty"`
	OpenID       string `json:"openid,omitempty"`
	UseApp       *bool  `json:"use_app,omitempty"`
}

// Params validates o and c and returns the signed BC.click data for o.
// An invalid order gives an error matching [ErrInvalidOrder]; a Config
// without AppID or AppSecret one matching [ErrInvalidConfig].
func (c Config) Params(o Order) (Params, error) {
	if err := c.checkSigning(); err != nil {
		return Params{}, err
	}
	if err := o.Validate(); err != nil {
		return Params{}, err
	}
	p := Params{
		Title:          o.Title,
		Amount:         o.Amount,
		OutTradeNo:     o.OutTradeNo,
		Sign:           Sign(c.AppID, o.Title, o.Amount, o.OutTradeNo, c.AppSecret),
		ReturnURL:      o.ReturnURL,
		Debug:          o.Debug,
		InstantChannel: o.InstantChannel,
		OpenID:         o.OpenID,
	}
	if len(o.Optional) > 0 {
		p.Optional = maps.Clone(o.Optional)
	}
	if o.NoAliGuide {
		p.NeedAliGuide = new(bool)
	}
	if o.NoAliApp {
		p.UseApp = new(bool)
	}
	return p, nil
}

// NewOutTradeNo returns a fresh out_trade_no: the 32 hex digits of a random
// (version 4) UUID.
func NewOutTradeNo() string {
	id := uuid.New()
	var out [32]byte
	const digits = "0123456789abcdef"
	for i, b := range id {
		out[2*i] = digits[b>>4]
		out[2*i+1] = digits[b&0xf]
	}
	return string(out[:])
}

// FieldError is one problem with one field of an order or a request.
type FieldError struct {
	// Field is the field's key in BeeCloud's JSON, as BeeCloud's docs
	// name it: "out_trade_no" for an [Order]'s OutTradeNo, "bill_no" for
	// a [RefundRequest]'s, "optional.KEY" for one entry of an Optional
	// map, "ids[2]" for one element of a list.
	Field string
	// Reason says what is wrong, in plain words.
	Reason string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Reason }

// ValidationError lists every problem found in an order, or in a
// [Client] request before it was sent, each naming its field.
// errors.Is(err, ErrInvalidOrder) holds for an order's,
// errors.Is(err, ErrInvalidRequest) for a request's.
type ValidationError struct {
	// Op is "order" (or empty) for [Order.Validate] and [Config.Params];
	// otherwise it names the [Client] call, such as "refund".
	Op string
	// Problems lists the problems, in the order of the fields.
	Problems []FieldError
}

func (e *ValidationError) order() bool { return e.Op == "" || e.Op == "order" }

func (e *ValidationError) Error() string {
	var b strings.Builder
	if e.order() {
		b.WriteString(ErrInvalidOrder.Error())
	} else {
		b.WriteString("beecloud: invalid " + e.Op + " request")
	}
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalidOrder) true for an order's problems
// and errors.Is(err, ErrInvalidRequest) for a request's.
func (e *ValidationError) Is(target error) bool {
	if e.order() {
		return target == ErrInvalidOrder
	}
	return target == ErrInvalidRequest
}

// Field returns the first problem with the named field, if any.
func (e *ValidationError) Field(name string) (FieldError, bool) {
	for _, p := range e.Problems {
		if p.Field == name {
			return p, true
		}
	}
	return FieldError{}, false
}

// Validate checks o against every rule BeeCloud sets for BC.click data and
// reports all problems at once as a *[ValidationError]. It returns nil for
// a valid order.
func (o Order) Validate() error {
	var problems []FieldError
	add := func(field, format string, args ...any) {
		problems = append(problems, FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}

	if reason := checkOutTradeNo(o.OutTradeNo); reason != "" {
		add("out_trade_no", "%s", reason)
	}
	if reason := checkTitle(o.Title); reason != "" {
		add("title", "%s", reason)
	}
	switch {
	case o.Amount <= 0:
		add("amount", "must be a positive number of 分 (1 = ¥0.01), got %d", o.Amount)
	case o.Amount > MaxAmount:
		add("amount", "must be at most %d 分: larger numbers lose precision in JavaScript", int64(MaxAmount))
	}
	if o.ReturnURL != "" {
		if reason := checkReturnURL(o.ReturnURL); reason != "" {
			add("return_url", "%s", reason)
		} else if o.InstantChannel.Known() && !o.InstantChannel.SupportsReturnURL() {
			add("return_url", "is not supported by instant_channel %q (WeChat JSAPI payment)", o.InstantChannel)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(o.Optional)) {
		if reason := checkOptional(key, o.Optional[key]); reason != "" {
			add("optional."+key, "%s", reason)
		}
	}
	if o.InstantChannel != "" && !o.InstantChannel.Known() {
		add("instant_channel", "unknown channel %q", o.InstantChannel)
	}
	switch {
	case o.OpenID == "" && o.InstantChannel.NeedsOpenID():
		add("openid", "is required for instant_channel %q (WeChat JSAPI payment)", o.InstantChannel)
	case o.OpenID != "":
		if reason := checkOpenID(o.OpenID); reason != "" {
			add("openid", "%s", reason)
		}
	}

	if len(problems) == 0 {
		return nil
	}
	return &ValidationError{Op: "order", Problems: problems}
}

func checkOutTradeNo(s string) string {
	if s == "" {
		return "is required"
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return fmt.Sprintf("must be 8 to 32 ASCII letters or digits, found %q", firstRune(s[i:]))
		}
	}
	if len(s) < 8 || len(s) > 32 {
		return fmt.Sprintf("must be 8 to 32 ASCII letters or digits (it has %d characters)", len(s))
	}
	return ""
}

func checkTitle(s string) string {
	if s == "" {
		return "is required"
	}
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for _, r := range s {
		switch {
		case r == '\'' || r == '"':
			return "must not contain ' or \" (BeeCloud's script builds JSON by concatenation)"
		case unicode.IsControl(r):
			return fmt.Sprintf("must not contain the control character %U", r)
		}
	}
	if n := gbkLen(s); n > MaxTitleBytes {
		return fmt.Sprintf("is %d GBK bytes long; at most %d (16 Chinese characters or 32 ASCII ones)", n, MaxTitleBytes)
	}
	return ""
}

// gbkLen returns the length of s in GBK: one byte for ASCII, two for a
// Chinese character. Characters GBK lacks (emoji, Korean, most accented
// Latin letters) count two as well: BeeCloud's Java SDK measures with
// String.getBytes("GBK"), which turns each of them into one '?', so this
// count is stricter and never lets by a title that the SDK refuses.
func gbkLen(s string) int {
	n := 0
	for _, r := range s {
		if r < utf8.RuneSelf {
			n++
		} else {
			n += 2
		}
	}
	return n
}

func checkReturnURL(s string) string {
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return "must start with http:// or https://"
	}
	if strings.ContainsAny(s, "?#") {
		return "must not carry parameters (no ? and no #)"
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == utf8.RuneError {
			return "must not contain spaces or control characters"
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return "is not a valid URL"
	}
	if u.Host == "" || u.Hostname() == "" {
		return "has no host"
	}
	return ""
}

func checkOptional(key string, v any) string {
	if key == "" {
		return "key must not be empty"
	}
	if !utf8.ValidString(key) {
		return "key is not valid UTF-8"
	}
	if key == "__proto__" {
		// In the object literal the page hands BC.click, a "__proto__" key
		// sets the object's prototype instead of adding a key, so the
		// value would never reach BeeCloud nor come back in the webhook.
		return "key __proto__ is not allowed: browsers drop it silently"
	}
	switch v := v.(type) {
	case string:
		if !utf8.ValidString(v) {
			return "is not valid UTF-8"
		}
	case bool, int8, int16, int32, uint8, uint16, uint32:
	case int:
		return checkOptionalInt(int64(v))
	case int64:
		return checkOptionalInt(v)
	case uint:
		if uint64(v) > MaxAmount {
			return optionalIntReason
		}
	case uint64:
		if v > MaxAmount {
			return optionalIntReason
		}
	case float32:
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return "must be a finite number"
		}
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "must be a finite number"
		}
	case json.Number:
		// As Notification.Optional holds numbers, so that a webhook's
		// optional can be passed on unchanged.
		return checkOptionalNumber(v)
	case nil:
		return "must be a string, number or bool, not nil"
	default:
		return fmt.Sprintf("must be a string, number or bool, not %T (BeeCloud takes no nested values)", v)
	}
	return ""
}

// checkOptionalNumber refuses integers that the trip through the buyer's
// browser would change: an order id 9007199254740993 comes back in the
// webhook as 9007199254740992, and matches the wrong order.
func checkOptionalNumber(n json.Number) string {
	if i, err := n.Int64(); err == nil {
		return checkOptionalInt(i)
	}
	f, err := n.Float64()
	if err != nil || !json.Valid([]byte(n)) {
		return "is not a valid finite number: " + shortQuote(string(n))
	}
	if !strings.ContainsAny(string(n), ".eE") || f == math.Trunc(f) && math.Abs(f) > MaxAmount {
		return optionalIntReason
	}
	return ""
}

const optionalIntReason = "is beyond ±9007199254740991, which JavaScript cannot hold exactly; pass it as a string"

func checkOptionalInt(v int64) string {
	if v > MaxAmount || v < -MaxAmount {
		return optionalIntReason
	}
	return ""
}

func checkOpenID(s string) string {
	if len(s) > MaxOpenIDLength {
		return fmt.Sprintf("is %d bytes long; at most %d", len(s), MaxOpenIDLength)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' {
			return fmt.Sprintf("must contain only letters, digits, - and _, found %q", firstRune(s[i:]))
		}
	}
	return ""
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}
