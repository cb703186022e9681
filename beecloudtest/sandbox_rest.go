package beecloudtest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paybutton/beecloud"
)

// The REST API's paths, as BeeCloud's.
const (
	restBillsPath        = "/2/rest/bills"
	restBillsCountPath   = "/2/rest/bills/count"
	restBillPath         = "/2/rest/bill/"
	restRefundPath       = "/2/rest/refund"
	restRefundsPath      = "/2/rest/refunds"
	restRefundsCountPath = "/2/rest/refunds/count"
	restRefundStatusPath = "/2/rest/refund/status"
)

// restWindow is how far a call's timestamp may be from the sandbox's
// clock.
const restWindow = 5 * time.Minute

// restState is what the REST API adds to the sandbox; guarded by s.mu.
type restState struct {
	refunds []*Refund
	faults  []*Fault
	drop    map[string]bool // out_trade_no whose PAY webhook is dropped
}

// RefundState is where a [Refund] stands.
type RefundState string

// The states of a refund.
const (
	RefundPending   RefundState = "pending"   // a pre-refund waiting for approval
	RefundSucceeded RefundState = "succeeded" // the money went back
	RefundDenied    RefundState = "denied"    // a pre-refund that was denied
)

// Refund is one refund made through the sandbox's REST API. The sandbox
// makes a refund at once (no Alipay confirmation page), unless it was
// asked for approval (need_approval): then it waits, RefundPending, for a
// PUT /2/rest/refund.
type Refund struct {
	// ID is the refund's record id; AppID its app; BillID the refunded
	// bill; OutTradeNo the order.
	ID, AppID, BillID, OutTradeNo string
	// RefundNo is the merchant's refund number.
	RefundNo string
	// Amount is the refunded amount in 分.
	Amount int64
	// Optional is the optional data sent with the refund.
	Optional map[string]any
	// NeedApproval reports that the refund was made as a pre-refund.
	NeedApproval bool
	// State is where the refund stands.
	State RefundState
	// Created is when the refund was asked for; Updated when State last
	// changed.
	Created, Updated time.Time
}

// Refunds returns a copy of every refund, oldest first.
func (s *Sandbox) Refunds() []Refund {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Refund, len(s.rest.refunds))
	for i, r := range s.rest.refunds {
		out[i] = *r
		out[i].Optional = maps.Clone(r.Optional)
	}
	return out
}

// Fault makes the sandbox's REST API misbehave, so that a test can see
// how a client copes; queue it with [Sandbox.FailNext]. The zero Fault
// hits the next REST call and does nothing to it.
type Fault struct {
	// Method and Path, if set, limit the fault to the calls with that
	// method and whose path starts with Path, such as "/2/rest/refund".
	Method, Path string
	// Times is how many calls the fault hits; zero means one.
	Times int
	// Delay holds the call that long before it is handled, or until the
	// client gives up.
	Delay time.Duration
	// Status, if set, answers the call with that HTTP status and an
	// HTML error page instead of handling it, as a failing proxy in front
	// of BeeCloud does (502, 503…).
	Status int
	// LoseAnswer handles the call (a refund is made, its webhook sent)
	// and then closes the connection without an answer, as when a
	// network breaks after BeeCloud acted.
	LoseAnswer bool
}

// FailNext queues f: the next REST calls that f matches misbehave as f
// says. Faults hit in the order they were queued, one per call.
func (s *Sandbox) FailNext(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rest.faults = append(s.rest.faults, &f)
}

// takeFault returns the fault that hits r, if any.
func (s *Sandbox) takeFault(r *http.Request) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.rest.faults {
		if (f.Method == "" || f.Method == r.Method) && strings.HasPrefix(r.URL.Path, f.Path) {
			f.Times--
			if f.Times <= 0 {
				s.rest.faults = slices.Delete(s.rest.faults, i, i+1)
			}
			return *f
		}
	}
	return Fault{}
}

// DropWebhook makes the sandbox drop the PAY webhook of outTradeNo (of any
// app): the payment is made and its bill can be queried through the REST
// API, but the webhook is never sent, as when a channel's webhooks do not
// come. Its [Delivery] has Dropped set and no attempt. A test proves with
// it that [beecloud.WebhookHandler.Reconcile] recovers the payment.
// [Sandbox.Redeliver] still sends the webhook.
func (s *Sandbox) DropWebhook(outTradeNo string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rest.drop == nil {
		s.rest.drop = make(map[string]bool)
	}
	s.rest.drop[outTradeNo] = true
}

