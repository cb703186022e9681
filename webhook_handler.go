package beecloud

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"sync"
	"time"
)

// Defaults of [WebhookHandler].
const (
	// DefaultMaxBodyBytes bounds a webhook body: real ones are about 1 KB.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultLease is how long a delivery's claim on a transaction lasts
	// unless renewed; the handler renews it every third of the lease while
	// the delivery runs.
	DefaultLease = 5 * time.Minute
	// DefaultHandleTimeout bounds the claim, ExpectedAmount and Handle
	// together.
	DefaultHandleTimeout = 5 * time.Minute
	// DefaultReadTimeout bounds reading a webhook's body.
	DefaultReadTimeout = 10 * time.Second
	// MinLease is the shortest Lease [WebhookHandler.Validate] accepts:
	// the heartbeat renews the claim every third of it.
	MinLease = 100 * time.Millisecond
)

// ErrClaimLost is the cause (see context.Cause) with which the context
// given to ExpectedAmount and Handle is cancelled when the handler learns
// that its claim on the transaction is gone: another delivery took it over
// after the lease ran out unrenewed, or completed the transaction.
// Whatever Handle does from then on may be done twice.
var ErrClaimLost = errors.New("beecloud: webhook claim lost")

// WebhookSenders returns the addresses BeeCloud sends webhooks from,
// 123.57.146.46 and 182.92.114.175, for [WebhookHandler].AllowedSenders.
// The caller owns the returned slice.
func WebhookSenders() []netip.Prefix {
	return []netip.Prefix{
		netip.MustParsePrefix("123.57.146.46/32"),
		netip.MustParsePrefix("182.92.114.175/32"),
	}
}

