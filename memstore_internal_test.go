package beecloud

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"
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
		if _, err := s.Claim(ctx, key, token, 5*time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := s.Complete(ctx, key, token); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perEntry := float64(after.HeapAlloc-before.HeapAlloc) / entries
	t.Logf("%d entries: %.0f bytes per entry (key %d bytes)", s.Len(), perEntry, len(appID)+len(":PAY:")+32)
	if perEntry > 220 {
		t.Errorf("%.0f bytes per entry; MemStore's doc says about 180", perEntry)
	}
	runtime.KeepAlive(s)
}

// TestMemStoreHold: a claim held the way a WebhookHandler holds its
// MemStore's never runs out, however long it lasts, is never forgotten to
// make room, and says how long it has been held to the deliveries it
// turns away; Complete and Release end it as they end any claim.
func TestMemStoreHold(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	s := &MemStore{MaxEntries: 2, Now: func() time.Time { return now }}
	if state, _, err := s.hold("a", "t1", now); state != ClaimOK || err != nil {
		t.Fatalf("hold a: %v %v; want ClaimOK", state, err)
	}
	now = now.Add(2 * MinRetention) // past any lease, past the retention
	state, heldFor, err := s.hold("a", "t2", now)
	if state != ClaimBusy || err != nil || heldFor != 2*MinRetention {
		t.Errorf("hold a by another token after 192h: %v %v %v; want ClaimBusy, held for 192h", state, heldFor, err)
	}
	if state, err := s.Claim(ctx, "a", "t3", time.Second); state != ClaimBusy || err != nil {
		t.Errorf("Claim a by another token: %v %v; want ClaimBusy", state, err)
	}
	// A full store forgets completed entries, never a held claim.
	if state, _, err := s.hold("b", "t1", now); state != ClaimOK || err != nil {
		t.Fatalf("hold b: %v %v", state, err)
	}
	if _, _, err := s.hold("c", "t1", now); !errors.Is(err, ErrStoreFull) {
		t.Errorf("hold c in a store full of held claims: %v; want ErrStoreFull", err)
	}
	if err := s.Release(ctx, "b", "t1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, "a", "t1"); err != nil {
		t.Fatal(err)
	}
	if state, _, err := s.hold("a", "t4", now); state != ClaimDone || err != nil {
		t.Errorf("hold a once completed: %v %v; want ClaimDone", state, err)
	}
	if state, _, err := s.hold("b", "t5", now); state != ClaimOK || err != nil {
		t.Errorf("hold b once released: %v %v; want ClaimOK", state, err)
	}
	if n := s.Len(); n != 2 {
		t.Errorf("Len %d; want 2 (a done, b held)", n)
	}
}