// routeREST adds the REST API to mux.
func (s *Sandbox) routeREST(mux *http.ServeMux) {
	mux.HandleFunc("GET "+restBillsPath, s.restCall(false, s.restBills))
	mux.HandleFunc("GET "+restBillsCountPath, s.restCall(false, s.restBillsCount))
	mux.HandleFunc("GET "+restBillPath+"{id}", s.restCall(false, s.restBill))
	mux.HandleFunc("POST "+restRefundPath, s.restCall(true, s.restRefund))
	mux.HandleFunc("PUT "+restRefundPath, s.restCall(true, s.restApprove))
	mux.HandleFunc("GET "+restRefundsPath, s.restCall(false, s.restRefunds))
	mux.HandleFunc("GET "+restRefundsCountPath, s.restCall(false, s.restRefundsCount))
	mux.HandleFunc("GET "+restRefundStatusPath, s.restCall(false, s.restRefundStatus))
	mux.HandleFunc("GET "+restRefundPath+"/{id}", s.restCall(false, s.restRefundByID))
}

// restErr is an answer with a non-zero result_code.
type restErr struct {
	code   int
	detail string
}

var resultMsgs = [...]string{
	"OK", "APP_INVALID", "PAY_FACTOR_NOT_SET", "CHANNEL_INVALID", "MISS_PARAM",
	"PARAM_INVALID", "CERT_FILE_ERROR", "CHANNEL_ERROR", "NO_SUCH_BILL",
	"BILL_UNSUCCESS", "REFUND_EXCEED_TIME", "ALREADY_REFUNDING",
	"REFUND_AMOUNT_TOO_LARGE", "NO_SUCH_REFUND", "RUNTIME_ERROR",
	"NETWORK_ERROR", "PREREFUND_DUPLICATE", "BILL_NO_DUPLICATE",
}

func fail(code int, format string, args ...any) *restErr {
	return &restErr{code: code, detail: fmt.Sprintf(format, args...)}
}

// restReq is one authenticated REST call.
type restReq struct {
	app    App
	params map[string]any
	r      *http.Request
	now    time.Time
}

// restCall wraps a REST endpoint: faults, parameters, authentication with
// the App Secret, or the Master Secret if master, and the JSON answer.
func (s *Sandbox) restCall(master bool, h func(*restReq) (map[string]any, *restErr)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f := s.takeFault(r)
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
			case <-s.ctx.Done():
			}
			t.Stop()
		}
		if f.Status != 0 {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(f.Status)
			fmt.Fprintf(w, "<html><body><h1>%d %s</h1><p>beecloudtest: injected fault</p></body></html>", f.Status, http.StatusText(f.Status))
			return
		}
		q := &restReq{r: r, now: time.Now()}
		out, rerr := s.restServe(q, master, h)
		if f.LoseAnswer {
			// Aborting the handler closes the connection without an answer.
			panic(http.ErrAbortHandler)
		}
		status := http.StatusOK
		if rerr != nil {
			out = map[string]any{"result_code": rerr.code, "result_msg": resultMsgs[rerr.code], "err_detail": rerr.detail}
			switch rerr.code {
			case beecloud.CodeAppInvalid:
				status = http.StatusUnauthorized
			case beecloud.CodeMissParam, beecloud.CodeParamInvalid, beecloud.CodeChannelInvalid:
				status = http.StatusBadRequest
			}
		} else {
			if out == nil {
				out = map[string]any{}
			}
			out["result_code"], out["result_msg"], out["err_detail"] = 0, "OK", ""
		}
		writeJSON(w, status, out)
	}
}

func (s *Sandbox) restServe(q *restReq, master bool, h func(*restReq) (map[string]any, *restErr)) (map[string]any, *restErr) {
	raw, rerr := readPara(q.r)
	if rerr != nil {
		return nil, rerr
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&q.params); err != nil || q.params == nil || dec.More() {
		return nil, fail(beecloud.CodeParamInvalid, "the parameters must be one JSON object")
	}
	if rerr := s.authenticate(q, raw, master); rerr != nil {
		return nil, rerr
	}
	return h(q)
}

