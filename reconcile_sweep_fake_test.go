package beecloud_test

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// listOrder is the order in which a fakeBeeCloud lists records.
type listOrder int

const (
	newestFirst listOrder = iota // as the sandbox
	oldestFirst
	shuffled // a new order on every request: nothing stable to page by
)

// fakeBill and fakeRefund are the records of a fakeBeeCloud.
type fakeBill struct {
	id, billNo string
	fee        int64
	paid       bool
	created    int64 // ms
}

type fakeRefund struct {
	id, billNo, refundNo, channel string
	fee                           int64
	finished, succeeded, approval bool
	created                       int64
}

// fakeBeeCloud is BeeCloud's REST API in memory, as an http.RoundTripper:
// the bill and refund lists and their counts, with the filters a sweep
// uses, in a chosen order. It counts the requests and can run a hook
// before each, to add records while a client pages. It checks no
// signature. Safe for concurrent use.
type fakeBeeCloud struct {
	order listOrder
	// before, if set, runs before each request is served, with the
	// request's path and its number (from 1).
	before func(path string, n int64)
	// countExtra is added to every count, as by a BeeCloud whose count
	// disagrees with its list.
	countExtra int

	requests atomic.Int64
	mu       sync.Mutex
	bills    []fakeBill
	refunds  []fakeRefund
	nextID   int
	rng      *rand.Rand
}

func newFakeBeeCloud(order listOrder) *fakeBeeCloud {
	return &fakeBeeCloud{order: order, rng: rand.New(rand.NewPCG(1, 2))}
}

func (f *fakeBeeCloud) client() *http.Client { return &http.Client{Transport: f} }

// addBill records a bill of billNo created at t and returns its id.
func (f *fakeBeeCloud) addBill(billNo string, fee int64, paid bool, t time.Time) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := "b" + strconv.Itoa(f.nextID)
	f.bills = append(f.bills, fakeBill{id: id, billNo: billNo, fee: fee, paid: paid, created: t.UnixMilli()})
	return id
}

func (f *fakeBeeCloud) addRefund(r fakeRefund) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	r.id = "r" + strconv.Itoa(f.nextID)
	f.refunds = append(f.refunds, r)
}

func (f *fakeBeeCloud) RoundTrip(r *http.Request) (*http.Response, error) {
	n := f.requests.Add(1)
	if f.before != nil {
		f.before(r.URL.Path, n)
	}
	var p map[string]any
	dec := json.NewDecoder(bytes.NewReader([]byte(r.URL.Query().Get("para"))))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return fakeAnswer(map[string]any{"result_code": 5, "result_msg": "PARAM_INVALID", "err_detail": err.Error()}), nil
	}
	str := func(k string) string { s, _ := p[k].(string); return s }
	num := func(k string, def int64) int64 {
		if v, ok := p[k].(json.Number); ok {
			i, _ := v.Int64()
			return i
		}
		return def
	}
	flag := func(k string) (set, v bool) { b, ok := p[k].(bool); return ok, b }
	from, to := num("start_time", 0), num("end_time", 1<<62)
	skip, limit := int(num("skip", 0)), int(num("limit", 10))

	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]any{"result_code": 0, "result_msg": "OK", "err_detail": ""}
	switch r.URL.Path {
	case "/2/rest/bills", "/2/rest/bills/count":
		paidSet, paid := flag("spay_result")
		var keep []fakeBill
		for _, b := range f.bills {
			if (str("bill_no") == "" || b.billNo == str("bill_no")) && (!paidSet || b.paid == paid) && b.created >= from && b.created <= to {
				keep = append(keep, b)
			}
		}
		answerList(f, out, r.URL.Path == "/2/rest/bills/count", "bills", keep, skip, limit, func(b fakeBill) map[string]any {
			return map[string]any{
				"id": b.id, "bill_no": b.billNo, "total_fee": b.fee, "channel": "ALI", "sub_channel": "ALI_WEB",
				"spay_result": b.paid, "create_time": b.created, "trade_no": "T" + b.id, "optional": "{}",
			}
		})
	case "/2/rest/refunds", "/2/rest/refunds/count":
		_, approval := flag("need_approval")
		var keep []fakeRefund
		for _, rf := range f.refunds {
			if (str("refund_no") == "" || rf.refundNo == str("refund_no")) && rf.approval == approval && rf.created >= from && rf.created <= to {
				keep = append(keep, rf)
			}
		}
		answerList(f, out, r.URL.Path == "/2/rest/refunds/count", "refunds", keep, skip, limit, func(rf fakeRefund) map[string]any {
			return map[string]any{
				"id": rf.id, "bill_no": rf.billNo, "refund_no": rf.refundNo, "total_fee": rf.fee, "refund_fee": rf.fee,
				"channel": rf.channel, "sub_channel": rf.channel + "_WEB", "finish": rf.finished, "result": rf.succeeded,
				"create_time": rf.created, "optional": "{}",
			}
		})
	case "/2/rest/refund/status":
		status := "NOT_FOUND"
		for _, rf := range f.refunds {
			if rf.refundNo == str("refund_no") {
				status = "SUCCESS"
			}
		}
		out["refund_status"] = status
	default:
		return &http.Response{StatusCode: http.StatusNotFound, Body: io.NopCloser(bytes.NewReader(nil)), Request: r}, nil
	}
	resp := fakeAnswer(out)
	resp.Request = r
	return resp, nil
}

// answerList puts the page of the records keep (oldest first) that skip
// and limit select, in f's order, into out, or their count.
func answerList[T any](f *fakeBeeCloud, out map[string]any, count bool, key string, keep []T, skip, limit int, encode func(T) map[string]any) {
	if count {
		out["count"] = len(keep) + f.countExtra
		return
	}
	switch f.order {
	case newestFirst:
		slices.Reverse(keep)
	case shuffled:
		f.rng.Shuffle(len(keep), func(i, j int) { keep[i], keep[j] = keep[j], keep[i] })
	}
	page := []map[string]any{}
	for _, r := range keep[min(skip, len(keep)):min(skip+limit, len(keep))] {
		page = append(page, encode(r))
	}
	out[key] = page
}

func fakeAnswer(v map[string]any) *http.Response {
	body, _ := json.Marshal(v)
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(bytes.NewReader(body)),
	}
}
