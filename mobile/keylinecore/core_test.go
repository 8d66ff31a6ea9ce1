package keylinecore_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/mobile/keylinecore"
)

// newPhone is a phone with a vault, on a server's clock.
func newPhone(t *testing.T, s *server) *keylinecore.Phone {
	t.Helper()
	p, err := keylinecore.NewPhone(config("phone"), newStorage(), newHWKey(), nil, phoneClock{server: s.kit.Clock})
	require.NoError(t, err)
	require.NoError(t, p.CreateVault(pin))
	return p
}

// activate activates and pairs user's account on the phone.
func activate(t *testing.T, p *keylinecore.Phone, s *server, user string) string {
	t.Helper()
	ctx := context.Background()
	offer, err := s.kit.Service.StartActivation(ctx, user, nil)
	require.NoError(t, err)
	act, err := p.Activate(s.url, offer.URI(), nil)
	require.NoError(t, err)
	_, err = s.kit.Service.ConfirmActivation(ctx, user, offer.SessionID, act.PairingCode)
	require.NoError(t, err)
	paired, err := p.CheckPaired(act.AccountID, nil)
	require.NoError(t, err)
	require.True(t, paired)
	return act.AccountID
}

type attester struct {
	mu   sync.Mutex
	seen [][]byte
	fail bool
}

func (a *attester) Attest(challenge []byte) ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seen = append(a.seen, append([]byte(nil), challenge...))
	if a.fail {
		return nil, errors.New("app attest is unavailable")
	}
	return append([]byte("attested:"), challenge...), nil
}

// An Attester's attestation, over the offer's challenge, reaches the
// server's VerifyDevice; without one, a server that requires it refuses.
func TestAttestation(t *testing.T) {
	ctx := context.Background()
	var got []enroll.DeviceInfo
	var challenges [][]byte
	s := newServer(t, authntest.Start(), "Example Bank", authntest.WithConfig(func(c *authn.Config) {
		c.VerifyDevice = func(_ context.Context, _ string, dev enroll.DeviceInfo, challenge []byte) error {
			got = append(got, dev)
			challenges = append(challenges, challenge)
			if len(dev.Attestation) == 0 {
				return errors.New("attestation required")
			}
			return nil
		}
	}))
	cfg := config("phone")
	cfg.Integrity = "intact"
	p, err := keylinecore.NewPhone(cfg, newStorage(), newHWKey(), nil, phoneClock{server: s.kit.Clock})
	require.NoError(t, err)
	require.NoError(t, p.CreateVault(pin))

	offer, err := s.kit.Service.StartActivation(ctx, "alice", nil)
	require.NoError(t, err)
	_, err = p.Activate(s.url, offer.URI(), nil)
	require.Equal(t, keylinecore.CodeDeviceIntegrity, code(err))

	a := &attester{fail: true}
	p.SetAttester(a)
	offer, err = s.kit.Service.StartActivation(ctx, "alice", nil)
	require.NoError(t, err)
	_, err = p.Activate(s.url, offer.URI(), nil)
	require.Equal(t, keylinecore.CodeAttestation, code(err))
	require.Len(t, got, 1, "nothing was sent")

	a.fail = false
	_, err = p.Activate(s.url, offer.URI(), nil)
	require.NoError(t, err)
	require.Len(t, got, 2)
	want := offer.AttestationChallenge(p.InstallID())
	require.Equal(t, want, a.seen[1])
	require.Equal(t, want, challenges[1], "the challenge the server checks is the one the phone attested")
	require.Equal(t, append([]byte("attested:"), want...), got[1].Attestation)
	require.Equal(t, enroll.Intact, got[1].Integrity)

	cfg.Integrity = "fine"
	_, err = keylinecore.NewPhone(cfg, newStorage(), nil, nil, nil)
	require.Equal(t, keylinecore.CodeInvalidInput, code(err))
}

// A pairing not done by the offer's expiry plus 10 minutes drops the
// credential (PROTOCOL.md §11, "Pairing status").
func TestPairingExpires(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, authntest.Start(), "Example Bank")
	p := newPhone(t, s)
	offer, err := s.kit.Service.StartActivation(ctx, "alice", nil)
	require.NoError(t, err)
	act, err := p.Activate(s.url, offer.URI(), nil)
	require.NoError(t, err)
	require.Equal(t, offer.ExpiresAt.Add(10*time.Minute).Unix(), act.PairByUnix)
	s.kit.Clock.Set(offer.ExpiresAt.Add(10 * time.Minute))
	paired, err := p.CheckPaired(act.AccountID, nil)
	require.NoError(t, err)
	require.False(t, paired, "still within the bound")
	s.kit.Clock.Advance(time.Second)
	_, err = p.CheckPaired(act.AccountID, nil)
	require.Equal(t, keylinecore.CodeExpired, code(err))
	l, err := p.Accounts()
	require.NoError(t, err)
	require.Zero(t, l.Len())
}

