// Package storetest checks that a [beecloud.Store] honours the contract
// documented on that interface, the way testing/fstest.TestFS checks an
// fs.FS and golang.org/x/net/nettest.TestConn checks a net.Conn.
//
// Run it from a test of the store's package, against the real backend:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) beecloud.Store {
//			return mystore.New(db, mystore.Options{Retention: time.Second})
//		}, storetest.Options{Retention: time.Second})
//	}
//
// The suite waits for leases and retentions to run out on the backend's
// own clock, so it sleeps: keep Options.Lease and the store's retention
// short (well under a few seconds). Its subtests run concurrently. A
// store that is a beecloud.TxStore is also checked for CompleteTx: it
// commits only for the claim's holder, checked at the commit, lets
// work's failures and panics roll back, and keeps the key unlocked while
// work runs.
//
// [RunHandlers] then checks the store end to end: several
// beecloud.WebhookHandler instances, each with its own connection to the
// backend, receiving the same webhooks at once.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/paybutton/beecloud"
)

// Options configures [Run]. The zero value runs every check that needs no
// knowledge of how the store was set up.
type Options struct {
	// Retention is the retention of the stores that newStore returns.
	// Non-zero (use about a second) makes Run check that a completed key
	// stays done for that long and is forgotten, ClaimOK again, shortly
	// after. Zero means the stores keep their default retention, which Run
	// cannot wait for: it checks only that completed keys stay done.
	Retention time.Duration
	// Lease is the short lease with which Run checks that the claim of a
	// holder that died runs out, and that renewals extend it; zero means
	// 300ms. Raise it if the backend is slow to answer.
	Lease time.Duration
	// Unreachable, if not nil, returns a store whose backend cannot be
	// reached (for example, a client for a closed port on 127.0.0.1). Run
	// checks that each of its methods returns an error promptly and that
	// Claim never reports ClaimDone.
	Unreachable func(t *testing.T) beecloud.Store
	// Bubble runs each check (but Keys and Tokens, which have subtests)
	// inside a testing/synctest bubble. Set it for a store that keeps its
	// state in memory and reads time.Now: its leases and retentions then
	// run out on the bubble's clock, exactly and at once, however busy the
	// machine. A store with a backend (a network, a server's clock) must
	// leave it false.
	Bubble bool
}

// Run checks the store that newStore returns against the contract of
// [beecloud.Store], and of [beecloud.TxStore] if it is one (the Tx
// subtests skip otherwise), in subtests that run concurrently. It calls newStore
// once per subtest, possibly concurrently; the stores it returns may share
// one backend (a table, a key prefix) with each other and with earlier
// runs: Run uses keys no other run uses. Run returns when every subtest
// has finished.
func Run(t *testing.T, newStore func(t *testing.T) beecloud.Store, opts Options) {
	t.Helper()
	if opts.Lease <= 0 {
		opts.Lease = 300 * time.Millisecond
	}
	r := &runner{newStore: newStore, opts: opts, id: randomID()}
	// The subtests mostly wait for leases to run out, so they run at once
	// (t.Run may be called from several goroutines), however low the
	// -test.parallel limit, and Run returns when all have finished, so
	// that callers may close the backend then.
	t.Run("Store", func(t *testing.T) {
		r.group = t.Name() + "/"
		var wg sync.WaitGroup
		defer wg.Wait()
		for _, tc := range r.checks() {
			test := tc.test
			if opts.Bubble && !tc.subtests {
				test = func(t *testing.T) { synctest.Test(t, tc.test) }
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				t.Run(tc.name, test)
			}()
		}
	})
}

// check is one subtest of Run.
type check struct {
	name     string
	test     func(t *testing.T)
	subtests bool // calls t.Run, which a synctest bubble forbids
}

