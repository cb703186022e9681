package beecloudtest

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paybutton/beecloud/internal/channel"
)

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

// layout is what every page's shared head and top bar need.
type layout struct {
	Title string
	Paths paths
}

// link is one action a page offers, as a link.
type link struct {
	ID, Text, URL string
}

// fact is one line of a page's list of facts.
type fact struct {
	Label, Value string
}

// stateNames are the bill states as the pages say them.
var stateNames = map[BillState]string{
	BillPending:   "待支付",
	BillPaid:      "已支付",
	BillFailed:    "支付失败",
	BillCancelled: "已取消",
}

// stateIcons are the icons of the bill states.
var stateIcons = map[BillState]string{
	BillPending:   "wait",
	BillPaid:      "ok",
	BillFailed:    "bad",
	BillCancelled: "off",
}

func stateName(st BillState) string {
	if n, ok := stateNames[st]; ok {
		return n
	}
	return string(st)
}

// beijingTime formats t as the pages show times: Beijing time.
func beijingTime(t time.Time) string {
	return t.In(beijing).Format("2006-01-02 15:04:05")
}

// merchantPage returns the page BC.click ran on, if it is one to go back to.
func merchantPage(b Bill) string {
	if strings.HasPrefix(b.page, "http://") || strings.HasPrefix(b.page, "https://") {
		return b.page
	}
	return ""
}

// payPage is the data of pay.html.
type payPage struct {
	layout
	Bill
	Name, Kind, Glyph, Color, Yuan string
	ScanHint, StateName            string
	QR                             bool
	PollMillis, ExpireMillis       int64
	Links                          []link
}

func (s *Sandbox) servePayPage(w http.ResponseWriter, r *http.Request) {
	b, ok := s.bill(r.PathValue("id"))
	if !ok {
		s.renderNoBill(w)
		return
	}
	glyph, color := look(b.Channel)
	poll := s.PollInterval
	if poll <= 0 {
		poll = DefaultPollInterval
	}
	p := payPage{
		layout: layout{Title: channelName(b.Channel), Paths: sitePaths},
		Bill:   b, Name: channelName(b.Channel), Kind: kind(b.Channel, b.SubChannel), Glyph: glyph, Color: color,
		Yuan: yuan(b.Order.Amount), QR: channel.QRCode(string(b.Channel)), PollMillis: poll.Milliseconds(), ExpireMillis: QRLifetime.Milliseconds(),
		StateName: stateName(b.State), ScanHint: scanHint(b),
	}
	if b.State != BillPending {
		p.Links = settledLinks(base(r), b)
	}
	render(w, http.StatusOK, "pay.html", p)
}

// scanHint tells the buyer what to do with a QR code: on a phone, the code
// is for another phone, and the sandbox's button stands in for both.
func scanHint(b Bill) string {
	app := "微信"
	if strings.Contains(b.SubChannel, "ALI") {
		app = "支付宝"
	}
	if b.Mobile {
		return "这个二维码要用另一部手机的" + app + "扫描。在沙箱里，点“模拟扫码并支付”即可。"
	}
	return "请用手机" + app + "扫描二维码完成支付"
}

// settledLinks are the ways on from a settled bill: its result, and the
// merchant's page.
func settledLinks(base string, b Bill) []link {
	links := []link{{ID: "next", Text: "查看支付结果", URL: nextURL(base, b)}}
	if b.State == BillCancelled {
		links[0].Text = "返回商户页面"
	} else if page := merchantPage(b); page != "" {
		links = append(links, link{ID: "back", Text: "返回商户页面", URL: page})
	}
	return links
}

func render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	pages.ExecuteTemplate(w, name, data) //nolint:errcheck // the client went away
}

// errorPage is the data of error.html: what happened and what to do.
type errorPage struct {
	layout
	Problem          string // a word for tests: no-bill, settled, not-found, no-result
	Icon             string
	Heading, Message string
	Facts            []fact
	Links            []link
}

func (s *Sandbox) renderNoBill(w http.ResponseWriter) {
	render(w, http.StatusNotFound, "error.html", errorPage{
		layout:  layout{Title: "找不到账单", Paths: sitePaths},
		Problem: "no-bill", Icon: "unknown", Heading: "找不到这笔账单",
		Message: fmt.Sprintf("这个沙箱里没有这笔账单：链接可能有误，沙箱可能重启过，或者账单太旧已被忘记（沙箱只保留最近 %d 笔）。请回到商户页面，重新点击支付按钮。", s.maxBills()),
		Links:   []link{{ID: "home", Text: "打开沙箱首页", URL: "/"}},
	})
}

