package beecloud_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
	"github.com/paybutton/beecloud/storetest"
)

// errStoreDown is what a faultStore answers during an outage.
var errStoreDown = errors.New("faultstore: connection refused")

// faultStore is a Store whose backend goes down on demand: during an
// outage every call fails, and a Complete may still take effect with its
// answer lost, as when a connection drops after the server committed.
type faultStore struct {
	inner beecloud.Store

	mu          sync.Mutex
	downUntil   time.Time
	lostReplies bool            // Complete during an outage takes effect half the time
	blockRenew  map[string]bool // tokens whose Claims fail while set
	claims      map[string]int  // Claims per token
	completes   int
}

func newFaultStore(inner beecloud.Store) *faultStore {
	return &faultStore{inner: inner, blockRenew: map[string]bool{}, claims: map[string]int{}}
}

// outage takes the backend down for d from now.
func (s *faultStore) outage(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.downUntil = time.Now().Add(d)
}

func (s *faultStore) down() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Before(s.downUntil)
}

func (s *faultStore) Claim(ctx context.Context, key, token string, lease time.Duration) (beecloud.ClaimState, error) {
	s.mu.Lock()
	s.claims[token]++
	blocked := s.blockRenew[token]
	s.mu.Unlock()
	if blocked || s.down() {
		return 0, errStoreDown
	}
	return s.inner.Claim(ctx, key, token, lease)
}

func (s *faultStore) Complete(ctx context.Context, key, token string) error {
	s.mu.Lock()
	s.completes++
	lost := s.lostReplies && rand.IntN(2) == 0
	s.mu.Unlock()
	if s.down() {
		if lost {
			_ = s.inner.Complete(ctx, key, token)
		}
		return errStoreDown
	}
	return s.inner.Complete(ctx, key, token)
}

func (s *faultStore) Release(ctx context.Context, key, token string) error {
	if s.down() {
		return errStoreDown
	}
	return s.inner.Release(ctx, key, token)
}

// ledger plays the merchant's books during a run: it counts Handle's
// runs and successes per transaction, Handle calls that overlapped, and
// answers of "success" given before any Handle of the transaction had
// succeeded (a payment that could be lost).
type ledger struct {
	mu         sync.Mutex
	running    map[string]int
	succeeded  map[string]int
	runs       int
	overlaps   int
	overlapped map[string]bool
	early      int // success answered before a successful Handle
	deliveries int
	answers    map[string]int
}

func newLedger() *ledger {
	return &ledger{running: map[string]int{}, succeeded: map[string]int{}, answers: map[string]int{}, overlapped: map[string]bool{}}
}

// wrap returns a Handle that does the books around do, which may fail,
// panic or take its time.
func (l *ledger) wrap(do func(ctx context.Context, n *beecloud.Notification) error) func(ctx context.Context, n *beecloud.Notification) error {
	return func(ctx context.Context, n *beecloud.Notification) error {
		id := n.TransactionID
		l.mu.Lock()
		l.runs++
		l.running[id]++
		if l.running[id] > 1 {
			l.overlaps++
			l.overlapped[id] = true
		}
		l.mu.Unlock()
		ok := false
		defer func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.running[id]--
			if ok {
				l.succeeded[id]++
			}
		}()
		if err := do(ctx, n); err != nil {
			return err
		}
		ok = true
		return nil
	}
}

// answered records one delivery's answer (code 0: no answer).
func (l *ledger) answered(id string, code int, text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.deliveries++
	l.answers[fmt.Sprintf("%d %s", code, text)]++
	if code == http.StatusOK && text == "success" && l.succeeded[id] == 0 {
		l.early++
	}
}

// check logs the figures and fails t unless every transaction in ids was
// handled exactly once, never by two Handles at a time, and never
// answered success before that.
func (l *ledger) check(t *testing.T, ids []string) {
	t.Helper()
	l.checkExplained(t, ids, nil)
}

