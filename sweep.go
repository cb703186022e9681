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
	// Interval is a rate limit: at most one reconciliation starts per
	// Interval, which keeps a long list from hammering BeeCloud. Zero
	// means DefaultSweepInterval, a negative value no limit.
	Interval time.Duration
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

// Sweep reconciles each of the pending orders with [WebhookHandler.Reconcile],
// a few at a time and at a bounded rate, for a shop whose webhooks may not
// come. A shop runs it from a ticker for the orders it still has as
// unpaid some minutes after checkout:
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
//			pending := shop.UnpaidOrders(now.Add(-48*time.Hour), now.Add(-10*time.Minute))
//			res := handler.Sweep(ctx, client, pending, beecloud.SweepOptions{})
//			if err := res.Err(); err != nil {
//				slog.Warn("shop: sweep of unpaid orders failed", "err", err)
//			}
//		}
//	}()
//
// Handle marks a reconciled order paid as it does for a webhook, so the
// next sweep no longer lists it. Every instance of a server may sweep:
// the Store lets Handle run once per order. An order paid in BeeCloud but
// not in the shop after a sweep is in Failed with the reason.
//
// Sweep returns when every order is done or ctx ends; the orders not
// started by then are Skipped. Repeated entries are reconciled once.
func (h *WebhookHandler) Sweep(ctx context.Context, c *Client, pending []string, opts SweepOptions) SweepResult {
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
				paid, err := h.Reconcile(ctx, c, orders[i])
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
