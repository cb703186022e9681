package beecloudtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/internal/channel"
)

// The paths of bills made by a server, live and in BeeCloud's test mode.
const (
	restCreateBillPath = "/2/rest/bill"
	sandboxRESTPrefix  = "/2/rest/sandbox/"
	testBillPath       = "/2/rest/sandbox/bill"
	testBillsPath      = "/2/rest/sandbox/bills"
	testBillsCountPath = "/2/rest/sandbox/bills/count"
	// testNotifyPath marks a test bill paid, as BeeCloud's Android SDK
	// does: GET …/notify/{app_id}/{id}, unsigned.
	testNotifyPath = "/2/rest/sandbox/notify/"
	// testNotifyV1Path is the same in BeeCloud's v1 test-mode document.
	testNotifyV1Path = "/1/rest/sandbox/"
)

// appToken marks the strings the sandbox hands an app channel (an
// order_string, a tn, a prepay_id…): followed by the bill's id, it lets
// [Sandbox.MarkPaid] find the bill again.
const appToken = "bcsandbox_"

// routeRESTBills adds bill creation, test mode and marking paid to mux.
func (s *Sandbox) routeRESTBills(mux *http.ServeMux) {
	mux.HandleFunc("POST "+restCreateBillPath, s.restCall(false, s.restCreateBill))
	mux.HandleFunc("POST "+testBillPath, s.restCall(false, s.restCreateBill))
	mux.HandleFunc("GET "+testBillsPath, s.restCall(false, s.restTestBills))
	mux.HandleFunc("GET "+testBillsCountPath, s.restCall(false, s.restTestBillsCount))
	mux.HandleFunc("GET "+testBillPath+"/{id}", s.restCall(false, s.restTestBill))
	mux.HandleFunc("GET "+testNotifyPath+"{app}/{id}", s.serveMarkPaid)
	mux.HandleFunc("GET "+testNotifyV1Path+"{app}/{id}", s.serveMarkPaid)
}

// testPath reports whether r is a call of BeeCloud's test mode, signed
// with the Test Secret.
func testPath(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, sandboxRESTPrefix) }

// channelName is the name the pages show for a bill's channel: the
// button's name for its code, or the REST API channel's.
func channelName(ch beecloud.Channel) string {
	if info, ok := channel.Bill(string(ch)); ok {
		return info.Name
	}
	return ch.Name()
}

// restCreateBill makes a bill for POST /2/rest/bill, or its test-mode
// twin, and answers what the channel is paid with.
func (s *Sandbox) restCreateBill(q *restReq) (map[string]any, *restErr) {
	b, rerr := readBill(q)
	if rerr != nil {
		return nil, rerr
	}
	b.AppID = q.app.Config.AppID
	b.Test = testPath(q.r)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.payments {
		if p.AppID == b.AppID && p.Test == b.Test && p.Order.OutTradeNo == b.Order.OutTradeNo {
			return nil, fail(beecloud.CodeBillNoDuplicate, "bill_no %q is already paid", b.Order.OutTradeNo)
		}
	}
	// As BeeCloud, a bill_no sent again makes another bill.
	now := time.Now()
	b.ID, b.State, b.Created, b.Updated = randomHex(16), BillPending, now, now
	s.bills = append(s.bills, b)
	s.byID[b.ID] = b
	s.forgetLocked()
	s.notifyLocked()
	return billAnswer(base(q.r), b), nil
}

// billAnswer is the answer to a new bill b: its id, and what its channel
// is paid with, leading to the sandbox's pay page.
func billAnswer(base string, b *Bill) map[string]any {
	page := base + payPath + b.ID
	token := appToken + b.ID
	out := map[string]any{"id": b.ID}
	wx := func() {
		out["app_id"] = "wxsandbox" + b.AppID[:min(8, len(b.AppID))]
		out["nonce_str"] = randomHex(16)
		out["timestamp"] = strconv.FormatInt(b.Created.Unix(), 10)
		out["pay_sign"] = strings.ToUpper(randomHex(16))
	}
	switch b.SubChannel {
	case "WX_APP":
		wx()
		out["partner_id"] = "1900000109"
		out["prepay_id"] = token
		out["package"] = "Sign=WXPay"
	case "WX_JSAPI":
		wx()
		out["package"] = "prepay_id=" + token
		out["sign_type"] = "MD5"
	case "WX_NATIVE":
		out["code_url"] = page
	case "ALI_APP":
		out["order_string"] = aliOrderString(b, token)
	case "ALI_OFFLINE_QRCODE":
		out["qr_code"] = page
	case "UN_APP":
		out["tn"] = token
	case "BD_APP":
		out["orderInfo"] = "order_no=" + b.Order.OutTradeNo + "&total_amount=" + strconv.FormatInt(b.Order.Amount, 10) + "&sign=" + token
	case "ALI_WEB", "ALI_WAP", "ALI_QRCODE":
		out["html"] = formHTML(page)
		out["url"] = page
	case "UN_WEB", "JD_WAP", "JD_WEB", "KUAIQIAN_WAP", "KUAIQIAN_WEB":
		out["html"] = formHTML(page)
	case "YEE_WAP", "YEE_WEB", "BD_WAP", "BD_WEB", "PAYPAL_LIVE", "PAYPAL_SANDBOX":
		out["url"] = page
	}
	return out
}

