package channel

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestTable checks that Codes and the table agree, and that each entry is
// whole: a name, a channel_type that prefixes both BeeCloud channels.
func TestTable(t *testing.T) {
	assert.Len(t, Codes, len(infos), "Codes; want one per entry of the table")
	seen := map[string]bool{}
	for _, code := range Codes {
		assert.False(t, seen[code], "%s: listed twice", code)
		seen[code] = true
		info, ok := Lookup(code)
		if !assert.True(t, ok, "%s: in Codes but not in the table", code) {
			continue
		}
		assert.NotEmpty(t, info.Name, "Lookup(%q): name", code)
		assert.NotEmpty(t, info.Type, "Lookup(%q): type", code)
		for _, sub := range []string{Sub(code, false), Sub(code, true)} {
			assert.True(t, strings.HasPrefix(sub, Type(code)+"_"),
				"%s: BeeCloud channel %q does not start with %q", code, sub, Type(code)+"_")
		}
	}
	// An unknown code has no facts.
	_, ok := Lookup("paypal")
	assert.False(t, ok, "Lookup(%q)", "paypal")
	assert.Empty(t, Sub("paypal", true), "Sub(%q, true)", "paypal")
	assert.Empty(t, Type("paypal"), "Type(%q)", "paypal")
	assert.False(t, QRCode("paypal"), "QRCode(%q)", "paypal")
}
