package authn_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline"
	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/memstore"
	"github.com/keyline/keyline/enroll"
)

func TestTooManyAttempts(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p, _ := e.enrollPhone(t, "alice", nil)
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	for range 3 {
		_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, "00000000")
		require.ErrorIs(t, err, authn.ErrInvalidCode)
	}
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	require.ErrorIs(t, err, authn.ErrTooManyAttempts)
	// The fifth failure locks, and says so, and is still a wrong code.
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	require.ErrorIs(t, err, authn.ErrLocked, "five failures counted")
	require.ErrorIs(t, err, authn.ErrInvalidCode)
}

func TestChallengeBudget(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.enrollPhone(t, "alice", nil)
	var first authn.Challenge
	for i := range 10 {
		ch, err := e.svc.BeginChallenge(ctx, "alice")
		require.NoError(t, err)
		if i == 0 {
			first = ch
		}
	}
	_, err := e.svc.BeginChallenge(ctx, "alice")
	require.ErrorIs(t, err, authn.ErrTooManyChallenges)
	// Only 3 are outstanding: the first was voided long ago.
	_, err = e.svc.FinishChallenge(ctx, "alice", first.ID, "00000000")
	require.ErrorIs(t, err, authn.ErrInvalidCode)
	e.clock.Advance(time.Minute)
	_, err = e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
}

func TestReplayOfAnOlderStep(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p, _ := e.enrollPhone(t, "alice", nil)
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	require.NoError(t, err)

	// Two logins in one step each pass with their own challenge.
	ch, err = e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	require.NoError(t, err)

	// A response for the step before the last accepted one never passes,
	// though it is inside the window.
	p.skew = -30 * time.Second
	ch, err = e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	require.ErrorIs(t, err, authn.ErrReplay)
	require.ErrorIs(t, err, authn.ErrInvalidCode)
	st, err := e.store.User(ctx, "alice", e.clock.Now())
	require.NoError(t, err)
	require.Equal(t, 1, st.Failures, "a replay counts as a failure")
}

func TestExpiredChallenge(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p, _ := e.enrollPhone(t, "alice", nil)
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	e.clock.Advance(authn.DefaultChallengeTTL)
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	require.ErrorIs(t, err, authn.ErrExpired)
}

func TestRevocationVoidsChallenges(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p, d := e.enrollPhone(t, "alice", nil)
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	res, err := e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	require.NoError(t, err)

	ch, err = e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	require.ErrorIs(t, e.svc.RevokeDevice(ctx, "alice", d.ID, nil), authn.ErrProofRequired)
	require.NoError(t, e.svc.RevokeDevice(ctx, "alice", d.ID, res.Proof))
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	require.ErrorIs(t, err, authn.ErrExpired)
	require.ErrorIs(t, e.svc.RevokeDevice(ctx, "alice", d.ID, res.Proof), authn.ErrNotFound)
}

func TestProofs(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p, _ := e.enrollPhone(t, "alice", nil)
	e.enrollPhone(t, "bob", nil)
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	res, err := e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	require.NoError(t, err)

	// Another user's proof.
	_, err = e.svc.StartActivation(ctx, "bob", res.Proof)
	require.ErrorIs(t, err, authn.ErrProofRequired)
	// A forged one.
	forged := *res.Proof
	forged.MAC = append([]byte(nil), res.Proof.MAC...)
	forged.MAC[0] ^= 1
	_, err = e.svc.StartActivation(ctx, "alice", &forged)
	require.ErrorIs(t, err, authn.ErrProofRequired)
	// One moved in time.
	moved := *res.Proof
	moved.At = moved.At.Add(time.Minute)
	_, err = e.svc.StartActivation(ctx, "alice", &moved)
	require.ErrorIs(t, err, authn.ErrProofRequired)
	// A stale one.
	e.clock.Advance(authn.DefaultProofTTL + time.Second)
	_, err = e.svc.StartActivation(ctx, "alice", res.Proof)
	require.ErrorIs(t, err, authn.ErrProofRequired)
}