func (s *Sandbox) serveNotFound(w http.ResponseWriter, r *http.Request) {
	render(w, http.StatusNotFound, "error.html", errorPage{
		layout:  layout{Title: "页面不存在", Paths: sitePaths},
		Problem: "not-found", Icon: "unknown", Heading: "页面不存在",
		Message: "BeeCloud 沙箱没有这个页面。",
		Links:   []link{{ID: "home", Text: "打开沙箱首页", URL: "/"}},
	})
}

// serveAction handles the pay page's buttons: pay, fail and cancel. A form
// post is answered with a redirect: to return_url after paying, to the
// merchant's page after cancelling, to the result page otherwise. A
// request that accepts JSON (the QR page's simulated scan, the fake
// WeChat bridge) gets the bill's state instead. A button pressed on a
// page that no longer shows where its bill stands (restored by Back after
// paying) gets a page that says so.
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
		s.serveNotFound(w, r)
		return
	}
	err := s.settle(id, state)
	asJSON := strings.Contains(r.Header.Get("Accept"), "application/json")
	if asJSON {
		w.Header().Set("Access-Control-Allow-Origin", "*")
	}
	b, found := s.bill(id)
	switch {
	case err == nil:
	case asJSON:
		status := http.StatusConflict
		if errors.Is(err, errNoBill) {
			status = http.StatusNotFound
		}
		writeJSON(w, status, billStatus{Error: err.Error(), Message: actionMessage(b, found, state)})
		return
	case !found:
		s.renderNoBill(w)
		return
	default:
		render(w, http.StatusConflict, "error.html", errorPage{
			layout:  layout{Title: "账单" + stateName(b.State), Paths: sitePaths},
			Problem: "settled", Icon: stateIcons[b.State], Heading: "这笔账单" + stateName(b.State),
			Message: actionMessage(b, found, state),
			Facts: []fact{
				{"订单号", b.Order.OutTradeNo}, {"支付方式", channelName(b.Channel)},
				{"更新时间", beijingTime(b.Updated)},
			},
			Links: settledLinks(base(r), b),
		})
		return
	}
	next := nextURL(base(r), b)
	if asJSON {
		writeJSON(w, http.StatusOK, billStatus{State: b.State, Next: next})
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther) //nolint:gosec // G710: next is the signed order's return_url or a sandbox page
}

// actionMessage says why pressing the button for state did nothing.
func actionMessage(b Bill, found bool, state BillState) string {
	switch {
	case !found:
		return "找不到这笔账单，请回到商户页面重新支付。"
	case b.State == BillPaid:
		return fmt.Sprintf("这笔账单已在 %s（北京时间）支付成功，不能再标记为“%s”。你可能是在支付后按了返回键。", beijingTime(b.Updated), stateName(state))
	case state == BillPaid:
		return fmt.Sprintf("这笔账单已%s，不能再支付。请回到商户页面，重新点击支付按钮。", stateName(b.State))
	}
	return fmt.Sprintf("这笔账单已%s，不需要再操作。", stateName(b.State))
}

// nextURL is where the buyer's browser goes once b is settled.
func nextURL(base string, b Bill) string {
	switch b.State {
	case BillPaid:
		ret := b.Order.ReturnURL
		if ret == "" || !supportsReturnURL(b.Channel) {
			ret = base + resultPath
		}
		q := url.Values{
			"bill_no":     {b.Order.OutTradeNo},
			"spay_result": {"SUCCESS"},
			"total_fee":   {strconv.FormatInt(b.Order.Amount, 10)},
		}
		return ret + "?" + q.Encode()
	case BillCancelled:
		if page := merchantPage(b); page != "" {
			return page
		}
	}
	return base + resultPath + "?bill=" + url.QueryEscape(b.ID)
}

// billStatus answers a poll of a bill.
type billStatus struct {
	State   BillState `json:"state,omitempty"`
	Next    string    `json:"next,omitempty"`
	Error   string    `json:"ERROR,omitempty"`
	Message string    `json:"message,omitempty"` // the error for the buyer
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
	layout
	State, Icon, Heading, Message string
	OutTradeNo, Yuan              string
	Channel, Time                 string
	Links                         []link
}

