package storetest

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
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// FaultOptions configures [RunFaults]. NewInstance is required; the other
// fields have defaults.
type FaultOptions struct {
	// NewInstance returns the store of one handler instance, with
	// connections of its own to the backend through Proxy, as separate
	// processes would have. RunFaults calls it three times.
	NewInstance func(t *testing.T) beecloud.Store
	// Proxy, if not nil, stands between the stores and the backend:
	// RunFaults cuts every connection through it for CutFor at random
	// moments while it sends.
	Proxy *Proxy
	// CutFor is how long each cut of Proxy lasts; zero means 1s.
	CutFor time.Duration
	// Restart, if not nil, stops the backend and starts it again (its
	// data kept, as a database restarted by its operator): RunFaults
	// calls it RestartCount times at random moments while it sends, each
	// time with the number of the restart from 1, and fails t if it
	// returns an error.
	Restart      func(n int) error
	RestartCount int // zero means 1 when Restart is set

	// Effect, if not nil, is the merchant's effect for a successful
	// Handle, such as marking the order paid: RunFaults's Handle calls it
	// with Handle's context. Nil means an effect recorded in the test's
	// memory. Effects counts the effects of a transaction id, as the
	// merchant's own records show them; it is required with Effect.
	// RunFaults reads it each time a delivery is answered "success" and at
	// the end, retrying while it fails (the backend may be restarting).
	Effect  func(ctx context.Context, n *beecloud.Notification) error
	Effects func(ctx context.Context, transactionID string) (int, error)
	// EffectRollsBack says that a Handle which fails or panics after
	// Effect undoes it, because Effect writes in the store's transaction
	// (a beecloud.TxStore). RunFaults's failing and panicking Handle calls
	// then run Effect first, to check the rollback; otherwise they fail
	// before it.
	EffectRollsBack bool

	// Transactions is how many transactions are sent; zero means 200.
	Transactions int
	// Spread is the time over which the first deliveries of the
	// transactions are sent; zero means 10s. Faults happen during it.
	Spread time.Duration
	// Lease is the handlers' Lease; zero means 3s.
	Lease time.Duration
	// Timeout bounds the whole run: a transaction not answered "success"
	// by then is lost. Zero means Spread plus 3 minutes: BeeCloud resends
	// for a day and a half, and a loaded machine may take minutes to
	// recover from the faults. A healthy run ends long before.
	Timeout time.Duration
}

// Shares of RunFaults's Handle calls that fail, panic or run longer than
// the lease, and of its deliveries whose client hangs up early.
const (
	faultFailRate   = 0.20
	faultPanicRate  = 0.05
	faultSlowRate   = 0.02
	faultHangupRate = 0.10
	faultSenders    = 2   // concurrent deliveries of each transaction
	faultLateRate   = 0.3 // share of transactions delivered once more after success
	faultInstances  = 3
)

// errFault is what Handle returns when RunFaults makes it fail.
var errFault = errors.New("storetest: planned Handle failure")

// FaultReport is what [RunFaults] measured. RunFaults logs it and checks
// that HandledTwice, SuccessWithoutEffect and Lost are zero.
type FaultReport struct {
	Transactions int
	Deliveries   int         // HTTP requests sent
	Answers      map[int]int // by status code; 0 for no answer (hang-up, reset)
	HungUp       int         // deliveries whose client hung up early
	HandleCalls  int
	Failed       int // Handle calls that returned an error on purpose
	Panicked     int // Handle calls that panicked on purpose
	Slow         int // Handle calls that ran 1.5 leases
	Overlaps     int // Handle calls that started while another ran for the same transaction
	Cuts         int // cuts of the proxy
	Restarts     int // restarts of the backend
	ErrorLogs    int // records the handlers logged at error level
	Elapsed      time.Duration

	HandledTwice int // transactions whose effect exists more than once
	// Explained counts the transactions handled twice by the documented
	// exception the handlers' own records announce for them; Unexplained
	// those whose records announce none.
	Explained            map[Exception]int
	Unexplained          int
	SuccessWithoutEffect int // "success" answers for a transaction with no effect yet
	Lost                 int // transactions with no effect at the end
}

