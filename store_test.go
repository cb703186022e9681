package beecloud

import (
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
