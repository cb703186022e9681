package beecloud_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/paybutton/beecloud"
	"github.com/paybutton/beecloud/beecloudtest"
)

// txStore is an in-memory beecloud.TxStore over a pretend database: the
// effects work stages reach paid only when its transaction commits, in
// one step with the completion, and only if the token still holds the
// claim. Its faults play a database that refuses the commit, one whose
// commit answer is lost, and one that goes down.
type txStore struct {
	mu      sync.Mutex
	entries map[string]txEntry
	paid    map[string]int // committed effects: times each order was marked paid

	commitFails bool   // the commit is refused: nothing happens
	commitLost  bool   // the commit happens, but its answer is an error
	downAfter   bool   // the store goes down once a commit was tried
	down        bool   // every call fails
	steal       string // a token that takes the claim over during work
	skipWork    bool   // a broken store: CompleteTx returns nil without work
}

type txEntry struct {
	token string
	until time.Time
	done  bool
}

type txKey struct{}

// txn is the pretend database transaction work reaches through its ctx.
type txn struct{ paid []string }

// markPaid is the merchant's effect, inside the store's transaction.
func markPaid(ctx context.Context, id string) error {
	tx, ok := ctx.Value(txKey{}).(*txn)
	if !ok {
		return errors.New("no transaction in the context")
	}
	tx.paid = append(tx.paid, id)
	return nil
}

func newTxStore() *txStore {
	return &txStore{entries: map[string]txEntry{}, paid: map[string]int{}}
}

func (s *txStore) Claim(ctx context.Context, key, token string, lease time.Duration) (beecloud.ClaimState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return 0, errStoreDown
	}
	e, ok := s.entries[key]
	if ok && e.done {
		return beecloud.ClaimDone, nil
	}
	if ok && e.token != token && time.Now().Before(e.until) {
		return beecloud.ClaimBusy, nil
	}
	s.entries[key] = txEntry{token: token, until: time.Now().Add(lease)}
	return beecloud.ClaimOK, nil
}

func (s *txStore) Complete(ctx context.Context, key, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return errStoreDown
	}
	s.entries[key] = txEntry{token: token, done: true}
	return nil
}

func (s *txStore) Release(ctx context.Context, key, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return errStoreDown
	}
	if e, ok := s.entries[key]; ok && !e.done && e.token == token {
		delete(s.entries, key)
	}
	return nil
}

