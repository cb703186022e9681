package pgstore_test

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paybutton/beecloud/stores/pgstore"
	"github.com/paybutton/beecloud/storetest"
)

// FuzzKeys checks that any key and token within the contract's sizes
// round-trip through the database byte for byte.
func FuzzKeys(f *testing.F) {
	for _, seed := range [][2]string{
		{"c5d1cba1-5e3f-4ba0-941d-9b0a09f7a7c4:PAY:bc1234567", "20261125184500abcdef"},
		{"\x00", "\x00"},
		{"caf\u00e9", "令牌"},
		{"'; DROP TABLE beecloud_webhooks; --", `"\`},
		{"\xff\xfe", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	// One table for every fuzzing process and run, kept small by a short
	// retention and the cleanup in Complete, so that no worker leaves a
	// table behind. The retention must outlast one input's checks on a
	// loaded machine: a completion forgotten before its check is read as
	// lost.
	s, _ := newStore(f, pgstore.Options{Table: "beecloud_test_fuzz", Retention: time.Minute, CleanupInterval: time.Second})
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, key, token string) {
		storetest.RoundTrip(t, s, run+"/"+strconv.FormatInt(n.Add(1), 10)+"/"+key, token)
	})
}
