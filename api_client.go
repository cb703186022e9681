package beecloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultAPIURL is the base URL of BeeCloud's REST API.
const DefaultAPIURL = "https://api.beecloud.cn"

// Bounds of the [Client].
const (
	// MaxLimit is the most bills or refunds BeeCloud returns for one
	// query: a larger Limit is refused before it is sent.
	MaxLimit = 50
	// maxAnswerBytes bounds the body of an answer: fifty bills with their
	// channel details are a few hundred KB.
	maxAnswerBytes = 8 << 20
	// queryAttempts bounds the attempts of one query.
	queryAttempts = 4
	// retryBase is the wait before the second attempt of a query; each
	// later wait doubles, with jitter.
	retryBase = 250 * time.Millisecond
)

// Client calls BeeCloud's REST API (v2): it queries bills and refunds,
// makes refunds, and makes payments from the server ([Client.CreateBill]).
// Amounts are in 分 (1 = ¥0.01).
//
// Each call is signed with app_sign = MD5(app_id + timestamp + secret)
// (see [APISign]), the timestamp in milliseconds: with Config.AppSecret
// for queries, with Config.MasterSecret for [Client.Refund] and
// [Client.ApproveRefunds]. No secret is ever sent.
//
// Queries (every method that only reads) are retried after a network
// error or a 5xx answer, up to 4 attempts in all with growing, jittered
// waits, and never past the context's deadline. A refund is never sent
// twice blindly: see [Client.Refund].
//
// Every answer with a non-zero result_code is an *[APIError] (find it with
// errors.As), whatever its HTTP status. A request that breaks one of
// BeeCloud's rules (a negative amount, a malformed refund_no, a limit
// above 50, …) is refused before it is sent with a *[ValidationError] naming
// the field. Other failures are errors that wrap their cause.
//
// Channels are plain strings, as BeeCloud spells them in the REST API:
// "WX", "ALI", "UN", "JD", "YEE", "KUAIQIAN", "PAYPAL", "BD", and "BC" for
// BeeCloud's own channels.
//
// The zero Client has no credentials: set Config. A Client is safe for
// concurrent use as long as its fields are not changed.
type Client struct {
	// Config holds the app's credentials: AppID, AppSecret (queries) and
	// MasterSecret (refunds). Its other fields are not used, but Now, if
	// set, is the clock that dates refund numbers checked by Refund.
	Config Config
	// BaseURL is where the API is; "" means DefaultAPIURL. Point it at a
	// beecloudtest Sandbox's URL in tests.
	BaseURL string
	// HTTPClient sends the requests. Nil means a client with bounded
	// connect and TLS handshake timeouts and no redirects (BeeCloud sends
	// none; a redirect means a wrong BaseURL), whose queries time out
	// after 30 seconds and whose refunds wait for BeeCloud as long as
	// their context allows (see [LookupWindow]). A client of your own is
	// used as it is: give it no Timeout, nor a transport
	// ResponseHeaderTimeout, shorter than the contexts you give
	// [Client.Refund], or a slow refund's answer is abandoned and the
	// refund can only be looked up.
	HTTPClient *http.Client
	// Test sends bill payments and bill queries to BeeCloud's test mode,
	// signed with Config.TestSecret: its bills are never charged, and kept
	// apart from live ones. BeeCloud has no test refunds: with Test set,
	// refunds and refund queries fail with [ErrTestMode].
	Test bool

	// retryWait, if set, replaces the wait before attempt n+1 (tests).
	retryWait func(n int) time.Duration
}

// defaultTransport has no response-header timeout: a query is bounded by
// defaultHTTPClient's Timeout, a call that moves money by its context.
var defaultTransport = &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	ForceAttemptHTTP2:     true,
	TLSHandshakeTimeout:   10 * time.Second,
	ExpectContinueTimeout: time.Second,
	IdleConnTimeout:       90 * time.Second,
	MaxIdleConnsPerHost:   8,
}

// noRedirects keeps a redirect from turning a refund's POST into a GET,
// or sending it elsewhere: the answer says where, for BaseURL.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

var (
	defaultHTTPClient  = &http.Client{Timeout: 30 * time.Second, CheckRedirect: noRedirects, Transport: defaultTransport}
	defaultMoneyClient = &http.Client{CheckRedirect: noRedirects, Transport: defaultTransport}
)

