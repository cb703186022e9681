// Package wxshop is the wechat-jsapi example: a page opened inside WeChat
// that gets the buyer's openid through WeChat's web OAuth (网页授权,
// snsapi_base) and then pays with WeChat JSAPI (instant_channel "wx"),
// reacting to BC.click's wxJsapiSuccess and wxJsapiFail callbacks.
package wxshop

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/examples/internal/compress"
)

// Config configures the shop.
type Config struct {
	// BeeCloud is the app's configuration; ScriptURL points at a sandbox
	// when the example runs offline.
	BeeCloud beecloud.Config
	// OAuth gets the buyer's openid from WeChat (or the example's fake).
	OAuth OAuth
	// Store de-duplicates webhooks; nil means in memory.
	Store beecloud.Store
	// BaseURL is the shop's public address, used for OAuth's redirect_uri;
	// empty means the address the browser used. WeChat only redirects to
	// the domain set as 网页授权域名 on the Official Account.
	BaseURL string
	// CookieKey signs the cookie that remembers the openid; nil means a
	// random key, so that a restart asks WeChat again.
	CookieKey []byte
	// Product is what the page sells; the zero value means a ¥0.01 测试商品.
	Product Product
	// Logger gets one line per webhook; nil means slog.Default().
	Logger *slog.Logger
}

// Product is the one thing on sale.
type Product struct {
	Title  string
	Amount int64 // 分
}

// Paths the shop serves. An order's pages are under PayPath and
// ResultPath followed by its out_trade_no.
const (
	CallbackPath = "/oauth/callback"
	WebhookPath  = "/beecloud/webhook"
	OrdersPath   = "/orders"
	PayPath      = "/pay/"
	ResultPath   = "/result/"
)

const (
	openIDCookie = "wx_openid"
	stateCookie  = "wx_oauth_state"
)

type app struct {
	cfg     Config
	webhook *beecloud.WebhookHandler
	key     []byte
	log     *slog.Logger
	mu      sync.Mutex
	orders  map[string]*order
	unpaid  int // orders not paid
}

type order struct {
	OutTradeNo string
	Title      string
	Amount     int64
	OpenID     string
	Created    time.Time
	Paid       bool
	Channel    string
}

// New returns the shop's handler.
func New(cfg Config) (http.Handler, error) {
	a, err := newApp(cfg)
	if err != nil {
		return nil, err
	}
	return a.routes(), nil
}

// newApp checks cfg and returns the shop.
func newApp(cfg Config) (*app, error) {
	bc := cfg.BeeCloud
	if bc.AppID == "" || bc.AppSecret == "" || bc.MasterSecret == "" {
		return nil, fmt.Errorf("wxshop: BeeCloud config needs AppID, AppSecret and MasterSecret: %v", bc)
	}
	if cfg.OAuth.AppID == "" || cfg.OAuth.Secret == "" {
		return nil, errors.New("wxshop: OAuth needs the Official Account's AppID and Secret")
	}
	if cfg.Product == (Product{}) {
		cfg.Product = Product{Title: "测试商品", Amount: 1}
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	a := &app{cfg: cfg, key: cfg.CookieKey, log: cfg.Logger, orders: make(map[string]*order)}
	if a.log == nil {
		a.log = slog.Default()
	}
	if len(a.key) == 0 {
		a.key = make([]byte, 32)
		rand.Read(a.key)
	}
	webhook := &beecloud.WebhookHandler{
		Apps:           beecloud.Apps{bc},
		Store:          cfg.Store,
		Logger:         a.log,
		ExpectedAmount: a.expectedAmount,
		Handle:         a.handle,
	}
	// A handler that cannot work fails here, at startup, not with a 500
	// to each webhook.
	if err := webhook.Validate(); err != nil {
		return nil, fmt.Errorf("wxshop: %w", err)
	}
	a.webhook = webhook
	return a, nil
}

// routes returns the shop's handler.
func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.index)
	mux.HandleFunc("POST "+OrdersPath, a.createOrder)
	mux.HandleFunc("GET "+PayPath+"{no}", a.pay)
	mux.HandleFunc("GET "+CallbackPath, a.callback)
	mux.HandleFunc("GET "+ResultPath+"{no}", a.result)
	mux.HandleFunc("GET "+ResultPath+"{no}/status", a.status)
	mux.Handle("POST "+WebhookPath, a.webhook)
	// A page on another site cannot make orders for the buyer; BeeCloud's
	// webhook, sent by a server, is not a browser request and passes.
	return compress.Gzip(http.NewCrossOriginProtection().Handler(mux))
}

