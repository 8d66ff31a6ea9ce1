package enroll

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/challenge"
)

// The device API request vectors, testdata/api_v1.json, pin PROTOCOL.md
// §10's request MAC. TestAPIVectors recomputes every vector twice, with the
// package and with the transcription of §10 below (stdlib crypto/hkdf,
// crypto/hmac and crypto/sha256, the encoding written out), and requires
// both to equal the file. Regenerate it with:
// go test ./enroll -run TestAPIVectors -update

type apiVecInput struct {
	RootSecret string `json:"root_secret"`
	User       string `json:"user"`
	DeviceID   string `json:"device_id"`
	Method     string `json:"method"`
	Path       string `json:"path"`
	Query      string `json:"query"`
	Body       string `json:"body"` // as text
	Time       int64  `json:"time"`
	Nonce      string `json:"nonce"`
}

type apiVecOutput struct {
	APIKey        string `json:"api_key"`
	BodySHA256    string `json:"body_sha256"`
	Canonical     string `json:"canonical_hex"`
	MAC           string `json:"mac"`
	Authorization string `json:"authorization"`
}

type apiVector struct {
	Name   string       `json:"name"`
	Input  apiVecInput  `json:"input"`
	Output apiVecOutput `json:"output"`
}

// apiRefusal is an Authorization header value every implementation must
// refuse, and why.
type apiRefusal struct {
	Header string `json:"header"`
	Why    string `json:"why"`
}

var apiVecInputs = []apiVector{
	{Name: "list pending pushes: GET, no query, no body", Input: apiVecInput{
		RootSecret: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		User:       "user-42", DeviceID: "00112233445566778899aabbccddeeff",
		Method: "GET", Path: "/v1/pushes", Time: 1795770000,
		Nonce: "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
	}},
	{Name: "update the push token: POST with a JSON body", Input: apiVecInput{
		RootSecret: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		User:       "user-42", DeviceID: "00112233445566778899aabbccddeeff",
		Method: "POST", Path: "/v1/push-token", Body: `{"push_token":"fcm:APA91bH-example"}`, Time: 1795770042,
		Nonce: "000102030405060708090a0b0c0d0e0f",
	}},
	{Name: "fetch one prompt: GET with a query, non-ASCII user", Input: apiVecInput{
		RootSecret: "c0ffee00112233445566778899aabbccddeeff00112233445566778899aabbcc",
		User:       "zoë@example.com", DeviceID: "fedcba98765432100123456789abcdef",
		Method: "GET", Path: "/v1/push", Query: "id=req-7f3a9c", Time: 1800000029,
		Nonce: "ffffffffffffffffffffffffffffff00",
	}},
}

// apiRefusals derive from a valid header.
func apiRefusals(good string) []apiRefusal {
	rep := func(old, new string) string { return strings.Replace(good, old, new, 1) }
	param := func(name string) string {
		_, v, _ := strings.Cut(good, name+"=")
		v, _, _ = strings.Cut(v, ",")
		return v
	}
	user, device, ts, nonce, mac := param("user"), param("device"), param("time"), param("nonce"), param("mac")
	// 43 characters carry 258 bits: the last one's 2 low bits are padding,
	// zero in a valid header; the next character of the alphabet sets one.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	flipped := mac[:42] + string(alphabet[strings.IndexByte(alphabet, mac[42])+1])
	return []apiRefusal{
		{rep("Keyline-v1 ", "keyline-v1 "), "the scheme is case-sensitive"},
		{rep("Keyline-v1 ", "Keyline-v1  "), "one space after the scheme"},
		{rep(",device=", ", device="), "no space after a comma"},
		{rep("user="+user+",", "") + ",user=" + user, "the parameters in order"},
		{good + ",v=1", "no other parameter"},
		{rep("user="+user, "user="+user+"=="), "base64url without padding"},
		{rep("user="+user, "user="+base64.StdEncoding.EncodeToString([]byte("us>?r~"))), "base64url, not standard base64"},
		{rep("device="+device, "device="+strings.ToUpper(device)), "device ID in lowercase"},
		{rep("time="+ts, "time=0"+ts), "no leading zero"},
		{rep("time="+ts, "time=+"+ts), "no sign"},
		{rep("time="+ts, "time=253402300800"), "not after 9999"},
		{rep("nonce="+nonce, "nonce="+nonce[:16]), "a nonce of 16 bytes"},
		{rep("mac="+mac, "mac="+flipped), "zero padding bits"},
		{rep("mac="+mac, "mac="+mac[:42]), "a MAC of 32 bytes"},
		{rep("user="+user, "user="), "a user"},
		{rep("user="+user, "user="+base64.RawURLEncoding.EncodeToString([]byte("a\x00b"))), "a user without control characters"},
	}
}