// checkExplained is check, except that a transaction handled twice, or by
// two Handles at a time, passes if the handlers' own records in logs (if
// not nil) show the documented exception that allows it: a lease that ran
// out unrenewed. The figures say how many of each there were.
func (l *ledger) checkExplained(t *testing.T, ids []string, logs *storetest.HandlerLog) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	doubles, lost := 0, 0
	explained := map[storetest.Exception]int{}
	var unexplained []string
	for _, id := range ids {
		n := l.succeeded[id]
		switch {
		case n == 0:
			lost++
		case n > 1:
			doubles++
		}
		if n <= 1 && !l.overlapped[id] {
			continue
		}
		ex := storetest.NoException
		if logs != nil {
			ex = logs.Exception(id)
		}
		if ex == storetest.NoException {
			unexplained = append(unexplained, id)
		} else {
			explained[ex]++
		}
	}
	answers := make([]string, 0, len(l.answers))
	for a, n := range l.answers {
		answers = append(answers, fmt.Sprintf("%q×%d", a, n))
	}
	sort.Strings(answers)
	t.Logf("figures: %d transactions, %d deliveries, %d Handle runs; doubles %d, overlaps %d (explained by the handlers' records: %v; unexplained %d), lost %d, success before Handle %d; answers %s",
		len(ids), l.deliveries, l.runs, doubles, l.overlaps, explained, len(unexplained), lost, l.early, strings.Join(answers, " "))
	tail := ""
	if logs != nil && len(unexplained) != 0 {
		tail = "\n" + logs.Tail(unexplained[:min(3, len(unexplained))], 200)
	}
	assert.Empty(t, unexplained, "transactions handled twice, or by two Handles at a time, that the handlers' records do not explain (doubles %d, overlaps %d)%s", doubles, l.overlaps, tail)
	assert.Zero(t, lost, "transactions never handled")
	assert.Zero(t, l.early, "answers of success before a successful Handle")
}

// bodies returns n signed payment bodies and their transaction ids.
func bodies(n int, prefix string) (ids []string, bs [][]byte) {
	for i := range n {
		id := fmt.Sprintf("%s%04d", prefix, i)
		ids = append(ids, id)
		bs = append(bs, beecloudtest.NotificationBody(handlerConfig, beecloudtest.Paid(beecloud.Order{Title: "x", Amount: int64(100 + i), OutTradeNo: id})))
	}
	return ids, bs
}

// resend plays BeeCloud's schedule for one transaction: it delivers body
// through send first (from now), then again until it is answered success
// (faster than BeeCloud: every gap to 3 gaps), and records every answer
// in l. The one wait is the schedule itself, not a wait for the handler:
// on the real clock, or on a bubble's.
func resend(t *testing.T, l *ledger, id string, body []byte, send func([]byte) (int, string), first, gap time.Duration, deadline time.Time) {
	for wait := first; ; wait = gap + rand.N(2*gap) {
		time.Sleep(wait)
		if !time.Now().Before(deadline) {
			break
		}
		code, text := send(body)
		l.answered(id, code, text)
		if code == http.StatusOK && text == "success" {
			return
		}
	}
	assert.Fail(t, "never answered success", "transaction %s", id)
}

// direct sends body to h without a network.
func direct(h http.Handler) func([]byte) (int, string) {
	return func(body []byte) (int, string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
		return w.Code, w.Body.String()
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func shutdown(t *testing.T, h *beecloud.WebhookHandler) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	assert.NoError(t, h.Shutdown(ctx), "Shutdown")
}

// TestWebhookHandlerStoreOutage takes the store down for a second just as
// the first Handle returns, while duplicates of every transaction hammer
// the handler: each transaction is handled once, and none is answered
// success before it was. Inline, the completions land within the answer's
// retry budget; in the background, the answers go out first and the
// completions land after the outage, holding the claims meanwhile.
func TestWebhookHandlerStoreOutage(t *testing.T) {
	for _, tt := range []struct {
		name               string
		inline, background time.Duration
	}{
		{"inline", 3 * time.Second, 10 * time.Second},
		{"background", 100 * time.Millisecond, 10 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) { testStoreOutage(t, tt.name, tt.inline, tt.background) })
		})
	}
}