// index shows the product with a button that makes an order (a POST) to
// a buyer whose openid is known, and sends any other to WeChat's OAuth
// first. Viewing the page makes no order.
func (a *app) index(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.openID(r); !ok {
		a.startOAuth(w, r)
		return
	}
	p := a.cfg.Product
	render(w, http.StatusOK, indexTemplate, map[string]any{
		"Product":    p,
		"Price":      yuan(p.Amount),
		"OrdersPath": OrdersPath,
		"Sandbox":    a.cfg.BeeCloud.ScriptURL != "",
	})
}

// createOrder makes an order for the signed-in buyer and sends the buyer
// to its pay page (POST, then redirect, then GET: reloading the pay page
// makes no new order).
func (a *app) createOrder(w http.ResponseWriter, r *http.Request) {
	openid, ok := a.openID(r)
	if !ok {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	p := a.cfg.Product
	o := &order{OutTradeNo: beecloud.NewOutTradeNo(), Title: p.Title, Amount: p.Amount, OpenID: openid, Created: time.Now()}
	if !a.addOrder(o) {
		w.Header().Set("Retry-After", "60")
		http.Error(w, "未付款的订单太多，请稍后再试 · Too many unpaid orders; try again in a minute.", http.StatusServiceUnavailable)
		return
	}
	http.Redirect(w, r, PayPath+o.OutTradeNo, http.StatusSeeOther)
}

// pay shows the pay page of an unpaid order to the buyer who made it.
func (a *app) pay(w http.ResponseWriter, r *http.Request) {
	openid, ok := a.openID(r)
	if !ok {
		a.startOAuth(w, r)
		return
	}
	a.mu.Lock()
	stored, found := a.orders[r.PathValue("no")]
	var ord order
	if found {
		ord = *stored
	}
	a.mu.Unlock()
	switch {
	case !found || ord.OpenID != openid:
		http.Error(w, "订单不存在 · Order not found", http.StatusNotFound)
		return
	case ord.Paid:
		http.Redirect(w, r, ResultPath+ord.OutTradeNo, http.StatusSeeOther)
		return
	}
	p := Product{Title: ord.Title, Amount: ord.Amount}
	o := beecloud.Order{
		Title:          ord.Title,
		Amount:         ord.Amount,
		OutTradeNo:     ord.OutTradeNo,
		InstantChannel: beecloud.ChannelWx,
		OpenID:         openid,
		// No ReturnURL: WeChat JSAPI payment does not support it. The
		// wxJsapiSuccess callback takes the buyer to the result page.
	}
	script, err := a.cfg.BeeCloud.ClickScript("pay", o, beecloud.Callbacks{
		WxJsapiSuccess: "wxshop.paid",
		WxJsapiFail:    "wxshop.failed",
		DataError:      "wxshop.dataError",
		Err:            "wxshop.error",
	})
	if err != nil {
		a.log.Error("wxshop: cannot render the pay script", "err", err)
		http.Error(w, "cannot render the pay button", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	render(w, http.StatusOK, payTemplate, map[string]any{
		"ScriptTag":   a.cfg.BeeCloud.ScriptTag(),
		"ClickScript": script,
		"Product":     p,
		"Price":       yuan(p.Amount),
		"OutTradeNo":  o.OutTradeNo,
		"Sandbox":     a.cfg.BeeCloud.ScriptURL != "",
		"ResultPath":  ResultPath + o.OutTradeNo,
	})
}

// Bounds of the order book: every press of the buy button by a signed-in
// buyer makes an order, and a real shop would keep them in its database
// instead.
const (
	maxOrders = 10000
	// unpaidTTL is how long an unpaid order is kept for certain: longer
	// than BeeCloud resends a webhook (about 36 hours), so that a payment
	// is never refused because its order was forgotten.
	unpaidTTL = 48 * time.Hour
)

// addOrder records o unless the book holds maxOrders unpaid orders. It
// makes room by forgetting unpaid orders older than unpaidTTL, never
// younger ones, nor paid ones: when there is none, it refuses the new
// order.
func (a *app) addOrder(o *order) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.unpaid >= maxOrders {
		for no, old := range a.orders {
			if !old.Paid && o.Created.Sub(old.Created) >= unpaidTTL {
				delete(a.orders, no)
				a.unpaid--
			}
		}
		if a.unpaid >= maxOrders {
			return false
		}
	}
	a.orders[o.OutTradeNo] = o
	if !o.Paid {
		a.unpaid++
	}
	return true
}

// startOAuth sends the browser to WeChat's authorize page with a fresh
// state, remembered in a cookie, that the callback must see again.
func (a *app) startOAuth(w http.ResponseWriter, r *http.Request) {
	b := make([]byte, 16)
	rand.Read(b)
	state := hex.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{
		Name: stateCookie, Value: state, Path: CallbackPath,
		MaxAge: 600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
	})
	http.Redirect(w, r, a.cfg.OAuth.AuthCodeURL(a.baseURL(r)+CallbackPath, state), http.StatusFound)
}

// callback is OAuth's redirect_uri: it checks the state, trades the code
// for the openid and remembers the openid in a signed cookie.
func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, err := r.Cookie(stateCookie)
	if err != nil || q.Get("state") == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(q.Get("state"))) != 1 {
		http.Error(w, "授权已过期，请重新打开页面 · The sign-in expired or was not started here; open the page again.", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	openid, err := a.cfg.OAuth.Exchange(ctx, q.Get("code"))
	if err != nil {
		a.log.Warn("wxshop: oauth failed", "err", err)
		http.Error(w, "微信授权失败 · WeChat sign-in failed", http.StatusBadGateway)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Path: CallbackPath, MaxAge: -1})
	http.SetCookie(w, &http.Cookie{
		Name: openIDCookie, Value: a.signOpenID(openid), Path: "/",
		MaxAge: 7200, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
	})
	http.Redirect(w, r, "/", http.StatusFound)
}

