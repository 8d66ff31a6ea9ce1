package challenge

import (
	"crypto"
	"crypto/hmac"
	"encoding/binary"
	"time"
)

// HOTP is the HMAC-based one-time password of RFC 4226, generalised to
// SHA-256 and SHA-512 as RFC 6238 does. The zero value is the RFC's:
// HMAC-SHA1 and 6 digits.
type HOTP struct {
	// Hash is crypto.SHA1 (the zero value selects it), crypto.SHA256 or
	// crypto.SHA512.
	Hash crypto.Hash
	// Digits is the code length, 6 to 10 (RFC 4226 §5.3 asks for at
	// least 6); 0 selects 6.
	Digits int
}

// TOTP is the time-based one-time password of RFC 6238: HOTP over the
// number of periods since the Unix epoch (T0 = 0). The zero value is what
// authenticator apps use: HMAC-SHA1, 6 digits, 30 seconds.
type TOTP struct {
	// Hash is crypto.SHA1 (the zero value selects it), crypto.SHA256 or
	// crypto.SHA512.
	Hash crypto.Hash
	// Digits is the code length, 6 to 10; 0 selects 6.
	Digits int
	// Period is the time step, a whole number of seconds; 0 selects 30s.
	Period time.Duration
	// AllowShortKey lowers the minimum key length from 16 bytes to 10, so
	// that services can import the 80-bit secrets older authenticator
	// set-ups used. New keys should be at least 20 bytes.
	AllowShortKey bool
}

// minShortKeyLen is the shortest TOTP key AllowShortKey admits.
const minShortKeyLen = 10

func (h HOTP) params() (*algorithm, int, error) {
	hash := h.Hash
	if hash == 0 {
		hash = crypto.SHA1
	}
	a := algorithmFor(hash)
	if a == nil {
		return nil, 0, inputErr("hash %v is not SHA1, SHA256 or SHA512", hash)
	}
	d := h.Digits
	if d == 0 {
		d = 6
	}
	if d < 6 || d > 10 {
		return nil, 0, inputErr("%d digits out of range 6..10", d)
	}
	return a, d, nil
}

// Code returns the HOTP value of key at counter.
func (h HOTP) Code(key []byte, counter uint64) (string, error) {
	return h.code(key, counter, MinKeyLen)
}

func (h HOTP) code(key []byte, counter uint64, minKey int) (string, error) {
	a, d, err := h.params()
	if err != nil {
		return "", err
	}
	if err := checkKey(key, minKey); err != nil {
		return "", err
	}
	var c [8]byte
	binary.BigEndian.PutUint64(c[:], counter)
	mac := hmac.New(a.new, key)
	mac.Write(c[:])
	sum := mac.Sum(nil)
	out := make([]byte, d)
	renderDigits(out, truncate(sum))
	clear(sum)
	return string(out), nil
}

// HOTPVerifier checks HOTP codes of one key. It is safe for concurrent use
// and allocates nothing per verification (on the slow path, see
// [FastPath], nothing unless the verifier is in use by another
// goroutine).
type HOTPVerifier struct {
	key *hmacKey
}

// NewVerifier returns a verifier for key, which must be at least
// [MinKeyLen] bytes. The key is not retained.
func (h HOTP) NewVerifier(key []byte) (*HOTPVerifier, error) {
	return h.newVerifier(key, MinKeyLen)
}

func (h HOTP) newVerifier(key []byte, minKey int) (*HOTPVerifier, error) {
	a, d, err := h.params()
	if err != nil {
		return nil, err
	}
	if err := checkKey(key, minKey); err != nil {
		return nil, err
	}
	k, err := newHMACKey(a, key, d)
	if err != nil {
		return nil, err
	}
	return &HOTPVerifier{key: k}, nil
}

// Verify checks code against the counters of w around counter (Behind is
// usually 0 and Ahead the look-ahead of RFC 4226 §7.4). The errors and the
// choice among matches are those of [Verifier.Verify].
func (v *HOTPVerifier) Verify(counter uint64, code string, w Window) (Match, error) {
	if err := w.check(); err != nil {
		return Match{}, err
	}
	var resp parsedResponse
	if err := parseResponse(&resp, code, v.key.digits, v.key.respSize); err != nil {
		return Match{}, err
	}
	s := v.key.get()
	defer v.key.put(s)
	binary.BigEndian.PutUint64(s.msg[:8], counter)
	return v.key.verify(s, message{n: 8, varOff: 0, centre: counter}, &resp, w)
}

func (t TOTP) params() (HOTP, uint64, int, error) {
	h := HOTP{Hash: t.Hash, Digits: t.Digits}
	if _, _, err := h.params(); err != nil {
		return h, 0, 0, err
	}
	p := t.Period
	if p == 0 {
		p = 30 * time.Second
	}
	if p < time.Second || p%time.Second != 0 {
		return h, 0, 0, inputErr("period %v is not a whole, positive number of seconds", p)
	}
	minKey := MinKeyLen
	if t.AllowShortKey {
		minKey = minShortKeyLen
	}
	return h, uint64(p / time.Second), minKey, nil
}

// Step returns the time step of at: floor(unix seconds / Period).
func (t TOTP) Step(at time.Time) (uint64, error) {
	_, period, _, err := t.params()
	if err != nil {
		return 0, err
	}
	return unixStep(at, period)
}

// Code returns the TOTP value of key at the given time.
func (t TOTP) Code(key []byte, at time.Time) (string, error) {
	h, period, minKey, err := t.params()
	if err != nil {
		return "", err
	}
	step, err := unixStep(at, period)
	if err != nil {
		return "", err
	}
	return h.code(key, step, minKey)
}

// TOTPVerifier checks TOTP codes of one key. It is safe for concurrent use
// and allocates nothing per verification (on the slow path, see
// [FastPath], nothing unless the verifier is in use by another
// goroutine).
type TOTPVerifier struct {
	hotp   *HOTPVerifier
	period uint64
}

// NewVerifier returns a verifier for key, which must be at least
// [MinKeyLen] bytes (10 with AllowShortKey). The key is not retained.
func (t TOTP) NewVerifier(key []byte) (*TOTPVerifier, error) {
	h, period, minKey, err := t.params()
	if err != nil {
		return nil, err
	}
	hv, err := h.newVerifier(key, minKey)
	if err != nil {
		return nil, err
	}
	return &TOTPVerifier{hotp: hv, period: period}, nil
}

// Verify checks code against the time steps of w around the step of at.
// RFC 6238 §5.2 recommends at most one step behind for network delay.
// The errors and the choice among matches are those of [Verifier.Verify];
// refusing a step already used is the caller's job.
func (v *TOTPVerifier) Verify(at time.Time, code string, w Window) (Match, error) {
	step, err := unixStep(at, v.period)
	if err != nil {
		return Match{}, err
	}
	return v.hotp.Verify(step, code, w)
}
