package beecloud_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/paybutton/beecloud/storetest"
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
	require.NoError(t, err, "Claim(%q, %q)", key, token)
	require.Equal(t, want, got, "Claim(%q, %q)", key, token)
}

// The contract every Store is held to, with real time.
func TestMemStoreStoretest(t *testing.T) {
	const retention, lease = 500 * time.Millisecond, 150 * time.Millisecond
	storetest.Run(t, func(t *testing.T) beecloud.Store {
		return &beecloud.MemStore{Retention: retention}
	}, storetest.Options{Retention: retention, Lease: lease})
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
	require.NoError(t, s.Release(ctx, "k", "b"), "Release(k, b)")
	claim(t, s, "k", "c", lease, beecloud.ClaimBusy)
	// Release by the holder frees the key.
	require.NoError(t, s.Release(ctx, "k", "a"), "Release(k, a)")
	claim(t, s, "k", "c", lease, beecloud.ClaimOK)

	// A claim whose holder died runs out with its lease.
	clk.advance(lease)
	claim(t, s, "k", "d", lease, beecloud.ClaimOK)
	// The old holder's Release no longer touches the new claim.
	require.NoError(t, s.Release(ctx, "k", "c"), "Release(k, c)")
	claim(t, s, "k", "e", lease, beecloud.ClaimBusy)

	// Complete by whoever: done, and Release cannot undo it.
	require.NoError(t, s.Complete(ctx, "k", "c"), "Complete(k, c)")
	require.NoError(t, s.Release(ctx, "k", "d"), "Release(k, d)")
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
	require.NoError(t, s.Complete(context.Background(), "k", "a"), "Complete(k, a)")
	clk.advance(71 * time.Hour)
	claim(t, s, "k", "b", time.Minute, beecloud.ClaimDone)
}

// forgetLog is a slog.Handler that records the keys a MemStore warns it
// forgot.
type forgetLog struct {
	mu   sync.Mutex
	keys []string
}

func (l *forgetLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *forgetLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *forgetLog) WithGroup(string) slog.Handler            { return l }
func (l *forgetLog) Handle(_ context.Context, r slog.Record) error {
	if r.Level != slog.LevelWarn {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "key" {
			l.mu.Lock()
			l.keys = append(l.keys, a.Value.String())
			l.mu.Unlock()
		}
		return true
	})
	return nil
}

func (l *forgetLog) forgot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.keys...)
}

func TestMemStoreFull(t *testing.T) {
	clk := newClock()
	log := new(forgetLog)
	s := &beecloud.MemStore{Now: clk.now, MaxEntries: 3, Logger: slog.New(log)}
	ctx := context.Background()
	claim(t, s, "done1", "a", time.Hour, beecloud.ClaimOK)
	require.NoError(t, s.Complete(ctx, "done1", "a"), "Complete(done1, a)")
	clk.advance(time.Second)
	claim(t, s, "claimed", "a", time.Hour, beecloud.ClaimOK)
	claim(t, s, "done2", "a", time.Hour, beecloud.ClaimOK)
	require.NoError(t, s.Complete(ctx, "done2", "a"), "Complete(done2, a)")

	// Full: a new payment is still recorded; the oldest completion goes,
	// with a warning, and nothing else.
	claim(t, s, "short", "a", time.Minute, beecloud.ClaimOK)
	require.Equal(t, []string{"done1"}, log.forgot(), "keys forgotten")
	claim(t, s, "done1", "b", time.Hour, beecloud.ClaimOK) // forgotten: handled again; done2 goes
	claim(t, s, "claimed", "b", time.Hour, beecloud.ClaimBusy)
	claim(t, s, "short", "b", time.Hour, beecloud.ClaimBusy)
	require.Equal(t, []string{"done1", "done2"}, log.forgot(), "keys forgotten")

	// Only live claims left: refused, and no claim dropped.
	_, err := s.Claim(ctx, "new", "b", time.Minute)
	require.ErrorIs(t, err, beecloud.ErrStoreFull, "Claim(new, b)")
	claim(t, s, "claimed", "c", time.Hour, beecloud.ClaimBusy)
	claim(t, s, "done1", "c", time.Hour, beecloud.ClaimBusy)
	// The holder of a claim renews it, full or not.
	claim(t, s, "short", "a", time.Minute, beecloud.ClaimOK)
	assert.Equal(t, 3, s.Len(), "Len()")

	// Once a lease runs out, its entry makes room.
	clk.advance(2 * time.Minute)
	claim(t, s, "new", "b", time.Minute, beecloud.ClaimOK) // short's lease ran out
	assert.Equal(t, 3, s.Len(), "Len()")
	require.NoError(t, s.Complete(ctx, "new", "b"), "Complete(new, b)")

	// Everything runs out: claims with their lease, completions with the
	// retention, without a scan.
	clk.advance(beecloud.MinRetention)
	assert.Equal(t, 0, s.Len(), "Len() after everything expired")
	assert.Len(t, log.forgot(), 2, "warnings: a completion that expires is not forgotten early")
}

