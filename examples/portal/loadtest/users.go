package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// maxUsers bounds -make-users: each virtual user has its own
// X-Forwarded-For address in 10.0.0.0/16 during the setup.
const maxUsers = 50_000

// The Argon2id parameters of the synthetic users: the lightest the
// portal's users file accepts (t ≥ 1, p ≥ 1, m ≥ 8 KiB per lane).
const (
	lightTime      = 1
	lightMemoryKiB = 8
	lightThreads   = 1
)

// userName is the i-th synthetic user, from 1: load-0001, load-0002, ...
func userName(i int) string { return fmt.Sprintf("load-%04d", i) }

// password derives a user's password from the secret: so the users file
// holds none, and the load run needs only the secret.
func password(secret, user string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("keyline loadtest password\x00" + user))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// phcString hashes a password as the portal's -hash-password would, at
// the light parameters.
func phcString(pw string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	sum := argon2.IDKey([]byte(pw), salt, lightTime, lightMemoryKiB, lightThreads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, lightMemoryKiB, lightTime, lightThreads,
		b64.EncodeToString(salt), b64.EncodeToString(sum))
}

// writeUsersFile writes n synthetic users to path, which must not exist
// yet (a users file is not overwritten by mistake).
func writeUsersFile(path string, n int, secret string) error {
	var b bytes.Buffer
	b.WriteString("# Synthetic users for examples/portal/loadtest; passwords derived from its -secret.\n")
	b.WriteString("# Argon2id at the lightest parameters the portal accepts: never for real accounts.\n")
	for i := 1; i <= n; i++ {
		name := userName(i)
		fmt.Fprintf(&b, "%s:%s:Load user %d\n", name, phcString(password(secret, name)), i)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists: remove it, or give another -users-file", path)
		}
		return err
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readUsersFile returns the usernames of a users file, in its order,
// after checking that each hash is of the password the secret derives.
func readUsersFile(path, secret string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < 2 {
			return nil, fmt.Errorf("%s line %d: want username:argon2id-hash[:...]", path, n)
		}
		ok, err := phcMatches(f[1], password(secret, f[0]))
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, n, err)
		}
		if !ok {
			return nil, fmt.Errorf("%s line %d: the hash of %s is not of the password -secret derives: another secret, or not a file -make-users wrote", path, n, f[0])
		}
		names = append(names, f[0])
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s has no users", path)
	}
	if len(names) > maxUsers {
		return nil, fmt.Errorf("%s has %d users; at most %d", path, len(names), maxUsers)
	}
	return names, nil
}

// phcMatches reports whether an Argon2id PHC string is the hash of pw.
// It refuses parameters heavier than a users file of this program has.
func phcMatches(s, pw string) (bool, error) {
	bad := errors.New("not an argon2id PHC string")
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return false, bad
	}
	var m, t, p uint64
	for kv := range strings.SplitSeq(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return false, bad
		}
		switch k {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			p = n
		default:
			return false, bad
		}
	}
	if t < 1 || p < 1 || p > 255 || m < 8*p {
		return false, bad
	}
	if m > 1024 || t > 4 {
		return false, fmt.Errorf("argon2id parameters m=%d,t=%d heavier than -make-users writes: not a load-test users file", m, t)
	}
	salt, err := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil {
		return false, bad
	}
	sum, err := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil || len(sum) < 16 || len(sum) > 64 {
		return false, bad
	}
	got := argon2.IDKey([]byte(pw), salt, uint32(t), uint32(m), uint8(p), uint32(len(sum)))
	return subtle.ConstantTimeCompare(got, sum) == 1, nil
}
