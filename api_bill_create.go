package beecloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// BillChannel is a channel of BeeCloud's REST API that a server pays
// through with [Client.CreateBill], such as [BillWxNative]. The values are
// BeeCloud's own spelling; the zero value is no channel.
type BillChannel string

// The channels [Client.CreateBill] takes.
const (
	BillWxApp            BillChannel = "WX_APP"             // WeChat, inside the merchant's native app
	BillWxNative         BillChannel = "WX_NATIVE"          // WeChat, a QR code the buyer scans
	BillWxJSAPI          BillChannel = "WX_JSAPI"           // WeChat, inside WeChat (official account); needs OpenID
	BillAliApp           BillChannel = "ALI_APP"            // Alipay, inside the merchant's native app
	BillAliWeb           BillChannel = "ALI_WEB"            // Alipay, desktop web; needs ReturnURL
	BillAliQRCode        BillChannel = "ALI_QRCODE"         // Alipay, a QR page in an iframe; needs ReturnURL and QRPayMode
	BillAliOfflineQRCode BillChannel = "ALI_OFFLINE_QRCODE" // Alipay, a QR code for a shop counter
	BillAliWap           BillChannel = "ALI_WAP"            // Alipay, mobile web
	BillUnApp            BillChannel = "UN_APP"             // UnionPay, inside the merchant's native app
	BillUnWeb            BillChannel = "UN_WEB"             // UnionPay, desktop web; needs ReturnURL
	BillJDWap            BillChannel = "JD_WAP"             // JD, mobile web; needs ReturnURL
	BillJDWeb            BillChannel = "JD_WEB"             // JD, desktop web; needs ReturnURL
	BillYeeWap           BillChannel = "YEE_WAP"            // Yeepay, mobile web; needs IdentityID
	BillYeeWeb           BillChannel = "YEE_WEB"            // Yeepay, desktop web
	BillYeeNoBankCard    BillChannel = "YEE_NOBANKCARD"     // Yeepay, a prepaid game or phone card; needs Card
	BillKuaiqianWap      BillChannel = "KUAIQIAN_WAP"       // 99Bill (快钱), mobile web
	BillKuaiqianWeb      BillChannel = "KUAIQIAN_WEB"       // 99Bill (快钱), desktop web
	BillPaypalLive       BillChannel = "PAYPAL_LIVE"        // PayPal
	BillPaypalSandbox    BillChannel = "PAYPAL_SANDBOX"     // PayPal's own sandbox
	BillBDApp            BillChannel = "BD_APP"             // Baidu, inside the merchant's native app
	BillBDWap            BillChannel = "BD_WAP"             // Baidu, mobile web
	BillBDWeb            BillChannel = "BD_WEB"             // Baidu, desktop web
)

// billChannels lists every BillChannel, in the order above.
var billChannels = []BillChannel{
	BillWxApp, BillWxNative, BillWxJSAPI, BillAliApp, BillAliWeb, BillAliQRCode, BillAliOfflineQRCode,
	BillAliWap, BillUnApp, BillUnWeb, BillJDWap, BillJDWeb, BillYeeWap, BillYeeWeb, BillYeeNoBankCard,
	BillKuaiqianWap, BillKuaiqianWeb, BillPaypalLive, BillPaypalSandbox, BillBDApp, BillBDWap, BillBDWeb,
}

// BillChannels returns every channel [Client.CreateBill] takes. The caller
// owns the slice.
func BillChannels() []BillChannel { return slices.Clone(billChannels) }

// String returns the channel as BeeCloud spells it, such as "WX_NATIVE".
func (c BillChannel) String() string { return string(c) }

// Known reports whether c is one of the BillChannel constants.
func (c BillChannel) Known() bool { return slices.Contains(billChannels, c) }

// needsReturnURL reports whether BeeCloud requires return_url for c.
func (c BillChannel) needsReturnURL() bool {
	switch c {
	case BillAliWeb, BillAliQRCode, BillUnWeb, BillJDWap, BillJDWeb:
		return true
	}
	return false
}

