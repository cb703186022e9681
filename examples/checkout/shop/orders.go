package shop

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// State is where an order is in its life.
type State string

const (
	// StatePending means the order was created and no webhook has said it
	// is paid. The buyer may have paid already: webhooks can lag.
	StatePending State = "pending"
	// StatePaid means a verified webhook (or a reconciliation with
	// BeeCloud) said the order is paid, for the order's amount.
	StatePaid State = "paid"
)

// Errors of [Orders].
var (
	ErrUnknownOrder   = errors.New("shop: unknown order")
	ErrAmountMismatch = errors.New("shop: paid amount differs from the order's")
	// ErrTooManyOrders is Add's error when the order book holds
	// MaxPending unpaid orders, none of them older than PendingTTL: the
	// shop refuses new orders rather than forget one a buyer may be
	// paying.
	ErrTooManyOrders = errors.New("shop: too many unpaid orders; try again later")
)

// Order is one purchase of one product.
type Order struct {
	OutTradeNo string
	ProductID  string
	Title      string
	Amount     int64 // 分
	State      State
	Created    time.Time

	// Set when the order is marked paid.
	PaidAt               time.Time
	Channel              string // channel_type, such as "ALI"
	SubChannel           string // sub_channel_type, such as "ALI_WEB"
	ChannelTransactionID string
	// PaidBy says what marked the order paid: "webhook" or
	// "reconciliation" (the shop asked BeeCloud).
	PaidBy string

	// Handled counts the payment notifications the shop's Handle applied
	// to this order. beecloud.WebhookHandler runs Handle once per payment
	// however often BeeCloud sends it, so in a paid order it is 1.
	Handled int
	// FailedWebhooks counts the webhooks the shop failed on purpose, by
	// Config.FailFirst.
	FailedWebhooks int

	// Refunds are the refunds asked for this order, oldest first.
	Refunds []Refund

	lastCheck time.Time // when a buyer last asked to check its payment
}

// Refunded is the sum of the order's refunds that BeeCloud confirmed, in 分.
func (o Order) Refunded() int64 {
	var sum int64
	for _, r := range o.Refunds {
		if r.Succeeded {
			sum += r.Amount
		}
	}
	return sum
}

// Refundable is what is left to refund, in 分: the amount paid less every
// refund asked and not failed. It is 0 for an unpaid order.
func (o Order) Refundable() int64 {
	if o.State != StatePaid {
		return 0
	}
	left := o.Amount
	for _, r := range o.Refunds {
		if !r.Failed {
			left -= r.Amount
		}
	}
	return max(left, 0)
}

// Refund is one refund of an order.
type Refund struct {
	RefundNo  string // the shop's refund number, refund_no
	ID        string // BeeCloud's id of the refund
	Amount    int64  // 分
	Asked     time.Time
	Succeeded bool      // BeeCloud's REFUND webhook (or a query) said it is done
	Failed    bool      // BeeCloud refused it
	Unknown   bool      // its answer was lost, and BeeCloud did not show it when asked: made or not, its amount is spoken for until a check settles it
	Done      time.Time // when it succeeded
}

// Payment is what a webhook tells about a paid order.
type Payment struct {
	OutTradeNo           string
	Amount               int64 // transaction_fee, 分
	Channel              string
	SubChannel           string
	ChannelTransactionID string
	At                   time.Time
	By                   string // "webhook" or "reconciliation"
}

// Bounds of the order book: see [Orders.Add].
const (
	// DefaultMaxPending is how many unpaid orders an Orders keeps unless
	// its MaxPending says otherwise.
	DefaultMaxPending = 10000
	// PendingTTL is how long an unpaid order is kept for certain. It is
	// longer than BeeCloud keeps resending a webhook (2^17 s, about 36
	// hours), so that a webhook for an order the shop created is never
	// refused because the order was forgotten.
	PendingTTL = 48 * time.Hour
)

// Orders is the shop's in-memory order book. A real shop keeps its orders
// in its database; this one keeps them in a map under a mutex. Paid orders
// are kept for ever; unpaid ones are bounded, see [Orders.Add]. Use
// [NewOrders] to make one. It is safe for concurrent use.
type Orders struct {
	// MaxPending bounds the unpaid orders kept; zero means
	// DefaultMaxPending. Set it before the first Add.
	MaxPending int

	mu       sync.Mutex
	orders   map[string]*Order
	pending  []string          // out_trade_nos of orders created unpaid, oldest first
	refundOf map[string]string // refund_no → out_trade_no
}

// NewOrders returns an empty order book.
func NewOrders() *Orders {
	return &Orders{orders: make(map[string]*Order), refundOf: make(map[string]string)}
}

// Add records a new pending order; ord.Created must be set. When the book
// holds MaxPending unpaid orders, Add forgets the oldest unpaid ones that
// are older than PendingTTL; when there is none, it returns
// ErrTooManyOrders. It never forgets an order younger than PendingTTL, nor
// a paid one, so that visitors who never pay cannot push out an order
// that a buyer is paying.
func (o *Orders) Add(ord Order) error {
	ord.State = StatePending
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, dup := o.orders[ord.OutTradeNo]; dup {
		return fmt.Errorf("shop: order %s exists already", ord.OutTradeNo)
	}
	limit := o.MaxPending
	if limit <= 0 {
		limit = DefaultMaxPending
	}
	o.dropPaidFromQueue()
	for len(o.pending) >= limit {
		oldest := o.orders[o.pending[0]]
		if ord.Created.Sub(oldest.Created) < PendingTTL {
			return ErrTooManyOrders
		}
		delete(o.orders, oldest.OutTradeNo)
		o.pending = o.pending[1:]
		o.dropPaidFromQueue()
	}
	o.orders[ord.OutTradeNo] = &ord
	o.pending = append(o.pending, ord.OutTradeNo)
	return nil
}

