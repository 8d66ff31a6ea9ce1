package authn_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll/txn"
)

var withdrawal = txn.Transaction{Kind: txn.KindWithdrawal, Amount: 123456, Currency: "EUR",
	From: "DE89370400440532013000", To: "GB82WEST12345698765432", Beneficiary: "Ada Lovelace"}

func TestTransactions(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p, dev := e.enrollPhone(t, "alice", nil)

	tc, err := e.svc.BeginTransaction(ctx, "alice", withdrawal)
	require.NoError(t, err)
	e.clock.Advance(10 * time.Second)
	resp, err := p.cred.RespondTransaction(tc.Nonce, tc.Transaction, e.clock.Now())
	require.NoError(t, err)

	// A transaction response never finishes a login challenge, nor the reverse.
	login, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = e.svc.FinishChallenge(ctx, "alice", tc.ID, resp)
	require.ErrorIs(t, err, authn.ErrInvalidCode)
	_, err = e.svc.FinishTransaction(ctx, "alice", login.ID, p.respond(t, login.Question))
	require.ErrorIs(t, err, authn.ErrInvalidCode)

	res, err := e.svc.FinishTransaction(ctx, "alice", tc.ID, resp)
	require.NoError(t, err)
	require.Equal(t, dev.ID, res.DeviceID)
	require.NotNil(t, res.Transaction)
	require.Equal(t, withdrawal, *res.Transaction, "the handler executes exactly what was signed")
	_, err = e.svc.FinishTransaction(ctx, "alice", tc.ID, resp)
	require.ErrorIs(t, err, authn.ErrInvalidCode, "take-once")

	// The same details twice, in one step: different nonces, so the first
	// approval does not approve the second.
	tc2, err := e.svc.BeginTransaction(ctx, "alice", withdrawal)
	require.NoError(t, err)
	require.NotEqual(t, tc.Nonce, tc2.Nonce)
	_, err = e.svc.FinishTransaction(ctx, "alice", tc2.ID, resp)
	require.ErrorIs(t, err, authn.ErrInvalidCode)
	resp2, err := p.cred.RespondTransaction(tc2.Nonce, tc2.Transaction, e.clock.Now())
	require.NoError(t, err)
	_, err = e.svc.FinishTransaction(ctx, "alice", tc2.ID, resp2)
	require.NoError(t, err)

	// An altered transaction gives another question: the phone's answer to
	// what it was shown does not sign what the server would execute.
	tc3, err := e.svc.BeginTransaction(ctx, "alice", withdrawal)
	require.NoError(t, err)
	altered := withdrawal
	altered.Amount *= 10
	resp3, err := p.cred.RespondTransaction(tc3.Nonce, altered, e.clock.Now())
	require.NoError(t, err)
	_, err = e.svc.FinishTransaction(ctx, "alice", tc3.ID, resp3)
	require.ErrorIs(t, err, authn.ErrInvalidCode)

	// A malformed transaction is refused before anything is stored.
	bad := withdrawal
	bad.Currency = "XXX"
	_, err = e.svc.BeginTransaction(ctx, "alice", bad)
	require.ErrorIs(t, err, txn.ErrInvalid)
}