// readPara returns a call's parameters: the para query parameter of a
// GET, the JSON body of a POST or PUT.
func readPara(r *http.Request) ([]byte, *restErr) {
	if r.Method == http.MethodGet {
		para, ok := r.URL.Query()["para"]
		if !ok || len(para) == 0 || para[0] == "" {
			return nil, fail(beecloud.CodeMissParam, "para: a GET carries its parameters as ?para=<JSON object>")
		}
		return []byte(para[0]), nil
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return nil, fail(beecloud.CodeParamInvalid, "Content-Type must be application/json, got %q", ct)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, fail(beecloud.CodeParamInvalid, "reading the body: %v", err)
	}
	return body, nil
}

// authenticate checks app_id, timestamp and app_sign, and that no secret
// travels in the request.
func (s *Sandbox) authenticate(q *restReq, raw []byte, master bool) *restErr {
	appID, rerr := q.str("app_id", true)
	if rerr != nil {
		return rerr
	}
	ts, ok, rerr := q.integer("timestamp")
	switch {
	case rerr != nil:
		return rerr
	case !ok:
		return fail(beecloud.CodeMissParam, "timestamp is required (milliseconds)")
	}
	sign, rerr := q.str("app_sign", true)
	if rerr != nil {
		return rerr
	}
	app, known := s.apps[appID]
	if !known {
		return fail(beecloud.CodeAppInvalid, "unknown app_id %q", appID)
	}
	for _, secret := range []string{app.Config.AppSecret, app.Config.MasterSecret, app.Config.TestSecret} {
		if secret != "" && (bytes.Contains(raw, []byte(secret)) || strings.Contains(q.r.URL.RawQuery, secret)) {
			return fail(beecloud.CodeParamInvalid, "the request carries one of the app's secrets: BeeCloud never needs one, only app_sign")
		}
	}
	if ts < 1e11 {
		return fail(beecloud.CodeAppInvalid, "timestamp %d looks like seconds: BeeCloud wants milliseconds", ts)
	}
	if d := q.now.Sub(time.UnixMilli(ts)); d > restWindow || d < -restWindow {
		return fail(beecloud.CodeAppInvalid, "timestamp %d is %s away from the sandbox's clock (at most %s)", ts, d.Round(time.Second), restWindow)
	}
	secret, name, other := app.Config.AppSecret, "App Secret", app.Config.MasterSecret
	if master {
		secret, name, other = app.Config.MasterSecret, "Master Secret", app.Config.AppSecret
		if secret == "" {
			return fail(beecloud.CodeAppInvalid, "the sandbox app %q has no MasterSecret, which signs refunds", appID)
		}
	}
	want := beecloud.APISign(appID, ts, secret)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(sign)), []byte(want)) == 1 {
		q.app = app
		return nil
	}
	hint := ""
	if other != "" && subtle.ConstantTimeCompare([]byte(strings.ToLower(sign)), []byte(beecloud.APISign(appID, ts, other))) == 1 {
		hint = " (it was signed with the other secret)"
	}
	return fail(beecloud.CodeAppInvalid, "app_sign is not MD5(app_id + timestamp + %s)%s", name, hint)
}

func (q *restReq) str(key string, required bool) (string, *restErr) {
	v, ok := q.params[key]
	if !ok || v == nil {
		if required {
			return "", fail(beecloud.CodeMissParam, "%s is required", key)
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fail(beecloud.CodeParamInvalid, "%s must be a string", key)
	}
	if required && s == "" {
		return "", fail(beecloud.CodeMissParam, "%s is required", key)
	}
	return s, nil
}

func (q *restReq) integer(key string) (int64, bool, *restErr) {
	v, ok := q.params[key]
	if !ok || v == nil {
		return 0, false, nil
	}
	n, isNum := v.(json.Number)
	if !isNum {
		return 0, false, fail(beecloud.CodeParamInvalid, "%s must be an integer", key)
	}
	i, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		return 0, false, fail(beecloud.CodeParamInvalid, "%s must be an integer, got %s", key, n)
	}
	return i, true, nil
}

func (q *restReq) boolean(key string) (bool, *restErr) {
	v, ok := q.params[key]
	if !ok || v == nil {
		return false, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		return false, fail(beecloud.CodeParamInvalid, "%s must be true or false", key)
	}
	return b, nil
}

