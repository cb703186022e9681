//go:build go1.25

package beecloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memBeeCloud is BeeCloud's refund API behind an in-memory
// http.RoundTripper, for synctest bubbles, where loopback networking
// does not run on the fake clock. Like BeeCloud, it makes a refund for
// every POST it receives, however often a refund_no comes, and it keeps
// working on a refund after the client stopped waiting.
type memBeeCloud struct {
	// process is how long BeeCloud takes to make a refund; never means
	// it never makes it (the request died before BeeCloud).
	process time.Duration
	never   bool
	// reply is how the POST's answer goes: "ok" once the refund is made;
	// "gateway" a 504 page from a gateway after gatewayAfter, whatever
	// BeeCloud does; "reset" a reset connection once the refund is made;
	// "429" a rate limiter's page at once; "refuse" result_code 12 at
	// once, nothing made.
	reply        string
	gatewayAfter time.Duration

	work    sync.WaitGroup // the refunds BeeCloud is still making
	mu      sync.Mutex
	posts   int
	lookups int
	refunds map[string]int64 // refund_no → refund_fee, one entry per refund made
	made    int              // refunds made, counting every POST's
}

func (m *memBeeCloud) count() (posts, made, lookups int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.posts, m.made, m.lookups
}

func (m *memBeeCloud) has(refundNo string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.refunds[refundNo]
	return ok
}

func (m *memBeeCloud) RoundTrip(req *http.Request) (*http.Response, error) {
	switch {
	case req.Method == http.MethodPost && req.URL.Path == "/2/rest/refund":
		return m.post(req)
	case req.Method == http.MethodGet && req.URL.Path == "/2/rest/refunds":
		var p map[string]any
		if err := json.Unmarshal([]byte(req.URL.Query().Get("para")), &p); err != nil {
			return memAnswer(req, 400, `{"result_code":5,"result_msg":"PARAM_INVALID","err_detail":"para"}`), nil
		}
		no, _ := p["refund_no"].(string)
		m.mu.Lock()
		m.lookups++
		fee, found := m.refunds[no]
		m.mu.Unlock()
		if pre, _ := p["need_approval"].(bool); !found || pre {
			return memAnswer(req, 200, ok(`"refunds":[]`)), nil
		}
		return memAnswer(req, 200, ok(fmt.Sprintf(`"refunds":[{"id":"id-%s","bill_no":"order0001","refund_no":%q,"refund_fee":%d,"total_fee":150,"finish":true,"result":true,"create_time":1}]`, no, no, fee))), nil
	}
	return memAnswer(req, 404, "not found"), nil
}