// inBrowser reports whether the buyer pays c in a browser, which can
// return to a return_url.
func (c BillChannel) inBrowser() bool {
	switch c {
	case BillWxApp, BillWxNative, BillWxJSAPI, BillAliApp, BillAliOfflineQRCode, BillUnApp, BillBDApp, BillYeeNoBankCard:
		return false
	}
	return true
}

// QRPayMode is how Alipay lays out the QR page of an [BillAliQRCode]
// bill in the merchant's iframe.
type QRPayMode string

// The layouts of an Alipay QR page, with the iframe size each needs.
const (
	QRPayModeWide  QRPayMode = "0" // at least 600×300 px (width × height)
	QRPayModeTall  QRPayMode = "1" // at least 300×600 px
	QRPayModeSmall QRPayMode = "3" // at least 75×75 px
)

// PrepaidCardTypes returns the card types (frqid) a [BillYeeNoBankCard]
// bill takes, in a new slice each time.
func PrepaidCardTypes() []string { return slices.Clone(prepaidCardTypes) }

var prepaidCardTypes = []string{
	"JUNNET", "SNDACARD", "SZX", "ZHENGTU", "QQCARD", "UNICOM", "JIUYOU", "YICHONGCARD",
	"NETEASE", "WANMEI", "SOHU", "TELECOM", "ZONGYOU", "TIANXIA", "TIANHONG", "THIRTYTWOCARD",
}

// PrepaidCard is the game or phone card that pays a [BillYeeNoBankCard]
// bill. Its String hides the password.
type PrepaidCard struct {
	// Number is the card's number (cardno).
	Number string
	// Password is the card's password (cardpwd); it is sent to BeeCloud and
	// never printed.
	Password string
	// Type is the card's kind (frqid), one of [PrepaidCardTypes].
	Type string
}

// String describes the card without its password.
func (p PrepaidCard) String() string {
	return fmt.Sprintf("PrepaidCard{Number:%q, Password:%q, Type:%q}", p.Number, mask(p.Password), p.Type)
}

// GoString is String, so that %#v hides the password too.
func (p PrepaidCard) GoString() string { return p.String() }

// Analysis describes the buyer's device for BeeCloud's dashboard
// statistics (analysis). Every field is optional.
type Analysis struct {
	OSName         string `json:"os_name,omitempty"`
	OSVersion      string `json:"os_version,omitempty"`
	Model          string `json:"model,omitempty"`
	AppName        string `json:"app_name,omitempty"`
	AppVersion     string `json:"app_version,omitempty"`
	DeviceID       string `json:"device_id,omitempty"`
	Category       string `json:"category,omitempty"`
	BrowserName    string `json:"browser_name,omitempty"`
	BrowserVersion string `json:"browser_version,omitempty"`
}

// BillRequest is a payment for [Client.CreateBill]. Amounts are in 分.
// Which of the channel's fields are required depends on Channel; a field
// another channel needs is refused, so that a mistake is not silently
// ignored.
type BillRequest struct {
	// Channel is how the buyer pays. Required.
	Channel BillChannel
	// OutTradeNo is the order's number (BeeCloud's bill_no): 8 to 32 ASCII
	// letters and digits, unique among the app's bills. Required. Never
	// reuse one for a new attempt: BeeCloud makes a second bill.
	OutTradeNo string
	// Title names the goods: at most 32 GBK bytes (16 Chinese characters).
	// Required.
	Title string
	// Amount is the total in 分, at least 1. Required.
	Amount int64
	// Optional is echoed in the bill's webhook: a flat map of string,
	// number and bool values.
	Optional map[string]any
	// Analysis, if set, feeds BeeCloud's dashboard statistics.
	Analysis *Analysis
	// ReturnURL is where the buyer's browser goes after paying: http or
	// https, no ? and no #. Required for ALI_WEB, ALI_QRCODE, UN_WEB,
	// JD_WAP and JD_WEB; refused for the channels paid outside a browser.
	ReturnURL string
	// Timeout, if set, is how long the bill can be paid (bill_timeout), in
	// whole seconds; BeeCloud advises more than 6 minutes. JD refuses it.
	Timeout time.Duration

	// OpenID is the buyer's openid for the official account: required for
	// WX_JSAPI, refused for the others.
	OpenID string
	// ShowURL is the goods' page Alipay links to (show_url), for ALI_WEB
	// only.
	ShowURL string
	// QRPayMode lays out the QR page: required for ALI_QRCODE, refused for
	// the others.
	QRPayMode QRPayMode
	// IdentityID names the buyer at Yeepay (identity_id), at most 50
	// letters or digits: required for YEE_WAP, refused for the others.
	IdentityID string
	// Card pays a YEE_NOBANKCARD bill, where it is required. Amount must
	// be the card's face value, or the difference may be lost.
	Card *PrepaidCard
}

