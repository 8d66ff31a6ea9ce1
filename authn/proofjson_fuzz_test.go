package authn

import (
	"bytes"
	"errors"
	"testing"
)

// Whatever the bytes, Proof.UnmarshalJSON does not panic, fails only with
// ErrInvalidInput leaving the proof as it was, and what it accepts
// encodes back to a text that decodes to the same proof.
func FuzzProofJSON(f *testing.F) {
	mac := `"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="`
	f.Add([]byte(`{"v":1,"user":"alice","method":"challenge","at":"2026-11-27T09:00:05Z","expires_at":"2026-11-27T09:05:05Z","key_id":"k1","mac":` + mac + `}`))
	f.Add([]byte(`{"v":1,"user":"alice","method":"challenge","at":"2026-11-27T09:00:05+02:00","expires_at":"2026-11-27T09:05:05Z","key_id":"k1","mac":` + mac + `}`))
	f.Add([]byte(`{"v":2,"user":"alice","method":"totp","at":"2026-11-27T09:00:05Z","expires_at":"2026-11-27T09:05:05Z","key_id":"k1","mac":` + mac + `}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		before := Proof{User: "x"}
		p := before
		err := p.UnmarshalJSON(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("undocumented error %v", err)
			}
			if p.User != before.User || p.MAC != nil {
				t.Fatal("a refused decoding changed the proof")
			}
			return
		}
		enc, err := p.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var q Proof
		if err := q.UnmarshalJSON(enc); err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if q.User != p.User || q.Method != p.Method || !q.At.Equal(p.At) || !q.ExpiresAt.Equal(p.ExpiresAt) ||
			q.KeyID != p.KeyID || !bytes.Equal(q.MAC, p.MAC) {
			t.Fatalf("round trip: %v then %v", p, q)
		}
	})
}
