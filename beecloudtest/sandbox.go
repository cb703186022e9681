package beecloudtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/paybutton/beecloud"
)

// Errors the sandbox reports for a BC.click it refuses. The script passes
// the message to BC.err as {"ERROR": "…"}; [Sandbox.Pay] returns the error.
// A bad field gives a *[beecloud.ValidationError] naming the field, so
// errors.Is(err, beecloud.ErrInvalidOrder) holds for it.
var (
	// ErrUnknownApp means the appId is not one of the sandbox's apps.
	ErrUnknownApp = errors.New("beecloudtest: unknown appId")
	// ErrSignMismatch means data.sign is not the MD5 of appId + title +
	// amount + out_trade_no + appSecret.
	ErrSignMismatch = errors.New("beecloudtest: sign mismatch")
	// ErrChannelNotEnabled means the chosen channel is not among the app's
	// enabled channels.
	ErrChannelNotEnabled = errors.New("beecloudtest: channel not enabled for this app")
	// ErrAlreadyPaid means the app has already been paid for this
	// out_trade_no, which BeeCloud requires to be unique.
	ErrAlreadyPaid = errors.New("beecloudtest: out_trade_no already paid")
	// ErrNoWebhook means no webhook was sent for the out_trade_no: for
	// [Sandbox.Redeliver], it was not paid or its app has no WebhookURL;
	// for [Sandbox.WaitDelivery], it was paid to an app without one.
	ErrNoWebhook = errors.New("beecloudtest: no webhook sent for this out_trade_no")
	// ErrSandboxClosed means the sandbox was closed.
	ErrSandboxClosed = errors.New("beecloudtest: sandbox closed")
)

// Defaults for the sandbox's schedules. BeeCloud itself resends a webhook
// after 2 s, 4 s, 8 s, … 2^17 s, which the sandbox runs 1000 times faster
// unless told otherwise, and polls a QR bill every 3 s, which the sandbox
// does every second, so that a scan shows at once without a flood of
// requests.
const (
	// DefaultRetryBase is the wait before the first resend of a webhook.
	DefaultRetryBase = 2 * time.Millisecond
	// DefaultMaxAttempts is BeeCloud's number of webhook attempts: the
	// first one and 17 resends.
	DefaultMaxAttempts = 18
	// DefaultPollInterval is how often a QR pay page polls its bill.
	DefaultPollInterval = time.Second
	// QRLifetime is how long a QR pay page keeps polling before it says
	// that its code has expired: WeChat's and Alipay's codes last 2 hours.
	QRLifetime = 2 * time.Hour
	// DefaultMaxBills is how many bills, and how many webhook deliveries,
	// a sandbox remembers when MaxBills is zero.
	DefaultMaxBills = 1000
)

// App is one BeeCloud app the sandbox serves.
type App struct {
	// Config holds the app's AppID, its AppSecret, which checks the sign of
	// every BC.click, and its MasterSecret, which signs its webhooks. The
	// other fields are not used.
	Config beecloud.Config
	// Channels lists the app's enabled channels in menu order, as set on
	// BeeCloud's dashboard. Nil means [DefaultChannels].
	Channels []beecloud.Channel
	// WebhookURL receives the app's webhooks. Empty means payments are
	// recorded but no webhook is sent.
	WebhookURL string
}

// DefaultChannels returns the channels an [App] with nil Channels enables:
// Alipay, WeChat QR code, WeChat JSAPI and UnionPay.
func DefaultChannels() []beecloud.Channel {
	return []beecloud.Channel{beecloud.ChannelAli, beecloud.ChannelWxMP, beecloud.ChannelWx, beecloud.ChannelUN}
}

