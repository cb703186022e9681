package beecloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Defaults of [WebhookHandler].
const (
	// DefaultMaxBodyBytes bounds a webhook body: real ones are about 1 KB.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultLease is how long a delivery holds its claim on a transaction
	// while Handle runs.
	DefaultLease = 5 * time.Minute

	// recordTimeout bounds Store.Complete and Store.Release.
	recordTimeout = 30 * time.Second
)

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
// [Config.ParseNotification], drops duplicates, optionally checks the amount,
// calls Handle, and answers "success" once Handle has returned nil. Any
// other answer makes BeeCloud send the message again, at 2 s, 4 s, 8 s, …
// for about 36 hours.
//
// Handle runs at most once per transaction (app, transaction type and
// transaction id) among all the handlers that share one Store, for as
// long as the Store remembers it ([MinRetention] by default): a
// duplicate that arrives while Handle runs is answered 409 Conflict, one
// that arrives after Handle succeeded is answered "success" without
// calling Handle, and one that arrives after Handle failed calls it again.
// The signature covers no timestamp, so anyone who has seen a genuine
// message can replay it after that: let Handle act on the state of your
// own order (mark it paid if it is unpaid), not on the message alone.
//
// The answers other than "success", all text/plain:
//
//	405 the method is not POST (with an Allow header)
//	413 the body is larger than MaxBodyBytes
//	403 the sender is not in AllowedSenders, or the signature is wrong,
//	    legacy-signed when that is off, or stale
//	400 the body is malformed
//	409 Handle is running for this transaction in another delivery
//	422 the amount differs from ExpectedAmount's (logged at error level)
//	500 Handle or ExpectedAmount failed, or the handler is misconfigured
//	503 the Store failed
//
// A WebhookHandler without Handle or with a Config that cannot verify
// webhooks (see [Config.ParseNotification]) answers 500 to every request
// and logs why: it never answers "success". Set the fields before the
// first request and do not change them after; the handler is safe for
// concurrent use.
type WebhookHandler struct {
	// Apps are the credentials that verify webhooks: usually one Config
	// with the app's AppID and MasterSecret (and, for legacy webhooks,
	// LegacyWebhook with the AppSecret or TestSecret); during a Master
	// Secret rotation the new and the old one; or several apps that share
	// the URL. The Notification's AppID says which one verified a message.
	// Apps is required.
	Apps Apps

	// Handle does the merchant's business for a verified notification,
	// such as marking the order paid. A nil error means done: BeeCloud is
	// told "success" and the Store keeps the transaction from being
	// handled again (see above for how long). An error makes BeeCloud
	// send the message again later. Check n.TradeSuccess and
	// n.TransactionType before granting goods. ctx is not cancelled when
	// BeeCloud hangs up, so that work that finishes is recorded; it
	// expires with the Lease. Handle is required.
	Handle func(ctx context.Context, n *Notification) error

	// ExpectedAmount, if set, returns the amount in 分 the merchant's own
	// records expect for a payment: the Amount of the order
	// n.TransactionID. It is asked only for payments (TransactionType
	// "PAY"); refunds and transfers, whose fee may be a part of an order,
	// go to Handle unchecked. It runs after the duplicate check and before
	// Handle. An error (say, an unknown order) is answered 500 so that
	// BeeCloud sends again; a different amount is answered 422, logged at
	// error level with [ErrAmountMismatch], and never reaches Handle.
	// BeeCloud keeps sending such a message for days, which leaves time to
	// look into it: it means a bug in the order records or a tampered
	// order.
	ExpectedAmount func(ctx context.Context, n *Notification) (int64, error)

	// Store records claimed and handled transactions. Share one Store
	// (a database) among every instance of a server. Nil means a zero
	// [MemStore] created on first use, which is enough for a single
	// process that handles fewer than [DefaultMaxEntries] transactions in
	// [MinRetention] (beyond that it answers 503); its memory is lost on
	// restart, when a handled transaction that BeeCloud sends again is
	// handled again.
	Store Store
	// Lease is how long one delivery may hold a transaction while
	// ExpectedAmount and Handle run; zero means DefaultLease (5 minutes).
	// If a server dies while holding a claim, the transaction is handled
	// again once the lease runs out, so set Lease above the longest
	// Handle, but not far above.
	Lease time.Duration
	// MaxBodyBytes bounds the body; zero means DefaultMaxBodyBytes (1 MiB).
	// A larger body is answered 413 without being parsed.
	MaxBodyBytes int64

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
}

