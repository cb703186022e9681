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
	// A lease that never runs out during the first phase: any double
	// handling there is the store's fault.
	handlerLease = time.Minute
	// The second phase: a few transactions whose first Handle outlives a
	// short lease, which the heartbeat must renew through the store.
	handlerSlowTransactions = 6
	handlerShortLease       = time.Second
	handlerSlow             = 3 * handlerShortLease / 2
)

// errHandleFailed is what Handle returns when RunHandlers makes it fail.
var errHandleFailed = errors.New("storetest: planned Handle failure")

// RunHandlers checks a store end to end, as several server instances use
// it. Three [beecloud.WebhookHandler] values, each with a store of its own
// from newInstance and each behind its own httptest.Server, receive 200
// transactions. Every transaction is delivered three times at once, each
// delivery to a random instance and sent again (to another random
// instance) until it is answered "success", as BeeCloud resends; about 30%
// of the Handle calls fail. Then, through handlers with a lease of 1 s on
// the same stores, six more transactions whose first Handle takes 1.5 s:
// the handlers' heartbeats must renew their claims through the store.
// RunHandlers checks that Handle succeeded exactly once for each
// transaction, that no two Handle calls for one transaction overlapped,
// that no delivery was answered "success" before a Handle for it had
// succeeded, and that every delivery was answered "success".
//
// newInstance must return a store with its own connections (its own pool
// or client) to one backend that every call shares, as separate processes
// would have; RunHandlers calls it three times.
func RunHandlers(t *testing.T, newInstance func(t *testing.T) beecloud.Store) {
	t.Helper()
	r := newHandlerRun(t)
	stores := make([]beecloud.Store, handlerInstances)
	for i := range stores {
		stores[i] = newInstance(t)
	}
	run := randomID()
	r.deliverAll(t, r.start(t, stores, handlerLease), run+"a", handlerTransactions, false)
	r.deliverAll(t, r.start(t, stores, handlerShortLease), run+"b", handlerSlowTransactions, true)
	r.check(t)
}

// handlerRun is the state of one RunHandlers: the app, a seeded random
// source, and the books Handle keeps.
type handlerRun struct {
	cfg  beecloud.Config
	rng  *rand.Rand
	rngM sync.Mutex

	mu         sync.Mutex
	ids        []string
	slow       map[string]bool
	handled    map[string]int // successful Handle calls per transaction
	running    map[string]int // Handle calls under way per transaction
	failures   int
	overlaps   []string
	early      []string    // answered success before any Handle succeeded
	statuses   map[int]int // answers by status code
	deliveries int
}

func newHandlerRun(t *testing.T) *handlerRun {
	seed := rand.Uint64()
	t.Logf("storetest: RunHandlers seed %d", seed)
	return &handlerRun{
		cfg: beecloud.Config{
			AppID:        "c5d1cba1-5e3f-4ba0-941d-9b0a09f7a7c4",
			MasterSecret: "storetest-master-secret-" + randomID(),
		},
		rng:      rand.New(rand.NewPCG(seed, seed)),
		slow:     map[string]bool{},
		handled:  map[string]int{},
		running:  map[string]int{},
		statuses: map[int]int{},
	}
}

func (r *handlerRun) random(n int) int {
	r.rngM.Lock()
	defer r.rngM.Unlock()
	return r.rng.IntN(n)
}

// handle is the Handle of every instance: it keeps the books, takes its
// time, and fails at random.
func (r *handlerRun) handle(ctx context.Context, n *beecloud.Notification) error {
	id := n.TransactionID
	r.mu.Lock()
	r.running[id]++
	if r.running[id] > 1 {
		r.overlaps = append(r.overlaps, id)
	}
	slow := r.slow[id] && r.handled[id] == 0
	r.mu.Unlock()
	// Widen the window in which a duplicate could slip in.
	pause := time.Duration(r.random(2000)) * time.Microsecond
	if slow {
		pause = handlerSlow
	}
	time.Sleep(pause)
	fail := !slow && r.random(1000) < int(handlerFailureRate*1000)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running[id]--
	if fail {
		r.failures++
		return errHandleFailed
	}
	r.handled[id]++
	return nil
}