// A Sandbox is a local BeeCloud for tests and development; the package
// documentation describes what it does in the browser and what it sends.
//
// Start one with [NewSandbox] in a test, point [beecloud.Config].ScriptURL
// at [Sandbox.ScriptURL], and inspect what happened with [Sandbox.Bills],
// [Sandbox.Payments] and [Sandbox.Deliveries]; [Sandbox.Pay] pays without
// a browser. A standalone server uses [NewUnstartedSandbox] and
// [Sandbox.StartAt].
//
// Make a Sandbox with NewSandbox or NewUnstartedSandbox; the zero value
// is not usable. The exported fields configure it; set them before it
// starts. Their zero values are useful. After it starts, a Sandbox is safe
// for concurrent use.
type Sandbox struct {
	// URL is the sandbox's base URL, like http://127.0.0.1:38151, with no
	// trailing slash. It is set when the sandbox starts.
	URL string

	// RetryBase is the wait before the first resend of an unacknowledged
	// webhook; each later wait doubles, as BeeCloud's 2 s, 4 s, 8 s, ….
	// Zero means DefaultRetryBase; 2*time.Second is BeeCloud's own pace.
	RetryBase time.Duration
	// MaxAttempts bounds the attempts to deliver one webhook. Zero means
	// DefaultMaxAttempts.
	MaxAttempts int
	// PollInterval is how often a QR pay page asks whether its bill has
	// been paid. Zero means DefaultPollInterval; BeeCloud polls every 3 s.
	PollInterval time.Duration
	// Client sends the webhooks. Nil means a client of the sandbox's own
	// with a 10 s timeout, whose idle connections Close closes.
	Client *http.Client
	// Duplicates is how many times the sandbox sends each webhook again
	// once the app acknowledged it, one copy after the other, as BeeCloud
	// and the channels sometimes do. Each copy is a new Delivery with
	// Duplicate set, itself resent until acknowledged. Zero sends none.
	Duplicates int
	// MaxBills bounds the bills the sandbox remembers, and separately its
	// webhook deliveries: past it, the oldest is forgotten first. Zero
	// means DefaultMaxBills.
	MaxBills int
	// Logger receives the sandbox's warnings, such as a REST call that
	// carries one of its app's secrets. Nil means slog.Default().
	Logger *slog.Logger

	apps  map[string]App
	order []string // app IDs in the order given

	ts  *httptest.Server // Start
	srv *http.Server     // StartAt

	client *http.Client    // used when Client is nil
	ctx    context.Context // canceled by Close: stops webhook resends
	cancel context.CancelFunc
	wg     sync.WaitGroup // webhook deliveries

	mu         sync.Mutex
	closed     bool
	bills      []*Bill
	byID       map[string]*Bill
	payments   []*Bill
	deliveries []*Delivery
	changed    chan struct{} // closed and replaced on every change
	version    uint64        // counts the changes, for the dashboard
	rest       restState     // the REST API's refunds and faults (sandbox_rest.go)
}

// NewSandbox starts and returns a sandbox serving apps on a loopback
// address, like [httptest.NewServer]. The caller should call Close when
// finished, to shut it down.
//
// NewSandbox panics if an app lacks an AppID or AppSecret, or a
// MasterSecret when it has a WebhookURL, or if two apps share an AppID.
func NewSandbox(apps ...App) *Sandbox {
	s := NewUnstartedSandbox(apps...)
	s.Start()
	return s
}

// NewUnstartedSandbox returns a sandbox serving apps that is not yet
// started, so that its fields can be set. Start it with [Sandbox.Start] or
// [Sandbox.StartAt]. It panics where [NewSandbox] does.
func NewUnstartedSandbox(apps ...App) *Sandbox {
	s := &Sandbox{
		apps:    make(map[string]App, len(apps)),
		byID:    make(map[string]*Bill),
		changed: make(chan struct{}),
	}
	for i, a := range apps {
		switch {
		case a.Config.AppID == "":
			panic(fmt.Sprintf("beecloudtest: app %d has no AppID", i))
		case a.Config.AppSecret == "":
			panic(fmt.Sprintf("beecloudtest: app %q has no AppSecret", a.Config.AppID))
		case a.WebhookURL != "" && a.Config.MasterSecret == "":
			panic(fmt.Sprintf("beecloudtest: app %q has a WebhookURL but no MasterSecret to sign its webhooks", a.Config.AppID))
		}
		if _, dup := s.apps[a.Config.AppID]; dup {
			panic(fmt.Sprintf("beecloudtest: two apps have the AppID %q", a.Config.AppID))
		}
		if a.Channels == nil {
			a.Channels = DefaultChannels()
		} else {
			a.Channels = slices.Clone(a.Channels)
		}
		s.apps[a.Config.AppID] = a
		s.order = append(s.order, a.Config.AppID)
	}
	s.client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 10 * time.Second}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Start starts the sandbox on a loopback address chosen by the system.
