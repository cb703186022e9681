package beecloud

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		assert.Equal(t, tt.want, tt.s.String(), "ClaimState(%d).String()", int(tt.s))
	}
	// The zero value is no answer at all, so a Store that forgets to set
	// its result cannot be mistaken for one that granted or refused a claim.
	var zero ClaimState
	assert.NotContains(t, []ClaimState{ClaimOK, ClaimBusy, ClaimDone}, zero, "the zero ClaimState is %v; want it to be none of the answers", zero)
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
	require.GreaterOrEqual(t, lastAt, 36*time.Hour, "last resend; the guide says about 36 hours")
	require.LessOrEqual(t, lastAt, 37*time.Hour, "last resend; the guide says about 36 hours")
	for _, last := range []time.Duration{lastAt, sumOfGaps} {
		assert.GreaterOrEqual(t, MinRetention, last+time.Hour, "MinRetention; want at least an hour more than the last resend at %v", last)
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
			if tt.want == "" {
				assert.NoError(t, err, "CheckStoreKey")
			} else {
				// A test of the message: it says which limit, and by how much.
				assert.ErrorContains(t, err, tt.want, "CheckStoreKey")
			}
		})
	}
}
