package beecloudtest

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/internal/channel"
)

// The keys of BC.click's data. Others are ignored, as BeeCloud ignores
// them (its PHP example sends app_id too).
var dataKeys = []string{
	"out_trade_no", "title", "amount", "sign", "return_url", "debug", "optional",
	"instant_channel", "need_ali_guide", "openid", "use_app",
}

// click is BC.click's data as the sandbox read it.
type click struct {
	order   beecloud.Order
	sign    string
	ignored []string // keys the sandbox does not know
}

// readClick reads BC.click's data from its JSON. Every problem with a
// field, of type or of value, comes back in one *beecloud.ValidationError
// naming the fields, in the order of BC.click's keys.
func readClick(data []byte) (click, error) {
	raw, err := decodeObject(data)
	if err != nil {
		return click{}, err
	}
	r := clickReader{raw: raw, bad: map[string]bool{}}
	c := click{order: r.order(), sign: r.str("sign")}
	if _, ok := raw["sign"]; !ok {
		r.add("sign", "is required: MD5(appId + title + amount + out_trade_no + appSecret)")
	}
	var verr *beecloud.ValidationError
	if err := c.order.Validate(); errors.As(err, &verr) {
		for _, p := range verr.Problems {
			if !r.bad[p.Field] {
				r.problems = append(r.problems, p)
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if !slices.Contains(dataKeys, k) {
			c.ignored = append(c.ignored, k)
		}
	}
	if len(r.problems) > 0 {
		slices.SortStableFunc(r.problems, func(a, b beecloud.FieldError) int {
			return keyIndex(a.Field) - keyIndex(b.Field)
		})
		return c, &beecloud.ValidationError{Problems: r.problems}
	}
	return c, nil
}

// decodeObject decodes data, which must be one JSON object, keeping
// numbers as json.Number.
func decodeObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return nil, fmt.Errorf("%w: data must be a JSON object", beecloud.ErrInvalidOrder)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data must be one JSON object", beecloud.ErrInvalidOrder)
	}
	return raw, nil
}

// clickReader reads the fields of BC.click's data, noting each problem
// of type; Validate finds the problems of value.
type clickReader struct {
	raw      map[string]any
	problems []beecloud.FieldError
	bad      map[string]bool // fields with a problem already
}

func (r *clickReader) add(field, format string, args ...any) {
	r.problems = append(r.problems, beecloud.FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	r.bad[field] = true
}

// str reads a string field; absent is "".
func (r *clickReader) str(key string) string {
	v, ok := r.raw[key]
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		r.add(key, "must be a string, not %s", jsonType(v))
	}
	return s
}

// boolean reads a bool field; absent is def.
func (r *clickReader) boolean(key string, def bool) bool {
	v, ok := r.raw[key]
	if !ok {
		return def
	}
	b, ok := v.(bool)
	if !ok {
		r.add(key, "must be true or false, not %s", jsonType(v))
		return def
	}
	return b
}

// order reads every field of the order.
func (r *clickReader) order() beecloud.Order {
	o := beecloud.Order{
		OutTradeNo:     r.str("out_trade_no"),
		Title:          r.str("title"),
		ReturnURL:      r.str("return_url"),
		Debug:          r.boolean("debug", false),
		InstantChannel: beecloud.Channel(r.str("instant_channel")),
		NoAliGuide:     !r.boolean("need_ali_guide", true),
		OpenID:         r.str("openid"),
		NoAliApp:       !r.boolean("use_app", true),
		Optional:       r.optional(),
	}
	if v, ok := r.raw["amount"]; ok {
		o.Amount = readAmount(v, r.add)
	}
	return o
}

// optional reads data.optional, an object of plain values.
func (r *clickReader) optional() map[string]any {
	v, ok := r.raw["optional"]
	if !ok || v == nil {
		return nil
	}
	m, isObject := v.(map[string]any)
	if !isObject {
		r.add("optional", "must be an object of string, number or bool values, not %s", jsonType(v))
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if n, ok := v.(json.Number); ok {
			out[k] = number(n)
		} else {
			out[k] = v
		}
	}
	return out
}