// apiByProtocol computes a vector from PROTOCOL.md §10 alone.
func apiByProtocol(t *testing.T, in apiVecInput) apiVecOutput {
	apiKey, err := hkdf.Key(sha256.New, mustHex(t, in.RootSecret), nil, "keyline/v1/api", 32)
	require.NoError(t, err)
	bodyHash := sha256.Sum256([]byte(in.Body))
	msg := []byte("keyline/v1/api-request")
	for _, f := range [][]byte{[]byte(in.Method), []byte(in.Path), []byte(in.Query), bodyHash[:], []byte(in.User), []byte(in.DeviceID)} {
		msg = lp(msg, f)
	}
	msg = binary.BigEndian.AppendUint64(msg, uint64(in.Time))
	msg = lp(msg, mustHex(t, in.Nonce))
	m := hmac.New(sha256.New, apiKey)
	m.Write(msg)
	mac := m.Sum(nil)
	b64 := base64.RawURLEncoding.EncodeToString
	return apiVecOutput{
		APIKey:     hex.EncodeToString(apiKey),
		BodySHA256: hex.EncodeToString(bodyHash[:]),
		Canonical:  hex.EncodeToString(msg),
		MAC:        hex.EncodeToString(mac),
		Authorization: "Keyline-v1 user=" + b64([]byte(in.User)) + ",device=" + in.DeviceID +
			",time=" + strconv.FormatInt(in.Time, 10) + ",nonce=" + b64(mustHex(t, in.Nonce)) + ",mac=" + b64(mac),
	}
}

func apiVecRequest(t *testing.T, in apiVecInput) APIRequest {
	return APIRequest{Method: in.Method, Path: in.Path, Query: in.Query, BodyHash: sha256.Sum256([]byte(in.Body)),
		User: in.User, DeviceID: in.DeviceID, Time: time.Unix(in.Time, 0).UTC(), Nonce: mustHex(t, in.Nonce)}
}

// apiByPackage computes a vector with the package, and checks that the
// server side reads back what the phone side wrote.
func apiByPackage(t *testing.T, in apiVecInput) apiVecOutput {
	keys := DeriveKeys(Secret(mustHex(t, in.RootSecret)), challenge.Default)
	require.Equal(t, keys.API, APIKey(Secret(mustHex(t, in.RootSecret))), "APIKey is DeriveKeys' API key")
	r := apiVecRequest(t, in)
	canon, err := r.Canonical()
	require.NoError(t, err)
	mac, err := APIRequestMAC(keys.API, r)
	require.NoError(t, err)
	auth, err := r.Authorization(mac)
	require.NoError(t, err)

	parsed, pmac, err := ParseAPIAuthorization(auth)
	require.NoError(t, err)
	require.Equal(t, mac, pmac)
	parsed.Method, parsed.Path, parsed.Query, parsed.BodyHash = in.Method, in.Path, in.Query, sha256.Sum256([]byte(in.Body))
	require.Equal(t, r, parsed)
	require.NoError(t, VerifyAPIRequest(keys.API, parsed, pmac))

	return apiVecOutput{
		APIKey:        hex.EncodeToString(keys.API),
		BodySHA256:    hex.EncodeToString(r.BodyHash[:]),
		Canonical:     hex.EncodeToString(canon),
		MAC:           hex.EncodeToString(mac),
		Authorization: auth,
	}
}

