package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// Sizes of the load that [RunHandlers] sends.
const (
	handlerInstances    = 3
	handlerTransactions = 200
	handlerDeliveries   = 3   // concurrent deliveries of each transaction
	handlerFailureRate  = 0.3 // share of Handle calls that fail
)

// errHandleFailed is what Handle returns when RunHandlers makes it fail.
var errHandleFailed = errors.New("storetest: planned Handle failure")

// RunHandlers checks a store end to end, as several server instances use
// it. Three [beecloud.WebhookHandler] values, each with a store of its own
// from newInstance and each behind its own httptest.Server, receive 200
// transactions. Every transaction is delivered three times at once, each
// delivery to a random instance and sent again (to another random
// instance) until it is answered "success", as BeeCloud resends; about 30%
// of the Handle calls fail. RunHandlers checks that Handle succeeded
// exactly once for each transaction, that no two Handle calls for one
// transaction overlapped, and that every delivery was answered "success".
//
// newInstance must return a store with its own connections (its own pool
// or client) to one backend that every call shares, as separate processes
// would have; RunHandlers calls it three times.
func RunHandlers(t *testing.T, newInstance func(t *testing.T) beecloud.Store) {
	t.Helper()
	cfg := beecloud.Config{
		AppID:        "c5d1cba1-5e3f-4ba0-941d-9b0a09f7a7c4",
		MasterSecret: "storetest-master-secret-" + randomID(),
	}
	seed := rand.Uint64()
	t.Logf("storetest: RunHandlers seed %d", seed)
	rng := struct {
		sync.Mutex
		*rand.Rand
	}{Rand: rand.New(rand.NewPCG(seed, seed))}
	random := func(n int) int {
		rng.Lock()
		defer rng.Unlock()
		return rng.IntN(n)
	}

	var (
		mu       sync.Mutex
		handled  = map[string]int{} // successful Handle calls per transaction
		running  = map[string]int{} // Handle calls under way per transaction
		failures int
		overlaps []string
	)
	handle := func(ctx context.Context, n *beecloud.Notification) error {
		id := n.TransactionID
		mu.Lock()
		running[id]++
		if running[id] > 1 {
			overlaps = append(overlaps, id)
		}
		mu.Unlock()
		// Widen the window in which a duplicate could slip in.
		time.Sleep(time.Duration(random(2000)) * time.Microsecond)
		mu.Lock()
		defer mu.Unlock()
		running[id]--
		if random(1000) < int(handlerFailureRate*1000) {
			failures++
			return errHandleFailed
		}
		handled[id]++
		return nil
	}

	servers := make([]*httptest.Server, handlerInstances)
	for i := range servers {
		h := &beecloud.WebhookHandler{
			Apps:   beecloud.Apps{cfg},
			Store:  newInstance(t),
			Handle: handle,
			// Nobody dies here: a lease that never runs out during the
			// run makes any double handling the store's fault.
			Lease:  time.Minute,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		}
		servers[i] = httptest.NewServer(h)
		t.Cleanup(servers[i].Close)
	}
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: 64},
		Timeout:   30 * time.Second,
	}
	t.Cleanup(client.CloseIdleConnections)

	run := randomID()
	ids := make([]string, handlerTransactions)
	var (
		wg       sync.WaitGroup
		statuses = &tally{counts: map[int]int{}}
		errs     = make(chan error, handlerTransactions*handlerDeliveries)
	)
	deadline := time.Now().Add(60 * time.Second)
	for i := range ids {
		ids[i] = fmt.Sprintf("st%s%04d", run, i)
		body := beecloudtest.NotificationBody(cfg, beecloud.Notification{
			ChannelType:     "ALI",
			SubChannelType:  "ALI_WEB",
			TransactionType: beecloud.TransactionPay,
			TransactionID:   ids[i],
			TransactionFee:  int64(100 + i),
			TradeSuccess:    true,
		})
		for range handlerDeliveries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- deliver(client, servers, body, random, deadline, statuses)
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	t.Logf("storetest: answers by status %v; %d planned Handle failures", statuses.counts, failures)

	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		if n := handled[id]; n != 1 {
			t.Errorf("transaction %s handled %d times; want exactly once", id, n)
		}
	}
	if len(overlaps) > 0 {
		t.Errorf("Handle ran twice at once for %d transactions, such as %s", len(overlaps), overlaps[0])
	}
	if failures == 0 {
		t.Error("no Handle call failed; the run did not test retries")
	}
}

// deliver posts body to random servers until one answers "success".
func deliver(client *http.Client, servers []*httptest.Server, body []byte, random func(int) int, deadline time.Time, statuses *tally) error {
	for attempt := 1; ; attempt++ {
		if time.Now().After(deadline) {
			return fmt.Errorf("delivery not answered success after %d attempts", attempt-1)
		}
		srv := servers[random(len(servers))]
		resp, err := client.Post(srv.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		text, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		statuses.add(resp.StatusCode)
		if resp.StatusCode == http.StatusOK && string(text) == "success" {
			return nil
		}
		switch resp.StatusCode {
		case http.StatusConflict, http.StatusInternalServerError:
			// Busy elsewhere, or Handle failed: BeeCloud sends again later.
		default:
			return fmt.Errorf("delivery answered %d %q; want success, 409 or 500", resp.StatusCode, text)
		}
		time.Sleep(time.Duration(1+random(3)) * time.Millisecond)
	}
}

// tally counts answers by status code.
type tally struct {
	mu     sync.Mutex
	counts map[int]int
}

func (t *tally) add(status int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.counts[status]++
}
