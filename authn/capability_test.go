package authn_test

import (
	"context"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/enroll"
)

// field returns a settable view of an unexported field of d, as code
// that holds an AuthenticatedDevice could make with reflect and unsafe.
func field(d *authn.AuthenticatedDevice, path ...string) reflect.Value {
	v := reflect.ValueOf(d).Elem()
	for _, name := range path {
		v = v.FieldByName(name)
		v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
	}
	return v
}

// refusedEverywhere checks that every method of d refuses it, and that
// it shows no device.
func refusedEverywhere(t *testing.T, d *authn.AuthenticatedDevice, what string) {
	t.Helper()
	ctx := context.Background()
	require.Equal(t, authn.Device{}, d.Device(), what)
	_, err := d.PendingPushes(ctx)
	require.ErrorIs(t, err, authn.ErrDeviceAuth, what)
	_, err = d.PushPrompt(ctx, "0123456789abcdef0123456789abcdef")
	require.ErrorIs(t, err, authn.ErrDeviceAuth, what)
	require.ErrorIs(t, d.AnswerPush(ctx, enroll.PushAnswer{RequestID: "0123456789abcdef0123456789abcdef"}), authn.ErrDeviceAuth, what)
	require.ErrorIs(t, d.SetPushToken(ctx, "token"), authn.ErrDeviceAuth, what)
	_, err = d.StartMigration(ctx)
	require.ErrorIs(t, err, authn.ErrDeviceAuth, what)
	_, err = d.MigrationStatus(ctx, "s")
	require.ErrorIs(t, err, authn.ErrDeviceAuth, what)
	_, err = d.ConfirmMigration(ctx, "s", "1234")
	require.ErrorIs(t, err, authn.ErrDeviceAuth, what)
}

// An AuthenticatedDevice is the one AuthenticateDevice made for one
// device, or nothing: changing its fields (with reflect and unsafe), copying
// another over it, copying it, or building one field by field, gives a
// value every method refuses.
func TestAuthenticatedDeviceCannotBeRetargeted(t *testing.T) {
	ctx := context.Background()
	k := authntest.New(t)
	alice, bob := k.Enroll("alice"), k.Enroll("bob")
	auth := func(p *authntest.Phone) *authn.AuthenticatedDevice {
		return p.Authenticate("GET", "/v1/pushes", nil)
	}
	works := func(d *authn.AuthenticatedDevice, user string) {
		t.Helper()
		_, err := d.PendingPushes(ctx)
		require.NoError(t, err)
		require.Equal(t, user, d.Device().User)
	}

	a, b := auth(alice), auth(bob)
	works(a, "alice")
	works(b, "bob")

	// Retargeting alice's to bob's device, field by field.
	for name, change := range map[string]func(d *authn.AuthenticatedDevice){
		"user":      func(d *authn.AuthenticatedDevice) { field(d, "dev", "User").SetString("bob") },
		"device ID": func(d *authn.AuthenticatedDevice) { field(d, "dev", "ID").SetString(bob.DeviceID()) },
		"both": func(d *authn.AuthenticatedDevice) {
			field(d, "dev", "User").SetString("bob")
			field(d, "dev", "ID").SetString(bob.DeviceID())
		},
		"name": func(d *authn.AuthenticatedDevice) { field(d, "dev", "Name").SetString("bob's phone") },
		"time": func(d *authn.AuthenticatedDevice) {
			field(d, "at").Set(reflect.ValueOf(time.Now().Add(time.Hour)))
		},
		"whole device": func(d *authn.AuthenticatedDevice) { field(d, "dev").Set(reflect.ValueOf(b.Device())) },
		"service": func(d *authn.AuthenticatedDevice) {
			other := authntest.New(t).Service
			field(d, "s").Set(reflect.ValueOf(other))
		},
	} {
		d := auth(alice)
		change(d)
		refusedEverywhere(t, d, name)
	}

	// Another one copied over it: a is alice's, and stays nothing else.
	c := auth(alice)
	*c = *b
	refusedEverywhere(t, c, "*a = *b")
	works(b, "bob")

	// A copy of a valid one is not it.
	cp := *a
	refusedEverywhere(t, &cp, "struct copy")
	works(a, "alice")

	// One built from nothing, with the fields of a valid one.
	forged := reflect.New(reflect.TypeFor[authn.AuthenticatedDevice]()).Interface().(*authn.AuthenticatedDevice)
	field(forged, "s").Set(field(a, "s"))
	field(forged, "dev").Set(field(a, "dev"))
	field(forged, "at").Set(field(a, "at"))
	refusedEverywhere(t, forged, "forged")
	refusedEverywhere(t, &authn.AuthenticatedDevice{}, "zero")
	refusedEverywhere(t, nil, "nil")
	works(a, "alice")
}
