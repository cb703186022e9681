package beecloud_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
)

// clock is an injectable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func claim(t *testing.T, s beecloud.Store, key, token string, lease time.Duration, want beecloud.ClaimState) {
	t.Helper()
	got, err := s.Claim(context.Background(), key, token, lease)
	if err != nil {
		t.Fatalf("Claim(%q, %q): %v", key, token, err)
	}
	if got != want {
		t.Fatalf("Claim(%q, %q) = %v; want %v", key, token, got, want)
	}
}

func TestMemStoreContract(t *testing.T) {
	clk := newClock()
	s := &beecloud.MemStore{Now: clk.now}
	ctx := context.Background()
	const lease = time.Minute

	claim(t, s, "k", "a", lease, beecloud.ClaimOK)
	claim(t, s, "k", "b", lease, beecloud.ClaimBusy)
	claim(t, s, "other", "b", lease, beecloud.ClaimOK)

	// Release by a token that does not hold the claim does nothing.
	if err := s.Release(ctx, "k", "b"); err != nil {
		t.Fatal(err)
	}
	claim(t, s, "k", "c", lease, beecloud.ClaimBusy)
	// Release by the holder frees the key.
	if err := s.Release(ctx, "k", "a"); err != nil {
		t.Fatal(err)
	}
	claim(t, s, "k", "c", lease, beecloud.ClaimOK)

	// A claim whose holder died runs out with its lease.
	clk.advance(lease)
	claim(t, s, "k", "d", lease, beecloud.ClaimOK)
	// The old holder's Release no longer touches the new claim.
	if err := s.Release(ctx, "k", "c"); err != nil {
		t.Fatal(err)
	}
	claim(t, s, "k", "e", lease, beecloud.ClaimBusy)

	// Complete by whoever: done, and Release cannot undo it.
	if err := s.Complete(ctx, "k", "c"); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, "k", "d"); err != nil {
		t.Fatal(err)
	}
	claim(t, s, "k", "f", lease, beecloud.ClaimDone)
	clk.advance(beecloud.MinRetention - time.Second)
	claim(t, s, "k", "g", lease, beecloud.ClaimDone)
	clk.advance(time.Second)
	claim(t, s, "k", "h", lease, beecloud.ClaimOK)
}

func TestMemStoreRetention(t *testing.T) {
	clk := newClock()
	s := &beecloud.MemStore{Now: clk.now, Retention: 72 * time.Hour}
	claim(t, s, "k", "a", time.Minute, beecloud.ClaimOK)
	if err := s.Complete(context.Background(), "k", "a"); err != nil {
		t.Fatal(err)
	}
	clk.advance(71 * time.Hour)
	claim(t, s, "k", "b", time.Minute, beecloud.ClaimDone)
}

func TestMemStoreFull(t *testing.T) {
	clk := newClock()
	s := &beecloud.MemStore{Now: clk.now, MaxEntries: 3}
	ctx := context.Background()
	claim(t, s, "claimed", "a", time.Hour, beecloud.ClaimOK)
	claim(t, s, "done", "a", time.Hour, beecloud.ClaimOK)
	if err := s.Complete(ctx, "done", "a"); err != nil {
		t.Fatal(err)
	}
	claim(t, s, "short", "a", time.Minute, beecloud.ClaimOK)

	// Full, nothing may be forgotten: refused, and nothing dropped.
	if _, err := s.Claim(ctx, "new", "b", time.Minute); !errors.Is(err, beecloud.ErrStoreFull) {
		t.Fatalf("got %v; want %v", err, beecloud.ErrStoreFull)
	}
	claim(t, s, "claimed", "b", time.Hour, beecloud.ClaimBusy)
	claim(t, s, "done", "b", time.Hour, beecloud.ClaimDone)
	// Keys already held still work when full.
	claim(t, s, "short", "a", time.Minute, beecloud.ClaimOK)

	// Once a lease runs out, its entry makes room.
	clk.advance(2 * time.Minute)
	claim(t, s, "new", "b", time.Minute, beecloud.ClaimOK)
	if got := s.Len(); got != 3 {
		t.Errorf("Len() = %d; want 3", got)
	}
	claim(t, s, "done", "c", time.Hour, beecloud.ClaimDone)

	// Completed entries go once their retention has passed.
	clk.advance(beecloud.MinRetention)
	claim(t, s, "newer", "b", time.Minute, beecloud.ClaimOK)
	if got := s.Len(); got != 1 {
		t.Errorf("Len() = %d after everything expired; want 1", got)
	}
}