// ServeHTTP implements http.Handler.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := &deliveryLog{logger: h.logger(), ctx: r.Context(), attrs: make([]slog.Attr, 0, 8)}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	client, err := h.clientIP(r)
	if err == nil {
		log.with(slog.String("client", client.String()))
	}
	if len(h.AllowedSenders) > 0 {
		if err != nil {
			log.warn("beecloud: webhook refused: no client address", slog.Any("err", err))
			reply(w, http.StatusForbidden, "forbidden")
			return
		}
		if !containsAddr(h.AllowedSenders, client) {
			log.warn("beecloud: webhook refused: sender not allowed")
			reply(w, http.StatusForbidden, "forbidden")
			return
		}
	}
	if h.Handle == nil {
		log.error("beecloud: webhook handler misconfigured: Handle is nil")
		reply(w, http.StatusInternalServerError, "handler misconfigured")
		return
	}
	apps := h.apps()
	for _, c := range apps {
		if err := c.checkWebhook(); err != nil {
			log.error("beecloud: webhook handler misconfigured", slog.Any("err", err))
			reply(w, http.StatusInternalServerError, "handler misconfigured")
			return
		}
	}

	limit := h.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	if r.ContentLength > limit {
		log.warn("beecloud: webhook refused: body too large", slog.Int64("content_length", r.ContentLength), slog.Int64("limit", limit))
		reply(w, http.StatusRequestEntityTooLarge, "body too large")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			log.warn("beecloud: webhook refused: body too large", slog.Int64("limit", limit))
			reply(w, http.StatusRequestEntityTooLarge, "body too large")
			return
		}
		log.warn("beecloud: webhook refused: reading the body failed", slog.Any("err", err))
		reply(w, http.StatusBadRequest, "cannot read body")
		return
	}

	n, err := parseNotification(body, apps)
	if err != nil {
		status, text := http.StatusForbidden, "bad signature"
		switch {
		case errors.Is(err, ErrMalformedNotification):
			status, text = http.StatusBadRequest, "malformed notification"
		case errors.Is(err, ErrStaleNotification):
			text = "stale notification"
		case errors.Is(err, ErrLegacyDisabled):
			text = "legacy signature disabled"
		}
		log.warn("beecloud: webhook refused", slog.Any("err", err), slog.Int("body_bytes", len(body)))
		reply(w, status, text)
		return
	}
	log.with(
		slog.String("app_id", n.AppID),
		slog.String("transaction_type", n.TransactionType),
		slog.String("transaction_id", n.TransactionID),
		slog.Int64("transaction_fee", n.TransactionFee),
	)
	status, text := h.handle(r.Context(), log, n)
	reply(w, status, text)
}

// handle claims n, runs ExpectedAmount and Handle, and records the
// outcome. It returns the answer.
func (h *WebhookHandler) handle(ctx context.Context, log *deliveryLog, n *Notification) (int, string) {
	lease := h.Lease
	if lease <= 0 {
		lease = DefaultLease
	}
	// The work and its bookkeeping go on if BeeCloud hangs up: a Handle
	// cut short, or a completion not recorded, would only mean a resend.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lease)
	defer cancel()

	store := h.store()
	key, token := n.Key(), NewOutTradeNo()
	state, err := store.Claim(ctx, key, token, lease)
	if err != nil {
		log.error("beecloud: webhook store failed to claim", slog.Any("err", err))
		return http.StatusServiceUnavailable, "store unavailable"
	}
	switch state {
	case ClaimDone:
		log.info("beecloud: webhook already handled")
		return http.StatusOK, "success"
	case ClaimBusy:
		log.info("beecloud: webhook is being handled by another delivery")
		return http.StatusConflict, "busy"
	case ClaimOK:
	default:
		log.error("beecloud: webhook store answered an unknown claim state", slog.String("state", state.String()))
		return http.StatusServiceUnavailable, "store unavailable"
	}

	// Recording the outcome gets its own time: Handle may have used up
	// the lease.
	record := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	}
	completed := false
	defer func() {
		if completed {
			return
		}
		// Also reached when Handle panics: the next delivery may try again
		// at once instead of after the lease.
		ctx, cancel := record()
		defer cancel()
		if err := store.Release(ctx, key, token); err != nil {
			log.error("beecloud: webhook store failed to release", slog.Any("err", err))
		}
	}()

	if h.ExpectedAmount != nil && n.TransactionType == "PAY" {
		want, err := h.ExpectedAmount(ctx, n)
		if err != nil {
			log.error("beecloud: webhook amount lookup failed", slog.Any("err", err))
			return http.StatusInternalServerError, "amount lookup failed"
		}
		if want != n.TransactionFee {
			err := fmt.Errorf("%w: transaction_fee is %d 分, the order says %d", ErrAmountMismatch, n.TransactionFee, want)
			log.error("beecloud: webhook refused: AMOUNT MISMATCH", slog.Any("err", err), slog.Int64("expected", want))
			return http.StatusUnprocessableEntity, "amount mismatch"
		}
	}

	if err := h.Handle(ctx, n); err != nil {
		log.error("beecloud: webhook Handle failed", slog.Any("err", err))
		return http.StatusInternalServerError, "handle failed"
	}
	completed = true
	rctx, rcancel := record()
	defer rcancel()
	if err := store.Complete(rctx, key, token); err != nil {
		// Handle has done its work: answering anything but success would
		// make BeeCloud resend, and a resend after the lease would run
		// Handle again.
		log.error("beecloud: webhook handled but the store failed to record it; a later duplicate may be handled again", slog.Any("err", err))
	} else {
		log.info("beecloud: webhook handled")
	}
	return http.StatusOK, "success"
}

func reply(w http.ResponseWriter, status int, text string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, text) //nolint:errcheck // BeeCloud went away: it sends the notification again
}

func (h *WebhookHandler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func (h *WebhookHandler) apps() Apps {
	if len(h.Apps) == 0 {
		return Apps{{}} // refused by checkWebhook: no AppID, no MasterSecret
	}
	return h.Apps
}

func (h *WebhookHandler) store() Store {
	if h.Store != nil {
		return h.Store
	}
	h.storeOnce.Do(func() { h.memStore = new(MemStore) })
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
