// Package apnstest is a local Apple Push Notification service for tests:
// an HTTPS server speaking HTTP/2 (httptest, its own certificate
// authority) that checks each request as APNs does — the provider
// token's ES256 signature under the team's key, its kid, iss and age
// (and that it is not renewed more often than every 20 minutes), the
// path, apns-topic, apns-push-type, apns-priority, apns-expiration,
// apns-collapse-id and the payload — and answers with APNs' status codes
// and reasons. It records every request, and a script can make it fail
// (an error status, a reset stream, a server that does not answer).
//
// The provider token is checked with crypto/ecdsa directly, not with the
// JWT library the client signs with, so that each checks the other.
package apnstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Test credentials the server accepts.
const (
	TeamID = "TEAM123456"
	KeyID  = "KEY1234567"
)

// Request is one request as the server saw it.
type Request struct {
	Proto  string // "HTTP/2.0"
	Method string
	Path   string
	Token  string // the device token from the path
	Header http.Header
	Body   []byte
	// From the provider token, once its signature verified.
	KeyID    string
	Issuer   string
	IssuedAt time.Time
	Bearer   string    // the provider token as sent
	At       time.Time // the server's clock when it arrived
	// Refused is what APNs would refuse the request for (its reason
	// code), "" for a valid request.
	Refused string
	// Status is the status answered: 0 for a reset or hung request.
	Status int
}

// Response is a scripted answer: Status 0 answers as APNs would (200
// for a valid request).
type Response struct {
	Status     int
	Reason     string // APNs' reason code, for an error status
	RetryAfter string // a Retry-After header, if any
	Reset      bool   // reset the stream (no answer)
	Hang       bool   // answer nothing until the client gives up or the server closes
}

// Server is a local APNs. Its methods are safe for concurrent use.
type Server struct {
	URL   string // the endpoint: an https URL
	Topic string // the bundle ID it accepts
	key   *ecdsa.PrivateKey
	srv   *httptest.Server
	now   func() time.Time
	done  chan struct{}
	close sync.Once

	mu        sync.Mutex
	reqs      []Request
	script    func(Request) Response
	lastToken string
	lastSince time.Time
}

// NewServer starts a server accepting provider tokens of TeamID and
// KeyID signed with its Key, for the topic given, on the clock now
// (time.Now if nil). Close it when done.
func NewServer(topic string, now func() time.Time) *Server {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	if now == nil {
		now = time.Now
	}
	s := &Server{Topic: topic, key: k, now: now, done: make(chan struct{})}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.EnableHTTP2 = true
	s.srv.StartTLS()
	s.URL = s.srv.URL
	return s
}

// Close stops the server, releasing requests it hangs.
func (s *Server) Close() {
	s.close.Do(func() { close(s.done) })
	s.srv.Close()
}

// Key is the team's APNs key the server checks provider tokens against.
func (s *Server) Key() *ecdsa.PrivateKey { return s.key }

// KeyPEM is Key as Apple hands it out (a .p8 file: PEM PKCS #8).
func (s *Server) KeyPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(s.key)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// RootCAs trusts the server's certificate authority.
func (s *Server) RootCAs() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.srv.Certificate())
	return p
}

// CAPEM is the server's certificate authority in PEM.
func (s *Server) CAPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}

// Script sets how the server answers: f sees each request (checked) and
// returns the answer; nil restores the default.
func (s *Server) Script(f func(Request) Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = f
}

// Requests returns the requests seen so far, in order of arrival.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Delivered returns the valid requests answered 200.
func (s *Server) Delivered() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.reqs {
		if r.Refused == "" && r.Status == http.StatusOK {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, hr *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(hr.Body, 1<<20))
	r := Request{Proto: hr.Proto, Method: hr.Method, Path: hr.URL.Path, Header: hr.Header.Clone(), Body: body, At: s.now()}
	status, reason := s.check(&r)
	s.mu.Lock()
	script := s.script
	s.mu.Unlock()
	var resp Response
	if script != nil && r.Refused == "" {
		resp = script(r)
	}
	if resp.Status != 0 {
		status, reason = resp.Status, resp.Reason
	}
	if resp.Reset || resp.Hang {
		status = 0
	}
	r.Status = status
	s.mu.Lock()
	s.reqs = append(s.reqs, r)
	s.mu.Unlock()
	switch {
	case resp.Reset:
		panic(http.ErrAbortHandler) // HTTP/2: RST_STREAM
	case resp.Hang:
		select {
		case <-hr.Context().Done():
		case <-s.done:
		}
		return
	}
	id := make([]byte, 16)
	rand.Read(id)
	w.Header().Set("apns-id", strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:])))
	if resp.RetryAfter != "" {
		w.Header().Set("Retry-After", resp.RetryAfter)
	}
	if status == http.StatusOK {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	e := map[string]any{"reason": reason}
	if status == http.StatusGone {
		e["timestamp"] = s.now().UnixMilli()
	}
	_ = json.NewEncoder(w).Encode(e)
}

