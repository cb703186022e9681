package beecloud

import (
	"strings"
	"testing"
)

func TestNewDeliveryToken(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		tok := newDeliveryToken()
		if len(tok) > MaxStoreTokenBytes || len(tok) > 29 {
			t.Fatalf("token %q is %d bytes; want at most 29", tok, len(tok))
		}
		if strings.Trim(tok, "0123456789abcdefghijklmnopqrstuvwxyz") != "" {
			t.Fatalf("token %q has characters other than digits and lower-case letters", tok)
		}
		if seen[tok] {
			t.Fatalf("token %q made twice", tok)
		}
		seen[tok] = true
	}
	if len(tokenPrefix) != 16 {
		t.Errorf("token prefix %q; want 16 hex digits", tokenPrefix)
	}
}