func (s *txStore) CompleteTx(ctx context.Context, key, token string, work func(ctx context.Context) error) error {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		return errStoreDown
	}
	if s.skipWork {
		return nil
	}
	tx := new(txn)
	if err := work(context.WithValue(ctx, txKey{}, tx)); err != nil {
		return err // rolled back: tx is dropped
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.steal != "" {
		s.entries[key] = txEntry{token: s.steal, until: time.Now().Add(time.Hour)}
	}
	defer func() { s.down = s.down || s.downAfter }()
	if e := s.entries[key]; e.done || e.token != token {
		return errors.New("txstore: claim lost, rolled back")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.commitFails {
		return errors.New("txstore: commit failed")
	}
	for _, id := range tx.paid {
		s.paid[id]++
	}
	s.entries[key] = txEntry{token: token, done: true}
	if s.commitLost {
		return errors.New("txstore: connection reset during commit")
	}
	return nil
}

func (s *txStore) set(f func(s *txStore)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// TestWebhookHandlerTxStore checks that with a TxStore, Handle's effect
// and the completion commit together, and that "success" is answered only
// when the commit is known to have happened: for each fault, the first
// delivery's answer, then BeeCloud's resend once the fault is gone, must
// leave the order paid exactly once.
func TestWebhookHandlerTxStore(t *testing.T) {
	tests := []struct {
		name   string
		fault  func(s *txStore)
		handle error // Handle's error
		status int   // first answer
		runs   int   // Handle runs in all, with the resend
	}{
		{"committed", func(s *txStore) {}, nil, http.StatusOK, 1},
		{"Handle fails", func(s *txStore) {}, errors.New("no stock"), http.StatusInternalServerError, 2},
		{"commit refused", func(s *txStore) { s.commitFails = true }, nil, http.StatusServiceUnavailable, 2},
		{"commit answer lost", func(s *txStore) { s.commitLost = true }, nil, http.StatusOK, 1},
		{"commit answer lost, store down", func(s *txStore) { s.commitLost, s.downAfter = true, true }, nil, http.StatusServiceUnavailable, 1},
		{"commit refused, store down", func(s *txStore) { s.commitFails, s.downAfter = true, true }, nil, http.StatusServiceUnavailable, 2},
		{"store down before", func(s *txStore) { s.down = true }, nil, http.StatusServiceUnavailable, 1},
		{"claim taken over", func(s *txStore) { s.steal = "thief" }, nil, http.StatusConflict, 2},
		{"broken store skips Handle", func(s *txStore) { s.skipWork = true }, nil, http.StatusServiceUnavailable, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				store := newTxStore()
				var runs atomic.Int32
				failNext := tt.handle
				h := &beecloud.WebhookHandler{
					Apps:  beecloud.Apps{handlerConfig},
					Store: store,
					Handle: func(ctx context.Context, n *beecloud.Notification) error {
						runs.Add(1)
						if err := markPaid(ctx, n.TransactionID); err != nil {
							return err
						}
						err := failNext
						failNext = nil
						return err
					},
					Lease:  beecloud.MinLease,
					Logger: quietLogger(),
				}
				beecloud.SetCompleteBudgets(h, 50*time.Millisecond, time.Second)
				send := direct(h)
				body := beecloudtest.NotificationBody(handlerConfig, beecloudtest.Paid(testOrder))

				store.set(tt.fault)
				code, text := send(body)
				assert.Equal(t, tt.status, code, "first answer's status (%q)", text)
				assert.Equal(t, code == http.StatusOK, text == "success", "first answer %d %q: success if and only if 200", code, text)
				// The fault is gone; BeeCloud sends again (after the thief's
				// claim, if any, ran out).
				store.set(func(s *txStore) {
					s.commitFails, s.commitLost, s.downAfter, s.down, s.steal, s.skipWork = false, false, false, false, "", false
					if e := s.entries[storeKey(testOrder)]; e.token == "thief" {
						delete(s.entries, storeKey(testOrder))
					}
				})
				// A claim left behind by a failed Release runs out first: the
				// resend comes a lease later, on the bubble's clock.
				advance(beecloud.MinLease)
				code, text = send(body)
				require.Equal(t, http.StatusOK, code, "resend's status (%q)", text)
				require.Equal(t, "success", text, "resend's answer")
				code, text = send(body)
				assert.Equal(t, http.StatusOK, code, "duplicate's status (%q)", text)
				assert.Equal(t, "success", text, "duplicate's answer")
				store.mu.Lock()
				paid := store.paid[testOrder.OutTradeNo]
				store.mu.Unlock()
				t.Logf("Handle ran %d times; the order was marked paid %d times", runs.Load(), paid)
				assert.Equal(t, 1, paid, "times the order was marked paid")
				assert.Equal(t, tt.runs, int(runs.Load()), "Handle runs")
			})
		})
	}
}

// storeKey returns the Store key of o's payment.
func storeKey(o beecloud.Order) string {
	return handlerConfig.AppID + ":" + string(beecloud.TransactionPay) + ":" + o.OutTradeNo
}

// A Handle that panics inside CompleteTx leaves nothing committed and
// the claim released.
func TestWebhookHandlerTxStorePanic(t *testing.T) {
	store := newTxStore()
	panicking := true
	h := &beecloud.WebhookHandler{
		Apps:  beecloud.Apps{handlerConfig},
		Store: store,
		Handle: func(ctx context.Context, n *beecloud.Notification) error {
			if err := markPaid(ctx, n.TransactionID); err != nil {
				return err
			}
			if panicking {
				panic("merchant bug")
			}
			return nil
		},
		Logger: quietLogger(),
	}
	body := beecloudtest.NotificationBody(handlerConfig, beecloudtest.Paid(testOrder))
	assert.Panics(t, func() { direct(h)(body) }, "the panic did not reach the server")
	panicking = false
	code, text := direct(h)(body)
	assert.Equal(t, http.StatusOK, code, "resend's status (%q)", text)
	assert.Equal(t, "success", text, "resend's answer")
	assert.Equal(t, 1, store.paid[testOrder.OutTradeNo], "times the order was marked paid")
}
