package beecloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// ErrInvalidConfig is returned, wrapped, when a [Config] lacks something an
// operation needs, such as the AppSecret for signing an order.
var ErrInvalidConfig = errors.New("beecloud: invalid config")

// Config holds one BeeCloud app's credentials and the options that go with
// them. The values come from the BeeCloud dashboard (APP → 设置).
//
// Printing a Config with fmt (any verb), logging it with log/slog or
// marshalling it with encoding/json shows the AppID and which secrets are
// set, never the secrets themselves.
// Note that fmt prints fields of a struct it cannot call methods on
// (unexported fields) by reflection: keep a Config in an exported field, or
// behind a pointer, if the surrounding struct may be printed.
//
// A Config is a value; it is safe for concurrent use as long as nobody
// modifies it.
type Config struct {
	// AppID is the BeeCloud App ID (a UUID).
	AppID string
	// AppSecret signs orders (BC.click's sign). With LegacyWebhook it also
	// verifies webhooks signed with the legacy scheme.
	AppSecret string
	// MasterSecret verifies webhooks signed with the current scheme.
	MasterSecret string
	// TestSecret stands in for the AppSecret in BeeCloud's test mode: it
	// signs the calls of a [Client] with Test set, and verifies legacy
	// sandbox webhooks, which get [Notification].Test set. With LegacyWebhook it must differ from the
	// AppSecret, or a test payment could not be told from a real one.
	TestSecret string
	// ScriptURL is where the BeeCloud button script is loaded from; empty
	// means DefaultScriptURL. Point it at a beecloudtest sandbox in tests.
	ScriptURL string
	// ScriptTimeout is how long a pay button's click waits for that script
	// before it reports that the script did not load (see [Config.Button]);
	// zero or less means DefaultScriptTimeout.
	ScriptTimeout time.Duration

	// LegacyWebhook enables the legacy webhook scheme (field "sign" =
	// MD5(app_id + app_secret + timestamp)). It is off by default because
	// that signature covers no order field: anyone holding one old message
	// can forge another while its timestamp is fresh.
	LegacyWebhook bool
	// LegacyWindow is how far a legacy webhook's timestamp may be from now,
	// in either direction. Zero means 5 minutes, as BeeCloud's own Java and
	// .NET receivers use.
	LegacyWindow time.Duration
	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time
}

const redacted = "[redacted]"

// String returns a description of c in which every secret is redacted:
// a set secret shows as "[redacted]", an empty one as "".
func (c Config) String() string {
	return fmt.Sprintf("beecloud.Config{AppID:%q, AppSecret:%q, MasterSecret:%q, TestSecret:%q, ScriptURL:%q, LegacyWebhook:%t, LegacyWindow:%s}",
		c.AppID, mask(c.AppSecret), mask(c.MasterSecret), mask(c.TestSecret), c.ScriptURL, c.LegacyWebhook, c.LegacyWindow)
}

// GoString implements fmt.GoStringer so that %#v redacts the secrets too.
func (c Config) GoString() string { return c.String() }

// Format implements fmt.Formatter: every verb prints [Config.String].
// Without it fmt would print the fields, secrets included, by reflection
// for the verbs that do not call String, such as %d or %t.
func (c Config) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", c.String())
		return
	}
	io.WriteString(f, c.String()) //nolint:errcheck // a fmt.Formatter cannot report a write error
}

// LogValue implements slog.LogValuer: a logged Config shows its AppID and
// ScriptURL, and only whether each secret is set.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("app_id", c.AppID),
		slog.String("app_secret", mask(c.AppSecret)),
		slog.String("master_secret", mask(c.MasterSecret)),
		slog.String("test_secret", mask(c.TestSecret)),
		slog.String("script_url", c.ScriptURL),
		slog.Bool("legacy_webhook", c.LegacyWebhook),
	)
}

// redactedJSON is what [Config.MarshalJSON] writes.
type redactedJSON struct {
	AppID         string `json:"app_id"`
	AppSecret     string `json:"app_secret"`
	MasterSecret  string `json:"master_secret"`
	TestSecret    string `json:"test_secret"`
	ScriptURL     string `json:"script_url"`
	LegacyWebhook bool   `json:"legacy_webhook"`
}

// MarshalJSON implements json.Marshaler with the keys and redacted values
// of [Config.LogValue], so that a Config inside a struct logged by
// slog.JSONHandler, or marshalled for a debug page, shows no secret. The
// keys deliberately differ from the field names: unmarshalling the output
// into a Config leaves the secrets empty rather than set to "[redacted]".
func (c Config) MarshalJSON() ([]byte, error) {
	return json.Marshal(redactedJSON{
		AppID:         c.AppID,
		AppSecret:     mask(c.AppSecret),
		MasterSecret:  mask(c.MasterSecret),
		TestSecret:    mask(c.TestSecret),
		ScriptURL:     c.ScriptURL,
		LegacyWebhook: c.LegacyWebhook,
	})
}

// mask says whether a secret is set without showing any of it.
func mask(secret string) string {
	if secret == "" {
		return ""
	}
	return redacted
}

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// checkSigning reports what c lacks for signing orders.
func (c Config) checkSigning() error {
	switch {
	case c.AppID == "" && c.AppSecret == "":
		return fmt.Errorf("%w: AppID and AppSecret are empty", ErrInvalidConfig)
	case c.AppID == "":
		return fmt.Errorf("%w: AppID is empty", ErrInvalidConfig)
	case c.AppSecret == "":
		return fmt.Errorf("%w: AppSecret is empty", ErrInvalidConfig)
	}
	return nil
}
