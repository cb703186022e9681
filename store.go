package beecloud

import (
	"context"
	"strconv"
	"time"
)

// ClaimState is the answer of [Store.Claim].
type ClaimState int

const (
	// ClaimOK means the caller now holds the claim on the key: it must run
	// the work and then call Complete on success or Release on failure.
	ClaimOK ClaimState = iota + 1
	// ClaimBusy means another caller holds an unexpired claim on the key:
	// the work may be under way, so the caller must not do it and must not
	// report success (BeeCloud will send again later).
	ClaimBusy
	// ClaimDone means the work for the key was completed before: the
	// caller must not do it again, and may report success.
	ClaimDone
)

// String returns "ok", "busy" or "done", or "ClaimState(N)" for a value
// outside the constants.
func (s ClaimState) String() string {
	switch s {
	case ClaimOK:
		return "ok"
	case ClaimBusy:
		return "busy"
	case ClaimDone:
		return "done"
	}
	return "ClaimState(" + strconv.Itoa(int(s)) + ")"
}

// Store records which webhook transactions a [WebhookHandler] is handling
// or has handled, so that BeeCloud's resends and duplicate deliveries run
// the merchant's Handle function once: at-least-once delivery, exactly-once
// effect. A Store shared by several server instances (a database, Redis)
// extends that guarantee across all of them.
//
// Keys are opaque strings of at most 512 bytes, made by the handler from
// the app, the transaction type and the transaction id. Tokens are opaque
// strings of at most 64 bytes, unique per delivery.
//
// Implementations must be safe for concurrent use and must honour this
// contract:
//
//   - Claim atomically inspects key. If key was completed and is still
//     retained, it returns ClaimDone. If key is claimed under another token
//     and the claim's lease has not run out, it returns ClaimBusy. Otherwise
//     (no entry, a released claim, or a claim whose lease ran out because
//     its holder died) it records a claim of key by token that lasts for
//     lease, and returns ClaimOK. Of many concurrent Claims of one key, at
//     most one returns ClaimOK while its lease lasts. A lease of zero or
//     less is an error.
//   - Complete marks key done, whoever holds the claim now: the work has
//     happened. A completed key stays ClaimDone for at least the store's
//     retention, which must be at least [MinRetention] by default.
//   - Release removes the claim on key if token still holds it, so the
//     next delivery can try again; it does nothing if the claim has
//     expired and been taken by another token, or if key is done.
//   - When the backend cannot be reached or fails, every method returns a
//     non-nil error. Claim must never report ClaimDone unless the store
//     really recorded a completion: a wrong ClaimDone loses a payment.
type Store interface {
	Claim(ctx context.Context, key, token string, lease time.Duration) (ClaimState, error)
	Complete(ctx context.Context, key, token string) error
	Release(ctx context.Context, key, token string) error
}

// TxStore is a [Store] that can run the merchant's work and record its
// completion in one transaction of its backend, so that either both happen
// or neither does. A [WebhookHandler] whose Store is a TxStore calls
// CompleteTx instead of running Handle and then Complete: a crash or an
// outage between the two can no longer leave work done but unrecorded.
//
// CompleteTx must be called by the holder of the claim (token). It starts
// a transaction, calls work with a context that carries it (how work
// reaches the transaction is the implementation's business), and, if work
// returns nil, marks key done in the same transaction and commits. If work
// fails, or key was completed meanwhile by another token, it rolls back
// and returns an error; an error from the commit itself may mean either
// outcome, and the next Claim tells which.
type TxStore interface {
	Store
	CompleteTx(ctx context.Context, key, token string, work func(ctx context.Context) error) error
}

// MinRetention is how long a Store must remember a completed transaction
// by default. A completed key must outlive every resend of its message: the
// handler may have done the work while its "success" never reached
// BeeCloud. BeeCloud's webhook guide gives the resends as 2 s, 4 s, …,
// 2^17 s after the first delivery (about 36 hours), but also says each gap
// is twice the previous one, which would put the last resend about 73 hours
// (2^18 s) after the first. MinRetention covers the later reading, with a
// margin for clock skew and slow deliveries.
const MinRetention = 96 * time.Hour
