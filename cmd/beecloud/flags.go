package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
)

// Environment variables the commands read secrets from when the flag is
// not given.
const (
	envAppID        = "BEECLOUD_APP_ID"
	envAppSecret    = "BEECLOUD_APP_SECRET" //nolint:gosec // G101: the name of a variable, not a secret
	envMasterSecret = "BEECLOUD_MASTER_SECRET"
	envTestSecret   = "BEECLOUD_TEST_SECRET" //nolint:gosec // G101: the name of a variable, not a secret
)

// credentials are the BeeCloud app's ID and secrets, from flags or env.
type credentials struct {
	appID, appSecret, masterSecret string
	testSecret                     string // BeeCloud's test mode
}

// defineTest adds the flag of the Test Secret, which signs test mode.
func (cr *credentials) defineTest(fs *flag.FlagSet) {
	fs.StringVar(&cr.testSecret, "test-secret", "", "BeeCloud Test Secret, for test mode (default $"+envTestSecret+")")
}

// define adds the flags for the credentials a command uses.
func (cr *credentials) define(fs *flag.FlagSet, appSecret, masterSecret bool) {
	fs.StringVar(&cr.appID, "app-id", "", "BeeCloud App ID (default $"+envAppID+")")
	if appSecret {
		fs.StringVar(&cr.appSecret, "app-secret", "", "BeeCloud App Secret (default $"+envAppSecret+")")
	}
	if masterSecret {
		fs.StringVar(&cr.masterSecret, "master-secret", "", "BeeCloud Master Secret (default $"+envMasterSecret+")")
	}
}

// fill takes each credential not given as a flag from the environment.
func (cr *credentials) fill(getenv func(string) string) {
	for _, f := range []struct {
		v   *string
		env string
	}{{&cr.appID, envAppID}, {&cr.appSecret, envAppSecret}, {&cr.masterSecret, envMasterSecret}, {&cr.testSecret, envTestSecret}} {
		if *f.v == "" {
			*f.v = getenv(f.env)
		}
	}
}

// missing names every required credential that is empty, as the flag
// and the variable that would set it ("-app-id (or $BEECLOUD_APP_ID) and
// -app-secret (or $BEECLOUD_APP_SECRET)"), or "" when none is.
func (cr *credentials) missing(appSecret, masterSecret bool) string {
	return joinFlags(cr.missingFlags(appSecret, masterSecret))
}

// missingFlags lists the required credentials that are empty, each as the
// flag and the variable that would set it.
func (cr *credentials) missingFlags(appSecret, masterSecret bool) []string {
	var out []string
	for _, c := range []struct {
		needed bool
		value  string
		flag   string
		env    string
	}{
		{true, cr.appID, "-app-id", envAppID},
		{appSecret, cr.appSecret, "-app-secret", envAppSecret},
		{masterSecret, cr.masterSecret, "-master-secret", envMasterSecret},
	} {
		if c.needed && c.value == "" {
			out = append(out, c.flag+" (or $"+c.env+")")
		}
	}
	return out
}

// missingText reports every required flag a command was not given at
// once, "missing -a, -b and -c", or "" when none is missing.
func missingText(flags []string) string {
	if len(flags) == 0 {
		return ""
	}
	return "missing " + joinFlags(flags)
}

// joinFlags joins flag names as a sentence does: "-a, -b and -c".
func joinFlags(flags []string) string {
	switch len(flags) {
	case 0:
		return ""
	case 1:
		return flags[0]
	}
	return strings.Join(flags[:len(flags)-1], ", ") + " and " + flags[len(flags)-1]
}

// errNotFen explains amounts to someone who wrote yuan.
var errNotFen = errors.New("amounts are integers in 分 (fen), 1 = ¥0.01, 100 = ¥1.00")

// parseFen parses an amount in 分. It refuses decimals such as "1.00",
// saying which integer the buyer probably meant.
func parseFen(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty amount: %w", errNotFen)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err == nil {
		return n, nil
	}
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("amount %s is out of range", s)
	}
	if fen, ok := yuanToFen(s); ok {
		return 0, fmt.Errorf("amount %q is not an integer: %w; for ¥%s write %d", s, errNotFen, s, fen)
	}
	return 0, fmt.Errorf("amount %q is not an integer: %w", s, errNotFen)
}

// yuanToFen converts a decimal yuan amount with at most two decimals, such
// as "1.5" or "12.34", to 分.
func yuanToFen(s string) (int64, bool) {
	whole, frac, ok := strings.Cut(s, ".")
	if !ok || whole == "" || len(frac) == 0 || len(frac) > 2 || len(whole) > 15 {
		return 0, false
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, false
			}
		}
	}
	frac += strings.Repeat("0", 2-len(frac))
	fen, err := strconv.ParseInt(whole+frac, 10, 64)
	return fen, err == nil
}

// keyValues is a repeatable -optional k=v flag.
type keyValues []keyValue

type keyValue struct{ key, value string }

func (kv *keyValues) String() string {
	var parts []string
	for _, p := range *kv {
		parts = append(parts, p.key+"="+p.value)
	}
	return strings.Join(parts, ",")
}

func (kv *keyValues) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	*kv = append(*kv, keyValue{k, v})
	return nil
}
