package deviceapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/internal/devicewire"
)

// The error table is one: the code's, shown in the package documentation
// and in PROTOCOL.md §10, row for row, in order.
func TestErrorTableIsDocumented(t *testing.T) {
	want := make([]string, 0, len(table)+1)
	for _, r := range append(append([]row{}, table...), internal) {
		want = append(want, fmt.Sprintf("%d %s", r.status, r.code))
	}

	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	docRow := regexp.MustCompile(`(?m)^//\t([1-5][0-9][0-9]) +([a-z_]+) `)
	var got []string
	for _, m := range docRow.FindAllStringSubmatch(string(doc), -1) {
		got = append(got, m[1]+" "+m[2])
	}
	require.Equal(t, want, got, "doc.go's table")

	proto, err := os.ReadFile("../../PROTOCOL.md")
	require.NoError(t, err)
	_, sec, ok := strings.Cut(string(proto), "## 10. Device API (HTTP)")
	require.True(t, ok, "PROTOCOL.md has section 10")
	mdRow := regexp.MustCompile("(?m)^\\| ([1-5][0-9][0-9]) \\| `([a-z_]+)` \\|")
	got = nil
	for _, m := range mdRow.FindAllStringSubmatch(sec, -1) {
		got = append(got, m[1]+" "+m[2])
	}
	require.Equal(t, want, got, "PROTOCOL.md's table")

	// Codes are unique.
	seen := map[string]bool{}
	for _, r := range table {
		require.False(t, seen[r.code], r.code)
		seen[r.code] = true
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code string
	}{
		{enroll.ErrDeviceAuth, "unauthorized"},
		{authn.ErrDeviceAuth, "unauthorized"},
		{fmt.Errorf("x: %w", enroll.ErrInvalidAPIRequest), "bad_authorization"},
		{authn.ErrAPIRequestTime, "clock_skew"},
		{authn.ErrAPIReplay, "replay"},
		{authn.ErrRateLimited, "rate_limited"},
		{errIPRateLimited, "rate_limited"},
		{&authn.LockedError{RetryAfter: time.Minute}, "locked"},
		{authn.ErrSessionIDTypo, "session_id_typo"},
		{authn.ErrUnknownSession, "unknown_session"},
		{authn.ErrExpired, "expired"},
		{authn.ErrAlreadyUsed, "already_used"},
		{&enroll.AlreadyUsedError{}, "already_used"},
		{authn.ErrAlreadyEnrolled, "already_enrolled"},
		{authn.ErrTooManyDevices, "too_many_devices"},
		{enroll.ErrOfferMismatch, "offer_mismatch"},
		{enroll.ErrBadConfirmation, "bad_confirmation"},
		{fmt.Errorf("%w: hook", authn.ErrDeviceIntegrity), "device_integrity"},
		{authn.ErrWrongNumber, "wrong_number"},
		{authn.ErrInvalidPushAnswer, "invalid_push_answer"},
		{&enroll.PushClockError{ServerTime: time.Unix(1e9, 0)}, "clock_off"},
		{authn.ErrPromptNotForDevice, "not_yours"},
		{authn.ErrPushAnswered, "answered"},
		{authn.ErrInvalidCode, "invalid_code"},
		{authn.ErrReplay, "invalid_code"},
		{authn.ErrMalformed, "invalid_code"},
		{authn.ErrTooManyAttempts, "invalid_code"},
		{authn.ErrWrongPairingCode, "pairing_code"},
		{authn.ErrProofRequired, "forbidden"},
		{authn.ErrNotFound, "not_found"},
		{errNoRoute, "not_found"},
		{errMethod, "method_not_allowed"},
		{errTooLarge, "too_large"},
		{errMediaType, "unsupported_media_type"},
		{errBadRequest, "bad_request"},
		{authn.ErrInvalidInput, "bad_request"},
		{enroll.ErrInvalidRequest, "bad_request"},
		{enroll.ErrInvalidPushAnswer, "invalid_push_answer"},
		{(&enroll.PushAnswer{}).UnmarshalJSON([]byte(`{"approve":true}`)), "bad_request"}, // a malformed answer
		{fmt.Errorf("%w: db down", authn.ErrStoreUnavailable), "unavailable"},
		{errors.New("anything else"), "internal"},
		{authn.ErrSealed, "internal"},
	} {
		require.Equal(t, tc.code, classify(tc.err).code, "%v", tc.err)
	}
	// A lock caused by this very failure is answered as the lock.
	require.Equal(t, "locked", classify(fmt.Errorf("%w", &authn.LockedError{})).code)

	// Only some rows carry the error's own text; the others say nothing
	// of it.
	secret := errors.New("authn: store unavailable: pq: 7K3M-9QXD-2HFA-W4ZN-P")
	b := answerOf(classify(fmt.Errorf("%w: %w", authn.ErrStoreUnavailable, secret)), secret)
	require.NotContains(t, b.Message, "7K3M")
	b = answerOf(classify(enroll.ErrDeviceAuth), enroll.ErrDeviceAuth)
	require.Equal(t, devicewire.ErrorBody{Error: "unauthorized", Message: "the device is not recognised"}, b)
}