func (m *memBeeCloud) post(req *http.Request) (*http.Response, error) {
	var p struct {
		RefundNo  string `json:"refund_no"`
		RefundFee int64  `json:"refund_fee"`
	}
	body, _ := io.ReadAll(req.Body)
	if err := json.Unmarshal(body, &p); err != nil {
		return memAnswer(req, 400, `{"result_code":5,"result_msg":"PARAM_INVALID","err_detail":"body"}`), nil
	}
	m.mu.Lock()
	m.posts++
	m.mu.Unlock()
	switch m.reply {
	case "429":
		return memAnswer(req, 429, "<html>Too Many Requests</html>"), nil
	case "refuse":
		return memAnswer(req, 200, `{"result_code":12,"result_msg":"REFUND_AMOUNT_TOO_LARGE","err_detail":""}`), nil
	}
	made := make(chan struct{})
	if !m.never {
		// BeeCloud at work, whoever still waits for it: the refund is made
		// process after the POST.
		m.work.Add(1)
		time.AfterFunc(m.process, func() {
			defer m.work.Done()
			m.mu.Lock()
			m.refunds[p.RefundNo] = p.RefundFee
			m.made++
			m.mu.Unlock()
			close(made)
		})
	}
	var gateway <-chan time.Time
	answered := (<-chan struct{})(made)
	if m.reply == "gateway" {
		gateway = time.After(m.gatewayAfter)
		answered = nil // the gateway answers, not BeeCloud
	}
	select {
	case <-req.Context().Done():
		return nil, req.Context().Err()
	case <-gateway:
		return memAnswer(req, 504, "<html>504 Gateway Time-out</html>"), nil
	case <-answered:
	}
	if m.reply == "reset" {
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	return memAnswer(req, 200, ok(`"id":"id-`+p.RefundNo+`"`)), nil
}

func memAnswer(req *http.Request, status int, body string) *http.Response {
	return &http.Response{
		StatusCode: status,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    req,
	}
}

// TestRefundPostedOnce checks that whatever happens to a refund's answer,
// its refund_no is POSTed once, and that Refund's nil error always means
// BeeCloud made the refund, in the cases where the answer is lost with
// BeeCloud still working, or done.
func TestRefundPostedOnce(t *testing.T) {
	tests := []struct {
		name          string
		bc            *memBeeCloud
		clientTimeout time.Duration // HTTPClient.Timeout
		ctxTimeout    time.Duration // 0: context.Background()
		cancelAfter   time.Duration // cancel the context after this
		want          string        // "made", "recovered", "unknown", "refused"
		wantRecorded  bool          // BeeCloud ends with the refund
	}{
		{name: "answered", bc: &memBeeCloud{process: 200 * time.Millisecond, reply: "ok"}, want: "made", wantRecorded: true},
		{name: "slow BeeCloud is waited for", bc: &memBeeCloud{process: 40 * time.Second, reply: "ok"}, ctxTimeout: time.Minute, want: "made", wantRecorded: true},
		{name: "client timeout shorter than BeeCloud's processing", bc: &memBeeCloud{process: 1500 * time.Millisecond, reply: "ok"}, clientTimeout: time.Second, want: "recovered", wantRecorded: true},
		{name: "gateway 504 after BeeCloud recorded it", bc: &memBeeCloud{process: 200 * time.Millisecond, reply: "gateway", gatewayAfter: 300 * time.Millisecond}, want: "recovered", wantRecorded: true},
		{name: "gateway 504 long before BeeCloud records it", bc: &memBeeCloud{process: 5 * time.Second, reply: "gateway", gatewayAfter: 300 * time.Millisecond}, want: "recovered", wantRecorded: true},
		{name: "connection reset after recording", bc: &memBeeCloud{process: 100 * time.Millisecond, reply: "reset"}, want: "recovered", wantRecorded: true},
		{name: "context cancelled mid-request", bc: &memBeeCloud{process: 2 * time.Second, reply: "ok"}, cancelAfter: 500 * time.Millisecond, want: "unknown", wantRecorded: true},
		{name: "context deadline before BeeCloud answers", bc: &memBeeCloud{process: 50 * time.Second, reply: "ok"}, ctxTimeout: 20 * time.Second, want: "unknown", wantRecorded: true},
		{name: "BeeCloud records it after the look-ups", bc: &memBeeCloud{process: 30 * time.Second, reply: "gateway", gatewayAfter: 300 * time.Millisecond}, want: "unknown", wantRecorded: true},
		{name: "request died before BeeCloud", bc: &memBeeCloud{never: true, reply: "gateway", gatewayAfter: 300 * time.Millisecond}, want: "unknown"},
		{name: "rate limited", bc: &memBeeCloud{never: true, reply: "429"}, want: "unknown"},
		{name: "refused", bc: &memBeeCloud{never: true, reply: "refuse"}, want: "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				bc := tt.bc
				bc.refunds = map[string]int64{}
				c := &Client{Config: apiConfig, BaseURL: "http://beecloud.invalid", HTTPClient: &http.Client{Transport: bc, Timeout: tt.clientTimeout}}
				ctx := context.Background()
				if tt.ctxTimeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.ctxTimeout)
					defer cancel()
				}
				if tt.cancelAfter > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithCancel(ctx)
					defer time.AfterFunc(tt.cancelAfter, cancel).Stop()
				}
				no := NewRefundNo(time.Now())
				start := time.Now()
				res, err := c.Refund(ctx, RefundRequest{OutTradeNo: "order0001", RefundNo: no, Amount: 50})
				took := time.Since(start)
				recordedAtReturn := bc.has(no)

				var apiErr *APIError
				switch {
				case err == nil:
					require.True(t, recordedAtReturn, "Refund returned nil, but BeeCloud has no refund %s", no)
					assert.Equal(t, "id-"+no, res.ID)
					assert.Equal(t, tt.want == "recovered", res.Recovered, "Recovered")
					assert.Equal(t, tt.want, map[bool]string{false: "made", true: "recovered"}[res.Recovered])
				case errors.As(err, &apiErr):
					assert.Equal(t, "refused", tt.want, "got %v", err)
					require.NotErrorIs(t, err, ErrUnknownOutcome)
				default:
					require.ErrorIs(t, err, ErrUnknownOutcome)
					assert.Equal(t, "unknown", tt.want, "got %v", err)
					require.NotErrorAs(t, err, &apiErr, "an unknown outcome is not a refusal")
					for _, want := range []string{no, "RefundOutcome", "never send a new one for the same money"} {
						require.ErrorContains(t, err, want)
					}
					assertNoSecret(t, err.Error())
				}
				assert.LessOrEqual(t, took, DefaultMoneyTimeout, "Refund took %s", took)

				bc.work.Wait() // BeeCloud finishes what it was doing
				posts, made, lookups := bc.count()
				assert.Equal(t, 1, posts, "POSTs of refund_no %s", no)
				assert.Equal(t, tt.wantRecorded, bc.has(no), "BeeCloud has the refund in the end")
				assert.LessOrEqual(t, made, 1, "refunds made")
				t.Logf("%s: %v after %s; POSTs %d, refunds made %d, look-ups %d", tt.name, err, took, posts, made, lookups)

				if tt.want == "unknown" {
					// Settled later: the refund is found if BeeCloud made it,
					// and "not found" still warns.
					r, err := c.RefundOutcome(context.Background(), no)
					if tt.wantRecorded {
						require.NoError(t, err)
						assert.Equal(t, no, r.RefundNo)
						assert.Equal(t, int64(50), r.Amount)
					} else {
						require.ErrorIs(t, err, ErrRefundNotFound)
						require.ErrorContains(t, err, "may still be on its way")
					}
				}
			})
			// synctest.Test waited for every goroutine of the bubble: nothing
			// left behind POSTed the refund_no again, however late.
			posts, _, _ := tt.bc.count()
			assert.Equal(t, 1, posts, "POSTs of the refund_no once the bubble ended")
		})
	}
}

