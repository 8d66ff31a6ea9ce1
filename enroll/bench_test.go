package enroll

import (
	"testing"
)

func BenchmarkStart(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Start("Example Bank", "user-42", StartOptions{Now: t0}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkActivate(b *testing.B) {
	p, err := Start("Example Bank", "user-42", StartOptions{Now: t0})
	if err != nil {
		b.Fatal(err)
	}
	o := p.Offer()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Activate(o, phone, t0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkComplete(b *testing.B) {
	p, err := Start("Example Bank", "user-42", StartOptions{Now: t0})
	if err != nil {
		b.Fatal(err)
	}
	_, req, err := Activate(p.Offer(), phone, t0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Complete(req, t0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseOffer(b *testing.B) {
	p, err := Start("Example Bank", "user-42", StartOptions{Now: t0})
	if err != nil {
		b.Fatal(err)
	}
	uri := p.Offer().URI()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseOffer(uri); err != nil {
			b.Fatal(err)
		}
	}
}