// Limits of a [BillRequest].
const (
	maxIdentityID = 50
	maxCardField  = 64
	maxURLLength  = 1024
	maxAnalysis   = 128
)

// params checks r and returns its parameters for POST /2/rest/bill.
func (r BillRequest) params() (map[string]any, error) {
	p := problems{op: "bill"}
	ch := r.Channel
	switch {
	case ch == "":
		p.add("channel", "is required: one of BillChannels(), such as \"WX_NATIVE\"")
	case !ch.Known():
		p.add("channel", fmt.Sprintf("unknown channel %q: one of BillChannels(), such as \"WX_NATIVE\"", shortText(string(ch), 40)))
	}
	if reason := checkOutTradeNo(r.OutTradeNo); reason != "" {
		p.add("bill_no", reason)
	}
	if reason := checkBillTitle(r.Title); reason != "" {
		p.add("title", reason)
	}
	switch {
	case r.Amount <= 0:
		p.add("total_fee", fmt.Sprintf("must be a positive number of 分 (1 = ¥0.01), got %d", r.Amount))
	case r.Amount > MaxAmount:
		p.add("total_fee", fmt.Sprintf("must be at most %d 分, got %d", int64(MaxAmount), r.Amount))
	}
	for _, key := range slices.Sorted(maps.Keys(r.Optional)) {
		if reason := checkOptional(key, r.Optional[key]); reason != "" {
			p.add("optional."+key, reason)
		}
	}
	if r.Analysis != nil {
		checkAnalysis(&p, *r.Analysis)
	}
	known := ch.Known()
	switch {
	case r.ReturnURL == "" && ch.needsReturnURL():
		p.add("return_url", fmt.Sprintf("is required for %s: where the buyer's browser goes after paying", ch))
	case r.ReturnURL != "" && known && !ch.inBrowser():
		p.add("return_url", fmt.Sprintf("is not taken by %s, which is not paid in a browser", ch))
	case r.ReturnURL != "":
		if reason := checkReturnURL(r.ReturnURL); reason != "" {
			p.add("return_url", reason)
		} else if len(r.ReturnURL) > maxURLLength {
			p.add("return_url", fmt.Sprintf("must be at most %d bytes, got %d", maxURLLength, len(r.ReturnURL)))
		}
	}
	switch {
	case r.Timeout < 0:
		p.add("bill_timeout", fmt.Sprintf("must be positive, got %s", r.Timeout))
	case r.Timeout > 0 && (r.Timeout < time.Second || r.Timeout%time.Second != 0):
		p.add("bill_timeout", fmt.Sprintf("must be whole seconds, got %s", r.Timeout))
	case r.Timeout > 0 && (ch == BillJDWap || ch == BillJDWeb):
		p.add("bill_timeout", fmt.Sprintf("is not supported by %s", ch))
	}
	r.checkChannelFields(&p, known)

	m := map[string]any{
		"channel":   string(ch),
		"bill_no":   r.OutTradeNo,
		"title":     r.Title,
		"total_fee": r.Amount,
	}
	if len(r.Optional) > 0 {
		m["optional"] = r.Optional
	}
	if r.Analysis != nil && *r.Analysis != (Analysis{}) {
		m["analysis"] = *r.Analysis
	}
	if r.ReturnURL != "" {
		m["return_url"] = r.ReturnURL
	}
	if r.Timeout > 0 {
		m["bill_timeout"] = int64(r.Timeout / time.Second)
	}
	setIf(m, "openid", r.OpenID)
	setIf(m, "show_url", r.ShowURL)
	setIf(m, "qr_pay_mode", string(r.QRPayMode))
	setIf(m, "identity_id", r.IdentityID)
	if r.Card != nil {
		m["cardno"], m["cardpwd"], m["frqid"] = r.Card.Number, r.Card.Password, r.Card.Type
	}
	return m, p.err()
}

