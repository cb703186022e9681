package beecloudtest

import (
	"crypto/sha256"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/internal/channel"
)

// The sandbox's paths. scriptPath and clickPath mirror BeeCloud's. The
// pages and the button script take them from sitePaths.
const (
	scriptPath  = "/1/pay/jsbutton/returnscripts"
	clickPath   = "/2/rest/jsbutton/click"
	payPath     = "/sandbox/pay/"
	billPath    = "/sandbox/bill/"
	qrPath      = "/sandbox/qr/"
	resultPath  = "/sandbox/result"
	changesPath = "/sandbox/changes"
	cssPath     = "/sandbox/static/sandbox.css"
	iconPath    = "/sandbox/static/icon.svg"
)

// Limits on what a click may make the sandbox keep, with MaxBills.
const (
	// maxClickBytes bounds a click request: BC.click's data, the channel
	// and the page. Real data takes well under 1 KiB.
	maxClickBytes = 32 << 10
)

//go:embed sandbox/button.js sandbox/sandbox.css sandbox/favicon.svg sandbox/*.html
var assets embed.FS

var (
	buttonJS   = mustRead("sandbox/button.js")
	sandboxCSS = mustRead("sandbox/sandbox.css")
	favicon    = mustRead("sandbox/favicon.svg")
	pages      = template.Must(template.ParseFS(assets, "sandbox/*.html"))
	// cssVersion names the stylesheet's content in its URL, so that a
	// browser may keep it for good and fetches it once.
	cssVersion = fmt.Sprintf("%x", sha256.Sum256([]byte(sandboxCSS)))[:12]
)

// paths are the sandbox's paths as its pages and button script use them.
type paths struct {
	Click   string `json:"click"`
	Pay     string `json:"pay"`
	Bill    string `json:"bill"`
	QR      string `json:"qr"`
	Result  string `json:"result"`
	Changes string `json:"changes"`
	CSS     string `json:"css"`
	Icon    string `json:"icon"`
}

var sitePaths = paths{
	Click: clickPath, Pay: payPath, Bill: billPath, QR: qrPath, Result: resultPath,
	Changes: changesPath, CSS: cssPath + "?v=" + cssVersion, Icon: iconPath,
}

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
	mux.HandleFunc("GET "+changesPath, s.serveChanges)
	mux.HandleFunc("GET "+cssPath, serveStatic("text/css; charset=utf-8", sandboxCSS))
	mux.HandleFunc("GET "+iconPath, serveStatic("image/svg+xml", favicon))
	mux.HandleFunc("GET /favicon.ico", serveStatic("image/svg+xml", favicon))
	mux.HandleFunc("GET /{$}", s.serveIndex)
	s.routeREST(mux)
	s.routeRESTBills(mux)
	mux.HandleFunc("GET /", s.serveNotFound)
	return mux
}

// serveStatic serves a fixed asset, which browsers may keep: the
// stylesheet's URL changes with its content.
func serveStatic(contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		io.WriteString(w, body) //nolint:errcheck // the client went away
	}
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
	Paths paths  `json:"paths"`
}

// serveScript serves the button script for ?appId=. For an unknown app
// it serves a script whose BC.click reports ErrUnknownApp through BC.err.
func (s *Sandbox) serveScript(w http.ResponseWriter, r *http.Request) {
	appID := r.URL.Query().Get("appId")
	cfg := scriptConfig{Base: base(r), AppID: appID, Paths: sitePaths}
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
	Kind  string           `json:"kind"`
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
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxClickBytes)).Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, clickResponse{Error: fmt.Sprintf("beecloudtest: the click is larger than %d KiB: keep optional small", maxClickBytes>>10)})
			return
		}
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
		for _, ch := range menu(app, c.order, req.Mobile) {
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
// its brand colour, darkened where needed so that white text on it has a
// contrast of at least 4.5:1.
func look(ch beecloud.Channel) (glyph, color string) {
	sub := channel.Sub(string(ch), false)
	switch {
	case strings.Contains(sub, "WX") || sub == "BC_NATIVE":
		return "微", "#067d3f"
	case strings.Contains(sub, "ALI"):
		return "支", "#0958d9"
	case strings.HasPrefix(sub, "UN") || sub == "BC_EXPRESS":
		return "银", "#d81e06"
	case strings.HasPrefix(sub, "JD"):
		return "京", "#e1251b"
	case strings.HasPrefix(sub, "BD"):
		return "百", "#2932e1"
	case strings.HasPrefix(sub, "YEE"):
		return "易", "#c7282b"
	case strings.HasPrefix(sub, "KUAIQIAN"):
		return "快", "#0b63b6"
	}
	return "付", "#666666"
}

func menuItemFor(ch beecloud.Channel, mobile bool) menuItem {
	glyph, color := look(ch)
	sub := channel.Sub(string(ch), mobile)
	return menuItem{Code: ch, Name: ch.Name(), Sub: sub, Kind: kind(ch, sub), Glyph: glyph, Color: color, QR: channel.QRCode(string(ch))}
}

// kind says in words for the buyer how the channel ch pays as sub.
func kind(ch beecloud.Channel, sub string) string {
	switch {
	case channel.QRCode(string(ch)):
		return "扫码支付"
	case ch.NeedsOpenID():
		return "微信内支付"
	case sub == "BC_EXPRESS":
		return "快捷支付"
	case strings.HasSuffix(sub, "_WAP"):
		return "手机网页支付"
	}
	return "网页支付"
}
