package keylinecore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/deviceclient"
	"github.com/keyline/keyline/mobile/keylinecore"
)

var qrContext = enroll.PushContext{Action: "Login", IP: "203.0.113.7", Place: "Zürich, CH", Browser: "Firefox on macOS"}

// wrongNumber is a 2-digit number that is not n.
func wrongNumber(n string) string {
	return fmt.Sprintf("%02d", (int(n[0]-'0')*10+int(n[1]-'0')+1)%100)
}

// qrLogin begins a QR login for user at s, as the login page does.
func qrLogin(t *testing.T, s *server, user string) authn.QRLogin {
	t.Helper()
	q, err := s.kit.Service.BeginQRLogin(context.Background(), user, qrContext)
	require.NoError(t, err)
	return q
}

// Log in with a QR code (PROTOCOL.md §8): the scanned text picks the
// account of its issuer and user among the phone's (of two servers
// here), the prompt shows what is approved, and AnswerPush approves it
// with the number the page shows, behind the presence gate; the page's
// handle then logs in. Scanned again, the code is used; denied, the
// login is denied; a wrong number ends it.
func TestScanLogin(t *testing.T) {
	ctx := context.Background()
	bank := newServer(t, authntest.Start(), "Example Bank")
	broker := newServer(t, authntest.Start().Add(2*time.Minute), "Example Broker")
	g := &gate{}
	p, err := keylinecore.NewPhone(config("phone"), newStorage(), newHWKey(), g, phoneClock{server: bank.kit.Clock, off: -3 * time.Minute})
	require.NoError(t, err)
	require.NoError(t, p.CreateVault(pin))
	activate(t, p, broker, "alice") // the same user at another service: not the one the bank's code is for
	alice := activate(t, p, bank, "alice")

	// Approved.
	q := qrLogin(t, bank, "alice")
	pr, err := p.ScanLogin(q.Text, nil)
	require.NoError(t, err)
	require.Equal(t, alice, pr.AccountID)
	require.Equal(t, q.RequestID, pr.RequestID)
	require.Equal(t, "Example Bank", pr.Issuer)
	require.Equal(t, "Login", pr.Action)
	require.Equal(t, "203.0.113.7", pr.IP)
	require.Equal(t, "Zürich, CH", pr.Place)
	require.Equal(t, "Firefox on macOS", pr.Browser)
	require.Equal(t, q.ExpiresAt.Unix(), pr.ExpiresUnix)
	require.Empty(t, pr.TransactionLines)
	g.refuse.Store(true)
	require.Equal(t, keylinecore.CodePresence, code(p.AnswerPush(pr, true, q.Number, nil)))
	g.refuse.Store(false)
	require.NoError(t, p.AnswerPush(pr, true, q.Number, nil))
	res, err := bank.kit.Service.FinishQRLogin(ctx, "alice", q.Handle)
	require.NoError(t, err)
	require.Equal(t, alice, res.DeviceID)
	require.Equal(t, authn.MethodPush, res.Method)

	// The same code scanned again: used.
	_, err = p.ScanLogin(q.Text, nil)
	require.Equal(t, keylinecore.CodeAlreadyUsed, code(err), "%v", err)

	// Denied.
	q = qrLogin(t, bank, "alice")
	pr, err = p.ScanLogin(q.Text, nil)
	require.NoError(t, err)
	require.NoError(t, p.AnswerPush(pr, false, "", nil))
	_, err = bank.kit.Service.FinishQRLogin(ctx, "alice", q.Handle)
	require.ErrorIs(t, err, authn.ErrPushDenied)
	_, err = p.ScanLogin(q.Text, nil)
	require.Equal(t, keylinecore.CodeAlreadyUsed, code(err), "a denied code is used too: %v", err)

	// The wrong number: the request is over, and no login.
	q = qrLogin(t, bank, "alice")
	pr, err = p.ScanLogin(q.Text, nil)
	require.NoError(t, err)
	require.Equal(t, keylinecore.CodeWrongNumber, code(p.AnswerPush(pr, true, wrongNumber(q.Number), nil)))
	_, err = bank.kit.Service.FinishQRLogin(ctx, "alice", q.Handle)
	require.ErrorIs(t, err, authn.ErrWrongNumber)

	// The broker's code for its alice picks the broker's account.
	bank.kit.Clock.Advance(15 * time.Minute) // a new push budget
	broker.kit.Clock.Advance(15 * time.Minute)
	q = qrLogin(t, broker, "alice")
	pr, err = p.ScanLogin(q.Text, nil)
	require.NoError(t, err)
	require.Equal(t, "Example Broker", pr.Issuer)
	require.NotEqual(t, alice, pr.AccountID)
	require.NoError(t, p.AnswerPush(pr, true, q.Number, nil))
	res, err = broker.kit.Service.FinishQRLogin(ctx, "alice", q.Handle)
	require.NoError(t, err)
	require.Equal(t, pr.AccountID, res.DeviceID)
}

