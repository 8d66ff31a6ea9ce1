package enroll

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// jsonShape is what a strict decoder accepts of a JSON object: its keys,
// spelled exactly, each at most once, with the shape of those that are
// objects themselves, and the keys that must be present.
type jsonShape struct {
	keys     map[string]*jsonShape // nil value: any JSON value
	required []string
}

// checkJSONShape requires b to be one JSON object of shape s, with
// nothing after it but white space. encoding/json alone takes the last of
// repeated keys and matches keys without regard to case, so two parsers
// could read one message differently; this refuses what would let them.
// It returns why it refuses, or "".
func checkJSONShape(b []byte, s *jsonShape) string {
	if !utf8.Valid(b) {
		return "not valid UTF-8" // encoding/json would read U+FFFD
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if reason := checkJSONObject(dec, s, ""); reason != "" {
		return reason
	}
	if len(bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n")) != 0 {
		return "trailing data"
	}
	return ""
}

func checkJSONObject(dec *json.Decoder, s *jsonShape, path string) string {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "not a JSON object" + where(path)
	}
	seen := make(map[string]bool, len(s.keys))
	for dec.More() {
		tok, err := dec.Token()
		k, ok := tok.(string)
		if err != nil || !ok {
			return "malformed object" + where(path)
		}
		sub, known := s.keys[k]
		switch {
		case !known:
			return "unknown field " + strconv.Quote(path+k)
		case seen[k]:
			return "repeated field " + strconv.Quote(path+k)
		}
		seen[k] = true
		if sub != nil {
			if reason := checkJSONObject(dec, sub, path+k+"."); reason != "" {
				return reason
			}
			continue
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "malformed value of " + strconv.Quote(path+k)
		}
	}
	if _, err := dec.Token(); err != nil {
		return "malformed object" + where(path)
	}
	for _, k := range s.required {
		if !seen[k] {
			return "missing field " + strconv.Quote(path+k)
		}
	}
	return ""
}

func where(path string) string {
	if path == "" {
		return ""
	}
	return " at " + strconv.Quote(path[:len(path)-1])
}

// requestShape is the activation request of PROTOCOL.md §2. attestation
// and push_token may be omitted (they are when empty); every other field
// must be present.
var requestShape = &jsonShape{
	keys: map[string]*jsonShape{
		"sid": nil, "device_key": nil, "offer_hash": nil, "confirm": nil,
		"device": {
			keys: map[string]*jsonShape{"install_id": nil, "name": nil, "platform": nil, "integrity": nil,
				"attestation": nil, "push_token": nil},
			required: []string{"install_id", "name", "platform", "integrity"},
		},
	},
	required: []string{"sid", "device_key", "device", "offer_hash", "confirm"},
}

// answerShape is the push answer of PROTOCOL.md §8: every field is
// required but tx_response, omitted when empty.
var answerShape = &jsonShape{
	keys: map[string]*jsonShape{"request_id": nil, "nonce": nil, "context_hash": nil, "approve": nil,
		"typed_number": nil, "step": nil, "tx_response": nil, "mac": nil},
	required: []string{"request_id", "nonce", "context_hash", "approve", "typed_number", "step", "mac"},
}
