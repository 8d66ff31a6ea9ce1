package attest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/enroll"
)

type verifierFunc func(att, ch []byte) error

func (f verifierFunc) Verify(att, ch []byte) error { return f(att, ch) }

func TestPolicy(t *testing.T) {
	errNo := errors.New("attest: test verifier says no")
	var seen []byte
	v := verifierFunc(func(att, ch []byte) error {
		seen = ch
		if string(att) == "good" {
			return nil
		}
		return errNo
	})
	p := &Policy{Platforms: map[string]Rule{
		"ios":     {Verifier: v, Required: true},
		"android": {Verifier: v},
		"cli":     {},
	}}
	ch := testChallenge("c")
	for _, tc := range []struct {
		platform, att string
		other         bool
		want          error
	}{
		{"ios", "good", false, nil},
		{"ios", "", false, ErrMissing},
		{"ios", "bad", false, errNo},
		{"android", "good", false, nil},
		{"android", "", false, nil},
		{"android", "bad", false, errNo},
		{"cli", "", false, nil},
		{"cli", "anything", false, ErrPlatform},
		{"web", "", false, ErrPlatform},
		{"", "", false, ErrPlatform},
		{"web", "", true, nil},
		{"web", "good", true, ErrPlatform},
	} {
		p.AllowOtherPlatforms = tc.other
		seen = nil
		err := p.VerifyDevice(context.Background(), "alice", enroll.DeviceInfo{Platform: tc.platform, Attestation: []byte(tc.att)}, ch)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%+v: %v", tc, err)
		}
		if tc.att != "" && seen != nil && string(seen) != string(ch) {
			t.Errorf("%+v: verifier saw another challenge", tc)
		}
	}
	if err := (&Policy{}).VerifyDevice(context.Background(), "alice", enroll.DeviceInfo{Platform: "ios"}, ch); !errors.Is(err, ErrPlatform) {
		t.Errorf("the zero Policy admitted a platform: %v", err)
	}
}

type notes struct {
	mu  sync.Mutex
	all []authn.Event
}

func (n *notes) Observe(_ context.Context, e authn.Event) {
	n.mu.Lock()
	n.all = append(n.all, e)
	n.mu.Unlock()
}

// TestPolicyWithAuthn: the Policy as authn's Config.VerifyDevice. An
// Android phone attests a key with its activation's attestation
// challenge and is admitted; one that attested with another challenge
// (another activation's) is refused with ErrDeviceIntegrity, and the
// audit event names the check that refused it.
func TestPolicyWithAuthn(t *testing.T) {
	ctx := context.Background()
	root := newRoot(t, "test attestation root")
	batch := root.intermediate(t, "test TEE attestation key")
	a, err := NewAndroid(AndroidConfig{Apps: []AndroidApp{{Package: testPackage, SignerDigests: [][]byte{testSigner[:]}}},
		Roots: root.pool(), NoStatusList: true, Now: fixedNow(testNow)})
	if err != nil {
		t.Fatal(err)
	}
	policy := &Policy{Platforms: map[string]Rule{"android": {Verifier: a, Required: true}}}
	obs := &notes{}
	k := authntest.New(t, authntest.WithStart(testNow), authntest.WithConfig(func(c *authn.Config) {
		c.VerifyDevice = policy.VerifyDevice
		c.Observer = obs
	}))
	activate := func(user string, attestFor func(enroll.Offer, string) []byte) error {
		offer, err := k.Service.StartActivation(ctx, user, nil)
		if err != nil {
			t.Fatal(err)
		}
		scanned, err := enroll.ParseOffer(offer.URI())
		if err != nil {
			t.Fatal(err)
		}
		install := "install-" + user
		// The phone attests its keystore key with the challenge, then
		// activates with the chain.
		ch := attestFor(scanned, install)
		leaf := batch.leaf(t, newKey(t), pkixKeyDescription(t, androidCase{challenge: ch}))
		info := enroll.DeviceInfo{InstallID: install, Platform: "android", Integrity: enroll.Intact,
			Attestation: lpChain(leaf, batch.cert, root.cert)}
		_, req, err := enroll.Activate(scanned, info, k.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		_, err = k.Service.CompleteActivation(ctx, req)
		return err
	}
	if err := activate("alice", enroll.Offer.AttestationChallenge); err != nil {
		t.Fatal(err)
	}
	err = activate("bob", func(o enroll.Offer, install string) []byte { return o.AttestationChallenge(install + "x") })
	if !errors.Is(err, authn.ErrDeviceIntegrity) || !errors.Is(err, ErrChallenge) {
		t.Fatal(err)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	var note string
	for _, e := range obs.all {
		if e.Name == authn.EventActivationFailed && e.User == "bob" && e.Reason == authn.ReasonAttestation {
			note = e.Note
		}
	}
	if !strings.HasPrefix(note, ErrChallenge.Error()) {
		t.Fatalf("audit note %q", note)
	}
}