// checks lists Run's subtests.
func (r *runner) checks() []check {
	return []check{
		{"Claim", r.testClaim, false},
		{"Renew", r.testRenew, false},
		{"RenewAfterLoss", r.testRenewAfterLoss, false},
		{"RenewAfterExpiry", r.testRenewAfterExpiry, false},
		{"NonPositiveLease", r.testNonPositiveLease, false},
		{"CompleteThenClaim", r.testCompleteThenClaim, false},
		{"CompleteByAnyToken", r.testCompleteByAnyToken, false},
		{"ReleaseThenClaim", r.testReleaseThenClaim, false},
		{"ReleaseByOtherToken", r.testReleaseByOtherToken, false},
		{"LeaseRunsOut", r.testLeaseRunsOut, false},
		{"StaleRelease", r.testStaleRelease, false},
		{"StaleComplete", r.testStaleComplete, false},
		{"CompleteOutlivesLease", r.testCompleteOutlivesLease, false},
		{"Retention", r.testRetention, false},
		{"ConcurrentClaims", r.testConcurrentClaims, false},
		{"ConcurrentTakeover", r.testConcurrentTakeover, false},
		{"MutualExclusion", r.testMutualExclusion, false},
		{"Keys", r.testKeys, true},
		{"Tokens", r.testTokens, true},
		{"Unreachable", r.testUnreachable, false},
		{"TxCommit", r.testTxCommit, false},
		{"TxWorkFails", r.testTxWorkFails, false},
		{"TxPanic", r.testTxPanic, false},
		{"TxLostClaim", r.testTxLostClaim, false},
		{"TxAfterDone", r.testTxAfterDone, false},
		{"TxExpiredUntaken", r.testTxExpiredUntaken, false},
		{"TxFenced", r.testTxFenced, false},
		{"TxNoLock", r.testTxNoLock, false},
	}
}

// long is a lease that no check outlasts.
const long = 5 * time.Minute

type runner struct {
	newStore func(t *testing.T) beecloud.Store
	opts     Options
	id       string // unique to this run, so runs can share a backend
	group    string // name of the test that holds the subtests, and a slash
	tokens   atomic.Int64
}

func randomID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand.Read does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// key returns a key unique to this run and to t, a subtest of Run. It
// leaves out the names of the caller's tests, which may be long, so that
// the longest keys the suite makes stay within [beecloud.MaxStoreKeyBytes].
func (r *runner) key(t *testing.T, name string) string {
	return "storetest/" + r.id + "/" + strings.TrimPrefix(t.Name(), r.group) + "/" + name
}

// setUp returns the store newStore makes for t, a subtest of Run, and a
// key of t's own.
func (r *runner) setUp(t *testing.T) (beecloud.Store, string) {
	return r.newStore(t), r.key(t, "k")
}

// token returns a token not returned before.
func (r *runner) token() string {
	return "tok-" + r.id + "-" + strconv.FormatInt(r.tokens.Add(1), 10)
}

// slack is how long after a lease or retention ran out by the local clock
// the suite waits before it expects the backend to agree. The backend
// starts counting while serving the call, which ends before the local
// clock is read, so only rounding (Redis counts milliseconds) and timer
// granularity need covering.
func (r *runner) slack(d time.Duration) time.Duration {
	return 50*time.Millisecond + d/10
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// claim calls Claim and fails t unless it returns want.
func claim(t *testing.T, s beecloud.Store, key, token string, lease time.Duration, want beecloud.ClaimState) {
	t.Helper()
	got, err := s.Claim(ctx(t), key, token, lease)
	if err != nil {
		t.Fatalf("Claim(%q, %q): %v", short(key), short(token), err)
	}
	if got != want {
		t.Fatalf("Claim(%q, %q) = %v; want %v", short(key), short(token), got, want)
	}
}

// claimBefore is claim for a check that only holds until deadline (the
// end of a lease or of the retention, by the local clock): if Claim
// returns later than that, its answer proves nothing, and the rest of the
// check is skipped, with the reason, rather than passed unchecked.
func claimBefore(t *testing.T, s beecloud.Store, key, token string, lease time.Duration, want beecloud.ClaimState, deadline time.Time) {
	t.Helper()
	got, err := s.Claim(ctx(t), key, token, lease)
	if err != nil {
		t.Fatalf("Claim(%q, %q): %v", short(key), short(token), err)
	}
	if late := time.Since(deadline); late > 0 {
		t.Skipf("not checked: Claim(%q, %q) answered %v %v after the deadline it had to beat; the backend (or the machine) is too slow for Lease %v: raise Options.Lease",
			short(key), short(token), got, late.Round(time.Millisecond), lease)
	}
	if got != want {
		t.Fatalf("Claim(%q, %q) = %v; want %v", short(key), short(token), got, want)
	}
}

func complete(t *testing.T, s beecloud.Store, key, token string) {
	t.Helper()
	if err := s.Complete(ctx(t), key, token); err != nil {
		t.Fatalf("Complete(%q, %q): %v", short(key), short(token), err)
	}
}

func release(t *testing.T, s beecloud.Store, key, token string) {
	t.Helper()
	if err := s.Release(ctx(t), key, token); err != nil {
		t.Fatalf("Release(%q, %q): %v", short(key), short(token), err)
	}
}

// short keeps failure messages about 512-byte keys readable.
func short(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:40] + "…(" + strconv.Itoa(len(s)) + " bytes)…" + s[len(s)-30:]
}