func (r *FaultReport) String() string {
	codes := slices.Sorted(func(yield func(int) bool) {
		for c := range r.Answers {
			if !yield(c) {
				return
			}
		}
	})
	var answers []string
	for _, c := range codes {
		name := fmt.Sprint(c)
		if c == 0 {
			name = "none"
		}
		answers = append(answers, fmt.Sprintf("%s:%d", name, r.Answers[c]))
	}
	var explained []string
	for _, e := range []Exception{LeaseRanOut, ClaimLost, CompletionAbandoned} {
		if n := r.Explained[e]; n != 0 {
			explained = append(explained, fmt.Sprintf("%s %d", e, n))
		}
	}
	if len(explained) == 0 {
		explained = []string{"none"}
	}
	return fmt.Sprintf("%d transactions, %d deliveries (answers %s; %d hung up early), "+
		"%d Handle calls (%d failed, %d panicked, %d slow, %d overlapping), %d cuts, %d restarts, %d error logs, %v: "+
		"handled twice %d (explained: %s; unexplained %d), success without effect %d, lost %d",
		r.Transactions, r.Deliveries, strings.Join(answers, " "), r.HungUp,
		r.HandleCalls, r.Failed, r.Panicked, r.Slow, r.Overlaps, r.Cuts, r.Restarts, r.ErrorLogs, r.Elapsed.Round(time.Millisecond),
		r.HandledTwice, strings.Join(explained, ", "), r.Unexplained, r.SuccessWithoutEffect, r.Lost)
}

// RunFaults checks that a store keeps the exactly-once promise of
// [beecloud.WebhookHandler] through the faults of a real deployment. Three
// handler instances, each with its own store from opts.NewInstance, each
// behind its own httptest.Server, receive opts.Transactions transactions.
// Each is delivered by two concurrent senders that resend, to a random
// instance, until they are answered "success", on a fast version of
// BeeCloud's doubling schedule; some are delivered once more after that.
// Meanwhile 20% of the Handle calls fail, 5% panic and 2% outlast the
// lease, 10% of the clients hang up before the answer, opts.Proxy cuts
// the store's connections, and opts.Restart restarts the backend.
//
// Each outage (a cut, a restart) is shorter than the lease, and the next
// cut comes after the last one ended: the handlers' renewals must keep
// their claims through them. A store unreachable for longer than the lease
// lets a resend take over the claim of a Handle still running; if that
// Handle ignores its cancelled context, its effect is written twice,
// unless the store is a beecloud.TxStore whose transaction holds it (the
// loser's commit is refused). No lease can prevent that, so RunFaults does
// not provoke it.
//
// The merchant's own effects are the judge. RunFaults logs a
// [FaultReport] and fails t unless every transaction's effect exists
// exactly once at the end (none handled twice, none lost) and every
// "success" was answered for a transaction whose effect already existed.
// For the first transactions that break the promise it logs their
// histories: every delivery, store call and Handle, in order.
func RunFaults(t *testing.T, opts FaultOptions) *FaultReport {
	t.Helper()
	if opts.NewInstance == nil {
		t.Fatal("storetest: FaultOptions.NewInstance is nil")
	}
	if (opts.Effect == nil) != (opts.Effects == nil) {
		t.Fatal("storetest: FaultOptions.Effect and Effects go together")
	}
	if opts.CutFor <= 0 {
		opts.CutFor = time.Second
	}
	if opts.Restart != nil && opts.RestartCount <= 0 {
		opts.RestartCount = 1
	}
	if opts.Transactions <= 0 {
		opts.Transactions = 200
	}
	if opts.Spread <= 0 {
		opts.Spread = 10 * time.Second
	}
	if opts.Lease <= 0 {
		opts.Lease = 3 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = opts.Spread + 3*time.Minute
	}
	f := &faultRun{opts: opts, t: t, handled: map[string]int{}, running: map[string]int{}, traces: map[string][]string{},
		acked: map[string]time.Duration{}, grants: map[string][]grant{}, releases: map[string][]grant{}}
	seed := rand.Uint64()
	t.Logf("storetest: RunFaults seed %d", seed)
	f.rng = rand.New(rand.NewPCG(seed, seed^0x5eed))
	if f.opts.Effect == nil {
		f.opts.Effect = f.memEffect
		f.opts.Effects = f.memEffects
	}
	return f.run()
}

