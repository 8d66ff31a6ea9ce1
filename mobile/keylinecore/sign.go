package keylinecore

import (
	"strings"
	"time"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/txn"
)

// Transaction is a transaction read from a QR code the service showed
// (PROTOCOL.md §9): show its lines, and if the user confirms, answer
// with SignTransactionQR and let them type the response into the page.
type Transaction struct {
	// Lines are its display lines (English labels), joined by "\n" (a
	// line never holds one). Show each as its own paragraph.
	Lines string
}

// ParseTransactionQR reads a transaction QR payload strictly
// (txn.ParseQR): CodeInvalidInput for anything else, with the field and
// fault in the detail, never a value.
func ParseTransactionQR(qrPayload string) (*Transaction, error) {
	_, t, err := txn.ParseQR(qrPayload)
	if err != nil {
		return nil, wrap(err)
	}
	lines, err := t.Display()
	if err != nil {
		return nil, wrap(err)
	}
	return &Transaction{Lines: strings.Join(lines, "\n")}, nil
}

// SignTransactionQR answers a transaction QR code with an account, once
// the user confirmed what ParseTransactionQR showed: the BiometricGate
// first (CodePresence), then the OCRA response over the transaction at
// the server's time (the clock offset the core keeps for the account's
// server). The user types the response into the page that showed the
// code; nothing is sent.
func (p *Phone) SignTransactionQR(accountID, qrPayload string) (string, error) {
	nonce, t, err := txn.ParseQR(qrPayload)
	if err != nil {
		return "", wrap(err)
	}
	if err := p.presence("Sign the transaction"); err != nil {
		return "", err
	}
	var resp string
	err = p.withAccount(accountID, func(cred *enroll.Credential, server string) error {
		resp, err = cred.RespondTransaction(nonce, t, p.serverNow(server))
		return wrap(err)
	})
	return resp, err
}

// Respond answers a challenge question of an account (the login page
// shows it, or the user types it) with the account's OCRA suite, at the
// server's time: a time-based suite counts its steps on the server's
// clock (PROTOCOL.md §11, "Clock offset").
func (p *Phone) Respond(accountID, question string) (string, error) {
	var resp string
	err := p.withAccount(accountID, func(cred *enroll.Credential, server string) error {
		var err error
		resp, err = cred.Respond(question, p.serverNow(server))
		return wrap(err)
	})
	return resp, err
}

// serverNow is the phone's clock corrected to a server's.
func (p *Phone) serverNow(server string) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.clientLocked(server).ServerNow()
}
