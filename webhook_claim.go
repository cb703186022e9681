package beecloud

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Timing of the store calls a delivery makes.
const (
	// completeInline is how long a delivery retries Store.Complete before
	// it answers and leaves the rest to the background.
	completeInline = 3 * time.Second
	// completeBackground is how long the background keeps retrying.
	completeBackground = time.Hour
	// storeCallTimeout bounds one Store call after the claim: Complete,
	// Release, or the Claim that checks a failed commit.
	storeCallTimeout = 10 * time.Second
)

// How one delivery's store calls interleave with everything else, case
// by case, as the code below handles them.
//
//  1. A duplicate while Handle runs: its Claim finds the holder's claim,
//     renewed by the heartbeat, and answers 409, however long Handle takes.
//     Every Store, a MemStore too, takes this one path.
//  2. A renewal and a Release: stop waits for a renewal under way before
//     Release, so no renewal re-creates a released claim.
//  3. A renewal and Complete: renewals go on while Complete is retried. A
//     renewal after the completion sees ClaimDone and changes nothing; seen
//     after Handle succeeded, it means a Complete whose answer was lost
//     landed, and the retries stop.
//  4. The claim lost: a renewal finds ClaimBusy (the lease ran out during
//     an outage and a resend took over) or, before Handle returned,
//     ClaimDone. Handle's context is cancelled with ErrClaimLost and it is
//     logged at error level; if Handle succeeds anyway its completion is
//     still recorded (the work happened), and Release does nothing.
//  5. The store down while the claim is held: renewals are retried every
//     Lease/10. Once the lease has certainly run out by the local clock
//     (from the start of the last renewal that succeeded) it is logged at
//     error level. No other delivery can claim while the store is down;
//     when it comes back, the first of a renewal and a resend's Claim
//     wins, and if the resend wins, case 4.
//  6. Complete failing for the whole inline budget: the answer is success
//     and the heartbeat and the retries go on in the background for up to
//     completeBackground. Duplicates get 409 while the claim lives, 503
//     while the store is down, success once the completion landed. If the
//     background gives up, the claim runs out and a later duplicate runs
//     Handle again, logged at error level.
//  7. The process dying between Handle and the completion: the claim runs
//     out and a resend runs Handle again. With a TxStore nothing was
//     committed, so that resend starts from a clean slate.
//  8. A TxStore's CompleteTx failing after Handle returned nil: Claim with
//     the same token tells ClaimDone (committed: success), ClaimOK (not
//     committed and still held: Release, 503), ClaimBusy (taken over, so
//     the commit was refused: 409), or nothing while the store is down
//     (Release, a no-op if done, and 503: the resend finds out).
//  9. Handle or ExpectedAmount panicking: the heartbeat stops, the claim is
//     released and the panic goes on to the server, which answers nothing;
//     BeeCloud resends.
//  10. BeeCloud hanging up: the store calls and Handle run on a context
//     without its cancellation, so the work and its record go on.
//  11. trade_success false: refused before Claim, so a replay that flips it
//     can neither reach Handle nor mark the transaction done.

// handle claims n, runs ExpectedAmount and Handle under the claim, and
// records the completion. It returns the outcome and, unless n was
// handled, the error behind it. It is the one path every verified
// notification takes.
func (h *WebhookHandler) handle(ctx context.Context, log *deliveryLog, n *Notification) (outcome, error) {
	if !n.TradeSuccess {
		// trade_success is not signed: a replay may have flipped it. Refused
		// before the Store, so that it neither reaches Handle nor marks the
		// transaction done, and the genuine message is handled when resent.
		log.warn("beecloud: webhook refused: trade_success is false")
		return outNotSuccessful, errors.New("trade_success is false")
	}
	// Every Store call outlives BeeCloud hanging up: a Handle cut short, or
	// a completion not recorded, would only mean a resend.
	base := context.WithoutCancel(ctx)
	// The records about this delivery may outlive the request too (the
	// heartbeat's, the background's).
	log.ctx = base
	// HandleTimeout runs from the claim: its context bounds the Claim
	// call, and then ExpectedAmount and Handle.
	timeout := h.handleTimeout()
	timed, cancel := context.WithTimeout(base, timeout)
	defer cancel()
	c, o, err := h.claim(timed, base, log, n)
	if c == nil {
		return o, err
	}
	// Handle's context ends at HandleTimeout, when Handle returns, or with
	// cause ErrClaimLost.
	work, lose := context.WithCancelCause(timed)
	defer lose(nil)
	c.timeout = timeout
	c.hold(lose)

	finished := false
	defer func() {
		if !finished {
			// Handle or ExpectedAmount panicked: let go of the claim so that
			// the next delivery may try at once, and let the panic go on.
			c.stop()
			c.release(base)
		}
	}()
	if tx, ok := c.store.(TxStore); ok {
		o, err = h.runTx(work, base, tx, c, n)
	} else {
		o, err = h.run(work, base, c, n)
	}
	finished = true
	return o, err
}