func setIf(m map[string]any, key, v string) {
	if v != "" {
		m[key] = v
	}
}

// checkChannelFields checks the fields that belong to one channel: each
// is required by its channel and refused by the others. known reports
// whether r.Channel is known; for an unknown one only the values are
// checked.
func (r BillRequest) checkChannelFields(p *problems, known bool) {
	ch := r.Channel
	only := func(key string, set bool, owner BillChannel, required bool, check func() string) {
		switch {
		case !set && required && ch == owner:
			p.add(key, fmt.Sprintf("is required for %s", owner))
		case set && known && ch != owner:
			p.add(key, fmt.Sprintf("is only taken by %s, not %s", owner, ch))
		case set:
			if reason := check(); reason != "" {
				p.add(key, reason)
			}
		}
	}
	only("openid", r.OpenID != "", BillWxJSAPI, true, func() string { return checkOpenID(r.OpenID) })
	only("show_url", r.ShowURL != "", BillAliWeb, false, func() string {
		if reason := checkReturnURL(r.ShowURL); reason != "" {
			return reason
		}
		if len(r.ShowURL) > maxURLLength {
			return fmt.Sprintf("must be at most %d bytes, got %d", maxURLLength, len(r.ShowURL))
		}
		return ""
	})
	only("qr_pay_mode", r.QRPayMode != "", BillAliQRCode, true, func() string {
		switch r.QRPayMode {
		case QRPayModeWide, QRPayModeTall, QRPayModeSmall:
			return ""
		}
		return fmt.Sprintf("must be \"0\", \"1\" or \"3\" (QRPayModeWide, QRPayModeTall, QRPayModeSmall), got %q", shortText(string(r.QRPayMode), 20))
	})
	only("identity_id", r.IdentityID != "", BillYeeWap, true, func() string {
		return checkAlnum(r.IdentityID, maxIdentityID)
	})
	if r.Card == nil {
		if ch == BillYeeNoBankCard {
			p.add("cardno", "is required for YEE_NOBANKCARD (Card.Number)")
			p.add("cardpwd", "is required for YEE_NOBANKCARD (Card.Password)")
			p.add("frqid", "is required for YEE_NOBANKCARD (Card.Type)")
		}
		return
	}
	if known && ch != BillYeeNoBankCard {
		p.add("cardno", fmt.Sprintf("a Card is only taken by YEE_NOBANKCARD, not %s", ch))
		return
	}
	c := r.Card
	if c.Number == "" {
		p.add("cardno", "is required for YEE_NOBANKCARD (Card.Number)")
	} else if reason := checkAlnum(c.Number, maxCardField); reason != "" {
		p.add("cardno", reason)
	}
	switch {
	case c.Password == "":
		p.add("cardpwd", "is required for YEE_NOBANKCARD (Card.Password)")
	case len(c.Password) > maxCardField:
		p.add("cardpwd", fmt.Sprintf("must be at most %d characters", maxCardField))
	default:
		// The reason never quotes the password.
		for i := 0; i < len(c.Password); i++ {
			if !isAlnum(c.Password[i]) {
				p.add("cardpwd", "must be ASCII letters and digits")
				break
			}
		}
	}
	switch {
	case c.Type == "":
		p.add("frqid", "is required for YEE_NOBANKCARD (Card.Type), one of PrepaidCardTypes()")
	case !slices.Contains(prepaidCardTypes, c.Type):
		p.add("frqid", fmt.Sprintf("unknown card type %q: one of PrepaidCardTypes(), such as \"SZX\"", shortText(c.Type, 20)))
	}
}

