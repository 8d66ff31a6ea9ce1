package fcmtest_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/keyline/keyline/notify/fcm/fcmtest"
)

// The token endpoint refuses a grant that is not the service account's
// JWT bearer grant for FCM; the send endpoint refuses what FCM refuses.
// Each case changes one thing of a valid request.
func TestServerRefuses(t *testing.T) {
	srv := fcmtest.NewServer("keyline-test", nil)
	defer srv.Close()
	var creds struct {
		Key   string `json:"private_key"`
		KeyID string `json:"private_key_id"`
	}
	if err := json.Unmarshal(srv.Credentials(), &creds); err != nil {
		t.Fatal(err)
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(creds.Key))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	hc := &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{RootCAs: srv.RootCAs()}}}
	now := time.Now()
	claims := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": fcmtest.ClientEmail, "scope": fcmtest.Scope, "aud": srv.URL + "/token",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	assertion := func(k *rsa.PrivateKey, kid string, c jwt.MapClaims) string {
		tk := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		tk.Header["kid"] = kid
		s, err := tk.SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	grant := func(grantType, a string) (int, string) {
		resp, err := hc.PostForm(srv.URL+"/token", url.Values{"grant_type": {grantType}, "assertion": {a}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Access string `json:"access_token"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.Access
	}
	const bearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	with := func(k string, v any) jwt.MapClaims { c := claims(); c[k] = v; return c }
	for name, c := range map[string]struct {
		grantType, assertion string
	}{
		"grant type": {"client_credentials", assertion(key, creds.KeyID, claims())},
		"other key":  {bearer, assertion(other, creds.KeyID, claims())},
		"kid":        {bearer, assertion(key, "0000", claims())},
		"iss":        {bearer, assertion(key, creds.KeyID, with("iss", "x@y"))},
		"scope":      {bearer, assertion(key, creds.KeyID, with("scope", "https://www.googleapis.com/auth/cloud-platform"))},
		"aud":        {bearer, assertion(key, creds.KeyID, with("aud", "https://oauth2.googleapis.com/token"))},
		"expired":    {bearer, assertion(key, creds.KeyID, with("exp", now.Add(-time.Second).Unix()))},
		"too long":   {bearer, assertion(key, creds.KeyID, with("exp", now.Add(2*time.Hour).Unix()))},
	} {
		if status, _ := grant(c.grantType, c.assertion); status != http.StatusBadRequest {
			t.Errorf("grant %s: status %d", name, status)
		}
	}
	status, access := grant(bearer, assertion(key, creds.KeyID, claims()))
	if status != 200 || access == "" {
		t.Fatalf("valid grant: %d", status)
	}

	valid := `{"message":{"token":"dY3kPq1xR0e:APA91bHexample","data":{"id":"r"},"android":{"collapse_key":"r","priority":"HIGH","ttl":"119s"}}}`
	for _, c := range []struct {
		name, path, access, body, refused string
	}{
		{"valid", "/v1/projects/keyline-test/messages:send", access, valid, ""},
		{"no token", "/v1/projects/keyline-test/messages:send", "ya29.unknown", valid, "UNAUTHENTICATED"},
		{"project", "/v1/projects/other/messages:send", access, valid, "PERMISSION_DENIED"},
		{"path", "/v1/projects/keyline-test/messages:sendAll", access, valid, "NOT_FOUND"},
		{"unknown field", "/v1/projects/keyline-test/messages:send", access, strings.Replace(valid, `"data"`, `"datum"`, 1), "INVALID_ARGUMENT"},
		{"priority", "/v1/projects/keyline-test/messages:send", access, strings.Replace(valid, "HIGH", "high", 1), "INVALID_ARGUMENT"},
		{"ttl", "/v1/projects/keyline-test/messages:send", access, strings.Replace(valid, "119s", "119", 1), "INVALID_ARGUMENT"},
		{"reserved key", "/v1/projects/keyline-test/messages:send", access, strings.Replace(valid, `"id"`, `"google.id"`, 1), "INVALID_ARGUMENT"},
		{"two targets", "/v1/projects/keyline-test/messages:send", access, strings.Replace(valid, `"data"`, `"topic":"t","data"`, 1), "INVALID_ARGUMENT"},
		{"bad token", "/v1/projects/keyline-test/messages:send", access, strings.Replace(valid, "dY3kPq1xR0e:APA91bHexample", "x y", 1), "INVALID_ARGUMENT"},
	} {
		req, _ := http.NewRequest("POST", srv.URL+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+c.access)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		reqs := srv.Requests()
		if got := reqs[len(reqs)-1].Refused; got != c.refused || (c.refused == "") != (resp.StatusCode == 200) {
			t.Errorf("%s: refused %q status %d, want %q", c.name, got, resp.StatusCode, c.refused)
		}
	}
}