// page reads skip and limit.
func (q *restReq) page() (skip, limit int, rerr *restErr) {
	sk, _, rerr := q.integer("skip")
	if rerr != nil {
		return 0, 0, rerr
	}
	li, ok, rerr := q.integer("limit")
	if rerr != nil {
		return 0, 0, rerr
	}
	if !ok {
		li = 10
	}
	switch {
	case sk < 0:
		return 0, 0, fail(beecloud.CodeParamInvalid, "skip must not be negative")
	case li < 1 || li > beecloud.MaxLimit:
		return 0, 0, fail(beecloud.CodeParamInvalid, "limit must be 1 to %d, got %d", beecloud.MaxLimit, li)
	}
	return int(min(sk, 1<<30)), int(li), nil
}

// span reads start_time and end_time.
func (q *restReq) span() (from, to int64, rerr *restErr) {
	from, _, rerr = q.integer("start_time")
	if rerr != nil {
		return 0, 0, rerr
	}
	to, ok, rerr := q.integer("end_time")
	if !ok {
		to = 1<<63 - 1
	}
	return from, to, rerr
}

// billFilter selects the app's bills for /2/rest/bills and its count.
func (q *restReq) billFilter() (func(*Sandbox, *Bill) bool, *restErr) {
	billNo, rerr := q.str("bill_no", false)
	if rerr != nil {
		return nil, rerr
	}
	channel, rerr := q.str("channel", false)
	if rerr != nil {
		return nil, rerr
	}
	_, paidSet := q.params["spay_result"]
	paid, rerr := q.boolean("spay_result")
	if rerr != nil {
		return nil, rerr
	}
	_, refundedSet := q.params["refund_result"]
	refunded, rerr := q.boolean("refund_result")
	if rerr != nil {
		return nil, rerr
	}
	from, to, rerr := q.span()
	if rerr != nil {
		return nil, rerr
	}
	appID := q.app.Config.AppID
	return func(s *Sandbox, b *Bill) bool {
		created := b.Created.UnixMilli()
		return b.AppID == appID &&
			(billNo == "" || b.Order.OutTradeNo == billNo) &&
			(channel == "" || channelType(b.Channel) == channel) &&
			(!paidSet || (b.State == BillPaid) == paid) &&
			(!refundedSet || s.refundedLocked(b) == refunded) &&
			created >= from && created <= to
	}, nil
}

// refundedLocked reports whether b has a succeeded refund; s.mu held.
func (s *Sandbox) refundedLocked(b *Bill) bool {
	return slices.ContainsFunc(s.rest.refunds, func(r *Refund) bool { return r.BillID == b.ID && r.State == RefundSucceeded })
}

// refundedAmountLocked returns how much of b is refunded or waits for
// approval; s.mu held.
func (s *Sandbox) refundedAmountLocked(b *Bill) (done, pending int64) {
	for _, r := range s.rest.refunds {
		if r.BillID != b.ID {
			continue
		}
		switch r.State {
		case RefundSucceeded:
			done += r.Amount
		case RefundPending:
			pending += r.Amount
		}
	}
	return done, pending
}

// billJSON is b as BeeCloud's answers carry it; s.mu held.
func (s *Sandbox) billJSON(b *Bill, detail bool) map[string]any {
	m := map[string]any{
		"id":            b.ID,
		"bill_no":       b.Order.OutTradeNo,
		"total_fee":     b.Order.Amount,
		"trade_no":      b.ChannelTransactionID,
		"channel":       channelType(b.Channel),
		"sub_channel":   b.SubChannel,
		"title":         b.Order.Title,
		"spay_result":   b.State == BillPaid,
		"create_time":   b.Created.UnixMilli(),
		"optional":      optionalText(b.Order.Optional),
		"revert_result": false,
		"refund_result": s.refundedLocked(b),
	}
	if detail && b.State == BillPaid {
		m["message_detail"] = string(mustJSON(messageDetail(b)))
	}
	return m
}

