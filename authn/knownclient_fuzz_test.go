package authn

import (
	"bytes"
	"encoding/base64"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// kcFuzzNow is the time of the fuzz target's checks and of its seeds.
var kcFuzzNow = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// kcFuzzService is a Service over no store (the token's parse and check
// touch none) with the fixed keyring "2025" (primary) and "2024", so that
// the seed corpus in testdata holds tokens that verify.
func kcFuzzService(t testing.TB) *Service {
	t.Helper()
	s := &Service{&service{cfg: Config{KnownClientTTL: DefaultKnownClientTTL}, keys: krFuzzRing(t),
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	var err error
	s.macs, err = deriveMACKeys(s.keys, purposeClient)
	require.NoError(t, err)
	return s
}

// kcFuzzToken is the token of user alice, client {1,...}, epoch 3, made
// at kcFuzzNow under the primary key.
func kcFuzzToken(s *Service) string {
	var id [clientIDLen]byte
	for i := range id {
		id[i] = byte(i + 1)
	}
	tok, _ := s.newClientToken("alice", id, 3, kcFuzzNow)
	return string(tok)
}

// Whatever the string, parseClientToken neither panics nor returns
// anything with an error; what it parses re-encodes to the same string;
// every truncation of a parsed token is refused; and checkClientToken
// accepts only the token the Service made (nobody else holds the key).
func FuzzClientToken(f *testing.F) {
	s := kcFuzzService(f)
	good := kcFuzzToken(s)
	f.Add(good, "alice", uint64(3))
	f.Add(good, "bob", uint64(3))
	f.Add(good, "alice", uint64(4))
	f.Add(good[:len(good)-1], "alice", uint64(3))
	f.Add(good+"A", "alice", uint64(3))
	f.Add("", "alice", uint64(0))
	f.Add("AQJrMQ", "alice", uint64(0))

	f.Fuzz(func(t *testing.T, token, user string, epoch uint64) {
		tk, err := parseClientToken(token)
		if err != nil {
			require.Equal(t, clientToken{}, tk, "nothing partial with an error")
		} else {
			b := []byte{clientTokenVersion, byte(len(tk.keyID))}
			b = append(b, tk.keyID...)
			b = append(b, tk.client[:]...)
			b = append(b, tk.body[len(tk.body)-24:]...)
			b = append(b, tk.mac...)
			require.Equal(t, token, base64.RawURLEncoding.EncodeToString(b), "round trip")
			require.True(t, bytes.Equal(tk.body, b[:len(b)-clientMACLen]))
			raw, _ := base64.RawURLEncoding.DecodeString(token)
			for n := range raw {
				_, err := parseClientToken(base64.RawURLEncoding.EncodeToString(raw[:n]))
				require.Error(t, err, "truncated to %d bytes", n)
			}
		}
		id, reason := s.checkClientToken(user, token, epoch, kcFuzzNow)
		if reason == "" {
			require.Equal(t, good, token, "only the Service's own token verifies")
			require.Equal(t, "alice", user)
			require.Equal(t, uint64(3), epoch)
			require.Equal(t, byte(1), id[0])
		} else {
			require.Equal(t, [clientIDLen]byte{}, id)
			require.Contains(t, []Reason{ReasonInvalid, ReasonExpired, ReasonRevoked}, reason)
		}
	})
}

// TestClientTokenKnownAnswer pins the token's layout, the purpose key's
// label and the MAC's: the seed corpus's "valid" token, under the fixed
// keyring.
func TestClientTokenKnownAnswer(t *testing.T) {
	const want = "AQQyMDI1AQIDBAUGBwgJCgsMDQ4PEAAAAAAAAAADAAAAAGsVTkAAAAAAazzbQDoNn3UIcCmVAiLASq619H5YRHOHgVpQnfL13jwTSbWy"
	s := kcFuzzService(t)
	require.Equal(t, want, kcFuzzToken(s))
	id, reason := s.checkClientToken("alice", want, 3, kcFuzzNow)
	require.Empty(t, reason)
	require.Equal(t, byte(16), id[15])
}
