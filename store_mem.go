package beecloud

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// ErrStoreFull is returned, wrapped, by [MemStore] when every one of its
// MaxEntries entries is a live claim: as many deliveries are being
// handled at once. A [WebhookHandler] answers 503 then, and BeeCloud sends
// the message again later.
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
// A MemStore never forgets a live claim, and forgets a completed
// transaction before its retention only to make room: when it is full, a
// Claim of a new key forgets the oldest completed transaction, logs that
// at warn level, and succeeds. Forgetting a completion is the lesser harm
// (a late resend of that transaction would run Handle again, where
// refusing would leave every new payment unrecorded until the retention
// passed), and it happens only to a store too small for its traffic: at
// the default size, more than 100,000 transactions within 96 hours. Claim
// fails with [ErrStoreFull] only when every entry is a live claim.
// Released claims are removed at once; a Claim by the holder of a live
// claim renews its lease.
//
// Every operation takes constant time, amortized, whatever the number of
// entries. A completed transaction takes about 180 bytes with a Notification.Key
// of 73 bytes (a UUID App ID and a 32-character transaction id), measured
// over 100,000 entries, so the default bound holds in about 18 MB.
type MemStore struct {
	// MaxEntries bounds the number of transactions held; zero means
	// DefaultMaxEntries.
	MaxEntries int
	// Retention is how long a completed transaction is remembered; zero
	// means MinRetention. Shorter retentions risk handling a late resend
	// twice: BeeCloud resends for about 36 hours.
	Retention time.Duration
	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time
	// Logger receives a warning for each completed transaction forgotten
	// before its retention, with its key; nil means slog.Default().
	Logger *slog.Logger

	mu      sync.Mutex
	entries map[string]memEntry
	// done holds the completed entries in the order of their completion,
	// which is the order of their expiry.
	done memQueue
	// claims holds the claims per lease in the order they were made or
	// renewed, which for one lease is the order of their expiry. There are
	// few leases (usually the handler's one): a slice, walked on every
	// call, costs less than a map.
	claims []*leaseQueue
	// claimItems counts the items of claims, stale ones included.
	claimItems int
}

type memEntry struct {
	token string // holder of the claim; empty once done
	// until is the end of the lease, or of the retention once done (Unix
	// ns).
	until int64
	done  bool
}

// live reports whether e still counts at now.
func (e memEntry) live(now int64) bool { return now < e.until }

// memItem is an entry in a queue: it is stale once the entry was removed
// or replaced (its until or done differs), and is then skipped. Renewing,
// completing or releasing a claim leaves its old item behind rather than
// search for it; stale items leave at the head, or once they outnumber
// the entries (see maxStale).
type memItem struct {
	key   string
	until int64
}

func (it memItem) current(e memEntry, ok, done bool) bool {
	return ok && e.done == done && e.until == it.until
}

// Claim implements [Store]. A Claim by the current holder's token renews
// the lease from now and returns ClaimOK.
func (s *MemStore) Claim(ctx context.Context, key, token string, lease time.Duration) (ClaimState, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if lease <= 0 {
		return 0, fmt.Errorf("beecloud: MemStore.Claim: lease must be positive, got %s", lease)
	}
	s.mu.Lock()
	now := s.expire()
	state, forgot, err := s.claim(key, token, lease, now)
	s.mu.Unlock()
	s.logForgotten(forgot, now)
	return state, err
}

// claim is Claim under s.mu, with the entries already expired. It returns
// the completions it forgot to make room, to be logged without the lock.
func (s *MemStore) claim(key, token string, lease time.Duration, now int64) (ClaimState, []memItem, error) {
	e, ok := s.entries[key]
	if ok && e.live(now) {
		switch {
		case e.done:
			return ClaimDone, nil, nil
		case e.token != token:
			return ClaimBusy, nil, nil
		}
	}
	var forgot []memItem
	if !ok {
		var err error
		if forgot, err = s.makeRoom(); err != nil {
			return 0, forgot, err
		}
	}
	until := now + int64(lease)
	s.entries[key] = memEntry{token: token, until: until}
	s.claimQueue(lease).push(memItem{key, until})
	if s.claimItems++; s.claimItems > maxStale(len(s.entries)) {
		s.compactClaims()
	}
	return ClaimOK, forgot, nil
}

// Complete implements [Store].
func (s *MemStore) Complete(ctx context.Context, key, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	now := s.expire()
	forgot, err := s.complete(key, now)
	s.mu.Unlock()
	s.logForgotten(forgot, now)
	return err
}

// complete is Complete under s.mu, with the entries already expired.
func (s *MemStore) complete(key string, now int64) ([]memItem, error) {
	var forgot []memItem
	if _, ok := s.entries[key]; !ok {
		var err error
		if forgot, err = s.makeRoom(); err != nil {
			return forgot, err
		}
	}
	until := now + int64(s.retention())
	s.entries[key] = memEntry{until: until, done: true}
	s.done.push(memItem{key, until})
	if s.done.len() > maxStale(len(s.entries)) {
		s.done.keep(s.currentDone)
	}
	return forgot, nil
}

// maxStale is how many items a kind of queue may hold for n entries
// before its stale items are dropped. Renewing, completing or releasing a
// claim leaves its old item behind; dropping them is linear in the items
// but happens once per as many pushes: constant time per push, amortized.
// The queues' memory stays proportional to the entries.
func maxStale(n int) int { return 2*n + 1024 }

func (s *MemStore) currentDone(it memItem) bool {
	e, ok := s.entries[it.key]
	return it.current(e, ok, true)
}

