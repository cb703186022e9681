package redisstore_test

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paybutton/beecloud/stores/redisstore"
	"github.com/paybutton/beecloud/storetest"
)

// FuzzKeys checks that any key and token within the contract's sizes
// round-trip through Redis byte for byte.
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
	// One prefix for every fuzzing process and run: the keys expire.
	s := newStore(f, newClient(f), &redisstore.Options{Prefix: "beecloud-test:fuzz:", Retention: time.Minute})
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, key, token string) {
		storetest.RoundTrip(t, s, run+"/"+strconv.FormatInt(n.Add(1), 10)+"/"+key, token)
	})
}
