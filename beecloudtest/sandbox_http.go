package beecloudtest

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/paybutton/beecloud"
)

// The sandbox's paths. scriptPath and clickPath mirror BeeCloud's.
const (
	scriptPath = "/1/pay/jsbutton/returnscripts"
	clickPath  = "/2/rest/jsbutton/click"
	payPath    = "/sandbox/pay/"
	billPath   = "/sandbox/bill/"
	qrPath     = "/sandbox/qr/"
	resultPath = "/sandbox/result"
	cssPath    = "/sandbox/static/sandbox.css"
)

//go:embed sandbox/button.js sandbox/sandbox.css sandbox/*.html
var assets embed.FS

var (
	buttonJS   = mustRead("sandbox/button.js")
	sandboxCSS = mustRead("sandbox/sandbox.css")
	pages      = template.Must(template.ParseFS(assets, "sandbox/*.html"))
)

func mustRead(name string) string {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// handler routes the sandbox's requests.
func (s *Sandbox) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+scriptPath, s.serveScript)
	mux.HandleFunc("OPTIONS "+clickPath, cors)
	mux.HandleFunc("POST "+clickPath, s.serveClick)
	mux.HandleFunc("GET "+payPath+"{id}", s.servePayPage)
	mux.HandleFunc("OPTIONS "+payPath+"{id}/{action}", cors)
	mux.HandleFunc("POST "+payPath+"{id}/{action}", s.serveAction)
	mux.HandleFunc("GET "+billPath+"{id}", s.serveBill)
	mux.HandleFunc("GET "+qrPath+"{file}", s.serveQR)
	mux.HandleFunc("GET "+resultPath, s.serveResult)
	mux.HandleFunc("GET "+cssPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		io.WriteString(w, sandboxCSS) //nolint:errcheck // the client went away
	})
	mux.HandleFunc("GET /{$}", s.serveIndex)
	s.routeREST(mux)
	return mux
}

// base returns the sandbox's URL as the browser reached it, so that pages
// and scripts work whichever address the sandbox listens on.
func base(r *http.Request) string {
	return "http://" + r.Host
}

// scriptConfig is what the button script learns from the sandbox.
type scriptConfig struct {
	Base  string `json:"base"`
	AppID string `json:"appId"`
	Known bool   `json:"known"`
	Error string `json:"error,omitempty"`
	CSS   string `json:"css"`
}

// serveScript serves the button script for ?appId=. For an unknown app
// it serves a script whose BC.click reports ErrUnknownApp through BC.err.
func (s *Sandbox) serveScript(w http.ResponseWriter, r *http.Request) {
	appID := r.URL.Query().Get("appId")
	cfg := scriptConfig{Base: base(r), AppID: appID, CSS: sandboxCSS}
	if _, ok := s.apps[appID]; ok {
		cfg.Known = true
	} else {
		cfg.Error = s.unknownApp(appID).Error()
	}
	// json.Marshal escapes <, >, &, U+2028 and U+2029, so its output is a
	// JavaScript expression that cannot end the script or the statement.
	js, err := json.Marshal(cfg)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, strings.Replace(buttonJS, "/*CONFIG*/null", string(js), 1)) //nolint:errcheck // the client went away
}

func (s *Sandbox) unknownApp(appID string) error {
	if len(s.order) == 0 {
		return fmt.Errorf("%w %q: the sandbox serves no app", ErrUnknownApp, appID)
	}
	return fmt.Errorf("%w %q: the sandbox serves %s", ErrUnknownApp, appID, strings.Join(quoteAll(s.order), ", "))
}

// clickRequest is what the button script posts: BC.click's data, and the
// channel once the buyer picked one.
type clickRequest struct {
	Data    json.RawMessage  `json:"data"`
	Channel beecloud.Channel `json:"channel"`
	Mobile  bool             `json:"mobile"`
	Page    string           `json:"page"`
}

