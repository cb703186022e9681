package beecloud

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"
)

// Defaults of [SweepOptions].
const (
	// DefaultSweepConcurrency is how many orders Sweep reconciles at once.
	DefaultSweepConcurrency = 4
	// DefaultSweepInterval is Sweep's default rate limit: one
	// reconciliation starts every 100 ms, 10 a second.
	DefaultSweepInterval = 100 * time.Millisecond
)

// SweepOptions tune [WebhookHandler.Sweep]. The zero value is ready to
// use.
type SweepOptions struct {
	// Concurrency bounds how many orders are reconciled at once; zero
	// means DefaultSweepConcurrency.
	Concurrency int
	// Interval is a rate limit: at most one reconciliation, or one
	// request of a sweep by window, starts per Interval, which keeps a
	// long list from hammering BeeCloud. Zero means DefaultSweepInterval,
	// a negative value no limit.
	Interval time.Duration
	// Since, if set, is when the oldest of the pending orders (or
	// refunds) was created, or any time before. It lets a sweep list
	// BeeCloud's paid bills (completed refunds) created since then rather
	// than ask about each order: see [WebhookHandler.Sweep]. An order
	// created before Since may be reported unpaid although it is paid.
	Since time.Time
	// Period, if set, is how often the shop sweeps: the instances of a
	// server that share the handler's Store then sweep each period once
	// between them, and the others return at once with
	// [SweepResult].Elsewhere set. See [WebhookHandler.Sweep]. Each
	// period swept leaves a completed key in the Store for its retention.
	Period time.Duration
}

// SweepResult says what [WebhookHandler.Sweep] found, each list in the
// order of the pending orders.
type SweepResult struct {
	// Paid lists the orders that are paid and handled: Handle ran for
	// them now, or had run before.
	Paid []string
	// Unpaid lists the orders that BeeCloud has no paid bill for.
	Unpaid []string
	// Failed holds the error of each order that could not be reconciled,
	// such as [ErrBusy], [ErrAmountMismatch] or a failed query.
	Failed map[string]error
	// Skipped lists the orders not tried because the context ended.
	Skipped []string
	// Elsewhere reports that the sweep did nothing because another
	// instance sweeps this period, or has swept it (see
	// [SweepOptions].Period). Every list is then empty and Err is nil.
	Elsewhere bool
}

// Err returns nil if every order was reconciled, or an error joining the
// failures and saying how many orders were skipped.
func (r SweepResult) Err() error {
	var errs []error
	for _, err := range r.Failed {
		errs = append(errs, err)
	}
	if len(r.Skipped) > 0 {
		errs = append(errs, errors.New("beecloud: sweep: "+strconv.Itoa(len(r.Skipped))+" order(s) skipped: the context ended"))
	}
	return errors.Join(errs...)
}

// Sweep reconciles the pending orders with BeeCloud, for a shop whose
// webhooks may not come. Each order BeeCloud has a paid bill for is
// handled as [WebhookHandler.Reconcile] handles it, with the same Store
// key, ExpectedAmount, Handle and completion, so Handle runs once per
// order whichever comes first, the webhook or the sweep. A shop runs it
// from a ticker for the orders it still has as unpaid some minutes after
// checkout:
//
//	go func() {
//		t := time.NewTicker(time.Minute)
//		defer t.Stop()
//		for {
//			select {
//			case <-ctx.Done(): // the server shuts down
//				return
//			case <-t.C:
//			}
//			// Orders created 10 minutes to 2 days ago and still unpaid.
//			now := time.Now()
//			since := now.Add(-48 * time.Hour)
//			pending := shop.UnpaidOrders(since, now.Add(-10*time.Minute))
//			res := handler.Sweep(ctx, client, pending, beecloud.SweepOptions{Since: since, Period: time.Minute})
//			if err := res.Err(); err != nil {
//				slog.Warn("shop: sweep of unpaid orders failed", "err", err)
//			}
//		}
//	}()
//
// Sweep asks BeeCloud in one of two ways, whichever takes fewer requests:
//
//   - By window, when opts.Since is set: it lists the paid bills created
//     from Since to now, both widened by [SweepClockSkew] for the clocks
//     of the shop and BeeCloud, MaxLimit a page, and handles those of
//     pending orders without asking about each again. A bill is made when
//     the buyer picks a channel, after the order, hence the window ends
//     now. The cost follows the paid bills in the window, not the
//     abandoned carts: 5,000 pending orders among which 40 are paid, with
//     1,000 other paid bills in the window, take about 23 requests. Sweep
//     counts the paid bills first ([Client.CountBills], one request) to
//     choose, and pages as [Client.AllBills] does, so bills made while it
//     pages are neither missed nor handled twice.
//   - Order by order, one query each as Reconcile, Concurrency at a time
//     and at most one per Interval: without Since, or when the orders are
//     fewer than the pages of paid bills (a sweep of three orders costs
//     about three requests).
//
// Handle marks a reconciled order paid as it does for a webhook, so the
// next sweep no longer lists it. An order paid in BeeCloud but not in the
// shop after a sweep is in Failed with the reason.
//
// Every instance of a server may sweep. With opts.Period set, they take
// turns: an instance claims the period (the current time truncated to
// Period) in the handler's Store for the handler's Lease, renews the claim
// every Lease/3 while it sweeps, and completes it when done; the others
// find the claim held or the period done and return at once with
// Elsewhere set, having sent nothing. A sweep that ctx ends releases its
// claim; an instance that dies mid-sweep stops renewing it, and once the
// lease runs out the next instance to sweep in that period takes over.
// If the Store fails, the instance sweeps anyway: the Store's keys per
// order still let Handle run once.
//
// Sweep returns when every order is done or ctx ends; the orders not
// started by then are Skipped. Repeated entries are reconciled once.
func (h *WebhookHandler) Sweep(ctx context.Context, c *Client, pending []string, opts SweepOptions) SweepResult {
	return h.sweep(ctx, c, pending, opts, paySweep)
}

// sweepEach reconciles each of the pending entries with reconcile, a few
// at a time and at a bounded rate.
func sweepEach(ctx context.Context, pending []string, opts SweepOptions, reconcile func(context.Context, string) (bool, error)) SweepResult {
	workers := opts.Concurrency
	if workers <= 0 {
		workers = DefaultSweepConcurrency
	}
	interval := opts.Interval
	if interval == 0 {
		interval = DefaultSweepInterval
	}
	orders := make([]string, 0, len(pending))
	seen := make(map[string]bool, len(pending))
	for _, o := range pending {
		if !seen[o] {
			seen[o] = true
			orders = append(orders, o)
		}
	}
	workers = min(workers, len(orders))

	type outcome struct {
		tried, paid bool
		err         error
	}
	outcomes := make([]outcome, len(orders))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				paid, err := reconcile(ctx, orders[i])
				outcomes[i] = outcome{tried: true, paid: paid, err: err}
			}
		}()
	}
	limit := time.NewTicker(max(interval, time.Nanosecond))
	defer limit.Stop()
feed:
	for i := range orders {
		if ctx.Err() != nil {
			break
		}
		if i > 0 && interval > 0 {
			select {
			case <-limit.C:
			case <-ctx.Done():
				break feed
			}
		}
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()

	res := SweepResult{Failed: map[string]error{}}
	for i, o := range outcomes {
		switch {
		case !o.tried:
			res.Skipped = append(res.Skipped, orders[i])
		case o.err != nil:
			res.Failed[orders[i]] = o.err
		case o.paid:
			res.Paid = append(res.Paid, orders[i])
		default:
			res.Unpaid = append(res.Unpaid, orders[i])
		}
	}
	return res
}