// APISign returns the app_sign of a REST API call: the lowercase hex MD5 of
// appID + timestampMillis + secret, with the timestamp in milliseconds as
// a decimal integer. The secret is the App Secret for queries and the
// Master Secret for refunds.
func APISign(appID string, timestampMillis int64, secret string) string {
	var buf [256]byte
	msg := append(buf[:0], appID...)
	msg = strconv.AppendInt(msg, timestampMillis, 10)
	msg = append(msg, secret...)
	return md5Hex(msg)
}

// call is one REST API request.
type call struct {
	method string // GET, POST or PUT
	path   string // such as /2/rest/bills, escaped
	params map[string]any
	master bool   // signed with the Master Secret
	test   bool   // test mode: signed with the Test Secret
	about  string // what the call is about, for errors
}

func (k call) String() string {
	if k.about != "" {
		return k.method + " " + k.path + " (" + k.about + ")"
	}
	return k.method + " " + k.path
}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return defaultHTTPClient
}

// moneyHTTPClient sends the calls that move money: by default one without
// a timeout of its own, bounded by the call's context.
func (c *Client) moneyHTTPClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return defaultMoneyClient
}

func (c *Client) baseURL() string {
	if c.BaseURL == "" {
		return DefaultAPIURL
	}
	return strings.TrimRight(c.BaseURL, "/")
}

// checkConfig reports what c lacks for a call signed with the App Secret,
// or the Master Secret if master.
func (c *Client) checkConfig(master bool) error {
	switch {
	case c.Test:
		return errTestMode()
	case c.Config.AppID == "":
		return fmt.Errorf("%w: AppID is empty", ErrInvalidConfig)
	case master && c.Config.MasterSecret == "":
		return fmt.Errorf("%w: MasterSecret is empty: BeeCloud signs refunds with the Master Secret", ErrInvalidConfig)
	case !master && c.Config.AppSecret == "":
		return fmt.Errorf("%w: AppSecret is empty: BeeCloud signs queries with the App Secret", ErrInvalidConfig)
	}
	return nil
}

// newRequest builds the signed HTTP request of k, with a fresh timestamp.
func (c *Client) newRequest(ctx context.Context, k call) (*http.Request, error) {
	secret := c.Config.AppSecret
	if k.master {
		secret = c.Config.MasterSecret
	}
	if k.test {
		secret = c.Config.TestSecret
	}
	ts := time.Now().UnixMilli()
	params := make(map[string]any, len(k.params)+3)
	for key, v := range k.params {
		params[key] = v
	}
	params["app_id"] = c.Config.AppID
	params["timestamp"] = ts
	params["app_sign"] = APISign(c.Config.AppID, ts, secret)
	data, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("beecloud: %s: encode the parameters: %w", k, err)
	}
	u := c.baseURL() + k.path
	var body io.Reader
	if k.method == http.MethodGet {
		u += "?para=" + url.QueryEscape(string(data))
	} else {
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("beecloud: %s: %w", k, redactURL(err))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "paybutton-beecloud-go")
	return req, nil
}

// answer is one HTTP answer, or why there was none.
type answer struct {
	status   int
	body     []byte
	location string // a redirect's target
	err      error  // no complete answer
	sent     bool   // the request may have reached BeeCloud
}

// roundTrip sends one request with c's HTTP client.
func (c *Client) roundTrip(ctx context.Context, k call) answer {
	return c.roundTripWith(ctx, k, c.httpClient())
}

