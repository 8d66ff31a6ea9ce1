package attest

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// Fuzz targets for every parser of the package, seeded from
// testdata/fuzz (real samples and made fixtures). Properties: no panic;
// a refusal returns nothing partial; what parses re-encodes to its input
// where the format has one encoding (CBOR, the chain framing).

func FuzzCBOR(f *testing.F) {
	f.Add([]byte{0xa0})
	f.Add(cborMapOf(cborTextOf("a"), cborArrayOf(cborBytesOf([]byte{1}), cborHeadOf(0, 300))))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := parseCBOR(b)
		if err != nil {
			if v.kind != 0 || v.str != nil || v.items != nil || v.keys != nil {
				t.Fatalf("partial value with %v", err)
			}
			return
		}
		if got := encodeCBOR(v); !bytes.Equal(got, b) {
			t.Fatalf("re-encoded %x, was %x", got, b)
		}
	})
}

func FuzzAppleObject(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		obj, err := parseAppleObject(b)
		if err != nil {
			if obj.x5c != nil || obj.authData != nil || obj.receipt != nil {
				t.Fatalf("partial object with %v", err)
			}
			return
		}
		if len(obj.x5c) < 2 || len(obj.auth.rpIDHash) != 32 || len(obj.auth.credID) != 32 {
			t.Fatalf("accepted %+v", obj)
		}
	})
}

func FuzzAuthData(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseAuthData(b)
		if err != nil {
			if d.rpIDHash != nil || d.credID != nil {
				t.Fatalf("partial with %v", err)
			}
			return
		}
		if d.flags&flagAttested == 0 || len(b) <= 55+len(d.credID) || !bytes.Equal(b[55:55+32], d.credID) {
			t.Fatalf("accepted %x", b)
		}
	})
}

func FuzzKeyDescription(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		kd, err := parseKeyDescription(b)
		if err != nil {
			if kd.challenge != nil || kd.software.has != nil || kd.hardware.has != nil {
				t.Fatalf("partial with %v", err)
			}
			return
		}
		if kd.software.has == nil || kd.hardware.has == nil {
			t.Fatal("lists missing")
		}
	})
}

func FuzzAndroidChain(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0x30, 0, 0, 0, 1, 0x30})
	f.Fuzz(func(t *testing.T, b []byte) {
		certs, err := splitChain(b)
		if err != nil {
			if certs != nil {
				t.Fatalf("partial with %v", err)
			}
			return
		}
		var re []byte
		for _, c := range certs {
			re = binary.BigEndian.AppendUint32(re, uint32(len(c)))
			re = append(re, c...)
		}
		if !bytes.Equal(re, b) || len(certs) < 2 || len(certs) > maxChain {
			t.Fatalf("%d certificates from %x", len(certs), b)
		}
	})
}

func FuzzStatusList(f *testing.F) {
	f.Add([]byte(`{"entries": {"0a": {"status": "REVOKED"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseStatusList(b)
		if err != nil {
			if l != nil {
				t.Fatal("partial list")
			}
			return
		}
		if l.entries == nil {
			t.Fatal("list without entries")
		}
	})
}