// serveResult is the default return_url, as BeeCloud's own result page,
// and the page a failed or cancelled bill ends on.
func (s *Sandbox) serveResult(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if id := q.Get("bill"); id != "" {
		b, ok := s.bill(id)
		if !ok {
			s.renderNoBill(w)
			return
		}
		render(w, http.StatusOK, "result.html", billResult(b))
		return
	}
	p := resultPage{
		layout: layout{Title: "支付结果", Paths: sitePaths},
		State:  q.Get("spay_result"), OutTradeNo: q.Get("bill_no"),
	}
	if fee, err := strconv.ParseInt(q.Get("total_fee"), 10, 64); err == nil && fee >= 0 {
		p.Yuan = yuan(fee)
	}
	switch {
	case p.State == "SUCCESS":
		p.Icon, p.Heading = "ok", "支付成功"
	case p.State == "" && p.OutTradeNo == "":
		render(w, http.StatusNotFound, "error.html", errorPage{
			layout:  layout{Title: "没有支付结果", Paths: sitePaths},
			Problem: "no-result", Icon: "unknown", Heading: "没有支付结果",
			Message: "这个地址没有说明是哪笔支付：支付完成后，沙箱会带着 bill_no、spay_result 和 total_fee 把浏览器送到这里。",
			Links:   []link{{ID: "home", Text: "打开沙箱首页", URL: "/"}},
		})
		return
	default:
		p.Icon, p.Heading = "unknown", "支付结果未知"
		p.Message = fmt.Sprintf("BeeCloud 报告的支付结果是 %q。以 webhook 为准。", p.State)
	}
	render(w, http.StatusOK, "result.html", p)
}

// billResult is the result page of the bill b.
func billResult(b Bill) resultPage {
	p := resultPage{
		layout: layout{Title: stateName(b.State), Paths: sitePaths},
		State:  string(b.State), Icon: stateIcons[b.State], Heading: stateName(b.State),
		OutTradeNo: b.Order.OutTradeNo, Yuan: yuan(b.Order.Amount),
		Channel: channelName(b.Channel), Time: beijingTime(b.Updated) + "（北京时间）",
	}
	switch b.State {
	case BillPaid:
		p.Heading = "支付成功"
	case BillFailed:
		p.Message = "你在收银台选择了“支付失败”：没有扣款，也没有发送回调。可以回到商户页面再试一次。"
	case BillCancelled:
		p.Heading = "已取消支付"
		p.Message = "你取消了这次支付：没有扣款，也没有发送回调。"
	case BillPending:
		p.Heading = "等待支付"
		p.Message = "这笔账单还没有支付。"
	}
	if page := merchantPage(b); page != "" {
		p.Links = []link{{ID: "back", Text: "返回商户页面", URL: page}}
	}
	return p
}

// changesWait is how long a request for changes waits for one; a
// variable for the fuzz test.
var changesWait = 25 * time.Second

// serveChanges answers when the sandbox has changed since the version in
// ?after=, or after changesWait, so that the dashboard follows it.
func (s *Sandbox) serveChanges(w http.ResponseWriter, r *http.Request) {
	after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	timeout := time.NewTimer(changesWait)
	defer timeout.Stop()
	for {
		s.mu.Lock()
		version, changed, closed := s.version, s.changed, s.closed
		s.mu.Unlock()
		if closed {
			// The dashboard waits a while before asking again.
			writeJSON(w, http.StatusServiceUnavailable, billStatus{Error: ErrSandboxClosed.Error()})
			return
		}
		if version != after {
			writeJSON(w, http.StatusOK, map[string]uint64{"version": version})
			return
		}
		select {
		case <-changed:
		case <-timeout.C:
			writeJSON(w, http.StatusOK, map[string]uint64{"version": version})
			return
		case <-r.Context().Done():
			return
		}
	}
}

// indexPage is the data of index.html.
type indexPage struct {
	layout
	Version    uint64
	MaxBills   int
	Apps       []indexApp
	Bills      []indexBill
	Refunds    []indexRefund
	Deliveries []indexDelivery
}

type indexRefund struct {
	Time, RefundNo, OutTradeNo, Yuan string
	Tag, StateName                   string // the tag's class suffix, the state in words
}

