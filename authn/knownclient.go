package authn

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// purposeClient is the MAC purpose of known-client tokens.
const purposeClient = "known-client"

// Known-client tokens and buckets.
const (
	// DefaultKnownClientTTL is how long a known-client token is valid
	// when Config.KnownClientTTL is zero.
	DefaultKnownClientTTL = 30 * 24 * time.Hour
	// MaxKnownClients is how many known clients of one user keep a
	// lockout bucket of their own at a time; past it, a known client
	// without a bucket is counted in the shared bucket of unknown clients
	// (see the package documentation, "Lockout").
	MaxKnownClients = 8
	// DefaultSlowHorizon, DefaultSlowAlert and DefaultSlowLock are the
	// defaults of Config.SlowHorizon, SlowAlert and SlowLock.
	DefaultSlowHorizon = 7 * 24 * time.Hour
	DefaultSlowAlert   = 12
	DefaultSlowLock    = 24
)

// A known-client token is base64url (no padding) of
//
//	version (1 byte, 1) ‖ key ID length (1) ‖ key ID ‖ client ID (16)
//	‖ epoch (8) ‖ issued at (8, Unix seconds) ‖ expires at (8, Unix
//	seconds) ‖ MAC (32)
//
// integers big-endian, where the MAC is HMAC-SHA256 under the key ID's
// "known-client" purpose key of "keyline/v1/known-client" ‖ u32(len(user))
// ‖ user ‖ every byte before the MAC. The user is not in the token (it
// names nobody to whoever reads the cookie): the login call that presents
// it names the user, and the MAC binds the two.
const (
	clientTokenVersion = 1
	clientIDLen        = 16
	clientMACLen       = sha256.Size
	clientFixedLen     = 1 + 1 + clientIDLen + 8 + 8 + 8 + clientMACLen
	clientTokenMax     = clientFixedLen + 64 // key IDs are at most 64 bytes
)

// KnownClientToken is a known-client token (Result.KnownClient): a
// bearer credential for its client's lockout bucket, URL- and
// cookie-safe (base64url). It prints redacted with every fmt verb and
// through slog, and refuses JSON encoding: keep it in a cookie, as
// string(token), and read it back as KnownClientToken(cookie.Value).
type KnownClientToken string

// String is the token redacted.
func (KnownClientToken) String() string { return "[redacted known-client token]" }

// GoString is String.
func (t KnownClientToken) GoString() string { return t.String() }

// Format prints String for every verb.
func (t KnownClientToken) Format(f fmt.State, _ rune) { fmt.Fprint(f, t.String()) }

// LogValue is String, for slog.
func (t KnownClientToken) LogValue() slog.Value { return slog.StringValue(t.String()) }

// MarshalJSON refuses: the token belongs in a cookie, not in a log or a
// JSON document by accident.
func (KnownClientToken) MarshalJSON() ([]byte, error) {
	return nil, errors.New("authn: a KnownClientToken is not serialised; keep it in a cookie as string(token)")
}

// clientToken is a known-client token, parsed but not yet verified.
type clientToken struct {
	keyID   string
	client  [clientIDLen]byte
	epoch   uint64
	issued  int64
	expires int64
	body    []byte // every byte the MAC covers, after the user
	mac     []byte
}

// errClientToken: the token is not well formed. Never shown to a caller:
// a token that fails for any reason is treated as no token.
var errClientToken = errors.New("authn: known-client token is not well formed")

// parseClientToken decodes a token's fields; it checks no MAC. It
// returns nothing partial on an error.
func parseClientToken(s string) (clientToken, error) {
	if len(s) > base64.RawURLEncoding.EncodedLen(clientTokenMax) {
		return clientToken{}, errClientToken
	}
	// The decoder skips CR and LF: only the alphabet is accepted, so that
	// one token has one spelling.
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return clientToken{}, errClientToken
		}
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) < clientFixedLen || b[0] != clientTokenVersion {
		return clientToken{}, errClientToken
	}
	n := int(b[1])
	if n < 1 || n > 64 || len(b) != clientFixedLen+n {
		return clientToken{}, errClientToken
	}
	var t clientToken
	t.keyID = string(b[2 : 2+n])
	p := b[2+n:]
	copy(t.client[:], p[:clientIDLen])
	p = p[clientIDLen:]
	t.epoch = binary.BigEndian.Uint64(p[0:8])
	t.issued = int64(binary.BigEndian.Uint64(p[8:16]))
	t.expires = int64(binary.BigEndian.Uint64(p[16:24]))
	t.body = b[:len(b)-clientMACLen]
	t.mac = b[len(b)-clientMACLen:]
	return t, nil
}

// clientTokenMAC is the token's MAC under key for user.
func clientTokenMAC(key *macKey, user string, body []byte) []byte {
	var ul [4]byte
	binary.BigEndian.PutUint32(ul[:], uint32(len(user)))
	return key.sum(make([]byte, 0, sha256.Size), []byte("keyline/v1/known-client"), ul[:], []byte(user), body)
}