// testStoreOutage is a TestWebhookHandlerStoreOutage case, on synctest's
// clock: the outage ends, and the lease lasts, exactly as written.
func testStoreOutage(t *testing.T, name string, inline, background time.Duration) {
	tt := struct {
		name               string
		inline, background time.Duration
	}{name, inline, background}
	const transactions, senders = 10, 4
	store := newFaultStore(new(beecloud.MemStore))
	store.lostReplies = true
	l := newLedger()
	var once sync.Once
	logs := new(syncBuffer)
	h := &beecloud.WebhookHandler{
		Apps:  beecloud.Apps{handlerConfig},
		Store: store,
		Lease: 3 * time.Second, // longer than the outage
		Handle: l.wrap(func(ctx context.Context, n *beecloud.Notification) error {
			advance(20 * time.Millisecond) // Handle takes its time
			once.Do(func() { store.outage(time.Second) })
			return nil
		}),
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	}
	beecloud.SetCompleteBudgets(h, tt.inline, tt.background)
	ids, bs := bodies(transactions, "outage"+tt.name)
	var wg sync.WaitGroup
	deadline := time.Now().Add(20 * time.Second)
	for i := range ids {
		for range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Each resend costs real CPU, whatever the clock: 20 ms
				// apart, a few hundred of them cover the outage.
				resend(t, l, ids[i], bs[i], direct(h), 0, 20*time.Millisecond, deadline)
			}()
		}
	}
	wg.Wait()
	shutdown(t, h)
	l.check(t, ids)
	if tt.name == "background" {
		assert.Contains(t, logs.String(), "completion recorded in the background", "log: want a completion gone to the background")
	}
}

// TestWebhookHandlerLongHandle runs a Handle that takes 4× the lease and
// ignores its context, while resends arrive throughout: the heartbeat
// keeps the claim (a MemStore's needs none), every resend meanwhile is
// answered busy, and Handle runs once.
func TestWebhookHandlerLongHandle(t *testing.T) {
	// On synctest's clock: the renewals come exactly every third of the
	// lease, however busy the machine.
	t.Run("heartbeat", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) { testLongHandle(t, newFaultStore(new(beecloud.MemStore))) })
	})
	t.Run("MemStore", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) { testLongHandle(t, nil) })
	})
}

// testLongHandle is TestWebhookHandlerLongHandle with store, which, if
// not nil, counts the renewals.
func testLongHandle(t *testing.T, store *faultStore) {
	const lease = beecloud.MinLease
	l := newLedger()
	var returned atomic.Bool
	h := &beecloud.WebhookHandler{
		Apps:  beecloud.Apps{handlerConfig},
		Lease: lease,
		Handle: l.wrap(func(ctx context.Context, n *beecloud.Notification) error {
			advance(4 * lease)
			returned.Store(true)
			return nil
		}),
		Logger: quietLogger(),
	}
	if store != nil {
		h.Store = store
	}
	ids, bs := bodies(1, "long")
	first := make(chan struct{})
	go func() {
		defer close(first)
		code, text := direct(h)(bs[0])
		l.answered(ids[0], code, text)
	}()
	synctest.Wait() // the first delivery holds the claim, its Handle under way
	var wg sync.WaitGroup
	var busy, early atomic.Int32
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				done := returned.Load()
				code, text := direct(h)(bs[0])
				l.answered(ids[0], code, text)
				switch {
				case code == http.StatusConflict:
					busy.Add(1)
				case code == http.StatusOK && text == "success":
					if !done && !returned.Load() {
						early.Add(1)
					}
					return
				default:
					assert.Fail(t, "an answer during a long Handle other than 409 or success", "answer %d %q", code, text)
					return
				}
				advance(10 * time.Millisecond) // the next resend
			}
		}()
	}
	wg.Wait()
	<-first
	l.check(t, ids)
	assert.Zero(t, early.Load(), "resends answered success while Handle ran")
	assert.NotZero(t, busy.Load(), "resends answered busy while Handle ran")
	if store == nil {
		t.Logf("lease %v, Handle %v: %d resends answered busy", lease, 4*lease, busy.Load())
		return
	}
	store.mu.Lock()
	renewals := 0
	for _, n := range store.claims {
		renewals = max(renewals, n-1)
	}
	store.mu.Unlock()
	t.Logf("lease %v, Handle %v: %d resends answered busy, %d renewals", lease, 4*lease, busy.Load(), renewals)
	assert.GreaterOrEqual(t, renewals, 3, "renewals")
}

// TestWebhookHandlerClaimLost lets a delivery's lease run out unrenewed
// (its renewals fail) so that a resend takes the transaction over: the
// first Handle's context is cancelled with ErrClaimLost once a renewal
// learns it, and both are logged at error level.
func TestWebhookHandlerClaimLost(t *testing.T) {
	// On synctest's clock: the lease runs out exactly when the test says.
	synctest.Test(t, testClaimLost)
}