// WebhookHandler is the http.Handler for the URL set as webhook on
// BeeCloud's dashboard. For each POST it verifies the body with
// [Apps.ParseNotification], claims the transaction in its Store, checks
// the amount with ExpectedAmount, calls Handle, records the completion,
// and answers "success". Any other answer makes BeeCloud send the message
// again, at growing intervals, for about 36 hours.
//
// Handle runs at most once per transaction (app, transaction type and
// transaction id) among the handlers that share one Store, and "success"
// is answered only once a Handle for it returned nil. A duplicate that
// arrives while Handle runs is answered 409 (BeeCloud sends it again
// later); one that arrives after Handle succeeded is answered "success"
// without Handle. With a [TxStore], Handle's writes and the completion
// commit together. Short of that, a crash between Handle and the
// completion, or a store outage longer than Lease, can run Handle twice
// (see the README's Webhooks section), so let Handle act on the state of
// your own order (mark it paid if it is unpaid) rather than on the
// message alone.
//
// A notification whose trade_success is false is refused (422) before the
// Store is asked. The other answers, all text/plain: 405 not a POST; 413
// body larger than MaxBodyBytes; 408 body slower than ReadTimeout; 403
// sender not in AllowedSenders, or signature wrong, stale or legacy when
// that is off; 400 malformed body; 409 busy; 422 amount mismatch; 500
// Handle or ExpectedAmount failed, or the handler is misconfigured; 503
// the Store failed.
//
// Call [WebhookHandler.Validate] at startup: a handler it refuses answers
// 500 to every request. Set the fields before the first request and do
// not change them after; the handler is safe for concurrent use.
type WebhookHandler struct {
	// Apps are the credentials that verify webhooks: usually one Config
	// with the app's AppID and MasterSecret (and, for legacy webhooks,
	// LegacyWebhook with the AppSecret or TestSecret); during a Master
	// Secret rotation the new and the old one; or several apps that share
	// the URL. The Notification's AppID says which one verified a message.
	// Apps is required.
	Apps Apps

	// Handle does the merchant's business for a verified, successful
	// transaction, such as marking the order paid. A nil error means
	// done: BeeCloud is told "success" and the Store keeps the
	// transaction from being handled again (for its retention,
	// [MinRetention] by default). An error makes BeeCloud send the message
	// again later; a panic does too, after the handler let go of its
	// claim, and goes on to the server. Check n.TransactionType before
	// granting goods. A test message (n.Test) has its own record, apart
	// from the live transaction of the same id: Handle may ignore it
	// (return nil) without losing the live payment.
	//
	// ctx carries the request's values, but is not cancelled when
	// BeeCloud hangs up, so that work that finishes is recorded; it ends
	// after HandleTimeout, with cause [ErrClaimLost] when another delivery
	// took the transaction over, and once Handle has returned. With a
	// [TxStore], ctx carries the store's transaction. Handle is required.
	Handle func(ctx context.Context, n *Notification) error

	// ExpectedAmount, if set, returns the amount in 分 the merchant's own
	// records expect for a payment or a refund: for a payment
	// (TransactionType [TransactionPay]) the Amount of the order
	// n.TransactionID; for a refund ([TransactionRefund]) the amount of
	// the refund the merchant asked for, whose refund number is
	// n.TransactionID. It is not asked for other types. It runs under the
	// claim, after the duplicate check and before Handle. An error (say,
	// an unknown order) is answered 500 so that BeeCloud sends again; a
	// different amount is answered 422, logged at error level with
	// [ErrAmountMismatch], and never reaches Handle. BeeCloud keeps
	// sending such a message for days, which leaves time to look into it:
	// it means a bug in the order records or a tampered order.
	ExpectedAmount func(ctx context.Context, n *Notification) (int64, error)

	// Store records claimed and handled transactions. Share one Store
	// (a database) among every instance of a server. Nil means a
	// [MemStore] that logs to Logger, enough for a single process; its
	// memory is lost on restart, when a handled transaction that BeeCloud
	// sends again is handled again.
	Store Store
	// Lease is how long a delivery's claim on a transaction lasts without
	// renewal; zero means DefaultLease (5 minutes), and Validate refuses
	// less than MinLease. The handler renews it every Lease/3 while the
	// delivery runs, so Handle may take longer. If a server dies while
	// holding a claim, the transaction waits for the lease to run out
	// before a resend can handle it; if the store is unreachable for
	// longer than the lease while Handle runs or its completion is being
	// recorded, a resend may run Handle again. So keep Lease well above
	// your store's longest outage.
	Lease time.Duration
	// HandleTimeout bounds the claim, ExpectedAmount and Handle together:
	// their ctx ends then. Zero means DefaultHandleTimeout (5 minutes). A Handle
	// that ignores its ctx keeps the transaction claimed until it returns,
	// so that no resend runs it twice; the overrun is logged at error
	// level.
	HandleTimeout time.Duration
	// MaxBodyBytes bounds the body; zero means DefaultMaxBodyBytes (1 MiB).
	// A larger body is answered 413 without being parsed.
	MaxBodyBytes int64
	// ReadTimeout bounds reading the body, through
	// http.ResponseController.SetReadDeadline; zero means
	// DefaultReadTimeout (10 s). It replaces the server's own read
	// deadline for the body, and does nothing where the ResponseWriter
	// cannot set one (an httptest.ResponseRecorder): give your
	// http.Server a ReadTimeout too.
	ReadTimeout time.Duration

	// AllowedSenders, if not empty, limits whose messages are handled:
	// other clients get 403. Use [WebhookSenders] for BeeCloud's own
	// addresses. The client's address is the connection's RemoteAddr,
	// which behind a reverse proxy or load balancer is the proxy's, not
	// BeeCloud's: set ClientIPHeader then.
	AllowedSenders []netip.Prefix
	// ClientIPHeader, if set, names the request header that holds the
	// client's address as seen by your reverse proxy, such as "X-Real-IP"
	// or "X-Forwarded-For" (whose last address is used: the one your
	// proxy added). Set it only when every request passes through a proxy
	// that sets that header, or anyone can claim any address. It is used
	// only for AllowedSenders (a request without the header is refused)
	// and for logging.
	ClientIPHeader string

	// Logger receives one record per refused or failed delivery (at warn
	// or error level) and per handled one (info level). Nil means
	// slog.Default(). Records carry the app, transaction and client
	// address, never a secret or the body.
	Logger *slog.Logger

	storeOnce sync.Once
	memStore  *MemStore

	// background counts the completions still being recorded.
	background sync.WaitGroup
	// Retry budgets of Complete, inline and in the background; zero
	// means completeInline and completeBackground. Tests shorten them.
	inlineBudget, backgroundBudget time.Duration
}