// optionalText is optional as BeeCloud's answers carry it: JSON text.
func optionalText(m map[string]any) string {
	if len(m) == 0 {
		return "{}"
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// selectBills returns the bills filter keeps, newest first; s.mu held.
func (s *Sandbox) selectBills(keep func(*Sandbox, *Bill) bool) []*Bill {
	var out []*Bill
	for i := len(s.bills) - 1; i >= 0; i-- {
		if keep(s, s.bills[i]) {
			out = append(out, s.bills[i])
		}
	}
	return out
}

func (s *Sandbox) restBills(q *restReq) (map[string]any, *restErr) {
	keep, rerr := q.billFilter()
	if rerr != nil {
		return nil, rerr
	}
	skip, limit, rerr := q.page()
	if rerr != nil {
		return nil, rerr
	}
	detail, rerr := q.boolean("need_detail")
	if rerr != nil {
		return nil, rerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	bills := s.selectBills(keep)
	out := []map[string]any{}
	for _, b := range bills[min(skip, len(bills)):min(skip+limit, len(bills))] {
		out = append(out, s.billJSON(b, detail))
	}
	return map[string]any{"bills": out}, nil
}

func (s *Sandbox) restBillsCount(q *restReq) (map[string]any, *restErr) {
	keep, rerr := q.billFilter()
	if rerr != nil {
		return nil, rerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return map[string]any{"count": len(s.selectBills(keep))}, nil
}

func (s *Sandbox) restBill(q *restReq) (map[string]any, *restErr) {
	id := q.r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.byID[id]
	if !ok || b.AppID != q.app.Config.AppID {
		return nil, fail(beecloud.CodeNoSuchBill, "no bill with id %q", id)
	}
	return map[string]any{"pay": s.billJSON(b, true)}, nil
}

// checkRefundNo reports a refund_no that breaks BeeCloud's rule: the
// Beijing date of the refund, then 3 to 24 letters or digits, not "000".
func checkRefundNo(no string, now time.Time) *restErr {
	ok := len(no) >= 11 && len(no) <= 32
	for i := 0; ok && i < len(no); i++ {
		c := no[i]
		ok = c >= '0' && c <= '9' || i >= 8 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')
	}
	if !ok {
		return fail(beecloud.CodeParamInvalid, "refund_no %q must be the date yyyyMMdd and 3 to 24 letters or digits", no)
	}
	if no[8:] == "000" {
		return fail(beecloud.CodeParamInvalid, "refund_no %q: the serial must not be 000", no)
	}
	day, err := time.ParseInLocation("20060102", no[:8], chinaTime)
	y, m, d := now.In(chinaTime).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, chinaTime)
	// A day either way allows for clocks that disagree around midnight.
	if err != nil || day.Before(today.AddDate(0, 0, -1)) || day.After(today.AddDate(0, 0, 1)) {
		return fail(beecloud.CodeParamInvalid, "refund_no %q must start with today's date in Beijing, %s", no, today.Format("20060102"))
	}
	return nil
}

// noRefundWebhook lists the channels that send no refund webhook; their
// refunds' status is asked with /2/rest/refund/status.
var noRefundWebhook = []string{"WX", "YEE", "KUAIQIAN", "BD"}

func (s *Sandbox) restRefund(q *restReq) (map[string]any, *restErr) {
	billNo, rerr := q.str("bill_no", true)
	if rerr != nil {
		return nil, rerr
	}
	refundNo, rerr := q.str("refund_no", true)
	if rerr != nil {
		return nil, rerr
	}
	fee, ok, rerr := q.integer("refund_fee")
	switch {
	case rerr != nil:
		return nil, rerr
	case !ok:
		return nil, fail(beecloud.CodeMissParam, "refund_fee is required")
	case fee <= 0:
		return nil, fail(beecloud.CodeParamInvalid, "refund_fee must be positive, got %d", fee)
	}
	if rerr := checkRefundNo(refundNo, q.now); rerr != nil {
		return nil, rerr
	}
	channel, rerr := q.str("channel", false)
	if rerr != nil {
		return nil, rerr
	}
	approval, rerr := q.boolean("need_approval")
	if rerr != nil {
		return nil, rerr
	}
	var optional map[string]any
	if v, ok := q.params["optional"]; ok && v != nil {
		m, isObject := v.(map[string]any)
		if !isObject {
			return nil, fail(beecloud.CodeParamInvalid, "optional must be an object")
		}
		optional = m
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	bills := s.selectBills(func(_ *Sandbox, b *Bill) bool {
		return b.AppID == q.app.Config.AppID && b.Order.OutTradeNo == billNo
	})
	if len(bills) == 0 {
		return nil, fail(beecloud.CodeNoSuchBill, "no bill with bill_no %q", billNo)
	}
	i := slices.IndexFunc(bills, func(b *Bill) bool { return b.State == BillPaid })
	if i < 0 {
		return nil, fail(beecloud.CodeBillUnsuccess, "bill_no %q is not paid", billNo)
	}
	b := bills[i]
	if channel != "" && channel != channelType(b.Channel) {
		return nil, fail(beecloud.CodeParamInvalid, "channel %q is not the bill's channel, %s", channel, channelType(b.Channel))
	}
	done, pending := s.refundedAmountLocked(b)
	if pending > 0 {
		return nil, fail(beecloud.CodeAlreadyRefunding, "bill_no %q has a pre-refund waiting for approval", billNo)
	}
	if left := b.Order.Amount - done; fee > left {
		return nil, fail(beecloud.CodeRefundAmountTooLarge, "refund_fee %d is more than the %d 分 left of bill_no %q (%d paid, %d refunded)", fee, left, billNo, b.Order.Amount, done)
	}
	// Like BeeCloud, the sandbox does not refuse a refund_no it has seen:
	// sending a refund twice refunds twice.
	r := &Refund{
		ID: randomHex(16), AppID: b.AppID, BillID: b.ID, OutTradeNo: billNo, RefundNo: refundNo,
		Amount: fee, Optional: optional, NeedApproval: approval, State: RefundPending,
		Created: q.now, Updated: q.now,
	}
	s.rest.refunds = append(s.rest.refunds, r)
	if !approval {
		s.succeedLocked(q.app, b, r)
	}
	s.notifyLocked()
	return map[string]any{"id": r.ID}, nil
}

// succeedLocked makes the refund r of b and sends its webhook, for the
// channels that send one; s.mu held.
func (s *Sandbox) succeedLocked(app App, b *Bill, r *Refund) {
	r.State = RefundSucceeded
	r.Updated = time.Now()
	if app.WebhookURL == "" || s.closed || slices.Contains(noRefundWebhook, channelType(b.Channel)) {
		return
	}
	d := &Delivery{
		AppID:           b.AppID,
		OutTradeNo:      b.Order.OutTradeNo,
		BillID:          b.ID,
		URL:             app.WebhookURL,
		Body:            refundWebhookBody(app, b, r),
		TransactionType: beecloud.TransactionRefund,
		RefundNo:        r.RefundNo,
	}
	s.deliveries = append(s.deliveries, d)
	s.wg.Add(1)
	go s.deliver(d, s.Duplicates)
}

func (s *Sandbox) restApprove(q *restReq) (map[string]any, *restErr) {
	channel, rerr := q.str("channel", true)
	if rerr != nil {
		return nil, rerr
	}
	raw, ok := q.params["ids"]
	if !ok || raw == nil {
		return nil, fail(beecloud.CodeMissParam, "ids is required")
	}
	list, isList := raw.([]any)
	if !isList || len(list) == 0 {
		return nil, fail(beecloud.CodeParamInvalid, "ids must be a non-empty array of record ids")
	}
	agree, rerr := q.boolean("agree")
	if rerr != nil {
		return nil, rerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	results := map[string]string{}
	for _, v := range list {
		id, isString := v.(string)
		if !isString {
			return nil, fail(beecloud.CodeParamInvalid, "ids must hold strings")
		}
		i := slices.IndexFunc(s.rest.refunds, func(r *Refund) bool { return r.ID == id && r.AppID == q.app.Config.AppID })
		if i < 0 {
			results[id] = "NO_SUCH_REFUND"
			continue
		}
		r := s.rest.refunds[i]
		b := s.byID[r.BillID]
		switch {
		case r.State != RefundPending:
			results[id] = "NOT_PENDING: the pre-refund is " + string(r.State)
		case channelType(b.Channel) != channel:
			results[id] = "CHANNEL_INVALID: the refund's channel is " + channelType(b.Channel)
		case !agree:
			r.State = RefundDenied
			r.Updated = time.Now()
			results[id] = "OK"
		default:
			s.succeedLocked(q.app, b, r)
			results[id] = "OK"
		}
	}
	s.notifyLocked()
	return map[string]any{"result_map": results}, nil
}

// refundFilter selects the app's refunds for /2/rest/refunds and its
// count.
func (q *restReq) refundFilter() (func(*Refund) bool, *restErr) {
	var strs [3]string
	for i, key := range []string{"bill_no", "refund_no", "channel"} {
		v, rerr := q.str(key, false)
		if rerr != nil {
			return nil, rerr
		}
		strs[i] = v
	}
	approval, rerr := q.boolean("need_approval")
	if rerr != nil {
		return nil, rerr
	}
	from, to, rerr := q.span()
	if rerr != nil {
		return nil, rerr
	}
	return func(r *Refund) bool {
		created := r.Created.UnixMilli()
		return r.AppID == q.app.Config.AppID &&
			(strs[0] == "" || r.OutTradeNo == strs[0]) &&
			(strs[1] == "" || r.RefundNo == strs[1]) &&
			r.NeedApproval == approval &&
			created >= from && created <= to
	}, nil
}

// selectRefunds returns the refunds keep and channel select, newest
// first; s.mu held.
func (s *Sandbox) selectRefunds(q *restReq, keep func(*Refund) bool) []*Refund {
	channel, _ := q.str("channel", false)
	var out []*Refund
	for i := len(s.rest.refunds) - 1; i >= 0; i-- {
		r := s.rest.refunds[i]
		if keep(r) && (channel == "" || channelType(s.byID[r.BillID].Channel) == channel) {
			out = append(out, r)
		}
	}
	return out
}

// refundJSON is r as BeeCloud's answers carry it; s.mu held.
func (s *Sandbox) refundJSON(r *Refund, detail bool) map[string]any {
	b := s.byID[r.BillID]
	m := map[string]any{
		"id":          r.ID,
		"bill_no":     r.OutTradeNo,
		"refund_no":   r.RefundNo,
		"total_fee":   b.Order.Amount,
		"refund_fee":  r.Amount,
		"title":       b.Order.Title,
		"channel":     channelType(b.Channel),
		"sub_channel": b.SubChannel,
		"finish":      r.State != RefundPending,
		"result":      r.State == RefundSucceeded,
		"optional":    optionalText(r.Optional),
		"create_time": r.Created.UnixMilli(),
	}
	if detail && r.State == RefundSucceeded {
		m["message_detail"] = string(mustJSON(refundDetail(b, r)))
	}
	return m
}

func (s *Sandbox) restRefunds(q *restReq) (map[string]any, *restErr) {
	keep, rerr := q.refundFilter()
	if rerr != nil {
		return nil, rerr
	}
	skip, limit, rerr := q.page()
	if rerr != nil {
		return nil, rerr
	}
	detail, rerr := q.boolean("need_detail")
	if rerr != nil {
		return nil, rerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	refunds := s.selectRefunds(q, keep)
	out := []map[string]any{}
	for _, r := range refunds[min(skip, len(refunds)):min(skip+limit, len(refunds))] {
		out = append(out, s.refundJSON(r, detail))
	}
	return map[string]any{"refunds": out}, nil
}

func (s *Sandbox) restRefundsCount(q *restReq) (map[string]any, *restErr) {
	keep, rerr := q.refundFilter()
	if rerr != nil {
		return nil, rerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return map[string]any{"count": len(s.selectRefunds(q, keep))}, nil
}

func (s *Sandbox) restRefundByID(q *restReq) (map[string]any, *restErr) {
	id := q.r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.rest.refunds, func(r *Refund) bool { return r.ID == id && r.AppID == q.app.Config.AppID })
	if i < 0 {
		return nil, fail(beecloud.CodeNoSuchRefund, "no refund with id %q", id)
	}
	return map[string]any{"refund": s.refundJSON(s.rest.refunds[i], true)}, nil
}

func (s *Sandbox) restRefundStatus(q *restReq) (map[string]any, *restErr) {
	channel, rerr := q.str("channel", true)
	if rerr != nil {
		return nil, rerr
	}
	if !slices.Contains(noRefundWebhook, channel) {
		return nil, fail(beecloud.CodeParamInvalid, "channel must be WX, YEE, KUAIQIAN or BD (the channels without a refund webhook), got %q", channel)
	}
	refundNo, rerr := q.str("refund_no", true)
	if rerr != nil {
		return nil, rerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.rest.refunds) - 1; i >= 0; i-- {
		r := s.rest.refunds[i]
		if r.AppID != q.app.Config.AppID || r.RefundNo != refundNo || channelType(s.byID[r.BillID].Channel) != channel {
			continue
		}
		status := map[RefundState]string{RefundPending: "PROCESSING", RefundSucceeded: "SUCCESS", RefundDenied: "FAIL"}[r.State]
		return map[string]any{"refund_status": status}, nil
	}
	return nil, fail(beecloud.CodeNoSuchRefund, "no %s refund with refund_no %q", channel, refundNo)
}