func TestMemStoreErrors(t *testing.T) {
	var s beecloud.MemStore // the zero value works
	if _, err := s.Claim(context.Background(), "k", "a", 0); err == nil {
		t.Error("Claim with a zero lease: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Claim(ctx, "k", "a", time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Claim with a cancelled context: got %v; want %v", err, context.Canceled)
	}
	if err := s.Complete(ctx, "k", "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Complete with a cancelled context: got %v; want %v", err, context.Canceled)
	}
	if err := s.Release(ctx, "k", "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Release with a cancelled context: got %v; want %v", err, context.Canceled)
	}
	claim(t, &s, "k", "a", time.Minute, beecloud.ClaimOK)
}

func TestMemStoreConcurrentClaims(t *testing.T) {
	var s beecloud.MemStore
	const keys, claimers = 20, 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := map[string]int{}
	for i := range claimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range keys {
				key := fmt.Sprint("k", k)
				state, err := s.Claim(context.Background(), key, fmt.Sprint("t", i), time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if state == beecloud.ClaimOK {
					mu.Lock()
					winners[key]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	for k := range keys {
		if n := winners[fmt.Sprint("k", k)]; n != 1 {
			t.Errorf("key k%d claimed %d times; want 1", k, n)
		}
	}
}

// TestMemStoreBoundUnderLoad runs claims, completions and releases of many
// keys from many goroutines while the clock moves, against a small
// MemStore whose entries must often be evicted. Each step (a Claim and
// what follows from its answer) runs under a lock so that the test's own
// record of completions is exact: the store never holds more than
// MaxEntries entries, never answers ClaimDone for a key nobody completed,
// and never forgets a completion within its retention.
func TestMemStoreBoundUnderLoad(t *testing.T) {
	const max, workers, rounds, keys = 50, 8, 400, 120
	const lease, retention = 5 * time.Minute, time.Hour
	clk := newClock()
	s := &beecloud.MemStore{Now: clk.now, MaxEntries: max, Retention: retention}
	ctx := context.Background()
	var (
		mu        sync.Mutex
		completed = map[string]time.Time{} // key → when it was last completed
		full      int
	)
	step := func(key, token string, complete bool) {
		mu.Lock()
		defer mu.Unlock()
		state, err := s.Claim(ctx, key, token, lease)
		if errors.Is(err, beecloud.ErrStoreFull) {
			full++
			return
		}
		if err != nil {
			t.Error(err)
			return
		}
		doneAt, done := completed[key]
		switch {
		case state == beecloud.ClaimDone && !done:
			t.Errorf("Claim(%s) = done; nobody completed it", key)
		case state == beecloud.ClaimOK && done && clk.now().Sub(doneAt) < retention:
			t.Errorf("Claim(%s) = ok %s after its completion; the retention is %s", key, clk.now().Sub(doneAt), retention)
		case state == beecloud.ClaimOK && complete:
			if err := s.Complete(ctx, key, token); err != nil {
				t.Error(err)
			}
			completed[key] = clk.now()
		case state == beecloud.ClaimOK:
			if err := s.Release(ctx, key, token); err != nil {
				t.Error(err)
			}
		}
		if n := s.Len(); n > max {
			t.Errorf("Len() = %d; MaxEntries is %d", n, max)
		}
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				if i%10 == 0 {
					clk.advance(time.Minute)
				}
				// Some claims are left to run out with their lease.
				key, token := fmt.Sprint("k", (w*rounds+i*7)%keys), fmt.Sprint("t", w, "-", i)
				if i%5 != 4 {
					step(key, token, i%3 == 0)
					continue
				}
				mu.Lock()
				if _, err := s.Claim(ctx, key, token, lease); err != nil && !errors.Is(err, beecloud.ErrStoreFull) {
					t.Error(err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if full == 0 {
		t.Errorf("the store was never full: the test proves nothing about eviction")
	}
}