// Validate reports what keeps h from handling webhooks: no Apps, an app
// that cannot verify webhooks (see [Config.ParseNotification]), no Handle,
// a Store that is a nil pointer, a Lease below MinLease, a negative
// timeout or size, or an invalid AllowedSenders prefix. The error wraps [ErrInvalidConfig] and names
// every problem. ServeHTTP answers 500 to every request while Validate
// fails: call it at startup.
func (h *WebhookHandler) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: WebhookHandler."+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	if len(h.Apps) == 0 {
		bad("Apps is empty")
	}
	for i, c := range h.Apps {
		if err := c.checkWebhook(); err != nil {
			errs = append(errs, fmt.Errorf("%w (WebhookHandler.Apps[%d])", err, i))
		}
	}
	if h.Handle == nil {
		bad("Handle is nil")
	}
	if h.Store != nil {
		if v := reflect.ValueOf(h.Store); v.Kind() == reflect.Pointer && v.IsNil() {
			bad("Store is a nil %T", h.Store)
		}
	}
	if h.Lease != 0 && h.Lease < MinLease {
		bad("Lease %v is below MinLease (%v)", h.Lease, MinLease)
	}
	if h.HandleTimeout < 0 {
		bad("HandleTimeout %v is negative", h.HandleTimeout)
	}
	if h.ReadTimeout < 0 {
		bad("ReadTimeout %v is negative", h.ReadTimeout)
	}
	if h.MaxBodyBytes < 0 {
		bad("MaxBodyBytes %d is negative", h.MaxBodyBytes)
	}
	for i, p := range h.AllowedSenders {
		if !p.IsValid() {
			bad("AllowedSenders[%d] is not a valid prefix", i)
		}
	}
	return errors.Join(errs...)
}

// outcome is what became of a delivery. ServeHTTP answers each with the
// status and text of answers; Reconcile turns it into its result.
type outcome int

const (
	outHandled            outcome = iota // Handle succeeded, now or before
	outBusy                              // another delivery holds the transaction
	outNotSuccessful                     // trade_success is false
	outAmountMismatch                    // the amount differs from ExpectedAmount's
	outAmountLookupFailed                // ExpectedAmount failed
	outHandleFailed                      // Handle failed
	outStoreFailed                       // the Store failed
	outMisconfigured                     // Validate fails
	outMethodNotAllowed
	outForbidden // the sender is not in AllowedSenders
	outNoBody
	outTooLarge
	outReadTimeout
	outUnreadable
	outMalformed
	outBadSignature
	outStale
	outLegacyDisabled
)

// answers is the one table of what a WebhookHandler answers, all text/plain.
var answers = [...]struct {
	status int
	text   string
}{
	outHandled:            {http.StatusOK, "success"},
	outBusy:               {http.StatusConflict, "busy"},
	outNotSuccessful:      {http.StatusUnprocessableEntity, "trade not successful"},
	outAmountMismatch:     {http.StatusUnprocessableEntity, "amount mismatch"},
	outAmountLookupFailed: {http.StatusInternalServerError, "amount lookup failed"},
	outHandleFailed:       {http.StatusInternalServerError, "handle failed"},
	outStoreFailed:        {http.StatusServiceUnavailable, "store unavailable"},
	outMisconfigured:      {http.StatusInternalServerError, "handler misconfigured"},
	outMethodNotAllowed:   {http.StatusMethodNotAllowed, "method not allowed"},
	outForbidden:          {http.StatusForbidden, "forbidden"},
	outNoBody:             {http.StatusBadRequest, "no body"},
	outTooLarge:           {http.StatusRequestEntityTooLarge, "body too large"},
	outReadTimeout:        {http.StatusRequestTimeout, "body read timed out"},
	outUnreadable:         {http.StatusBadRequest, "cannot read body"},
	outMalformed:          {http.StatusBadRequest, "malformed notification"},
	outBadSignature:       {http.StatusForbidden, "bad signature"},
	outStale:              {http.StatusForbidden, "stale notification"},
	outLegacyDisabled:     {http.StatusForbidden, "legacy signature disabled"},
}

