// Package shop is the web shop of the checkout example: a product page with
// a BeeCloud pay button per product, the webhook endpoint that marks orders
// paid, and the result page the buyer returns to.
//
// It is a package of its own so that the end-to-end tests can start the
// shop in-process; the example's main package only adds flags, the
// sandbox and the listener.
package shop

import (
	"bytes"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/paybutton/beecloud"
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
	// FailFirst makes the webhook fail the first FailFirst payment
	// webhooks of each order, with ErrFailedOnPurpose, as a shop whose
	// database is briefly down would. It demonstrates BeeCloud's resends
	// (after 2 s, 4 s, 8 s, …): the order ends paid all the same, marked
	// once. Zero, for a real shop, fails none.
	FailFirst int
}

// Paths the shop serves.
const (
	WebhookPath = "/beecloud/webhook"
	ResultPath  = "/result/"
)

type shop struct {
	cfg    Config
	orders *Orders
	log    *slog.Logger
}

// New returns the shop's handler. It fails when cfg.BeeCloud lacks the
// App ID or a secret.
func New(cfg Config) (http.Handler, error) {
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
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	s := &shop{cfg: cfg, orders: cfg.Orders, log: cfg.Logger}
	if s.orders == nil {
		s.orders = NewOrders()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET "+ResultPath+"{no}", s.result)
	mux.Handle("POST "+WebhookPath, s.webhookHandler())
	return mux, nil
}

type item struct {
	Product    Product
	OutTradeNo string
	ResultPath string
	// Scripts bind the product's two buttons, #pay-ID (the channel menu)
	// and #pay-ID-wxmp (WeChat QR code at once), to BC.click.
	Scripts template.HTML
}

// DirectChannel is the channel of each product's second button, which
// skips BeeCloud's channel menu with instant_channel: WeChat Pay by QR
// code, which a buyer on a computer scans with the phone.
const DirectChannel = beecloud.ChannelWxMP

// callbacks are the page's functions BeeCloud's script calls: BC.err shows
// a refused BC.click (a bad sign, a disabled channel, …) to the buyer
// rather than in the console only.
var callbacks = beecloud.Callbacks{Err: "shop.payError"}

// index shows the products, each with a pay button for a fresh order and
// a second one that pays it with DirectChannel at once.
func (s *shop) index(w http.ResponseWriter, r *http.Request) {
	base := s.baseURL(r)
	items := make([]item, 0, len(s.cfg.Products))
	for _, p := range s.cfg.Products {
		no := beecloud.NewOutTradeNo()
		order := beecloud.Order{
			Title:      p.Title,
			Amount:     p.Amount,
			OutTradeNo: no,
			ReturnURL:  base + ResultPath + no,
			Optional:   map[string]any{"product": p.ID},
		}
		menu, err := s.cfg.BeeCloud.ClickScript("pay-"+p.ID, order, callbacks)
		if err != nil {
			s.log.Error("cannot render the pay button", "product", p.ID, "err", err)
			http.Error(w, "cannot render the pay button", http.StatusInternalServerError)
			return
		}
		// The same order, so the buyer pays it once, by either button.
		order.InstantChannel = DirectChannel
		direct, err := s.cfg.BeeCloud.ClickScript("pay-"+p.ID+"-"+string(DirectChannel), order, callbacks)
		if err != nil {
			s.log.Error("cannot render the pay button", "product", p.ID, "err", err)
			http.Error(w, "cannot render the pay button", http.StatusInternalServerError)
			return
		}
		s.orders.Add(Order{OutTradeNo: no, ProductID: p.ID, Title: p.Title, Amount: p.Amount, Created: s.cfg.Now()})
		items = append(items, item{Product: p, OutTradeNo: no, ResultPath: ResultPath + no, Scripts: menu + direct})
	}
	s.render(w, http.StatusOK, indexTemplate, map[string]any{
		"ScriptTag": s.cfg.BeeCloud.ScriptTag(),
		"Sandbox":   s.cfg.Sandbox,
		"Items":     items,
		"Direct":    DirectChannel,
	})
}

// result shows an order as the webhook left it. BeeCloud sends the buyer
// here with bill_no, spay_result and total_fee in the query, which the
// buyer can edit: the page ignores them.
func (s *shop) result(w http.ResponseWriter, r *http.Request) {
	no := r.PathValue("no")
	order, ok := s.orders.Get(no)
	if !ok {
		s.render(w, http.StatusNotFound, notFoundTemplate, no)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, http.StatusOK, resultTemplate, map[string]any{
		"Order": order,
		"Price": yuan(order.Amount),
	})
}

// baseURL is where the buyer reaches the shop.
func (s *shop) baseURL(r *http.Request) string {
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
func (s *shop) render(w http.ResponseWriter, code int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		s.log.Error("cannot render page", "template", t.Name(), "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes()) //nolint:errcheck // the client went away
}
