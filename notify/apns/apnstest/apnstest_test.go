package apnstest_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/keyline/keyline/notify/apns/apnstest"
)

const token = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

// The server refuses what APNs refuses, with APNs' reasons: each case
// changes one thing of a valid request.
func TestServerRefuses(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	srv := apnstest.NewServer("com.example.bank", func() time.Time { return now })
	defer srv.Close()
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sign := func(key *ecdsa.PrivateKey, kid, iss string, iat time.Time) string {
		tk := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": iss, "iat": iat.Unix()})
		tk.Header["kid"] = kid
		s, err := tk.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := sign(srv.Key(), apnstest.KeyID, apnstest.TeamID, now)
	h2 := new(http.Protocols)
	h2.SetHTTP2(true)
	h1 := new(http.Protocols)
	h1.SetHTTP1(true)
	client := func(p *http.Protocols) *http.Client {
		return &http.Client{Transport: &http.Transport{Protocols: p, TLSClientConfig: &tls.Config{RootCAs: srv.RootCAs()}}}
	}
	type req struct {
		proto  *http.Protocols
		method string
		path   string
		header map[string]string
		body   string
	}
	valid := func() req {
		return req{proto: h2, method: "POST", path: "/3/device/" + token, body: `{"aps":{"content-available":1},"id":"r"}`,
			header: map[string]string{"authorization": "bearer " + good, "apns-topic": "com.example.bank",
				"apns-push-type": "background", "apns-priority": "5", "apns-expiration": "1796550000", "apns-collapse-id": "r"}}
	}
	for _, c := range []struct {
		name   string
		change func(*req)
		status int
		reason string
	}{
		{"valid", func(*req) {}, 200, ""},
		{"HTTP/1.1", func(r *req) { r.proto = h1 }, 400, "HTTP2Required"},
		{"GET", func(r *req) { r.method = "GET" }, 405, "MethodNotAllowed"},
		{"path", func(r *req) { r.path = "/3/devices/" + token }, 404, "BadPath"},
		{"token", func(r *req) { r.path = "/3/device/xyz" }, 400, "BadDeviceToken"},
		{"no bearer", func(r *req) { delete(r.header, "authorization") }, 403, "MissingProviderToken"},
		{"other key", func(r *req) {
			r.header["authorization"] = "bearer " + sign(other, apnstest.KeyID, apnstest.TeamID, now)
		}, 403, "InvalidProviderToken"},
		{"kid", func(r *req) {
			r.header["authorization"] = "bearer " + sign(srv.Key(), "KEY0000000", apnstest.TeamID, now)
		}, 403, "InvalidProviderToken"},
		{"iss", func(r *req) {
			r.header["authorization"] = "bearer " + sign(srv.Key(), apnstest.KeyID, "TEAM000000", now)
		}, 403, "InvalidProviderToken"},
		{"altered", func(r *req) { r.header["authorization"] = "bearer " + good[:len(good)-4] + "AAAA" }, 403, "InvalidProviderToken"},
		{"old", func(r *req) {
			r.header["authorization"] = "bearer " + sign(srv.Key(), apnstest.KeyID, apnstest.TeamID, now.Add(-61*time.Minute))
		}, 403, "ExpiredProviderToken"},
		{"renewed within 20 min", func(r *req) {
			r.header["authorization"] = "bearer " + sign(srv.Key(), apnstest.KeyID, apnstest.TeamID, now.Add(-time.Second))
		}, 429, "TooManyProviderTokenUpdates"},
		{"no topic", func(r *req) { delete(r.header, "apns-topic") }, 400, "MissingTopic"},
		{"topic", func(r *req) { r.header["apns-topic"] = "com.example.other" }, 400, "TopicDisallowed"},
		{"push type", func(r *req) { r.header["apns-push-type"] = "" }, 400, "InvalidPushType"},
		{"priority", func(r *req) { r.header["apns-priority"] = "10" }, 400, "BadPriority"},
		{"expiration", func(r *req) { r.header["apns-expiration"] = "soon" }, 400, "BadExpirationDate"},
		{"collapse id", func(r *req) { r.header["apns-collapse-id"] = strings.Repeat("x", 65) }, 400, "BadCollapseId"},
		{"large", func(r *req) { r.body = `{"aps":{},"x":"` + strings.Repeat("x", 4096) + `"}` }, 413, "PayloadTooLarge"},
		{"no aps", func(r *req) { r.body = `{"id":"r"}` }, 400, "PayloadEmpty"},
	} {
		r := valid()
		c.change(&r)
		hr, _ := http.NewRequest(r.method, srv.URL+r.path, bytes.NewReader([]byte(r.body)))
		for k, v := range r.header {
			hr.Header.Set(k, v)
		}
		resp, err := client(r.proto).Do(hr)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		resp.Body.Close()
		seen := srv.Requests()
		last := seen[len(seen)-1]
		if resp.StatusCode != c.status || last.Refused != c.reason || last.Status != c.status {
			t.Errorf("%s: status %d refused %q, want %d %q", c.name, resp.StatusCode, last.Refused, c.status, c.reason)
		}
	}
}