// claim claims n's transaction for a new delivery token, calling the
// Store under ctx; the claim's later store calls use base. It returns the
// claim if it was granted, or else nil and the outcome.
func (h *WebhookHandler) claim(ctx, base context.Context, log *deliveryLog, n *Notification) (*claim, outcome, error) {
	lease := h.Lease
	switch {
	case lease <= 0:
		lease = DefaultLease
	case lease < MinLease:
		lease = MinLease // Validate refuses it; handle may be reached without Validate
	}
	c := &claim{base: base, store: h.store(), key: n.Key(), token: newDeliveryToken(), lease: lease, log: log}
	c.started = time.Now()
	state, err := c.store.Claim(ctx, c.key, c.token, lease)
	switch {
	case err != nil:
		log.error("beecloud: webhook store failed to claim the transaction", slog.Any("err", err))
		return nil, outStoreFailed, fmt.Errorf("claiming the transaction: %w", err)
	case state == ClaimOK && time.Since(c.started) >= lease:
		// The answer came later than the lease (a slow store, a starved
		// process): another delivery may hold the claim by now, and Handle
		// run under it could run twice. Let it go; BeeCloud sends again.
		c.release(base)
		log.warn("beecloud: webhook claim granted too late to be used: the store answered after the lease",
			slog.Duration("lease", lease), slog.Duration("elapsed", time.Since(c.started)))
		return nil, outStoreFailed, errors.New("claiming the transaction: the store answered after the lease")
	case state == ClaimOK:
		return c, 0, nil
	case state == ClaimDone:
		log.info("beecloud: webhook already handled")
		return nil, outHandled, nil
	case state == ClaimBusy:
		log.info("beecloud: webhook is being handled by another delivery")
		return nil, outBusy, ErrBusy
	}
	log.error("beecloud: webhook store answered an unknown claim state", slog.String("state", state.String()))
	return nil, outStoreFailed, fmt.Errorf("claiming the transaction: unknown claim state %v", state)
}

// checkAmount asks ExpectedAmount about a payment or a refund. It returns
// an error, and why, if n must not reach Handle.
func (h *WebhookHandler) checkAmount(ctx context.Context, log *deliveryLog, n *Notification) (outcome, error) {
	if h.ExpectedAmount == nil || (n.TransactionType != TransactionPay && n.TransactionType != TransactionRefund) {
		return 0, nil
	}
	want, err := h.ExpectedAmount(ctx, n)
	if err != nil {
		log.error("beecloud: webhook amount lookup failed", slog.Any("err", err))
		return outAmountLookupFailed, fmt.Errorf("ExpectedAmount: %w", err)
	}
	if want != n.TransactionFee {
		err := fmt.Errorf("%w: transaction_fee is %d 分, the merchant's records say %d", ErrAmountMismatch, n.TransactionFee, want)
		log.error("beecloud: webhook refused: the amount differs from the merchant's records", slog.Any("err", err), slog.Int64("expected", want))
		return outAmountMismatch, err
	}
	return 0, nil
}

// run runs ExpectedAmount and Handle under c, then records the completion
// with Complete.
func (h *WebhookHandler) run(work, base context.Context, c *claim, n *Notification) (outcome, error) {
	log := c.log
	if o, err := h.checkAmount(work, log, n); err != nil {
		c.stop()
		c.release(base)
		return o, err
	}
	err := h.Handle(work, n)
	c.handleReturned(work, err)
	if err != nil {
		c.stop()
		c.release(base)
		log.error("beecloud: webhook Handle failed", slog.Any("err", err))
		return outHandleFailed, err
	}
	attempts, err := c.complete(base, h.budget(h.inlineBudget, completeInline), 500*time.Millisecond)
	if err == nil {
		c.stop()
		if attempts > 1 {
			log.warn("beecloud: webhook handled; recording it took several attempts", slog.Int("attempts", attempts))
		} else {
			log.info("beecloud: webhook handled")
		}
		return outHandled, nil
	}
	// Handle did its work: answering anything but success would make
	// BeeCloud resend, for nothing but the risk of a second Handle. The
	// heartbeat goes on holding the claim while the background retries.
	log.error("beecloud: webhook handled but the store cannot record it yet; retrying in the background while holding the claim",
		slog.Any("err", err), slog.Int("attempts", attempts))
	h.background.Add(1)
	go func() {
		defer h.background.Done()
		defer c.stop()
		more, err := c.complete(base, h.budget(h.backgroundBudget, completeBackground), 5*time.Second)
		if err != nil {
			log.error("beecloud: webhook handled but its completion was never recorded; a later duplicate will be handled again",
				slog.Any("err", err), slog.Int("attempts", attempts+more))
			return
		}
		log.warn("beecloud: webhook completion recorded in the background", slog.Int("attempts", attempts+more))
	}()
	return outHandled, nil
}