// start starts a handler on each store, each behind its own server.
func (r *handlerRun) start(t *testing.T, stores []beecloud.Store, lease time.Duration) []*httptest.Server {
	servers := make([]*httptest.Server, len(stores))
	for i := range servers {
		h := &beecloud.WebhookHandler{
			Apps:   beecloud.Apps{r.cfg},
			Store:  stores[i],
			Handle: r.handle,
			Lease:  lease,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		}
		if err := h.Validate(); err != nil {
			t.Fatal(err)
		}
		servers[i] = httptest.NewServer(h)
		t.Cleanup(func() {
			servers[i].Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := h.Shutdown(ctx); err != nil {
				t.Errorf("storetest: handler %d: Shutdown: %v", i, err)
			}
		})
	}
	return servers
}

// deliverAll sends the deliveries of n transactions, slow or not, and
// waits for their answers.
func (r *handlerRun) deliverAll(t *testing.T, servers []*httptest.Server, run string, n int, slow bool) {
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: 64},
		Timeout:   30 * time.Second,
	}
	defer client.CloseIdleConnections()
	var (
		wg   sync.WaitGroup
		errs = make(chan error, n*handlerDeliveries)
	)
	deadline := time.Now().Add(60 * time.Second)
	for i := range n {
		id := fmt.Sprintf("st%s%04d", run, i)
		r.mu.Lock()
		r.ids = append(r.ids, id)
		r.slow[id] = slow
		r.mu.Unlock()
		body := beecloudtest.NotificationBody(r.cfg, beecloud.Notification{
			ChannelType:     "ALI",
			SubChannelType:  "ALI_WEB",
			TransactionType: beecloud.TransactionPay,
			TransactionID:   id,
			TransactionFee:  int64(100 + i),
			TradeSuccess:    true,
		})
		for range handlerDeliveries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- r.deliver(client, servers, id, body, deadline)
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
}

// deliver posts body to random servers until one answers "success".
func (r *handlerRun) deliver(client *http.Client, servers []*httptest.Server, id string, body []byte, deadline time.Time) error {
	for attempt := 1; ; attempt++ {
		if time.Now().After(deadline) {
			return fmt.Errorf("delivery of %s not answered success after %d attempts", id, attempt-1)
		}
		srv := servers[r.random(len(servers))]
		resp, err := client.Post(srv.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		text, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		success := resp.StatusCode == http.StatusOK && string(text) == "success"
		r.answered(id, resp.StatusCode, success)
		if success {
			return nil
		}
		pause := time.Duration(1+r.random(3)) * time.Millisecond
		switch resp.StatusCode {
		case http.StatusConflict:
			// Busy elsewhere, maybe for a slow Handle: BeeCloud sends again
			// later.
			pause *= 5
		case http.StatusInternalServerError:
			// Handle failed: BeeCloud sends again later.
		default:
			return fmt.Errorf("delivery of %s answered %d %q; want success, 409 or 500", id, resp.StatusCode, text)
		}
		time.Sleep(pause)
	}
}

func (r *handlerRun) answered(id string, status int, success bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deliveries++
	r.statuses[status]++
	if success && r.handled[id] == 0 {
		r.early = append(r.early, id)
	}
}

// check reports the figures and fails t for every broken promise.
func (r *handlerRun) check(t *testing.T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	doubles, lost := 0, 0
	for _, id := range r.ids {
		switch n := r.handled[id]; {
		case n == 0:
			lost++
			t.Errorf("transaction %s never handled", id)
		case n > 1:
			doubles++
			t.Errorf("transaction %s handled %d times; want exactly once", id, n)
		}
	}
	t.Logf("storetest: %d transactions, %d deliveries (answers by status %v), %d planned Handle failures; doubles %d, overlaps %d, lost %d, success before Handle %d",
		len(r.ids), r.deliveries, r.statuses, r.failures, doubles, len(r.overlaps), lost, len(r.early))
	if len(r.overlaps) > 0 {
		t.Errorf("Handle ran twice at once for %d transactions, such as %s", len(r.overlaps), r.overlaps[0])
	}
	if len(r.early) > 0 {
		t.Errorf("%d deliveries answered success before Handle succeeded, such as %s", len(r.early), r.early[0])
	}
	if r.failures == 0 {
		t.Error("no Handle call failed; the run did not test retries")
	}
}
