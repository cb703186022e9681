package beecloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Bounds of a call that moves money, such as [Client.Refund].
const (
	// DefaultMoneyTimeout bounds a call that moves money when its context
	// has no deadline: waiting for BeeCloud's answer and, when the answer
	// is lost, looking the record up.
	DefaultMoneyTimeout = time.Minute
	// LookupWindow is how long such a call keeps looking its record up
	// after the answer was lost: six look-ups, 0.25 s, 0.5 s, 1 s, 2 s,
	// 4 s and 8 s apart (15.75 s in all), fewer when the context ends
	// sooner. The call waits for BeeCloud's answer until the context's
	// deadline less this window (less half the time left, when the context
	// allows less than two windows).
	LookupWindow = 16 * time.Second
)

const (
	// lookupBase is the wait before the first look-up; each later wait
	// doubles.
	lookupBase = 250 * time.Millisecond
	// lookups is how many look-ups follow a lost answer.
	lookups = 6
	// lookupTime is the least time a look-up is given before the
	// context's deadline: the last one is moved earlier to fit.
	lookupTime = time.Second
)

// errConflict, wrapped by a finder's error, means BeeCloud holds a record
// under the call's key that is not the call's: looking again cannot help.
var errConflict = errors.New("conflicting record")

// sendOnce is a call that moves money (a refund, a bill), keyed by a
// number of the merchant's (refund_no, bill_no) that BeeCloud does not
// de-duplicate: sent twice, it moves the money twice. Its do sends it at
// most once.
type sendOnce[T any] struct {
	call call
	// what names the call in errors, such as "refund 20260520abc of
	// order 42".
	what string
	// settle tells the merchant how to settle an unknown outcome, such as
	// "look the refund up with Client.RefundOutcome".
	settle string
	// decode reads a successful answer's body.
	decode func(body []byte) (T, error)
	// find looks the record up by its key: found reports that BeeCloud
	// has it. An error wrapping errConflict ends the look-ups.
	find func(ctx context.Context) (v T, found bool, err error)
}

// do sends s.call once and returns the decoded answer. When the request
// never left (the connection could not be made) it tries again, as a
// query does. When it may have reached BeeCloud and its answer is lost
// (no answer, a timeout, a reset connection, an error page, 408, 429, a
// 5xx, BeeCloud's own RUNTIME_ERROR or NETWORK_ERROR, a malformed
// success), do sends nothing more: it looks the record up, patiently,
// and returns it with recovered set when found. Otherwise its error
// wraps ErrUnknownOutcome: a look-up that finds nothing proves nothing
// while the request may still be on its way.
func (s sendOnce[T]) do(ctx context.Context, c *Client) (v T, recovered bool, err error) {
	start := time.Now()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = start.Add(DefaultMoneyTimeout)
	}
	whole, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	reserve := min(LookupWindow, deadline.Sub(start)/2)
	post, cancelPost := context.WithDeadline(whole, deadline.Add(-reserve))
	defer cancelPost()

	var lost error
	for attempt := 1; ; attempt++ {
		a := c.roundTripWith(post, s.call, c.moneyHTTPClient())
		verdict := moneyOutcome(a, s.call)
		if verdict.err == nil {
			v, derr := s.decode(a.body)
			if derr == nil {
				return v, false, nil
			}
			// BeeCloud said yes; the record tells the rest.
			lost = fmt.Errorf("beecloud: %s: BeeCloud accepted it (result_code 0) but the answer is malformed: %w", s.call, derr)
			break
		}
		if verdict.lost {
			lost = verdict.err
			break
		}
		if verdict.retry && !a.sent && attempt < queryAttempts {
			// The connection was never made: sending again is safe.
			if werr := c.wait(post, attempt); werr == nil {
				continue
			}
		}
		return v, false, verdict.err
	}
	if ctx.Err() != nil {
		// The caller gave up: no time is left to look.
		return v, false, s.unknown(lost, "the context ended before it could be looked up (%w)", context.Cause(ctx))
	}
	return s.lookUp(whole, c, lost)
}

// lookUp looks the record up after the answer lost was lost, until it is
// found, a look-up conflicts, or the look-ups or ctx run out.
func (s sendOnce[T]) lookUp(ctx context.Context, c *Client, lost error) (v T, recovered bool, err error) {
	began := time.Now()
	var lastErr error
	n := 0
	for n < lookups {
		d := lookupBase << n
		if c.retryWait != nil {
			d = c.retryWait(n + 1)
		}
		last := n == lookups-1
		if deadline, ok := ctx.Deadline(); ok {
			if left := time.Until(deadline) - lookupTime; left < d {
				// Too little time for this wait and a look-up: look a
				// last time, as late as the deadline allows.
				d, last = max(left, 0), true
			}
		}
		if werr := sleep(ctx, d); werr != nil {
			break
		}
		n++
		found, ok, ferr := s.find(ctx)
		switch {
		case ferr == nil && ok:
			return found, true, nil
		case errors.Is(ferr, errConflict):
			return v, false, s.unknown(lost, "%w", ferr)
		case ferr != nil:
			lastErr = ferr
		default:
			lastErr = nil
		}
		if last {
			break
		}
	}
	if lastErr != nil {
		return v, false, s.unknown(lost, "looked it up %d time(s), the last failed (%w)", n, lastErr)
	}
	if n == 0 {
		return v, false, s.unknown(lost, "no time was left to look it up (%w)", context.Cause(ctx))
	}
	return v, false, s.unknown(lost, "looked it up %d time(s) over %s and BeeCloud has no record of it yet, which proves nothing while the request may still be on its way", n, time.Since(began).Round(time.Millisecond))
}

// unknown returns the error of an unknown outcome: what was lost, what
// the look-ups found (format, args), and what the merchant must do. It
// wraps what was lost, but only quotes what the look-ups met: an
// *APIError of a look-up must not read as the call's refusal.
func (s sendOnce[T]) unknown(lost error, format string, args ...any) error {
	found := fmt.Errorf(format, args...).Error()
	return fmt.Errorf("%w: %s was sent once and its answer was lost (%w); %s. It may or may not have taken effect: %s, and never send a new one for the same money until it is settled",
		ErrUnknownOutcome, s.what, lost, found, s.settle)
}

// moneyOutcome reads the answer to a call that moves money: like
// outcome, but every answer that does not show whether BeeCloud acted is
// lost, and an *APIError that might hide an action is lost too, without
// being wrapped, for an *APIError means "refused, nothing happened".
func moneyOutcome(a answer, k call) verdict {
	v := a.outcome(k)
	if v.err == nil || v.lost {
		return v
	}
	var apiErr *APIError
	switch {
	case errors.As(v.err, &apiErr):
		if apiErr.Code == CodeRuntimeError || apiErr.Code == CodeNetworkError || apiErr.HTTPStatus >= 500 {
			v.err = errors.New(v.err.Error())
			v.lost = true
		}
	case a.err == nil && (a.status == http.StatusRequestTimeout || a.status == http.StatusTooManyRequests):
		v.lost = true
	}
	return v
}

// sleep waits d, unless ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
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
