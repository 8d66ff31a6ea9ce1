package enroll

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

// The fuzz targets use the first push vector's credential and prompt, so
// that the seed corpus under testdata/fuzz holds authentic wire forms and
// answers.

// FuzzOpenPrompt feeds the phone arbitrary wire forms, twice: as they are
// (the MAC almost always fails), and with the body re-sealed under the
// credential's srv key, so that the parser behind the MAC sees them too.
// Nothing panics; a refusal is a sentinel and the zero prompt; an
// accepted prompt is valid, addressed to the credential, unexpired, and
// seals back to the same bytes.
func FuzzOpenPrompt(f *testing.F) {
	in := pushVecInputs[0].Input
	c := pushVecCredential(f, in)
	p := pushVecPrompt(f, in)
	now := time.Unix(in.Time, 0)
	wire, err := SealPrompt(c.keys, p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(wire)
	f.Add(wire[:len(wire)-32])
	f.Add([]byte{})
	f.Add([]byte{1})
	q := p
	q.Transaction, _ = txWithdrawal.Canonical()
	q.Context = PushContext{Action: "Payment", IP: "2001:db8::1"}
	if w, err := SealPrompt(c.keys, q); err == nil {
		f.Add(w)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(w []byte) {
			got, err := c.OpenPrompt(w, now)
			if err != nil {
				if !errors.Is(err, ErrBadPrompt) && !errors.Is(err, ErrPromptNotForDevice) && !errors.Is(err, ErrExpired) {
					t.Fatalf("error matches no sentinel: %v", err)
				}
				if !reflect.DeepEqual(got, PushPrompt{}) {
					t.Fatalf("partial prompt on error %v: %+v", err, got)
				}
				return
			}
			if reason := got.check(); reason != "" {
				t.Fatalf("opened prompt does not validate: %s", reason)
			}
			if !got.addressedTo(c) || !now.Before(got.ExpiresAt) {
				t.Fatalf("opened a prompt for another device, or expired")
			}
			again, err := SealPrompt(c.keys, got)
			if err != nil || !bytes.Equal(again, w) {
				t.Fatalf("opened prompt does not seal back to its wire form: %v", err)
			}
		}
		check(b)
		check(append(bytes.Clone(b), promptMAC(c.keys.Server, b)...))
	})
}

// FuzzParsePushAnswer feeds the server arbitrary JSON answers. Nothing
// panics; a refusal matches ErrInvalidInput and leaves the zero
// answer; an accepted answer is valid and survives a round trip; and only
// the genuine answer (the seed) verifies against the prompt.
func FuzzParsePushAnswer(f *testing.F) {
	in := pushVecInputs[0].Input
	c := pushVecCredential(f, in)
	p := pushVecPrompt(f, in)
	now := time.Unix(in.Time, 0)
	genuine, err := c.AnswerPush(p, in.Approve, in.TypedNumber, now)
	if err != nil {
		f.Fatal(err)
	}
	good, err := json.Marshal(genuine)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add(append(good[:len(good)-1:len(good)-1], []byte(`,"x":1}`)...))
	f.Add(bytes.Replace(good, []byte(`"42"`), []byte(`"4"`), 1))
	for _, in := range refusalSeeds(f, func(r refusalFile) refusalSection { return r.PushAnswers }) {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var a PushAnswer
		if err := json.Unmarshal(b, &a); err != nil {
			var se *json.SyntaxError
			if !errors.Is(err, ErrInvalidInput) && !errors.As(err, &se) {
				t.Fatalf("error is neither ErrInvalidInput nor a JSON syntax error: %v", err)
			}
			if !reflect.DeepEqual(a, PushAnswer{}) {
				t.Fatalf("partial answer on error %v: %+v", err, a)
			}
			return
		}
		if reason := a.check(); reason != "" {
			t.Fatalf("decoded answer does not validate: %s", reason)
		}
		again, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		var back PushAnswer
		if err := json.Unmarshal(again, &back); err != nil || !reflect.DeepEqual(a, back) {
			t.Fatalf("round trip changed the answer: %v", err)
		}
		if VerifyPushAnswer(c.keys, p, a, now, 0) == nil {
			g := genuine
			if a.RequestID != g.RequestID || !bytes.Equal(a.Nonce, g.Nonce) || !bytes.Equal(a.ContextHash, g.ContextHash) ||
				a.Approve != g.Approve || a.TypedNumber != g.TypedNumber || a.Step != g.Step || a.TxResponse != g.TxResponse {
				t.Fatalf("an answer other than the genuine one verifies: %+v", a)
			}
		}
	})
}
