package beecloud

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrStoreFull is returned, wrapped, by [MemStore] when it holds
// MaxEntries entries that it must not forget. A [WebhookHandler] answers
// 503 then, and BeeCloud sends the message again later.
var ErrStoreFull = errors.New("beecloud: store full")

// DefaultMaxEntries bounds a [MemStore] whose MaxEntries is zero.
const DefaultMaxEntries = 100_000

// MemStore is a [Store] in the memory of one process: enough for a single
// server, and lost when it restarts. Use a shared store (a database) when
// several servers receive webhooks.
//
// The zero value is a ready MemStore that keeps completed transactions for
// MinRetention (96 hours) and holds at most DefaultMaxEntries entries. A
// MemStore is safe for concurrent use; do not copy one after first use.
//
// A MemStore never forgets a completed transaction before its retention
// has passed, nor a claim before its lease has run out. When it is full,
// a Claim of a new key first removes every entry it may forget (expired
// claims and completions older than the retention); if none is left to
// remove, the Claim fails with [ErrStoreFull] rather than drop an entry it
// promised to keep. Released claims are removed at once.
type MemStore struct {
	// MaxEntries bounds the number of transactions held; zero means
	// DefaultMaxEntries. Each takes about 200 bytes.
	MaxEntries int
	// Retention is how long a completed transaction is remembered; zero
	// means MinRetention. Shorter retentions risk handling a late resend
	// twice: BeeCloud resends for about 36 hours.
	Retention time.Duration
	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time

	mu      sync.Mutex
	entries map[string]memEntry
}

type memEntry struct {
	token string    // holder of the claim; empty once done
	until time.Time // end of the lease, or of the retention once done
	done  bool
}

// Claim implements [Store].
func (s *MemStore) Claim(ctx context.Context, key, token string, lease time.Duration) (ClaimState, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if lease <= 0 {
		return 0, fmt.Errorf("beecloud: MemStore.Claim: lease must be positive, got %s", lease)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	e, ok := s.entries[key]
	if ok && now.Before(e.until) {
		if e.done {
			return ClaimDone, nil
		}
		if e.token != token {
			return ClaimBusy, nil
		}
	}
	if !ok {
		if err := s.makeRoom(now); err != nil {
			return 0, err
		}
	}
	s.entries[key] = memEntry{token: token, until: now.Add(lease)}
	return ClaimOK, nil
}

// Complete implements [Store].
func (s *MemStore) Complete(ctx context.Context, key, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if _, ok := s.entries[key]; !ok {
		if err := s.makeRoom(now); err != nil {
			return err
		}
	}
	s.entries[key] = memEntry{until: now.Add(s.retention()), done: true}
	return nil
}

// Release implements [Store].
func (s *MemStore) Release(ctx context.Context, key, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[key]; ok && !e.done && e.token == token {
		delete(s.entries, key)
	}
	return nil
}

// Len returns the number of transactions s holds: claimed, or completed
// and not yet forgotten.
func (s *MemStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// makeRoom makes sure one more entry fits. s.mu is held.
func (s *MemStore) makeRoom(now time.Time) error {
	if s.entries == nil {
		s.entries = make(map[string]memEntry)
	}
	max := s.MaxEntries
	if max <= 0 {
		max = DefaultMaxEntries
	}
	if len(s.entries) < max {
		return nil
	}
	for k, e := range s.entries {
		if !now.Before(e.until) {
			delete(s.entries, k)
		}
	}
	if len(s.entries) < max {
		return nil
	}
	return fmt.Errorf("%w: %d transactions claimed or completed within the retention", ErrStoreFull, len(s.entries))
}

func (s *MemStore) retention() time.Duration {
	if s.Retention > 0 {
		return s.Retention
	}
	return MinRetention
}

func (s *MemStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