func TestPairing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	offer, err := e.svc.StartActivation(ctx, "alice", nil)
	require.NoError(t, err)
	cred, req, err := enroll.Activate(offer, enroll.DeviceInfo{InstallID: "i1", Integrity: enroll.Intact}, e.clock.Now())
	require.NoError(t, err)
	act, err := e.svc.CompleteActivation(ctx, req)
	require.NoError(t, err)
	require.NoError(t, cred.CheckServerConfirm(act.ServerConfirm))

	// A pending device answers nothing.
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	r, err := cred.Respond(ch.Question, e.clock.Now())
	require.NoError(t, err)
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, r)
	require.ErrorIs(t, err, authn.ErrInvalidCode)

	wrong := "000000"
	if cred.PairingCode() == wrong {
		wrong = "111111"
	}
	for range 3 {
		_, err = e.svc.ConfirmActivation(ctx, "alice", offer.SessionID, wrong)
		require.ErrorIs(t, err, authn.ErrWrongPairingCode)
	}
	require.ErrorIs(t, err, authn.ErrPairingDiscarded, "the third wrong code discards the device")
	_, err = e.svc.ConfirmActivation(ctx, "alice", offer.SessionID, cred.PairingCode())
	require.ErrorIs(t, err, authn.ErrPairingDiscarded, "the right code after the third wrong one")
	devs, err := e.svc.Devices(ctx, "alice")
	require.NoError(t, err)
	require.Empty(t, devs)
	st, err := e.svc.ActivationStatus(ctx, "alice", offer.SessionID)
	require.NoError(t, err)
	require.Equal(t, authn.ActivationDiscarded, st.State)
}

func TestCompleteActivationOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	offer, err := e.svc.StartActivation(ctx, "alice", nil)
	require.NoError(t, err)
	_, req, err := enroll.Activate(offer, enroll.DeviceInfo{InstallID: "i1"}, e.clock.Now())
	require.NoError(t, err)
	_, req2, err := enroll.Activate(offer, enroll.DeviceInfo{InstallID: "i2"}, e.clock.Now())
	require.NoError(t, err)
	act, err := e.svc.CompleteActivation(ctx, req)
	require.NoError(t, err)

	_, err = e.svc.CompleteActivation(ctx, req2)
	require.ErrorIs(t, err, authn.ErrAlreadyUsed)
	var au *enroll.AlreadyUsedError
	require.False(t, errors.As(err, &au))

	_, err = e.svc.CompleteActivation(ctx, req)
	require.ErrorAs(t, err, &au)
	require.ErrorIs(t, err, authn.ErrAlreadyUsed)
	require.Equal(t, act.ServerConfirm, au.ServerConfirm)
	require.Equal(t, act.Device.ID, au.Device.ID)

	// Typed session IDs: a typo, an unknown one.
	_, err = e.svc.Offer(ctx, "0000-0000-0000-0000-1")
	require.ErrorIs(t, err, authn.ErrSessionIDTypo)
	o2, err := e.svc.StartActivation(ctx, "carol", nil)
	require.NoError(t, err)
	got, err := e.svc.Offer(ctx, o2.SessionID)
	require.NoError(t, err)
	require.Equal(t, o2.URI(), got.URI())
	// Starting again voids the earlier one.
	_, err = e.svc.StartActivation(ctx, "carol", nil)
	require.NoError(t, err)
	_, err = e.svc.Offer(ctx, o2.SessionID)
	require.ErrorIs(t, err, authn.ErrUnknownSession)
}

func TestAlreadyEnrolledAndDeviceLimit(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *authn.Config) { c.MaxDevicesPerUser = 1; c.SkipPairing = true })
	offer, err := e.svc.StartActivation(ctx, "alice", nil)
	require.NoError(t, err)
	cred, req, err := enroll.Activate(offer, enroll.DeviceInfo{InstallID: "i1"}, e.clock.Now())
	require.NoError(t, err)
	act, err := e.svc.CompleteActivation(ctx, req)
	require.NoError(t, err)
	require.Equal(t, authn.DeviceActive, act.Device.State, "SkipPairing activates at once")
	require.NoError(t, cred.CheckServerConfirm(act.ServerConfirm))

	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	r, _ := cred.Respond(ch.Question, e.clock.Now())
	res, err := e.svc.FinishChallenge(ctx, "alice", ch.ID, r)
	require.NoError(t, err)

	offer, err = e.svc.StartActivation(ctx, "alice", res.Proof)
	require.NoError(t, err)
	_, req, err = enroll.Activate(offer, enroll.DeviceInfo{InstallID: "i1"}, e.clock.Now())
	require.NoError(t, err)
	_, err = e.svc.CompleteActivation(ctx, req)
	require.ErrorIs(t, err, authn.ErrAlreadyEnrolled)

	offer, err = e.svc.StartActivation(ctx, "alice", res.Proof)
	require.NoError(t, err)
	_, req, err = enroll.Activate(offer, enroll.DeviceInfo{InstallID: "i2"}, e.clock.Now())
	require.NoError(t, err)
	_, err = e.svc.CompleteActivation(ctx, req)
	require.ErrorIs(t, err, authn.ErrTooManyDevices)
}

