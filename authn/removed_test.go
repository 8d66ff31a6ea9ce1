package authn_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
)

// A status call about a removed device with a wrong key costs what one
// about an unknown device costs, and gets the same answer: allocations
// stand for the work (one store read of each kind, one unseal, one MAC).
func TestDeviceStatusRefusalsCostAlike(t *testing.T) {
	ctx := context.Background()
	k := newDeviceKit(t)
	alice := k.Enroll("alice")
	other := k.Enroll("alice")
	proof := k.Login("alice", alice).Proof
	require.NoError(t, k.Service.RevokeDevice(ctx, "alice", alice.DeviceID(), proof))
	now := k.Clock.Now()

	removed, _ := signed(t, alice.Credential(), "GET", "/v1/device/status", "", nil, now)
	_, wrong := signed(t, other.Credential(), "GET", "/v1/device/status", "", nil, now)
	unknown, mac := signed(t, alice.Credential(), "GET", "/v1/device/status", "", nil, now)
	unknown.DeviceID = "0123456789abcdef0123456789abcdef"

	cost := func(name string, call func() error) float64 {
		var err error
		n := testing.AllocsPerRun(20, func() { err = call() })
		require.Equal(t, authn.ErrDeviceAuth, err, name)
		return n
	}
	a := cost("removed, wrong key", func() error {
		_, err := k.Service.DeviceStatus(ctx, removed, wrong, authn.DeviceLimit{})
		return err
	})
	b := cost("unknown", func() error {
		_, err := k.Service.DeviceStatus(ctx, unknown, mac, authn.DeviceLimit{})
		return err
	})
	t.Logf("allocations: removed with a wrong key %v, unknown %v", a, b)
	require.InDelta(t, b, a, 4, "the same work, within a record's copy")
}

// BenchmarkDeviceStatus: the status call of an active device, of a
// removed one (its own key), and a refused one (a wrong key for the
// removed device) — the last costs what an unknown device costs.
func BenchmarkDeviceStatus(b *testing.B) {
	ctx := context.Background()
	k := newDeviceKit(b)
	alice := k.Enroll("alice")
	other := k.Enroll("alice")
	proof := k.Login("alice", alice).Proof
	require.NoError(b, k.Service.RevokeDevice(ctx, "alice", alice.DeviceID(), proof))
	lim := authn.DeviceLimit{Requests: 1 << 30}
	for _, bc := range []struct {
		name  string
		cred  *enroll.Credential
		wrong bool
		want  authn.DeviceStatusState
	}{
		{"active", other.Credential(), false, authn.StatusActive},
		{"removed", alice.Credential(), false, authn.StatusRemoved},
		{"refused", alice.Credential(), true, ""},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				r, mac := signed(b, bc.cred, "GET", "/v1/device/status", "", nil, k.Clock.Now())
				if bc.wrong {
					_, mac = signed(b, other.Credential(), "GET", "/v1/device/status", "", nil, k.Clock.Now())
				}
				b.StartTimer()
				st, err := k.Service.DeviceStatus(ctx, r, mac, lim)
				if bc.wrong {
					if err != authn.ErrDeviceAuth {
						b.Fatal(err)
					}
					continue
				}
				if err != nil || st.State != bc.want {
					b.Fatal(st.State, err)
				}
			}
		})
	}
}
