package storetest_test

import (
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/storetest"
	"github.com/stretchr/testify/require"
)

func TestMemStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) beecloud.Store {
		return &beecloud.MemStore{Retention: testRetention}
	}, storetest.Options{Retention: testRetention, Lease: testLease})
}

func TestRunHandlers(t *testing.T) {
	// One MemStore shared by the three handlers, as if one process served
	// them all.
	shared := new(beecloud.MemStore)
	storetest.RunHandlers(t, func(t *testing.T) beecloud.Store { return shared })
}

// TestBrokenHandlers is run by TestRunHandlersCatchesBugs in a child
// process, with the bug to plant in envBug.
func TestBrokenHandlers(t *testing.T) {
	bug := os.Getenv(envBug)
	if bug == "" {
		t.Skip("run by TestRunHandlersCatchesBugs")
	}
	shared := newRefStore(bug, time.Hour)
	storetest.RunHandlers(t, func(t *testing.T) beecloud.Store {
		if bug == "a store per instance" {
			return newRefStore("", time.Hour)
		}
		return shared
	})
}

// TestRunHandlersCatchesBugs checks that RunHandlers fails stores that
// let a transaction be handled twice.
func TestRunHandlersCatchesBugs(t *testing.T) {
	doubled := regexp.MustCompile(`handled [02-9]\d* times; want exactly once|Handle ran twice at once`)
	inChildren(t, []string{"a store per instance", "racy claim"}, func(t *testing.T, bug string) {
		out, failed := child(t, "^TestBrokenHandlers$", bug)
		require.True(t, failed, "RunHandlers on a store with %q passed; want it to fail\n%s", bug, out)
		require.Regexp(t, doubled, string(out), "RunHandlers on a store with %q failed for another reason", bug)
	})
}