// newClientToken makes a token for user and client, valid for
// KnownClientTTL from now, under the primary key.
func (s *Service) newClientToken(user string, client [clientIDLen]byte, epoch uint64, now time.Time) (KnownClientToken, time.Time) {
	key := s.macs.primary[purposeClient]
	expires := now.Add(s.cfg.KnownClientTTL).Truncate(time.Second)
	b := make([]byte, 0, clientFixedLen+len(key.id))
	b = append(b, clientTokenVersion, byte(len(key.id)))
	b = append(b, key.id...)
	b = append(b, client[:]...)
	b = binary.BigEndian.AppendUint64(b, epoch)
	b = binary.BigEndian.AppendUint64(b, uint64(now.Unix()))
	b = binary.BigEndian.AppendUint64(b, uint64(expires.Unix()))
	b = append(b, clientTokenMAC(key, user, b)...)
	return KnownClientToken(base64.RawURLEncoding.EncodeToString(b)), expires
}

// checkClientToken verifies a token presented for user at now against the
// user's epoch: it returns the client ID, or a reason why the token is
// treated as no token.
func (s *Service) checkClientToken(user, token string, epoch uint64, now time.Time) ([clientIDLen]byte, Reason) {
	t, err := parseClientToken(token)
	if err != nil {
		return [clientIDLen]byte{}, ReasonInvalid
	}
	key, ok := s.macs.byID[t.keyID][purposeClient]
	if !ok || !hmac.Equal(t.mac, clientTokenMAC(key, user, t.body)) {
		return [clientIDLen]byte{}, ReasonInvalid
	}
	switch {
	case now.Unix() >= t.expires || t.issued > now.Add(time.Minute).Unix():
		return [clientIDLen]byte{}, ReasonExpired
	case t.epoch != epoch:
		return [clientIDLen]byte{}, ReasonRevoked
	}
	return t.client, ""
}

// loginClient is the client a login call serves, as its options and the
// known-client token they carry tell it.
type loginClient struct {
	bucket string            // the lockout bucket: "" for an unknown client, else the client ID in hex
	id     [clientIDLen]byte // the client ID, when known
}

// client reads a login call's options: the bucket the call counts in.
// A token that does not verify for user (altered, another user's or key's,
// expired, of an older epoch) is audited and treated as no token: the
// call's answer never says which part failed.
func (s *Service) client(ctx context.Context, user string, opts []LoginOption, now time.Time) (loginClient, error) {
	var o loginOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.knownClient == "" {
		return loginClient{}, nil
	}
	st, err := s.records.User(ctx, user, now)
	if err != nil {
		return loginClient{}, storeErr(err)
	}
	id, reason := s.checkClientToken(user, string(o.knownClient), st.Epoch, now)
	if reason != "" {
		s.event(ctx, EventKnownClientRefused, "", user, "", reason)
		return loginClient{}, nil
	}
	return loginClient{bucket: hex.EncodeToString(id[:]), id: id}, nil
}

// knownClient sets r's known-client token after a second-factor success
// of the client c: the same client ID when c was known, a fresh one
// otherwise, under the user's epoch now.
func (s *Service) knownClient(ctx context.Context, r *Result, c loginClient, now time.Time) error {
	st, err := s.records.User(ctx, r.User, now)
	if err != nil {
		return storeErr(err)
	}
	r.KnownClient, r.KnownClientExpires = s.newClientToken(r.User, c.clientID(), st.Epoch, now)
	return nil
}

// clientID is the client's ID when it is known, else a fresh one.
func (c loginClient) clientID() [clientIDLen]byte {
	id := c.id
	if c.bucket == "" {
		rand.Read(id[:])
	}
	return id
}

// bucketOf returns, from the user's buckets (HotStore.Lockout), the state
// of the bucket an attempt of the client would be counted in: its own,
// or, when it has none and the user's known clients fill MaxKnownClients
// live buckets, the shared one.
func bucketOf(all []ClientLockout, client string, p LockPolicy, now time.Time) UserState {
	var shared UserState
	live := 0
	for _, b := range all {
		switch {
		case b.Client == client:
			return b.State
		case b.Client == "":
			shared = b.State
		case !p.Stale(b.State, now):
			live++
		}
	}
	if client == "" || live >= p.MaxClients {
		return shared
	}
	return UserState{}
}

// slowGuessing raises EventSlowGuessing when an attempt's failure made
// the bucket's long-horizon count reach the alert or the lock threshold.
func (s *Service) slowGuessing(ctx context.Context, m Method, user string, slow int) {
	if slow == s.cfg.SlowAlert {
		s.event(ctx, EventSlowGuessing, m, user, "", ReasonSlowAlert)
	}
	if slow == s.cfg.SlowLock {
		s.event(ctx, EventSlowGuessing, m, user, "", ReasonSlowLock)
	}
}