// signOpenID makes the cookie value openid.MAC, so that a buyer cannot
// pay as someone else by editing the cookie.
func (a *app) signOpenID(openid string) string {
	return openid + "." + a.mac(openid)
}

func (a *app) mac(openid string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(openid))
	return hex.EncodeToString(m.Sum(nil))
}

func (a *app) openID(r *http.Request) (string, bool) {
	c, err := r.Cookie(openIDCookie)
	if err != nil {
		return "", false
	}
	openid, sig, ok := strings.Cut(c.Value, ".")
	if !ok || openid == "" || !hmac.Equal([]byte(sig), []byte(a.mac(openid))) {
		return "", false
	}
	return openid, true
}

func (a *app) expectedAmount(_ context.Context, n *beecloud.Notification) (int64, error) {
	if n.TransactionType != beecloud.TransactionPay {
		// This shop makes no refunds: one made on BeeCloud's dashboard has
		// nothing here to compare with, and refusing it would have BeeCloud
		// send it for days. handle leaves it alone.
		return n.TransactionFee, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	o, ok := a.orders[n.TransactionID]
	if !ok {
		return 0, fmt.Errorf("wxshop: unknown order %q", n.TransactionID)
	}
	return o.Amount, nil
}

func (a *app) handle(_ context.Context, n *beecloud.Notification) error {
	if n.TransactionType != beecloud.TransactionPay {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	o, ok := a.orders[n.TransactionID]
	if !ok {
		return fmt.Errorf("wxshop: unknown order %q", n.TransactionID)
	}
	if !o.Paid {
		o.Paid, o.Channel = true, n.SubChannelType
		a.unpaid--
		a.log.Info("wxshop: order paid", "out_trade_no", o.OutTradeNo, "amount", n.TransactionFee, "channel", n.SubChannelType)
	}
	return nil
}

// result shows the order as the webhook left it; wxJsapiSuccess only
// brings the buyer here, it proves nothing.
func (a *app) result(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	o, ok := a.orders[r.PathValue("no")]
	var snapshot order
	if ok {
		snapshot = *o
	}
	a.mu.Unlock()
	if !ok {
		http.Error(w, "订单不存在 · Order not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	// wx is what wxJsapiSuccess got from WeChat: shown, never trusted.
	said := r.URL.Query().Get("wx")
	if len(said) > 64 {
		said = strings.ToValidUTF8(said[:64], "")
	}
	render(w, http.StatusOK, resultTemplate, map[string]any{
		"Order": snapshot, "Price": yuan(snapshot.Amount), "WeChatSaid": said,
		"StatusPath": ResultPath + snapshot.OutTradeNo + "/status",
	})
}

// status answers the result page's poll: {"paid": true} once the webhook
// came.
func (a *app) status(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	o, ok := a.orders[r.PathValue("no")]
	paid := ok && o.Paid
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		w.WriteHeader(http.StatusNotFound)
	}
	fmt.Fprintf(w, `{"paid":%t}`, paid)
}

func (a *app) baseURL(r *http.Request) string {
	if a.cfg.BaseURL != "" {
		return a.cfg.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func render(w http.ResponseWriter, code int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes()) //nolint:errcheck // the client went away
}

func yuan(fen int64) string { return fmt.Sprintf("¥%d.%02d", fen/100, fen%100) }
