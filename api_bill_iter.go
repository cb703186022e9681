package beecloud

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"time"
)

// maxListSkip bounds how far a walk pages through one list, so that a
// server that never sends a short page cannot keep it going forever.
const maxListSkip = 1_000_000

// AllBills returns an iterator over every bill q selects, so that nobody
// writes the skip and limit loop by hand:
//
//	for b, err := range client.AllBills(ctx, beecloud.BillQuery{PaidOnly: true, Since: since}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(b.OutTradeNo, b.Amount)
//	}
//
// It asks for MaxLimit bills at a time and ignores q's Skip and Limit. A
// bill is yielded once, even when bills made while the iterator pages
// shift BeeCloud's pages under it; and since BeeCloud does not promise an
// order, AllBills does not depend on one: when it needed more than one
// page it counts the bills ([Client.CountBills]) and fetches again, by
// ranges of creation time, those it did not see. So the bills come in no
// particular order. With RefundedOnly, which BeeCloud cannot count, that
// check is skipped: a bill can be missed if BeeCloud reorders its list
// meanwhile.
//
// An error (a bad query, a failed request, a count that stays above what
// the pages hold after a bounded number of further requests) is yielded
// once, with a zero Bill, and ends the iteration. Nothing is sent until
// the loop starts.
func (c *Client) AllBills(ctx context.Context, q BillQuery) iter.Seq2[Bill, error] {
	q.Skip, q.Limit = 0, 0
	return func(yield func(Bill, error) bool) {
		if _, err := q.params("bills", false); err != nil {
			yield(Bill{}, err)
			return
		}
		err := c.billPager(q).walk(ctx, func(b Bill) bool { return yield(b, nil) })
		if err != nil && !errors.Is(err, errWalkStopped) {
			yield(Bill{}, err)
		}
	}
}

// AllRefunds returns an iterator over every refund q selects, as
// [Client.AllBills] does for bills: MaxLimit at a time, each refund once,
// in no particular order, checked against [Client.CountRefunds] when it
// took more than one page. It ignores q's Skip and Limit.
func (c *Client) AllRefunds(ctx context.Context, q RefundQuery) iter.Seq2[Refund, error] {
	q.Skip, q.Limit = 0, 0
	return func(yield func(Refund, error) bool) {
		if _, err := q.params("refunds", false); err != nil {
			yield(Refund{}, err)
			return
		}
		err := c.refundPager(q).walk(ctx, func(r Refund) bool { return yield(r, nil) })
		if err != nil && !errors.Is(err, errWalkStopped) {
			yield(Refund{}, err)
		}
	}
}

// billPager pages through the bills q selects.
func (c *Client) billPager(q BillQuery) *pager[Bill] {
	p := &pager[Bill]{
		since: q.Since,
		until: q.Until,
		list: func(ctx context.Context, since, until time.Time, skip int) ([]Bill, error) {
			q := q
			q.Since, q.Until, q.Skip, q.Limit = since, until, skip, MaxLimit
			return c.Bills(ctx, q)
		},
		identify: func(b *Bill) (string, time.Time) { return b.ID, b.CreatedAt },
	}
	if !q.RefundedOnly {
		p.count = func(ctx context.Context, since, until time.Time) (int, error) {
			q := q
			q.Since, q.Until = since, until
			return c.CountBills(ctx, q)
		}
	}
	return p
}

// refundPager pages through the refunds q selects.
func (c *Client) refundPager(q RefundQuery) *pager[Refund] {
	return &pager[Refund]{
		since: q.Since,
		until: q.Until,
		list: func(ctx context.Context, since, until time.Time, skip int) ([]Refund, error) {
			q := q
			q.Since, q.Until, q.Skip, q.Limit = since, until, skip, MaxLimit
			return c.Refunds(ctx, q)
		},
		count: func(ctx context.Context, since, until time.Time) (int, error) {
			q := q
			q.Since, q.Until = since, until
			return c.CountRefunds(ctx, q)
		},
		identify: func(r *Refund) (string, time.Time) { return r.ID, r.CreatedAt },
	}
}

// errWalkStopped means the consumer of a walk stopped it.
var errWalkStopped = errors.New("beecloud: walk stopped")

// pager walks a BeeCloud list (bills or refunds) whose records may be
// added while it pages, in whatever order BeeCloud sends them.
//
// It pages with skip and limit, de-duplicating by record id: a record
// added ahead of the page being read shifts the later ones by one, which
// shows one of them twice. A page shorter than MaxLimit ends the list. A
// walk of one page saw the whole list at one moment; a longer one may have
// missed records if BeeCloud's order is not stable, so it counts the
// list again and, if BeeCloud has more records than the walk saw,
// bisects the span of creation times (counting each half) down to
// ranges of less than a page, and fetches those again. Records never
// leave a list, so a range that holds no more records than were seen in
// it holds exactly those.
type pager[T any] struct {
	// since and until are the query's own bounds; zero means none.
	since, until time.Time
	// list returns the page at skip of the records created in [since,
	// until] (a zero time: no bound), MaxLimit at most.
	list func(ctx context.Context, since, until time.Time, skip int) ([]T, error)
	// count returns how many records were created in [since, until]; nil
	// if BeeCloud cannot count the query.
	count func(ctx context.Context, since, until time.Time) (int, error)
	// identify returns a record's id and creation time.
	identify func(*T) (id string, created time.Time)
	// pace, if set, is called before each request, to bound their rate.
	pace *pacer

	seen    map[string]int64 // id → creation time in ms
	mending bool             // in mend: requests are counted against budget
	budget  int              // requests mend may still send
}