// failing is a hot store whose challenge path fails.
type failing struct{ authn.HotStore }

func (failing) Attempt(context.Context, string, string, *authn.ChallengeAnswer, authn.LockPolicy, time.Time) (authn.AttemptResult, error) {
	return authn.AttemptResult{}, errors.New("connection refused")
}

func TestStoreUnavailable(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	svc, err := authn.New(authn.Config{Hot: failing{e.store}, Records: e.store, Keys: newKeyring(t), Issuer: "x", Clock: e.clock.Now})
	require.NoError(t, err)
	_, err = svc.FinishChallenge(ctx, "alice", "id", "12345678")
	require.ErrorIs(t, err, authn.ErrStoreUnavailable)
	require.NotErrorIs(t, err, authn.ErrInvalidCode)
}

func TestConfigValidation(t *testing.T) {
	base := func() authn.Config {
		ms := memstore.New() // the hot state and the records, in memory
		return authn.Config{Hot: ms, Records: ms, Keys: newKeyring(t), Issuer: "x"}
	}
	for field, mod := range map[string]func(*authn.Config){
		"Hot":                     func(c *authn.Config) { c.Hot = nil },
		"Records":                 func(c *authn.Config) { c.Records = nil },
		"Keys":                    func(c *authn.Config) { c.Keys = nil },
		"Issuer":                  func(c *authn.Config) { c.Issuer = "" },
		"Suite":                   func(c *authn.Config) { c.Suite = mustSuite("OCRA-1:HOTP-SHA1-6:QN08") },
		"Window":                  func(c *authn.Config) { c.Window = 3 },
		"ResyncWindow":            func(c *authn.Config) { c.ResyncWindow = 11 },
		"ChallengeTTL":            func(c *authn.Config) { c.ChallengeTTL = -time.Second },
		"LockoutMax":              func(c *authn.Config) { c.LockoutBase, c.LockoutMax = time.Hour, time.Minute },
		"MaxFailures":             func(c *authn.Config) { c.MaxFailures = -1 },
		"MaxAttemptsPerChallenge": func(c *authn.Config) { c.MaxAttemptsPerChallenge = 11 },
		"ChallengeBudget.PerMinute": func(c *authn.Config) {
			c.ChallengeBudget.PerMinute = 1000
		},
	} {
		c := base()
		mod(&c)
		_, err := authn.New(c)
		require.ErrorIs(t, err, authn.ErrInvalidConfig, field)
		require.Contains(t, err.Error(), field)
	}
	_, err := authn.New(base())
	require.NoError(t, err)

	// An engine that keeps both halves is one value, passed as both: as
	// Hot beside another engine's records it would check epochs against
	// records that never change.
	c := base()
	c.Records = memstore.New()
	_, err = authn.New(c)
	require.ErrorIs(t, err, authn.ErrInvalidConfig)
	require.ErrorContains(t, err, "Hot")
}

// A phone whose clock ran off after a lockout still resynchronises: the
// failure that finds the drift may lock the user, and the next challenge
// then outlives the lock.
func TestResyncAfterLockout(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p, _ := e.enrollPhone(t, "alice", nil)
	for range 5 {
		ch, err := e.svc.BeginChallenge(ctx, "alice")
		require.NoError(t, err)
		_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, "00000000")
		require.ErrorIs(t, err, authn.ErrInvalidCode)
	}
	e.clock.Advance(time.Minute)
	p.skew = 3 * 30 * time.Second
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	var re *authn.ResyncError
	require.ErrorAs(t, err, &re)
	require.Greater(t, re.RetryAfter, time.Duration(0), "this failure locked the user again")

	_, err = e.svc.FinishChallenge(ctx, "alice", re.Next.ID, p.respond(t, re.Next.Question))
	require.ErrorIs(t, err, authn.ErrLocked, "nothing is checked while locked")
	e.clock.Advance(re.RetryAfter)
	res, err := e.svc.FinishChallenge(ctx, "alice", re.Next.ID, p.respond(t, re.Next.Question))
	require.NoError(t, err)
	require.Equal(t, 3, res.Drift)
}

