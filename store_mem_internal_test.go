package beecloud

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMemStoreBytesPerEntry measures the memory of 100,000 transactions
// claimed and completed as a WebhookHandler does, with keys of a real
// app: the figure in MemStore's doc.
func TestMemStoreBytesPerEntry(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation sizes")
	}
	if testing.Short() {
		t.Skip("fills 100,000 entries")
	}
	const entries = 100_000
	const appID = "afae2a33-c9cb-4139-88c9-af5c1df472e1"
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := &MemStore{MaxEntries: entries}
	for i := range entries {
		n := Notification{AppID: appID, TransactionType: TransactionPay, TransactionID: fmt.Sprintf("%032x", i)}
		key, token := n.Key(), NewOutTradeNo()
		_, err := s.Claim(ctx, key, token, 5*time.Minute)
		require.NoError(t, err, "Claim(%q)", key)
		require.NoError(t, s.Complete(ctx, key, token), "Complete(%q)", key)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perEntry := float64(after.HeapAlloc-before.HeapAlloc) / entries
	t.Logf("%d entries: %.0f bytes per entry (key %d bytes)", s.Len(), perEntry, len(appID)+len(":PAY:")+32)
	assert.LessOrEqual(t, perEntry, 220.0, "bytes per entry; MemStore's doc says about 180")
	runtime.KeepAlive(s)
}