// aliOrderString is an ALI_APP order_string in the shape of Alipay's.
func aliOrderString(b *Bill, token string) string {
	v := url.Values{}
	v.Set("partner", "2088000000000000")
	v.Set("out_trade_no", b.Order.OutTradeNo)
	v.Set("subject", b.Order.Title)
	v.Set("total_fee", yuan(b.Order.Amount))
	v.Set("service", "mobile.securitypay.pay")
	v.Set("sign", token)
	return v.Encode()
}

// formTemplate is a self-submitting form to a pay page, as the channels'
// html answers are.
var formTemplate = template.Must(template.New("form").Parse(
	`<form id="bcsandboxsubmit" name="bcsandboxsubmit" action="{{.}}" method="get"></form>` +
		`<script>document.forms["bcsandboxsubmit"].submit();</script>`))

func formHTML(page string) string {
	var b strings.Builder
	if err := formTemplate.Execute(&b, page); err != nil {
		panic("beecloudtest: form: " + err.Error())
	}
	return b.String()
}

// readBill reads and checks the parameters of a new bill as BeeCloud
// does: a missing one is MISS_PARAM, a bad one PARAM_INVALID.
func readBill(q *restReq) (*Bill, *restErr) {
	ch, rerr := q.str("channel", true)
	if rerr != nil {
		return nil, rerr
	}
	info, ok := channel.Bill(ch)
	if !ok {
		return nil, fail(beecloud.CodeChannelInvalid, "channel %q is not a channel of POST /2/rest/bill", ch)
	}
	billNo, rerr := q.str("bill_no", true)
	if rerr != nil {
		return nil, rerr
	}
	if !alnum(billNo, 8, 32) {
		return nil, fail(beecloud.CodeParamInvalid, "bill_no must be 8 to 32 letters or digits, got %q", billNo)
	}
	title, rerr := q.str("title", true)
	if rerr != nil {
		return nil, rerr
	}
	if !utf8.ValidString(title) || gbkBytes(title) > beecloud.MaxTitleBytes {
		return nil, fail(beecloud.CodeParamInvalid, "title must be at most 32 bytes (16 Chinese characters)")
	}
	fee, ok, rerr := q.integer("total_fee")
	switch {
	case rerr != nil:
		return nil, rerr
	case !ok:
		return nil, fail(beecloud.CodeMissParam, "total_fee is required")
	case fee < 1:
		return nil, fail(beecloud.CodeParamInvalid, "total_fee must be a positive integer in 分, got %d", fee)
	}
	o := beecloud.Order{OutTradeNo: billNo, Title: title, Amount: fee}
	if o.Optional, rerr = q.flatMap("optional"); rerr != nil {
		return nil, rerr
	}
	if _, rerr := q.flatMap("analysis"); rerr != nil {
		return nil, rerr
	}
	if o.ReturnURL, rerr = q.str("return_url", false); rerr != nil {
		return nil, rerr
	}
	switch ch {
	case "ALI_WEB", "ALI_QRCODE", "UN_WEB", "JD_WAP", "JD_WEB":
		if o.ReturnURL == "" {
			return nil, fail(beecloud.CodeMissParam, "return_url is required for %s", ch)
		}
	}
	if o.ReturnURL != "" && (!strings.HasPrefix(o.ReturnURL, "http://") && !strings.HasPrefix(o.ReturnURL, "https://") || strings.ContainsAny(o.ReturnURL, "?#")) {
		return nil, fail(beecloud.CodeParamInvalid, "return_url must be an http URL without ? or #")
	}
	timeout, set, rerr := q.integer("bill_timeout")
	switch {
	case rerr != nil:
		return nil, rerr
	case set && timeout <= 0:
		return nil, fail(beecloud.CodeParamInvalid, "bill_timeout must be a positive number of seconds")
	case set && info.Type == "JD":
		return nil, fail(beecloud.CodeParamInvalid, "bill_timeout is not supported by %s", ch)
	}
	for _, f := range channelFields[ch] {
		v, rerr := q.str(f.key, true)
		if rerr != nil {
			return nil, rerr
		}
		if f.valid != nil && !f.valid(v) {
			return nil, fail(beecloud.CodeParamInvalid, "%s: %s", f.key, f.rule)
		}
		if f.key == "openid" {
			o.OpenID = v
		}
	}
	return &Bill{Order: o, Channel: beecloud.Channel(ch), SubChannel: ch, Mobile: strings.HasSuffix(ch, "_WAP")}, nil
}

