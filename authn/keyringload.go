package authn

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// ErrDemoKeyring reports a keyring text marked insecure-demo, loaded
// without [AllowDemoKeys]: throwaway keys, generated for a demonstration
// and kept beside the data they seal, must not protect real users, even
// after the file is copied somewhere that looks safe.
var ErrDemoKeyring = errors.New("authn: the keys are marked insecure-demo")

// demoMark is the line that marks a keyring text as a demonstration's.
const demoMark = "insecure-demo"

// LoadOption tunes [LoadKeyringFile], [LoadKeyringEnv] and
// [ParseKeyring].
type LoadOption func(*loadOptions)

type loadOptions struct {
	allowDemo bool
}

// AllowDemoKeys accepts a keyring text marked insecure-demo. Only a
// demonstration passes it, on an explicit flag of its own (the example
// portal's -insecure-demo).
func AllowDemoKeys() LoadOption { return func(o *loadOptions) { o.allowDemo = true } }

// LoadKeyringFile reads a [Keyring] from the file at path, in the format
// of [ParseKeyring]. The file must be a regular file that neither group
// nor others may read or write (mode 0600 or 0400; not checked on
// Windows, whose permissions are not modes): anyone who reads it can
// open every sealed secret. Every refusal names the file and wraps
// [ErrInvalidKeyring] (or [ErrDemoKeyring]), except a file that cannot
// be opened, which wraps the [os] error ([fs.ErrNotExist], ...); none
// shows a key byte.
func LoadKeyringFile(path string, opts ...LoadOption) (*Keyring, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("authn: keys file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("authn: keys file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: keys file %s is not a regular file", ErrInvalidKeyring, path)
	}
	if perm := st.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: keys file %s has mode %#o: group or others may reach it (chmod 600)", ErrInvalidKeyring, path, perm)
	}
	if st.Size() > maxKeyringText {
		return nil, fmt.Errorf("%w: keys file %s is over %d bytes", ErrInvalidKeyring, path, maxKeyringText)
	}
	var b bytes.Buffer
	_, err = b.ReadFrom(f)
	defer clear(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("authn: keys file %s: %w", path, err)
	}
	return ParseKeyring("keys file "+path, b.Bytes(), opts...)
}

// LoadKeyringEnv reads a [Keyring] from the environment variable name,
// in the format of [ParseKeyring] (entries on lines or separated by
// ';', which suits a variable). An unset or empty variable is refused.
// Every refusal names the variable and wraps [ErrInvalidKeyring] (or
// [ErrDemoKeyring]); none shows a key byte. The variable stays set:
// unset it once loaded if child processes should not inherit it.
func LoadKeyringEnv(name string, opts ...LoadOption) (*Keyring, error) {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return nil, fmt.Errorf("%w: environment variable %s is not set", ErrInvalidKeyring, name)
	}
	return ParseKeyring("environment variable "+name, []byte(v), opts...)
}

// maxKeyringText bounds a keyring text: ample for hundreds of keys.
const maxKeyringText = 64 << 10

// ParseKeyring makes a [Keyring] from text: one key per entry, entries
// on lines or separated by ';', each "ID BASE64": a key ID (see
// [NewKeyring]) and the [MasterKeySize]-byte key in standard base64
// (with padding), separated by spaces or tabs. The first key is the
// primary, which seals and makes MACs; the others only open and check
// what they made before a rotation, so put a new key first and keep the
// old ones after it until [Service.RotateKeys] reports none in use.
// Blank entries and lines starting with '#' are ignored. A line
// "insecure-demo" marks the keys as a demonstration's: the text is then
// refused with [ErrDemoKeyring] unless opts hold [AllowDemoKeys].
//
//	# rotated 2026-11: 2026-05 stays until RotateKeys has run
//	2026-11 q3J0...4w=
//	2026-05 9f2L...aA=
//
// source names the text in errors ("keys file /etc/keyline/keys"). Every
// refusal wraps [ErrInvalidKeyring] and names source and the line at
// fault, never its key text.
func ParseKeyring(source string, text []byte, opts ...LoadOption) (*Keyring, error) {
	var o loadOptions
	for _, f := range opts {
		f(&o)
	}
	if len(text) > maxKeyringText {
		return nil, fmt.Errorf("%w: %s is over %d bytes", ErrInvalidKeyring, source, maxKeyringText)
	}
	keys := map[string][]byte{}
	defer func() {
		for _, k := range keys {
			clear(k)
		}
	}()
	primary, demo := "", false
	n := 0 // the line
	for line := range bytes.SplitSeq(text, []byte("\n")) {
		n++
		for entry := range bytes.SplitSeq(line, []byte(";")) {
			e := strings.TrimSpace(string(entry))
			if e == "" || strings.HasPrefix(e, "#") {
				continue
			}
			if e == demoMark {
				demo = true
				continue
			}
			fields := strings.FieldsFunc(e, func(r rune) bool { return r == ' ' || r == '\t' })
			if len(fields) != 2 {
				return nil, fmt.Errorf("%w: %s, line %d: want \"ID BASE64\"", ErrInvalidKeyring, source, n)
			}
			id := fields[0]
			if keyringCheckID(id) != nil {
				// Not quoted: it may be a key pasted in the wrong place.
				return nil, fmt.Errorf("%w: %s, line %d: a key ID is 1 to %d characters of [A-Za-z0-9._-]", ErrInvalidKeyring, source, n, keyringMaxIDLen)
			}
			key, err := base64.StdEncoding.Strict().DecodeString(fields[1])
			if err != nil || len(key) != MasterKeySize {
				clear(key)
				return nil, fmt.Errorf("%w: %s, line %d: the key of %q is not %d bytes in standard base64", ErrInvalidKeyring, source, n, id, MasterKeySize)
			}
			if _, dup := keys[id]; dup {
				clear(key)
				return nil, fmt.Errorf("%w: %s, line %d: key ID %q given twice", ErrInvalidKeyring, source, n, id)
			}
			keys[id] = key
			if primary == "" {
				primary = id
			}
		}
	}
	if primary == "" {
		return nil, fmt.Errorf("%w: %s holds no key", ErrInvalidKeyring, source)
	}
	if demo && !o.allowDemo {
		return nil, fmt.Errorf("%w: %s: throwaway keys of a demonstration, refused without the demonstration's own flag", ErrDemoKeyring, source)
	}
	k, err := NewKeyring(primary, keys)
	if err != nil {
		// Every refusal of NewKeyring wraps ErrInvalidKeyring and names
		// no key byte: the source goes in front of its reason.
		return nil, fmt.Errorf("%w: %s: %s", ErrInvalidKeyring, source, strings.TrimPrefix(err.Error(), ErrInvalidKeyring.Error()+": "))
	}
	return k, nil
}
