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
func soakClick(t *testing.T, outTradeNo string) []byte {
	t.Helper()
	d := data(outTradeNo)
	d["optional"] = map[string]any{"note": strings.Repeat("备注", 100), "cart": strings.Repeat("x", 1000)}
	body, err := json.Marshal(map[string]any{
		"data": d, "channel": beecloud.ChannelAli, "mobile": false,
		"page": "http://shop.example/checkout?" + strings.Repeat("q", 1900),
	})
	if err != nil {
		t.Fatal(err)
	}
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
				io.Copy(io.Discard, resp.Body)
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
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
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
	if n := len(sb.Bills()); n != 1 {
		t.Errorf("%d identical clicks made %d bills; want 1", clicks, n)
	}
	grew := int64(afterSame) - int64(before)
	t.Logf("heap: %.1f MiB before, %.1f MiB after %d identical clicks (%+.2f MiB)", mib(before), mib(afterSame), clicks, float64(grew)/(1<<20))
	if grew > 2<<20 {
		t.Errorf("the heap grew by %d bytes for one bill; want under 2 MiB", grew)
	}

	postClicks(t, sb, different, func(int) []byte { return soakClick(t, beecloud.NewOutTradeNo()) })
	afterMany := heapAfterGC()
	if n := len(sb.Bills()); n != maxBills {
		t.Errorf("%d different clicks left %d bills; want MaxBills, %d", different, n, maxBills)
	}
	grew = int64(afterMany) - int64(before)
	perBill := grew / maxBills
	t.Logf("heap: %.1f MiB after %d different clicks (%+.2f MiB over the start, %d bytes per kept bill)", mib(afterMany), different, float64(grew)/(1<<20), perBill)
	// A bill holds about 4 KB of strings here; allow three times that,
	// and room for the runtime's own growth.
	if limit := int64(maxBills*12<<10 + 4<<20); grew > limit {
		t.Errorf("the heap grew by %d bytes for %d bills; want under %d", grew, maxBills, limit)
	}
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
		if _, err := sb.Pay(appID, data(no), beecloud.ChannelAli); err != nil {
			t.Fatal(err)
		}
	}
	var kept []string
	for _, b := range sb.Bills() {
		kept = append(kept, b.Order.OutTradeNo)
	}
	if got, want := strings.Join(kept, ","), strings.Join(nos[2:], ","); got != want {
		t.Errorf("bills: got %s; want the newest three, %s", got, want)
	}
	if p := sb.Payments(); len(p) != 3 || p[0].Order.OutTradeNo != nos[2] {
		t.Errorf("payments: got %d starting %v; want the newest three", len(p), p)
	}
}
