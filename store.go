package beecloud

import (
	"context"
	"fmt"
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

// Limits on what a [Store] is given; every Store must accept keys and
// tokens up to these sizes, whatever bytes they hold.
const (
	// MaxStoreKeyBytes bounds a key. The handler's keys, made by
	// [Notification.Key], are far shorter.
	MaxStoreKeyBytes = 512
	// MaxStoreTokenBytes bounds a token. The handler's tokens are at
	// most 29 bytes of letters and digits.
	MaxStoreTokenBytes = 64
)

// CheckStoreKey reports, for a [Store] implementation, whether key and
// token are within MaxStoreKeyBytes and MaxStoreTokenBytes: the error names
// the one that is too long. A Store may refuse longer ones with it rather
// than store them truncated.
func CheckStoreKey(key, token string) error {
	if len(key) > MaxStoreKeyBytes {
		return fmt.Errorf("beecloud: store key is %d bytes; at most %d are allowed", len(key), MaxStoreKeyBytes)
	}
	if len(token) > MaxStoreTokenBytes {
		return fmt.Errorf("beecloud: store token is %d bytes; at most %d are allowed", len(token), MaxStoreTokenBytes)
	}
	return nil
}

// Store records which webhook transactions a [WebhookHandler] is handling
// or has handled, so that BeeCloud's resends and duplicate deliveries run
// the merchant's Handle function once: at-least-once delivery, exactly-once
// effect. A Store shared by several server instances (a database, Redis)
// extends that guarantee across all of them.
//
// Keys are opaque strings of at most [MaxStoreKeyBytes], made by the
// handler from the app, the transaction type and the transaction id.
// Tokens are opaque strings of at most [MaxStoreTokenBytes], unique per
// delivery. Both may hold any bytes.
//
// Implementations must be safe for concurrent use and must honour this
// contract:
//
//   - Claim atomically inspects key. If key was completed and is still
//     retained, it returns ClaimDone. If key is claimed under another token
//     and the claim's lease has not run out, it returns ClaimBusy. Otherwise
//     (no entry, a released claim, a claim whose lease ran out because its
//     holder died, or a claim held by this very token) it records a claim of
//     key by token that lasts for lease from now, and returns ClaimOK. Of
//     many concurrent Claims of one key, at most one returns ClaimOK while
//     its lease lasts. A lease of zero or less is an error.
//   - Claim by the current holder renews the claim: the handler calls it
//     again with the same token, as a heartbeat, while Handle runs and until
//     the completion is recorded. The renewed lease runs from the renewal.
//     If the claim was lost meanwhile (its lease ran out and another token
//     took it) the renewal returns ClaimBusy, and if key was completed it
//     returns ClaimDone; either way the renewal changes nothing.
//   - Complete marks key done, whoever holds the claim now: the work has
//     happened. A completed key stays ClaimDone for at least the store's
//     retention, which must be at least [MinRetention] by default.
//     Completing a done key again is harmless.
//   - Release removes the claim on key if token still holds it, so the
//     next delivery can try again; it does nothing if the claim has
//     expired and been taken by another token, or if key is done.
//   - Every method returns soon after ctx is done. When the backend cannot
//     be reached or fails, every method returns a non-nil error. Claim
//     must never report ClaimDone unless the store really recorded a
//     completion: a wrong ClaimDone loses a payment. An error may hide a
//     call that took effect (a reply lost on the way): the handler retries
//     Complete, which is idempotent, and asks Claim.
//
// Package storetest checks a Store against this contract.
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
// CompleteTx is called by the holder of the claim (token), after a Claim
// that returned ClaimOK. It starts a transaction, calls work with a
// context that carries it (how work reaches the transaction is the
// implementation's business), and, if work returns nil, marks key done in
// the same transaction, but only if token still holds the claim (a claim
// whose lease ran out but that no other token took counts as held), and
// commits. If work fails, or token no longer holds the claim (another
// token took it over, or key was completed), it rolls back and returns an
// error: the work's effect is undone, so two holders can never both
// commit. An error from the commit itself may mean either outcome, and the
// next Claim with token tells which: ClaimDone if it committed, ClaimOK if
// not. If work panics, CompleteTx rolls back and lets the panic go on.
//
// CompleteTx must not keep key locked while work runs: the handler renews
// the claim with Claim(key, token) from another goroutine meanwhile, and
// other deliveries' Claims must be answered ClaimBusy at once rather than
// wait for the transaction. Locking key only while marking it done, just
// before the commit, is fine.
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
