package txn

import "unicode"

// txnNotNFC is every character of categories L, N, P and S that NFC
// replaces even on its own (NFC_Quick_Check=No: singletons, composition
// exclusions, CJK compatibility ideographs), 1,103 in Unicode 15.0.0.
// Generated from golang.org/x/text/unicode/norm (Unicode 15.0.0, as Go
// 1.26's unicode package) by testing norm.NFC.String(string(r)) != string(r)
// for every such code point; the same run found that the only other
// characters of these categories NFC may change, those that compose with
// a preceding character, are conjoining jamo (txnJamo), and that all of
// them have canonical combining class 0.
var txnNotNFC = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x0374, Hi: 0x0374, Stride: 1}, {Lo: 0x037e, Hi: 0x037e, Stride: 1},
		{Lo: 0x0387, Hi: 0x0387, Stride: 1}, {Lo: 0x0958, Hi: 0x095f, Stride: 1},
		{Lo: 0x09dc, Hi: 0x09dd, Stride: 1}, {Lo: 0x09df, Hi: 0x09df, Stride: 1},
		{Lo: 0x0a33, Hi: 0x0a33, Stride: 1}, {Lo: 0x0a36, Hi: 0x0a36, Stride: 1},
		{Lo: 0x0a59, Hi: 0x0a5b, Stride: 1}, {Lo: 0x0a5e, Hi: 0x0a5e, Stride: 1},
		{Lo: 0x0b5c, Hi: 0x0b5d, Stride: 1}, {Lo: 0x0f43, Hi: 0x0f43, Stride: 1},
		{Lo: 0x0f4d, Hi: 0x0f4d, Stride: 1}, {Lo: 0x0f52, Hi: 0x0f52, Stride: 1},
		{Lo: 0x0f57, Hi: 0x0f57, Stride: 1}, {Lo: 0x0f5c, Hi: 0x0f5c, Stride: 1},
		{Lo: 0x0f69, Hi: 0x0f69, Stride: 1}, {Lo: 0x1f71, Hi: 0x1f71, Stride: 1},
		{Lo: 0x1f73, Hi: 0x1f73, Stride: 1}, {Lo: 0x1f75, Hi: 0x1f75, Stride: 1},
		{Lo: 0x1f77, Hi: 0x1f77, Stride: 1}, {Lo: 0x1f79, Hi: 0x1f79, Stride: 1},
		{Lo: 0x1f7b, Hi: 0x1f7b, Stride: 1}, {Lo: 0x1f7d, Hi: 0x1f7d, Stride: 1},
		{Lo: 0x1fbb, Hi: 0x1fbb, Stride: 1}, {Lo: 0x1fbe, Hi: 0x1fbe, Stride: 1},
		{Lo: 0x1fc9, Hi: 0x1fc9, Stride: 1}, {Lo: 0x1fcb, Hi: 0x1fcb, Stride: 1},
		{Lo: 0x1fd3, Hi: 0x1fd3, Stride: 1}, {Lo: 0x1fdb, Hi: 0x1fdb, Stride: 1},
		{Lo: 0x1fe3, Hi: 0x1fe3, Stride: 1}, {Lo: 0x1feb, Hi: 0x1feb, Stride: 1},
		{Lo: 0x1fee, Hi: 0x1fef, Stride: 1}, {Lo: 0x1ff9, Hi: 0x1ff9, Stride: 1},
		{Lo: 0x1ffb, Hi: 0x1ffb, Stride: 1}, {Lo: 0x1ffd, Hi: 0x1ffd, Stride: 1},
		{Lo: 0x2126, Hi: 0x2126, Stride: 1}, {Lo: 0x212a, Hi: 0x212b, Stride: 1},
		{Lo: 0x2329, Hi: 0x232a, Stride: 1}, {Lo: 0x2adc, Hi: 0x2adc, Stride: 1},
		{Lo: 0xf900, Hi: 0xfa0d, Stride: 1}, {Lo: 0xfa10, Hi: 0xfa10, Stride: 1},
		{Lo: 0xfa12, Hi: 0xfa12, Stride: 1}, {Lo: 0xfa15, Hi: 0xfa1e, Stride: 1},
		{Lo: 0xfa20, Hi: 0xfa20, Stride: 1}, {Lo: 0xfa22, Hi: 0xfa22, Stride: 1},
		{Lo: 0xfa25, Hi: 0xfa26, Stride: 1}, {Lo: 0xfa2a, Hi: 0xfa6d, Stride: 1},
		{Lo: 0xfa70, Hi: 0xfad9, Stride: 1}, {Lo: 0xfb1d, Hi: 0xfb1d, Stride: 1},
		{Lo: 0xfb1f, Hi: 0xfb1f, Stride: 1}, {Lo: 0xfb2a, Hi: 0xfb36, Stride: 1},
		{Lo: 0xfb38, Hi: 0xfb3c, Stride: 1}, {Lo: 0xfb3e, Hi: 0xfb3e, Stride: 1},
		{Lo: 0xfb40, Hi: 0xfb41, Stride: 1}, {Lo: 0xfb43, Hi: 0xfb44, Stride: 1},
		{Lo: 0xfb46, Hi: 0xfb4e, Stride: 1},
	},
	R32: []unicode.Range32{
		{Lo: 0x1d15e, Hi: 0x1d164, Stride: 1}, {Lo: 0x1d1bb, Hi: 0x1d1c0, Stride: 1},
		{Lo: 0x2f800, Hi: 0x2fa1d, Stride: 1},
	},
}
