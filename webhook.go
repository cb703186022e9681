package beecloud

import (
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"github.com/paybutton/beecloud/internal/webhookjson"
)

const (
	// maxAppID bounds a Config's AppID (a UUID at BeeCloud) so that
	// [Notification.Key] stays far within a Store's 512 bytes.
	maxAppID = 128
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
// 1e2 and -1 are refused, not rounded), message_detail is an object,
// optional a flat object of strings, numbers and booleans with each key
// once (the error names the entry, as "optional.KEY"), and a key
// differing from a known one only in case is refused.
// signature, timestamp, channel_type, transaction_type, transaction_id and
// transaction_fee are required; the other known fields may be missing or
// null. Unknown keys are ignored, whatever their value, because BeeCloud
// adds fields over time. ParseNotification reads all of body: bound its
// size before, as [WebhookHandler] does.
//
// The signed fields must be values BeeCloud sends: transaction_type one of
// the Transaction constants ([TransactionPay], …), channel_type one of the
// ChannelType constants ([ChannelTypeWx], …), and transaction_id 1 to
// [MaxTransactionIDLength] ASCII letters and digits, the alphabet of every
// number BeeCloud assigns or accepts. The signature hashes these fields
// without separators; these rules leave a signature exactly one reading,
// so that a captured body cannot be re-cut into another transaction
// (transaction_id "order123" with type "4PAY" instead of "order1234" with
// "PAY"), and they keep [Notification.Key] unambiguous. A value outside
// them is refused with [ErrMalformedNotification] naming the field.
//
// The signature must be 32 lowercase hex digits equal to
// [WebhookSignature] with c's AppID and MasterSecret; the comparison takes
// constant time. A body signed with the legacy scheme (field "sign"
// instead of "signature") is refused with [ErrLegacyDisabled] unless
// c.LegacyWebhook is set; then it must match [LegacyWebhookSign] with the
// AppSecret or the TestSecret, and its timestamp must be within
// c.LegacyWindow of c.Now(), before or after. A body verified with the
// TestSecret comes from BeeCloud's test mode: its Notification has Test
// set.
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
	if optional != "" {
		// Decoded only now: building maps is the costly part of a body, and
		// a forged one should not get that far.
		n.Optional = webhookjson.DecodeObject(optional)
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
	case c.LegacyWebhook && c.AppSecret != "" && c.AppSecret == c.TestSecret:
		return fmt.Errorf("%w: AppSecret and TestSecret are equal: a test payment could not be told from a real one", ErrInvalidConfig)
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

// verify checks n's signature against every Config and sets n.AppID, and
// n.Test for a legacy body signed with a TestSecret. Every candidate
// secret is compared, so that the time taken does not say which matched.
func verify(n *Notification, sig []byte, cfgs []Config) error {
	if !n.Legacy {
		return verifyCurrent(n, sig, cfgs)
	}
	return verifyLegacy(n, sig, cfgs)
}

func verifyCurrent(n *Notification, sig []byte, cfgs []Config) error {
	match := -1
	for i, c := range cfgs {
		want := webhookSignature(c.AppID, n.TransactionID, n.TransactionType, n.ChannelType, n.TransactionFee, c.MasterSecret)
		if subtle.ConstantTimeCompare(want[:], sig) == 1 && match < 0 {
			match = i
		}
	}
	if match < 0 {
		return fmt.Errorf("%w: signature does not match %s", ErrBadSignature, appsPhrase(cfgs))
	}
	n.AppID = cfgs[match].AppID
	return nil
}

func verifyLegacy(n *Notification, sig []byte, cfgs []Config) error {
	match, test, legacy := -1, false, 0
	ms := n.Timestamp.UnixMilli()
	for i, c := range cfgs {
		if !c.LegacyWebhook {
			continue
		}
		legacy++
		for j, secret := range [2]string{c.AppSecret, c.TestSecret} {
			if secret == "" {
				continue
			}
			want := LegacyWebhookSign(c.AppID, secret, ms)
			if subtle.ConstantTimeCompare([]byte(want), sig) == 1 && match < 0 {
				match, test = i, j == 1
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
	n.AppID, n.Test = c.AppID, test
	return nil
}

func appsPhrase(cfgs []Config) string {
	if len(cfgs) == 1 {
		return "app " + cfgs[0].AppID
	}
	return fmt.Sprintf("any of %d apps", len(cfgs))
}