func testClaimLost(t *testing.T) {
	const lease = beecloud.MinLease
	store := newFaultStore(new(beecloud.MemStore))
	logs := new(syncBuffer)
	started := make(chan string, 2)
	var cause atomic.Value
	var calls atomic.Int32
	h := &beecloud.WebhookHandler{
		Apps:  beecloud.Apps{handlerConfig},
		Store: store,
		Lease: lease,
		Handle: func(ctx context.Context, n *beecloud.Notification) error {
			if calls.Add(1) > 1 {
				return nil // the resend that took over
			}
			started <- "first"
			<-ctx.Done()
			cause.Store(context.Cause(ctx))
			return context.Cause(ctx)
		},
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	}
	_, bs := bodies(1, "lost")
	first := make(chan int)
	go func() {
		code, _ := direct(h)(bs[0])
		first <- code
	}()
	<-started
	// Block the holder's renewals until its lease has run out and the
	// resend has taken over.
	store.mu.Lock()
	var holder string
	for tok := range store.claims {
		holder = tok
	}
	store.blockRenew[holder] = true
	store.mu.Unlock()
	// The block came before the first renewal (at lease/3, and the clock
	// stood still since the claim): the lease runs out at exactly lease,
	// and a resend half a lease later takes over at once.
	advance(lease + lease/2)
	code, text := direct(h)(bs[0])
	require.Equal(t, http.StatusOK, code, "status of the resend after the lease ran out (%q)", text)
	require.Equal(t, "success", text, "answer to the resend after the lease ran out")
	store.mu.Lock()
	store.blockRenew[holder] = false
	store.mu.Unlock()
	select {
	case code := <-first:
		assert.Equal(t, http.StatusInternalServerError, code, "first delivery's status")
	case <-time.After(5 * time.Second):
		require.Fail(t, "the first Handle's context was not cancelled")
	}
	got, _ := cause.Load().(error)
	require.ErrorIs(t, got, beecloud.ErrClaimLost, "the cause of Handle's context")
	for _, want := range []string{"claim ran out", "claim lost to another delivery", "after its claim ran out or was lost"} {
		assert.Contains(t, logs.String(), want, "log")
	}
	assert.Contains(t, logs.String(), "level=ERROR", "log: want an error record")
}

// TestWebhookHandlerFaults plays BeeCloud against three handler instances
// sharing one store over loopback HTTP: Handle fails 20% of the time and
// panics 5%, clients hang up early 10% of the time, and the store goes
// down for 200 ms at random moments. The first deliveries are spread
// over 1.5 s. No transaction may be handled twice,
// answered success before it was handled, or lost.
func TestWebhookHandlerFaults(t *testing.T) {
	const (
		instances    = 3
		transactions = 150
		senders      = 3
		spread       = 10 * time.Millisecond // between the first deliveries
	)
	store := newFaultStore(new(beecloud.MemStore))
	store.lostReplies = true
	l := newLedger()
	logs := storetest.NewHandlerLog()
	var panics, failures atomic.Int32
	handle := l.wrap(func(ctx context.Context, n *beecloud.Notification) error {
		time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond) // a Handle takes its time, up to 3 ms
		switch r := rand.IntN(100); {
		case r < 5:
			panics.Add(1)
			panic("merchant bug")
		case r < 25:
			failures.Add(1)
			return errors.New("database blip")
		}
		return nil
	})
	handlers := make([]*beecloud.WebhookHandler, instances)
	servers := make([]*httptest.Server, instances)
	for i := range handlers {
		handlers[i] = &beecloud.WebhookHandler{
			Apps: beecloud.Apps{handlerConfig}, Store: store, Handle: handle,
			Lease: 2 * time.Second, Logger: slog.New(logs.Handler()),
		}
		beecloud.SetCompleteBudgets(handlers[i], 100*time.Millisecond, 10*time.Second)
		servers[i] = httptest.NewUnstartedServer(handlers[i])
		servers[i].Config.ErrorLog = log.New(io.Discard, "", 0) // the panics
		servers[i].Start()
		t.Cleanup(servers[i].Close)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	t.Cleanup(client.CloseIdleConnections)
	var hangups atomic.Int32
	send := func(body []byte) (int, string) {
		ctx := context.Background()
		if rand.IntN(10) == 0 {
			hangups.Add(1)
			c, cancel := context.WithTimeout(ctx, time.Duration(rand.IntN(2000))*time.Microsecond)
			defer cancel()
			ctx = c
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, servers[rand.IntN(instances)].URL, bytes.NewReader(body))
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		text, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, err.Error()
		}
		return resp.StatusCode, string(text)
	}
	stop := make(chan struct{})
	var outages atomic.Int32
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(200+rand.IntN(400)) * time.Millisecond):
				store.outage(200 * time.Millisecond)
				outages.Add(1)
			}
		}
	}()
	ids, bs := bodies(transactions, "faults")
	var wg sync.WaitGroup
	deadline := time.Now().Add(60 * time.Second)
	for i := range ids {
		for range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resend(t, l, ids[i], bs[i], func(b []byte) (int, string) {
					code, text := send(b)
					if code == 0 {
						text = "no answer"
					}
					return code, text
				}, time.Duration(i)*spread, 2*time.Millisecond, deadline)
			}()
		}
	}
	wg.Wait()
	close(stop)
	for _, h := range handlers {
		shutdown(t, h)
	}
	t.Logf("figures: %d Handle panics, %d failures, %d hang-ups, %d store outages; handlers logged %s",
		panics.Load(), failures.Load(), hangups.Load(), outages.Load(), strings.Join(logs.Top(6), ", "))
	l.checkExplained(t, ids, logs)
	assert.NotZero(t, panics.Load(), "Handle panics: the run did not exercise them")
	assert.NotZero(t, failures.Load(), "Handle failures: the run did not exercise them")
}