func TestAPIVectors(t *testing.T) {
	path := filepath.Join("testdata", "api_v1.json")
	var file struct {
		Note     string       `json:"note"`
		Vectors  []apiVector  `json:"vectors"`
		Refusals []apiRefusal `json:"refusals"`
	}
	if *update {
		file.Note = "keyline device API request MAC v1 known-answer vectors; see PROTOCOL.md section 10. Hex unless named otherwise; times in Unix seconds; body as text. Every header under refusals must be refused."
		for _, v := range apiVecInputs {
			v.Output = apiByProtocol(t, v.Input)
			file.Vectors = append(file.Vectors, v)
		}
		file.Refusals = apiRefusals(file.Vectors[0].Output.Authorization)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		require.NoError(t, enc.Encode(file))
		require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &file))
	require.Len(t, file.Vectors, len(apiVecInputs))
	for i, v := range file.Vectors {
		require.Equal(t, apiVecInputs[i].Input, v.Input, "vector %d inputs", i)
		require.Equal(t, v.Output, apiByProtocol(t, v.Input), "vector %q by PROTOCOL.md", v.Name)
		require.Equal(t, v.Output, apiByPackage(t, v.Input), "vector %q by the package", v.Name)

		// Any other method, path, query, body, user, device, time or
		// nonce, and any other key, fails.
		keys := DeriveKeys(Secret(mustHex(t, v.Input.RootSecret)), challenge.Default)
		mac := mustHex(t, v.Output.MAC)
		for name, alter := range map[string]func(r *APIRequest){
			"method": func(r *APIRequest) { r.Method = "PUT" },
			"path":   func(r *APIRequest) { r.Path += "x" },
			"query":  func(r *APIRequest) { r.Query += "&x=1" },
			"body":   func(r *APIRequest) { r.BodyHash[0] ^= 1 },
			"user":   func(r *APIRequest) { r.User += "x" },
			"device": func(r *APIRequest) { r.DeviceID = "0123456789abcdef0123456789abcdef" },
			"time":   func(r *APIRequest) { r.Time = r.Time.Add(time.Second) },
			"nonce":  func(r *APIRequest) { r.Nonce = bytes.Repeat([]byte{7}, APINonceSize) },
		} {
			r := apiVecRequest(t, v.Input)
			alter(&r)
			require.ErrorIs(t, VerifyAPIRequest(keys.API, r, mac), ErrDeviceAuth, "altered %s", name)
		}
		require.ErrorIs(t, VerifyAPIRequest(keys.Push, apiVecRequest(t, v.Input), mac), ErrDeviceAuth, "another key")
	}
	require.Equal(t, apiRefusals(file.Vectors[0].Output.Authorization), file.Refusals)
	for _, r := range file.Refusals {
		got, mac, err := ParseAPIAuthorization(r.Header)
		require.ErrorIs(t, err, ErrInvalidAPIRequest, "%s: %q", r.Why, r.Header)
		require.Zero(t, got)
		require.Nil(t, mac)
	}
}

// Moving bytes from one field into the next changes the MAC input: every
// field is length-prefixed.
func TestAPICanonicalFieldBoundaries(t *testing.T) {
	base := APIRequest{Method: "GET", Path: "/v1/a", Query: "b=c", User: "u", DeviceID: "00112233445566778899aabbccddeeff",
		Time: time.Unix(1795770000, 0), Nonce: make([]byte, APINonceSize)}
	a, err := base.Canonical()
	require.NoError(t, err)
	moved := base
	moved.Path, moved.Query = "/v1/ab=c", ""
	b, err := moved.Canonical()
	require.NoError(t, err)
	require.NotEqual(t, a, b)
	require.Len(t, a, base.canonicalLen())
}

func TestAPIRequestRefusals(t *testing.T) {
	good := APIRequest{Method: "POST", Path: "/v1/push/answer", User: "user-42", DeviceID: "00112233445566778899aabbccddeeff",
		Time: time.Unix(1795770000, 0), Nonce: make([]byte, APINonceSize)}
	key := make(Secret, 32)
	_, err := APIRequestMAC(key, good)
	require.NoError(t, err)
	for name, alter := range map[string]func(r *APIRequest){
		"empty method":      func(r *APIRequest) { r.Method = "" },
		"lower-case method": func(r *APIRequest) { r.Method = "get" },
		"long method":       func(r *APIRequest) { r.Method = strings.Repeat("A", 17) },
		"empty path":        func(r *APIRequest) { r.Path = "" },
		"relative path":     func(r *APIRequest) { r.Path = "v1/pushes" },
		"path with query":   func(r *APIRequest) { r.Path = "/v1/push?id=1" },
		"path with space":   func(r *APIRequest) { r.Path = "/v1/ push" },
		"long path":         func(r *APIRequest) { r.Path = "/" + strings.Repeat("a", MaxAPIPath) },
		"query with #":      func(r *APIRequest) { r.Query = "a=1#x" },
		"query not ASCII":   func(r *APIRequest) { r.Query = "a=é" },
		"long query":        func(r *APIRequest) { r.Query = strings.Repeat("a", MaxAPIQuery+1) },
		"no user":           func(r *APIRequest) { r.User = "" },
		"user with control": func(r *APIRequest) { r.User = "a\nb" },
		"long user":         func(r *APIRequest) { r.User = strings.Repeat("u", 257) },
		"upper-case device": func(r *APIRequest) { r.DeviceID = strings.ToUpper(r.DeviceID) },
		"short device":      func(r *APIRequest) { r.DeviceID = r.DeviceID[:30] },
		"time before 1970":  func(r *APIRequest) { r.Time = time.Unix(-1, 0) },
		"time after 9999":   func(r *APIRequest) { r.Time = time.Unix(maxUnix+1, 0) },
		"short nonce":       func(r *APIRequest) { r.Nonce = r.Nonce[:15] },
		"no nonce":          func(r *APIRequest) { r.Nonce = nil },
	} {
		r := good
		alter(&r)
		_, err := r.Canonical()
		require.ErrorIs(t, err, ErrInvalidAPIRequest, name)
		_, err = APIRequestMAC(key, r)
		require.ErrorIs(t, err, ErrInvalidAPIRequest, name)
		require.ErrorIs(t, VerifyAPIRequest(key, r, make([]byte, 32)), ErrInvalidAPIRequest, name)
		_, err = r.Authorization(make([]byte, 32))
		if r.checkHeader() != "" {
			require.ErrorIs(t, err, ErrInvalidAPIRequest, name)
		} else {
			require.NoError(t, err, "%s: not in the header", name)
		}
	}
	_, err = APIRequestMAC(key[:31], good)
	require.ErrorIs(t, err, ErrInvalidInput)
	_, err = good.Authorization(make([]byte, 31))
	require.ErrorIs(t, err, ErrInvalidAPIRequest)
	mac, err := APIRequestMAC(key, good)
	require.NoError(t, err)
	require.ErrorIs(t, VerifyAPIRequest(key, good, mac[:31]), ErrDeviceAuth, "a short MAC is a bad MAC")
	require.ErrorIs(t, VerifyAPIRequest(key, good, nil), ErrDeviceAuth)

	// The longest header fits MaxAPIAuthorization.
	long := good
	long.User = strings.Repeat("u", 256)
	long.Time = time.Unix(maxUnix, 0)
	h, err := long.Authorization(mac)
	require.NoError(t, err)
	require.Len(t, h, 493)
	_, _, err = ParseAPIAuthorization(h)
	require.NoError(t, err)
	_, _, err = ParseAPIAuthorization(h + strings.Repeat(" ", MaxAPIAuthorization-len(h)+1))
	require.ErrorIs(t, err, ErrInvalidAPIRequest)
}

