package storetest_test

import (
	"context"
	"errors"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refStore is a plain in-memory Store that honours the contract, unless
// bug names a way to break it.
type refStore struct {
	bug       string
	retention time.Duration

	mu      sync.Mutex
	entries map[string]entry
}

type entry struct {
	token   string
	done    bool
	expires time.Time
	past    string // the token that held the claim before token took it over
}

func newRefStore(bug string, retention time.Duration) *refStore {
	return &refStore{bug: bug, retention: retention, entries: map[string]entry{}}
}

func (s *refStore) normalize(key string) string {
	switch s.bug {
	case "truncate keys at NUL":
		if i := strings.IndexByte(key, 0); i >= 0 {
			key = key[:i]
		}
	case "truncate keys to 256 bytes":
		if len(key) > 256 {
			key = key[:256]
		}
	case "fold key case":
		key = strings.ToLower(key)
	}
	return key
}

func (s *refStore) sameToken(a, b string) bool {
	switch s.bug {
	case "fold token case":
		return strings.EqualFold(a, b)
	case "truncate tokens at NUL":
		a, _, _ = strings.Cut(a, "\x00")
		b, _, _ = strings.Cut(b, "\x00")
	}
	return a == b
}

func (s *refStore) Claim(ctx context.Context, key, token string, lease time.Duration) (beecloud.ClaimState, error) {
	key = s.normalize(key)
	if lease <= 0 && s.bug != "non-positive lease accepted" {
		return 0, errors.New("lease not positive")
	}
	if s.bug == "racy claim" {
		// Read, then write under a separate lock: the classic race.
		s.mu.Lock()
		e, ok := s.entries[key]
		s.mu.Unlock()
		time.Sleep(time.Millisecond)
		if ok && e.done {
			return beecloud.ClaimDone, nil
		}
		if ok && time.Now().Before(e.expires) && e.token != token {
			return beecloud.ClaimBusy, nil
		}
		s.mu.Lock()
		s.entries[key] = entry{token: token, expires: time.Now().Add(lease)}
		s.mu.Unlock()
		return beecloud.ClaimOK, nil
	}
	if s.bug == "racy takeover" {
		// The expired claim is taken over by a separate read and write.
		s.mu.Lock()
		e, ok := s.entries[key]
		s.mu.Unlock()
		if ok && !e.done && !time.Now().Before(e.expires) {
			time.Sleep(time.Millisecond)
			s.mu.Lock()
			s.entries[key] = entry{token: token, expires: time.Now().Add(lease)}
			s.mu.Unlock()
			return beecloud.ClaimOK, nil
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	e, ok := s.entries[key]
	expired := ok && !now.Before(e.expires)
	switch s.bug {
	case "leases never run out":
		expired = ok && e.done && !now.Before(e.expires)
	case "done never forgotten":
		expired = ok && !e.done && !now.Before(e.expires)
	}
	if s.bug == "renewal takes a lost claim back" && ok && !e.done && e.past == token {
		s.entries[key] = entry{token: token, expires: now.Add(lease)}
		return beecloud.ClaimOK, nil
	}
	if ok && !expired {
		if e.done {
			return beecloud.ClaimDone, nil
		}
		if !s.sameToken(e.token, token) || s.bug == "holder cannot claim again" {
			return beecloud.ClaimBusy, nil
		}
		if s.bug == "renewal keeps the old lease" {
			return beecloud.ClaimOK, nil
		}
	}
	past := ""
	if ok && !e.done && e.token != token {
		past = e.token
	}
	s.entries[key] = entry{token: token, expires: now.Add(lease), past: past}
	return beecloud.ClaimOK, nil
}

func (s *refStore) Complete(ctx context.Context, key, token string) error {
	key = s.normalize(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bug == "complete only by holder" && !s.sameToken(s.entries[key].token, token) {
		return nil
	}
	expires := time.Now().Add(s.retention)
	switch s.bug {
	case "retention too short":
		expires = time.Now().Add(s.retention / 2)
	case "done keeps the lease":
		// Like a Redis SET … KEEPTTL: the completion ends with the claim.
		if e, ok := s.entries[key]; ok && !e.done {
			expires = e.expires
		}
	}
	s.entries[key] = entry{token: token, done: true, expires: expires}
	return nil
}

func (s *refStore) Release(ctx context.Context, key, token string) error {
	key = s.normalize(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[key]
	switch {
	case !ok:
	case s.bug == "release without token check" && !e.done:
		delete(s.entries, key)
	case s.bug == "release done keys":
		delete(s.entries, key)
	case !e.done && s.sameToken(e.token, token):
		delete(s.entries, key)
	}
	return nil
}

// refTxStore is a refStore that is also a TxStore: work's effect is not
// modelled, only the commit of the completion, unless bug names a way to
// break the contract.
type refTxStore struct{ *refStore }

func (s refTxStore) CompleteTx(ctx context.Context, key, token string, work func(ctx context.Context) error) error {
	err := work(ctx)
	if err != nil && s.bug != "tx commits failed work" {
		return err
	}
	key = s.normalize(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[key]
	if (e.done || e.token != token) && s.bug != "tx ignores the holder" {
		return errors.New("claim lost")
	}
	s.entries[key] = entry{token: token, done: true, expires: time.Now().Add(s.retention)}
	return err
}

// deadStore fails as a store whose backend is down must, unless bug
// names a way to get it wrong.
type deadStore struct{ bug string }

var errDown = errors.New("backend down")

func (d deadStore) Claim(context.Context, string, string, time.Duration) (beecloud.ClaimState, error) {
	switch d.bug {
	case "dead claim says done":
		return beecloud.ClaimDone, errDown
	case "dead claim says busy without error":
		return beecloud.ClaimBusy, nil
	}
	return 0, errDown
}

func (d deadStore) Complete(context.Context, string, string) error {
	if d.bug == "dead complete succeeds" {
		return nil
	}
	return errDown
}

func (d deadStore) Release(context.Context, string, string) error {
	if d.bug == "dead release succeeds" {
		return nil
	}
	return errDown
}

const (
	testRetention = 500 * time.Millisecond
	testLease     = 150 * time.Millisecond
)

func runRef(t *testing.T, bug string) {
	storetest.Run(t, func(t *testing.T) beecloud.Store {
		return refTxStore{newRefStore(bug, testRetention)}
	}, storetest.Options{
		Retention:   testRetention,
		Lease:       testLease,
		Unreachable: func(t *testing.T) beecloud.Store { return deadStore{bug} },
		// The reference store reads time.Now: on the bubble's clock every
		// lease and retention is checked exactly, on any machine.
		Bubble: true,
	})
}

func TestRun(t *testing.T) {
	// A long test name must not push the suite's keys past MaxKeyBytes.
	t.Run(strings.Repeat("long name ", 60), func(t *testing.T) {
		runRef(t, "")
	})
}

// TestRunDefaultRetention runs the suite the way a store with its default
// (beecloud.MinRetention) retention is tested.
func TestRunDefaultRetention(t *testing.T) {
	storetest.Run(t, func(t *testing.T) beecloud.Store {
		return newRefStore("", beecloud.MinRetention)
	}, storetest.Options{Lease: testLease, Bubble: true})
}

const envBug = "STORETEST_BUG"

// TestBrokenStore is run by TestRunCatchesBugs in a child process, with
// the bug to plant in envBug.
func TestBrokenStore(t *testing.T) {
	bug := os.Getenv(envBug)
	if bug == "" {
		t.Skip("run by TestRunCatchesBugs")
	}
	runRef(t, bug)
}

// child runs this test binary again with only the test named run, and
// bug planted through envBug. It returns the output and whether the run
// failed.
func child(t *testing.T, run, bug string) (out []byte, failed bool) {
	cmd := exec.Command(os.Args[0], "-test.run="+run, "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), envBug+"="+bug)
	out, err := cmd.CombinedOutput()
	if err != nil {
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "running %s", run)
	}
	return out, err != nil
}

// inChildren runs f for each bug at once, in subtests, however low the
// -test.parallel limit: the children mostly sleep.
func inChildren(t *testing.T, bugs []string, f func(t *testing.T, bug string)) {
	if testing.Short() {
		t.Skip("runs the suite in child processes")
	}
	var wg sync.WaitGroup
	for _, bug := range bugs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(bug, func(t *testing.T) { f(t, bug) })
		}()
	}
	wg.Wait()
}

// TestRunCatchesBugs checks that the suite fails each store that breaks
// the contract, in the subtest that names the broken rule.
func TestRunCatchesBugs(t *testing.T) {
	// Each bug, and the subtests of which at least one must fail.
	bugs := map[string][]string{
		"leases never run out":               {"LeaseRunsOut", "StaleRelease", "StaleComplete"},
		"done never forgotten":               {"Retention"},
		"retention too short":                {"Retention"},
		"holder cannot claim again":          {"Claim"},
		"renewal keeps the old lease":        {"Renew"},
		"renewal takes a lost claim back":    {"RenewAfterLoss"},
		"non-positive lease accepted":        {"NonPositiveLease"},
		"done keeps the lease":               {"CompleteOutlivesLease"},
		"racy claim":                         {"ConcurrentClaims", "MutualExclusion"},
		"racy takeover":                      {"ConcurrentTakeover"},
		"release without token check":        {"ReleaseByOtherToken", "StaleRelease", "Tokens"},
		"release done keys":                  {"CompleteThenClaim", "StaleComplete"},
		"complete only by holder":            {"CompleteByAnyToken", "StaleComplete"},
		"truncate keys at NUL":               {"Keys"},
		"truncate keys to 256 bytes":         {"Keys"},
		"fold key case":                      {"Keys"},
		"fold token case":                    {"Tokens"},
		"truncate tokens at NUL":             {"Tokens"},
		"dead claim says done":               {"Unreachable"},
		"dead claim says busy without error": {"Unreachable"},
		"dead complete succeeds":             {"Unreachable"},
		"dead release succeeds":              {"Unreachable"},
		"tx commits failed work":             {"TxWorkFails"},
		"tx ignores the holder":              {"TxLostClaim", "TxAfterDone", "TxFenced"},
	}
	failedRE := regexp.MustCompile(`--- FAIL: TestBrokenStore/Store/(\w+)`)
	inChildren(t, slices.Sorted(maps.Keys(bugs)), func(t *testing.T, bug string) {
		// Only the subtests that should catch the bug run, to save time.
		out, failed := child(t, "^TestBrokenStore$/^Store$/^("+strings.Join(bugs[bug], "|")+")$", bug)
		require.True(t, failed, "suite on a store with %q passed; want it to fail\n%s", bug, out)
		got := failedRE.FindAllStringSubmatch(string(out), -1)
		caught := slices.ContainsFunc(got, func(f []string) bool { return slices.Contains(bugs[bug], f[1]) })
		require.True(t, caught, "suite on a store with %q failed %v; want a failure in one of %v\n%s", bug, got, bugs[bug], out)
	})
}

func TestRoundTripMemStore(t *testing.T) {
	s := new(beecloud.MemStore)
	long := strings.Repeat("k", beecloud.MaxStoreKeyBytes+10)
	for i, kt := range [][2]string{
		{"a", "t"},
		{"\x00\xff", ""},
		{long, strings.Repeat("t", beecloud.MaxStoreTokenBytes)},
		{"令牌", strings.Repeat("t", beecloud.MaxStoreTokenBytes+5)},
	} {
		storetest.RoundTrip(t, s, strconv.Itoa(i)+kt[0], kt[1])
	}
}

// RoundTrip must fail on a store that forgets completions.
func TestRoundTripCatchesForgetfulStore(t *testing.T) {
	ft := &fakeT{TB: t}
	func() {
		defer func() { _ = recover() }() // fakeT.Fatal ends the goroutine's work with a panic
		storetest.RoundTrip(ft, forgetful{new(beecloud.MemStore)}, "key", "token")
	}()
	assert.True(t, ft.failed, "RoundTrip passed a store that forgets completions")
}

// forgetful is a Store whose Complete releases instead.
type forgetful struct{ *beecloud.MemStore }

func (f forgetful) Complete(ctx context.Context, key, token string) error {
	return f.MemStore.Release(ctx, key, token)
}

// fakeT records a failure instead of failing the test.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatal(args ...any) {
	f.failed = true
	panic("fatal")
}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed = true
	panic("fatal")
}

func BenchmarkMemStore(b *testing.B) {
	s := &beecloud.MemStore{Retention: time.Nanosecond}
	b.Run("serial", func(b *testing.B) { storetest.BenchClaimComplete(b, s) })
	b.Run("parallel", func(b *testing.B) { storetest.BenchClaimCompleteParallel(b, s) })
}