// TestWebhookHandlerTradeSuccessReplay replays a genuine body with
// trade_success flipped to false after its first delivery failed (a
// database blip): the replay is refused before the Store and never
// reaches Handle, and BeeCloud's genuine resend is then handled, once.
func TestWebhookHandlerTradeSuccessReplay(t *testing.T) {
	store := newFaultStore(new(beecloud.MemStore))
	l := newLedger()
	var blip atomic.Bool
	blip.Store(true)
	var sawFalse atomic.Bool
	logs := new(syncBuffer)
	h := &beecloud.WebhookHandler{
		Apps:  beecloud.Apps{handlerConfig},
		Store: store,
		Handle: l.wrap(func(ctx context.Context, n *beecloud.Notification) error {
			if !n.TradeSuccess {
				sawFalse.Store(true)
				return nil // what a careless Handle does: nothing to do, done
			}
			if blip.Swap(false) {
				return errors.New("database blip")
			}
			return nil
		}),
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	}
	ids, bs := bodies(1, "replay")
	genuine := bs[0]
	replay := bytes.Replace(genuine, []byte(`"trade_success":true`), []byte(`"trade_success":false`), 1)
	require.NotEqual(t, genuine, replay, "no trade_success in %s", genuine)
	_, err := handlerConfig.ParseNotification(replay)
	require.NoError(t, err, "the replay does not verify: the test proves nothing")
	send := direct(h)
	steps := []struct {
		name   string
		body   []byte
		status int
		text   string
	}{
		{"genuine, Handle fails", genuine, http.StatusInternalServerError, "handle failed"},
		{"replay", replay, http.StatusUnprocessableEntity, "trade not successful"},
		{"replay again", replay, http.StatusUnprocessableEntity, "trade not successful"},
		{"genuine resend", genuine, http.StatusOK, "success"},
		{"replay after success", replay, http.StatusUnprocessableEntity, "trade not successful"},
		{"genuine duplicate", genuine, http.StatusOK, "success"},
	}
	for _, s := range steps {
		code, text := send(s.body)
		l.answered(ids[0], code, text)
		assert.Equal(t, s.status, code, "%s: status (%q)", s.name, text)
		assert.Equal(t, s.text, text, "%s: answer", s.name)
	}
	l.check(t, ids)
	assert.False(t, sawFalse.Load(), "Handle saw trade_success false")
	store.mu.Lock()
	claims := len(store.claims)
	store.mu.Unlock()
	assert.Equal(t, 3, claims, "tokens claimed: the genuine deliveries only (the replays must not reach the Store)")
	assert.Contains(t, logs.String(), "level=WARN", "log: want a warning about trade_success")
	assert.Contains(t, logs.String(), "trade_success is false", "log: want a warning about trade_success")
}

