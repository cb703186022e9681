// Package shop is the web shop of the checkout example: a product page, an
// order created when the buyer presses 购买 (a POST), the order's pay page
// with BeeCloud's pay buttons, the webhook endpoint that marks orders
// paid, and the result page the buyer returns to. When a webhook is late,
// the result page can ask BeeCloud (WebhookHandler.Reconcile) and a
// sweeper asks about unpaid orders in the background; an admin page
// refunds paid orders through beecloud.Client, and REFUND webhooks mark
// the refunds done.
//
// It is a package of its own so that the end-to-end tests can start the
// shop in-process; the example's main packages only add flags, the
// sandbox and the listener.
package shop

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/examples/internal/compress"
)

// Config configures a shop.
type Config struct {
	// BeeCloud is the app's configuration. Its ScriptURL points at a
	// sandbox when the shop runs offline.
	BeeCloud beecloud.Config
	// Store de-duplicates webhooks; nil means an in-memory store, which
	// is right for one process. Shops on several servers share one (see
	// stores/pgstore and stores/redisstore).
	Store beecloud.Store
	// Orders is the order book; nil means a new empty one.
	Orders *Orders
	// Products is the catalog; nil means DefaultProducts().
	Products []Product
	// BaseURL is the shop's public address, such as
	// "https://shop.example.com", used for the return_url. Empty means
	// the address the buyer's browser used (the request's Host).
	BaseURL string
	// Sandbox says the shop takes fake payments; the page says so.
	Sandbox bool
	// Logger receives one line per webhook; nil means slog.Default().
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// ConfirmWait is how long the result page, when BeeCloud has sent
	// the buyer back, keeps checking for the payment's webhook before it
	// says the notice is late; zero means DefaultConfirmWait.
	ConfirmWait time.Duration
	// Client asks BeeCloud's REST API (or the sandbox's) about orders and
	// refunds them. Nil means none: the result page cannot check a
	// payment's status, the admin page cannot refund, and no sweeper runs.
	Client *beecloud.Client
	// SweepEvery is how often [Shop.RunSweeper] asks BeeCloud about the
	// orders still unpaid SweepAfter after they were made, for payments
	// whose webhook never came; zero means DefaultSweepEvery, a negative
	// value never.
	SweepEvery time.Duration
	// SweepAfter is how old an unpaid order must be before the sweeper
	// asks about it; zero means DefaultSweepAfter.
	SweepAfter time.Duration
	// AdminPassword, if set, guards the admin page (/admin: the orders and
	// their refunds) with HTTP basic authentication, user "admin". Empty
	// means no admin page, except in Sandbox mode, where it is open to
	// requests for localhost or a loopback address only. Either way every
	// refund needs the page's per-session form token and a same-origin
	// request.
	AdminPassword string
	// RefundTimeout bounds a refund made on the admin page: waiting for
	// BeeCloud's answer and, if it is lost, looking the refund up. Zero
	// means beecloud.DefaultMoneyTimeout.
	RefundTimeout time.Duration
	// FailFirst makes the webhook fail the first FailFirst payment
	// webhooks of each order, with ErrFailedOnPurpose, as a shop whose
	// database is briefly down would. It demonstrates BeeCloud's resends
	// (after 2 s, 4 s, 8 s, …): the order ends paid all the same, marked
	// once. Zero, for a real shop, fails none.
	FailFirst int
}

// Defaults of Config.
const (
	// DefaultConfirmWait is how long a result page waits for a late
	// webhook before it offers to ask BeeCloud or to pay again.
	DefaultConfirmWait = time.Minute
	// DefaultSweepEvery is how often the sweeper runs.
	DefaultSweepEvery = time.Minute
	// DefaultSweepAfter is how long after checkout an unpaid order is
	// reconciled: a webhook comes within seconds when it comes at all.
	DefaultSweepAfter = 5 * time.Minute
)

// Paths the shop serves. An order's pages are under PayPath and
// ResultPath followed by its out_trade_no.
const (
	WebhookPath = "/beecloud/webhook"
	OrdersPath  = "/orders"
	PayPath     = "/pay/"
	ResultPath  = "/result/"
)

// Shop is the shop's web server: an http.Handler with its order book and
// webhook handler. Make one with [New]. It is safe for concurrent use.
type Shop struct {
	cfg     Config
	orders  *Orders
	log     *slog.Logger
	webhook *beecloud.WebhookHandler
	handler http.Handler

	adminKey []byte // signs the admin forms' tokens
	sweeps   atomic.Int64
}