func (s *MemStore) currentClaim(it memItem) bool {
	e, ok := s.entries[it.key]
	return it.current(e, ok, false)
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
	s.expire()
	return len(s.entries)
}

// expire removes the entries whose lease or retention has run out and
// returns the current time. Every queue is in order of expiry, so it looks
// only at their heads. s.mu is held.
func (s *MemStore) expire() int64 {
	now := s.now().UnixNano()
	if s.entries == nil {
		s.entries = make(map[string]memEntry)
	}
	s.expireQueue(&s.done, true, now)
	kept, queues := s.claims[:0], len(s.claims)
	for _, q := range s.claims {
		// Keep a few empty queues for the leases in use: the handler's
		// lease, usually. Callers that vary the lease get theirs dropped.
		n := q.len()
		left := s.expireQueue(&q.memQueue, false, now)
		s.claimItems -= n - left
		if left == 0 && queues > maxIdleLeases {
			queues--
			continue
		}
		kept = append(kept, q)
	}
	clear(s.claims[len(kept):])
	s.claims = kept
	return now
}

// maxIdleLeases is how many lease queues may be left empty.
const maxIdleLeases = 4

// expireQueue drops from q's head the items whose time has come, removing
// their entries unless they are stale, and returns how many items are
// left. A queue of claims also drops the stale items at its head at once:
// a claim is usually completed or released long before its lease ends.
func (s *MemStore) expireQueue(q *memQueue, done bool, now int64) int {
	for q.len() > 0 {
		it := q.peek()
		if done && now < it.until {
			break
		}
		e, ok := s.entries[it.key]
		current := it.current(e, ok, done)
		if current && now < it.until {
			break
		}
		if current {
			delete(s.entries, it.key)
		}
		q.pop()
	}
	return q.len()
}

// makeRoom makes sure one more entry fits, forgetting the oldest
// completed entries if it must, and returns those. Once expire has run,
// every claim left is live. s.mu is held.
func (s *MemStore) makeRoom() ([]memItem, error) {
	limit := s.MaxEntries
	if limit <= 0 {
		limit = DefaultMaxEntries
	}
	var forgot []memItem
	for len(s.entries) >= limit && s.done.len() > 0 {
		it := s.done.peek()
		s.done.pop()
		if e, ok := s.entries[it.key]; it.current(e, ok, true) {
			delete(s.entries, it.key)
			forgot = append(forgot, it)
		}
	}
	if len(s.entries) >= limit {
		return forgot, fmt.Errorf("%w: all %d entries are live claims", ErrStoreFull, len(s.entries))
	}
	return forgot, nil
}

// compactClaims drops the stale items of the claims, and their empty
// queues. s.mu is held.
func (s *MemStore) compactClaims() {
	s.claimItems = 0
	kept := s.claims[:0]
	for _, q := range s.claims {
		if n := q.keep(s.currentClaim); n > 0 {
			kept = append(kept, q)
			s.claimItems += n
		}
	}
	clear(s.claims[len(kept):])
	s.claims = kept
}

// claimQueue returns the queue of the claims of lease, made if need be.
// s.mu is held.
func (s *MemStore) claimQueue(lease time.Duration) *memQueue {
	for _, q := range s.claims {
		if q.lease == lease {
			return &q.memQueue
		}
	}
	q := &leaseQueue{lease: lease}
	s.claims = append(s.claims, q)
	return &q.memQueue
}

// logForgotten warns of each completed transaction forgotten before its
// retention. It runs after s.mu is released.
func (s *MemStore) logForgotten(forgot []memItem, now int64) {
	if len(forgot) == 0 {
		return
	}
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	retention := s.retention()
	for _, it := range forgot {
		age := time.Duration(now - (it.until - int64(retention)))
		log.LogAttrs(context.Background(), slog.LevelWarn,
			"beecloud: MemStore full: forgot a completed transaction before its retention; a resend of it would be handled again",
			slog.String("key", it.key), slog.Duration("age", age.Round(time.Second)),
			slog.Duration("retention", retention), slog.Int("max_entries", s.maxEntries()))
	}
}

func (s *MemStore) maxEntries() int {
	if s.MaxEntries > 0 {
		return s.MaxEntries
	}
	return DefaultMaxEntries
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

// leaseQueue is the queue of the claims of one lease.
type leaseQueue struct {
	lease time.Duration
	memQueue
}

// memQueue is a first-in, first-out queue of items.
type memQueue struct {
	items []memItem
	head  int
}

func (q *memQueue) len() int      { return len(q.items) - q.head }
func (q *memQueue) peek() memItem { return q.items[q.head] }
func (q *memQueue) push(it memItem) {
	q.items = append(q.items, it)
}

// pop removes the head. The slots before the head are reclaimed once they
// are half the slice, by a copy that costs no more than the pops before.
func (q *memQueue) pop() {
	q.items[q.head] = memItem{}
	q.head++
	switch {
	case q.head == len(q.items):
		q.items, q.head = q.items[:0], 0
	case q.head >= 64 && 2*q.head >= len(q.items):
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
}

// keep keeps the items for which f is true, in order, and returns how
// many are left.
func (q *memQueue) keep(f func(memItem) bool) int {
	kept := q.items[:0]
	for _, it := range q.items[q.head:] {
		if f(it) {
			kept = append(kept, it)
		}
	}
	clear(q.items[len(kept):])
	q.items, q.head = kept, 0
	return len(kept)
}
