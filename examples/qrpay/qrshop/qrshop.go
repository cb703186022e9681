// Package qrshop is a shop that takes payments without BeeCloud's button:
// its server makes the bills through BeeCloud's REST API
// ([beecloud.Client.CreateBill]). A buyer at a computer pays with WeChat
// by scanning a QR code the shop draws itself (WX_NATIVE), while the page
// polls the order until its webhook says it is paid; a native app asks
// POST /api/pay for the parameters of WeChat's or Alipay's SDK (WX_APP,
// ALI_APP).
package qrshop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"rsc.io/qr"

	"github.com/paybutton/beecloud"
)

// WebhookPath is where BeeCloud's webhooks are received; set it on
// BeeCloud's dashboard.
const WebhookPath = "/webhook"

// Product is the one thing the shop sells.
var Product = struct {
	Title  string
	Amount int64 // 分
}{Title: "一杯咖啡", Amount: 1}

// Config is the shop's setup.
type Config struct {
	// Client makes and finds bills. Its Test field puts the shop in
	// BeeCloud's test mode.
	Client *beecloud.Client
	// Logger logs the webhooks; nil discards.
	Logger *slog.Logger
	// CheckAfter is how long an unpaid order waits for its webhook before
	// a poll of its status asks BeeCloud instead, at most once per
	// CheckAfter; zero means 15 seconds.
	CheckAfter time.Duration
}

// Order is one purchase.
type Order struct {
	OutTradeNo string
	Title      string
	Amount     int64
	Channel    beecloud.BillChannel
	CodeURL    string // WX_NATIVE: what the QR code holds
	Paid       bool
	Created    time.Time

	checked time.Time // when BeeCloud was last asked about it
}

// Shop serves the pages, the app's API and the webhook. It is safe for
// concurrent use.
type Shop struct {
	client     *beecloud.Client
	webhook    *beecloud.WebhookHandler
	mux        *http.ServeMux
	logger     *slog.Logger
	checkAfter time.Duration

	mu     sync.Mutex
	orders map[string]*Order
}