// runTx runs ExpectedAmount, then Handle inside tx.CompleteTx.
func (h *WebhookHandler) runTx(work, base context.Context, tx TxStore, c *claim, n *Notification) (outcome, error) {
	log := c.log
	if o, err := h.checkAmount(work, log, n); err != nil {
		c.stop()
		c.release(base)
		return o, err
	}
	var (
		ran       bool
		handleErr error
	)
	err := tx.CompleteTx(work, c.key, c.token, func(ctx context.Context) error {
		ran = true
		handleErr = h.Handle(ctx, n)
		c.handleReturned(ctx, handleErr)
		return handleErr
	})
	c.stop()
	switch {
	case handleErr != nil:
		c.release(base)
		log.error("beecloud: webhook Handle failed", slog.Any("err", handleErr))
		return outHandleFailed, handleErr
	case !ran:
		if err == nil {
			err = errors.New("CompleteTx returned nil without running Handle")
		}
		c.release(base)
		log.error("beecloud: webhook store failed to start its transaction", slog.Any("err", err))
		return outStoreFailed, fmt.Errorf("CompleteTx: %w", err)
	case err == nil:
		log.info("beecloud: webhook handled")
		return outHandled, nil
	}
	// Handle returned nil, but the commit failed, was refused (the claim
	// was lost), or is in doubt: the claim's state tells which.
	return h.afterFailedCommit(base, c, err)
}

// afterFailedCommit finds out what became of a CompleteTx whose work
// succeeded but which returned err.
func (h *WebhookHandler) afterFailedCommit(base context.Context, c *claim, err error) (outcome, error) {
	log := c.log
	state, cerr := c.recheck(base, h.budget(h.inlineBudget, completeInline))
	switch {
	case cerr == nil && state == ClaimDone:
		log.warn("beecloud: webhook handled; the store reported an error but the commit happened", slog.Any("err", err))
		return outHandled, nil
	case cerr == nil && state == ClaimBusy:
		log.error("beecloud: webhook Handle rolled back: another delivery took the transaction over", slog.Any("err", err))
		return outBusy, fmt.Errorf("%w; Handle rolled back: %w", ErrBusy, err)
	case cerr == nil:
		c.release(base)
		log.error("beecloud: webhook Handle rolled back: the store failed to commit", slog.Any("err", err))
		return outStoreFailed, fmt.Errorf("the store failed to commit, so Handle rolled back: %w", err)
	}
	// Committed or not, the resend will find out: done, or a clean slate.
	c.release(base)
	log.error("beecloud: webhook commit in doubt and the store cannot tell; answering 503 so that BeeCloud sends again",
		slog.Any("err", err), slog.Any("claim_err", cerr))
	return outStoreFailed, fmt.Errorf("commit in doubt: %w (and the store cannot tell: %w)", err, cerr)
}

func (h *WebhookHandler) handleTimeout() time.Duration {
	if h.HandleTimeout > 0 {
		return h.HandleTimeout
	}
	return DefaultHandleTimeout
}