// A renewed claim outlives its first lease: the queue keeps the renewal,
// and the first lease's expiry does not remove it.
func TestMemStoreRenewal(t *testing.T) {
	clk := newClock()
	s := &beecloud.MemStore{Now: clk.now, MaxEntries: 2}
	const lease = time.Minute
	claim(t, s, "k", "a", lease, beecloud.ClaimOK)
	for range 5 {
		clk.advance(lease - time.Second)
		claim(t, s, "k", "a", lease, beecloud.ClaimOK)   // renewed by its holder
		claim(t, s, "k", "b", lease, beecloud.ClaimBusy) // still held
	}
	// Renewals under another lease are kept apart and still in order.
	claim(t, s, "k", "a", time.Hour, beecloud.ClaimOK)
	clk.advance(2 * lease)
	claim(t, s, "k", "b", lease, beecloud.ClaimBusy)
	claim(t, s, "other", "b", lease, beecloud.ClaimOK)
	_, err := s.Claim(context.Background(), "third", "b", lease)
	require.ErrorIs(t, err, beecloud.ErrStoreFull, "Claim(third, b)")
	clk.advance(time.Hour)
	claim(t, s, "k", "b", lease, beecloud.ClaimOK)
	assert.Equal(t, 1, s.Len(), "Len()")
}

// Claims of different leases expire each in its time: a short one that
// ran out makes room even behind a long one made before it.
func TestMemStoreMixedLeases(t *testing.T) {
	clk := newClock()
	s := &beecloud.MemStore{Now: clk.now, MaxEntries: 2}
	claim(t, s, "long", "a", time.Hour, beecloud.ClaimOK)
	claim(t, s, "short", "a", time.Minute, beecloud.ClaimOK)
	clk.advance(2 * time.Minute)
	claim(t, s, "new", "b", time.Minute, beecloud.ClaimOK)
	claim(t, s, "long", "b", time.Minute, beecloud.ClaimBusy)
	// Many leases, each used once: all run out, none is kept for ever.
	for i := range 100 {
		clk.advance(time.Hour)
		claim(t, s, fmt.Sprint("k", i), "a", time.Duration(i+1)*time.Second, beecloud.ClaimOK)
	}
	assert.Equal(t, 1, s.Len(), "Len()")
}

// A small store under more payments than it holds answers every one
// "success", remembers the newest, and never refuses while it can forget
// completed ones.
func TestMemStoreFullHandler(t *testing.T) {
	const maxEntries, payments = 1_000, 1_500
	log := new(forgetLog)
	store := &beecloud.MemStore{MaxEntries: maxEntries, Logger: slog.New(log)}
	handled := 0
	h := &beecloud.WebhookHandler{
		Apps:   beecloud.Apps{vecConfig},
		Handle: func(context.Context, *beecloud.Notification) error { handled++; return nil },
		Store:  store,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	deliver := func(n beecloud.Notification) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, beecloudtest.NewRequest(vecConfig, n))
		return rec
	}
	paid := func(i int) beecloud.Notification {
		return beecloudtest.Paid(beecloud.Order{Title: "测试", Amount: int64(100 + i), OutTradeNo: fmt.Sprintf("order%05d", i)})
	}
	for i := range payments {
		rec := deliver(paid(i))
		require.Equal(t, http.StatusOK, rec.Code, "payment %d: status (body %q)", i, rec.Body)
		require.Equal(t, "success", rec.Body.String(), "payment %d: answer", i)
	}
	require.Equal(t, payments, handled, "Handle runs")
	require.Equal(t, maxEntries, store.Len(), "store.Len()")
	forgot := log.forgot()
	assert.Len(t, forgot, payments-maxEntries, "warnings of forgotten completions")
	// The newest is remembered: its resend is answered without Handle.
	rec := deliver(paid(payments - 1))
	assert.Equal(t, http.StatusOK, rec.Code, "resend of the newest: status")
	assert.Equal(t, "success", rec.Body.String(), "resend of the newest: answer")
	assert.Equal(t, payments, handled, "Handle runs in all, after the resend of the newest: want none for it")
	// The oldest was forgotten first, as the warning said.
	require.NotEmpty(t, forgot, "warnings of forgotten completions")
	assert.Equal(t, vecAppID+":PAY:order00000", forgot[0], "first forgotten")
}

