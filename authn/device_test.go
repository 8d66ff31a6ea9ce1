package authn_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/enroll"
)

// deviceKit is a kit whose configuration is kept, so that a second
// Service instance can share its store and keyring, with an observer of
// the events and a log in a buffer.
type deviceKit struct {
	*authntest.Kit
	cfg    authn.Config
	events *eventLog
	log    *syncBuffer
}

type eventLog struct {
	mu  sync.Mutex
	all []authn.Event
}

func (l *eventLog) Observe(_ context.Context, e authn.Event) {
	l.mu.Lock()
	l.all = append(l.all, e)
	l.mu.Unlock()
}

// reasons returns the reasons of the events named name, in order.
func (l *eventLog) reasons(name string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.all {
		if string(e.Name) == name {
			out = append(out, string(e.Reason))
		}
	}
	return out
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func newDeviceKit(t testing.TB, mod ...func(*authn.Config)) *deviceKit {
	k := &deviceKit{events: &eventLog{}, log: &syncBuffer{}}
	k.Kit = authntest.New(t, authntest.WithLogger(slog.New(slog.NewTextHandler(k.log, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		authntest.WithConfig(func(c *authn.Config) {
			c.Observer = k.events
			for _, f := range mod {
				f(c)
			}
			k.cfg = *c
		}))
	return k
}

// twin is a second Service instance on the kit's store and keyring.
func (k *deviceKit) twin(t testing.TB) *authn.Service {
	s, err := authn.New(k.cfg)
	require.NoError(t, err)
	return s
}

// signed is what a device API server reads from a request the phone
// signed: the request and its MAC.
func signed(t testing.TB, c *enroll.Credential, method, path, query string, body []byte, now time.Time) (enroll.APIRequest, []byte) {
	t.Helper()
	h, err := c.SignAPIRequest(method, path, query, body, now)
	require.NoError(t, err)
	r, mac, err := enroll.ParseAPIAuthorization(h)
	require.NoError(t, err)
	r.Method, r.Path, r.Query, r.BodyHash = method, path, query, sha256.Sum256(body)
	return r, mac
}

func TestAuthenticateDevice(t *testing.T) {
	ctx := context.Background()
	k := newDeviceKit(t)
	phone := k.Enroll("alice")
	c := phone.Credential()

	r, mac := signed(t, c, "GET", "/v1/pushes", "", nil, k.Clock.Now())
	d, err := k.Service.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
	require.NoError(t, err)
	require.Equal(t, phone.DeviceID(), d.Device().ID)
	require.Equal(t, "alice", d.Device().User)
	require.Equal(t, authn.DeviceActive, d.Device().State)

	// The same request again, on this instance or another sharing the
	// store: a replay.
	_, err = k.Service.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
	require.ErrorIs(t, err, authn.ErrAPIReplay)
	_, err = k.twin(t).AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
	require.ErrorIs(t, err, authn.ErrAPIReplay)

	// Any change of what the MAC covers: ErrDeviceAuth.
	for name, alter := range map[string]func(r *enroll.APIRequest){
		"method": func(r *enroll.APIRequest) { r.Method = "POST" },
		"path":   func(r *enroll.APIRequest) { r.Path = "/v1/push" },
		"query":  func(r *enroll.APIRequest) { r.Query = "id=1" },
		"body":   func(r *enroll.APIRequest) { r.BodyHash = sha256.Sum256([]byte("{}")) },
	} {
		r, mac := signed(t, c, "GET", "/v1/pushes", "", nil, k.Clock.Now())
		alter(&r)
		_, err := k.Service.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
		require.Equal(t, authn.ErrDeviceAuth, err, name)
	}
	require.Equal(t, []string{"replay", "replay", "bad_mac", "bad_mac", "bad_mac", "bad_mac"}, k.events.reasons("device_auth_failed"))
}

func TestAuthenticateDeviceTimeWindow(t *testing.T) {
	ctx := context.Background()
	k := newDeviceKit(t)
	c := k.Enroll("alice").Credential()
	for _, tc := range []struct {
		skew time.Duration
		ok   bool
	}{
		{-enroll.APIMaxSkew, true}, {enroll.APIMaxSkew, true},
		{-enroll.APIMaxSkew - time.Second, false}, {enroll.APIMaxSkew + time.Second, false},
		{-time.Hour, false}, {24 * time.Hour, false},
	} {
		r, mac := signed(t, c, "GET", "/v1/pushes", "", nil, k.Clock.Now().Add(tc.skew))
		_, err := k.Service.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
		if tc.ok {
			require.NoError(t, err, "skew %v", tc.skew)
		} else {
			require.ErrorIs(t, err, authn.ErrAPIRequestTime, "skew %v", tc.skew)
		}
	}

	// A nonce is remembered for as long as its request could be
	// accepted: a replay just inside the window is still refused.
	r, mac := signed(t, c, "GET", "/v1/pushes", "", nil, k.Clock.Now())
	_, err := k.Service.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
	require.NoError(t, err)
	k.Clock.Advance(enroll.APIMaxSkew)
	_, err = k.Service.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
	require.ErrorIs(t, err, authn.ErrAPIReplay)
	k.Clock.Advance(time.Second)
	_, err = k.Service.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
	require.ErrorIs(t, err, authn.ErrAPIRequestTime)
}

// Unknown device, bad MAC, revoked device and a device not yet paired
// get the very same error; the audit log has the reason.
func TestAuthenticateDeviceRefusalsAreAlike(t *testing.T) {
	ctx := context.Background()
	k := newDeviceKit(t)
	alice := k.Enroll("alice")
	bob := k.Enroll("bob")
	now := k.Clock.Now()

	var errs []error
	// A bad MAC: bob's key for alice's device.
	r, _ := signed(t, alice.Credential(), "GET", "/v1/pushes", "", nil, now)
	_, bobMAC := signed(t, bob.Credential(), "GET", "/v1/pushes", "", nil, now)
	_, err := k.Service.AuthenticateDevice(ctx, r, bobMAC, authn.DeviceLimit{})
	errs = append(errs, err)

	// An unknown device: another ID, another user.
	r, mac := signed(t, alice.Credential(), "GET", "/v1/pushes", "", nil, now)
	r.DeviceID = "0123456789abcdef0123456789abcdef"
	_, err = k.Service.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
	errs = append(errs, err)
	r, mac = signed(t, alice.Credential(), "GET", "/v1/pushes", "", nil, now)
	r.User = "mallory"
	_, err = k.Service.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
	errs = append(errs, err)

	// A device completed but not paired.
	offer, err := k.Service.StartActivation(ctx, "carol", nil)
	require.NoError(t, err)
	cred, req, err := enroll.Activate(offer, enroll.DeviceInfo{InstallID: "carol-1", Integrity: enroll.Intact}, now)
	require.NoError(t, err)
	act, err := k.Service.CompleteActivation(ctx, req)
	require.NoError(t, err)
	require.NoError(t, cred.CheckServerConfirm(act.ServerConfirm))
	r, mac = signed(t, cred, "GET", "/v1/pushes", "", nil, now)
	_, err = k.Service.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
	errs = append(errs, err)

	// A revoked device.
	proof := k.Login("alice", alice).Proof
	require.NoError(t, k.Service.RevokeDevice(ctx, "alice", alice.DeviceID(), proof))
	r, mac = signed(t, alice.Credential(), "GET", "/v1/pushes", "", nil, now)
	_, err = k.Service.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
	errs = append(errs, err)

	for _, err := range errs {
		require.Equal(t, authn.ErrDeviceAuth, err, "the very same value")
	}
	require.Equal(t, []string{"bad_mac", "unknown_device", "unknown_device", "not_active", "unknown_device"},
		k.events.reasons("device_auth_failed"))
}

func TestAuthenticateDeviceRateLimit(t *testing.T) {
	ctx := context.Background()
	k := newDeviceKit(t)
	alice := k.Enroll("alice")
	bob := k.Enroll("bob")
	lim := authn.DeviceLimit{Requests: 3, Window: time.Minute}
	twin := k.twin(t)
	for i := range 3 {
		svc := []*authn.Service{k.Service, twin}[i%2] // the budget is the store's, across instances
		r, mac := signed(t, alice.Credential(), "GET", "/v1/pushes", "", nil, k.Clock.Now())
		_, err := svc.AuthenticateDevice(ctx, r, mac, lim)
		require.NoError(t, err)
	}
	r, mac := signed(t, alice.Credential(), "GET", "/v1/pushes", "", nil, k.Clock.Now())
	_, err := twin.AuthenticateDevice(ctx, r, mac, lim)
	require.ErrorIs(t, err, authn.ErrRateLimited)

	// Another device has its own budget; failures spend none.
	r, _ = signed(t, bob.Credential(), "GET", "/v1/pushes", "", nil, k.Clock.Now())
	for range 5 {
		_, err := k.Service.AuthenticateDevice(ctx, r, make([]byte, 32), lim)
		require.ErrorIs(t, err, authn.ErrDeviceAuth)
	}
	for range 3 {
		r, mac := signed(t, bob.Credential(), "GET", "/v1/pushes", "", nil, k.Clock.Now())
		_, err := k.Service.AuthenticateDevice(ctx, r, mac, lim)
		require.NoError(t, err)
	}

	// The window ends.
	k.Clock.Advance(time.Minute)
	r, mac = signed(t, alice.Credential(), "GET", "/v1/pushes", "", nil, k.Clock.Now())
	_, err = k.Service.AuthenticateDevice(ctx, r, mac, lim)
	require.NoError(t, err)
	require.Equal(t, []string{""}, k.events.reasons("device_rate_limited"))
}

func TestAuthenticateDeviceRefusesMalformed(t *testing.T) {
	ctx := context.Background()
	k := newDeviceKit(t)
	c := k.Enroll("alice").Credential()
	r, mac := signed(t, c, "GET", "/v1/pushes", "", nil, k.Clock.Now())
	r.Method = "get"
	_, err := k.Service.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
	require.ErrorIs(t, err, authn.ErrInvalidAPIRequest)
	r.Method, r.Nonce = "GET", r.Nonce[:8]
	_, err = k.Service.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
	require.ErrorIs(t, err, authn.ErrInvalidAPIRequest)
	require.Empty(t, k.events.reasons("device_auth_failed"), "refused before anything is looked up")
}

func TestUseDeviceNonce(t *testing.T) {
	ctx := context.Background()
	k := newDeviceKit(t)
	now := k.Clock.Now()
	nonce := bytes.Repeat([]byte{9}, enroll.APINonceSize)
	dev := "00112233445566778899aabbccddeeff"
	require.NoError(t, authn.UseDeviceNonce(k.Service, ctx, "alice", dev, nonce, now))
	require.ErrorIs(t, authn.UseDeviceNonce(k.twin(t), ctx, "alice", dev, nonce, now), authn.ErrAPIReplay)
	require.NoError(t, authn.UseDeviceNonce(k.Service, ctx, "bob", dev, nonce, now), "per user")
	require.NoError(t, authn.UseDeviceNonce(k.Service, ctx, "alice", "ffeeddccbbaa99887766554433221100", nonce, now), "per device")
	require.ErrorIs(t, authn.UseDeviceNonce(k.Service, ctx, "alice", dev, nonce[:15], now), authn.ErrInvalidAPIRequest)
	require.ErrorIs(t, authn.UseDeviceNonce(k.Service, ctx, "alice", "zz112233445566778899aabbccddeeff", nonce, now), authn.ErrInvalidAPIRequest)
	require.ErrorIs(t, authn.UseDeviceNonce(k.Service, ctx, "", dev, nonce, now), authn.ErrInvalidInput)
	require.ErrorIs(t, authn.UseDeviceNonce(k.Service, ctx, "alice", dev, bytes.Repeat([]byte{1}, 16), now.Add(-enroll.APIMaxSkew-time.Second)), authn.ErrAPIRequestTime)

	// Store keys carry the user encoded, never raw.
	user := "ünïcode:user/with:colons"
	require.NoError(t, authn.UseDeviceNonce(k.Service, ctx, user, dev, nonce, now))
	require.ErrorIs(t, authn.UseDeviceNonce(k.Service, ctx, user, dev, nonce, now), authn.ErrAPIReplay)
	require.NoError(t, k.Hot.TakeOnce(ctx, "api-nonce:"+base64.RawURLEncoding.EncodeToString([]byte(user))+":"+dev+":"+hex.EncodeToString(bytes.Repeat([]byte{8}, 16)), now.Add(time.Minute), now))
	require.ErrorIs(t, authn.UseDeviceNonce(k.Service, ctx, user, dev, bytes.Repeat([]byte{8}, 16), now), authn.ErrAPIReplay)
}

// Many requests at once, from many devices and two instances: each
// authentic request passes once, each replay fails, exactly.
func TestAuthenticateDeviceConcurrent(t *testing.T) {
	ctx := context.Background()
	k := newDeviceKit(t)
	twin := k.twin(t)
	var phones []*authntest.Phone
	for i := range 4 {
		phones = append(phones, k.Enroll(fmt.Sprintf("user-%d", i)))
	}
	type req struct {
		r   enroll.APIRequest
		mac []byte
	}
	var reqs []req
	for _, p := range phones {
		for range 10 {
			r, mac := signed(t, p.Credential(), "GET", "/v1/pushes", "", nil, k.Clock.Now())
			reqs = append(reqs, req{r, mac})
		}
	}
	var ok, replays atomic.Int32
	var wg sync.WaitGroup
	for i, rq := range reqs {
		for j := range 3 { // each request three times, on either instance
			wg.Add(1)
			go func() {
				defer wg.Done()
				svc := []*authn.Service{k.Service, twin}[(i+j)%2]
				_, err := svc.AuthenticateDevice(ctx, rq.r, rq.mac, authn.DeviceLimit{Requests: 100})
				switch err {
				case nil:
					ok.Add(1)
				case authn.ErrAPIReplay:
					replays.Add(1)
				default:
					t.Errorf("unexpected: %v", err)
				}
			}()
		}
	}
	wg.Wait()
	require.Equal(t, int32(len(reqs)), ok.Load())
	require.Equal(t, int32(2*len(reqs)), replays.Load())
}

func TestMigration(t *testing.T) {
	ctx := context.Background()
	k := newDeviceKit(t)
	old := k.Enroll("alice")
	other := k.Enroll("alice") // a second device of the same user
	auth := func(p *enroll.Credential) *authn.AuthenticatedDevice {
		t.Helper()
		r, mac := signed(t, p, "POST", "/v1/migration", "", []byte("{}"), k.Clock.Now())
		d, err := k.Service.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
		require.NoError(t, err)
		return d
	}

	// Only what AuthenticateDevice made is accepted: its fields are
	// unexported, so one cannot be built with a device's fields by hand,
	// and the zero or nil one is refused.
	_, err := (&authn.AuthenticatedDevice{}).StartMigration(ctx)
	require.Equal(t, authn.ErrDeviceAuth, err)
	_, err = (*authn.AuthenticatedDevice)(nil).StartMigration(ctx)
	require.Equal(t, authn.ErrDeviceAuth, err)
	require.Equal(t, authn.Device{}, (*authn.AuthenticatedDevice)(nil).Device())

	d := auth(old.Credential())
	offer, err := d.StartMigration(ctx)
	require.NoError(t, err)
	require.Equal(t, "alice", offer.User)
	st, err := d.MigrationStatus(ctx, offer.SessionID)
	require.NoError(t, err)
	require.Equal(t, authn.ActivationWaiting, st.State)

	// Another device of the user sees nothing of it.
	od := auth(other.Credential())
	_, err = od.MigrationStatus(ctx, offer.SessionID)
	require.ErrorIs(t, err, authn.ErrUnknownSession)

	// The new phone activates.
	cred, req, err := enroll.Activate(offer, enroll.DeviceInfo{InstallID: "new-phone", Name: "new", Integrity: enroll.Intact}, k.Clock.Now())
	require.NoError(t, err)
	act, err := k.Service.CompleteActivation(ctx, req)
	require.NoError(t, err)
	require.NoError(t, cred.CheckServerConfirm(act.ServerConfirm))
	st, err = d.MigrationStatus(ctx, offer.SessionID)
	require.NoError(t, err)
	require.Equal(t, authn.ActivationCompleted, st.State)

	// Only the old device confirms, with the new phone's code.
	_, err = od.ConfirmMigration(ctx, offer.SessionID, cred.PairingCode())
	require.ErrorIs(t, err, authn.ErrUnknownSession)
	wrong := "000000"
	if cred.PairingCode() == wrong {
		wrong = "111111"
	}
	_, err = d.ConfirmMigration(ctx, offer.SessionID, wrong)
	require.ErrorIs(t, err, authn.ErrWrongPairingCode)
	nd, err := d.ConfirmMigration(ctx, offer.SessionID, cred.PairingCode())
	require.NoError(t, err)
	require.Equal(t, cred.DeviceID(), nd.ID)
	require.Equal(t, authn.DeviceActive, nd.State)

	// The old device is gone; the other one and the new one remain.
	devs, err := k.Service.Devices(ctx, "alice")
	require.NoError(t, err)
	var ids []string
	for _, x := range devs {
		ids = append(ids, x.ID)
	}
	require.ElementsMatch(t, []string{other.DeviceID(), cred.DeviceID()}, ids)
	r, mac := signed(t, old.Credential(), "GET", "/v1/pushes", "", nil, k.Clock.Now())
	_, err = k.Service.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
	require.Equal(t, authn.ErrDeviceAuth, err)
	_ = auth(cred)
	require.Equal(t, []string{""}, k.events.reasons("device_migrated"))
}

// The step-up an authentication stands for lapses with ProofTTL.
func TestMigrationProofLapses(t *testing.T) {
	ctx := context.Background()
	k := newDeviceKit(t)
	c := k.Enroll("alice").Credential()
	r, mac := signed(t, c, "POST", "/v1/migration", "", []byte("{}"), k.Clock.Now())
	d, err := k.Service.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
	require.NoError(t, err)
	k.Clock.Advance(authn.DefaultProofTTL + time.Second)
	_, err = d.StartMigration(ctx)
	require.ErrorIs(t, err, authn.ErrProofRequired)
}

func TestAuthenticatedDevicePushes(t *testing.T) {
	ctx := context.Background()
	k := newDeviceKit(t)
	a1 := k.Enroll("alice")
	a2 := k.Enroll("alice")
	bob := k.Enroll("bob")
	auth := func(p *authntest.Phone) *authn.AuthenticatedDevice {
		t.Helper()
		r, mac := signed(t, p.Credential(), "GET", "/v1/pushes", "", nil, k.Clock.Now())
		d, err := k.Service.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
		require.NoError(t, err)
		return d
	}
	pr, err := k.Service.BeginPush(ctx, "alice", enroll.PushContext{Action: "Login", IP: "203.0.113.7"})
	require.NoError(t, err)
	d1, d2, db := auth(a1), auth(a2), auth(bob)

	prompts, err := d1.PendingPushes(ctx)
	require.NoError(t, err)
	require.Len(t, prompts, 1)
	p, err := a1.Credential().OpenPrompt(prompts[0], k.Clock.Now())
	require.NoError(t, err)
	require.Equal(t, pr.ID, p.RequestID)

	one, err := d2.PushPrompt(ctx, pr.ID)
	require.NoError(t, err)
	p2, err := a2.Credential().OpenPrompt(one, k.Clock.Now())
	require.NoError(t, err)
	require.Equal(t, pr.ID, p2.RequestID)

	_, err = db.PushPrompt(ctx, pr.ID)
	require.ErrorIs(t, err, authn.ErrNotFound, "another user's request")
	_, err = d1.PushPrompt(ctx, "no-such-request")
	require.ErrorIs(t, err, authn.ErrNotFound)
	_, err = d1.PushPrompt(ctx, strings.Repeat("x", 65))
	require.ErrorIs(t, err, authn.ErrNotFound)
	prompts, err = db.PendingPushes(ctx)
	require.NoError(t, err)
	require.Empty(t, prompts)

	// Bob's device cannot post alice's phone's answer; alice's can.
	a, err := a1.Credential().AnswerPush(p, true, pr.Number, k.Clock.Now())
	require.NoError(t, err)
	require.ErrorIs(t, db.AnswerPush(ctx, a), authn.ErrPromptNotForDevice, "not bob's")
	require.NoError(t, d1.AnswerPush(ctx, a))
	require.NoError(t, d1.AnswerPush(ctx, a), "the same answer again: its outcome again")
	deny, err := a1.Credential().AnswerPush(p, false, "", k.Clock.Now())
	require.NoError(t, err)
	require.ErrorIs(t, d1.AnswerPush(ctx, deny), authn.ErrPushAnswered, "another answer")
	require.ErrorIs(t, d1.AnswerPush(ctx, deny), authn.ErrAlreadyUsed)
	_, err = d2.PushPrompt(ctx, pr.ID)
	require.ErrorIs(t, err, authn.ErrAlreadyUsed, "answered by the other phone")
	res, err := k.Service.FinishPush(ctx, "alice", pr.ID)
	require.NoError(t, err)
	require.Equal(t, a1.DeviceID(), res.DeviceID)

	// An expired request.
	k.Clock.Advance(10 * time.Minute)
	pr2, err := k.Service.BeginPush(ctx, "alice", enroll.PushContext{Action: "Login"})
	require.NoError(t, err)
	k.Clock.Advance(enroll.DefaultPushTTL + time.Second)
	_, err = auth(a1).PushPrompt(ctx, pr2.ID)
	require.ErrorIs(t, err, authn.ErrExpired)

	_, err = (&authn.AuthenticatedDevice{}).PendingPushes(ctx)
	require.Equal(t, authn.ErrDeviceAuth, err)
	require.Equal(t, authn.ErrDeviceAuth, (&authn.AuthenticatedDevice{}).AnswerPush(ctx, a))
}

func TestAuthenticatedDeviceSetPushToken(t *testing.T) {
	ctx := context.Background()
	k := newDeviceKit(t)
	p := k.Enroll("alice")
	r, mac := signed(t, p.Credential(), "POST", "/v1/push-token", "", nil, k.Clock.Now())
	d, err := k.Service.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
	require.NoError(t, err)
	require.NoError(t, d.SetPushToken(ctx, "fcm:new-token"))
	rec, err := kitDevice(ctx, k.Kit, "alice", p.DeviceID())
	require.NoError(t, err)
	require.Equal(t, "fcm:new-token", rec.PushToken)
	for _, bad := range []string{"a\nb", "a\u202eb", strings.Repeat("t", 4097), "\xff"} {
		require.ErrorIs(t, d.SetPushToken(ctx, bad), authn.ErrInvalidInput)
	}
	require.NoError(t, d.SetPushToken(ctx, ""), "no push")
	require.Equal(t, authn.ErrDeviceAuth, (&authn.AuthenticatedDevice{}).SetPushToken(ctx, "x"))
}

// The log and the events never carry a MAC, a nonce or a session ID.
func TestDeviceAPILogsNoSecrets(t *testing.T) {
	ctx := context.Background()
	k := newDeviceKit(t)
	p := k.Enroll("alice")
	var secrets []string
	h, err := p.Credential().SignAPIRequest("POST", "/v1/migration", "", []byte("{}"), k.Clock.Now())
	require.NoError(t, err)
	r, mac, err := enroll.ParseAPIAuthorization(h)
	require.NoError(t, err)
	r.Method, r.Path, r.BodyHash = "POST", "/v1/migration", sha256.Sum256([]byte("{}"))
	d, err := k.Service.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
	require.NoError(t, err)
	_, err = k.Service.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{}) // replay, logged
	require.ErrorIs(t, err, authn.ErrAPIReplay)
	bad := bytes.Clone(mac)
	bad[0] ^= 1
	r2, _ := signed(t, p.Credential(), "GET", "/v1/pushes", "", nil, k.Clock.Now())
	_, err = k.Service.AuthenticateDevice(ctx, r2, bad, authn.DeviceLimit{})
	require.Equal(t, authn.ErrDeviceAuth, err)
	offer, err := d.StartMigration(ctx)
	require.NoError(t, err)
	_, err = d.ConfirmMigration(ctx, offer.SessionID, "123456")
	require.Error(t, err)

	secrets = append(secrets, hex.EncodeToString(mac), base64.RawURLEncoding.EncodeToString(mac),
		hex.EncodeToString(r.Nonce), base64.RawURLEncoding.EncodeToString(r.Nonce), offer.SessionID,
		strings.ReplaceAll(offer.SessionID, "-", ""), hex.EncodeToString(bad))
	text := k.log.String() + fmt.Sprintf("%v %+v", k.events.all, d)
	require.Contains(t, text, "device_auth_failed")
	warned := 0
	for line := range strings.Lines(k.log.String()) {
		if strings.Contains(line, "event=device_auth_failed") {
			require.Contains(t, line, "level=WARN", "a refused device request is a warning")
			warned++
		}
	}
	require.Positive(t, warned, "the refusals are in the log")
	for _, s := range secrets {
		require.NotContains(t, text, s)
	}
}

func BenchmarkAuthenticateDevice(b *testing.B) {
	ctx := context.Background()
	k := newDeviceKit(b)
	c := k.Enroll("alice").Credential()
	lim := authn.DeviceLimit{Requests: 1 << 30}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		r, mac := signed(b, c, "GET", "/v1/pushes", "", nil, k.Clock.Now())
		b.StartTimer()
		if _, err := k.Service.AuthenticateDevice(ctx, r, mac, lim); err != nil {
			b.Fatal(err)
		}
	}
}

// kitDevice is the user's device of that ID in the kit's records.
func kitDevice(ctx context.Context, k *authntest.Kit, user, id string) (authn.DeviceRecord, error) {
	ds, err := k.Records.Devices(ctx, user)
	if err != nil {
		return authn.DeviceRecord{}, err
	}
	for _, d := range ds {
		if d.ID == id {
			return d, nil
		}
	}
	return authn.DeviceRecord{}, authn.ErrStoreNotFound
}