// TestRefundLookupsArePatient checks the look-ups that follow a lost
// answer: spread over LookupWindow, and within a context that allows less.
func TestRefundLookupsArePatient(t *testing.T) {
	tests := []struct {
		name        string
		ctxTimeout  time.Duration
		wantLookups int
		maxTook     time.Duration
	}{
		{"no deadline", 0, lookups, LookupWindow + time.Second},
		{"ten seconds", 10 * time.Second, lookups, 10 * time.Second},
		{"two seconds", 2 * time.Second, 3, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				bc := &memBeeCloud{never: true, reply: "gateway", gatewayAfter: 10 * time.Millisecond, refunds: map[string]int64{}}
				c := &Client{Config: apiConfig, BaseURL: "http://beecloud.invalid", HTTPClient: &http.Client{Transport: bc}}
				ctx := context.Background()
				if tt.ctxTimeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.ctxTimeout)
					defer cancel()
				}
				start := time.Now()
				_, err := c.Refund(ctx, RefundRequest{OutTradeNo: "order0001", RefundNo: NewRefundNo(time.Now()), Amount: 50})
				took := time.Since(start)
				require.ErrorIs(t, err, ErrUnknownOutcome)
				posts, _, n := bc.count()
				assert.Equal(t, 1, posts)
				assert.Equal(t, tt.wantLookups, n, "look-ups")
				assert.LessOrEqual(t, took, tt.maxTook)
				require.ErrorContains(t, err, fmt.Sprintf("looked it up %d time(s)", n))
			})
		})
	}
}
