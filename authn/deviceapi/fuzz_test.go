package deviceapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/authn/deviceapi"
	"github.com/keyline/keyline/enroll"
)

// FuzzHandler sends the handler arbitrary requests: method, path, query,
// Authorization header, Content-Type and body. Whatever comes in, the
// handler answers (no panic) with a status of the error table or a
// success, an error answer is JSON with a code and a message, and a
// device endpoint succeeds only for a request a device really signed
// (the seeds): nothing the fuzzer makes up authenticates.
func FuzzHandler(f *testing.F) {
	k := authntest.New(f)
	phone := k.Enroll("alice")
	cred := phone.Credential()
	h := deviceapi.NewHandler(k.Service, deviceapi.Options{Device: authn.DeviceLimit{Requests: 1 << 30},
		IPRequests: 1 << 30, AnonymousIPRequests: 1 << 30})
	offer, err := k.Service.StartActivation(f.Context(), "bob", nil)
	if err != nil {
		f.Fatal(err)
	}
	_, actReq, err := enroll.Activate(offer, enroll.DeviceInfo{InstallID: "fuzz", Integrity: enroll.Intact}, k.Clock.Now())
	if err != nil {
		f.Fatal(err)
	}
	actBody, _ := json.Marshal(actReq)

	signedHeaders := map[string]bool{}
	sign := func(method, path, query string, body []byte) string {
		a, err := cred.SignAPIRequest(method, path, query, body, k.Clock.Now())
		if err != nil {
			f.Fatal(err)
		}
		signedHeaders[a] = true
		return a
	}
	const js = "application/json"
	f.Add("GET", deviceapi.PathPushes, "", sign("GET", deviceapi.PathPushes, "", nil), "", []byte(nil))
	f.Add("GET", deviceapi.PathPush, "id=x", sign("GET", deviceapi.PathPush, "id=x", nil), "", []byte(nil))
	f.Add("POST", deviceapi.PathPushToken, "", sign("POST", deviceapi.PathPushToken, "", []byte(`{"push_token":"t"}`)), js, []byte(`{"push_token":"t"}`))
	f.Add("POST", deviceapi.PathMigrationStatus, "", sign("POST", deviceapi.PathMigrationStatus, "", []byte(`{"sid":"`+offer.SessionID+`"}`)), js, []byte(`{"sid":"`+offer.SessionID+`"}`))
	f.Add("POST", deviceapi.PathPushAnswer, "", sign("POST", deviceapi.PathPushAnswer, "", []byte(`{}`)), js, []byte(`{}`))
	f.Add("POST", deviceapi.PathOffer, "", "", js, []byte(`{"sid":"`+offer.SessionID+`"}`))
	f.Add("POST", deviceapi.PathOffer, "", "", js, []byte(`{"sid":"`+offer.SessionID+`","sid":"x"}`))
	f.Add("POST", deviceapi.PathActivate, "", "", js, actBody)
	f.Add("POST", deviceapi.PathMigrationConfirm, "", "Keyline-v1 user=YQ,device=00112233445566778899aabbccddeeff,time=1,nonce=AAAAAAAAAAAAAAAAAAAAAA,mac=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", js, []byte(`{"sid":"","pairing_code":""}`))
	f.Add("PUT", "/v1/../v1/pushes", "a=%zz", "Bearer x", "text/plain", []byte("\x00"))

	f.Fuzz(func(t *testing.T, method, path, query, auth, ct string, body []byte) {
		if !validMethod(method) || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") ||
			strings.ContainsAny(query, "# \x00\r\n") || strings.ContainsAny(auth+ct, "\r\n\x00") {
			return // not a request net/http would deliver
		}
		r := httptest.NewRequest(method, "http://api.test/", bytes.NewReader(body))
		r.URL.Path, r.URL.RawQuery = path, query
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		res := w.Result()
		switch {
		case res.StatusCode == http.StatusOK || res.StatusCode == http.StatusNoContent:
			device := path != deviceapi.PathOffer && path != deviceapi.PathActivate
			if device && !signedHeaders[auth] {
				t.Fatalf("%s %s succeeded with a header no device signed: %q", method, path, auth)
			}
		case res.StatusCode >= 400 && res.StatusCode <= 599:
			var e struct {
				Error   string `json:"error"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" || e.Message == "" {
				t.Fatalf("error answer %d is not the API's: %q", res.StatusCode, w.Body.Bytes())
			}
			if res.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("error answer may be cached")
			}
		default:
			t.Fatalf("status %d", res.StatusCode)
		}
	})
}

func validMethod(m string) bool {
	if m == "" || len(m) > 16 {
		return false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}