// refundRow is a refund as the dashboard lists it.
func refundRow(r Refund) indexRefund {
	row := indexRefund{Time: beijingTime(r.Created), RefundNo: r.RefundNo, OutTradeNo: r.OutTradeNo, Yuan: yuan(r.Amount)}
	switch r.State {
	case RefundSucceeded:
		row.Tag, row.StateName = "paid", "已退款"
	case RefundDenied:
		row.Tag, row.StateName = "failed", "已拒绝"
	default:
		row.Tag, row.StateName = "pending", "待审批"
	}
	return row
}

type indexApp struct {
	App
	ScriptTag string // as text, to copy
	Names     []string
}

type indexBill struct {
	Time, OutTradeNo, Title, Yuan, Channel string
	State                                  BillState
	StateName                              string
}

type indexDelivery struct {
	OutTradeNo, URL, Last string
	Attempts              int
	Duplicate             bool
	Result, ResultName    string
}

// redact hides the password of a webhook URL such as
// http://user:password@host/, as url.Error does in Last.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return raw
}

// plainTagHTML is BeeCloud's script tag as its dashboard gives it.
var plainTagHTML = template.Must(template.New("tag").Parse(`<script id="spay-script" type="text/javascript" src="{{.}}"></script>`))

// ScriptTag returns the script tag that loads the sandbox's button script
// for its app appID, as BeeCloud's dashboard gives it, to paste into a
// page in place of BeeCloud's. A page rendered with beecloud's
// Config.ScriptTag needs no paste: set Config.ScriptURL to
// [Sandbox.ScriptURL].
func (s *Sandbox) ScriptTag(appID string) string {
	return plainScriptTag(s.ScriptURL(), appID)
}

func plainScriptTag(scriptURL, appID string) string {
	var b strings.Builder
	if err := plainTagHTML.Execute(&b, scriptURL+"?appId="+url.QueryEscape(appID)); err != nil {
		return "" // unreachable: a fixed template with one string
	}
	return b.String()
}

// serveIndex shows the sandbox's apps, bills and webhooks, newest first.
func (s *Sandbox) serveIndex(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	version := s.version
	s.mu.Unlock()
	p := indexPage{layout: layout{Title: "控制台", Paths: sitePaths}, Version: version, MaxBills: s.maxBills()}
	for _, a := range s.Apps() {
		ia := indexApp{App: a}
		ia.WebhookURL = redact(a.WebhookURL)
		ia.ScriptTag = plainScriptTag(base(r)+scriptPath, a.Config.AppID)
		for _, ch := range a.Channels {
			ia.Names = append(ia.Names, fmt.Sprintf("%s (%s)", ch.Name(), ch))
		}
		p.Apps = append(p.Apps, ia)
	}
	for _, b := range s.Bills() {
		p.Bills = append(p.Bills, indexBill{
			Time: beijingTime(b.Created), OutTradeNo: b.Order.OutTradeNo, Title: b.Order.Title,
			Yuan: yuan(b.Order.Amount), Channel: channelName(b.Channel) + " · " + b.SubChannel,
			State: b.State, StateName: stateName(b.State),
		})
	}
	for _, d := range s.Deliveries() {
		p.Deliveries = append(p.Deliveries, deliveryRow(d))
	}
	for _, r := range s.Refunds() {
		p.Refunds = append(p.Refunds, refundRow(r))
	}
	slices.Reverse(p.Refunds)
	slices.Reverse(p.Bills)
	slices.Reverse(p.Deliveries)
	render(w, http.StatusOK, "index.html", p)
}

func deliveryRow(d Delivery) indexDelivery {
	row := indexDelivery{OutTradeNo: d.OutTradeNo, URL: redact(d.URL), Attempts: len(d.Attempts), Duplicate: d.Duplicate}
	if n := len(d.Attempts); n > 0 {
		a := d.Attempts[n-1]
		if a.Err != nil {
			row.Last = a.Err.Error()
		} else {
			row.Last = fmt.Sprintf("%d %s", a.StatusCode, a.Response)
		}
	}
	switch {
	case d.Acknowledged:
		row.Result, row.ResultName = "paid", "已确认"
	case d.GaveUp:
		row.Result, row.ResultName = "failed", "已放弃"
	default:
		row.Result, row.ResultName = "pending", "重试中"
	}
	return row
}