// errListCount is mend's error when BeeCloud's count stays above what its
// pages hold.
var errListCount = errors.New("beecloud: BeeCloud counts more records than its pages hold")

// walk yields every record of the list once.
func (p *pager[T]) walk(ctx context.Context, yield func(T) bool) error {
	pages, err := p.pageAll(ctx, p.since, p.until, yield)
	if err != nil || pages <= 1 || p.count == nil {
		return err
	}
	// Mending costs a few requests per record missed. A BeeCloud whose
	// count disagrees with its list for good would make it visit every
	// millisecond of the span: the budget bounds it.
	p.mending, p.budget = true, 4*pages+32
	lo, hi := int64(0), time.Now().Add(24*time.Hour).UnixMilli()
	if !p.since.IsZero() {
		lo = p.since.UnixMilli()
	}
	if !p.until.IsZero() {
		hi = p.until.UnixMilli()
	}
	return p.mend(ctx, lo, hi, yield)
}

// pageAll pages through the records created in [since, until] until a
// short page, yielding those not seen before, and returns the number of
// pages it fetched.
func (p *pager[T]) pageAll(ctx context.Context, since, until time.Time, yield func(T) bool) (pages int, err error) {
	for skip := 0; ; skip += MaxLimit {
		if skip > maxListSkip {
			return pages, fmt.Errorf("beecloud: the list did not end after %d records", maxListSkip)
		}
		if err := p.spend(ctx); err != nil {
			return pages, err
		}
		page, err := p.list(ctx, since, until, skip)
		if err != nil {
			return pages, err
		}
		pages++
		for i := range page {
			if !p.add(&page[i]) {
				continue
			}
			if !yield(page[i]) {
				return pages, errWalkStopped
			}
		}
		if len(page) < MaxLimit {
			return pages, nil
		}
	}
}

// spend waits until the next request may start, and counts it against
// the budget while mending.
func (p *pager[T]) spend(ctx context.Context) error {
	if p.mending {
		if p.budget <= 0 {
			return fmt.Errorf("%w: %d records seen, the rest not found after the requests allowed", errListCount, len(p.seen))
		}
		p.budget--
	}
	return p.pace.wait(ctx)
}

// add records r as seen and reports whether it is new.
func (p *pager[T]) add(r *T) bool {
	id, created := p.identify(r)
	if p.seen == nil {
		p.seen = make(map[string]int64)
	}
	if _, dup := p.seen[id]; dup {
		return false
	}
	p.seen[id] = created.UnixMilli()
	return true
}

// known returns the creation times (ms) of the records seen that were
// created in [lo, hi], in increasing order.
func (p *pager[T]) known(lo, hi int64) []int64 {
	var times []int64
	for _, at := range p.seen {
		if at >= lo && at <= hi {
			times = append(times, at)
		}
	}
	slices.Sort(times)
	return times
}

// mend fetches again the records created in [lo, hi] (ms) that the walk
// missed, if BeeCloud counts more there than were seen. It splits a range
// at the median of the creation times seen in it, or in the middle if it
// saw too few: records cluster in time (a sale, the day's peak) and the
// median halves them wherever they are. The halves share the
// millisecond they are split at, so that a bound BeeCloud takes as
// exclusive loses nothing.
func (p *pager[T]) mend(ctx context.Context, lo, hi int64, yield func(T) bool) error {
	if err := p.spend(ctx); err != nil {
		return err
	}
	n, err := p.count(ctx, time.UnixMilli(lo), time.UnixMilli(hi))
	if err != nil {
		return err
	}
	seen := p.known(lo, hi)
	if n <= len(seen) {
		return nil
	}
	if n < MaxLimit || hi-lo <= 1 {
		pages, err := p.pageAll(ctx, time.UnixMilli(lo), time.UnixMilli(hi), yield)
		if err != nil || pages == 1 || hi-lo <= 1 {
			return err
		}
		// The range grew past a page meanwhile: split it.
	}
	mid := lo + (hi-lo)/2
	if len(seen) >= 2 {
		mid = min(max(seen[len(seen)/2], lo+1), hi-1)
	}
	if err := p.mend(ctx, lo, mid, yield); err != nil {
		return err
	}
	return p.mend(ctx, mid, hi, yield)
}

// pacer spaces requests every apart, for all its users together; a nil
// pacer or one with every ≤ 0 does not wait.
type pacer struct {
	every time.Duration
	mu    sync.Mutex
	next  time.Time // when the next request may start
}

// wait returns when the next request may start, or with ctx's cause if
// ctx ends first.
func (p *pacer) wait(ctx context.Context) error {
	if p == nil || p.every <= 0 {
		return nil
	}
	p.mu.Lock()
	at := p.next
	if now := time.Now(); at.Before(now) {
		at = now
	}
	p.next = at.Add(p.every)
	p.mu.Unlock()
	d := time.Until(at)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