// ServeHTTP implements http.Handler.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reply(w, h.serve(w, r))
}

// serve reads, verifies and handles one delivery, and returns its outcome.
func (h *WebhookHandler) serve(w http.ResponseWriter, r *http.Request) outcome {
	log := newDeliveryLog(r.Context(), h.logger())
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return outMethodNotAllowed
	}
	if err := h.Validate(); err != nil {
		log.error("beecloud: webhook handler misconfigured", slog.Any("err", err))
		return outMisconfigured
	}
	if o, ok := h.admit(r, log); !ok {
		return o
	}
	body, o, ok := h.readBody(w, r, log)
	if !ok {
		return o
	}
	n, err := parseNotification(body, h.Apps)
	if err != nil {
		o := outBadSignature
		switch {
		case errors.Is(err, ErrMalformedNotification):
			o = outMalformed
		case errors.Is(err, ErrStaleNotification):
			o = outStale
		case errors.Is(err, ErrLegacyDisabled):
			o = outLegacyDisabled
		}
		log.warn("beecloud: webhook refused", slog.Any("err", err), slog.Int("body_bytes", len(body)))
		return o
	}
	if log.on {
		log.with(
			slog.String("app_id", n.AppID),
			slog.String("transaction_type", string(n.TransactionType)),
			slog.String("transaction_id", n.TransactionID),
			slog.Int64("transaction_fee", n.TransactionFee),
		)
	}
	o, _ = h.handle(r.Context(), log, n) // handle logged the error
	return o
}

// admit checks the client's address against AllowedSenders, and notes it
// for the log. It returns false, and why, if the client is refused.
func (h *WebhookHandler) admit(r *http.Request, log *deliveryLog) (outcome, bool) {
	if len(h.AllowedSenders) == 0 && !log.on {
		return 0, true
	}
	client, err := h.clientIP(r)
	if err == nil && log.on {
		log.with(slog.String("client", client.String()))
	}
	switch {
	case len(h.AllowedSenders) == 0:
		return 0, true
	case err != nil:
		log.warn("beecloud: webhook refused: no client address", slog.Any("err", err))
		return outForbidden, false
	case !containsAddr(h.AllowedSenders, client):
		log.warn("beecloud: webhook refused: sender not allowed")
		return outForbidden, false
	}
	return 0, true
}

// readBody reads r's body within MaxBodyBytes and ReadTimeout. On failure
// it returns false and why.
func (h *WebhookHandler) readBody(w http.ResponseWriter, r *http.Request, log *deliveryLog) ([]byte, outcome, bool) {
	if r.Body == nil {
		log.warn("beecloud: webhook refused: the request has no body")
		return nil, outNoBody, false
	}
	limit := h.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	if r.ContentLength > limit {
		log.warn("beecloud: webhook refused: body too large", slog.Int64("content_length", r.ContentLength), slog.Int64("limit", limit))
		return nil, outTooLarge, false
	}
	timeout := h.ReadTimeout
	if timeout <= 0 {
		timeout = DefaultReadTimeout
	}
	// Where the ResponseWriter cannot set a deadline, the body is read
	// without one. The server clears the deadline once the body has been
	// read to its end (and watches for the client hanging up without one),
	// and keeps it after a failure, so that it gives up draining the rest
	// of a body that trickles.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(timeout))
	// Room for the announced length and the EOF: one allocation, where
	// io.ReadAll would grow its buffer from 512 bytes.
	buf := bytes.NewBuffer(make([]byte, 0, min(max(r.ContentLength, 0), limit)+bytes.MinRead))
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	body := buf.Bytes()
	if err == nil {
		return body, 0, true
	}
	w.Header().Set("Connection", "close")
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		log.warn("beecloud: webhook refused: body too large", slog.Int64("limit", limit))
		return nil, outTooLarge, false
	case errors.Is(err, os.ErrDeadlineExceeded):
		log.warn("beecloud: webhook refused: the body did not arrive in time", slog.Duration("read_timeout", timeout), slog.Int("body_bytes", len(body)))
		return nil, outReadTimeout, false
	}
	log.warn("beecloud: webhook refused: reading the body failed", slog.Any("err", err))
	return nil, outUnreadable, false
}

