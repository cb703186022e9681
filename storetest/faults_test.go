package storetest_test

import (
	"context"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallFaults are FaultOptions for a short run over an in-memory store:
// the figures the store packages use are for real backends.
func smallFaults(newInstance func(t *testing.T) beecloud.Store) storetest.FaultOptions {
	return storetest.FaultOptions{
		NewInstance:  newInstance,
		Transactions: 60,
		Spread:       time.Second,
		Lease:        300 * time.Millisecond,
		Timeout:      20 * time.Second,
	}
}

func TestRunFaultsMemStore(t *testing.T) {
	if testing.Short() {
		t.Skip("fault-injection suite: skipped with -short")
	}
	// One MemStore shared by the three handlers, as if one process served
	// them all.
	shared := new(beecloud.MemStore)
	rep := storetest.RunFaults(t, smallFaults(func(t *testing.T) beecloud.Store { return shared }))
	// The run exercised the handlers: each transaction handled, some
	// Handle calls failed, and some deliveries sent again.
	assert.GreaterOrEqual(t, rep.HandleCalls, rep.Transactions, "HandleCalls: %v", rep)
	assert.NotZero(t, rep.Failed, "Failed: %v", rep)
	assert.Greater(t, rep.Deliveries, rep.Transactions, "Deliveries: %v", rep)
}

// forgetfulStore is a MemStore whose Complete records nothing.
type forgetfulStore struct{ *beecloud.MemStore }

func (forgetfulStore) Complete(context.Context, string, string) error { return nil }

// hastyStore is a MemStore that answers the first Claim of each key with
// ClaimDone, as a store that took a stale entry for a completion would.
type hastyStore struct {
	*beecloud.MemStore
	mu   sync.Mutex
	seen map[string]bool
}

func (s *hastyStore) Claim(ctx context.Context, key, token string, lease time.Duration) (beecloud.ClaimState, error) {
	s.mu.Lock()
	first := !s.seen[key]
	s.seen[key] = true
	s.mu.Unlock()
	if first {
		return beecloud.ClaimDone, nil
	}
	return s.MemStore.Claim(ctx, key, token, lease)
}

// TestBrokenFaults is run by TestRunFaultsCatchesBugs in a child process,
// with the bug to plant in envBug.
func TestBrokenFaults(t *testing.T) {
	bug := os.Getenv(envBug)
	if bug == "" {
		t.Skip("run by TestRunFaultsCatchesBugs")
	}
	shared := new(beecloud.MemStore)
	opts := smallFaults(func(t *testing.T) beecloud.Store {
		switch bug {
		case "a store per instance":
			return new(beecloud.MemStore)
		case "complete forgets":
			return forgetfulStore{shared}
		}
		return shared
	})
	switch bug {
	case "done before handled":
		hasty := &hastyStore{MemStore: shared, seen: map[string]bool{}}
		opts.NewInstance = func(t *testing.T) beecloud.Store { return hasty }
	case "no rollback":
		// The effect claims to be undone by a failing Handle, but the
		// store has no transaction to undo it.
		var mu sync.Mutex
		effects := map[string]int{}
		opts.EffectRollsBack = true
		opts.Effect = func(_ context.Context, n *beecloud.Notification) error {
			mu.Lock()
			defer mu.Unlock()
			effects[n.TransactionID]++
			return nil
		}
		opts.Effects = func(_ context.Context, id string) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			return effects[id], nil
		}
	}
	storetest.RunFaults(t, opts)
}

// TestRunFaultsCatchesBugs checks that RunFaults fails stores, and
// effects, that break exactly-once, each with the figure that shows it.
func TestRunFaultsCatchesBugs(t *testing.T) {
	bugs := map[string]*regexp.Regexp{
		"a store per instance": regexp.MustCompile(`handled twice [1-9]`),
		"complete forgets":     regexp.MustCompile(`handled twice [1-9]`),
		"no rollback":          regexp.MustCompile(`handled twice [1-9]`),
		"done before handled":  regexp.MustCompile(`success without effect [1-9]`),
	}
	names := make([]string, 0, len(bugs))
	for b := range bugs {
		names = append(names, b)
	}
	inChildren(t, names, func(t *testing.T, bug string) {
		out, failed := child(t, "^TestBrokenFaults$", bug)
		require.True(t, failed, "RunFaults with %q passed; want it to fail\n%s", bug, out)
		require.Regexp(t, `exactly-once broken`, string(out), "RunFaults with %q failed for another reason", bug)
		require.Regexp(t, bugs[bug], string(out), "RunFaults with %q failed for another reason", bug)
	})
}