func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }

func (r *runner) testClaim(t *testing.T) {
	s, k := r.setUp(t)
	a, b := r.newHolder(t, s, k), r.token()
	claim(t, s, k, b, long, beecloud.ClaimBusy)
	// The holder claiming again (a retried call) keeps its claim.
	claim(t, s, k, a, long, beecloud.ClaimOK)
	claim(t, s, k, b, long, beecloud.ClaimBusy)
	// Claims are per key.
	claim(t, s, r.key(t, "other"), b, long, beecloud.ClaimOK)
	r.othersHear(t, s, k, beecloud.ClaimBusy)
}

// testRenew checks that the holder's Claim renews its lease from the
// renewal: the handler's heartbeat while a long Handle runs.
func (r *runner) testRenew(t *testing.T) {
	s := r.newStore(t)
	// The renewal's lease replaces the claim's: renewed with a short lease,
	// a long claim runs out after the short one.
	k := r.key(t, "shortened")
	a, b := r.newHolder(t, s, k), r.token()
	claim(t, s, k, a, r.opts.Lease, beecloud.ClaimOK)
	r.waitLease()
	claim(t, s, k, b, long, beecloud.ClaimOK)

	// Renewed every third of the lease, as the heartbeat does, a claim
	// lasts past its first lease's end. The lease is twice the short one,
	// so that the window in which the renewed claim must still hold,
	// between the first lease's end (and its slack) and the renewed one's,
	// is wide enough on a busy machine.
	k = r.key(t, "extended")
	a, b = r.token(), r.token()
	lease := 2 * r.opts.Lease
	first := time.Now()
	claim(t, s, k, a, lease, beecloud.ClaimOK)
	// The store renews the lease at some moment during the call: no
	// sooner than renewedFrom and no later than renewedBy.
	var renewedFrom, renewedBy time.Time
	for i := range 2 {
		sleepUntil(first.Add(time.Duration(i+1) * lease / 3))
		renewedFrom = time.Now()
		claimBefore(t, s, k, a, lease, beecloud.ClaimOK, first.Add(lease))
		renewedBy = time.Now()
	}
	sleepUntil(first.Add(lease + r.slack(lease)))
	claimBefore(t, s, k, b, long, beecloud.ClaimBusy, renewedFrom.Add(lease))
	// Unrenewed, the claim runs out like any other.
	sleepUntil(renewedBy.Add(lease + r.slack(lease)))
	claim(t, s, k, b, long, beecloud.ClaimOK)
	// And a renewal of a completed key says so and changes nothing.
	complete(t, s, k, b)
	claim(t, s, k, b, long, beecloud.ClaimDone)
	r.othersHear(t, s, k, beecloud.ClaimDone)
}

// testRenewAfterLoss checks that a holder whose lease ran out and was
// taken over cannot renew its way back in.
func (r *runner) testRenewAfterLoss(t *testing.T) {
	s, k := r.setUp(t)
	a, b := r.takeOver(t, s, k)
	claim(t, s, k, a, long, beecloud.ClaimBusy)
	claim(t, s, k, a, r.opts.Lease, beecloud.ClaimBusy)
	// b still holds it.
	r.othersHear(t, s, k, beecloud.ClaimBusy)
	claim(t, s, k, b, long, beecloud.ClaimOK)
}

// testRenewAfterExpiry checks that a holder whose lease ran out while no
// one else took the key (the store was unreachable for the heartbeat)
// renews it, and holds it again.
func (r *runner) testRenewAfterExpiry(t *testing.T) {
	s, k := r.setUp(t)
	a := r.token()
	r.claimShort(t, s, k, a)
	r.waitLease()
	claim(t, s, k, a, long, beecloud.ClaimOK)
	r.othersHear(t, s, k, beecloud.ClaimBusy)
}