func TestForeignProofRefusedEvenForFirstDevice(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p, _ := e.enrollPhone(t, "alice", nil)
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	res, err := e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	require.NoError(t, err)
	_, err = e.svc.StartActivation(ctx, "newcomer", res.Proof)
	require.ErrorIs(t, err, authn.ErrProofRequired)
	_, err = e.svc.StartActivation(ctx, "newcomer", nil)
	require.NoError(t, err)
}

// A device enrolled under another suite (Config.Suite changed since) is
// not asked: it could not answer with the service's suite.
func TestDeviceOfAnotherSuiteIsSkipped(t *testing.T) {
	ctx := context.Background()
	kr := newKeyring(t)
	e := newEnv(t, func(c *authn.Config) { c.Suite = mustSuite("OCRA-1:HOTP-SHA1-8:QN06-T30S"); c.Keys = kr })
	p, _ := e.enrollPhone(t, "alice", nil)
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	require.NoError(t, err, "under its own suite it answers")

	svc2, err := authn.New(authn.Config{Hot: e.store, Records: e.store, Keys: kr, Issuer: "Example Bank", Clock: e.clock.Now})
	require.NoError(t, err)
	e.clock.Advance(time.Minute)
	ch, err = svc2.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = svc2.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	require.ErrorIs(t, err, authn.ErrInvalidCode)
}

// TestLoginErrorsNameTheLoginPath: an error of the login path says what
// failed on that path (a challenge, a push request, the user ID), never
// "activation" nor another package's name, and still matches the shared
// value under errors.Is.
func TestLoginErrorsNameTheLoginPath(t *testing.T) {
	ctx := context.Background()
	loginText := func(t *testing.T, err error, want string) {
		t.Helper()
		require.Error(t, err)
		require.Contains(t, err.Error(), want)
		require.NotContains(t, err.Error(), "activation")
		require.NotContains(t, err.Error(), "enroll")
	}

	// An expired login challenge.
	e, n := pushEnv(t)
	p, _ := e.enrollPhone(t, "alice", nil)
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	answer := p.respond(t, ch.Question)
	e.clock.Advance(ch.ExpiresAt.Sub(e.clock.Now()) + time.Second)
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, answer)
	require.ErrorIs(t, err, authn.ErrExpired)
	require.ErrorIs(t, err, keyline.ErrExpired)
	require.EqualError(t, err, "challenge expired", "safe to show: no prefix, nothing quoted")
	loginText(t, err, "challenge expired")

	// A second FinishPush of an approved push request.
	req, err := e.svc.BeginPush(ctx, "alice", loginCtx)
	require.NoError(t, err)
	pr := receive(t, n, p, e.clock.Now())
	a, err := p.cred.AnswerPush(pr, true, req.Number, e.clock.Now())
	require.NoError(t, err)
	require.NoError(t, e.device(t, p).AnswerPush(ctx, a))
	_, err = e.svc.FinishPush(ctx, "alice", req.ID)
	require.NoError(t, err)
	_, err = e.svc.FinishPush(ctx, "alice", req.ID)
	require.ErrorIs(t, err, authn.ErrAlreadyUsed)
	require.ErrorIs(t, err, keyline.ErrAlreadyUsed)
	loginText(t, err, "push request already used")

	// An empty user.
	_, err = e.svc.BeginChallenge(ctx, "")
	require.ErrorIs(t, err, authn.ErrInvalidInput)
	require.ErrorIs(t, err, keyline.ErrInvalidInput)
	loginText(t, err, "user ID")
	require.True(t, strings.HasPrefix(err.Error(), "authn: invalid input: "), "%q: a caller's mistake names the package it called", err)
}
