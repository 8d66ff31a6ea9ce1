package authn_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// loginProof logs alice in with her phone and returns the step-up proof.
func loginProof(t *testing.T, e *env) *authn.Proof {
	t.Helper()
	ctx := context.Background()
	p, _ := e.enrollPhone(t, "alice", nil)
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	res, err := e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	require.NoError(t, err)
	return res.Proof
}

// session is what a web framework keeps in a JSON session store.
type session struct {
	User  string       `json:"user"`
	Proof *authn.Proof `json:"proof"`
}

// A proof goes into a JSON session and comes back as one the Service
// accepts, with its expiry readable; any change to it is refused.
func TestProofInJSONSession(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	proof := loginProof(t, e)
	require.Equal(t, proof.At.Add(authn.DefaultProofTTL), proof.ExpiresAt)

	b, err := json.Marshal(session{User: "alice", Proof: proof})
	require.NoError(t, err)
	require.Contains(t, string(b), `"expires_at":"`+proof.ExpiresAt.UTC().Format(time.RFC3339)+`"`)
	var back session
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, *proof, *back.Proof)
	require.NoError(t, e.svc.CheckProof("alice", back.Proof))
	_, err = e.svc.NewRecoveryCodes(ctx, "alice", back.Proof)
	require.NoError(t, err)

	// Each field altered: refused at the check and at the factor change.
	var raw map[string]any
	require.NoError(t, json.Unmarshal(b, &raw))
	enc := raw["proof"].(map[string]any)
	for field, v := range map[string]any{
		"user":       "mallory",
		"method":     "totp",
		"at":         proof.At.Add(time.Minute).UTC().Format(time.RFC3339),
		"expires_at": proof.ExpiresAt.Add(time.Hour).UTC().Format(time.RFC3339),
		"key_id":     "k2",
		"mac":        flipB64(t, enc["mac"].(string)),
	} {
		t.Run(field, func(t *testing.T) {
			altered := map[string]any{}
			for k, x := range enc {
				altered[k] = x
			}
			altered[field] = v
			ab, err := json.Marshal(altered)
			require.NoError(t, err)
			var p authn.Proof
			if err := json.Unmarshal(ab, &p); err != nil {
				return // refused at decoding already
			}
			require.ErrorIs(t, e.svc.CheckProof("alice", &p), authn.ErrProofRequired)
			_, err = e.svc.NewRecoveryCodes(ctx, "alice", &p)
			require.ErrorIs(t, err, authn.ErrProofRequired)
		})
	}

	// Another user: refused.
	require.ErrorIs(t, e.svc.CheckProof("bob", back.Proof), authn.ErrProofRequired)

	// Another server's keys: refused.
	other, err := authn.New(authn.Config{Hot: e.store, Records: e.store, Keys: newKeyring(t), Issuer: "Example Bank",
		Clock: e.clock.Now, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.ErrorIs(t, other.CheckProof("alice", back.Proof), authn.ErrProofRequired)

	// Expired: refused.
	e.clock.Advance(authn.DefaultProofTTL + time.Second)
	require.ErrorIs(t, e.svc.CheckProof("alice", back.Proof), authn.ErrProofRequired)
	require.ErrorIs(t, e.svc.CheckProof("alice", nil), authn.ErrProofRequired)
}

// Malformed proof JSON is refused with a specific error and sets nothing.
func TestProofJSONMalformed(t *testing.T) {
	good := `{"v":1,"user":"alice","method":"challenge","at":"2026-11-27T09:00:05Z","expires_at":"2026-11-27T09:05:05Z","key_id":"k1","mac":"` +
		strings.Repeat("A", 43) + `="}`
	var p authn.Proof
	require.NoError(t, json.Unmarshal([]byte(good), &p))
	for name, in := range map[string]string{
		"version":   strings.Replace(good, `"v":1`, `"v":2`, 1),
		"no mac":    strings.Replace(good, `"mac":"`+strings.Repeat("A", 43)+`="`, `"mac":""`, 1),
		"short mac": strings.Replace(good, strings.Repeat("A", 43)+`=`, "AAAA", 1),
		"unknown":   strings.Replace(good, `"v":1`, `"v":1,"x":1`, 1),
		"fraction":  strings.Replace(good, `09:00:05Z`, `09:00:05.5Z`, 1),
		"not json":  `"proof"`,
		"no user":   strings.Replace(good, `"user":"alice"`, `"user":""`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			var q authn.Proof
			err := json.Unmarshal([]byte(in), &q)
			require.ErrorIs(t, err, authn.ErrInvalidInput)
			require.Equal(t, authn.Proof{}, q)
		})
	}
}

// flipB64 changes the first character of a base64 text to another
// valid one.
func flipB64(t *testing.T, s string) string {
	t.Helper()
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}