// check checks r as APNs does, in APNs' order, filling in what the
// provider token says; it returns the status and reason of a refusal
// (200 and "" for a valid request) and sets r.Refused.
func (s *Server) check(r *Request) (int, string) {
	refuse := func(status int, reason string) (int, string) {
		r.Refused = reason
		return status, reason
	}
	if r.Proto != "HTTP/2.0" {
		return refuse(http.StatusBadRequest, "HTTP2Required")
	}
	if r.Method != http.MethodPost {
		return refuse(http.StatusMethodNotAllowed, "MethodNotAllowed")
	}
	token, ok := strings.CutPrefix(r.Path, "/3/device/")
	if !ok || token == "" || strings.Contains(token, "/") {
		return refuse(http.StatusNotFound, "BadPath")
	}
	r.Token = token
	if _, err := hex.DecodeString(token); err != nil || len(token) < 64 {
		return refuse(http.StatusBadRequest, "BadDeviceToken")
	}
	bearer, ok := strings.CutPrefix(r.Header.Get("authorization"), "bearer ")
	if !ok || bearer == "" {
		return refuse(http.StatusForbidden, "MissingProviderToken")
	}
	r.Bearer = bearer
	if err := s.verify(r); err != nil {
		return refuse(http.StatusForbidden, "InvalidProviderToken")
	}
	if age := r.At.Sub(r.IssuedAt); age > time.Hour || age < -time.Minute {
		return refuse(http.StatusForbidden, "ExpiredProviderToken")
	}
	s.mu.Lock()
	renewed := bearer != s.lastToken && s.lastToken != "" && r.At.Sub(s.lastSince) < 20*time.Minute
	if !renewed && bearer != s.lastToken {
		s.lastToken, s.lastSince = bearer, r.At
	}
	s.mu.Unlock()
	if renewed {
		return refuse(http.StatusTooManyRequests, "TooManyProviderTokenUpdates")
	}
	switch topic := r.Header.Get("apns-topic"); {
	case topic == "":
		return refuse(http.StatusBadRequest, "MissingTopic")
	case topic != s.Topic:
		return refuse(http.StatusBadRequest, "TopicDisallowed")
	}
	pushType := r.Header.Get("apns-push-type")
	if pushType != "alert" && pushType != "background" {
		return refuse(http.StatusBadRequest, "InvalidPushType")
	}
	switch p := r.Header.Get("apns-priority"); {
	case p != "" && p != "10" && p != "5" && p != "1",
		pushType == "background" && p != "5":
		return refuse(http.StatusBadRequest, "BadPriority")
	}
	if e := r.Header.Get("apns-expiration"); e != "" {
		if _, err := strconv.ParseInt(e, 10, 64); err != nil {
			return refuse(http.StatusBadRequest, "BadExpirationDate")
		}
	}
	if len(r.Header.Get("apns-collapse-id")) > 64 {
		return refuse(http.StatusBadRequest, "BadCollapseId")
	}
	if len(r.Body) > 4096 {
		return refuse(http.StatusRequestEntityTooLarge, "PayloadTooLarge")
	}
	var p struct {
		APS map[string]json.RawMessage `json:"aps"`
	}
	if len(r.Body) == 0 || json.Unmarshal(r.Body, &p) != nil || p.APS == nil {
		return refuse(http.StatusBadRequest, "PayloadEmpty")
	}
	return http.StatusOK, ""
}

// verify checks the provider token: a JWS of three base64url parts,
// header {"alg":"ES256","kid":KeyID}, claims {"iss":TeamID,"iat":…},
// signed (r‖s, 64 bytes) with the server's key.
func (s *Server) verify(r *Request) error {
	parts := strings.Split(r.Bearer, ".")
	if len(parts) != 3 {
		return fmt.Errorf("apnstest: %d parts", len(parts))
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	var claims struct {
		Iss string `json:"iss"`
		Iat *int64 `json:"iat"`
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil {
		return fmt.Errorf("apnstest: provider token does not parse")
	}
	if header.Alg != "ES256" || header.Kid != KeyID || claims.Iss != TeamID || claims.Iat == nil || len(sig) != 64 {
		return fmt.Errorf("apnstest: provider token header or claims wrong")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(&s.key.PublicKey, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return fmt.Errorf("apnstest: provider token signature does not verify")
	}
	r.KeyID, r.Issuer, r.IssuedAt = header.Kid, claims.Iss, time.Unix(*claims.Iat, 0)
	return nil
}