// roundTripWith sends one request with hc.
func (c *Client) roundTripWith(ctx context.Context, k call, hc *http.Client) answer {
	req, err := c.newRequest(ctx, k)
	if err != nil {
		return answer{err: err}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return answer{err: fmt.Errorf("beecloud: %s: %w", k, redactURL(err)), sent: !notSent(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	switch {
	case err != nil:
		return answer{status: resp.StatusCode, err: fmt.Errorf("beecloud: %s: HTTP %d, reading the answer: %w", k, resp.StatusCode, err), sent: true}
	case len(body) > maxAnswerBytes:
		return answer{status: resp.StatusCode, err: fmt.Errorf("beecloud: %s: HTTP %d: the answer is larger than %d bytes", k, resp.StatusCode, maxAnswerBytes), sent: true}
	}
	return answer{status: resp.StatusCode, body: body, location: resp.Header.Get("Location"), sent: true}
}

// redactURL drops the query from the URL that net/http's and net/url's
// errors quote: it holds app_sign and its timestamp, which would let
// whoever reads a log replay the query.
func redactURL(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	u := ue.URL
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i] + "?…"
	}
	if u == ue.URL {
		return err
	}
	// A copy, whose Err is the original's: errors.Is and Timeout still
	// see the cause.
	return &url.Error{Op: ue.Op, URL: u, Err: ue.Err}
}

// notSent reports whether err shows that the request never left: the
// connection could not be made.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// envelope is the part every answer shares.
type envelope struct {
	ResultCode *Code  `json:"result_code"`
	ResultMsg  string `json:"result_msg"`
	ErrDetail  string `json:"err_detail"`
}

// verdict is what an answer means.
type verdict struct {
	err   error // nil for result_code 0 with a 2xx status
	retry bool  // a failure worth another attempt: 5xx, no answer
	lost  bool  // the request may have taken effect without our knowing
}

// outcome reads an answer: result_code 0 with a 2xx status is success,
// another result_code an *APIError, anything else a plain error.
func (a answer) outcome(k call) verdict {
	if a.err != nil {
		return verdict{a.err, true, a.sent}
	}
	var env envelope
	if jerr := json.Unmarshal(a.body, &env); jerr == nil && env.ResultCode != nil {
		code := *env.ResultCode
		switch {
		case code != CodeOK:
			return verdict{err: &opError{op: k.String(), err: &APIError{Code: code, Message: env.ResultMsg, Detail: env.ErrDetail, HTTPStatus: a.status}}, retry: a.status >= 500}
		case a.status >= 200 && a.status < 300:
			return verdict{}
		}
	}
	text := fmt.Sprintf("HTTP %d", a.status)
	if snippet := strings.TrimSpace(shortText(string(a.body), 200)); snippet != "" {
		text += ": " + strconv.Quote(snippet)
	}
	switch {
	case a.status >= 500:
		return verdict{fmt.Errorf("beecloud: %s: BeeCloud failed: %s", k, text), true, true}
	case a.status >= 200 && a.status < 300:
		return verdict{fmt.Errorf("beecloud: %s: malformed answer (no result_code): %s", k, text), false, true}
	case a.status >= 300 && a.status < 400 && a.location != "":
		return verdict{fmt.Errorf("beecloud: %s: redirected to %s: BeeCloud does not redirect; check BaseURL", k, shortText(a.location, 200)), false, false}
	case a.status == http.StatusTooManyRequests:
		return verdict{fmt.Errorf("beecloud: %s: rate limited: %s", k, text), true, false}
	}
	return verdict{fmt.Errorf("beecloud: %s: unexpected answer without result_code: %s", k, text), false, false}
}

// query sends the read-only call k, retrying network errors and 5xx
// answers, and decodes a successful answer's body with decode.
func (c *Client) query(ctx context.Context, k call, decode func([]byte) error) error {
	if err := c.checkCall(k); err != nil {
		return err
	}
	for n := 1; ; n++ {
		a := c.roundTrip(ctx, k)
		v := a.outcome(k)
		err := v.err
		if err == nil {
			if derr := decode(a.body); derr != nil {
				return fmt.Errorf("beecloud: %s: malformed answer: %w", k, derr)
			}
			return nil
		}
		if !v.retry {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (%w)", err, context.Cause(ctx))
		}
		if n >= queryAttempts {
			return fmt.Errorf("%w (gave up after %d attempts)", err, n)
		}
		if werr := c.wait(ctx, n); werr != nil {
			return fmt.Errorf("%w (not retried: %w)", err, werr)
		}
	}
}

// get sends the query GET path with params and decodes its answer.
func get[T any](ctx context.Context, c *Client, path string, params map[string]any, decode func([]byte) (T, error)) (T, error) {
	var out T
	err := c.query(ctx, call{method: http.MethodGet, path: path, params: params}, func(body []byte) (err error) {
		out, err = decode(body)
		return err
	})
	return out, err
}

// listing holds the filters that bill and refund queries share.
type listing struct {
	outTradeNo, channel string
	since, until        time.Time
	skip, limit         int
	detail              bool
}

// params checks l into p and returns its parameters; a count takes no
// skip, limit or need_detail.
func (l listing) params(p *problems, count bool) map[string]any {
	m := map[string]any{}
	if l.outTradeNo != "" {
		if reason := checkOutTradeNo(l.outTradeNo); reason != "" {
			p.add("bill_no", reason)
		}
		m["bill_no"] = l.outTradeNo
	}
	checkChannel(p, "channel", l.channel)
	if l.channel != "" {
		m["channel"] = l.channel
	}
	checkSpan(p, l.since, l.until)
	if !l.since.IsZero() {
		m["start_time"] = l.since.UnixMilli()
	}
	if !l.until.IsZero() {
		m["end_time"] = l.until.UnixMilli()
	}
	if count {
		return m
	}
	checkPage(p, l.skip, l.limit)
	if l.skip > 0 {
		m["skip"] = l.skip
	}
	if l.limit > 0 {
		m["limit"] = l.limit
	}
	if l.detail {
		m["need_detail"] = true
	}
	return m
}

// decodeList decodes the list under key of an answer, converting each
// record with conv.
func decodeList[W, T any](body []byte, key string, conv func(*W) (T, error)) ([]T, error) {
	var a map[string]json.RawMessage
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, err
	}
	var wire []W
	if raw, ok := a[key]; ok {
		if err := json.Unmarshal(raw, &wire); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	out := make([]T, 0, len(wire))
	for i := range wire {
		v, err := conv(&wire[i])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// decodeOne decodes the record under key of an answer with conv.
func decodeOne[W, T any](body []byte, key string, conv func(*W) (T, error)) (*T, error) {
	var a map[string]json.RawMessage
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, err
	}
	raw, ok := a[key]
	if !ok || string(raw) == "null" {
		return nil, fmt.Errorf("no %s", key)
	}
	var w W
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	v, err := conv(&w)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// wait sleeps before attempt n+1, unless ctx ends first or its deadline
// is sooner than the end of the wait.
func (c *Client) wait(ctx context.Context, n int) error {
	var d time.Duration
	if c.retryWait != nil {
		d = c.retryWait(n)
	} else {
		// Full jitter over [base·2^(n-1)/2, base·2^(n-1)): callers that
		// failed together do not retry together.
		ceiling := retryBase << (n - 1)
		d = ceiling/2 + rand.N(ceiling/2) //nolint:gosec // jitter needs no unpredictability
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return errors.New("the context's deadline comes before the next attempt")
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// fromMillis converts BeeCloud's milliseconds to a time; 0 is the zero
// time.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// checkChannel reports what is wrong with a channel parameter: BeeCloud
// spells channels in capitals, like "ALI".
func checkChannel(p *problems, field, ch string) {
	if ch == "" {
		return
	}
	if len(ch) > 32 {
		p.add(field, fmt.Sprintf("must be a BeeCloud channel such as \"ALI\" or \"WX\", got %d bytes", len(ch)))
		return
	}
	for i := 0; i < len(ch); i++ {
		if b := ch[i]; !(b >= 'A' && b <= 'Z' || b == '_') {
			hint := ""
			if up := strings.ToUpper(ch); up != ch && strings.Trim(up, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == "" {
				hint = fmt.Sprintf(" (did you mean %q?)", up)
			}
			p.add(field, fmt.Sprintf("must be a BeeCloud channel in capitals such as \"ALI\" or \"WX\", got %q%s", ch, hint))
			return
		}
	}
}

// checkPage reports bad skip and limit values.
func checkPage(p *problems, skip, limit int) {
	if skip < 0 {
		p.add("skip", fmt.Sprintf("must not be negative, got %d", skip))
	}
	switch {
	case limit < 0:
		p.add("limit", fmt.Sprintf("must not be negative, got %d", limit))
	case limit > MaxLimit:
		p.add("limit", fmt.Sprintf("must be at most %d (BeeCloud's maximum), got %d", MaxLimit, limit))
	}
}

// checkSpan reports a time span that ends before it starts.
func checkSpan(p *problems, since, until time.Time) {
	if !since.IsZero() && !until.IsZero() && until.Before(since) {
		p.add("end_time", fmt.Sprintf("is before start_time (%s < %s)", until.Format(time.RFC3339), since.Format(time.RFC3339)))
	}
}

// checkID reports a bad record id, which goes into the path.
func checkID(p *problems, id string) {
	switch {
	case id == "":
		p.add("id", "is required: BeeCloud's record id (not the out_trade_no)")
	case len(id) > 128:
		p.add("id", fmt.Sprintf("must be at most 128 bytes, got %d", len(id)))
	default:
		for i := 0; i < len(id); i++ {
			if id[i] <= ' ' || id[i] >= 0x7f {
				p.add("id", fmt.Sprintf("must be printable ASCII, found %q at byte %d", id[i], i))
				return
			}
		}
	}
}