// dropPaidFromQueue removes the paid orders at the front of o.pending, so
// that it starts with the oldest order still unpaid. o.mu is held.
func (o *Orders) dropPaidFromQueue() {
	for len(o.pending) > 0 {
		if ord, ok := o.orders[o.pending[0]]; ok && ord.State == StatePending {
			return
		}
		o.pending = o.pending[1:]
	}
}

// Get returns the order with the given out_trade_no.
func (o *Orders) Get(outTradeNo string) (Order, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ord, ok := o.orders[outTradeNo]
	if !ok {
		return Order{}, false
	}
	return ord.clone(), true
}

// clone copies o, its refunds too.
func (o *Order) clone() Order {
	c := *o
	c.Refunds = append([]Refund(nil), o.Refunds...)
	return c
}

// List returns the orders, newest first, at most limit of them (all when
// limit ≤ 0); with paidOnly, only the paid ones.
func (o *Orders) List(limit int, paidOnly bool) []Order {
	o.mu.Lock()
	out := make([]Order, 0, len(o.orders))
	for _, ord := range o.orders {
		if !paidOnly || ord.State == StatePaid {
			out = append(out, ord.clone())
		}
	}
	o.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].OutTradeNo < out[j].OutTradeNo
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// Unpaid returns the out_trade_nos of the orders still unpaid that were
// made more than after before now and less than PendingTTL before it,
// oldest first, and when the oldest of them was made, for
// beecloud.SweepOptions.Since. A sweep costs about one request per 50
// payments in that window, however many orders were abandoned, so every
// unpaid order is asked about at each sweep until it is paid or too old.
func (o *Orders) Unpaid(now time.Time, after time.Duration) (nos []string, since time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, no := range o.pending {
		ord, ok := o.orders[no]
		if !ok || ord.State != StatePending || now.Sub(ord.Created) >= PendingTTL || now.Sub(ord.Created) < after {
			continue
		}
		if len(nos) == 0 || ord.Created.Before(since) {
			since = ord.Created
		}
		nos = append(nos, no)
	}
	return nos, since
}

// MarkPaid marks the order paid by p and counts the call in Handled. It
// reports whether the order changed: false when it was paid already (a
// resent webhook that reached it anyway). An unknown order gives
// ErrUnknownOrder, and a payment for another amount than the order's
// ErrAmountMismatch: such an order stays unpaid.
func (o *Orders) MarkPaid(p Payment) (changed bool, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ord, ok := o.orders[p.OutTradeNo]
	if !ok {
		return false, fmt.Errorf("%w %q", ErrUnknownOrder, p.OutTradeNo)
	}
	if p.Amount != ord.Amount {
		return false, fmt.Errorf("%w: order %s is %d 分, the payment says %d 分", ErrAmountMismatch, ord.OutTradeNo, ord.Amount, p.Amount)
	}
	ord.Handled++
	if ord.State == StatePaid {
		return false, nil
	}
	ord.State = StatePaid
	ord.PaidAt = p.At
	ord.Channel = p.Channel
	ord.SubChannel = p.SubChannel
	ord.ChannelTransactionID = p.ChannelTransactionID
	ord.PaidBy = p.By
	return true, nil
}

// AddRefund records a refund asked for a paid order, before it is sent to
// BeeCloud. It fails when the order is unknown or unpaid, or when amount
// is not between 1 and what is left to refund.
func (o *Orders) AddRefund(outTradeNo string, r Refund) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	ord, ok := o.orders[outTradeNo]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownOrder, outTradeNo)
	}
	if ord.State != StatePaid {
		return fmt.Errorf("shop: order %s is not paid: nothing to refund", outTradeNo)
	}
	if left := ord.clone().Refundable(); r.Amount <= 0 || r.Amount > left {
		return fmt.Errorf("shop: refund of %d 分 for order %s: want 1 to %d 分 (what is left to refund)", r.Amount, outTradeNo, left)
	}
	ord.Refunds = append(ord.Refunds, r)
	o.refundOf[r.RefundNo] = outTradeNo
	return nil
}

// UpdateRefund changes the refund refundNo with f, under the book's lock.
// It returns the refund's order number, or ErrUnknownOrder when the shop
// never asked for that refund.
func (o *Orders) UpdateRefund(refundNo string, f func(*Refund)) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	no, ok := o.refundOf[refundNo]
	if !ok {
		return "", fmt.Errorf("%w: no refund %q", ErrUnknownOrder, refundNo)
	}
	ord := o.orders[no]
	for i := range ord.Refunds {
		if ord.Refunds[i].RefundNo == refundNo {
			f(&ord.Refunds[i])
			break
		}
	}
	return no, nil
}

// allowCheck reports whether a buyer may have BeeCloud asked about the
// order at now, at most once per every, and records the check if so: the
// button must not let anyone flood BeeCloud's API with queries.
func (o *Orders) allowCheck(outTradeNo string, now time.Time, every time.Duration) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	ord, ok := o.orders[outTradeNo]
	if !ok || now.Sub(ord.lastCheck) < every {
		return false
	}
	ord.lastCheck = now
	return true
}

// failWebhook reports whether the webhook for the order should fail on
// purpose, as one of its first n, and counts it in FailedWebhooks if so.
func (o *Orders) failWebhook(outTradeNo string, n int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	ord, ok := o.orders[outTradeNo]
	if !ok || ord.FailedWebhooks >= n {
		return false
	}
	ord.FailedWebhooks++
	return true
}