// testNonPositiveLease checks that a lease of zero or less is an error
// that leaves the key free, rather than a claim that ends at once or, worse,
// one under some default lease.
func (r *runner) testNonPositiveLease(t *testing.T) {
	s, k := r.setUp(t)
	for _, lease := range []time.Duration{0, -time.Nanosecond, -time.Minute} {
		if st, err := s.Claim(ctx(t), k, r.token(), lease); err == nil {
			t.Errorf("Claim with lease %v = %v, nil; want an error", lease, st)
		}
	}
	r.othersHear(t, s, k, beecloud.ClaimOK)
}

func (r *runner) testCompleteThenClaim(t *testing.T) {
	s, k := r.setUp(t)
	a, b := r.newHolder(t, s, k), r.token()
	complete(t, s, k, a)
	claim(t, s, k, b, long, beecloud.ClaimDone)
	claim(t, s, k, a, long, beecloud.ClaimDone)
	// Completing twice is harmless, and releasing a done key does nothing.
	complete(t, s, k, a)
	release(t, s, k, a)
	release(t, s, k, b)
	r.othersHear(t, s, k, beecloud.ClaimDone)
	// A done key does not make its neighbours done.
	claim(t, s, r.key(t, "other"), b, long, beecloud.ClaimOK)
}

func (r *runner) testCompleteByAnyToken(t *testing.T) {
	s := r.newStore(t)
	// Complete records that the work happened, whoever holds the claim.
	k := r.key(t, "held")
	r.newHolder(t, s, k)
	complete(t, s, k, r.token())
	r.othersHear(t, s, k, beecloud.ClaimDone)
	// Even with no claim at all (it ran out and was cleaned up).
	k = r.key(t, "unclaimed")
	complete(t, s, k, r.token())
	r.othersHear(t, s, k, beecloud.ClaimDone)
}

func (r *runner) testReleaseThenClaim(t *testing.T) {
	s, k := r.setUp(t)
	a, b := r.newHolder(t, s, k), r.token()
	release(t, s, k, a) // Handle failed
	claim(t, s, k, b, long, beecloud.ClaimOK)
	r.othersHear(t, s, k, beecloud.ClaimBusy)
	// Releasing a key nobody claimed does nothing and is no error.
	k = r.key(t, "unclaimed")
	release(t, s, k, a)
	claim(t, s, k, a, long, beecloud.ClaimOK)
}

func (r *runner) testReleaseByOtherToken(t *testing.T) {
	s, k := r.setUp(t)
	a, b := r.newHolder(t, s, k), r.token()
	release(t, s, k, b)
	r.othersHear(t, s, k, beecloud.ClaimBusy)
	release(t, s, k, a)
	claim(t, s, k, b, long, beecloud.ClaimOK)
}

// claimShort claims key for a short lease and returns the local time by
// which the claim certainly started.
func (r *runner) claimShort(t *testing.T, s beecloud.Store, key, token string) (started time.Time) {
	t.Helper()
	started = time.Now()
	claim(t, s, key, token, r.opts.Lease, beecloud.ClaimOK)
	return started
}

// waitLease waits until a claim of the short lease made by a call that
// returned before now has run out on the backend.
func (r *runner) waitLease() {
	time.Sleep(r.opts.Lease + r.slack(r.opts.Lease))
}

// newHolder claims key with a token not used before, for a lease no check
// outlasts, fails t unless it gets the claim, and returns the token.
func (r *runner) newHolder(t *testing.T, s beecloud.Store, key string) string {
	t.Helper()
	token := r.token()
	claim(t, s, key, token, long, beecloud.ClaimOK)
	return token
}

// othersHear claims key with a token not used before, as another delivery
// of the same webhook would, and fails t unless Claim returns want. When
// want is ClaimOK, that new token holds key afterwards.
func (r *runner) othersHear(t *testing.T, s beecloud.Store, key string, want beecloud.ClaimState) {
	t.Helper()
	claim(t, s, key, r.token(), long, want)
}

// takeOver plays a holder that stalls: a new token, stale, claims key for
// the short lease, which runs out, and another, holder, takes key over for
// a lease no check outlasts. stale still believes it holds key.
func (r *runner) takeOver(t *testing.T, s beecloud.Store, key string) (stale, holder string) {
	t.Helper()
	stale, holder = r.token(), r.token()
	r.claimShort(t, s, key, stale)
	r.waitLease()
	claim(t, s, key, holder, long, beecloud.ClaimOK)
	return stale, holder
}