func (h *WebhookHandler) budget(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Shutdown waits until the completions h is still recording in the
// background (see [WebhookHandler]) have been recorded or given up, or
// until ctx is done, and returns ctx's error then. Call it after the
// http.Server's own Shutdown returned, before closing the Store: a process
// that exits with a completion unrecorded may see that transaction
// handled again. h keeps working after Shutdown.
func (h *WebhookHandler) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		h.background.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// newDeliveryToken returns a token that tells one delivery's claim from
// every other's, in this process and in others sharing the Store: a
// random prefix drawn once per process, and a counter. It makes no system
// call, unlike a fresh random number per delivery.
func newDeliveryToken() string {
	var buf [32]byte // 16 hex digits and at most 13 base-36 ones
	b := append(buf[:0], tokenPrefix...)
	return string(strconv.AppendUint(b, tokenCounter.Add(1), 36))
}

var (
	// tokenPrefix is 16 random hex digits: with 2^64 values, two
	// processes drawing the same one is not a concern.
	tokenPrefix  = randomHex(8)
	tokenCounter atomic.Uint64
)

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := crand.Read(b); err != nil {
		panic(err) // crypto/rand.Read does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

// claim is one delivery's hold on a transaction: a heartbeat renews it
// every third of the lease until it is stopped.
type claim struct {
	base       context.Context // for the store calls: the request's values, no cancellation
	store      Store
	key, token string
	lease      time.Duration
	log        *deliveryLog
	lose       context.CancelCauseFunc // cancels Handle's context
	started    time.Time
	beat       *time.Timer // the heartbeat

	mu        sync.Mutex
	until     time.Time // when the lease certainly ends in the store, by the local clock
	lost      ClaimState
	returned  bool          // Handle (or the work of CompleteTx) returned
	expired   bool          // the lease ran out unrenewed
	stopped   bool          // no more renewals
	renewing  chan struct{} // closed when the renewal under way ends
	doneSeen  bool          // a renewal found the key done
	handleErr error
	timeout   time.Duration // HandleTimeout
	overdue   bool          // Handle ran past timeout, and that was logged
}

// hold starts the heartbeat; lose cancels Handle's context if the claim
// turns out lost.
func (c *claim) hold(lose context.CancelCauseFunc) {
	c.mu.Lock() // the first beat must not read c.beat before it is set
	defer c.mu.Unlock()
	c.lose = lose
	c.until = c.started.Add(c.lease)
	c.beat = time.AfterFunc(c.lease/3, c.renew)
}

// renew runs on the heartbeat's timer: it claims the key again with the
// same token and arms the next beat.
func (c *claim) renew() {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return
	}
	running := make(chan struct{})
	c.renewing = running
	// A renewal that is slow (the store's pool is busy) is still of use
	// while the lease lasts.
	timeout := max(c.lease/3, time.Until(c.until))
	c.mu.Unlock()

	start := time.Now()
	ctx, cancel := context.WithTimeout(c.base, timeout)
	state, err := c.store.Claim(ctx, c.key, c.token, c.lease)
	cancel()

	c.mu.Lock()
	defer c.mu.Unlock()
	defer close(running)
	c.renewing = nil
	if start.After(c.until) {
		// The heartbeat came too late (a slow renewal before it, a starved
		// process): another delivery may have claimed meanwhile.
		c.ranOut(err, "renewal")
	}
	next := c.lease / 3
	if !c.returned && !c.overdue && time.Since(c.started) > c.timeout {
		// Its ctx has ended: a Handle that does not return holds the
		// transaction, and BeeCloud gives up resending after a day and a
		// half.
		c.overdue = true
		c.log.error("beecloud: webhook Handle still running past HandleTimeout; the transaction stays claimed until it returns",
			slog.Duration("handle_timeout", c.timeout))
	}
	switch {
	case err == nil && state == ClaimOK:
		c.until = start.Add(c.lease)
	case err == nil && (state == ClaimDone || state == ClaimBusy):
		c.lostTo(state)
		return
	default:
		if err == nil {
			err = fmt.Errorf("unknown claim state %v", state)
		}
		next = max(c.lease/10, 10*time.Millisecond)
		if time.Now().After(c.until) {
			c.ranOut(err, "renewal")
		} else {
			c.log.warn("beecloud: webhook claim renewal failed; retrying", slog.Any("err", err))
		}
	}
	if !c.stopped {
		c.beat.Reset(next)
	}
}

// ranOut records, once, that by the local clock the lease may have run
// out unrenewed before the step named by at (a renewal, Handle's return,
// the completion): another delivery may then have claimed the key and
// handled it too. c.mu is held.
func (c *claim) ranOut(err error, at string) {
	if c.expired {
		return
	}
	c.expired = true
	c.log.error("beecloud: webhook claim ran out: the store could not renew it, so another delivery may handle the transaction too",
		slog.Any("err", err), slog.Duration("lease", c.lease), slog.String("at", at),
		slog.Duration("overdue", time.Since(c.until)), slog.Bool("handle_returned", c.returned))
}

// lostTo records that a renewal found the key done or claimed by another
// token. c.mu is held.
func (c *claim) lostTo(state ClaimState) {
	if state == ClaimDone {
		c.doneSeen = true
	}
	if c.returned && c.handleErr == nil && state == ClaimDone {
		return // the completion being recorded landed
	}
	c.lost = state
	c.log.error("beecloud: webhook claim lost to another delivery while this one ran; the transaction may be handled twice",
		slog.String("state", state.String()), slog.Bool("handle_returned", c.returned))
	c.lose(ErrClaimLost)
}

// handleReturned notes Handle's result and says loudly if Handle ran
// past a lease that could not be renewed, or lost its claim, or ran past
// HandleTimeout (ctx, Handle's, tells) unless the heartbeat said so. An
// overrun is said whatever Handle returned: a failed Handle may still
// have run beside another delivery's.
func (c *claim) handleReturned(ctx context.Context, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.returned, c.handleErr = true, err
	if time.Now().After(c.until) {
		c.ranOut(nil, "handle returned")
	}
	if !c.overdue && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		c.log.error("beecloud: webhook Handle returned past HandleTimeout; the transaction stayed claimed until then",
			slog.Duration("handle_timeout", c.timeout), slog.Duration("elapsed", time.Since(c.started)), slog.Bool("handle_ok", err == nil))
	}
	if c.expired || c.lost != 0 {
		c.log.error("beecloud: webhook Handle returned after its claim ran out or was lost; it may have run twice",
			slog.Duration("elapsed", time.Since(c.started)), slog.Bool("handle_ok", err == nil))
	}
}