// New returns the shop for cfg.
func New(cfg Config) (*Shop, error) {
	if cfg.Client == nil {
		return nil, errors.New("qrshop: Config.Client is nil")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Shop{client: cfg.Client, orders: map[string]*Order{}, mux: http.NewServeMux(), logger: logger, checkAfter: cfg.CheckAfter}
	if s.checkAfter <= 0 {
		s.checkAfter = 15 * time.Second
	}
	app := cfg.Client.Config
	// BeeCloud signs a test-mode webhook with the legacy scheme and the
	// Test Secret: only a shop in test mode takes that scheme.
	app.LegacyWebhook = cfg.Client.Test
	s.webhook = &beecloud.WebhookHandler{
		Apps:           beecloud.Apps{app},
		Handle:         s.handle,
		ExpectedAmount: s.expectedAmount,
		Logger:         logger,
	}
	if err := s.webhook.Validate(); err != nil {
		return nil, err
	}
	s.mux.HandleFunc("GET /{$}", s.serveHome)
	s.mux.HandleFunc("POST /orders", s.serveNewOrder)
	s.mux.HandleFunc("GET /orders/{no}", s.serveOrder)
	s.mux.HandleFunc("GET /orders/{no}/status", s.serveStatus)
	s.mux.HandleFunc("POST /api/pay", s.serveAppPay)
	s.mux.Handle("POST "+WebhookPath, s.webhook)
	return s, nil
}

func (s *Shop) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Order returns a copy of the order outTradeNo.
func (s *Shop) Order(outTradeNo string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[outTradeNo]
	if !ok {
		return Order{}, false
	}
	return *o, true
}

// errUnknownOrder means a webhook named an order the shop never made.
var errUnknownOrder = errors.New("qrshop: unknown order")

func (s *Shop) expectedAmount(_ context.Context, n *beecloud.Notification) (int64, error) {
	o, ok := s.Order(n.TransactionID)
	if !ok {
		return 0, fmt.Errorf("%w %s", errUnknownOrder, n.TransactionID)
	}
	return o.Amount, nil
}

// handle marks the order of a verified payment paid. A test payment's
// webhook is refused by a live shop's handler before it gets here (its
// legacy signature is off); the check below says why in the log should
// that setting ever change.
func (s *Shop) handle(_ context.Context, n *beecloud.Notification) error {
	if n.TransactionType != beecloud.TransactionPay {
		return nil
	}
	if n.Test != s.client.Test {
		return fmt.Errorf("qrshop: a test-mode webhook for order %s reached a live shop, or the reverse", n.TransactionID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[n.TransactionID]
	if !ok {
		return fmt.Errorf("%w %s", errUnknownOrder, n.TransactionID)
	}
	o.Paid = true
	return nil
}

// newOrder makes an order of the product and its bill through ch.
func (s *Shop) newOrder(ctx context.Context, ch beecloud.BillChannel) (*Order, *beecloud.BillResult, error) {
	o := &Order{OutTradeNo: beecloud.NewOutTradeNo(), Title: Product.Title, Amount: Product.Amount, Channel: ch, Created: time.Now()}
	// The order is recorded first, so that a webhook, however early,
	// finds it.
	s.mu.Lock()
	s.orders[o.OutTradeNo] = o
	s.mu.Unlock()
	res, err := s.client.CreateBill(ctx, beecloud.BillRequest{
		Channel:    ch,
		OutTradeNo: o.OutTradeNo,
		Title:      o.Title,
		Amount:     o.Amount,
		Optional:   map[string]any{"shop": "qrpay"},
		Timeout:    2 * time.Hour,
	})
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	o.CodeURL = res.CodeURL
	c := *o
	s.mu.Unlock()
	return &c, res, nil
}

var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.}}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:30rem;margin:2rem auto;padding:0 1rem;color:#222}
button{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:.4rem;background:#07c160;color:#fff;cursor:pointer}
.qr{display:block;width:16rem;height:16rem;margin:1rem 0}
.paid{color:#07c160;font-size:1.4rem}
.muted{color:#777;font-size:.9rem}
</style></head><body>{{end}}
{{define "home"}}{{template "head" "扫码支付示例"}}
<h1>{{.Title}}</h1>
<p>¥{{.Yuan}}</p>
<form method="post" action="/orders"><button id="buy" type="submit">微信扫码支付</button></form>
{{if .Test}}<p class="muted">BeeCloud 测试模式：不会扣款。</p>{{end}}
</body></html>{{end}}
{{define "order"}}{{template "head" "请扫码支付"}}
<h1>{{.Order.Title}} · ¥{{.Yuan}}</h1>
<div id="waiting"{{if .Order.Paid}} hidden{{end}}>
<p>请用微信扫描二维码支付</p>
<svg id="qr" class="qr" role="img" aria-label="微信支付二维码" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {{.QR.Size}} {{.QR.Size}}" shape-rendering="crispEdges">
<rect width="{{.QR.Size}}" height="{{.QR.Size}}" fill="#fff"/><path fill="#000" d="{{.QR.Path}}"/></svg>
<p class="muted">订单号 <span id="no">{{.Order.OutTradeNo}}</span> · 正在等待支付结果…</p>
</div>
<p id="paid" class="paid"{{if not .Order.Paid}} hidden{{end}}>支付成功，谢谢！</p>
<script>
(function () {
  var status = {{.StatusURL}};
  function poll() {
    fetch(status, {headers: {Accept: "application/json"}}).then(function (r) { return r.json(); }).then(function (s) {
      if (s.paid) {
        document.getElementById("waiting").hidden = true;
        document.getElementById("paid").hidden = false;
        return;
      }
      setTimeout(poll, 1000);
    }, function () { setTimeout(poll, 3000); });
  }
  if (document.getElementById("paid").hidden) poll();
})();
</script>
</body></html>{{end}}
`))

func yuan(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }

func (s *Shop) serveHome(w http.ResponseWriter, _ *http.Request) {
	render(w, "home", map[string]any{"Title": Product.Title, "Yuan": yuan(Product.Amount), "Test": s.client.Test})
}

func (s *Shop) serveNewOrder(w http.ResponseWriter, r *http.Request) {
	o, _, err := s.newOrder(r.Context(), beecloud.BillWxNative)
	if err != nil {
		http.Error(w, "BeeCloud did not make the bill: "+err.Error(), http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, "/orders/"+o.OutTradeNo, http.StatusSeeOther)
}

// QRCode is a QR code drawn as one SVG path of unit squares.
type QRCode struct {
	Size int    // modules on a side, quiet zone included
	Path string // the dark modules
}

// quietZone is the white border a scanner needs, in modules.
const quietZone = 4

// NewQRCode encodes text as a QR code with medium error correction.
func NewQRCode(text string) (QRCode, error) {
	c, err := qr.Encode(text, qr.M)
	if err != nil {
		return QRCode{}, err
	}
	var b strings.Builder
	for y := 0; y < c.Size; y++ {
		for x := 0; x < c.Size; x++ {
			if c.Black(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+quietZone, y+quietZone)
			}
		}
	}
	return QRCode{Size: c.Size + 2*quietZone, Path: b.String()}, nil
}

func (s *Shop) serveOrder(w http.ResponseWriter, r *http.Request) {
	o, ok := s.Order(r.PathValue("no"))
	if !ok || o.Channel != beecloud.BillWxNative {
		http.NotFound(w, r)
		return
	}
	code, err := NewQRCode(o.CodeURL)
	if err != nil {
		http.Error(w, "cannot draw the QR code: "+err.Error(), http.StatusInternalServerError)
		return
	}
	render(w, "order", map[string]any{"Order": o, "Yuan": yuan(o.Amount), "QR": code, "StatusURL": "/orders/" + o.OutTradeNo + "/status"})
}

// Status is the answer of GET /orders/{no}/status.
type Status struct {
	OutTradeNo string `json:"out_trade_no"`
	Paid       bool   `json:"paid"`
}

// serveStatus answers a poll of an order. An order whose webhook is late
// is looked up at BeeCloud now and then: Reconcile runs the webhook's path,
// so that the order is marked paid once, whichever comes first.
func (s *Shop) serveStatus(w http.ResponseWriter, r *http.Request) {
	no := r.PathValue("no")
	o, ok := s.Order(no)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such order"})
		return
	}
	if !o.Paid && s.dueForCheck(no) {
		if _, err := s.webhook.Reconcile(r.Context(), s.client, no); err != nil {
			s.logger.Warn("qrshop: asking BeeCloud about an order", "out_trade_no", no, "err", err)
		}
		o, _ = s.Order(no)
	}
	writeJSON(w, http.StatusOK, Status{OutTradeNo: o.OutTradeNo, Paid: o.Paid})
}

// dueForCheck reports whether the unpaid order no has waited long enough
// for its webhook, and for the last check, to ask BeeCloud, and notes that
// it is asked now.
func (s *Shop) dueForCheck(no string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[no]
	now := time.Now()
	if o == nil || o.Paid || now.Sub(o.Created) < s.checkAfter || now.Sub(o.checked) < s.checkAfter {
		return false
	}
	o.checked = now
	return true
}

// AppPayRequest is the body of POST /api/pay.
type AppPayRequest struct {
	// Channel is "WX_APP" or "ALI_APP".
	Channel beecloud.BillChannel `json:"channel"`
}

// AppPayment is the answer of POST /api/pay: the order, and what the
// app hands its channel's SDK.
type AppPayment struct {
	OutTradeNo string                `json:"out_trade_no"`
	Amount     int64                 `json:"amount"`
	Channel    beecloud.BillChannel  `json:"channel"`
	WxApp      *beecloud.WxAppParams `json:"wx_app,omitempty"`
	// OrderString is what ALI_APP's SDK takes.
	OrderString string `json:"order_string,omitempty"`
}

func (s *Shop) serveAppPay(w http.ResponseWriter, r *http.Request) {
	var req AppPayRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the body must be JSON such as {\"channel\":\"WX_APP\"}"})
		return
	}
	if req.Channel != beecloud.BillWxApp && req.Channel != beecloud.BillAliApp {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "channel must be WX_APP or ALI_APP"})
		return
	}
	o, res, err := s.newOrder(r.Context(), req.Channel)
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "BeeCloud did not make the bill: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, AppPayment{OutTradeNo: o.OutTradeNo, Amount: o.Amount, Channel: o.Channel, WxApp: res.WxApp, OrderString: res.OrderString})
}

func render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		slog.Error("qrshop: render", "page", name, "err", err)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Error("qrshop: write JSON", "err", err)
	}
}