func (r *runner) testLeaseRunsOut(t *testing.T) {
	s, k := r.setUp(t)
	a, b := r.token(), r.token()
	started := r.claimShort(t, s, k, a)
	claimBefore(t, s, k, b, long, beecloud.ClaimBusy, started.Add(r.opts.Lease))
	// The holder died in the middle of Handle: no Complete, no Release.
	r.waitLease()
	claim(t, s, k, b, long, beecloud.ClaimOK)
	claim(t, s, k, a, long, beecloud.ClaimBusy)
}

// testStaleRelease checks that the old holder, waking up after its key
// was taken over, fails and releases to no effect: the new holder keeps
// its claim.
func (r *runner) testStaleRelease(t *testing.T) {
	r.checkStaleCall(t, release, beecloud.ClaimBusy, beecloud.ClaimOK)
}

// testStaleComplete checks that the completion of an old holder that was
// slow, not dead, counts (its work happened), and that the new holder,
// failing, cannot undo it.
func (r *runner) testStaleComplete(t *testing.T) {
	r.checkStaleCall(t, complete, beecloud.ClaimDone, beecloud.ClaimDone)
}

// checkStaleCall has the stale holder of a key that was taken over make
// call (release or complete) late, and checks that others then hear want,
// and wantAfter once the new holder has released the key.
func (r *runner) checkStaleCall(t *testing.T, call func(t *testing.T, s beecloud.Store, key, token string), want, wantAfter beecloud.ClaimState) {
	s, k := r.setUp(t)
	stale, holder := r.takeOver(t, s, k)
	call(t, s, k, stale)
	r.othersHear(t, s, k, want)
	release(t, s, k, holder)
	r.othersHear(t, s, k, wantAfter)
}

// testCompleteOutlivesLease checks that a completion lasts for the
// retention, not for what was left of the lease it completed (as a Redis
// SET … KEEPTTL, or an UPDATE that keeps expires_at, would have it). With
// the default retention, no other check would notice.
func (r *runner) testCompleteOutlivesLease(t *testing.T) {
	if ret := r.opts.Retention; ret > 0 && ret <= r.opts.Lease+2*r.slack(r.opts.Lease) {
		t.Skipf("storetest: Options.Retention %v is too short beside Options.Lease %v for this check", ret, r.opts.Lease)
	}
	s, k := r.setUp(t)
	a := r.token()
	r.claimShort(t, s, k, a)
	complete(t, s, k, a)
	r.waitLease()
	r.othersHear(t, s, k, beecloud.ClaimDone)
}

func (r *runner) testRetention(t *testing.T) {
	s, k := r.setUp(t)
	a := r.newHolder(t, s, k)
	started := time.Now()
	complete(t, s, k, a)
	completed := time.Now()
	r.othersHear(t, s, k, beecloud.ClaimDone)
	ret := r.opts.Retention
	if ret <= 0 {
		// The default retention is at least beecloud.MinRetention: far
		// longer than this test, so the key must stay done throughout.
		time.Sleep(r.opts.Lease)
		r.othersHear(t, s, k, beecloud.ClaimDone)
		return
	}
	// Done until the very end of the retention…
	sleepUntil(started.Add(ret - r.slack(ret)))
	claimBefore(t, s, k, r.token(), long, beecloud.ClaimDone, started.Add(ret))
	// …and forgotten after it, so that the backend does not fill up.
	sleepUntil(completed.Add(ret + r.slack(ret)))
	r.othersHear(t, s, k, beecloud.ClaimOK)
}

func (r *runner) testConcurrentClaims(t *testing.T) {
	s := r.newStore(t)
	const keys, claimers = 4, 24
	for i := range keys {
		k := r.key(t, strconv.Itoa(i))
		counts := r.claimAll(t, s, k, claimers)
		if counts[beecloud.ClaimOK] != 1 || counts[beecloud.ClaimBusy] != claimers-1 {
			t.Fatalf("%d concurrent claims of one key: got %v; want 1 ok, %d busy", claimers, counts, claimers-1)
		}
	}
	// After completion, everyone hears done.
	k := r.key(t, "done")
	a := r.newHolder(t, s, k)
	complete(t, s, k, a)
	if counts := r.claimAll(t, s, k, claimers); counts[beecloud.ClaimDone] != claimers {
		t.Fatalf("%d concurrent claims of a done key: got %v; want %d done", claimers, counts, claimers)
	}
}