// stop ends the heartbeat and waits for a renewal under way, so that none
// lands after a Release.
func (c *claim) stop() {
	c.mu.Lock()
	c.stopped = true
	c.beat.Stop()
	running := c.renewing
	c.mu.Unlock()
	if running != nil {
		<-running
	}
}

// completed notes a completion recorded after the lease may have run out:
// it may have landed after another delivery claimed the key.
func (c *claim) completed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Now().After(c.until) {
		c.ranOut(nil, "completion")
	}
}

func (c *claim) sawDone() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.doneSeen
}

// release lets go of the claim so that the next delivery may try at once.
// A failure only means that it waits for the lease to run out.
func (c *claim) release(base context.Context) {
	ctx, cancel := context.WithTimeout(base, storeCallTimeout)
	defer cancel()
	if err := c.store.Release(ctx, c.key, c.token); err != nil {
		c.log.warn("beecloud: webhook store failed to release the claim; the next delivery waits for the lease to run out", slog.Any("err", err))
	}
}

// complete calls Complete until it succeeds or a renewal finds the key
// done (a completion whose answer was lost), backing off with jitter up
// to maxWait, for at most budget. It returns the number of calls made.
func (c *claim) complete(base context.Context, budget, maxWait time.Duration) (int, error) {
	deadline := time.Now().Add(budget)
	wait := 10 * time.Millisecond
	for attempts := 1; ; attempts++ {
		ctx, cancel := context.WithTimeout(base, min(max(time.Until(deadline), 100*time.Millisecond), storeCallTimeout))
		err := c.store.Complete(ctx, c.key, c.token)
		cancel()
		if err == nil || c.sawDone() {
			c.completed()
			return attempts, nil
		}
		sleep := wait/2 + rand.N(wait/2+1) //nolint:gosec // G404: jitter spreads retries; it guards no secret
		if time.Now().Add(sleep).After(deadline) {
			return attempts, err
		}
		time.Sleep(sleep)
		wait = min(2*wait, maxWait)
	}
}

// recheck asks Claim with c's own token what became of the key, retrying
// errors for at most budget. ClaimOK means the claim is still c's (and
// renewed): nothing was committed.
func (c *claim) recheck(base context.Context, budget time.Duration) (ClaimState, error) {
	deadline := time.Now().Add(budget)
	wait := 10 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(base, min(max(time.Until(deadline), 100*time.Millisecond), storeCallTimeout))
		state, err := c.store.Claim(ctx, c.key, c.token, c.lease)
		cancel()
		if err == nil && state != ClaimOK && state != ClaimBusy && state != ClaimDone {
			err = fmt.Errorf("unknown claim state %v", state)
		}
		if err == nil {
			return state, nil
		}
		sleep := wait/2 + rand.N(wait/2+1) //nolint:gosec // G404: jitter spreads retries; it guards no secret
		if time.Now().Add(sleep).After(deadline) {
			return 0, err
		}
		time.Sleep(sleep)
		wait = min(2*wait, 500*time.Millisecond)
	}
}
