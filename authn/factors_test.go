package authn_test

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/challenge"
)

func pquernaCode(t *testing.T, secret []byte, at time.Time) string {
	code, err := totp.GenerateCodeCustom(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret), at,
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	require.NoError(t, err)
	return code
}

func TestTOTP(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	_, err := e.svc.StartTOTP(ctx, "alice", nil, authn.TOTPOptions{})
	require.ErrorIs(t, err, authn.ErrInvalidInput, "an account name is required")
	key, err := e.svc.StartTOTP(ctx, "alice", nil, authn.TOTPOptions{AccountName: "alice@example.com"})
	require.NoError(t, err)
	require.NotContains(t, key.URI(), "alice\u0000")
	secret := key.Secret()

	// Not active until completed.
	_, err = e.svc.VerifyTOTP(ctx, "alice", pquernaCode(t, secret, e.clock.Now()))
	require.ErrorIs(t, err, authn.ErrInvalidCode)
	require.NoError(t, e.svc.ConfirmTOTP(ctx, "alice", pquernaCode(t, secret, e.clock.Now())))

	// The same step again: refused (RFC 6238 §5.2).
	_, err = e.svc.VerifyTOTP(ctx, "alice", pquernaCode(t, secret, e.clock.Now()))
	require.ErrorIs(t, err, authn.ErrReplay)

	e.clock.Advance(30 * time.Second)
	res, err := e.svc.VerifyTOTP(ctx, "alice", pquernaCode(t, secret, e.clock.Now()))
	require.NoError(t, err)
	require.Equal(t, authn.MethodTOTP, res.Method)
	require.Equal(t, "otp", res.Method.AMR())
	require.NotNil(t, res.Proof)

	// One step behind is accepted (network delay) if not used yet; two are not.
	e.clock.Advance(60 * time.Second)
	_, err = e.svc.VerifyTOTP(ctx, "alice", pquernaCode(t, secret, e.clock.Now().Add(-60*time.Second)))
	require.ErrorIs(t, err, authn.ErrInvalidCode)
	_, err = e.svc.VerifyTOTP(ctx, "alice", pquernaCode(t, secret, e.clock.Now().Add(-30*time.Second)))
	require.NoError(t, err)

	_, err = e.svc.VerifyTOTP(ctx, "alice", "12a456")
	require.ErrorIs(t, err, authn.ErrMalformed)

	// A second key needs the first removed, with a proof.
	_, err = e.svc.StartTOTP(ctx, "alice", res.Proof, authn.TOTPOptions{AccountName: "alice"})
	require.ErrorIs(t, err, authn.ErrAlreadyEnrolled)
	require.ErrorIs(t, e.svc.RemoveTOTP(ctx, "alice", nil), authn.ErrProofRequired)
	require.NoError(t, e.svc.RemoveTOTP(ctx, "alice", res.Proof))
	_, err = e.svc.VerifyTOTP(ctx, "alice", pquernaCode(t, secret, e.clock.Now()))
	require.ErrorIs(t, err, authn.ErrInvalidCode)
}

func TestTOTPConcurrentWrongCodes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	secret := make([]byte, 20)
	rand.Read(secret)
	require.NoError(t, e.svc.ImportTOTP(ctx, "alice", secret, challenge.TOTP{}, authn.ImportOptions{}))
	right := pquernaCode(t, secret, e.clock.Now())
	wrong := "000000"
	if right == wrong {
		wrong = "111111"
	}
	var wg sync.WaitGroup
	for range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = e.svc.VerifyTOTP(ctx, "alice", wrong)
		}()
	}
	wg.Wait()
	require.LessOrEqual(t, e.obs.n("check"), authn.DefaultMaxFailures)
	_, err := e.svc.VerifyTOTP(ctx, "alice", right)
	require.ErrorIs(t, err, authn.ErrLocked)
}