// readAmount reads data.amount: a JSON integer, or a string of decimal
// digits as BeeCloud's Java, Python, C# and Node.js examples send it.
func readAmount(v any, add func(field, format string, args ...any)) int64 {
	var text string
	switch v := v.(type) {
	case json.Number:
		text = v.String()
	case string:
		text = v
		if text == "" || strings.TrimLeft(text, "0123456789") != "" || len(text) > 1 && text[0] == '0' {
			add("amount", "must be an integer number of 分 (1 = ¥0.01), got the string %q", v)
			return 0
		}
	default:
		add("amount", "must be an integer number of 分 (1 = ¥0.01), not %s", jsonType(v))
		return 0
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		if f, ferr := strconv.ParseFloat(text, 64); ferr == nil && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			add("amount", "must be written as an integer, got %s: the sign hashes the decimal text (%d)", text, int64(f))
		} else {
			add("amount", "must be an integer number of 分 (1 = ¥0.01), got %s", text)
		}
		return 0
	}
	return n
}

// number converts a JSON number in data.optional to int64 when it is an
// integer, float64 otherwise.
func number(n json.Number) any {
	if i, err := n.Int64(); err == nil {
		return i
	}
	f, _ := n.Float64() // a decoded json.Number is always valid; ±Inf on overflow is refused by Validate
	return f
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a bool"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// keyIndex orders problems as dataKeys lists BC.click's keys.
func keyIndex(field string) int {
	field, _, _ = strings.Cut(field, ".")
	if i := slices.Index(dataKeys, field); i >= 0 {
		return i
	}
	return len(dataKeys)
}

// check runs every check BeeCloud makes on a BC.click for appID: the app
// exists, the data is valid, the sign matches and an instant_channel is
// enabled.
func (s *Sandbox) check(appID string, data []byte) (App, click, error) {
	app, ok := s.apps[appID]
	if !ok {
		return App{}, click{}, s.unknownApp(appID)
	}
	c, err := readClick(data)
	if err != nil {
		return app, c, err
	}
	o := c.order
	want := beecloud.Sign(appID, o.Title, o.Amount, o.OutTradeNo, app.Config.AppSecret)
	if subtle.ConstantTimeCompare([]byte(c.sign), []byte(want)) != 1 {
		hint := "check the App Secret, and that title, amount and out_trade_no reach BC.click exactly as they were signed"
		if strings.EqualFold(c.sign, want) {
			hint = "the sign must be lowercase hex"
		}
		return app, c, fmt.Errorf("%w: data.sign %q is not MD5(appId + title + amount + out_trade_no + appSecret) of %q + %q + %q + %q + appSecret: %s",
			ErrSignMismatch, c.sign, appID, o.Title, strconv.FormatInt(o.Amount, 10), o.OutTradeNo, hint)
	}
	if ch := o.InstantChannel; ch != "" && !slices.Contains(app.Channels, ch) {
		return app, c, notEnabled(app, ch)
	}
	return app, c, nil
}

func notEnabled(app App, ch beecloud.Channel) error {
	names := make([]string, len(app.Channels))
	for i, c := range app.Channels {
		names[i] = string(c)
	}
	return fmt.Errorf("%w: %q (%s); the app enables %s", ErrChannelNotEnabled, ch, ch.Name(), strings.Join(names, ", "))
}

// menu returns the channels the menu offers for o: the app's enabled
// channels in order, without WeChat JSAPI when there is no openid, as
// BeeCloud offers it only inside WeChat, and, on a phone, without the
// channels that show a QR code, which a buyer cannot scan on their own
// screen. An order's instant_channel still reaches any of them.
func menu(app App, o beecloud.Order, mobile bool) []beecloud.Channel {
	var out []beecloud.Channel
	for _, ch := range app.Channels {
		if ch.NeedsOpenID() && o.OpenID == "" || mobile && channel.QRCode(string(ch)) {
			continue
		}
		out = append(out, ch)
	}
	return out
}

// newBill records a pending bill for a checked click paying through ch.
// The same click again, while its bill is pending, gets that bill back, so
// that a click sent again and again does not grow the sandbox's memory.
func (s *Sandbox) newBill(app App, c click, ch beecloud.Channel, mobile bool, page string) (*Bill, error) {
	if !slices.Contains(app.Channels, ch) {
		return nil, notEnabled(app, ch)
	}
	if ch.NeedsOpenID() && c.order.OpenID == "" {
		return nil, &beecloud.ValidationError{Problems: []beecloud.FieldError{{
			Field: "openid", Reason: fmt.Sprintf("is required for channel %q (WeChat JSAPI payment)", ch),
		}}}
	}
	if len(page) > maxPageBytes {
		page = "" // too long to be a page worth going back to
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.payments {
		if p.AppID == app.Config.AppID && p.Order.OutTradeNo == c.order.OutTradeNo {
			return nil, alreadyPaid(p)
		}
	}
	for i := len(s.bills) - 1; i >= 0; i-- {
		b := s.bills[i]
		if b.Order.OutTradeNo == c.order.OutTradeNo && b.State == BillPending && b.AppID == app.Config.AppID &&
			b.Channel == ch && b.Mobile == mobile && reflect.DeepEqual(b.Order, c.order) {
			b.page = page
			return b, nil
		}
	}
	now := time.Now()
	b := &Bill{
		ID:         randomHex(16),
		AppID:      app.Config.AppID,
		Order:      c.order,
		Channel:    ch,
		SubChannel: channel.Sub(string(ch), mobile),
		Mobile:     mobile,
		State:      BillPending,
		Created:    now,
		Updated:    now,
		page:       page,
	}
	s.bills = append(s.bills, b)
	s.byID[b.ID] = b
	s.forgetLocked()
	s.notifyLocked()
	return b, nil
}

// maxPageBytes bounds the merchant page a bill remembers for 取消.
const maxPageBytes = 2048

// beijing is the time zone of the times the sandbox shows: China Standard
// Time, which has no daylight saving.
var beijing = time.FixedZone("CST", 8*60*60)

// alreadyPaid is ErrAlreadyPaid for the paid bill p.
func alreadyPaid(p *Bill) error {
	return fmt.Errorf("%w: %q was paid through %s (%s) at %s Beijing time", ErrAlreadyPaid,
		p.Order.OutTradeNo, p.Channel.Name(), p.Channel, p.Updated.In(beijing).Format(time.DateTime))
}

// Pay runs the checks of a BC.click with data for the app appID, then pays
// through channel ch as if a buyer on a desktop browser had pressed 支付成功,
// without a browser. data is what BC.click takes, marshalled with
// encoding/json: a [beecloud.Params] or a map. An empty ch means data's
// instant_channel, or else the first channel of the menu.
//
// Pay returns the paid bill, or the error that BC.err would report. The
// webhook follows as for a payment in the browser; wait for it with
// [Sandbox.WaitDelivery].
func (s *Sandbox) Pay(appID string, data any, ch beecloud.Channel) (Bill, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Bill{}, fmt.Errorf("beecloudtest: marshal data: %w", err)
	}
	app, c, err := s.check(appID, raw)
	if err != nil {
		return Bill{}, err
	}
	if ch == "" {
		ch = c.order.InstantChannel
	}
	if ch == "" {
		if m := menu(app, c.order, false); len(m) > 0 {
			ch = m[0]
		}
	}
	b, err := s.newBill(app, c, ch, false, "")
	if err != nil {
		return Bill{}, err
	}
	if err := s.settle(b.ID, BillPaid); err != nil {
		return Bill{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyBills([]*Bill{b})[0], nil
}

// errNoBill means a pay page's button named a bill the sandbox never made.
var errNoBill = errors.New("beecloudtest: no bill")

// settle moves a pending bill to state; a payment starts its webhook.
func (s *Sandbox) settle(id string, state BillState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.byID[id]
	switch {
	case !ok:
		return fmt.Errorf("%w %q", errNoBill, id)
	case b.State == state:
		return nil // a second click on the same button
	case b.State != BillPending:
		return fmt.Errorf("beecloudtest: bill %s is already %s", id, b.State)
	}
	if state == BillPaid {
		for _, p := range s.payments {
			if p.AppID == b.AppID && p.Order.OutTradeNo == b.Order.OutTradeNo && p.Test == b.Test {
				return alreadyPaid(p)
			}
		}
	}
	b.State = state
	b.Updated = time.Now()
	if state == BillPaid {
		b.ChannelTransactionID = channelTransactionID(channel.Type(string(b.Channel)), b.Updated)
		s.payments = append(s.payments, b)
		if app := s.apps[b.AppID]; app.WebhookURL != "" && !s.closed {
			d := &Delivery{
				AppID:      b.AppID,
				OutTradeNo: b.Order.OutTradeNo,
				BillID:     b.ID,
				URL:        app.WebhookURL,
				Body:       webhookBody(app, b),

				TransactionType: beecloud.TransactionPay,
			}
			s.deliveries = append(s.deliveries, d)
			s.forgetLocked()
			s.wg.Add(1)
			go s.deliver(d, s.Duplicates)
		}
	}
	s.notifyLocked()
	return nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails from Go 1.24
	return hex.EncodeToString(b)
}