// menuItem is one channel of the menu.
type menuItem struct {
	Code  beecloud.Channel `json:"code"`
	Name  string           `json:"name"`
	Sub   string           `json:"sub"`
	Glyph string           `json:"glyph"`
	Color string           `json:"color"`
	QR    bool             `json:"qr"`
}

type clickResponse struct {
	Error   string     `json:"ERROR,omitempty"`
	Field   string     `json:"field,omitempty"`
	Title   string     `json:"title,omitempty"`
	Yuan    string     `json:"yuan,omitempty"`
	Ignored []string   `json:"ignored,omitempty"`
	Menu    []menuItem `json:"channels,omitempty"`

	Bill  string     `json:"bill,omitempty"`
	URL   string     `json:"url,omitempty"`
	JSAPI *jsapiArgs `json:"jsapi,omitempty"`
}

// jsapiArgs are the arguments of WeixinJSBridge's getBrandWCPayRequest.
type jsapiArgs struct {
	AppID     string `json:"appId"`
	TimeStamp string `json:"timeStamp"`
	NonceStr  string `json:"nonceStr"`
	Package   string `json:"package"`
	SignType  string `json:"signType"`
	PaySign   string `json:"paySign"`
}

// serveClick checks a BC.click and answers with the menu, or, when the
// request names a channel, makes a bill and answers with its pay page.
func (s *Sandbox) serveClick(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	var req clickRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, clickResponse{Error: "beecloudtest: the request is not JSON: " + err.Error()})
		return
	}
	app, c, err := s.check(r.URL.Query().Get("appId"), req.Data)
	if err != nil {
		writeClickError(w, err)
		return
	}
	resp := clickResponse{Title: c.order.Title, Yuan: yuan(c.order.Amount), Ignored: c.ignored}
	if req.Channel == "" {
		for _, ch := range menu(app, c.order) {
			resp.Menu = append(resp.Menu, menuItemFor(ch, req.Mobile))
		}
		writeJSON(w, http.StatusOK, resp)
		return
	}
	b, err := s.newBill(app, c, req.Channel, req.Mobile, req.Page)
	if err != nil {
		writeClickError(w, err)
		return
	}
	resp.Bill = b.ID
	resp.URL = base(r) + payPath + b.ID
	if b.Channel.NeedsOpenID() {
		resp.JSAPI = &jsapiArgs{
			AppID:     "wxsandbox" + app.Config.AppID[:min(8, len(app.Config.AppID))],
			TimeStamp: strconv.FormatInt(b.Created.Unix(), 10),
			NonceStr:  randomHex(8),
			Package:   "prepay_id=sandbox_" + b.ID,
			SignType:  "MD5",
			PaySign:   strings.ToUpper(randomHex(16)),
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

func writeClickError(w http.ResponseWriter, err error) {
	resp := clickResponse{Error: err.Error()}
	status := http.StatusBadRequest
	var verr *beecloud.ValidationError
	switch {
	case errors.As(err, &verr) && len(verr.Problems) > 0:
		resp.Field = verr.Problems[0].Field
	case errors.Is(err, ErrUnknownApp):
		status = http.StatusNotFound
	case errors.Is(err, ErrSignMismatch), errors.Is(err, ErrChannelNotEnabled):
		status = http.StatusForbidden
	case errors.Is(err, ErrAlreadyPaid):
		status = http.StatusConflict
	}
	writeJSON(w, status, resp)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client went away
}

func cors(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Allow-Methods", "POST")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type, Accept")
	w.WriteHeader(http.StatusNoContent)
}

// look is how a channel shows on the menu and pay page: an icon glyph and
// its brand colour.
func look(ch beecloud.Channel) (glyph, color string) {
	sub := ch.BeeCloudChannel(false)
	switch {
	case strings.Contains(sub, "WX") || sub == "BC_NATIVE":
		return "微", "#07c160"
	case strings.Contains(sub, "ALI"):
		return "支", "#1677ff"
	case strings.HasPrefix(sub, "UN") || sub == "BC_EXPRESS":
		return "银", "#d81e06"
	case strings.HasPrefix(sub, "JD"):
		return "京", "#e1251b"
	case strings.HasPrefix(sub, "BD"):
		return "百", "#2932e1"
	case strings.HasPrefix(sub, "YEE"):
		return "易", "#e4393c"
	case strings.HasPrefix(sub, "KUAIQIAN"):
		return "快", "#0b63b6"
	}
	return "付", "#666666"
}

func menuItemFor(ch beecloud.Channel, mobile bool) menuItem {
	glyph, color := look(ch)
	return menuItem{Code: ch, Name: ch.Name(), Sub: ch.BeeCloudChannel(mobile), Glyph: glyph, Color: color, QR: ch.QRCode()}
}

// bill returns a copy of the bill id.
func (s *Sandbox) bill(id string) (Bill, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.byID[id]
	if !ok {
		return Bill{}, false
	}
	return copyBills([]*Bill{b})[0], true
}

// payPage is the data of pay.html.
type payPage struct {
	Bill
	Base, Name, Glyph, Color, Yuan string
	QR                             bool
	PollMillis                     int64
}

func (s *Sandbox) servePayPage(w http.ResponseWriter, r *http.Request) {
	b, ok := s.bill(r.PathValue("id"))
	if !ok {
		http.Error(w, "beecloudtest: no such bill", http.StatusNotFound)
		return
	}
	glyph, color := look(b.Channel)
	poll := s.PollInterval
	if poll <= 0 {
		poll = DefaultPollInterval
	}
	render(w, http.StatusOK, "pay.html", payPage{
		Bill: b, Base: base(r), Name: b.Channel.Name(), Glyph: glyph, Color: color,
		Yuan: yuan(b.Order.Amount), QR: b.Channel.QRCode(), PollMillis: poll.Milliseconds(),
	})
}

func render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	pages.ExecuteTemplate(w, name, data) //nolint:errcheck // the client went away
}