// testConcurrentTakeover checks that of many deliveries that find a dead
// holder's claim run out at once, one takes it over: a store that deletes
// or updates the expired entry apart from recording its own claim lets
// several through.
func (r *runner) testConcurrentTakeover(t *testing.T) {
	s := r.newStore(t)
	const claimers = 24
	k := r.key(t, "k")
	r.claimShort(t, s, k, r.token())
	r.waitLease()
	counts := r.claimAll(t, s, k, claimers)
	if counts[beecloud.ClaimOK] != 1 || counts[beecloud.ClaimBusy] != claimers-1 {
		t.Fatalf("%d concurrent claims of a key whose lease ran out: got %v; want 1 ok, %d busy", claimers, counts, claimers-1)
	}
}

// claimAll claims key from n goroutines at once and counts the answers.
func (r *runner) claimAll(t *testing.T, s beecloud.Store, key string, n int) map[beecloud.ClaimState]int {
	t.Helper()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		counts = map[beecloud.ClaimState]int{}
		start  = make(chan struct{})
		c      = ctx(t)
	)
	for range n {
		token := r.token()
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			st, err := s.Claim(c, key, token, long)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("Claim(%q, %q): %v", key, token, err)
				return
			}
			counts[st]++
		}()
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return counts
}

// testMutualExclusion has workers race to claim, hold and release one key
// and checks that no two ever hold it at once.
func (r *runner) testMutualExclusion(t *testing.T) {
	s, k := r.setUp(t)
	const workers, rounds = 6, 15
	var (
		holders atomic.Int32
		wins    atomic.Int32
		wg      sync.WaitGroup
		c       = ctx(t)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				token := r.token()
				st, err := s.Claim(c, k, token, long)
				if err != nil {
					t.Errorf("Claim: %v", err)
					return
				}
				if st != beecloud.ClaimOK {
					continue
				}
				wins.Add(1)
				if n := holders.Add(1); n != 1 {
					t.Errorf("%d callers hold the claim at once; want 1", n)
				}
				time.Sleep(time.Millisecond)
				holders.Add(-1)
				if err := s.Release(c, k, token); err != nil {
					t.Errorf("Release: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if wins.Load() == 0 {
		t.Error("no worker ever got the claim")
	}
}

// oddKeys are keys that break stores which build queries, patterns or
// scripts out of them, or store them as text.
func (r *runner) oddKeys(t *testing.T) map[string]string {
	base := r.key(t, "")
	pad := func(name, fill string) string {
		k := base + name + "/"
		for len(k)+len(fill) <= beecloud.MaxStoreKeyBytes {
			k += fill
		}
		// Fill the last bytes with ASCII so that the key is exactly
		// beecloud.MaxStoreKeyBytes long and still valid UTF-8 when fill is.
		return k + strings.Repeat("z", beecloud.MaxStoreKeyBytes-len(k))
	}
	maxASCII := pad("ascii", "x")
	return map[string]string{
		// Keys that differ only in their last byte, for stores that
		// truncate keys or hash a prefix of them.
		"max ascii":      maxASCII,
		"max ascii last": maxASCII[:beecloud.MaxStoreKeyBytes-1] + "y",
		"empty suffix":   base,
		"max chinese":    pad("chinese", "支付"),
		"max NUL":        pad("nul", "\x00"),
		"max invalid":    pad("invalid", "\xff\xfe"),
		"NUL inside":     base + "a\x00b",
		"NUL at end":     base + "a\x00",
		"quotes":         base + `'"` + "`" + `\'; DROP TABLE webhooks; --`,
		"patterns":       base + `%_*?[a-z]^$.+(%s)\`,
		"lua":            base + `]] .. redis.call('FLUSHALL') .. [[`,
		"whitespace":     base + " \t\r\n\v\f",
		"control":        base + "\x01\x1b[31m\x7f",
		"nfc":            base + "caf\u00e9",
		"nfd":            base + "cafe\u0301",
		"emoji":          base + "💳🐝",
		"upper":          base + "KEY",
		"lower":          base + "key",
		"colon braces":   base + "{app}:PAY:bc1234567",
		"surrogate-ish":  base + "\xed\xa0\x80",
	}
}

func (r *runner) testKeys(t *testing.T) {
	s := r.newStore(t)
	keys := r.oddKeys(t)
	tokens := map[string]string{}
	for name, k := range keys {
		if len(k) > beecloud.MaxStoreKeyBytes {
			t.Fatalf("key %s is %d bytes; the suite must stay within %d", name, len(k), beecloud.MaxStoreKeyBytes)
		}
		tokens[name] = r.token()
		claim(t, s, k, tokens[name], long, beecloud.ClaimOK)
	}
	// Every key was distinct: each is now busy, none done.
	for name, k := range keys {
		t.Run(name, func(t *testing.T) {
			r.othersHear(t, s, k, beecloud.ClaimBusy)
		})
	}
	// Release half, complete the other half; each key keeps its own state.
	i := 0
	released := map[string]bool{}
	for name, k := range keys {
		if i%2 == 0 {
			release(t, s, k, tokens[name])
			released[name] = true
		} else {
			complete(t, s, k, tokens[name])
		}
		i++
	}
	for name, k := range keys {
		t.Run(name, func(t *testing.T) {
			want := beecloud.ClaimDone
			if released[name] {
				want = beecloud.ClaimOK
			}
			r.othersHear(t, s, k, want)
		})
	}
}

func (r *runner) testTokens(t *testing.T) {
	s := r.newStore(t)
	longest := func(fill string) string {
		tok := ""
		for len(tok)+len(fill) <= beecloud.MaxStoreTokenBytes {
			tok += fill
		}
		return tok + strings.Repeat("0", beecloud.MaxStoreTokenBytes-len(tok))
	}
	// Each pair differs in a way a careless store could lose.
	pairs := []struct{ name, a, b string }{
		{"NUL inside", "tok\x00a", "tok\x00b"},
		{"NUL at end", "tok", "tok\x00"},
		{"case", "TOKEN", "token"},
		{"max length", longest("t"), longest("t")[:beecloud.MaxStoreTokenBytes-1] + "u"},
		{"max chinese", longest("令牌"), longest("令牌")[:beecloud.MaxStoreTokenBytes-1] + "1"},
		{"max NUL", longest("\x00"), longest("\x00")[:beecloud.MaxStoreTokenBytes-1] + "\x01"},
		{"invalid UTF-8", "\xff\xfe", "\xff\xfd"},
		{"quotes", `'"\`, `'"\\`},
		{"empty", "", " "},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			if len(p.a) > beecloud.MaxStoreTokenBytes || len(p.b) > beecloud.MaxStoreTokenBytes || p.a == p.b {
				t.Fatalf("bad pair %q, %q", p.a, p.b)
			}
			k := r.key(t, "k")
			claim(t, s, k, p.a, long, beecloud.ClaimOK)
			claim(t, s, k, p.b, long, beecloud.ClaimBusy)
			claim(t, s, k, p.a, long, beecloud.ClaimOK)
			release(t, s, k, p.b) // not the holder: nothing happens
			r.othersHear(t, s, k, beecloud.ClaimBusy)
			release(t, s, k, p.a)
			claim(t, s, k, p.b, long, beecloud.ClaimOK)
			complete(t, s, k, p.b)
			claim(t, s, k, p.a, long, beecloud.ClaimDone)
		})
	}
}

func (r *runner) testUnreachable(t *testing.T) {
	if r.opts.Unreachable == nil {
		t.Skip("storetest: Options.Unreachable is nil")
	}
	s := r.opts.Unreachable(t)
	k, tok := r.key(t, "k"), r.token()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := s.Claim(c, k, tok, long)
	if err == nil {
		t.Errorf("Claim on an unreachable backend = %v, nil; want an error", st)
	}
	if st == beecloud.ClaimDone {
		t.Errorf("Claim on an unreachable backend = %v, %v; want never done", st, err)
	}
	if err := s.Complete(c, k, tok); err == nil {
		t.Error("Complete on an unreachable backend = nil; want an error")
	}
	if err := s.Release(c, k, tok); err == nil {
		t.Error("Release on an unreachable backend = nil; want an error")
	}
	if c.Err() != nil {
		t.Errorf("an unreachable backend took more than 10s to fail: %v", c.Err())
	}
}