// checkAlnum returns what is wrong with s, 1 to max ASCII letters and
// digits, or "".
func checkAlnum(s string, limit int) string {
	if len(s) > limit {
		return fmt.Sprintf("must be at most %d letters or digits, got %d bytes", limit, len(s))
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return fmt.Sprintf("must be ASCII letters and digits only, found %q", firstRune(s[i:]))
		}
	}
	return ""
}

// checkBillTitle is checkTitle for the REST API, which builds no
// JavaScript and so takes quotes.
func checkBillTitle(s string) string {
	switch {
	case s == "":
		return "is required"
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Sprintf("must not contain the control character %U", r)
		}
	}
	if n := gbkLen(s); n > MaxTitleBytes {
		return fmt.Sprintf("is %d GBK bytes long; at most %d (16 Chinese characters or 32 ASCII ones)", n, MaxTitleBytes)
	}
	return ""
}

func checkAnalysis(p *problems, a Analysis) {
	for _, f := range []struct{ key, v string }{
		{"os_name", a.OSName}, {"os_version", a.OSVersion}, {"model", a.Model}, {"app_name", a.AppName},
		{"app_version", a.AppVersion}, {"device_id", a.DeviceID}, {"category", a.Category},
		{"browser_name", a.BrowserName}, {"browser_version", a.BrowserVersion},
	} {
		switch {
		case !utf8.ValidString(f.v):
			p.add("analysis."+f.key, "is not valid UTF-8")
		case len(f.v) > maxAnalysis:
			p.add("analysis."+f.key, fmt.Sprintf("must be at most %d bytes, got %d", maxAnalysis, len(f.v)))
		case strings.IndexFunc(f.v, unicode.IsControl) >= 0:
			p.add("analysis."+f.key, "must not contain control characters")
		}
	}
}

// JSAPIParams are what a page inside WeChat passes to
// WeixinJSBridge.invoke("getBrandWCPayRequest", params, callback) to pay
// a [BillWxJSAPI] bill. Marshalled with encoding/json it has WeChat's
// keys; hand it to the page with html/template, which escapes it.
type JSAPIParams struct {
	AppID     string `json:"appId"`
	TimeStamp string `json:"timeStamp"`
	NonceStr  string `json:"nonceStr"`
	Package   string `json:"package"`
	SignType  string `json:"signType"`
	PaySign   string `json:"paySign"`
}

// WxAppParams are what a native app hands WeChat's SDK to pay a
// [BillWxApp] bill (its PayReq), with BeeCloud's keys.
type WxAppParams struct {
	AppID     string `json:"app_id"`
	PartnerID string `json:"partner_id"`
	PrepayID  string `json:"prepay_id"`
	Package   string `json:"package"`
	NonceStr  string `json:"nonce_str"`
	TimeStamp string `json:"timestamp"`
	PaySign   string `json:"pay_sign"`
}

// BillResult is BeeCloud's answer to [Client.CreateBill]: the bill's id
// and what the buyer pays it with. Which field is set depends on the
// channel's family:
//
//   - WX_NATIVE: CodeURL, to show as a QR code the buyer scans.
//   - WX_JSAPI: JSAPI, for WeixinJSBridge inside WeChat.
//   - WX_APP: WxApp, for WeChat's SDK in a native app.
//   - ALI_APP: OrderString, for Alipay's SDK in a native app.
//   - UN_APP: TN, UnionPay's transaction number for its SDK.
//   - BD_APP: OrderInfo, for Baidu's SDK.
//   - ALI_OFFLINE_QRCODE: QRCode, the text of a QR code to print.
//   - ALI_WEB, ALI_WAP, ALI_QRCODE: HTML, a form that sends the browser to
//     Alipay, and URL, the same page as a link (ALI_QRCODE: for an iframe).
//   - UN_WEB, JD_*, KUAIQIAN_*: HTML.
//   - YEE_WAP, YEE_WEB, BD_WAP, BD_WEB: URL.
//
// HTML comes from BeeCloud: serve it as a whole page, or in a sandboxed
// iframe, never spliced into a page of your own.
type BillResult struct {
	// ID is BeeCloud's record id of the bill, for [Client.GetBill].
	ID string
	// Channel is the bill's channel, as requested.
	Channel BillChannel

	CodeURL     string
	JSAPI       *JSAPIParams
	WxApp       *WxAppParams
	OrderString string
	TN          string
	OrderInfo   string
	QRCode      string
	HTML        string
	URL         string
}