// A code that is not for an account of this phone, text that is no
// login QR code, a newer version's code, an expired code, a locked
// vault, a cancelled call and a revoked device are refused, each with
// its code; none sends an answer.
func TestScanLoginRefusals(t *testing.T) {
	ctx := context.Background()
	bank := newServer(t, authntest.Start(), "Example Bank")
	p := newPhone(t, bank)
	alice := activate(t, p, bank, "alice")
	other := newPhone(t, bank)
	activate(t, other, bank, "bob")

	// bob's code: his account is on the other phone.
	q := qrLogin(t, bank, "bob")
	_, err := p.ScanLogin(q.Text, nil)
	require.Equal(t, keylinecore.CodeNoAccount, code(err))
	require.ErrorIs(t, err, deviceclient.ErrOtherAccount)
	require.Contains(t, err.Error(), "no account on this phone")
	require.NotContains(t, err.Error(), q.RequestID)
	st, err := bank.kit.Service.QRLoginStatus(ctx, "bob", q.Handle, 0)
	require.NoError(t, err)
	require.Equal(t, authn.PushPending, st, "nothing was answered")
	// The same account name at another issuer is not this account.
	forged := enroll.QRLogin{Issuer: "Example Bank Ltd", User: "alice", RequestID: q.RequestID}
	_, err = p.ScanLogin(forged.Text(), nil)
	require.Equal(t, keylinecore.CodeNoAccount, code(err))

	// Not a login QR code at all, or one altered.
	for _, text := range []string{"", "https://bank.example/login", "keyline://activate?v=1",
		"keyline://login?v=1&iss=Example+Bank&user=alice", "KEYLINE://login?v=1&iss=Example+Bank&user=alice&id=qr-x",
		"keyline://login?v=1&iss=Example%20Bank&user=alice&id=qr-x", strings.Repeat("x", 4000)} {
		_, err := p.ScanLogin(text, nil)
		require.Equal(t, keylinecore.CodeInvalidInput, code(err), "%q", text)
		require.ErrorIs(t, err, enroll.ErrInvalidQRLogin)
	}
	// A version this app does not read: an update is needed.
	for _, text := range []string{"keyline://login?v=2&iss=Example+Bank&user=alice&id=qr-x", "keyline://login?v=10&x=y"} {
		_, err = p.ScanLogin(text, nil)
		require.Equal(t, keylinecore.CodeUnsupported, code(err), "%q", text)
		require.ErrorIs(t, err, enroll.ErrInvalidQRLogin)
	}

	// A request ID no login has: the server knows none.
	unknown := enroll.QRLogin{Issuer: "Example Bank", User: "alice", RequestID: "qr-AAAAAAAAAAAAAAAAAAAAAA"}
	_, err = p.ScanLogin(unknown.Text(), nil)
	require.Equal(t, keylinecore.CodeNotFound, code(err))

	// Expired: scanned after the code's countdown ended.
	q = qrLogin(t, bank, "alice")
	bank.kit.Clock.Set(q.ExpiresAt.Add(time.Second))
	_, err = p.ScanLogin(q.Text, nil)
	require.Equal(t, keylinecore.CodeExpired, code(err), "%v", err)

	// Scanned before the countdown ended, answered after it.
	q = qrLogin(t, bank, "alice")
	pr, err := p.ScanLogin(q.Text, nil)
	require.NoError(t, err)
	require.Equal(t, alice, pr.AccountID)
	bank.kit.Clock.Set(q.ExpiresAt.Add(time.Second))
	require.Equal(t, keylinecore.CodeExpired, code(p.AnswerPush(pr, true, q.Number, nil)))
	_, err = bank.kit.Service.FinishQRLogin(ctx, "alice", q.Handle)
	require.ErrorIs(t, err, authn.ErrExpired)

	// Locked: the vault must be open to know the accounts.
	p.Lock()
	_, err = p.ScanLogin(q.Text, nil)
	require.Equal(t, keylinecore.CodeVaultLocked, code(err))

	// Cancelled: nothing is fetched.
	require.NoError(t, p.Unlock(pin))
	bank.kit.Clock.Advance(15 * time.Minute)
	q = qrLogin(t, bank, "alice")
	cancel := keylinecore.NewCancel()
	cancel.Cancel()
	_, err = p.ScanLogin(q.Text, cancel)
	require.Equal(t, keylinecore.CodeCancelled, code(err))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled scan is %v", err)
	}

	// The device revoked after the code was shown: the scan learns it
	// (and records it), as any call does.
	proof, err := bank.kit.Service.Operator("helpdesk").Proof(ctx, "alice", "lost phone")
	require.NoError(t, err)
	require.NoError(t, bank.kit.Service.RevokeDevice(ctx, "alice", alice, proof))
	_, err = p.ScanLogin(q.Text, nil)
	require.Equal(t, keylinecore.CodeDeviceRemoved, code(err), "%v", err)
	a, err := p.Account(alice)
	require.NoError(t, err)
	require.NotZero(t, a.RemovedUnix)
}