// serveAction handles the pay page's buttons: pay, fail and cancel. A form
// post is answered with a redirect: to return_url after paying, to the
// merchant's page after cancelling, to the result page otherwise. A
// request that accepts JSON (the QR page's simulated scan, the fake
// WeChat bridge) gets the bill's state instead.
func (s *Sandbox) serveAction(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var state BillState
	switch r.PathValue("action") {
	case "pay":
		state = BillPaid
	case "fail":
		state = BillFailed
	case "cancel":
		state = BillCancelled
	default:
		http.NotFound(w, r)
		return
	}
	err := s.settle(id, state)
	asJSON := strings.Contains(r.Header.Get("Accept"), "application/json")
	if asJSON {
		w.Header().Set("Access-Control-Allow-Origin", "*")
	}
	if err != nil {
		status := http.StatusConflict
		if errors.Is(err, errNoBill) {
			status = http.StatusNotFound
		}
		if asJSON {
			writeJSON(w, status, billStatus{Error: err.Error()})
			return
		}
		http.Error(w, err.Error(), status)
		return
	}
	b, _ := s.bill(id)
	next := nextURL(base(r), b)
	if asJSON {
		writeJSON(w, http.StatusOK, billStatus{State: b.State, Next: next})
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// nextURL is where the buyer's browser goes once b is settled.
func nextURL(base string, b Bill) string {
	switch b.State {
	case BillPaid:
		ret := b.Order.ReturnURL
		if ret == "" || !b.Channel.SupportsReturnURL() {
			ret = base + resultPath
		}
		q := url.Values{
			"bill_no":     {b.Order.OutTradeNo},
			"spay_result": {"SUCCESS"},
			"total_fee":   {strconv.FormatInt(b.Order.Amount, 10)},
		}
		return ret + "?" + q.Encode()
	case BillCancelled:
		if strings.HasPrefix(b.page, "http://") || strings.HasPrefix(b.page, "https://") {
			return b.page
		}
	}
	return base + resultPath + "?bill=" + url.QueryEscape(b.ID)
}

// billStatus answers a poll of a bill.
type billStatus struct {
	State BillState `json:"state,omitempty"`
	Next  string    `json:"next,omitempty"`
	Error string    `json:"ERROR,omitempty"`
}

func (s *Sandbox) serveBill(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	b, ok := s.bill(r.PathValue("id"))
	if !ok {
		writeJSON(w, http.StatusNotFound, billStatus{Error: "beecloudtest: no such bill"})
		return
	}
	st := billStatus{State: b.State}
	if b.State != BillPending {
		st.Next = nextURL(base(r), b)
	}
	writeJSON(w, http.StatusOK, st)
}

// serveQR serves a QR-code-like SVG for a bill. It is not a scannable
// code: only its look matters.
func (s *Sandbox) serveQR(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
	if _, found := s.bill(id); !ok || !found {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	io.WriteString(w, qrSVG(id)) //nolint:errcheck // the client went away
}

// resultPage is the data of result.html.
type resultPage struct {
	OutTradeNo, Result, Fee, Yuan string
	Bill                          *Bill
	Back                          string // the merchant's page
}

// serveResult is the default return_url, as BeeCloud's own result page,
// and the page a failed or cancelled bill ends on.
func (s *Sandbox) serveResult(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := resultPage{OutTradeNo: q.Get("bill_no"), Result: q.Get("spay_result"), Fee: q.Get("total_fee")}
	if fee, err := strconv.ParseInt(p.Fee, 10, 64); err == nil && fee >= 0 {
		p.Yuan = yuan(fee)
	}
	if id := q.Get("bill"); id != "" {
		if b, ok := s.bill(id); ok {
			p.Bill = &b
			p.OutTradeNo = b.Order.OutTradeNo
			p.Yuan = yuan(b.Order.Amount)
			if strings.HasPrefix(b.page, "http://") || strings.HasPrefix(b.page, "https://") {
				p.Back = b.page
			}
		}
	}
	render(w, http.StatusOK, "result.html", p)
}

// indexPage is the data of index.html.
type indexPage struct {
	Base       string
	Apps       []indexApp
	Bills      []Bill
	Deliveries []indexDelivery
}

type indexDelivery struct {
	Delivery
	Last string // the last attempt's outcome
}

type indexApp struct {
	App
	ScriptTag string
	Names     []string
}

// redact hides the password of a webhook URL such as
// http://user:password@host/, as url.Error does in Last.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return raw
}

// serveIndex shows the sandbox's apps, bills and webhooks.
func (s *Sandbox) serveIndex(w http.ResponseWriter, r *http.Request) {
	p := indexPage{Base: base(r), Bills: s.Bills()}
	for _, d := range s.Deliveries() {
		id := indexDelivery{Delivery: d}
		id.URL = redact(d.URL)
		if n := len(d.Attempts); n > 0 {
			a := d.Attempts[n-1]
			if a.Err != nil {
				id.Last = a.Err.Error()
			} else {
				id.Last = fmt.Sprintf("%d %s", a.StatusCode, a.Response)
			}
		}
		p.Deliveries = append(p.Deliveries, id)
	}
	for _, a := range s.Apps() {
		ia := indexApp{App: a}
		ia.WebhookURL = redact(a.WebhookURL)
		ia.ScriptTag = fmt.Sprintf(`<script id="spay-script" type="text/javascript" src="%s%s?appId=%s"></script>`, p.Base, scriptPath, url.QueryEscape(a.Config.AppID))
		for _, ch := range a.Channels {
			ia.Names = append(ia.Names, fmt.Sprintf("%s (%s)", ch.Name(), ch))
		}
		p.Apps = append(p.Apps, ia)
	}
	slices.Reverse(p.Bills)
	slices.Reverse(p.Deliveries)
	render(w, http.StatusOK, "index.html", p)
}
