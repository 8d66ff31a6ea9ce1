package authn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keyline/keyline/enroll/txn"
)

// TransactionChallenge is what the page sends to the phone for a
// transaction: the nonce and the transaction (in a push prompt or a QR
// code, txn.QR). The phone shows the transaction and
// computes the question itself from them; nobody types it.
type TransactionChallenge struct {
	ID          string
	Nonce       []byte
	Transaction txn.Transaction
	ExpiresAt   time.Time
}

// BeginTransaction asks the user to sign a transaction: a fresh server
// nonce, the question SHA-256("keyline/v1/tx" ‖ lp(nonce) ‖ canonical
// transaction) in hex, and in the store the tags of every response the
// user's devices could give to it (suite OCRA-1:HOTP-SHA256-8:QH64-T30S,
// the device's transaction key). The same details twice get different
// nonces, so an approval captured once never approves again. Budgets and
// lockout are those of logins; unknown users get a challenge made with
// the same work.
func (s *Service) BeginTransaction(ctx context.Context, user string, tx txn.Transaction, opts ...LoginOption) (_ TransactionChallenge, err error) {
	ctx, sp := s.trace(ctx, "BeginTransaction", MethodChallenge, user)
	defer sp.done(&err)
	if err := s.admit(ctx, MethodChallenge, user, opts); err != nil {
		return TransactionChallenge{}, err
	}
	canon, err := tx.Canonical()
	if err != nil {
		return TransactionChallenge{}, err
	}
	nonce := txn.NewNonce()
	q, err := txn.Question(nonce, tx)
	if err != nil {
		return TransactionChallenge{}, err
	}
	payload := append(append([]byte{byte(len(nonce))}, nonce...), canon...)
	now := s.now()
	for range 3 {
		st, err := s.records.User(ctx, user, now)
		if err != nil {
			return TransactionChallenge{}, storeErr(err)
		}
		devs, err := s.activeDevices(ctx, user)
		if err != nil {
			return TransactionChallenge{}, err
		}
		ch, err := s.issue(ctx, transactionKind, user, st.Epoch, devs, issueOptions{life: s.cfg.ChallengeTTL, question: q, payload: payload}, now)
		if errors.Is(err, errEpochMoved) {
			continue
		}
		if err != nil {
			return TransactionChallenge{}, err
		}
		s.event(ctx, EventTransactionStarted, MethodChallenge, user, "", "")
		return TransactionChallenge{ID: ch.ID, Nonce: nonce, Transaction: tx, ExpiresAt: ch.ExpiresAt}, nil
	}
	return TransactionChallenge{}, fmt.Errorf("%w: the user's devices keep changing", ErrStoreUnavailable)
}

// FinishTransaction checks the phone's response to a transaction
// challenge, once, counted before it is checked like a login. Its Result
// carries the transaction that was signed: execute exactly that. A login
// response never finishes a transaction challenge, nor the reverse.
func (s *Service) FinishTransaction(ctx context.Context, user, id, response string, opts ...LoginOption) (_ Result, err error) {
	ctx, sp := s.trace(ctx, "FinishTransaction", MethodChallenge, user)
	defer sp.done(&err)
	if err := s.admit(ctx, MethodChallenge, user, opts); err != nil {
		return Result{}, err
	}
	c, err := s.client(ctx, user, opts, s.now())
	if err != nil {
		return Result{}, err
	}
	r, payload, err := s.finish(ctx, transactionKind, user, c, id, response)
	if err != nil {
		return Result{}, err
	}
	if len(payload) < 1 || len(payload) < 1+int(payload[0]) {
		return Result{}, fmt.Errorf("%w: the challenge was not a transaction", ErrInvalidCode)
	}
	tx, err := txn.Parse(payload[1+int(payload[0]):])
	if err != nil {
		return Result{}, fmt.Errorf("authn: stored transaction does not parse: %w", err)
	}
	r.Transaction = &tx
	s.event(ctx, EventTransactionSigned, MethodChallenge, user, r.DeviceID, "")
	return r, nil
}