type faultRun struct {
	opts FaultOptions
	t    *testing.T

	rngMu sync.Mutex
	rng   *rand.Rand

	mu       sync.Mutex
	handled  map[string]int // in-memory effects, when opts.Effect is nil
	running  map[string]int // Handle calls under way per transaction
	early    []string       // transactions answered success before their effect existed
	report   FaultReport
	problems []string // first few descriptions of failures

	start  time.Time
	traceM sync.Mutex
	traces map[string][]string // what happened to each transaction, in order
	// acked is, per transaction, when the first completion the store
	// acknowledged (a Complete or CompleteTx that returned nil) returned;
	// grants are the Claims answered ClaimOK, releases the Releases sent.
	acked    map[string]time.Duration
	grants   map[string][]grant
	releases map[string][]grant
}

// trace notes an event in the history of transaction id, printed if the
// transaction breaks the promise.
func (f *faultRun) trace(id, format string, args ...any) {
	line := fmt.Sprintf("%8.3fs ", time.Since(f.start).Seconds()) + fmt.Sprintf(format, args...)
	f.traceM.Lock()
	defer f.traceM.Unlock()
	f.traces[id] = append(f.traces[id], line)
}

// idOf returns the transaction id of a store key, app:type:id.
func idOf(key string) string { return key[strings.LastIndexByte(key, ':')+1:] }

// tracedStore records every call of the store of instance inst in the
// history of its transaction.
type tracedStore struct {
	s    beecloud.Store
	inst int
	f    *faultRun
}

// grant is a Claim answered ClaimOK (or a Release sent), with when it was
// sent and when it returned, since the start of the run.
type grant struct {
	token          string
	sent, returned time.Duration
	lease          time.Duration
}

// noteGrant records a Claim of id answered ClaimOK.
func (f *faultRun) noteGrant(id string, g grant) {
	f.traceM.Lock()
	defer f.traceM.Unlock()
	f.grants[id] = append(f.grants[id], g)
}

// noteRelease records a Release of id, whatever its answer: it may have
// taken effect.
func (f *faultRun) noteRelease(id string, g grant) {
	f.traceM.Lock()
	defer f.traceM.Unlock()
	f.releases[id] = append(f.releases[id], g)
}

// noteAck records that a completion of id was acknowledged now.
func (f *faultRun) noteAck(id string) {
	now := time.Since(f.start)
	f.traceM.Lock()
	defer f.traceM.Unlock()
	if at, ok := f.acked[id]; !ok || now < at {
		f.acked[id] = now
	}
}