// The phone's signature is what the server verifies; every signature
// draws a fresh nonce; an unconfirmed credential refuses to sign.
func TestCredentialSignAPIRequest(t *testing.T) {
	_, c, _, e := activate(t)
	_, err := c.SignAPIRequest("GET", "/v1/pushes", "", nil, t0)
	require.ErrorIs(t, err, ErrUnconfirmed)
	require.NoError(t, c.CheckServerConfirm(e.ServerConfirm))
	apiKey := APIKey(e.Secret)

	now := t0.Add(90*time.Second + 700*time.Millisecond)
	body := []byte(`{"push_token":"t"}`)
	h1, err := c.SignAPIRequest("POST", "/v1/push-token", "", body, now)
	require.NoError(t, err)
	h2, err := c.SignAPIRequest("POST", "/v1/push-token", "", body, now)
	require.NoError(t, err)
	require.NotEqual(t, h1, h2, "a fresh nonce each time")

	r, mac, err := ParseAPIAuthorization(h1)
	require.NoError(t, err)
	require.Equal(t, e.Device.User, r.User)
	require.Equal(t, e.Device.ID, r.DeviceID)
	require.Equal(t, now.Unix(), r.Time.Unix(), "whole seconds, rounded down")
	r.Method, r.Path, r.BodyHash = "POST", "/v1/push-token", sha256.Sum256(body)
	require.NoError(t, VerifyAPIRequest(apiKey, r, mac))
	r.BodyHash = sha256.Sum256(append(body, ' '))
	require.ErrorIs(t, VerifyAPIRequest(apiKey, r, mac), ErrDeviceAuth, "another body")

	_, err = c.SignAPIRequest("get", "/v1/pushes", "", nil, now)
	require.ErrorIs(t, err, ErrInvalidAPIRequest)

	// Nothing prints the MAC or key of a parsed request.
	text := fmt.Sprintf("%v %+v %#v", r, r, mac)
	require.NotContains(t, text, hex.EncodeToString(apiKey))
	c.Zero()
	_, err = c.SignAPIRequest("GET", "/v1/pushes", "", nil, now)
	require.ErrorIs(t, err, ErrUnconfirmed)
}