// It panics if the sandbox was started before.
func (s *Sandbox) Start() {
	if s.URL != "" {
		panic("beecloudtest: Sandbox already started")
	}
	s.ts = httptest.NewServer(s.handler())
	s.URL = s.ts.URL
}

// StartAt starts the sandbox listening on the TCP address addr, such as
// "127.0.0.1:8090" or ":8090", for a standalone server. If addr has no
// host, or an unspecified one, URL uses 127.0.0.1. It returns the error
// from listening, and panics if the sandbox was started before.
func (s *Sandbox) StartAt(addr string) error {
	if s.URL != "" {
		panic("beecloudtest: Sandbox already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("beecloudtest: start sandbox: %w", err)
	}
	tcp := ln.Addr().(*net.TCPAddr)
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	s.URL = "http://" + net.JoinHostPort(host, fmt.Sprint(tcp.Port))
	s.srv = &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln) //nolint:errcheck // Serve returns ErrServerClosed after Close.
	return nil
}

// Close stops resending webhooks, waits for deliveries under way to stop,
// ends the waits of [Sandbox.WaitDelivery] and [Sandbox.Redeliver], and
// shuts the server down. Bills, payments and deliveries can still be
// read after Close.
func (s *Sandbox) Close() {
	s.mu.Lock()
	s.closed = true
	s.notifyLocked() // wakes WaitDelivery and Redeliver
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.client.CloseIdleConnections()
	if s.ts != nil {
		s.ts.Close()
	}
	if s.srv != nil {
		s.srv.Close()
	}
}

// ScriptURL returns the address of the sandbox's button script without its
// appId parameter, for [beecloud.Config].ScriptURL: the script tag adds
// ?appId=. It mirrors BeeCloud's /1/pay/jsbutton/returnscripts.
func (s *Sandbox) ScriptURL() string { return s.URL + scriptPath }

// Apps returns the sandbox's apps in the order given, with Channels filled
// in.
func (s *Sandbox) Apps() []App {
	out := make([]App, 0, len(s.order))
	for _, id := range s.order {
		a := s.apps[id]
		a.Channels = slices.Clone(a.Channels)
		out = append(out, a)
	}
	return out
}

// BillState is where a [Bill] stands.
type BillState string

// The states of a bill.
const (
	BillPending   BillState = "pending"   // the pay page is open
	BillPaid      BillState = "paid"      // the buyer paid
	BillFailed    BillState = "failed"    // the buyer pressed 支付失败
	BillCancelled BillState = "cancelled" // the buyer pressed 取消
)

// Bill is one attempt to pay an order through one channel: the sandbox
// makes one each time a buyer picks a channel, after the BC.click data
// passed every check, and for each bill a server makes through the REST
// API (POST /2/rest/bill), whose Channel is then BeeCloud's name for it,
// such as "WX_NATIVE".
type Bill struct {
	// ID names the bill in the sandbox's pay page URLs.
	ID string
	// AppID is the app the order was signed for.
	AppID string
	// Order is the BC.click data as the sandbox read it.
	Order beecloud.Order
	// Channel is the channel the buyer picked, or the instant_channel.
	Channel beecloud.Channel
	// SubChannel is the BeeCloud channel, such as ALI_WEB or ALI_WAP: the
	// webhook's sub_channel_type.
	SubChannel string
	// Mobile reports whether the buyer's browser counted as mobile (a
	// narrow viewport or a phone's user agent).
	Mobile bool
	// State is where the bill stands.
	State BillState
	// Created is when the buyer picked the channel; Updated when State
	// last changed.
	Created, Updated time.Time
	// ChannelTransactionID is the channel's own number for a paid bill,
	// as the webhook's channel_transaction_id carries it.
	ChannelTransactionID string
	// Test reports a bill made in test mode (POST /2/rest/sandbox/bill):
	// live queries and refunds do not see it, and its webhook is signed
	// with the legacy scheme and the app's TestSecret, which marks a
	// [beecloud.Notification] Test.
	Test bool

	page string // the merchant page BC.click ran on, for 取消
}