// storeBroke returns, if the store's own answers about id prove that it
// lost an acknowledged write or broke its contract, whatever the handlers
// did, what they prove; otherwise "". Two proofs, from the times measured
// around the calls (a call takes effect between its sending and its
// return; a lease lasts at least lease from the sending of the Claim that
// granted it):
//   - a Claim sent after a completion was acknowledged was granted;
//   - a Claim by one token was granted, and returned, while a lease that
//     the store had granted another token earlier was still running, and
//     that token had sent no Release.
func (f *faultRun) storeBroke(id string) string {
	f.traceM.Lock()
	defer f.traceM.Unlock()
	if at, ok := f.acked[id]; ok {
		for _, g := range f.grants[id] {
			if g.sent > at {
				return fmt.Sprintf("the store granted %s a claim sent at %.3fs, after it had acknowledged the completion at %.3fs: it lost an acknowledged write",
					g.token, g.sent.Seconds(), at.Seconds())
			}
		}
	}
	for _, a := range f.grants[id] {
		for _, b := range f.grants[id] {
			if a.token == b.token || a.returned > b.sent || b.returned >= a.sent+a.lease {
				continue
			}
			released := false
			for _, r := range f.releases[id] {
				if r.token == a.token && r.sent < b.returned {
					released = true
				}
			}
			if !released {
				return fmt.Sprintf("the store granted %s a claim (sent %.3fs, returned %.3fs) while %s's lease, granted by a claim sent at %.3fs that returned at %.3fs, still ran: it lost an acknowledged claim",
					b.token, b.sent.Seconds(), b.returned.Seconds(), a.token, a.sent.Seconds(), a.returned.Seconds())
			}
		}
	}
	return ""
}

func (s tracedStore) Claim(ctx context.Context, key, token string, lease time.Duration) (beecloud.ClaimState, error) {
	t0 := time.Since(s.f.start)
	st, err := s.s.Claim(ctx, key, token, lease)
	answer := st.String()
	if err != nil {
		answer = "error: " + err.Error()
	} else if st == beecloud.ClaimOK {
		s.f.noteGrant(idOf(key), grant{token: token, sent: t0, returned: time.Since(s.f.start), lease: lease})
	}
	s.f.trace(idOf(key), "i%d Claim %s -> %s (sent at %.3fs)", s.inst, token, answer, t0.Seconds())
	return st, err
}

func (s tracedStore) Complete(ctx context.Context, key, token string) error {
	t0 := time.Since(s.f.start)
	err := s.s.Complete(ctx, key, token)
	if err == nil {
		s.f.noteAck(idOf(key))
	}
	s.f.trace(idOf(key), "i%d Complete %s -> %v (sent at %.3fs)", s.inst, token, errText(err), t0.Seconds())
	return err
}

func (s tracedStore) Release(ctx context.Context, key, token string) error {
	t0 := time.Since(s.f.start)
	s.f.noteRelease(idOf(key), grant{token: token, sent: t0})
	err := s.s.Release(ctx, key, token)
	s.f.trace(idOf(key), "i%d Release %s -> %v (sent at %.3fs)", s.inst, token, errText(err), t0.Seconds())
	return err
}

// tracedTxStore is a tracedStore of a beecloud.TxStore, which stays one.
type tracedTxStore struct {
	tracedStore
	tx beecloud.TxStore
}

func (s tracedTxStore) CompleteTx(ctx context.Context, key, token string, work func(ctx context.Context) error) error {
	t0 := time.Since(s.f.start)
	s.f.trace(idOf(key), "i%d CompleteTx %s begins", s.inst, token)
	err := s.tx.CompleteTx(ctx, key, token, work)
	if err == nil {
		s.f.noteAck(idOf(key))
	}
	s.f.trace(idOf(key), "i%d CompleteTx %s -> %v (began at %.3fs)", s.inst, token, errText(err), t0.Seconds())
	return err
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return "error: " + err.Error()
}

func (f *faultRun) float() float64 {
	f.rngMu.Lock()
	defer f.rngMu.Unlock()
	return f.rng.Float64()
}

func (f *faultRun) intN(n int) int {
	f.rngMu.Lock()
	defer f.rngMu.Unlock()
	return f.rng.IntN(n)
}

func (f *faultRun) duration(upTo time.Duration) time.Duration {
	return time.Duration(f.float() * float64(upTo))
}

func (f *faultRun) memEffect(_ context.Context, n *beecloud.Notification) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handled[n.TransactionID]++
	return nil
}

func (f *faultRun) memEffects(_ context.Context, id string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.handled[id], nil
}

func (f *faultRun) problem(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.problems) < 10 {
		f.problems = append(f.problems, fmt.Sprintf(format, args...))
	}
}