// wireBillResult is the answer of POST /2/rest/bill.
type wireBillResult struct {
	ID          string          `json:"id"`
	AppID       string          `json:"app_id"`
	PartnerID   string          `json:"partner_id"`
	Package     string          `json:"package"`
	NonceStr    string          `json:"nonce_str"`
	Timestamp   json.RawMessage `json:"timestamp"`
	PaySign     string          `json:"pay_sign"`
	PrepayID    string          `json:"prepay_id"`
	SignType    string          `json:"sign_type"`
	CodeURL     string          `json:"code_url"`
	OrderString string          `json:"order_string"`
	HTML        string          `json:"html"`
	URL         string          `json:"url"`
	QRCode      string          `json:"qr_code"`
	TN          string          `json:"tn"`
	OrderInfo   string          `json:"orderInfo"`
}

// decodeBillResult decodes the answer to a bill of channel ch, and
// checks that it holds what the channel is paid with.
func decodeBillResult(body []byte, ch BillChannel) (*BillResult, error) {
	var w wireBillResult
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, err
	}
	ts, err := scalarText(w.Timestamp)
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	res := &BillResult{
		ID: w.ID, Channel: ch, CodeURL: w.CodeURL, OrderString: w.OrderString, TN: w.TN,
		OrderInfo: w.OrderInfo, QRCode: w.QRCode, HTML: w.HTML, URL: w.URL,
	}
	var missing string
	switch ch {
	case BillWxJSAPI:
		signType := w.SignType
		if signType == "" {
			signType = "MD5"
		}
		res.JSAPI = &JSAPIParams{AppID: w.AppID, TimeStamp: ts, NonceStr: w.NonceStr, Package: w.Package, SignType: signType, PaySign: w.PaySign}
		if w.Package == "" || w.PaySign == "" {
			missing = "package and pay_sign"
		}
	case BillWxApp:
		res.WxApp = &WxAppParams{AppID: w.AppID, PartnerID: w.PartnerID, PrepayID: w.PrepayID, Package: w.Package, NonceStr: w.NonceStr, TimeStamp: ts, PaySign: w.PaySign}
		if w.PrepayID == "" || w.PaySign == "" {
			missing = "prepay_id and pay_sign"
		}
	case BillWxNative:
		missing = ifEmpty(w.CodeURL, "code_url")
	case BillAliApp:
		missing = ifEmpty(w.OrderString, "order_string")
	case BillUnApp:
		missing = ifEmpty(w.TN, "tn")
	case BillBDApp:
		missing = ifEmpty(w.OrderInfo, "orderInfo")
	case BillAliOfflineQRCode:
		missing = ifEmpty(w.QRCode, "qr_code")
	case BillAliWeb, BillAliWap, BillAliQRCode, BillUnWeb, BillJDWap, BillJDWeb, BillKuaiqianWap, BillKuaiqianWeb:
		missing = ifEmpty(w.HTML, "html")
	case BillYeeWap, BillYeeWeb, BillBDWap, BillBDWeb:
		missing = ifEmpty(w.URL, "url")
	}
	if missing != "" {
		return res, fmt.Errorf("no %s for %s", missing, ch)
	}
	return res, nil
}

func ifEmpty(v, key string) string {
	if v == "" {
		return key
	}
	return ""
}

// scalarText returns a JSON string's content or a number's text; WeChat's
// timestamp comes as either.
func scalarText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", nil
	case raw[0] == '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", err
	}
	return n.String(), nil
}