// channelField is a parameter one channel requires.
type channelField struct {
	key   string
	valid func(string) bool
	rule  string
}

var channelFields = map[string][]channelField{
	"WX_JSAPI":   {{key: "openid"}},
	"ALI_QRCODE": {{"qr_pay_mode", func(v string) bool { return v == "0" || v == "1" || v == "3" }, `must be "0", "1" or "3"`}},
	"YEE_WAP":    {{"identity_id", func(v string) bool { return alnum(v, 1, 50) }, "must be 1 to 50 letters or digits"}},
	"YEE_NOBANKCARD": {
		{key: "cardno"}, {key: "cardpwd"},
		{"frqid", func(v string) bool { return slices.Contains(beecloud.PrepaidCardTypes(), v) }, "must be a card type such as SZX"},
	},
}

func alnum(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// gbkBytes counts s as GBK does: one byte for ASCII, two for others.
func gbkBytes(s string) int {
	n := 0
	for _, r := range s {
		n += 1 + min(1, int(r)/utf8.RuneSelf)
	}
	return n
}

// flatMap reads an object of strings, numbers and bools.
func (q *restReq) flatMap(key string) (map[string]any, *restErr) {
	v, ok := q.params[key]
	if !ok || v == nil {
		return nil, nil
	}
	m, isObject := v.(map[string]any)
	if !isObject {
		return nil, fail(beecloud.CodeParamInvalid, "%s must be an object", key)
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case string, bool:
			out[k] = v
		case json.Number:
			out[k] = number(v)
		default:
			return nil, fail(beecloud.CodeParamInvalid, "%s.%s must be a string, number or bool", key, k)
		}
	}
	return out, nil
}

// testBillFilter selects the app's test bills for the test-mode list,
// which filters by bill_no, channel and creation time only.
func (s *Sandbox) testBillFilter(q *restReq) (func(*Bill) bool, *restErr) {
	billNo, rerr := q.str("bill_no", false)
	if rerr != nil {
		return nil, rerr
	}
	ch, rerr := q.str("channel", false)
	if rerr != nil {
		return nil, rerr
	}
	from, to, rerr := q.span()
	if rerr != nil {
		return nil, rerr
	}
	appID := q.app.Config.AppID
	return func(b *Bill) bool {
		created := b.Created.UnixMilli()
		return b.AppID == appID && b.Test &&
			(billNo == "" || b.Order.OutTradeNo == billNo) &&
			channelMatches(b, ch) &&
			created >= from && created <= to
	}, nil
}

// testBillJSON is a bill in a test-mode list: no id, the sub-channel as
// channel, and created_time.
func testBillJSON(b *Bill, _ bool) map[string]any {
	return map[string]any{
		"bill_no":      b.Order.OutTradeNo,
		"total_fee":    b.Order.Amount,
		"channel":      b.SubChannel,
		"title":        b.Order.Title,
		"spay_result":  b.State == BillPaid,
		"created_time": b.Created.UnixMilli(),
	}
}

func (s *Sandbox) restTestBills(q *restReq) (map[string]any, *restErr) {
	out, rerr := list(s, q, false, "bills", s.testBillFilter, s.allBills, testBillJSON)
	if rerr != nil {
		return nil, rerr
	}
	// Test mode's list carries its count too.
	out["count"] = len(out["bills"].([]map[string]any))
	return out, nil
}