// TestWebhookHandlerHandleOverdue runs a Handle that ignores its context
// past HandleTimeout: the claim stays renewed (no resend runs Handle
// beside it), the overrun is logged at error level, and its success is
// recorded.
func TestWebhookHandlerHandleOverdue(t *testing.T) {
	synctest.Test(t, testHandleOverdue)
}

func testHandleOverdue(t *testing.T) {
	logs := new(syncBuffer)
	var ctxErr atomic.Value
	l := newLedger()
	h := &beecloud.WebhookHandler{
		Apps:          beecloud.Apps{handlerConfig},
		Lease:         500 * time.Millisecond,
		HandleTimeout: 20 * time.Millisecond,
		Handle: l.wrap(func(ctx context.Context, n *beecloud.Notification) error {
			advance(time.Second) // ignores its ctx past HandleTimeout
			ctxErr.Store(fmt.Sprint(ctx.Err()))
			return nil
		}),
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	}
	ids, bs := bodies(1, "overdue")
	done := make(chan struct{})
	go func() {
		defer close(done)
		code, text := direct(h)(bs[0])
		l.answered(ids[0], code, text)
	}()
	advance(700 * time.Millisecond) // past the first lease
	code, text := direct(h)(bs[0])
	l.answered(ids[0], code, text)
	assert.Equal(t, http.StatusConflict, code, "status of the resend during the overdue Handle (%q)", text)
	<-done
	l.check(t, ids)
	assert.Equal(t, context.DeadlineExceeded.Error(), ctxErr.Load(), "Handle's ctx.Err() after HandleTimeout")
	assert.Contains(t, logs.String(), "level=ERROR", "log: want an error about the overdue Handle")
	assert.Contains(t, logs.String(), "past HandleTimeout", "log: want an error about the overdue Handle")
}

// orderStore records the order of the calls a delivery makes, and holds
// the first renewal until unblock is closed.
type orderStore struct {
	beecloud.MemStore
	mu       sync.Mutex
	events   []string
	tokens   map[string]bool
	renewing chan struct{}
	unblock  chan struct{}
}

func (s *orderStore) event(e string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
}

func (s *orderStore) Claim(ctx context.Context, key, token string, lease time.Duration) (beecloud.ClaimState, error) {
	s.mu.Lock()
	renewal := s.tokens[token]
	s.tokens[token] = true
	s.mu.Unlock()
	if !renewal {
		s.event("claim")
		return s.MemStore.Claim(ctx, key, token, lease)
	}
	s.event("renewal starts")
	close(s.renewing)
	<-s.unblock
	st, err := s.MemStore.Claim(ctx, key, token, lease)
	s.event("renewal ends")
	return st, err
}

func (s *orderStore) Release(ctx context.Context, key, token string) error {
	s.event("release")
	return s.MemStore.Release(ctx, key, token)
}

// TestWebhookHandlerReleaseAfterRenewal fails Handle while a renewal is
// under way: the claim is released only after the renewal returned, so
// that the renewal cannot bring back a claim that was let go, and the
// resend runs Handle at once rather than after the lease.
func TestWebhookHandlerReleaseAfterRenewal(t *testing.T) {
	synctest.Test(t, testReleaseAfterRenewal)
}

func testReleaseAfterRenewal(t *testing.T) {
	store := &orderStore{tokens: map[string]bool{}, renewing: make(chan struct{}), unblock: make(chan struct{})}
	var calls atomic.Int32
	h := &beecloud.WebhookHandler{
		Apps:  beecloud.Apps{handlerConfig},
		Store: store,
		Lease: beecloud.MinLease,
		Handle: func(ctx context.Context, n *beecloud.Notification) error {
			if calls.Add(1) > 1 {
				return nil
			}
			<-store.renewing
			time.AfterFunc(50*time.Millisecond, func() { close(store.unblock) })
			return errors.New("database blip")
		},
		Logger: quietLogger(),
	}
	_, bs := bodies(1, "renewrel")
	code, _ := direct(h)(bs[0])
	require.Equal(t, http.StatusInternalServerError, code, "first delivery's status")
	store.mu.Lock()
	got := strings.Join(store.events, ", ")
	store.mu.Unlock()
	assert.Equal(t, "claim, renewal starts, renewal ends, release", got, "store calls")
	code, text := direct(h)(bs[0])
	assert.Equal(t, http.StatusOK, code, "status of the resend (%q): want success at once", text)
	assert.Equal(t, "success", text, "answer to the resend: want success at once")
}
