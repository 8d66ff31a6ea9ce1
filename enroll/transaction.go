package enroll

import (
	"crypto/sha256"
	"time"

	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll/txn"
)

// Transaction signing: package txn is the transaction model (what the
// phone shows, its canonical bytes, the question over them); the key
// that answers it is the credential's, derived here.

// LabelTransaction is the HKDF info of the transaction key (see
// [TransactionKey]): responses to transactions never share a key with
// login challenges.
const LabelTransaction = "keyline/v1/tx-ocra"

// TransactionKey derives a device's transaction key from its root secret,
// as [DeriveKeys] derives the others: HKDF-SHA256 with no salt and
// [LabelTransaction] as info, 32 bytes. The server verifies responses with
// challenge.NewVerifier(txn.Suite, TransactionKey(root)).
func TransactionKey(root Secret) Secret {
	return hkdfKey(root, LabelTransaction, sha256.Size)
}

// RespondTransaction is the phone's answer to a transaction the user
// confirmed, at time now: OCRA under [txn.Suite] and the credential's
// [TransactionKey], over [txn.Question]. A credential not yet confirmed
// by its server refuses ([ErrUnconfirmed]); a nonce or transaction that
// txn.Question refuses is refused with its error, before any key is
// derived.
func (c *Credential) RespondTransaction(serverNonce []byte, t txn.Transaction, now time.Time) (string, error) {
	if !c.confirmed {
		return "", ErrUnconfirmed
	}
	q, err := txn.Question(serverNonce, t)
	if err != nil {
		return "", err
	}
	key := TransactionKey(c.root)
	defer key.Zero()
	return txn.Suite.Respond(key, challenge.Input{Question: q, Time: now})
}
