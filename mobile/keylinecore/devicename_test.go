package keylinecore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/mobile/keylinecore"
)

// SetDeviceName names the devices of the activations that follow; a
// name over 128 bytes is refused and changes nothing.
func TestSetDeviceName(t *testing.T) {
	s := newServer(t, time.Now(), "Name Bank")
	p := newPhone(t, s)
	require.Equal(t, keylinecore.CodeInvalidInput, code(p.SetDeviceName(strings.Repeat("x", 129))))
	require.NoError(t, p.SetDeviceName("renamed phone"))
	id := activate(t, p, s, "alice")
	devs, err := s.kit.Service.Devices(context.Background(), "alice")
	require.NoError(t, err)
	require.Len(t, devs, 1)
	require.Equal(t, id, devs[0].ID)
	require.Equal(t, "renamed phone", devs[0].Name)
	a, err := p.Account(id)
	require.NoError(t, err)
	require.Equal(t, "renamed phone", a.DeviceName)
}
