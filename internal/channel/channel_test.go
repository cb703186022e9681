package channel

import (
	"strings"
	"testing"
)

// TestTable checks that Codes and the table agree, and that each entry is
// whole: a name, a channel_type that prefixes both BeeCloud channels.
func TestTable(t *testing.T) {
	if len(Codes) != len(infos) {
		t.Errorf("Codes lists %d codes; the table has %d", len(Codes), len(infos))
	}
	seen := map[string]bool{}
	for _, code := range Codes {
		if seen[code] {
			t.Errorf("%s: listed twice", code)
		}
		seen[code] = true
		info, ok := Lookup(code)
		if !ok {
			t.Errorf("%s: in Codes but not in the table", code)
			continue
		}
		if info.Name == "" || info.Type == "" {
			t.Errorf("%s: got name %q, type %q; want both", code, info.Name, info.Type)
		}
		for _, sub := range []string{Sub(code, false), Sub(code, true)} {
			if !strings.HasPrefix(sub, Type(code)+"_") {
				t.Errorf("%s: BeeCloud channel %q does not start with %q", code, sub, Type(code)+"_")
			}
		}
	}
	if _, ok := Lookup("paypal"); ok || Sub("paypal", true) != "" || Type("paypal") != "" || QRCode("paypal") {
		t.Errorf("an unknown code has facts")
	}
}