// Header values of every answer, shared rather than made per answer:
// net/http copies a handler's header map before writing it, and nothing
// appends to these slices.
var (
	textPlain = []string{"text/plain; charset=utf-8"}
	noSniff   = []string{"nosniff"}
)

// reply answers o with its status and text from answers.
func reply(w http.ResponseWriter, o outcome) {
	h := w.Header()
	h["Content-Type"] = textPlain
	h["X-Content-Type-Options"] = noSniff
	w.WriteHeader(answers[o].status)
	_, _ = io.WriteString(w, answers[o].text)
}

func (h *WebhookHandler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func (h *WebhookHandler) store() Store {
	if h.Store != nil {
		return h.Store
	}
	h.storeOnce.Do(func() { h.memStore = &MemStore{Logger: h.logger()} })
	return h.memStore
}

// clientIP returns the address the request came from: the connection's
// peer, or the address in ClientIPHeader if that is set.
func (h *WebhookHandler) clientIP(r *http.Request) (netip.Addr, error) {
	s := r.RemoteAddr
	if h.ClientIPHeader != "" {
		values := r.Header.Values(h.ClientIPHeader)
		if len(values) == 0 {
			return netip.Addr{}, fmt.Errorf("no %s header", h.ClientIPHeader)
		}
		// With X-Forwarded-For, each proxy appends the address it saw: the
		// last one is what the proxy in front of this server saw.
		last := values[len(values)-1]
		if i := strings.LastIndexByte(last, ','); i >= 0 {
			last = last[i+1:]
		}
		s = strings.TrimSpace(last)
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("no address in %s", h.ipSource())
	}
	return addr.Unmap(), nil
}

func (h *WebhookHandler) ipSource() string {
	if h.ClientIPHeader != "" {
		return h.ClientIPHeader
	}
	return "RemoteAddr"
}

func containsAddr(prefixes []netip.Prefix, addr netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// deliveryLog writes the records about one delivery, each with the
// attributes known so far.
type deliveryLog struct {
	logger *slog.Logger
	ctx    context.Context
	attrs  []slog.Attr
	// on is false when the logger drops even errors: then the attributes
	// are not worth making.
	on bool
}

func newDeliveryLog(ctx context.Context, logger *slog.Logger) *deliveryLog {
	d := &deliveryLog{logger: logger, ctx: ctx, on: logger.Enabled(ctx, slog.LevelError)}
	if d.on {
		d.attrs = make([]slog.Attr, 0, 8)
	}
	return d
}

func (d *deliveryLog) with(attrs ...slog.Attr) { d.attrs = append(d.attrs, attrs...) }

func (d *deliveryLog) log(level slog.Level, msg string, attrs ...slog.Attr) {
	if !d.logger.Enabled(d.ctx, level) {
		return
	}
	// The full slice expression makes append copy rather than write into
	// d.attrs' spare capacity.
	d.logger.LogAttrs(d.ctx, level, msg, append(d.attrs[:len(d.attrs):len(d.attrs)], attrs...)...)
}

func (d *deliveryLog) info(msg string, attrs ...slog.Attr)  { d.log(slog.LevelInfo, msg, attrs...) }
func (d *deliveryLog) warn(msg string, attrs ...slog.Attr)  { d.log(slog.LevelWarn, msg, attrs...) }
func (d *deliveryLog) error(msg string, attrs ...slog.Attr) { d.log(slog.LevelError, msg, attrs...) }