// CreateBill makes a payment through r.Channel (POST /2/rest/bill,
// signed with the App Secret; with Test set, POST /2/rest/sandbox/bill,
// signed with the Test Secret) and returns what the buyer pays it with.
// r is checked first: every problem comes back at once in a
// *[ValidationError] naming BeeCloud's keys ("bill_no", "openid", "cardno"…),
// and nothing is sent.
//
// A bill is never sent twice: BeeCloud makes a second bill for an
// out_trade_no sent again. When the answer is lost (the connection broke,
// a timeout, a 5xx or 429 answer), CreateBill only looks the bill up by
// its out_trade_no, patiently, as [Client.Refund] does, within ctx. If BeeCloud has it, the error wraps [ErrBillAnswerLost]:
// the bill exists but what pays it was in the lost answer, so pay the
// order with a new bill under a new out_trade_no. Otherwise the error
// wraps [ErrUnknownOutcome]: look the out_trade_no up with [Client.Bills]
// before anything else. Only a request that never reached BeeCloud (the
// connection could not be made) is sent again.
//
// The payment is done when its webhook comes; until then, ask
// [Client.Bills] with the OutTradeNo.
func (c *Client) CreateBill(ctx context.Context, r BillRequest) (*BillResult, error) {
	params, err := r.params()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("beecloud: bill %s: not sent: %w", r.OutTradeNo, err)
	}
	k := c.billCall(http.MethodPost, "/2/rest/bill", params)
	k.about = "bill_no " + r.OutTradeNo + ", " + string(r.Channel)
	if err := c.checkCall(k); err != nil {
		return nil, err
	}
	var found *Bill
	var malformed error // a success BeeCloud sent whose pay data is unreadable
	res, recovered, err := sendOnce[*BillResult]{
		call:   k,
		what:   "bill " + r.OutTradeNo + " (" + string(r.Channel) + ")",
		settle: "look its out_trade_no up with Client.Bills before making another bill for this order",
		decode: func(body []byte) (*BillResult, error) {
			res, err := decodeBillResult(body, r.Channel)
			if err != nil {
				// result_code 0 says BeeCloud made the bill: a look-up
				// could find it, never what pays it.
				malformed = err
				return nil, nil
			}
			return res, nil
		},
		find: func(ctx context.Context) (*BillResult, bool, error) {
			b, err := c.findBill(ctx, r)
			if err != nil || b == nil {
				return nil, false, err
			}
			found = b
			return nil, true, nil
		},
	}.do(ctx, c)
	switch {
	case malformed != nil:
		return nil, fmt.Errorf("%w: bill %s: BeeCloud made it (result_code 0) but the answer is malformed: %w", ErrBillAnswerLost, r.OutTradeNo, malformed)
	case recovered:
		// BeeCloud has the bill, but what pays it was in the lost answer.
		return nil, fmt.Errorf("%w: bill %s (id %s) of %d 分 through %s: BeeCloud made it but its answer was lost: pay the order with a new bill under a new out_trade_no",
			ErrBillAnswerLost, r.OutTradeNo, found.ID, found.Amount, r.Channel)
	case err != nil:
		return nil, err
	}
	return res, nil
}

// findBill looks up the bill r by its bill_no; nil means BeeCloud has no
// bill of r's channel and amount under it.
func (c *Client) findBill(ctx context.Context, r BillRequest) (*Bill, error) {
	bills, err := c.Bills(ctx, BillQuery{OutTradeNo: r.OutTradeNo, Limit: MaxLimit})
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.Code == CodeNoSuchBill {
			return nil, nil
		}
		return nil, err
	}
	for i := range bills {
		b := &bills[i]
		if b.OutTradeNo == r.OutTradeNo && b.Amount == r.Amount && (b.SubChannel == string(r.Channel) || string(b.Channel) == string(r.Channel)) {
			return b, nil
		}
	}
	return nil, nil
}

// ErrBillAnswerLost means BeeCloud made a bill but its answer, which holds
// what the buyer pays it with, was lost or unreadable. The bill cannot be
// sent again (BeeCloud would make a second one): pay the order with a new
// bill under a new out_trade_no.
var ErrBillAnswerLost = errors.New("beecloud: bill made, answer lost")
