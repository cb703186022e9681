package beecloud

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewDeliveryToken(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		tok := newDeliveryToken()
		require.LessOrEqual(t, len(tok), MaxStoreTokenBytes, "newDeliveryToken() = %q: longer than MaxStoreTokenBytes", tok)
		require.LessOrEqual(t, len(tok), 29, "newDeliveryToken() = %q: want at most 29 bytes", tok)
		require.Empty(t, strings.Trim(tok, "0123456789abcdefghijklmnopqrstuvwxyz"), "newDeliveryToken() = %q: characters other than digits and lower-case letters", tok)
		require.False(t, seen[tok], "newDeliveryToken() = %q: made twice", tok)
		seen[tok] = true
	}
	assert.Len(t, tokenPrefix, 16, "token prefix %q: want 16 hex digits", tokenPrefix)
}
