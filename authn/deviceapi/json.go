package deviceapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/keyline/keyline/enroll"
)

// object is the shape of a JSON object a request body must be: the keys
// it may have, each mapped to the shape its value must have when that is
// an object too (nil: any other JSON value, whose type the decoder then
// checks), and the keys it must have.
type object struct {
	keys     map[string]*object
	required []string
}

// checkShape requires b to be exactly one JSON value, an object of shape
// o: no key it does not list, no key twice, none spelled in another case
// (encoding/json alone would match keys without regard to case and keep
// the last of repeated ones, so that two readers could see two different
// requests), every required key, nested objects likewise, and nothing
// after it but white space. It returns why not, or "". It reads no more
// than b, whose size the handler has bounded; nesting beyond the shape is
// only skipped, by encoding/json, which bounds its depth.
func checkShape(b []byte, o *object) string {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if reason := walk(dec, o, "body"); reason != "" {
		return reason
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "trailing data after the JSON object"
	}
	return ""
}

// walk reads one object of shape o from dec; where names it for messages.
func walk(dec *json.Decoder, o *object, where string) string {
	tok, err := dec.Token()
	if err != nil {
		return "malformed JSON"
	}
	if tok != json.Delim('{') {
		return where + " is not a JSON object"
	}
	seen := make(map[string]bool, len(o.keys))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "malformed JSON"
		}
		k, ok := tok.(string)
		if !ok {
			return "malformed JSON"
		}
		sub, known := o.keys[k]
		switch {
		case !known:
			return "unknown field " + strconv.Quote(k) + " in " + where
		case seen[k]:
			return "repeated field " + strconv.Quote(k) + " in " + where
		}
		seen[k] = true
		if sub != nil {
			if reason := walk(dec, sub, strconv.Quote(k)); reason != "" {
				return reason
			}
			continue
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "malformed JSON"
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return "malformed JSON"
	}
	for _, k := range o.required {
		if !seen[k] {
			return "missing field " + strconv.Quote(k) + " in " + where
		}
	}
	return ""
}

// decodeStrict checks b against o and decodes it into v, refusing
// unknown fields (for types without their own strict UnmarshalJSON the
// shape check already did; DisallowUnknownFields says it twice). Every
// refusal matches errBadRequest, or the sentinel of v's own decoder.
func decodeStrict(b []byte, o *object, v any) error {
	if reason := checkShape(b, o); reason != "" {
		return fmt.Errorf("%w: %s", errBadRequest, reason)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fmt.Errorf("%w: field %q is not a %s", errBadRequest, typeErr.Field, typeErr.Type)
		}
		if errors.Is(err, enroll.ErrInvalidRequest) || errors.Is(err, enroll.ErrInvalidInput) {
			return err // a type's own UnmarshalJSON: its sentinel, its message
		}
		return fmt.Errorf("%w: %v", errBadRequest, err)
	}
	return nil
}

// The bodies of the endpoints that take one.
var (
	// enroll.Request, as PROTOCOL.md §2 shows it.
	shapeActivate = &object{
		keys: map[string]*object{
			"sid": nil, "device_key": nil, "offer_hash": nil, "confirm": nil,
			"device": {
				keys:     map[string]*object{"install_id": nil, "name": nil, "platform": nil, "integrity": nil, "attestation": nil, "push_token": nil},
				required: []string{"install_id"},
			},
		},
		required: []string{"sid", "device_key", "device", "offer_hash", "confirm"},
	}
	// enroll.PushAnswer, as PROTOCOL.md §8 shows it; its own decoder is
	// as strict.
	shapeAnswer = &object{
		keys: map[string]*object{"request_id": nil, "nonce": nil, "context_hash": nil, "approve": nil,
			"typed_number": nil, "step": nil, "tx_response": nil, "mac": nil},
		required: []string{"request_id", "nonce", "context_hash", "approve", "typed_number", "step", "mac"},
	}
	shapeSession      = &object{keys: map[string]*object{"sid": nil}, required: []string{"sid"}}
	shapePushToken    = &object{keys: map[string]*object{"push_token": nil}, required: []string{"push_token"}}
	shapeEmpty        = &object{}
	shapeConfirmation = &object{keys: map[string]*object{"sid": nil, "pairing_code": nil}, required: []string{"sid", "pairing_code"}}
)