// New returns the shop. It fails when cfg.BeeCloud lacks the App ID or a
// secret, or when its webhook handler would not work (see
// [beecloud.WebhookHandler.Validate]): at startup rather than at the
// first payment.
func New(cfg Config) (*Shop, error) {
	bc := cfg.BeeCloud
	if bc.AppID == "" || bc.AppSecret == "" || bc.MasterSecret == "" {
		return nil, fmt.Errorf("shop: BeeCloud config needs AppID, AppSecret and MasterSecret: %v", bc)
	}
	if cfg.Products == nil {
		cfg.Products = DefaultProducts()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ConfirmWait <= 0 {
		cfg.ConfirmWait = DefaultConfirmWait
	}
	if cfg.SweepEvery == 0 {
		cfg.SweepEvery = DefaultSweepEvery
	}
	if cfg.SweepAfter <= 0 {
		cfg.SweepAfter = DefaultSweepAfter
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	s := &Shop{cfg: cfg, orders: cfg.Orders, log: cfg.Logger}
	if s.orders == nil {
		s.orders = NewOrders()
	}
	s.webhook = s.webhookHandler()
	if err := s.webhook.Validate(); err != nil {
		return nil, fmt.Errorf("shop: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /favicon.ico", serveFavicon)
	mux.HandleFunc("GET /favicon.svg", serveFavicon)
	mux.HandleFunc("POST "+OrdersPath, s.createOrder)
	mux.HandleFunc("GET "+PayPath+"{no}", s.pay)
	mux.HandleFunc("GET "+ResultPath+"{no}", s.result)
	mux.HandleFunc("GET "+ResultPath+"{no}/status", s.status)
	mux.HandleFunc("POST "+ResultPath+"{no}/check", s.check)
	mux.Handle("POST "+WebhookPath, s.webhook)
	if s.adminEnabled() {
		s.adminKey = make([]byte, 32)
		rand.Read(s.adminKey)
		mux.HandleFunc("GET "+AdminPath, s.admin)
		mux.HandleFunc("POST "+AdminPath+"/refund", s.refund)
		mux.HandleFunc("POST "+AdminPath+"/refund/check", s.checkRefund)
	}
	// Browsers' cross-site POSTs (a form on another site buying for the
	// buyer, or refunding) are refused; BeeCloud's webhook, sent by a
	// server, is not a browser request and passes.
	mux.HandleFunc("GET /", s.pageNotFound)
	s.handler = compress.Gzip(http.NewCrossOriginProtection().Handler(mux))
	return s, nil
}

// ServeHTTP serves the shop's pages and its webhook endpoint.
func (s *Shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Orders returns the shop's order book.
func (s *Shop) Orders() *Orders { return s.orders }

// index shows the products, each with a 购买 button that creates an order.
// Viewing the page creates nothing.
func (s *Shop) index(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, indexTemplate, map[string]any{
		"Sandbox":  s.cfg.Sandbox,
		"Products": s.cfg.Products,
		"Admin":    s.adminEnabled(),
	})
}

// createOrder makes an order for the product in the form and sends the
// buyer to its pay page (POST, then redirect, then GET: reloading the pay
// page makes no new order).
func (s *Shop) createOrder(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	p, ok := s.product(r.PostFormValue("product"))
	if !ok {
		s.message(w, http.StatusBadRequest, message{"没有这件商品", "请从商店页面选择商品。", "There is no such product: choose one on the shop's page."})
		return
	}
	order := Order{OutTradeNo: beecloud.NewOutTradeNo(), ProductID: p.ID, Title: p.Title, Amount: p.Amount, Created: s.cfg.Now()}
	if err := s.orders.Add(order); err != nil {
		s.log.Warn("shop: order refused", "err", err)
		w.Header().Set("Retry-After", "60")
		s.message(w, http.StatusServiceUnavailable, message{"暂时无法下单", "未付款的订单太多，请稍后再试。", "The shop has too many unpaid orders right now; please try again in a minute."})
		return
	}
	http.Redirect(w, r, PayPath+order.OutTradeNo, http.StatusSeeOther)
}

func (s *Shop) product(id string) (Product, bool) {
	for _, p := range s.cfg.Products {
		if p.ID == id {
			return p, true
		}
	}
	return Product{}, false
}

// DirectChannel is the channel of each order's second button, which
// skips BeeCloud's channel menu with instant_channel: WeChat Pay by QR
// code, which a buyer on a computer scans with the phone.
const DirectChannel = beecloud.ChannelWxMP

// callbacks are the page's functions BeeCloud's script calls: BC.err shows
// a refused BC.click (a bad sign, a disabled channel, …) to the buyer
// rather than in the console only.
var callbacks = beecloud.Callbacks{Err: "shop.payError"}

// pay shows an unpaid order with two pay buttons for it: #pay-order opens
// BeeCloud's channel menu, #pay-order-wxmp pays with DirectChannel at once. Both
// carry the same out_trade_no, so the buyer pays the order once, by
// either, however often they come back to this page.
func (s *Shop) pay(w http.ResponseWriter, r *http.Request) {
	order, ok := s.orders.Get(r.PathValue("no"))
	if !ok {
		s.notFound(w, r.PathValue("no"))
		return
	}
	if order.State != StatePending {
		http.Redirect(w, r, ResultPath+order.OutTradeNo, http.StatusSeeOther)
		return
	}
	bo := beecloud.Order{
		Title:      order.Title,
		Amount:     order.Amount,
		OutTradeNo: order.OutTradeNo,
		ReturnURL:  s.baseURL(r) + ResultPath + order.OutTradeNo,
		Optional:   map[string]any{"product": order.ProductID},
	}
	menu, err := s.cfg.BeeCloud.ClickScript("pay-order", bo, callbacks)
	if err == nil {
		bo.InstantChannel = DirectChannel
		var direct template.HTML
		direct, err = s.cfg.BeeCloud.ClickScript("pay-order-"+string(DirectChannel), bo, callbacks)
		menu += direct
	}
	if err != nil {
		s.log.Error("shop: cannot render the pay buttons", "out_trade_no", order.OutTradeNo, "err", err)
		http.Error(w, "cannot render the pay buttons", http.StatusInternalServerError)
		return
	}
	// A strict Content Security Policy: only the scripts that carry this
	// response's nonce run (the page's own, the click runtime and
	// BeeCloud's tag); the buttons are data and need none.
	nonce := beecloud.NewNonce()
	scriptTag, err := s.cfg.BeeCloud.ScriptTagNonce(nonce)
	if err != nil {
		s.log.Error("shop: cannot render the script tag", "err", err)
		http.Error(w, "cannot render the pay buttons", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Security-Policy", "script-src 'nonce-"+nonce+"' 'strict-dynamic' https:; object-src 'none'; base-uri 'none'")
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, http.StatusOK, payTemplate, map[string]any{
		"ScriptTag":  scriptTag,
		"Nonce":      nonce,
		"Sandbox":    s.cfg.Sandbox,
		"Order":      order,
		"Scripts":    menu,
		"Direct":     DirectChannel,
		"ResultPath": ResultPath + order.OutTradeNo,
	})
}

// result shows an order as the webhook left it. BeeCloud sends the buyer
// here (the return_url) with bill_no, spay_result and total_fee in the
// query, which the buyer can edit: the page never takes them as proof of
// payment. spay_result=SUCCESS only makes an unpaid order's page wait a
// while for the webhook; without it (the buyer opened "View order") the
// page says the order is not paid and offers to pay again.
func (s *Shop) result(w http.ResponseWriter, r *http.Request) {
	no := r.PathValue("no")
	order, ok := s.orders.Get(no)
	if !ok {
		s.notFound(w, no)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, http.StatusOK, resultTemplate, map[string]any{
		"Order":      order,
		"Waiting":    order.State == StatePending && strings.EqualFold(r.URL.Query().Get("spay_result"), "SUCCESS"),
		"WaitMillis": s.cfg.ConfirmWait.Milliseconds(),
		"StatusPath": ResultPath + no + "/status",
		"PayPath":    PayPath + no,
		"CheckPath":  ResultPath + no + "/check",
		"CanCheck":   s.cfg.Client != nil,
		"Notice":     checkNotices[r.URL.Query().Get("checked")],
	})
}

// status answers the result page's poll with the order's state, as JSON.
func (s *Shop) status(w http.ResponseWriter, r *http.Request) {
	order, ok := s.orders.Get(r.PathValue("no"))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]string{"error": "no such order"}) //nolint:errcheck // the client went away
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"state": string(order.State)}) //nolint:errcheck // the client went away
}

func (s *Shop) notFound(w http.ResponseWriter, no string) {
	s.message(w, http.StatusNotFound, message{"订单不存在", "没有订单号为 " + no + " 的订单。", "There is no order " + no + "."})
}

// pageNotFound answers a path the shop does not have with a page in its
// own style, and a way back.
func (s *Shop) pageNotFound(w http.ResponseWriter, _ *http.Request) {
	s.message(w, http.StatusNotFound, message{"页面不存在", "您要找的页面不存在，可能已被移除或链接有误。请返回商店继续购物。", "This page does not exist."})
}

func (s *Shop) message(w http.ResponseWriter, code int, m message) {
	s.render(w, code, messageTemplate, m)
}

// serveFavicon serves the shop's icon, so that browsers asking for
// /favicon.ico get one rather than a 404.
func serveFavicon(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write([]byte(favicon)) //nolint:errcheck // the client went away
}

// baseURL is where the buyer reaches the shop.
func (s *Shop) baseURL(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return s.cfg.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// render executes t into a buffer first so that a failing template gives a
// clean 500 instead of half a page.
func (s *Shop) render(w http.ResponseWriter, code int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		s.log.Error("shop: cannot render page", "template", t.Name(), "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes()) //nolint:errcheck // the client went away
}