// A push token that did not reach a server is sent again by the next
// SetPushToken; the accounts that had it are not asked again.
func TestPushTokenRetried(t *testing.T) {
	bank := newServer(t, authntest.Start(), "Example Bank")
	broker := newServer(t, authntest.Start(), "Example Broker")
	p := newPhone(t, bank)
	activate(t, p, bank, "alice")
	activate(t, p, broker, "carol")

	broker.down.Store(true)
	err := p.SetPushToken("apns:2", nil)
	require.Equal(t, keylinecore.CodeUnreachable, code(err))
	require.Contains(t, err.Error(), "1 of 2 accounts")
	require.Equal(t, 1, p.PushTokenPending())

	broker.down.Store(false)
	require.NoError(t, p.SetPushToken("apns:2", nil))
	require.Zero(t, p.PushTokenPending())
}

// A notification for a request that notified no account of the server;
// a backup whose servers do not name an account, which adds nothing.
func TestRefusals(t *testing.T) {
	bank := newServer(t, authntest.Start(), "Example Bank")
	p := newPhone(t, bank)
	id := activate(t, p, bank, "alice")
	_, err := p.FetchPushForServer(bank.url, "req-unknown", nil)
	require.Equal(t, keylinecore.CodeNotFound, code(err))
	_, err = p.Respond("00000000000000000000000000000000", "12345678")
	require.Equal(t, keylinecore.CodeNoAccount, code(err))

	b, err := p.ExportBackup()
	require.NoError(t, err)
	other := newPhone(t, bank)
	_, err = other.ImportBackup(b.Blob, b.Passphrase, `{}`)
	require.Equal(t, keylinecore.CodeInvalidInput, code(err))
	_, err = other.ImportBackup(b.Blob, b.Passphrase, `{"`+id+`":"keyline://x"}`)
	require.Equal(t, keylinecore.CodeInvalidInput, code(err))
	l, err := other.Accounts()
	require.NoError(t, err)
	require.Zero(t, l.Len(), "all or nothing")
	n, err := other.ImportBackup(b.Blob, b.Passphrase, b.Servers)
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

// A notification is matched to the account it notified even when
// another account of the server turns out removed on the way (which is
// recorded).
func TestNotificationWithARemovedAccount(t *testing.T) {
	ctx := context.Background()
	bank := newServer(t, authntest.Start(), "Example Bank")
	p := newPhone(t, bank)
	require.NoError(t, p.SetPushToken("fcm:1", nil))
	alice := activate(t, p, bank, "alice")
	bob := activate(t, p, bank, "bob")
	proof, err := bank.kit.Service.Operator("helpdesk").Proof(ctx, "alice", "lost phone")
	require.NoError(t, err)
	require.NoError(t, bank.kit.Service.RevokeDevice(ctx, "alice", alice, proof))
	req, err := bank.kit.Service.BeginPush(ctx, "bob", enroll.PushContext{Action: "Login"})
	require.NoError(t, err)
	pr, err := p.FetchPushForServer(bank.url, bank.note(t, bob).RequestID, nil)
	require.NoError(t, err)
	require.Equal(t, bob, pr.AccountID)
	require.NoError(t, p.AnswerPush(pr, true, req.Number, nil))
	a, err := p.Account(alice)
	require.NoError(t, err)
	require.NotZero(t, a.RemovedUnix)
}

// presenceKey is a biometric key: a KeyStore whose Unwrap the platform
// performs only once the user is present (here, unless refused).
type presenceKey struct {
	*hwKey
	unwraps atomic.Int32
	refuse  atomic.Bool
}

func (k *presenceKey) Unwrap(wrapped []byte) ([]byte, error) {
	k.unwraps.Add(1)
	if k.refuse.Load() {
		return nil, errors.New("the user cancelled Face ID")
	}
	return k.hwKey.Unwrap(wrapped)
}

// Biometric unlock through the core: enabled with the PIN, the vault
// opens with the biometric key alone and answers; a refused key falls
// back to the PIN; disabled, only the PIN opens it.
func TestBiometricUnlock(t *testing.T) {
	ctx := context.Background()
	bank := newServer(t, authntest.Start(), "Example Bank")
	p := newPhone(t, bank)
	id := activate(t, p, bank, "alice")
	key := &presenceKey{hwKey: newHWKey()}

	has, err := p.HasBiometricUnlock()
	require.NoError(t, err)
	require.False(t, has)
	require.Equal(t, keylinecore.CodeWrongPIN, code(p.EnableBiometricUnlock("9999", key)))
	require.NoError(t, p.EnableBiometricUnlock(pin, key))
	has, err = p.HasBiometricUnlock()
	require.NoError(t, err)
	require.True(t, has)

	p.Lock()
	require.NoError(t, p.UnlockWithBiometrics(key))
	require.Equal(t, int32(1), key.unwraps.Load())
	ch, err := bank.kit.Service.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	resp, err := p.Respond(id, ch.Question)
	require.NoError(t, err)
	_, err = bank.kit.Service.FinishChallenge(ctx, "alice", ch.ID, resp)
	require.NoError(t, err)

	p.Lock()
	key.refuse.Store(true)
	require.Equal(t, keylinecore.CodeKeyStore, code(p.UnlockWithBiometrics(key)))
	require.False(t, p.Unlocked())
	require.NoError(t, p.Unlock(pin))

	require.NoError(t, p.DisableBiometricUnlock())
	has, err = p.HasBiometricUnlock()
	require.NoError(t, err)
	require.False(t, has)
	p.Lock()
	key.refuse.Store(false)
	require.Equal(t, keylinecore.CodeKeyStore, code(p.UnlockWithBiometrics(key)))
}
