package sqlstore

import (
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"

	"github.com/keyline/keyline/authn"
)

// nanos is t as Unix nanoseconds; the zero time is 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// at is the time of Unix nanoseconds n, in UTC; 0 is the zero time.
func at(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// blob is b as a parameter: NULL for nil, so that nil reads back as nil.
func blob(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

func flag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// jsonText is v as JSON text, or NULL for a nil map or slice.
func jsonText(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return nil, err
	}
	return string(b), nil
}

func fromJSON(s sql.NullString, v any) error {
	if !s.Valid {
		return nil
	}
	return json.Unmarshal([]byte(s.String), v)
}

// Tags are encoded as a version byte, then per tag: the MAC (16 bytes),
// the step (8), the drift (8, two's complement), the device's length (2)
// and the device.
const tagsVersion = 1

func encodeTags(tags []authn.Tag) ([]byte, error) {
	b := make([]byte, 1, 1+len(tags)*40)
	b[0] = tagsVersion
	for _, t := range tags {
		if len(t.Device) > 0xffff {
			return nil, errors.New("a tag's device ID is too long")
		}
		b = append(b, t.MAC[:]...)
		b = binary.BigEndian.AppendUint64(b, t.Step)
		b = binary.BigEndian.AppendUint64(b, uint64(int64(t.Drift)))
		b = binary.BigEndian.AppendUint16(b, uint16(len(t.Device)))
		b = append(b, t.Device...)
	}
	return b, nil
}

var errTags = errors.New("malformed tags")

func decodeTags(b []byte) ([]authn.Tag, error) {
	if len(b) < 1 || b[0] != tagsVersion {
		return nil, errTags
	}
	b = b[1:]
	var tags []authn.Tag
	for len(b) > 0 {
		if len(b) < 34 {
			return nil, errTags
		}
		var t authn.Tag
		copy(t.MAC[:], b)
		t.Step = binary.BigEndian.Uint64(b[16:])
		t.Drift = int(int64(binary.BigEndian.Uint64(b[24:])))
		n := int(binary.BigEndian.Uint16(b[32:]))
		b = b[34:]
		if len(b) < n {
			return nil, errTags
		}
		t.Device = string(b[:n])
		b = b[n:]
		tags = append(tags, t)
	}
	return tags, nil
}

type scanner interface{ Scan(dest ...any) error }
