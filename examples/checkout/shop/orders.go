package shop

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// State is where an order is in its life.
type State string

const (
	// StatePending means the order was created and no webhook has said it
	// is paid. The buyer may have paid already: webhooks can lag.
	StatePending State = "pending"
	// StatePaid means a verified webhook said the order is paid, for the
	// order's amount.
	StatePaid State = "paid"
)

// Errors of [Orders.MarkPaid].
var (
	ErrUnknownOrder   = errors.New("shop: unknown order")
	ErrAmountMismatch = errors.New("shop: paid amount differs from the order's")
)

// Order is one purchase of one product.
type Order struct {
	OutTradeNo string
	ProductID  string
	Title      string
	Amount     int64 // 分
	State      State
	Created    time.Time

	// Set when the webhook marks the order paid.
	PaidAt               time.Time
	Channel              string // channel_type, such as "ALI"
	SubChannel           string // sub_channel_type, such as "ALI_WEB"
	ChannelTransactionID string
}

// Payment is what a webhook tells about a paid order.
type Payment struct {
	OutTradeNo           string
	Amount               int64 // transaction_fee, 分
	Channel              string
	SubChannel           string
	ChannelTransactionID string
	At                   time.Time
}

// maxPending bounds how many unpaid orders an [Orders] keeps. Every view of
// the product page creates one order per product (each pay button needs its
// own signed out_trade_no), so the oldest unpaid ones are forgotten first.
const maxPending = 10000

// Orders is the shop's in-memory order book. A real shop keeps its orders
// in its database; this one keeps them in a map under a mutex. The zero
// value is not usable: call [NewOrders]. It is safe for concurrent use.
type Orders struct {
	mu      sync.Mutex
	orders  map[string]*Order
	pending []string // out_trade_nos of unpaid orders, oldest first
}

// NewOrders returns an empty order book.
func NewOrders() *Orders {
	return &Orders{orders: make(map[string]*Order)}
}

// Add records a new pending order.
func (o *Orders) Add(ord Order) {
	ord.State = StatePending
	o.mu.Lock()
	defer o.mu.Unlock()
	o.orders[ord.OutTradeNo] = &ord
	o.pending = append(o.pending, ord.OutTradeNo)
	for len(o.pending) > maxPending {
		oldest := o.pending[0]
		o.pending = o.pending[1:]
		if old, ok := o.orders[oldest]; ok && old.State == StatePending {
			delete(o.orders, oldest)
		}
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
	return *ord, true
}

// MarkPaid marks the order paid by p. It reports whether the order changed:
// false when it was paid already (a resent webhook). An unknown order gives
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
		return false, fmt.Errorf("%w: order %s is %d 分, the webhook says %d 分", ErrAmountMismatch, ord.OutTradeNo, ord.Amount, p.Amount)
	}
	if ord.State == StatePaid {
		return false, nil
	}
	ord.State = StatePaid
	ord.PaidAt = p.At
	ord.Channel = p.Channel
	ord.SubChannel = p.SubChannel
	ord.ChannelTransactionID = p.ChannelTransactionID
	return true, nil
}