func TestMemStoreErrors(t *testing.T) {
	var s beecloud.MemStore // the zero value works
	_, err := s.Claim(context.Background(), "k", "a", 0)
	require.Error(t, err, "Claim with a zero lease")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Claim(ctx, "k", "a", time.Minute)
	require.ErrorIs(t, err, context.Canceled, "Claim with a cancelled context")
	require.ErrorIs(t, s.Complete(ctx, "k", "a"), context.Canceled, "Complete with a cancelled context")
	require.ErrorIs(t, s.Release(ctx, "k", "a"), context.Canceled, "Release with a cancelled context")
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
				if !assert.NoError(t, err, "Claim(%s, t%d)", key, i) {
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
		assert.Equal(t, 1, winners[fmt.Sprint("k", k)], "key k%d: claims granted", k)
	}
}

// TestMemStoreBoundUnderLoad runs claims, completions and releases of many
// keys from many goroutines while the clock moves, against a small
// MemStore that must often forget. Each step (a Claim and what follows
// from its answer, or a move of the clock) runs under a lock so that the
// test's own record is exact: the store never holds more than MaxEntries
// entries, never answers ClaimDone for a key nobody completed, forgets a
// completion within its retention only with a warning naming it, never
// lets a live claim be taken, and refuses only when every entry is a live
// claim.
func TestMemStoreBoundUnderLoad(t *testing.T) {
	const maxEntries, workers, rounds, keys = 50, 8, 400, 120
	const lease, retention = 5 * time.Minute, time.Hour
	clk := newClock()
	log := new(forgetLog)
	s := &beecloud.MemStore{Now: clk.now, MaxEntries: maxEntries, Retention: retention, Logger: slog.New(log)}
	ctx := context.Background()
	type held struct {
		token string
		until time.Time
	}
	var (
		mu        sync.Mutex
		completed = map[string]time.Time{} // key → when it was last completed
		claims    = map[string]held{}      // key → the claim left to run out
		full      int
	)
	liveClaims := func() int {
		n := 0
		for _, c := range claims {
			if clk.now().Before(c.until) {
				n++
			}
		}
		return n
	}
	forgotten := func(key string) bool { return slices.Contains(log.forgot(), key) }
	step := func(key, token string, complete, keep bool) {
		mu.Lock()
		defer mu.Unlock()
		state, err := s.Claim(ctx, key, token, lease)
		if errors.Is(err, beecloud.ErrStoreFull) {
			full++
			assert.Equal(t, maxEntries, liveClaims(), "Claim(%s) refused as full: live claims (MaxEntries)", key)
			return
		}
		if !assert.NoError(t, err, "Claim(%s)", key) { //nolint:testifylint // step runs in the workers' goroutines: no require
			return
		}
		now := clk.now()
		doneAt, done := completed[key]
		c, claimed := claims[key]
		switch {
		case state == beecloud.ClaimDone:
			assert.True(t, done, "Claim(%s) = done; nobody completed it", key)
		case state == beecloud.ClaimOK && claimed && now.Before(c.until):
			assert.Fail(t, "a live claim was taken", "Claim(%s) = ok while %s holds it for %s more", key, c.token, c.until.Sub(now))
		case state == beecloud.ClaimOK && done && now.Sub(doneAt) < retention && !forgotten(key):
			assert.Fail(t, "a completion was forgotten without a warning", "Claim(%s) = ok %s after its completion, without a warning; the retention is %s", key, now.Sub(doneAt), retention)
		case state == beecloud.ClaimOK && keep:
			claims[key] = held{token, now.Add(lease)}
			delete(completed, key)
		case state == beecloud.ClaimOK && complete:
			assert.NoError(t, s.Complete(ctx, key, token), "Complete(%s, %s)", key, token) //nolint:testifylint // in a worker's goroutine: no require
			completed[key] = now
			delete(claims, key)
		case state == beecloud.ClaimOK:
			assert.NoError(t, s.Release(ctx, key, token), "Release(%s, %s)", key, token) //nolint:testifylint // in a worker's goroutine: no require
			delete(claims, key)
		}
		assert.LessOrEqual(t, s.Len(), maxEntries, "Len() (MaxEntries)")
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				if i%10 == 0 {
					mu.Lock()
					clk.advance(time.Minute)
					mu.Unlock()
				}
				// Some claims are left to run out with their lease.
				key, token := fmt.Sprint("k", (w*rounds+i*7)%keys), fmt.Sprint("t", w, "-", i)
				step(key, token, i%3 == 0, i%5 == 4)
			}
		}()
	}
	wg.Wait()
	assert.NotEmpty(t, log.forgot(), "the store never forgot a completion: the test proves nothing about eviction")
	t.Logf("%d completions forgotten early, %d claims refused as full", len(log.forgot()), full)
}

