package attest

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// A reader of the CBOR (RFC 8949) that an App Attest attestation object
// uses, and nothing more: unsigned integers, byte and text strings,
// arrays and maps, each with a definite length in its shortest form
// (RFC 8949 §4.2.1, "preferred serialization"), map keys that are text
// and unique. Tags, floats, simple values, negative integers and
// indefinite lengths are refused: Apple sends none of them, and a reader
// that accepts less has less to get wrong. Nesting and item counts are
// bounded, and a count is checked against the bytes left before anything
// is allocated for it. Because every item has one
// encoding, a decoded value re-encodes to the bytes it came from
// (FuzzCBOR checks it).

// cborKind is a CBOR major type this reader accepts.
type cborKind uint8

const (
	cborUint  cborKind = 0
	cborBytes cborKind = 2
	cborText  cborKind = 3
	cborArray cborKind = 4
	cborMap   cborKind = 5
)

// maxCBORDepth bounds nesting: the attestation object is three levels
// deep (map, attStmt map, x5c array). maxCBORItems bounds an array's or
// a map's items (App Attest sends 3 at most), so that duplicate keys are
// found in few comparisons.
const (
	maxCBORDepth = 4
	maxCBORItems = 16
)

// cborValue is one decoded item. Strings alias the input.
type cborValue struct {
	kind  cborKind
	n     uint64      // the value of a cborUint
	str   []byte      // the content of a cborBytes or cborText
	items []cborValue // an array's items
	keys  []string    // a map's keys, in the order sent
	vals  []cborValue // a map's values, keys[i] -> vals[i]
}

// get returns the value of a map's key.
func (v *cborValue) get(key string) (*cborValue, bool) {
	for i, k := range v.keys {
		if k == key {
			return &v.vals[i], true
		}
	}
	return nil, false
}

// errCBOR makes a parse error; every one wraps ErrFormat.
func errCBOR(format string, args ...any) error {
	return fmt.Errorf("%w: CBOR: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// parseCBOR decodes exactly one item that fills b.
func parseCBOR(b []byte) (cborValue, error) {
	v, rest, err := parseCBORItem(b, 0)
	if err != nil {
		return cborValue{}, err
	}
	if len(rest) != 0 {
		return cborValue{}, errCBOR("%d bytes after the item", len(rest))
	}
	return v, nil
}

// cborHead reads an item's initial byte and argument.
func cborHead(b []byte) (kind cborKind, arg uint64, rest []byte, err error) {
	if len(b) == 0 {
		return 0, 0, nil, errCBOR("truncated")
	}
	major, info := b[0]>>5, b[0]&0x1f
	b = b[1:]
	switch major {
	case 0, 2, 3, 4, 5:
	default:
		return 0, 0, nil, errCBOR("major type %d not accepted", major)
	}
	var size int
	switch {
	case info < 24:
		return cborKind(major), uint64(info), b, nil
	case info == 24:
		size = 1
	case info == 25:
		size = 2
	case info == 26:
		size = 4
	case info == 27:
		size = 8
	default: // 28-30 reserved, 31 indefinite length
		return 0, 0, nil, errCBOR("additional information %d not accepted", info)
	}
	if len(b) < size {
		return 0, 0, nil, errCBOR("truncated")
	}
	var min uint64 // the least argument that needs this size
	switch size {
	case 1:
		arg, min = uint64(b[0]), 24
	case 2:
		arg, min = uint64(binary.BigEndian.Uint16(b)), 1<<8
	case 4:
		arg, min = uint64(binary.BigEndian.Uint32(b)), 1<<16
	case 8:
		arg, min = binary.BigEndian.Uint64(b), 1<<32
	}
	if arg < min {
		return 0, 0, nil, errCBOR("argument not in its shortest form")
	}
	return cborKind(major), arg, b[size:], nil
}

func parseCBORItem(b []byte, depth int) (cborValue, []byte, error) {
	kind, arg, b, err := cborHead(b)
	if err != nil {
		return cborValue{}, nil, err
	}
	switch kind {
	case cborUint:
		return cborValue{kind: kind, n: arg}, b, nil
	case cborBytes, cborText:
		if arg > uint64(len(b)) {
			return cborValue{}, nil, errCBOR("string longer than the input")
		}
		s := b[:arg:arg]
		if kind == cborText && !utf8.Valid(s) {
			return cborValue{}, nil, errCBOR("text not UTF-8")
		}
		return cborValue{kind: kind, str: s}, b[arg:], nil
	}
	if depth >= maxCBORDepth {
		return cborValue{}, nil, errCBOR("nested deeper than %d", maxCBORDepth)
	}
	// Each item takes a byte at least (a map entry two).
	per := uint64(1)
	if kind == cborMap {
		per = 2
	}
	if arg > maxCBORItems || arg > uint64(len(b))/per {
		return cborValue{}, nil, errCBOR("%d items", arg)
	}
	v := cborValue{kind: kind}
	if kind == cborArray {
		v.items = make([]cborValue, 0, arg)
		for range arg {
			var it cborValue
			if it, b, err = parseCBORItem(b, depth+1); err != nil {
				return cborValue{}, nil, err
			}
			v.items = append(v.items, it)
		}
		return v, b, nil
	}
	v.keys, v.vals = make([]string, 0, arg), make([]cborValue, 0, arg)
	for range arg {
		var k, val cborValue
		if k, b, err = parseCBORItem(b, depth+1); err != nil {
			return cborValue{}, nil, err
		}
		if k.kind != cborText {
			return cborValue{}, nil, errCBOR("map key is not text")
		}
		if _, dup := v.get(string(k.str)); dup {
			return cborValue{}, nil, errCBOR("a map key twice")
		}
		if val, b, err = parseCBORItem(b, depth+1); err != nil {
			return cborValue{}, nil, err
		}
		v.keys, v.vals = append(v.keys, string(k.str)), append(v.vals, val)
	}
	return v, b, nil
}
