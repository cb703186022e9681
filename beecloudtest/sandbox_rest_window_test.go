package beecloudtest_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

type windowHookTransport func(*http.Request) (*http.Response, error)

func (f windowHookTransport) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestRESTBillWindows: the sandbox filters bills by creation time to the
// millisecond, both bounds included, by spay_result, and counts what it
// lists; bills paid while a client pages (here from its transport) are
// listed at once, newest first, so AllBills sees every one once.
func TestRESTBillWindows(t *testing.T) {
	sb := beecloudtest.NewSandbox(beecloudtest.App{Config: testConfig})
	t.Cleanup(sb.Close)
	pay := func() beecloudtest.Bill {
		params, err := testConfig.Params(beecloud.Order{Title: "测试", Amount: 1, OutTradeNo: beecloud.NewOutTradeNo()})
		require.NoError(t, err)
		b, err := sb.Pay(appID, params, beecloud.ChannelAli)
		require.NoError(t, err)
		return b
	}
	first := pay()
	afterMillisecond(t, first.Created)
	for range 130 {
		pay()
	}
	ctx := context.Background()
	var paying atomic.Bool
	var added atomic.Int32
	client := &beecloud.Client{Config: testConfig, BaseURL: sb.URL, HTTPClient: &http.Client{
		Transport: windowHookTransport(func(r *http.Request) (*http.Response, error) {
			if paying.Load() && r.URL.Path == "/2/rest/bills" {
				pay()
				added.Add(1)
			}
			return http.DefaultTransport.RoundTrip(r)
		}),
	}}

	at := first.Created.Truncate(time.Millisecond)
	one := beecloud.BillQuery{PaidOnly: true, Since: at, Until: at}
	bills, err := client.Bills(ctx, one)
	require.NoError(t, err)
	require.Len(t, bills, 1)
	assert.Equal(t, first.ID, bills[0].ID)
	n, err := client.CountBills(ctx, one)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = client.CountBills(ctx, beecloud.BillQuery{Since: at.Add(time.Millisecond)})
	require.NoError(t, err)
	assert.Equal(t, 130, n)

	paying.Store(true)
	seen := map[string]int{}
	for b, err := range client.AllBills(ctx, beecloud.BillQuery{PaidOnly: true, Since: at}) {
		require.NoError(t, err)
		seen[b.ID]++
	}
	paying.Store(false)
	require.Positive(t, added.Load())
	all := sb.Payments()
	assert.Len(t, seen, len(all), "every bill, those paid while it paged included")
	for _, b := range all {
		assert.Equal(t, 1, seen[b.ID], b.ID)
	}
}
