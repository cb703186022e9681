package beecloudtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// heapAfterGC returns the live heap once the garbage is collected.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// soakClick returns the body the button script posts for an order with
// large optional values and a long page address, near the sandbox's bounds.
// postClicks' workers call it: it may only assert.
func soakClick(t *testing.T, outTradeNo string) []byte {
	t.Helper()
	d := data(outTradeNo)
	d["optional"] = map[string]any{"note": strings.Repeat("备注", 100), "cart": strings.Repeat("x", 1000)}
	body, err := json.Marshal(map[string]any{
		"data": d, "channel": beecloud.ChannelAli, "mobile": false,
		"page": "http://shop.example/checkout?" + strings.Repeat("q", 1900),
	})
	assert.NoError(t, err, "soakClick(%q)", outTradeNo)
	return body
}

// postClicks POSTs n clicks, body(i) each, from a few goroutines at once,
// and fails on any answer but 200.
func postClicks(t *testing.T, sb *beecloudtest.Sandbox, n int, body func(i int) []byte) {
	t.Helper()
	u := sb.URL + "/2/rest/jsbutton/click?appId=" + appID
	const workers = 4
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := w; i < n; i += workers {
				resp, err := http.Post(u, "application/json", bytes.NewReader(body(i)))
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body) // only the status matters
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("click %d: got status %d; want 200", i, resp.StatusCode)
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		require.NoError(t, <-errs)
	}
}

// TestSoakClicksKeepTheHeapBounded POSTs 10,000 times the same signed
// click, which must keep one bill, and then 3,000 different orders, of
// which the sandbox must keep MaxBills. The live heap must stay within
// what the bills it keeps can hold.
func TestSoakClicksKeepTheHeapBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test: skipped with -short")
	}
	const clicks, different, maxBills = 10_000, 3_000, 300
	sb := newSandbox(t, beecloudtest.App{Config: testConfig})
	sb.MaxBills = maxBills
	same := soakClick(t, beecloud.NewOutTradeNo())
	t.Logf("each click posts %d bytes", len(same))

	before := heapAfterGC()
	postClicks(t, sb, clicks, func(int) []byte { return same })
	afterSame := heapAfterGC()
	// The count, not the bills: a failure need not print them all.
	n := len(sb.Bills())
	assert.Equal(t, 1, n, "bills after %d identical clicks", clicks)
	grew := int64(afterSame) - int64(before) //nolint:gosec // G115: heap sizes are far below 2^63
	t.Logf("heap: %.1f MiB before, %.1f MiB after %d identical clicks (%+.2f MiB)", mib(before), mib(afterSame), clicks, float64(grew)/(1<<20))
	assert.LessOrEqual(t, grew, int64(2<<20), "the heap's growth for one bill, in bytes; want at most 2 MiB")

	postClicks(t, sb, different, func(int) []byte { return soakClick(t, beecloud.NewOutTradeNo()) })
	afterMany := heapAfterGC()
	n = len(sb.Bills())
	assert.Equal(t, maxBills, n, "bills after %d different clicks: want MaxBills", different)
	grew = int64(afterMany) - int64(before) //nolint:gosec // G115: heap sizes are far below 2^63
	perBill := grew / maxBills
	t.Logf("heap: %.1f MiB after %d different clicks (%+.2f MiB over the start, %d bytes per kept bill)", mib(afterMany), different, float64(grew)/(1<<20), perBill)
	// A bill holds about 4 KB of strings here; allow three times that,
	// and room for the runtime's own growth.
	assert.LessOrEqual(t, grew, int64(maxBills*12<<10+4<<20), "the heap's growth for %d bills, in bytes", maxBills)
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// TestMaxBillsForgetsTheOldest checks which bills and payments a sandbox
// keeps past MaxBills.
func TestMaxBillsForgetsTheOldest(t *testing.T) {
	sb := newSandbox(t, beecloudtest.App{Config: testConfig})
	sb.MaxBills = 3
	var nos []string
	for i := range 5 {
		no := fmt.Sprintf("soak%04d", i)
		nos = append(nos, no)
		_, err := sb.Pay(appID, data(no), beecloud.ChannelAli)
		require.NoError(t, err, "Pay(%s)", no)
	}
	var kept []string
	for _, b := range sb.Bills() {
		kept = append(kept, b.Order.OutTradeNo)
	}
	assert.Equal(t, nos[2:], kept, "bills: want the newest three")
	if p := sb.Payments(); assert.Len(t, p, 3, "payments: want the newest three") {
		assert.Equal(t, nos[2], p[0].Order.OutTradeNo, "payments: the oldest kept")
	}
}