func FuzzParseAPIAuthorization(f *testing.F) {
	for _, v := range apiVecInputs {
		keys := DeriveKeys(Secret(v.Input.RootSecret), challenge.Default)
		r := APIRequest{Method: v.Input.Method, Path: v.Input.Path, User: v.Input.User, DeviceID: v.Input.DeviceID,
			Time: time.Unix(v.Input.Time, 0), Nonce: []byte(v.Input.Nonce[:APINonceSize])}
		mac, err := APIRequestMAC(keys.API, r)
		if err != nil {
			f.Fatal(err)
		}
		h, err := r.Authorization(mac)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(h)
		for _, bad := range apiRefusals(h) {
			f.Add(bad.Header)
		}
	}
	f.Add("")
	f.Add("Keyline-v1 ")
	f.Fuzz(func(t *testing.T, v string) {
		r, mac, err := ParseAPIAuthorization(v)
		if err != nil {
			if !errors.Is(err, ErrInvalidAPIRequest) {
				t.Fatalf("error matches no sentinel: %v", err)
			}
			if r.User != "" || r.DeviceID != "" || !r.Time.IsZero() || r.Nonce != nil || mac != nil {
				t.Fatalf("partial result on error")
			}
			return
		}
		// What parses is exactly what Authorization writes.
		r.Method, r.Path = "GET", "/v1/x"
		again, err := r.Authorization(mac)
		if err != nil {
			t.Fatalf("parsed header does not re-encode: %v", err)
		}
		if again != v {
			t.Fatalf("round trip changed the header:\n%q\n%q", v, again)
		}
		if _, err := r.Canonical(); err != nil {
			t.Fatalf("parsed request does not encode: %v", err)
		}
	})
}

func BenchmarkVerifyAPIRequest(b *testing.B) {
	key := APIKey(Secret(bytes.Repeat([]byte{1}, 32)))
	r := APIRequest{Method: "POST", Path: "/v1/push/answer", BodyHash: sha256.Sum256([]byte(`{"request_id":"x"}`)),
		User: "user-42", DeviceID: "00112233445566778899aabbccddeeff", Time: time.Unix(1795770000, 0), Nonce: make([]byte, APINonceSize)}
	mac, err := APIRequestMAC(key, r)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyAPIRequest(key, r, mac); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAPIRequestBaseline is the floor VerifyAPIRequest is
// measured against: one HMAC-SHA256 over the same canonical bytes, with
// the key set up each time as VerifyAPIRequest does.
func BenchmarkVerifyAPIRequestBaseline(b *testing.B) {
	key := APIKey(Secret(bytes.Repeat([]byte{1}, 32)))
	r := APIRequest{Method: "POST", Path: "/v1/push/answer", BodyHash: sha256.Sum256([]byte(`{"request_id":"x"}`)),
		User: "user-42", DeviceID: "00112233445566778899aabbccddeeff", Time: time.Unix(1795770000, 0), Nonce: make([]byte, APINonceSize)}
	canon, err := r.Canonical()
	if err != nil {
		b.Fatal(err)
	}
	want, _ := APIRequestMAC(key, r)
	b.ReportAllocs()
	for b.Loop() {
		m := hmac.New(sha256.New, key)
		m.Write(canon)
		if !hmac.Equal(m.Sum(nil), want) {
			b.Fatal("mismatch")
		}
	}
}

// The header parser is on every authenticated request, before any key is
// touched.
func BenchmarkParseAPIAuthorization(b *testing.B) {
	r := APIRequest{Method: "GET", Path: "/v1/pushes", User: "user-42", DeviceID: "00112233445566778899aabbccddeeff",
		Time: time.Unix(1795770000, 0), Nonce: make([]byte, APINonceSize)}
	h, err := r.Authorization(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseAPIAuthorization(h); err != nil {
			b.Fatal(err)
		}
	}
}

// A phone signs a device API request; the server reads the header,
// completes the request with what it received, and verifies the MAC under
// the device's api key (package authn also checks the time and takes the
// nonce once).
func ExampleCredential_SignAPIRequest() {
	now := time.Now()
	pending, _ := Start("Example Bank", "user-42", StartOptions{Now: now})
	cred, req, _ := Activate(pending.Offer(), DeviceInfo{InstallID: "install-1", Integrity: Intact}, now)
	enrollment, _ := pending.Complete(req, now)
	_ = cred.CheckServerConfirm(enrollment.ServerConfirm)

	// Phone.
	body := []byte(`{"push_token":"fcm:new"}`)
	header, _ := cred.SignAPIRequest("POST", "/v1/push-token", "", body, now)

	// Server.
	r, mac, err := ParseAPIAuthorization(header)
	if err != nil {
		fmt.Println(err)
		return
	}
	r.Method, r.Path, r.Query, r.BodyHash = "POST", "/v1/push-token", "", sha256.Sum256(body)
	fmt.Println("user:", r.User)
	fmt.Println("verifies:", VerifyAPIRequest(APIKey(enrollment.Secret), r, mac) == nil)
	// Output:
	// user: user-42
	// verifies: true
}