// Delivery is the webhook for one payment and every attempt so far to
// deliver it.
type Delivery struct {
	// AppID and OutTradeNo name the order paid; BillID the bill.
	AppID, OutTradeNo, BillID string
	// URL is the app's WebhookURL.
	URL string
	// Body is the JSON body, the same for every attempt.
	Body []byte
	// Attempts lists the attempts so far, oldest first.
	Attempts []Attempt
	// Acknowledged reports whether the app answered success.
	Acknowledged bool
	// GaveUp reports whether the sandbox stopped after MaxAttempts
	// attempts without an acknowledgement.
	GaveUp bool
	// Duplicate reports whether this delivery sends again a webhook that
	// was delivered before, by [Sandbox.Redeliver] or Duplicates.
	Duplicate bool
	// TransactionType is the webhook's transaction_type:
	// [beecloud.TransactionPay] for a payment, [beecloud.TransactionRefund]
	// for a refund made through the REST API.
	TransactionType beecloud.TransactionType
	// RefundNo is the refund's number for a REFUND webhook.
	RefundNo string
	// Dropped reports that the sandbox was told not to send this webhook
	// ([Sandbox.DropWebhook]): it made no attempt.
	Dropped bool
}

// Done reports whether the delivery is over: acknowledged, given up or
// dropped.
func (d Delivery) Done() bool { return d.Acknowledged || d.GaveUp || d.Dropped }

// Attempt is one POST of a webhook.
type Attempt struct {
	// At is when the request was sent.
	At time.Time
	// StatusCode is the answer's HTTP status, or 0 if there was none.
	StatusCode int
	// Response holds the start of the answer's body (up to 1 KiB).
	Response string
	// Err is the error that kept the request from being answered.
	Err error
}

// Bills returns a copy of every bill, oldest first.
func (s *Sandbox) Bills() []Bill {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyBills(s.bills)
}

// Payments returns a copy of the paid bills, in the order they were paid.
func (s *Sandbox) Payments() []Bill {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyBills(s.payments)
}

// Deliveries returns a copy of every webhook delivery, oldest first.
func (s *Sandbox) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, len(s.deliveries))
	for i, d := range s.deliveries {
		out[i] = copyDelivery(d)
	}
	return out
}

// WaitDelivery waits until the newest webhook delivery for outTradeNo (of
// any app) is done, acknowledged or given up, and returns a copy of it.
// It waits for the payment too if it has not happened yet. With
// Duplicates set it returns once the last duplicate is done: the next
// copy is added as the previous one is acknowledged. It returns
// ctx.Err() if ctx ends first, and [ErrSandboxClosed] once the sandbox is
// closed, with the delivery so far: Close stops it unfinished. If
// outTradeNo was paid to an app without a WebhookURL, and no webhook was
// sent for it, it returns [ErrNoWebhook] at once.
func (s *Sandbox) WaitDelivery(ctx context.Context, outTradeNo string) (Delivery, error) {
	return s.wait(ctx, func() (*Delivery, error) {
		var found *Delivery
		for _, d := range s.deliveries {
			if d.OutTradeNo == outTradeNo {
				found = d
			}
		}
		paid := slices.ContainsFunc(s.payments, func(b *Bill) bool { return b.Order.OutTradeNo == outTradeNo })
		if found == nil && paid {
			return nil, fmt.Errorf("%w: %q was paid to an app without a WebhookURL", ErrNoWebhook, outTradeNo)
		}
		return found, nil
	})
}

