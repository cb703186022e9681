package beecloudtest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
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
	leaked  map[string]bool // app IDs warned of a secret in a request
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
	// Delay holds the call that long, or until the client gives up,
	// before it is handled: a refund the client stopped waiting for is
	// still made, as by a slow BeeCloud.
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
	s.routeRESTCompat(mux)
}

// restErr is an answer with a non-zero result_code.
type restErr struct {
	code   beecloud.Code
	detail string
}

func fail(code beecloud.Code, format string, args ...any) *restErr {
	return &restErr{code: code, detail: fmt.Sprintf(format, args...)}
}

// restReq is one authenticated REST call.
type restReq struct {
	app    App
	test   bool // signed with the app's TestSecret: a call of test mode
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
			out = map[string]any{"result_code": rerr.code, "result_msg": rerr.code.String(), "err_detail": rerr.detail}
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

// authenticate checks app_id, timestamp and app_sign. A request that
// carries a secret is served, as by BeeCloud, with a warning.
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
	s.warnLeak(app, q.r, raw)
	if ts < 1e11 {
		return fail(beecloud.CodeAppInvalid, "timestamp %d looks like seconds: BeeCloud wants milliseconds", ts)
	}
	if d := q.now.Sub(time.UnixMilli(ts)); d > restWindow || d < -restWindow {
		return fail(beecloud.CodeAppInvalid, "timestamp %d is %s away from the sandbox's clock (at most %s)", ts, d.Round(time.Second), restWindow)
	}
	secret, name, other := app.Config.AppSecret, "App Secret", app.Config.MasterSecret
	if testPath(q.r) {
		secret, name, other = app.Config.TestSecret, "Test Secret", app.Config.AppSecret
		if secret == "" {
			return fail(beecloud.CodeAppInvalid, "the sandbox app %q has no TestSecret, which signs test-mode calls", appID)
		}
	} else if master {
		secret, name, other = app.Config.MasterSecret, "Master Secret", app.Config.AppSecret
		if secret == "" {
			return fail(beecloud.CodeAppInvalid, "the sandbox app %q has no MasterSecret, which signs refunds", appID)
		}
	}
	want := beecloud.APISign(appID, ts, secret)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(sign)), []byte(want)) == 1 {
		q.app, q.test = app, testPath(q.r)
		return nil
	}
	// BeeCloud's Node.js SDK looks a test bill up by id on the live path,
	// signed with the Test Secret; the sandbox answers it as test mode.
	if q.r.Method == http.MethodGet && q.r.Pattern == "GET /2/rest/bill/{id}" && app.Config.TestSecret != "" &&
		subtle.ConstantTimeCompare([]byte(strings.ToLower(sign)), []byte(beecloud.APISign(appID, ts, app.Config.TestSecret))) == 1 {
		q.app, q.test = app, true
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

// page reads skip, limit and need_detail.
func (q *restReq) page() (skip, limit int, detail bool, rerr *restErr) {
	sk, _, rerr := q.integer("skip")
	if rerr != nil {
		return 0, 0, false, rerr
	}
	li, ok, rerr := q.integer("limit")
	if rerr != nil {
		return 0, 0, false, rerr
	}
	if !ok {
		li = 10
	}
	switch {
	case sk < 0:
		return 0, 0, false, fail(beecloud.CodeParamInvalid, "skip must not be negative")
	case li < 1 || li > beecloud.MaxLimit:
		return 0, 0, false, fail(beecloud.CodeParamInvalid, "limit must be 1 to %d, got %d", beecloud.MaxLimit, li)
	}
	detail, rerr = q.boolean("need_detail")
	return int(min(sk, 1<<30)), int(li), detail, rerr
}

// pageJSON encodes the page of items that skip and limit select.
func pageJSON[T any](items []T, skip, limit int, encode func(T) map[string]any) []map[string]any {
	out := []map[string]any{}
	for _, it := range items[min(skip, len(items)):min(skip+limit, len(items))] {
		out = append(out, encode(it))
	}
	return out
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
func (s *Sandbox) billFilter(q *restReq) (func(*Bill) bool, *restErr) {
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
	return func(b *Bill) bool {
		created := b.Created.UnixMilli()
		return b.AppID == appID && !b.Test &&
			(billNo == "" || b.Order.OutTradeNo == billNo) &&
			channelMatches(b, channel) &&
			(!paidSet || (b.State == BillPaid) == paid) &&
			(!refundedSet || s.refundedLocked(b) == refunded) &&
			created >= from && created <= to
	}, nil
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

// newest returns the items keep selects, newest (last) first.
func newest[T any](items []T, keep func(T) bool) []T {
	var out []T
	for i := len(items) - 1; i >= 0; i-- {
		if keep(items[i]) {
			out = append(out, items[i])
		}
	}
	return out
}

// list answers a list call, or a count call if count, for the records of
// all (read under s.mu) that filter selects, newest first, under key.
func list[T any](s *Sandbox, q *restReq, count bool, key string,
	filter func(*restReq) (func(T) bool, *restErr), all func() []T, encode func(T, bool) map[string]any,
) (map[string]any, *restErr) {
	keep, rerr := filter(q)
	if rerr != nil {
		return nil, rerr
	}
	var skip, limit int
	var detail bool
	if !count {
		if skip, limit, detail, rerr = q.page(); rerr != nil {
			return nil, rerr
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	items := newest(all(), keep)
	if count {
		return map[string]any{"count": len(items)}, nil
	}
	encodeOne := func(t T) map[string]any { return encode(t, detail) }
	return map[string]any{key: pageJSON(items, skip, limit, encodeOne)}, nil
}

func (s *Sandbox) allBills() []*Bill { return s.bills }

func (s *Sandbox) restBills(q *restReq) (map[string]any, *restErr) {
	return list(s, q, false, "bills", s.billFilter, s.allBills, s.billJSON)
}

func (s *Sandbox) restBillsCount(q *restReq) (map[string]any, *restErr) {
	return list(s, q, true, "", s.billFilter, s.allBills, s.billJSON)
}

func (s *Sandbox) restBill(q *restReq) (map[string]any, *restErr) {
	if q.test {
		return s.restTestBill(q)
	}
	id := q.r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.byID[id]
	if !ok || b.AppID != q.app.Config.AppID || b.Test {
		return nil, fail(beecloud.CodeNoSuchBill, "no bill with id %q", id)
	}
	return map[string]any{"pay": s.billJSON(b, true)}, nil
}