func TestCheckShape(t *testing.T) {
	for _, tc := range []struct {
		body, why string
	}{
		{`{"sid":"x"}`, ""},
		{` {"sid":"x"} ` + "\n", ""},
		{`{"sid":"x","sid":"y"}`, `repeated field "sid"`},
		{`{"SID":"x"}`, `unknown field "SID"`},
		{`{"sid":"x","other":{}}`, `unknown field "other"`},
		{`{}`, `missing field "sid"`},
		{`{"sid":"x"}{}`, "trailing data"},
		{`{"sid":"x"},`, "trailing data"},
		{`[]`, "not a JSON object"},
		{`"x"`, "not a JSON object"},
		{`{"sid":}`, "malformed JSON"},
		{`{"sid":"x"`, "malformed JSON"},
		{``, "malformed JSON"},
		{`{"sid":"x",}`, "malformed JSON"},
	} {
		got := checkShape([]byte(tc.body), shapeSession)
		if tc.why == "" {
			require.Empty(t, got, tc.body)
		} else {
			require.Contains(t, got, tc.why, tc.body)
		}
	}
	// Nested shapes are checked too; other nesting is skipped.
	require.Contains(t, checkShape([]byte(`{"sid":1,"device_key":1,"offer_hash":1,"confirm":1,"device":{"install_id":1,"x":1}}`), shapeActivate), `unknown field "x" in "device"`)
	require.Contains(t, checkShape([]byte(`{"sid":1,"device_key":1,"offer_hash":1,"confirm":1,"device":{}}`), shapeActivate), `missing field "install_id" in "device"`)
	require.Contains(t, checkShape([]byte(`{"sid":1,"device_key":1,"offer_hash":1,"confirm":1,"device":"x"}`), shapeActivate), `"device" is not a JSON object`)
	require.Empty(t, checkShape([]byte(`{"sid":[[[{"a":{"b":[]}}]]],"device_key":1,"offer_hash":1,"confirm":1,"device":{"install_id":1}}`), shapeActivate))
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	require.NotEmpty(t, checkShape([]byte(`{"sid":`+deep+`}`), shapeSession), "encoding/json bounds the depth")
}

func FuzzCheckShape(f *testing.F) {
	for _, s := range []string{`{"sid":"x"}`, `{"sid":"x","sid":"y"}`, `{"SID":"x"}`, `{"sid":"x"}{}`, `{"push_token":"t"}`,
		`{"sid":"ZVXR-C7WR-8QH3-QEZ7-7","pairing_code":"123456"}`, `{"sid":"a","device_key":"AA==","offer_hash":"AA==","confirm":"AA==","device":{"install_id":"i"}}`} {
		f.Add([]byte(s))
	}
	shapes := []*object{shapeSession, shapePushToken, shapeConfirmation, shapeEmpty, shapeActivate, shapeAnswer}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, sh := range shapes {
			if checkShape(b, sh) != "" {
				continue
			}
			// Accepted: one JSON object, no repeated key (a map holds as
			// many keys as the text), every key known and spelled exactly.
			if !json.Valid(b) {
				t.Fatalf("accepted invalid JSON %q", b)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("accepted a non-object: %q", b)
			}
			for k := range m {
				if _, ok := sh.keys[k]; !ok {
					t.Fatalf("accepted unknown key %q", k)
				}
			}
			for _, k := range sh.required {
				if _, ok := m[k]; !ok {
					t.Fatalf("accepted without %q", k)
				}
			}
			if n := strings.Count(string(b), `":`); n < len(m) {
				t.Fatalf("fewer key separators than keys")
			}
		}
	})
}

func TestIPLimiter(t *testing.T) {
	now := time.Unix(1795770000, 0)
	l := newIPLimiter(2, time.Minute, 3, func() time.Time { return now })
	for _, a := range []string{"a", "a", "b", "c"} {
		ok, _ := l.allow(a)
		require.True(t, ok, a)
	}
	ok, wait := l.allow("a")
	require.False(t, ok)
	require.Equal(t, time.Minute, wait)
	// The table is full: untracked addresses share one window.
	for _, a := range []string{"d", "e"} {
		ok, _ := l.allow(a)
		require.True(t, ok, a)
	}
	ok, _ = l.allow("f")
	require.False(t, ok, "the overflow window is spent")
	require.Len(t, l.windows, 4, "bounded: three addresses and the overflow")
	// Once the windows end they are swept and addresses tracked again.
	now = now.Add(time.Minute)
	ok, _ = l.allow("g")
	require.True(t, ok)
	require.Len(t, l.windows, 1)
	ok, _ = l.allow("a")
	require.True(t, ok)
}

func TestRemoteIP(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.7:1234":             "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:443": "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:80":      "192.0.2.7",
		"not-an-address":             "not-an-address",
		"[fe80::1%eth0]:80":          "fe80::/64",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = addr
		require.Equal(t, want, remoteIP(r), addr)
	}
}

func TestOptionsDefaults(t *testing.T) {
	o := Options{MaxBody: -1, IPRequests: -5, Device: authn.DeviceLimit{Requests: -1}}.resolve()
	require.Equal(t, int64(DefaultMaxBody), o.MaxBody)
	require.Equal(t, DefaultIPRequests, o.IPRequests)
	require.Equal(t, authn.DefaultDeviceRequests, o.Device.Requests)
	require.Equal(t, authn.DefaultDeviceWindow, o.Device.Window)
	require.Equal(t, DefaultAnonymousIPRequests, o.AnonymousIPRequests)
	require.NotNil(t, o.ClientIP)
	require.NotNil(t, o.Logger)
	require.Panics(t, func() { NewHandler(nil, Options{}) })
}

func TestRetryAfterRoundsUp(t *testing.T) {
	h := &handler{}
	for d, want := range map[time.Duration]string{0: "1", 300 * time.Millisecond: "1", 1500 * time.Millisecond: "2", time.Minute: "60"} {
		w := httptest.NewRecorder()
		h.retryAfter(w, d)
		require.Equal(t, want, w.Header().Get("Retry-After"), strconv.Itoa(int(d)))
	}
}
