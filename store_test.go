package beecloud

import (
	"strings"
	"testing"
	"time"
)

func TestClaimStateString(t *testing.T) {
	tests := []struct {
		s    ClaimState
		want string
	}{
		{ClaimOK, "ok"},
		{ClaimBusy, "busy"},
		{ClaimDone, "done"},
		{0, "ClaimState(0)"},
		{-1, "ClaimState(-1)"},
		{42, "ClaimState(42)"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("ClaimState(%d).String() = %q; want %q", int(tt.s), got, tt.want)
		}
	}
	// The zero value is no answer at all, so a Store that forgets to set
	// its result cannot be mistaken for one that granted or refused a claim.
	var zero ClaimState
	if zero == ClaimOK || zero == ClaimBusy || zero == ClaimDone {
		t.Errorf("the zero ClaimState is %v; want it to be none of the answers", zero)
	}
}

func TestMinRetentionCoversResends(t *testing.T) {
	// BeeCloud resends at 2 s, 4 s, …, 2^17 s after the first delivery; read
	// as doubling gaps instead, the last resend is their sum after it.
	var lastAt, sumOfGaps time.Duration
	for n := 1; n <= 17; n++ {
		gap := time.Duration(1<<n) * time.Second
		lastAt = gap
		sumOfGaps += gap
	}
	if lastAt > 37*time.Hour || lastAt < 36*time.Hour {
		t.Fatalf("last resend at %v; the guide says about 36 hours", lastAt)
	}
	for _, last := range []time.Duration{lastAt, sumOfGaps} {
		if MinRetention < last+time.Hour {
			t.Errorf("MinRetention = %v; want at least an hour more than the last resend at %v", MinRetention, last)
		}
	}
}

func TestCheckStoreKey(t *testing.T) {
	tests := []struct {
		name, key, token string
		want             string // a part of the error; "" means no error
	}{
		{"empty", "", "", ""},
		{"at the limits", strings.Repeat("k", MaxStoreKeyBytes), strings.Repeat("t", MaxStoreTokenBytes), ""},
		{"multibyte at the limit", strings.Repeat("键", MaxStoreKeyBytes/3), "令牌", ""},
		{"key too long", strings.Repeat("k", MaxStoreKeyBytes+1), "t", "store key is 513 bytes; at most 512"},
		{"token too long", "k", strings.Repeat("t", MaxStoreTokenBytes+1), "store token is 65 bytes; at most 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckStoreKey(tt.key, tt.token)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckStoreKey = %v; want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("CheckStoreKey = %v; want an error containing %q", err, tt.want)
			}
		})
	}
}
