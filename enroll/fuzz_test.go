package enroll

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func FuzzParseOffer(f *testing.F) {
	p, err := Start("Example Bank", "user-42", StartOptions{AccountName: "ada@example.com", Now: t0})
	if err != nil {
		f.Fatal(err)
	}
	good := p.Offer().URI()
	f.Add(good)
	f.Add(strings.Replace(good, "v=1", "v=2", 1))
	f.Add(good + "&v=1")
	f.Add(good + "#frag")
	f.Add(strings.Replace(good, "keyline://", "https://", 1))
	f.Add("keyline://activate?")
	f.Add("")
	for _, in := range refusalSeeds(f, func(r refusalFile) refusalSection { return r.Offers }) {
		f.Add(string(in))
	}
	f.Fuzz(func(t *testing.T, uri string) {
		o, err := ParseOffer(uri)
		if err != nil {
			if !errors.Is(err, ErrInvalidOffer) && !errors.Is(err, ErrOfferMismatch) {
				t.Fatalf("error matches no sentinel: %v", err)
			}
			if o.SessionID != "" || o.ServerKey != nil || !o.Suite.IsZero() {
				t.Fatalf("partial offer on error: %+v", o)
			}
			return
		}
		// What parses is valid, and survives a round trip unchanged.
		if err := o.validate(); err != nil {
			t.Fatalf("parsed offer does not validate: %v", err)
		}
		again, err := ParseOffer(o.URI())
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if again.Hash() == nil || string(again.Hash()) != string(o.Hash()) {
			t.Fatalf("round trip changed the offer")
		}
		if err := o.Check(o.SessionID); err != nil {
			t.Fatalf("Check of its own ID: %v", err)
		}
	})
}

func FuzzParseSessionID(f *testing.F) {
	f.Add("ZVXR-C7WR-8QH3-QEZ7-7")
	f.Add("zvxr c7wr 8qh3 qez7 7")
	f.Add("ZVXR-C7WR-8QH3-QEZ7-8")
	f.Add("OIL")
	f.Add("")
	f.Fuzz(func(t *testing.T, typed string) {
		sid, err := ParseSessionID(typed)
		if err != nil {
			if !errors.Is(err, ErrSessionIDTypo) {
				t.Fatalf("error is not ErrSessionIDTypo: %v", err)
			}
			if sid != "" {
				t.Fatalf("partial result %q", sid)
			}
			return
		}
		if len(sid) != sidGrouped {
			t.Fatalf("canonical ID %q has the wrong length", sid)
		}
		again, err := ParseSessionID(sid)
		if err != nil || again != sid {
			t.Fatalf("canonical form does not re-parse to itself: %q %v", again, err)
		}
		// Reading case-, space- and dash-insensitively: the canonical
		// form's characters, in order, are the typed ones mapped.
		norm := strings.NewReplacer("-", "", " ", "", "O", "0", "I", "1", "L", "1").Replace(strings.ToUpper(typed))
		if norm != strings.ReplaceAll(sid, "-", "") {
			t.Fatalf("typed %q normalises to %q, parsed %q", typed, norm, sid)
		}
	})
}

func FuzzRequestJSON(f *testing.F) {
	p, err := Start("Example Bank", "user-42", StartOptions{Now: t0})
	if err != nil {
		f.Fatal(err)
	}
	_, req, err := Activate(p.Offer(), phone, t0)
	if err != nil {
		f.Fatal(err)
	}
	good, err := json.Marshal(req)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"sid":"ZVXR-C7WR-8QH3-QEZ7-7"}`))
	f.Add(append(good[:len(good)-1:len(good)-1], []byte(`,"x":1}`)...))
	f.Add([]byte(`null`))
	for _, in := range refusalSeeds(f, func(r refusalFile) refusalSection { return r.ActivationRequests }) {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Request
		err := json.Unmarshal(b, &r)
		if err != nil {
			if r.SessionID != "" || r.DeviceKey != nil || r.Confirm != nil || r.OfferHash != nil || r.Device.InstallID != "" {
				t.Fatalf("partial request on error %v", err)
			}
			return
		}
		if string(b) == "null" {
			return // json leaves the value alone for null
		}
		if err := r.validate(); err != nil {
			t.Fatalf("decoded request does not validate: %v", err)
		}
		// A decoded request completes or fails with a sentinel, never panics.
		if _, err := p.Complete(r, t0); err == nil && r.SessionID != p.SessionID() {
			t.Fatalf("completed a request for another session")
		}
	})
}

// A fuzzed request never completes an activation it did not confirm.
func TestRequestFromFuzzNeverCompletes(t *testing.T) {
	p, err := Start("Example Bank", "user-42", StartOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	_, req, err := Activate(p.Offer(), phone, t0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range req.Confirm {
		bad := req
		bad.Confirm = append([]byte(nil), req.Confirm...)
		bad.Confirm[i] ^= 0x80
		if _, err := p.Complete(bad, t0.Add(time.Second)); !errors.Is(err, ErrBadConfirmation) {
			t.Fatalf("byte %d: %v", i, err)
		}
	}
}