func TestImportTOTP(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	short := make([]byte, 10)
	rand.Read(short)
	require.ErrorIs(t, e.svc.ImportTOTP(ctx, "alice", short, challenge.TOTP{}, authn.ImportOptions{}), challenge.ErrInvalidKey)
	step := uint64(e.clock.Now().Unix() / 30)
	require.NoError(t, e.svc.ImportTOTP(ctx, "alice", short, challenge.TOTP{AllowShortKey: true}, authn.ImportOptions{LastStep: step}))
	_, err := e.svc.VerifyTOTP(ctx, "alice", pquernaCode(t, short, e.clock.Now()))
	require.ErrorIs(t, err, authn.ErrReplay, "the old system's last step is honoured")
	e.clock.Advance(30 * time.Second)
	_, err = e.svc.VerifyTOTP(ctx, "alice", pquernaCode(t, short, e.clock.Now()))
	require.NoError(t, err)
}

func TestRecoveryCodes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p, lost := e.enrollPhone(t, "alice", nil)
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	res, err := e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	require.NoError(t, err)

	_, err = e.svc.NewRecoveryCodes(ctx, "alice", nil)
	require.ErrorIs(t, err, authn.ErrProofRequired)
	codes, err := e.svc.NewRecoveryCodes(ctx, "alice", res.Proof)
	require.NoError(t, err)
	require.Len(t, codes, 10)
	require.Regexp(t, `^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$`, codes[0])

	// Each works once, typed loosely.
	r, err := e.svc.VerifyRecoveryCode(ctx, "alice", strings.ToLower(strings.ReplaceAll(codes[0], "-", " ")))
	require.NoError(t, err)
	require.Equal(t, authn.MethodRecovery, r.Method)
	_, err = e.svc.VerifyRecoveryCode(ctx, "alice", codes[0])
	require.ErrorIs(t, err, authn.ErrInvalidCode)

	// Its proof replaces the lost phone.
	e.enrollPhone(t, "alice", r.Proof, authn.Replacing(lost.ID))
	devs, err := e.svc.Devices(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, devs, 1)
	require.NotEqual(t, lost.ID, devs[0].ID)

	// A new set voids the old.
	codes2, err := e.svc.NewRecoveryCodes(ctx, "alice", r.Proof)
	require.NoError(t, err)
	_, err = e.svc.VerifyRecoveryCode(ctx, "alice", codes[1])
	require.ErrorIs(t, err, authn.ErrInvalidCode)
	_, err = e.svc.VerifyRecoveryCode(ctx, "alice", codes2[1])
	require.NoError(t, err)
	_, err = e.svc.VerifyRecoveryCode(ctx, "alice", "not a code")
	require.ErrorIs(t, err, authn.ErrInvalidCode)
}

func TestOperatorFunctions(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p, lost := e.enrollPhone(t, "alice", nil)
	for range 5 {
		ch, err := e.svc.BeginChallenge(ctx, "alice")
		require.NoError(t, err)
		_, _ = e.svc.FinishChallenge(ctx, "alice", ch.ID, "00000000")
	}
	op := e.svc.Operator("op-7")
	ls, err := op.LockState(ctx, "alice")
	require.NoError(t, err)
	require.True(t, ls.Locked)
	require.ErrorIs(t, authn.Operator{}.Unlock(ctx, "alice"), authn.ErrInvalidInput, "the zero Operator acts for nobody")
	require.NoError(t, op.Unlock(ctx, "alice"))
	ls, err = op.LockState(ctx, "alice")
	require.NoError(t, err)
	require.False(t, ls.Locked)
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	require.NoError(t, err)

	_, err = e.svc.Operator("").Proof(ctx, "alice", "lost phone")
	require.ErrorIs(t, err, authn.ErrInvalidInput)
	proof, err := e.svc.Operator("op-7").Proof(ctx, "alice", "lost phone, identity checked at the branch")
	require.NoError(t, err)
	require.Equal(t, authn.MethodOperator, proof.Method)
	require.Equal(t, "", proof.Method.AMR())
	e.enrollPhone(t, "alice", proof, authn.Replacing(lost.ID))

	require.NoError(t, e.svc.Operator("op-7").DeleteUser(ctx, "alice"))
	devs, err := e.svc.Devices(ctx, "alice")
	require.NoError(t, err)
	require.Empty(t, devs)
	f, err := e.svc.Factors(ctx, "alice")
	require.NoError(t, err)
	require.Empty(t, f.Devices)
}
