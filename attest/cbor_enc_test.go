package attest

import "encoding/binary"

// A CBOR writer for tests: it makes attestation objects, and re-encodes
// what parseCBOR read (FuzzCBOR's round trip). Shortest form throughout.

func cborHeadOf(major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return []byte{m | byte(n)}
	case n < 1<<8:
		return []byte{m | 24, byte(n)}
	case n < 1<<16:
		return binary.BigEndian.AppendUint16([]byte{m | 25}, uint16(n))
	case n < 1<<32:
		return binary.BigEndian.AppendUint32([]byte{m | 26}, uint32(n))
	}
	return binary.BigEndian.AppendUint64([]byte{m | 27}, n)
}

func cborBytesOf(b []byte) []byte { return append(cborHeadOf(2, uint64(len(b))), b...) }
func cborTextOf(s string) []byte  { return append(cborHeadOf(3, uint64(len(s))), s...) }

func cborArrayOf(items ...[]byte) []byte {
	b := cborHeadOf(4, uint64(len(items)))
	for _, it := range items {
		b = append(b, it...)
	}
	return b
}

// cborMapOf writes key, value, key, value...
func cborMapOf(kv ...[]byte) []byte {
	b := cborHeadOf(5, uint64(len(kv)/2))
	for _, it := range kv {
		b = append(b, it...)
	}
	return b
}

// encodeCBOR writes a decoded value back.
func encodeCBOR(v cborValue) []byte {
	switch v.kind {
	case cborUint:
		return cborHeadOf(0, v.n)
	case cborBytes:
		return cborBytesOf(v.str)
	case cborText:
		return cborTextOf(string(v.str))
	case cborArray:
		items := make([][]byte, len(v.items))
		for i, it := range v.items {
			items[i] = encodeCBOR(it)
		}
		return cborArrayOf(items...)
	}
	kv := make([][]byte, 0, 2*len(v.keys))
	for i, k := range v.keys {
		kv = append(kv, cborTextOf(k), encodeCBOR(v.vals[i]))
	}
	return cborMapOf(kv...)
}