// wait waits until the delivery find returns, with s.mu held, is done,
// and returns a copy of it, or find's error; see [Sandbox.WaitDelivery].
func (s *Sandbox) wait(ctx context.Context, find func() (*Delivery, error)) (Delivery, error) {
	for {
		s.mu.Lock()
		var c Delivery
		d, err := find()
		if d != nil {
			c = copyDelivery(d)
		}
		closed, changed := s.closed, s.changed
		s.mu.Unlock()
		if err != nil {
			return c, err
		}
		switch {
		case c.Done():
			return c, nil
		case closed:
			return c, ErrSandboxClosed
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return c, ctx.Err()
		}
	}
}

// Redeliver sends the webhook of the paid outTradeNo (of any app) again,
// the same signed body, as BeeCloud and the channels sometimes do after the
// app acknowledged it. It records a new [Delivery] with Duplicate set,
// resent on the usual schedule until the app answers success, and returns
// a copy of it once it is done. If ctx ends first it returns the delivery
// so far and ctx.Err(); the delivery goes on until Close. If the sandbox
// is closed first it returns the delivery so far and [ErrSandboxClosed].
//
// It returns [ErrNoWebhook] when no webhook was sent for outTradeNo and
// [ErrSandboxClosed] after Close.
func (s *Sandbox) Redeliver(ctx context.Context, outTradeNo string) (Delivery, error) {
	s.mu.Lock()
	var last *Delivery
	for _, d := range s.deliveries {
		if d.OutTradeNo == outTradeNo {
			last = d
		}
	}
	switch {
	case s.closed:
		s.mu.Unlock()
		return Delivery{}, ErrSandboxClosed
	case last == nil:
		s.mu.Unlock()
		return Delivery{}, fmt.Errorf("%w: %q", ErrNoWebhook, outTradeNo)
	}
	d := s.duplicateLocked(last, 0)
	s.mu.Unlock()
	return s.wait(ctx, func() (*Delivery, error) { return d, nil })
}

// duplicateLocked records a copy of d's webhook as a new delivery and
// starts sending it, to be followed by more duplicates; s.mu must be held
// and s not closed.
func (s *Sandbox) duplicateLocked(d *Delivery, more int) *Delivery {
	dup := &Delivery{
		AppID:      d.AppID,
		OutTradeNo: d.OutTradeNo,
		BillID:     d.BillID,
		URL:        d.URL,
		Body:       d.Body,
		Duplicate:  true,

		TransactionType: d.TransactionType,
		RefundNo:        d.RefundNo,
	}
	s.deliveries = append(s.deliveries, dup)
	s.forgetLocked()
	s.wg.Add(1)
	go s.deliver(dup, more)
	s.notifyLocked()
	return dup
}

// notifyLocked wakes the goroutines in WaitDelivery; s.mu must be held.
func (s *Sandbox) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
	s.version++
}

// maxBills is MaxBills or its default.
func (s *Sandbox) maxBills() int {
	if s.MaxBills > 0 {
		return s.MaxBills
	}
	return DefaultMaxBills
}

// forgetLocked drops the oldest bills and deliveries beyond maxBills; a
// forgotten paid bill leaves Payments too. s.mu must be held.
func (s *Sandbox) forgetLocked() {
	limit := s.maxBills()
	if n := len(s.bills) - limit; n > 0 {
		for _, b := range s.bills[:n] {
			delete(s.byID, b.ID)
			if b.State == BillPaid {
				s.payments = slices.DeleteFunc(s.payments, func(p *Bill) bool { return p == b })
			}
		}
		s.bills = slices.Delete(s.bills, 0, n)
	}
	if n := len(s.deliveries) - limit; n > 0 {
		s.deliveries = slices.Delete(s.deliveries, 0, n)
	}
}

func copyBills(bills []*Bill) []Bill {
	out := make([]Bill, len(bills))
	for i, b := range bills {
		out[i] = *b
		out[i].Order.Optional = maps.Clone(b.Order.Optional)
	}
	return out
}

func copyDelivery(d *Delivery) Delivery {
	c := *d
	c.Body = slices.Clone(d.Body)
	c.Attempts = slices.Clone(d.Attempts)
	return c
}