// handle is the merchant's Handle: it fails, panics, runs long or calls
// the effect, at random.
func (f *faultRun) handle(ctx context.Context, n *beecloud.Notification) error {
	id := n.TransactionID
	f.mu.Lock()
	f.report.HandleCalls++
	f.running[id]++
	if f.running[id] > 1 {
		f.report.Overlaps++
	}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.running[id]--
		f.mu.Unlock()
	}()

	r := f.float()
	defer func() {
		if p := recover(); p != nil {
			f.trace(id, "Handle panics")
			panic(p)
		}
	}()
	fail := r < faultFailRate
	panics := !fail && r < faultFailRate+faultPanicRate
	slow := !fail && !panics && r < faultFailRate+faultPanicRate+faultSlowRate
	// A few milliseconds of work widen the windows in which a duplicate,
	// a cut or a restart can fall.
	f.trace(id, "Handle starts (fail %v, panic %v, slow %v)", fail, panics, slow)
	time.Sleep(f.duration(3 * time.Millisecond))
	if slow {
		f.count(func(r *FaultReport) { r.Slow++ })
		// Ignores ctx, as careless merchant code does: the handler must
		// keep the claim by renewing its lease.
		time.Sleep(f.opts.Lease * 3 / 2)
	}
	if (fail || panics) && !f.opts.EffectRollsBack {
		return f.fault(panics)
	}
	if err := f.opts.Effect(ctx, n); err != nil {
		f.trace(id, "Handle: effect failed: %v", err)
		return err
	}
	f.trace(id, "Handle: effect written")
	if fail || panics {
		return f.fault(panics)
	}
	f.trace(id, "Handle returns nil")
	return nil
}

func (f *faultRun) fault(panics bool) error {
	if panics {
		f.count(func(r *FaultReport) { r.Panicked++ })
		panic("storetest: planned Handle panic")
	}
	f.count(func(r *FaultReport) { r.Failed++ })
	return errFault
}

func (f *faultRun) count(fn func(r *FaultReport)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(&f.report)
}

