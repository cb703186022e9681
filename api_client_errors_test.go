package beecloud

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestErrorsCarryNoSignature checks that a failed call's error, which
// net/http's quotes the URL in, holds no app_sign nor its timestamp:
// together they would let whoever reads a log replay the query.
func TestErrorsCarryNoSignature(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens: the dial fails

	release := make(chan struct{})
	stalled := newFake(t, func(fakeCall) (int, string) {
		<-release
		return 200, ok(`"count":1`)
	})
	t.Cleanup(func() { close(release) }) // before the fake closes
	tests := []struct {
		name   string
		client *Client
		want   string
	}{
		{"connection refused", &Client{Config: apiConfig, BaseURL: closed}, "connect"},
		{"client timeout", &Client{Config: apiConfig, BaseURL: stalled.srv.URL, HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}}, "Client.Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.client.retryWait = func(int) time.Duration { return time.Millisecond }
			_, err := tt.client.CountBills(context.Background(), BillQuery{OutTradeNo: "order0001"})
			require.Error(t, err)
			require.ErrorContains(t, err, tt.want)
			require.ErrorContains(t, err, "/2/rest/bills/count", "the error still says which call failed")
			for _, leak := range []string{"app_sign", "timestamp", "para=", "order0001", "%22"} {
				assert.NotContains(t, err.Error(), leak)
			}
			assertNoSecret(t, err.Error())
		})
	}
}

// TestDefaultTimeoutsAgree checks that the default HTTP client bounds a
// call that moves money only by its context: a transport or client
// timeout shorter than the context would abandon a slow refund.
func TestDefaultTimeoutsAgree(t *testing.T) {
	c := &Client{}
	assert.Zero(t, c.moneyHTTPClient().Timeout, "the client's timeout of a refund")
	tr, isTransport := c.moneyHTTPClient().Transport.(*http.Transport)
	require.True(t, isTransport)
	assert.Zero(t, tr.ResponseHeaderTimeout, "the transport's response-header timeout")
	assert.NotZero(t, c.httpClient().Timeout, "a query's timeout")
	assert.Less(t, 2*LookupWindow, DefaultMoneyTimeout, "a refund without a deadline has time to wait and to look")
}