// FuzzScanLogin: ParseLoginQR reads what enroll.ParseQRLogin reads.
// Text that enroll.ParseQRLogin refuses is refused before
// anything is sent, as CodeInvalidInput, or as CodeUnsupported only for
// a code that names a version other than 1; a code it accepts for an
// account this phone does not hold is CodeNoAccount, also unsent (the
// server is down: a call would be CodeUnreachable).
func FuzzScanLogin(f *testing.F) {
	bank := newServer(f, authntest.Start(), "Example Bank")
	p, err := keylinecore.NewPhone(config("phone"), newStorage(), newHWKey(), nil, phoneClock{server: bank.kit.Clock})
	require.NoError(f, err)
	require.NoError(f, p.CreateVault(pin))
	offer, err := bank.kit.Service.StartActivation(context.Background(), "alice", nil)
	require.NoError(f, err)
	_, err = p.Activate(bank.url, offer.URI(), nil)
	require.NoError(f, err)
	bank.down.Store(true)
	f.Fuzz(func(t *testing.T, text string) {
		_, err := p.ScanLogin(text, nil)
		q, perr := enroll.ParseQRLogin(text)
		lq, lerr := keylinecore.ParseLoginQR(text)
		if perr == nil {
			require.NoError(t, lerr)
			require.Equal(t, &keylinecore.LoginQR{Issuer: q.Issuer, User: q.User}, lq)
		} else {
			require.Nil(t, lq)
			require.Equal(t, code(lerr), code(err), "ParseLoginQR refuses as ScanLogin does")
		}
		switch {
		case perr != nil:
			want := keylinecore.CodeInvalidInput
			if v, ok := strings.CutPrefix(text, "keyline://login?v="); ok {
				if v, _, _ = strings.Cut(v, "&"); v != "1" && v != "" && len(v) <= 9 && strings.Trim(v, "0123456789") == "" {
					want = keylinecore.CodeUnsupported
				}
			}
			require.Equal(t, want, code(err), "%q", text)
			require.ErrorIs(t, err, enroll.ErrInvalidQRLogin)
		case q.Issuer == "Example Bank" && q.User == "alice":
			require.Equal(t, keylinecore.CodeUnreachable, code(err), "%q", text)
		default:
			require.Equal(t, keylinecore.CodeNoAccount, code(err), "%q", text)
		}
	})
}

// ParseLoginQR names the account of a code without the vault: it works
// on a locked phone's app, and refuses as ScanLogin does.
func TestParseLoginQR(t *testing.T) {
	q := enroll.QRLogin{Issuer: "Example Bank", User: "alice smith", RequestID: "qr-MXnilCprvRiyzW3n-v9PUg"}
	got, err := keylinecore.ParseLoginQR(q.Text())
	require.NoError(t, err)
	require.Equal(t, &keylinecore.LoginQR{Issuer: "Example Bank", User: "alice smith"}, got)
	_, err = keylinecore.ParseLoginQR(q.Text() + "&x=1")
	require.Equal(t, keylinecore.CodeInvalidInput, code(err))
	_, err = keylinecore.ParseLoginQR("keyline://login?v=2&iss=Example+Bank")
	require.Equal(t, keylinecore.CodeUnsupported, code(err))
	require.Contains(t, err.Error(), "needs an update")
}
