package attest

import "testing"

// What a verification costs the server, once per activation: dominated
// by the chain's signature checks.

func BenchmarkAppleCheck(b *testing.B) {
	ch := testChallenge("activation")
	obj, roots := makeApple(b, appleCase{challenge: ch})
	a := newTestApple(b, roots, AppleProduction)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Check(obj, ch); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAndroidCheck(b *testing.B) {
	ch := testChallenge("activation")
	mc := makeAndroid(b, androidCase{challenge: ch})
	l, err := ParseStatusList([]byte(`{"entries": {"1": {"status": "REVOKED"}}}`))
	if err != nil {
		b.Fatal(err)
	}
	a := newTestAndroid(b, mc.roots, l, false)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Check(mc.att, ch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse: the parsers alone, on a made App Attest object and a
// made key description.
func BenchmarkParse(b *testing.B) {
	ch := testChallenge("activation")
	obj, _ := makeApple(b, appleCase{challenge: ch})
	kd := keyDescriptionDER(b, androidCase{challenge: ch})
	b.Run("AppleObject", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parseAppleObject(obj); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("KeyDescription", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parseKeyDescription(kd); err != nil {
				b.Fatal(err)
			}
		}
	})
}
