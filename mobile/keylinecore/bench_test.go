package keylinecore_test

import (
	"context"
	"testing"
	"time"

	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/mobile/keylinecore"
)

// BenchmarkUnlock is a cold start's cost: the vault opened with the PIN
// at the vault's default Argon2id (t=3, 64 MiB, p=4) and the KeyStore,
// and at OWASP's minimum (t=2, 19 MiB, p=1).
func BenchmarkUnlock(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  *keylinecore.Config
	}{{"default", &keylinecore.Config{}}, {"minimum", config("phone")}} {
		b.Run(c.name, func(b *testing.B) {
			storage, keys := newStorage(), newHWKey()
			p, err := keylinecore.NewPhone(c.cfg, storage, keys, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			if err := p.CreateVault(pin); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Unlock(pin); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkApprovePush is a push approval with the vault open: the
// prompt fetched by the notification's request ID, opened, and
// approved with the number, over HTTP to an in-process device API (the
// server's work included). "cold" is an iOS notification extension's
// whole approval: a Phone made from storage, the vault opened with the
// biometric key (no Argon2id), then the same; its B/op bounds the
// memory the approval needs (the phone's and the in-process server's).
func BenchmarkApprovePush(b *testing.B) {
	b.Run("open", func(b *testing.B) { benchmarkApprovePush(b, false) })
	b.Run("cold", func(b *testing.B) { benchmarkApprovePush(b, true) })
}

func benchmarkApprovePush(b *testing.B, cold bool) {
	ctx := context.Background()
	s := newServer(b, authntest.Start(), "Example Bank")
	storage, keys, bio := newStorage(), newHWKey(), newHWKey()
	clock := phoneClock{server: s.kit.Clock}
	p, err := keylinecore.NewPhone(config("phone"), storage, keys, nil, clock)
	if err != nil {
		b.Fatal(err)
	}
	if err := p.CreateVault(pin); err != nil {
		b.Fatal(err)
	}
	if err := p.SetPushToken("fcm:bench", nil); err != nil {
		b.Fatal(err)
	}
	offer, err := s.kit.Service.StartActivation(ctx, "alice", nil)
	if err != nil {
		b.Fatal(err)
	}
	act, err := p.Activate(s.url, offer.URI(), nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.kit.Service.ConfirmActivation(ctx, "alice", offer.SessionID, act.PairingCode); err != nil {
		b.Fatal(err)
	}
	if err := p.EnableBiometricUnlock(pin, bio); err != nil {
		b.Fatal(err)
	}
	pc := enroll.PushContext{Action: "Login", IP: "203.0.113.7"}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		s.kit.Clock.Advance(15 * time.Minute) // a new push budget
		req, err := s.kit.Service.BeginPush(ctx, "alice", pc)
		if err != nil {
			b.Fatal(err)
		}
		d := <-s.kit.Inbox.C
		b.StartTimer()
		p := p
		if cold {
			if p, err = keylinecore.NewPhone(config("phone"), storage, keys, nil, clock); err != nil {
				b.Fatal(err)
			}
			if err := p.UnlockWithBiometrics(bio); err != nil {
				b.Fatal(err)
			}
		}
		pr, err := p.FetchPush(act.AccountID, d.RequestID, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.AnswerPush(pr, true, req.Number, nil); err != nil {
			b.Fatal(err)
		}
	}
}
