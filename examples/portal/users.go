package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argonParams are Argon2id's parameters (RFC 9106).
type argonParams struct {
	Time      uint32
	MemoryKiB uint32
	Threads   uint8
}

// defaultArgon is RFC 9106's second recommended option: t=3, 64 MiB,
// p=4. Hashes keep their parameters, so raising these later only affects
// new hashes.
var defaultArgon = argonParams{Time: 3, MemoryKiB: 64 << 10, Threads: 4}

const (
	saltLen = 16
	hashLen = 32
	// Bounds on what a PHC string may ask for: the users file is trusted,
	// but a typo must not make every login allocate gigabytes.
	maxArgonMemoryKiB = 1 << 20 // 1 GiB
	maxArgonTime      = 16
)

// user is a portal account. ID is keyline's opaque user ID; Username is
// what is typed at login and shown on the phone.
type user struct {
	ID       string
	Username string
	Display  string
	Account  string      // the account a withdrawal debits
	cred     credentials // the password (password.go)
}

// phc is a parsed Argon2id PHC string.
type phc struct {
	p    argonParams
	salt []byte
	sum  []byte
}

// hashPassword returns the PHC string of password under p with a fresh
// random salt:
//
//	$argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>
//
// salt and hash in standard base64 without padding.
func hashPassword(password string, p argonParams) string {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	sum := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, hashLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(sum))
}

// parsePHC parses an Argon2id PHC string as hashPassword writes it.
func parsePHC(s string) (phc, error) {
	bad := errors.New("not an argon2id hash as -hash-password prints it")
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, bad
	}
	var h phc
	for kv := range strings.SplitSeq(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return phc{}, bad
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return phc{}, bad
		}
		switch k {
		case "m":
			h.p.MemoryKiB = uint32(n)
		case "t":
			h.p.Time = uint32(n)
		case "p":
			if n > 255 {
				return phc{}, bad
			}
			h.p.Threads = uint8(n)
		default:
			return phc{}, bad
		}
	}
	if h.p.Time < 1 || h.p.Time > maxArgonTime || h.p.Threads < 1 ||
		h.p.MemoryKiB < 8*uint32(h.p.Threads) || h.p.MemoryKiB > maxArgonMemoryKiB {
		return phc{}, errors.New("argon2id parameters out of range")
	}
	var err error
	if h.salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return phc{}, bad
	}
	if h.sum, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil || len(h.sum) < 16 || len(h.sum) > 64 {
		return phc{}, bad
	}
	return h, nil
}

// matches reports whether password hashes to h, comparing in constant
// time.
func (h phc) matches(password string) bool {
	sum := argon2.IDKey([]byte(password), h.salt, h.p.Time, h.p.MemoryKiB, h.p.Threads, uint32(len(h.sum)))
	return subtle.ConstantTimeCompare(sum, h.sum) == 1
}

// demoUser is a built-in demo account.
type demoUser struct{ username, password, display string }

var demoUsers = []demoUser{
	{"alice", "alice-demo-password", "Alice Example"},
	{"bob", "bob-demo-password", "Bob Example"},
}

// validUsername reports whether s is 1 to 64 of a-z 0-9 . _ -.
func validUsername(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func newUser(username, display, account string, h phc) *user {
	if display == "" {
		display = username
	}
	if account == "" {
		account = "DEMO-" + strings.ToUpper(username)
	}
	// keyline's user ID is opaque and stable; the username is shown.
	return &user{ID: "portal:" + username, Username: username, Display: display, Account: account, cred: credentials{h: h}}
}

// loadUsers returns the demo users (when on) and those of the users file
// (when given), by username.
func loadUsers(cfg config, p argonParams) (map[string]*user, error) {
	users := map[string]*user{}
	if cfg.DemoUsers {
		for _, d := range demoUsers {
			h, err := parsePHC(hashPassword(d.password, p))
			if err != nil {
				return nil, err
			}
			users[d.username] = newUser(d.username, d.display, "", h)
		}
	}
	if cfg.UsersFile == "" {
		return users, nil
	}
	raw, err := os.ReadFile(cfg.UsersFile)
	if err != nil {
		return nil, err
	}
	if err := parseUsers(raw, users); err != nil {
		return nil, fmt.Errorf("users file %s: %w", cfg.UsersFile, err)
	}
	return users, nil
}

// parseUsers adds the users of a users file to users.
func parseUsers(raw []byte, users map[string]*user) error {
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < 2 || len(f) > 4 {
			return fmt.Errorf("line %d: want username:argon2id-hash[:display name[:account]]", n)
		}
		name := f[0]
		if !validUsername(name) {
			return fmt.Errorf("line %d: username must be 1 to 64 of a-z 0-9 . _ -", n)
		}
		if _, dup := users[name]; dup {
			return fmt.Errorf("line %d: user %q given twice (or a demo user: run with -demo-users=false)", n, name)
		}
		h, err := parsePHC(f[1])
		if err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		var display, account string
		if len(f) > 2 {
			display = strings.TrimSpace(f[2])
		}
		if len(f) > 3 {
			account = strings.TrimSpace(f[3])
		}
		if len(display) > 128 || len(account) > 64 {
			return fmt.Errorf("line %d: display name (128) or account (64 bytes) too long", n)
		}
		users[name] = newUser(name, display, account, h)
	}
	return sc.Err()
}
