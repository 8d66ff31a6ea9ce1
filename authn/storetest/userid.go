package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/txn"
)

// badUserIDs are user IDs no entry point of the Service may hand to a
// store, with the words the refusal must say. (PostgreSQL, for one,
// refuses a NUL byte or invalid UTF-8 in text: before the check, such a
// user read as "store unavailable".)
var badUserIDs = map[string]string{
	"":                                "empty",
	"\x00":                            "NUL",
	"alice\x00":                       "NUL",
	"al\xffice":                       "UTF-8",
	"\xc3":                            "UTF-8",
	"alice\x01":                       "control",
	"alice\u202e":                     "bidi",
	strings.Repeat("a", 257):          "256 bytes",
	strings.Repeat("é", 129):          "256 bytes",
	"\x00" + strings.Repeat("a", 300): "256 bytes",
}

// userEntryPoints are every call of the Service that takes a user ID,
// made for user with arguments that are otherwise well formed.
func userEntryPoints(svc *authn.Service) map[string]func(ctx context.Context, user string) error {
	const id = "0123456789abcdef0123456789abcdef"
	tx := txn.Transaction{Kind: txn.KindWithdrawal, Amount: 100, Currency: "EUR", To: "CH9300762011623852957"}
	pc := enroll.PushContext{Action: "Login"}
	op := svc.Operator("storetest")
	e := func(_ any, err error) error { return err }
	return map[string]func(ctx context.Context, user string) error{
		"BeginChallenge":    func(ctx context.Context, u string) error { return e(svc.BeginChallenge(ctx, u)) },
		"FinishChallenge":   func(ctx context.Context, u string) error { return e(svc.FinishChallenge(ctx, u, id, "12345678")) },
		"BeginTransaction":  func(ctx context.Context, u string) error { return e(svc.BeginTransaction(ctx, u, tx)) },
		"FinishTransaction": func(ctx context.Context, u string) error { return e(svc.FinishTransaction(ctx, u, id, "12345678")) },
		"VerifyTOTP":        func(ctx context.Context, u string) error { return e(svc.VerifyTOTP(ctx, u, "123456")) },
		"ConfirmTOTP":       func(ctx context.Context, u string) error { return svc.ConfirmTOTP(ctx, u, "123456") },
		"VerifyRecoveryCode": func(ctx context.Context, u string) error {
			return e(svc.VerifyRecoveryCode(ctx, u, "ABCD-EFGH-JKMN-PQRS"))
		},
		"BeginPush":            func(ctx context.Context, u string) error { return e(svc.BeginPush(ctx, u, pc)) },
		"BeginTransactionPush": func(ctx context.Context, u string) error { return e(svc.BeginTransactionPush(ctx, u, tx, pc)) },
		"PushStatus":           func(ctx context.Context, u string) error { return e(svc.PushStatus(ctx, u, id, 0)) },
		"FinishPush":           func(ctx context.Context, u string) error { return e(svc.FinishPush(ctx, u, id)) },
		"CancelPush":           func(ctx context.Context, u string) error { return svc.CancelPush(ctx, u, id) },
		"SetPush":              func(ctx context.Context, u string) error { return svc.SetPush(ctx, u, true, nil) },
		"StartActivation":      func(ctx context.Context, u string) error { return e(svc.StartActivation(ctx, u, nil)) },
		"ConfirmActivation":    func(ctx context.Context, u string) error { return e(svc.ConfirmActivation(ctx, u, id, "1234")) },
		"ActivationStatus":     func(ctx context.Context, u string) error { return e(svc.ActivationStatus(ctx, u, id)) },
		"CancelActivation":     func(ctx context.Context, u string) error { return svc.CancelActivation(ctx, u, id) },
		"Devices":              func(ctx context.Context, u string) error { return e(svc.Devices(ctx, u)) },
		"RenameDevice":         func(ctx context.Context, u string) error { return svc.RenameDevice(ctx, u, id, "phone") },
		"RevokeDevice":         func(ctx context.Context, u string) error { return svc.RevokeDevice(ctx, u, id, nil) },
		"Factors":              func(ctx context.Context, u string) error { return e(svc.Factors(ctx, u)) },
		"NewRecoveryCodes":     func(ctx context.Context, u string) error { return e(svc.NewRecoveryCodes(ctx, u, nil)) },
		"StartTOTP": func(ctx context.Context, u string) error {
			return e(svc.StartTOTP(ctx, u, nil, authn.TOTPOptions{AccountName: "alice"}))
		},
		"ImportTOTP": func(ctx context.Context, u string) error {
			return svc.ImportTOTP(ctx, u, make([]byte, 20), challenge.TOTP{}, authn.ImportOptions{})
		},
		"RemoveTOTP":          func(ctx context.Context, u string) error { return svc.RemoveTOTP(ctx, u, nil) },
		"Operator.LockState":  func(ctx context.Context, u string) error { return e(op.LockState(ctx, u)) },
		"Operator.Unlock":     func(ctx context.Context, u string) error { return op.Unlock(ctx, u) },
		"Operator.DeleteUser": func(ctx context.Context, u string) error { return op.DeleteUser(ctx, u) },
		"Operator.Proof":      func(ctx context.Context, u string) error { return e(op.Proof(ctx, u, "ticket 1")) },
		"AuthenticateDevice": func(ctx context.Context, u string) error {
			r := enroll.APIRequest{Method: "GET", Path: "/v1/pushes", User: u, DeviceID: id, Time: t0,
				Nonce: make([]byte, enroll.APINonceSize)}
			return e(svc.AuthenticateDevice(ctx, r, make([]byte, 32), authn.DeviceLimit{}))
		},
	}
}

// testUserIDs: every entry point refuses a user ID that is empty, over
// 256 bytes, not UTF-8, or holds a NUL, control or bidi character, with
// ErrInvalidInput saying which, before any store sees it: nothing is
// stored, no event is raised, and a valid user's state is untouched.
func testUserIDs(t *testing.T, newStore func(t *testing.T) authn.Store) {
	store := newStore(t)
	c := newCluster(t, store, nil)
	ctx := t.Context()
	p, _ := c.enroll(t, "alice", nil)
	c.login(t, "alice", p)
	events := c.obs.total()
	for name, call := range userEntryPoints(c.svc[0]) {
		for user, words := range badUserIDs {
			err := call(ctx, user)
			require.ErrorIs(t, err, authn.ErrInvalidInput, "%s(%q)", name, user)
			require.NotErrorIs(t, err, authn.ErrStoreUnavailable, "%s(%q)", name, user)
			require.Contains(t, err.Error(), words, "%s(%q)", name, user)
		}
	}
	require.Equal(t, events, c.obs.total(), "events raised for invalid user IDs")
	_, records := halves(store)
	devs, err := records.DevicesPage(ctx, "", "", 100)
	require.NoError(t, err)
	require.Len(t, devs, 1)
	require.Equal(t, "alice", devs[0].User)
	st, err := c.svc[0].Factors(ctx, "alice")
	require.NoError(t, err)
	require.Zero(t, st.RecentFail)
	c.login(t, "alice", p)
}