// BenchmarkMemStoreClaim measures a delivery's store work (Claim of a new
// key, then Complete) on a full store, which forgets its oldest completion
// each time: the cost must not grow with the number of entries.
// entries=2000 is the baseline for entries=200000.
func BenchmarkMemStoreClaim(b *testing.B) {
	for _, entries := range []int{2_000, 200_000} {
		b.Run(fmt.Sprint("entries=", entries), func(b *testing.B) {
			ctx := context.Background()
			s := &beecloud.MemStore{MaxEntries: entries, Logger: slog.New(disabled{})}
			key := func(i int) string { return fmt.Sprintf("%s:PAY:%032x", vecAppID, i) }
			// Fill it twice, so that its queues have reached their size.
			for i := range 2 * entries {
				if _, err := s.Claim(ctx, key(i), "t", time.Minute); err != nil {
					b.Fatal(err)
				}
				if err := s.Complete(ctx, key(i), "t"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				k := key(2*entries + i)
				if state, err := s.Claim(ctx, k, "t", time.Minute); state != beecloud.ClaimOK || err != nil {
					b.Fatal(state, err)
				}
				if err := s.Complete(ctx, k, "t"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// disabled is a slog.Handler that takes no record.
type disabled struct{}

func (disabled) Enabled(context.Context, slog.Level) bool  { return false }
func (disabled) Handle(context.Context, slog.Record) error { return nil }
func (d disabled) WithAttrs([]slog.Attr) slog.Handler      { return d }
func (d disabled) WithGroup(string) slog.Handler           { return d }

// memModel is the MemStore's contract written plainly, with scans:
// FuzzMemStore holds the MemStore's queues to it. Completions made at the
// same instant are equally old, so when the model must forget one, it
// checks and takes the one the MemStore says it forgot (pending).
type memModel struct {
	max       int
	retention time.Duration
	entries   map[string]*modelEntry
	pending   []string // the completions the MemStore forgot in this operation
	err       error
}

type modelEntry struct {
	token string
	until time.Time
	done  bool
}

func (m *memModel) expire(now time.Time) {
	for k, e := range m.entries {
		if !now.Before(e.until) {
			delete(m.entries, k)
		}
	}
}

func (m *memModel) makeRoom() error {
	for len(m.entries) >= m.max {
		var oldest time.Time
		for _, e := range m.entries {
			if e.done && (oldest.IsZero() || e.until.Before(oldest)) {
				oldest = e.until
			}
		}
		if oldest.IsZero() {
			return beecloud.ErrStoreFull
		}
		if len(m.pending) == 0 {
			m.err = fmt.Errorf("forgot nothing; want a completion of %s", oldest.Add(-m.retention))
			return nil
		}
		key := m.pending[0]
		m.pending = m.pending[1:]
		if e, ok := m.entries[key]; !ok || !e.done || !e.until.Equal(oldest) {
			m.err = fmt.Errorf("forgot %s; want a completion of %s", key, oldest.Add(-m.retention))
		}
		delete(m.entries, key)
	}
	return nil
}

func (m *memModel) claim(now time.Time, key, token string, lease time.Duration) (beecloud.ClaimState, error) {
	m.expire(now)
	e, ok := m.entries[key]
	switch {
	case ok && e.done:
		return beecloud.ClaimDone, nil
	case ok && e.token != token:
		return beecloud.ClaimBusy, nil
	case !ok:
		if err := m.makeRoom(); err != nil {
			return 0, err
		}
	}
	m.entries[key] = &modelEntry{token: token, until: now.Add(lease)}
	return beecloud.ClaimOK, nil
}

func (m *memModel) complete(now time.Time, key string) error {
	m.expire(now)
	if _, ok := m.entries[key]; !ok {
		if err := m.makeRoom(); err != nil {
			return err
		}
	}
	m.entries[key] = &modelEntry{until: now.Add(m.retention), done: true}
	return nil
}

func (m *memModel) release(key, token string) {
	if e, ok := m.entries[key]; ok && !e.done && e.token == token {
		delete(m.entries, key)
	}
}

// FuzzMemStore runs a sequence of operations, one per byte pair, on a
// small MemStore and on memModel, and compares every answer, the entries
// held and the completions forgotten.
func FuzzMemStore(f *testing.F) {
	f.Add([]byte{0, 0, 1, 1, 2, 2, 3, 3, 0, 4, 1, 5, 0, 6, 3, 40, 0, 7})
	f.Add([]byte{0, 0, 0, 8, 0, 16, 0, 24, 0, 32, 3, 200, 0, 0, 1, 1, 0, 3})
	f.Add([]byte{0, 0, 3, 10, 0, 0, 3, 10, 0, 0, 3, 250, 0, 1, 1, 1, 2, 1})
	f.Add([]byte("000000000002001010000A11101910010"))
	f.Fuzz(func(t *testing.T, ops []byte) {
		clk := newClock()
		log := new(forgetLog)
		const maxEntries, retention = 4, 30 * time.Minute
		s := &beecloud.MemStore{Now: clk.now, MaxEntries: maxEntries, Retention: retention, Logger: slog.New(log)}
		m := &memModel{max: maxEntries, retention: retention, entries: map[string]*modelEntry{}}
		ctx := context.Background()
		leases := [...]time.Duration{time.Minute, 2 * time.Minute, 10 * time.Minute}
		forgotten := 0
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i]%4, ops[i+1]
			key, token, lease := fmt.Sprint("k", arg%6), fmt.Sprint("t", arg/6%3), leases[arg/18%3]
			var got, want beecloud.ClaimState
			var err, werr error
			switch op {
			case 0:
				got, err = s.Claim(ctx, key, token, lease)
			case 1:
				err = s.Complete(ctx, key, token)
			case 2:
				err = s.Release(ctx, key, token)
			case 3:
				clk.advance(time.Duration(arg) * 15 * time.Second)
			}
			all := log.forgot()
			m.pending = all[forgotten:]
			forgotten = len(all)
			switch op {
			case 0:
				want, werr = m.claim(clk.now(), key, token, lease)
			case 1:
				werr = m.complete(clk.now(), key)
			case 2:
				m.release(key, token)
			}
			// The model fails only with ErrStoreFull, where the MemStore
			// must too; otherwise the MemStore must not fail.
			require.Equal(t, want, got, "op %d (%d %s %s %s): state (error %v; the model's %v)", i/2, op, key, token, lease, err, werr)
			if werr != nil {
				require.ErrorIs(t, err, beecloud.ErrStoreFull, "op %d (%d %s %s %s); the model's error %v", i/2, op, key, token, lease, werr)
			} else {
				require.NoError(t, err, "op %d (%d %s %s %s)", i/2, op, key, token, lease)
			}
			require.NoError(t, m.err, "op %d (%d %s): the completions forgotten", i/2, op, key)
			require.Empty(t, m.pending, "op %d (%d %s): also forgot", i/2, op, key)
			m.expire(clk.now())
			require.Equal(t, len(m.entries), s.Len(), "op %d: Len()", i/2)
		}
	})
}
