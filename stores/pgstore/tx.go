package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paybutton/beecloud"
)

var _ beecloud.TxStore = (*Store)(nil)

// ErrTxOwned is returned by Commit and Rollback of the transaction that
// [Tx] returns: [Store.CompleteTx] ends that transaction itself.
var ErrTxOwned = errors.New("pgstore: the transaction belongs to CompleteTx, which commits or rolls it back")

// rollbackTimeout bounds the rollback of a CompleteTx that failed.
const rollbackTimeout = 10 * time.Second

// txKey is the context key under which CompleteTx passes its transaction.
type txKey struct{}

// Tx returns the database transaction of the [Store.CompleteTx] call that
// ctx comes from, and true; or nil and false if ctx carries none (work was
// not called by CompleteTx, for instance because the handler's Store is
// not a pgstore.Store). A beecloud.WebhookHandler whose Store is a
// pgstore.Store runs Handle inside CompleteTx, so Handle can write its
// effect in the transaction that also records the webhook as handled:
//
//	Handle: func(ctx context.Context, n *beecloud.Notification) error {
//		tx, ok := pgstore.Tx(ctx)
//		if !ok {
//			return errors.New("webhook: not called in a pgstore transaction")
//		}
//		_, err := tx.Exec(ctx, `UPDATE orders SET paid = true WHERE out_trade_no = $1`, n.TransactionID)
//		return err
//	},
//
// The transaction is only valid while work runs. Its Commit and Rollback
// return [ErrTxOwned] and do nothing; Begin starts a savepoint, which work
// may commit or roll back itself. Statements that fail abort the whole
// transaction (PostgreSQL's rule), so the completion is not recorded
// either: return the error.
func Tx(ctx context.Context) (pgx.Tx, bool) {
	tx, ok := ctx.Value(txKey{}).(pgx.Tx)
	return tx, ok
}

// ownedTx is the transaction handed to work: CompleteTx, not work, ends it.
type ownedTx struct{ pgx.Tx }

func (ownedTx) Commit(context.Context) error   { return ErrTxOwned }
func (ownedTx) Rollback(context.Context) error { return ErrTxOwned }

// CompleteTx implements beecloud.TxStore. It begins a transaction (with
// [Options.TxOptions]), calls work with a context from which [Tx] returns
// it, then, in the same transaction, marks key done provided token still
// holds the claim on key, and commits.
//
// What it guarantees: the effects work writes in the transaction and the
// record that key is done are committed together or not at all. A crash,
// a kill or a database outage at any moment leaves either both (the next
// Claim of key answers ClaimDone, and the effect exists once) or neither
// (the claim stays until its lease runs out or it is released, and the
// next delivery runs work again on a database without its effect). Of two
// deliveries whose work races, because the first one's lease ran out, at
// most one commits: the completion is recorded only if token holds the
// claim when the transaction records it, with the key's row locked, and a
// Claim that takes the key over waits for that row lock. What work does
// outside the transaction (an e-mail, a call to another service) has no
// such guarantee.
//
// The transaction holds one of the pool's connections while work runs, on
// top of those that Claim, Release and the handler's lease renewals use
// meanwhile: size the pool (pgxpool's MaxConns, pool_max_conns in the
// URL; 4 or the number of CPUs by default) above the number of webhooks
// the server handles at once, or they wait for each other.
//
// If work returns an error or panics, or token no longer holds the claim
// (its lease ran out and another delivery took it over, or the key was
// completed meanwhile: [beecloud.ErrClaimLost]), the transaction is rolled
// back and CompleteTx returns an error (a panic is re-raised after the
// rollback). If the commit itself
// fails, the outcome is unknown to PostgreSQL's client: the next Claim of
// key tells whether it happened (ClaimDone) or not.
func (s *Store) CompleteTx(ctx context.Context, key, token string, work func(ctx context.Context) error) error {
	if err := s.check(key, token); err != nil {
		return err
	}
	tx, err := s.pool.BeginTx(ctx, s.txOpts)
	if err != nil {
		return fmt.Errorf("pgstore: complete: begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			// Also reached when work panics; the panic goes on after
			// the rollback. The rollback has a context of its own, as
			// ctx may be what ended the work, bounded in case the
			// network hangs. A connection that cannot roll back is
			// closed by pgx, which ends the transaction on the server
			// all the same.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
			defer cancel()
			_ = tx.Rollback(rctx)
		}
	}()
	if err := work(context.WithValue(ctx, txKey{}, pgx.Tx(ownedTx{tx}))); err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, s.completeTxSQL, []byte(key), []byte(token), s.ret)
	if err != nil {
		return fmt.Errorf("pgstore: complete: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return beecloud.ErrClaimLost
	}
	// Whatever Commit returns, the transaction has ended: a failed
	// commit is rolled back by PostgreSQL, or its outcome is unknown.
	committed = true
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgstore: complete: commit: %w", err)
	}
	if s.cleanupDue() {
		_, _ = s.Cleanup(ctx)
	}
	return nil
}