func (s *Sandbox) restTestBillsCount(q *restReq) (map[string]any, *restErr) {
	return list(s, q, true, "", s.testBillFilter, s.allBills, testBillJSON)
}

// restTestBill answers a test bill by id, with test mode's field names.
func (s *Sandbox) restTestBill(q *restReq) (map[string]any, *restErr) {
	id := q.r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.byID[id]
	if !ok || b.AppID != q.app.Config.AppID || !b.Test {
		return nil, fail(beecloud.CodeNoSuchBill, "no test bill with id %q", id)
	}
	return map[string]any{"pay": map[string]any{
		"bill_no":          b.Order.OutTradeNo,
		"channel":          channelType(b.Channel),
		"sub_channel":      b.SubChannel,
		"channel_trade_no": b.ChannelTransactionID,
		"createdat":        b.Created.UnixMilli(),
		"updatedat":        b.Updated.UnixMilli(),
		"optional":         optionalText(b.Order.Optional),
		"spay_result":      b.State == BillPaid,
		"title":            b.Order.Title,
		"total_fee":        b.Order.Amount,
	}}, nil
}

// serveMarkPaid marks a bill made through the REST API paid, as the pay
// screen BeeCloud's app SDKs fake in test mode does: unsigned, the app's
// id and the bill's id in the path, answered with a result_code.
func (s *Sandbox) serveMarkPaid(w http.ResponseWriter, r *http.Request) {
	appID, id := r.PathValue("app"), r.PathValue("id")
	s.mu.Lock()
	b, ok := s.byID[id]
	rest := ok && b.AppID == appID && isBillChannel(b.Channel)
	s.mu.Unlock()
	if !rest {
		writeJSON(w, http.StatusNotFound, map[string]any{"result_code": beecloud.CodeNoSuchBill, "result_msg": beecloud.CodeNoSuchBill.String(),
			"err_detail": fmt.Sprintf("no bill made through the REST API with id %q for app %q", id, appID)})
		return
	}
	if err := s.settle(id, BillPaid); err != nil {
		writeJSON(w, http.StatusConflict, map[string]any{"result_code": beecloud.CodeParamInvalid, "result_msg": beecloud.CodeParamInvalid.String(), "err_detail": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"result_code": 0, "result_msg": "OK", "err_detail": ""})
}

// isBillChannel reports whether ch is a REST API channel, not a button
// code.
func isBillChannel(ch beecloud.Channel) bool {
	_, ok := channel.Bill(string(ch))
	return ok
}

// billRef finds a bill id in what an app was handed.
var billRef = regexp.MustCompile(`(?:` + appToken + `|` + regexp.QuoteMeta(payPath) + `)([0-9a-f]{32})`)

// ErrNoSuchBill means [Sandbox.MarkPaid] found no bill made through the
// REST API for the reference it was given.
var ErrNoSuchBill = errors.New("beecloudtest: no such bill")

// MarkPaid pays a bill made through the REST API (POST /2/rest/bill or its
// test-mode twin) as if the buyer had paid it, and returns it. ref is the
// bill's id or anything its answer held: an app channel's order_string,
// tn, orderInfo, prepay_id or package, a code_url, a url. The bill's
// webhook follows as for a payment in the browser; a test bill's is signed
// for test mode. Paying a paid bill again does nothing.
//
// The same is served over HTTP, unsigned, at GET
// /2/rest/sandbox/notify/{app_id}/{id}, as BeeCloud's Android SDK marks a
// test bill paid.
func (s *Sandbox) MarkPaid(ref string) (Bill, error) {
	id := ref
	if m := billRef.FindStringSubmatch(ref); m != nil {
		id = m[1]
	}
	s.mu.Lock()
	b, ok := s.byID[id]
	rest := ok && isBillChannel(b.Channel)
	s.mu.Unlock()
	if !rest {
		return Bill{}, fmt.Errorf("%w made through the REST API for %q", ErrNoSuchBill, shortRef(ref))
	}
	if err := s.settle(id, BillPaid); err != nil {
		return Bill{}, err
	}
	paid, _ := s.bill(id)
	return paid, nil
}

func shortRef(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// supportsReturnURL reports whether a payment through ch, a button code
// or a REST API channel, sends the buyer to return_url.
func supportsReturnURL(ch beecloud.Channel) bool {
	if info, ok := channel.Bill(string(ch)); ok {
		return !info.NoReturnURL
	}
	return ch.SupportsReturnURL()
}
