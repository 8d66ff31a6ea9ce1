package keylinecore

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/keyline/keyline/enroll/deviceclient"
)

// profileVersion is the version of the profile record's format.
const profileVersion = 1

// Bounds on the profile record, so that a planted one cannot make the
// core allocate much: the vault holds at most 100 credentials, and a
// push token is at most 4096 bytes (PROTOCOL.md §10).
const (
	maxProfile      = 1 << 20
	maxAccounts     = 100
	maxServers      = 100
	maxServerURL    = 2048
	maxPushToken    = 4096
	installIDLength = 22
)

// profile is what the core keeps beside the vault (ProfileRecord): the
// install ID, the push token, each account's server and state, and each
// server's clock offset (PROTOCOL.md §11, "What to keep"). It holds no
// secret; it is JSON:
//
//	{"v":1,"install_id":"…","push_token":"…",
//	 "accounts":{"<device ID>":{"server":"https://…","paired":true,"pair_by":0,"token_sent":true,"removed_at":0}},
//	 "servers":{"https://…":{"offset":-300}}}
type profile struct {
	Version   int                     `json:"v"`
	InstallID string                  `json:"install_id"`
	PushToken string                  `json:"push_token"`
	Accounts  map[string]*accountMeta `json:"accounts"`
	Servers   map[string]*serverMeta  `json:"servers"`
}

// accountMeta is what the core keeps of an account beside its credential.
type accountMeta struct {
	Server    string `json:"server"`     // the device API's base URL
	Paired    bool   `json:"paired"`     // the server answered a signed request: pairing is done
	PairBy    int64  `json:"pair_by"`    // Unix seconds, server time: pairing must be done by then (0 once paired)
	TokenSent bool   `json:"token_sent"` // the server has the current push token
	RemovedAt int64  `json:"removed_at"` // Unix seconds: when the server removed the device (0: not known removed)
}

// serverMeta is what the core keeps of a server.
type serverMeta struct {
	Offset int64 `json:"offset"` // server time minus phone time, in seconds (PROTOCOL.md §11)
}

// newProfile is the profile of a first launch: a fresh install ID
// (PROTOCOL.md §11, "Install ID": 16 random bytes, base64url).
func newProfile() *profile {
	id := make([]byte, 16)
	_, _ = rand.Read(id) // never fails (Go 1.24)
	return &profile{
		Version:   profileVersion,
		InstallID: base64.RawURLEncoding.EncodeToString(id),
		Accounts:  map[string]*accountMeta{},
		Servers:   map[string]*serverMeta{},
	}
}

// parseProfile reads a profile record strictly: one JSON object of the
// shape above, no unknown field, no trailing data, every value in its
// bounds. It returns nothing on error.
func parseProfile(b []byte) (*profile, error) {
	if len(b) > maxProfile {
		return nil, newError(CodeCorrupt, "the profile record is too large")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var p profile
	if err := d.Decode(&p); err != nil {
		return nil, newError(CodeCorrupt, "the profile record is not valid JSON of its shape")
	}
	if d.More() {
		return nil, newError(CodeCorrupt, "the profile record has trailing data")
	}
	if reason := p.check(); reason != "" {
		return nil, newError(CodeCorrupt, "the profile record is invalid: "+reason)
	}
	return &p, nil
}

// check returns why p is not a valid profile, or "".
func (p *profile) check() string {
	if p.Version != profileVersion {
		return "unknown version"
	}
	if id, err := base64.RawURLEncoding.Strict().DecodeString(p.InstallID); err != nil || len(id) != 16 || len(p.InstallID) != installIDLength {
		return "install ID"
	}
	if len(p.PushToken) > maxPushToken {
		return "push token"
	}
	if p.Accounts == nil || p.Servers == nil || len(p.Accounts) > maxAccounts || len(p.Servers) > maxServers {
		return "accounts or servers"
	}
	for id, a := range p.Accounts {
		if a == nil || !deviceIDValid(id) || checkServerURL(a.Server) != nil || a.PairBy < 0 || a.RemovedAt < 0 {
			return "account"
		}
	}
	for u, s := range p.Servers {
		if s == nil || checkServerURL(u) != nil || s.Offset > int64(deviceclient.MaxClockOffset/time.Second) ||
			s.Offset < -int64(deviceclient.MaxClockOffset/time.Second) {
			return "server"
		}
	}
	return ""
}

// encode writes the profile record.
func (p *profile) encode() []byte {
	b, err := json.Marshal(p)
	if err != nil { // maps of plain structs: cannot fail
		panic(fmt.Sprintf("keylinecore: encoding the profile: %v", err))
	}
	return b
}

// server returns the record of a server, made on first use.
func (p *profile) server(u string) *serverMeta {
	s := p.Servers[u]
	if s == nil {
		s = &serverMeta{}
		p.Servers[u] = s
	}
	return s
}

// deviceIDValid reports a device ID of the protocol: 32 lowercase hex
// digits.
func deviceIDValid(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// checkServerURL checks a device API base URL as deviceclient.New does:
// absolute http(s), a host, no user, query or fragment; at most
// maxServerURL bytes. It is the app's configuration, never a QR code's.
func checkServerURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case len(s) == 0 || len(s) > maxServerURL, err != nil, u.Scheme != "https" && u.Scheme != "http", u.Host == "",
		u.User != nil, u.RawQuery != "", u.ForceQuery, u.Fragment != "", u.Opaque != "":
		return newError(CodeInvalidInput, "the server URL is not an absolute http(s) URL without query or fragment")
	}
	return nil
}