// effects reads opts.Effects for id, retrying while the backend fails.
func (f *faultRun) effects(id string, deadline time.Time) (int, error) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		n, err := f.opts.Effects(ctx, id)
		cancel()
		if err == nil || time.Now().After(deadline) {
			return n, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (f *faultRun) run() *FaultReport {
	t := f.t
	cfg := beecloud.Config{
		AppID:        "c5d1cba1-5e3f-4ba0-941d-9b0a09f7a7c4",
		MasterSecret: "storetest-master-secret-" + randomID(),
	}
	logs := NewHandlerLog()
	f.start = time.Now()
	servers := make([]*httptest.Server, faultInstances)
	for i := range servers {
		var store beecloud.Store = tracedStore{f.opts.NewInstance(t), i, f}
		if tx, ok := store.(tracedStore).s.(beecloud.TxStore); ok {
			store = tracedTxStore{store.(tracedStore), tx}
		}
		h := &beecloud.WebhookHandler{
			Apps:   beecloud.Apps{cfg},
			Store:  store,
			Handle: f.handle,
			Lease:  f.opts.Lease,
			Logger: slog.New(logs.Handler()),
		}
		srv := httptest.NewUnstartedServer(h)
		// net/http logs the planned panics with their stacks.
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.Start()
		servers[i] = srv
		t.Cleanup(srv.Close)
	}

	start := f.start
	deadline := start.Add(f.opts.Timeout)
	stopFaults := make(chan struct{})
	var faults sync.WaitGroup
	if p := f.opts.Proxy; p != nil {
		faults.Add(1)
		go func() {
			defer faults.Done()
			for {
				select {
				case <-stopFaults:
					return
				// Each cut lasts CutFor and the next one comes at least
				// half of that after its end: outages do not run together
				// into a longer one.
				case <-time.After(f.opts.CutFor/2 + f.duration(2*f.opts.CutFor)):
				}
				p.Cut(f.opts.CutFor)
				time.Sleep(f.opts.CutFor)
			}
		}()
	}
	if f.opts.Restart != nil {
		faults.Add(1)
		go func() {
			defer faults.Done()
			slot := f.opts.Spread / time.Duration(f.opts.RestartCount)
			for i := range f.opts.RestartCount {
				at := start.Add(time.Duration(i)*slot + slot/4 + f.duration(slot/2))
				select {
				case <-stopFaults:
					return
				case <-time.After(time.Until(at)):
				}
				if err := f.opts.Restart(i + 1); err != nil {
					t.Errorf("storetest: restarting the backend: %v", err)
					return
				}
				f.count(func(r *FaultReport) { r.Restarts++ })
			}
		}()
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	t.Cleanup(client.CloseIdleConnections)
	answers := &statusTally{counts: map[int]int{}}
	run := randomID()
	ids := make([]string, f.opts.Transactions)
	var (
		senders   sync.WaitGroup
		succeeded = make([]atomic.Bool, len(ids))
	)
	for i := range ids {
		ids[i] = fmt.Sprintf("ft%s%04d", run, i)
		body := beecloudtest.NotificationBody(cfg, beecloud.Notification{
			ChannelType:     "ALI",
			SubChannelType:  "ALI_WEB",
			TransactionType: beecloud.TransactionPay,
			TransactionID:   ids[i],
			TransactionFee:  int64(100 + i),
			TradeSuccess:    true,
		})
		first := start.Add(f.duration(f.opts.Spread))
		late := f.float() < faultLateRate
		for s := range faultSenders {
			senders.Add(1)
			go func() {
				defer senders.Done()
				time.Sleep(time.Until(first))
				if f.send(client, servers, ids[i], body, deadline, answers) {
					succeeded[i].Store(true)
				}
				if late && s == 0 {
					// A duplicate after "success", as BeeCloud sends
					// when that answer was lost on its way.
					time.Sleep(f.duration(time.Second))
					f.send(client, servers, ids[i], body, deadline, answers)
				}
			}()
		}
	}
	// Faults go on for the whole spread, then stop so that every
	// transaction can finish.
	time.Sleep(time.Until(start.Add(f.opts.Spread)))
	close(stopFaults)
	faults.Wait()
	senders.Wait()

	// Every Handle has returned once no delivery is under way, except the
	// abandoned ones of hung-up clients: wait out the longest Handle.
	time.Sleep(f.opts.Lease*3/2 + 100*time.Millisecond)
	f.mu.Lock()
	rep := f.report
	f.mu.Unlock()
	rep.Transactions = len(ids)
	rep.Answers = answers.counts
	if f.opts.Proxy != nil {
		rep.Cuts = f.opts.Proxy.Cuts()
	}
	rep.ErrorLogs = logs.Errors()
	rep.Explained = map[Exception]int{}
	final := time.Now().Add(30 * time.Second)
	var broken, unexplained []string
	for i, id := range ids {
		n, err := f.effects(id, final)
		switch {
		case err != nil:
			t.Errorf("storetest: counting the effects of %s: %v", id, err)
		case n > 1:
			rep.HandledTwice++
			ex := logs.Exception(id)
			if broke := f.storeBroke(id); broke != "" {
				// Whatever the handlers logged, no lease that ran out lets
				// the store answer so.
				ex = NoException
				f.problem("transaction %s: %s", id, broke)
			}
			if ex == NoException {
				rep.Unexplained++
				unexplained = append(unexplained, id)
			} else {
				rep.Explained[ex]++
			}
			f.problem("transaction %s: effect %d times; the handlers' records explain it by: %v", id, n, ex)
			broken = append(broken, id)
		case n == 0:
			rep.Lost++
			f.problem("transaction %s: no effect (answered success: %v)", id, succeeded[i].Load())
			broken = append(broken, id)
		}
	}
	f.mu.Lock()
	problems := f.problems
	broken = append(broken, f.early...)
	f.mu.Unlock()
	rep.Elapsed = time.Since(start)
	t.Logf("storetest: RunFaults: %v", &rep)
	for _, m := range logs.Top(5) {
		t.Logf("storetest: handlers logged %s", m)
	}
	for _, p := range problems {
		t.Logf("storetest: %s", p)
	}
	// The histories of the first broken transactions: the interleaving
	// that broke the promise.
	f.traceM.Lock()
	for _, id := range broken[:min(3, len(broken))] {
		t.Logf("storetest: history of %s:\n\t%s", id, strings.Join(f.traces[id], "\n\t"))
	}
	f.traceM.Unlock()
	// A double that the handlers' own records explain is a documented
	// exception (a lease that ran out unrenewed): reported, not failed.
	if rep.Unexplained != 0 || rep.SuccessWithoutEffect != 0 || rep.Lost != 0 {
		shown := append(unexplained[:min(3, len(unexplained)):min(3, len(unexplained))], f.early[:min(2, len(f.early))]...)
		t.Errorf("storetest: exactly-once broken: handled twice %d (unexplained %d), success without effect %d, lost %d; want no unexplained double, 0, 0\n%s",
			rep.HandledTwice, rep.Unexplained, rep.SuccessWithoutEffect, rep.Lost, logs.Tail(shown, 200))
	}
	return &rep
}

// send delivers body until it is answered "success", and reports whether
// it was before deadline.
func (f *faultRun) send(client *http.Client, servers []*httptest.Server, id string, body []byte, deadline time.Time, answers *statusTally) bool {
	// BeeCloud waits 2s, 4s, 8s, …; this is the same doubling, faster.
	wait := 20 * time.Millisecond
	for time.Now().Before(deadline) {
		inst := f.intN(len(servers))
		sent := time.Since(f.start)
		status, text := f.attempt(client, servers[inst].URL, body)
		f.trace(id, "delivery to i%d answered %d %q (sent at %.3fs)", inst, status, text, sent.Seconds())
		answers.add(status)
		switch {
		case status == http.StatusOK && text == "success":
			// The merchant's records must show the effect by now.
			n, err := f.effects(id, time.Now().Add(30*time.Second))
			if err != nil {
				f.t.Errorf("storetest: counting the effects of %s: %v", id, err)
			} else if n == 0 {
				f.count(func(r *FaultReport) { r.SuccessWithoutEffect++ })
				f.problem("transaction %s answered success with no effect", id)
				f.mu.Lock()
				f.early = append(f.early, id)
				f.mu.Unlock()
			}
			return true
		case status == http.StatusBadRequest, status == http.StatusForbidden,
			status == http.StatusMethodNotAllowed, status == http.StatusRequestEntityTooLarge:
			f.t.Errorf("storetest: delivery of %s answered %d %q: the test sends genuine webhooks", id, status, text)
			return false
		}
		time.Sleep(wait/2 + f.duration(wait))
		wait = min(2*wait, 500*time.Millisecond)
	}
	return false
}

// attempt posts body once and returns the answer; status 0 means none (the
// client hung up, or the connection broke).
func (f *faultRun) attempt(client *http.Client, url string, body []byte) (int, string) {
	f.count(func(r *FaultReport) { r.Deliveries++ })
	ctx := context.Background()
	if f.float() < faultHangupRate {
		f.count(func(r *FaultReport) { r.HungUp++ })
		c, cancel := context.WithTimeout(ctx, f.duration(20*time.Millisecond))
		defer cancel()
		ctx = c
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		f.t.Errorf("storetest: %v", err)
		return 0, ""
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, ""
	}
	return resp.StatusCode, string(text)
}

// statusTally counts answers by status code.
type statusTally struct {
	mu     sync.Mutex
	counts map[int]int
}

func (t *statusTally) add(status int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.counts[status]++
}
