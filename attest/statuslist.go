package attest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
)

// StatusList is Google's attestation certificate status list: the
// serial numbers of revoked or suspended attestation keys and
// intermediates, as https://android.googleapis.com/attestation/status
// serves it. A StatusList is immutable; [Android.SetStatusList] swaps
// in a newer one.
type StatusList struct {
	entries map[string]string // serial, lowercase hex without leading zeros -> status
}

// maxStatusList bounds the JSON read (Google's list is a few hundred KiB).
const maxStatusList = 16 << 20

// ParseStatusList reads a status list in Google's JSON format:
//
//	{"entries": {"<serial in hex>": {"status": "REVOKED", "reason": "KEY_COMPROMISE", ...}, ...}}
//
// Every listed serial is refused, whatever its status (REVOKED or
// SUSPENDED); a list without "entries", or with a key that is not hex,
// is refused.
func ParseStatusList(b []byte) (*StatusList, error) {
	if len(b) > maxStatusList {
		return nil, fmt.Errorf("attest: status list longer than %d bytes", maxStatusList)
	}
	var doc struct {
		Entries map[string]struct {
			Status string `json:"status"`
		} `json:"entries"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&doc); err != nil {
		return nil, fmt.Errorf("attest: status list does not parse: %w", err)
	}
	if d.More() {
		return nil, fmt.Errorf("attest: status list has data after its object")
	}
	if doc.Entries == nil {
		return nil, fmt.Errorf(`attest: status list has no "entries"`)
	}
	l := &StatusList{entries: make(map[string]string, len(doc.Entries))}
	for k, e := range doc.Entries {
		n, ok := new(big.Int).SetString(k, 16)
		if !ok || n.Sign() < 0 || strings.HasPrefix(k, "+") {
			return nil, fmt.Errorf("attest: status list key is not a hex serial number")
		}
		l.entries[n.Text(16)] = e.Status
	}
	return l, nil
}

// Len returns how many serials the list holds.
func (l *StatusList) Len() int { return len(l.entries) }

// status returns the status of a certificate serial number, if listed.
func (l *StatusList) status(serial *big.Int) (string, bool) {
	s, ok := l.entries[serial.Text(16)]
	return s, ok
}
