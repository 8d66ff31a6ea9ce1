// Package fcmtest is a local Firebase Cloud Messaging for tests: an
// HTTPS server (httptest, HTTP/2, its own certificate authority) with
// Google's OAuth 2 token endpoint — it checks the service account's JWT
// bearer grant (RS256 signature under the account's key, kid, iss,
// scope, aud, iat and exp) and issues access tokens — and FCM's HTTP v1
// send endpoint, which checks the access token and the message as FCM
// does and answers with FCM's status and error codes. It records every
// grant and send, and a script can make sends fail.
//
// The grant's JWT is checked with crypto/rsa directly, not with the
// OAuth library that signs it.
package fcmtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// The service account the server's key belongs to.
const (
	ClientEmail = "keyline-push@keyline-test.iam.gserviceaccount.com"
	Scope       = "https://www.googleapis.com/auth/firebase.messaging"
)

// Grant is one request to the token endpoint as the server saw it.
type Grant struct {
	At          time.Time
	KeyID       string         // the assertion's kid
	Claims      map[string]any // the assertion's claims, once its signature verified
	Refused     string         // the OAuth error it was refused with, "" if granted
	AccessToken string         // the token issued
}

// Message is the v1 message of a send.
type Message struct {
	Token   string            `json:"token"`
	Topic   string            `json:"topic"`
	Data    map[string]string `json:"data"`
	Android *struct {
		CollapseKey string `json:"collapse_key"`
		Priority    string `json:"priority"`
		TTL         string `json:"ttl"`
	} `json:"android"`
}

// Request is one send as the server saw it.
type Request struct {
	Proto       string
	Method      string
	Path        string
	Header      http.Header
	Body        []byte
	AccessToken string
	Message     Message
	At          time.Time // the server's clock when it arrived
	Refused     string    // the status FCM would refuse it with, "" for a valid send
	Status      int       // the status answered: 0 for a reset or hung request
}

// Response is a scripted answer to a valid send: Status 0 answers 200.
type Response struct {
	Status     int
	Code       string // the google.rpc status ("UNAVAILABLE", "NOT_FOUND", ...)
	ErrorCode  string // the FcmError errorCode ("UNREGISTERED", "QUOTA_EXCEEDED", ...)
	TokenField bool   // a BadRequest field violation on message.token
	RetryAfter string
	Reset      bool // reset the stream (no answer)
	Hang       bool // answer nothing until the client gives up or the server closes
}

// Server is a local FCM and token endpoint. Its methods are safe for
// concurrent use.
type Server struct {
	URL       string // FCM's endpoint; the token endpoint is URL + "/token"
	ProjectID string
	key       *rsa.PrivateKey
	keyID     string
	srv       *httptest.Server
	now       func() time.Time
	done      chan struct{}
	close     sync.Once

	mu       sync.Mutex
	lifetime time.Duration
	tokens   map[string]time.Time // access token → expiry, on the server's clock
	grants   []Grant
	reqs     []Request
	script   func(Request) Response
}

// NewServer starts a server for the project, issuing access tokens that
// last an hour on the clock now (time.Now if nil). Close it when done.
func NewServer(projectID string, now func() time.Time) *Server {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	if now == nil {
		now = time.Now
	}
	id := make([]byte, 20)
	rand.Read(id)
	s := &Server{ProjectID: projectID, key: k, keyID: hex.EncodeToString(id), now: now, done: make(chan struct{}),
		lifetime: time.Hour, tokens: map[string]time.Time{}}
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

// SetTokenLifetime sets the lifetime of the access tokens issued next.
func (s *Server) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lifetime = d
}

// Credentials is the service account's key file, as Google hands it out,
// with token_uri pointing at this server.
func (s *Server) Credentials() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(s.key)
	if err != nil {
		panic(err)
	}
	b, err := json.Marshal(map[string]string{
		"type": "service_account", "project_id": s.ProjectID, "private_key_id": s.keyID,
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": ClientEmail, "client_id": "100000000000000000001",
		"auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": s.URL + "/token",
	})
	if err != nil {
		panic(err)
	}
	return b
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

// Script sets how the server answers valid sends; nil restores the
// default (200).
func (s *Server) Script(f func(Request) Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = f
}

// Grants returns the token requests seen so far.
func (s *Server) Grants() []Grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Grant(nil), s.grants...)
}

// Requests returns the sends seen so far, in order of arrival.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		s.serveToken(w, r)
		return
	}
	s.serveSend(w, r)
}

// serveToken is the OAuth 2 token endpoint: the JWT bearer grant of RFC
// 7523 as Google takes it.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	g := Grant{At: s.now()}
	refuse := func(e string) {
		g.Refused = e
		s.mu.Lock()
		s.grants = append(s.grants, g)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": e})
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Method != http.MethodPost || mt != "application/x-www-form-urlencoded" {
		refuse("invalid_request")
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		refuse("unsupported_grant_type")
		return
	}
	if err := s.verifyAssertion(form.Get("assertion"), &g); err != nil {
		refuse("invalid_grant")
		return
	}
	tok := make([]byte, 24)
	rand.Read(tok)
	g.AccessToken = "ya29.test-" + base64.RawURLEncoding.EncodeToString(tok)
	s.mu.Lock()
	life := s.lifetime
	s.tokens[g.AccessToken] = g.At.Add(life)
	s.grants = append(s.grants, g)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": g.AccessToken, "token_type": "Bearer", "expires_in": int(life / time.Second)})
}

// verifyAssertion checks the grant's JWT: RS256 under the account's key
// with its kid; iss the account, scope FCM's, aud the token endpoint;
// issued now (on the wall clock, which the OAuth library signs with),
// for at most an hour.
func (s *Server) verifyAssertion(a string, g *Grant) error {
	parts := strings.Split(a, ".")
	if len(parts) != 3 {
		return fmt.Errorf("fcmtest: %d parts", len(parts))
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &header) != nil {
		return fmt.Errorf("fcmtest: assertion does not parse")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if header.Alg != "RS256" || header.Kid != s.keyID || rsa.VerifyPKCS1v15(&s.key.PublicKey, crypto.SHA256, digest[:], sig) != nil {
		return fmt.Errorf("fcmtest: assertion signature")
	}
	var c struct {
		Iss   string `json:"iss"`
		Scope string `json:"scope"`
		Aud   string `json:"aud"`
		Iat   int64  `json:"iat"`
		Exp   int64  `json:"exp"`
	}
	if json.Unmarshal(cb, &c) != nil || json.Unmarshal(cb, &g.Claims) != nil {
		return fmt.Errorf("fcmtest: claims do not parse")
	}
	g.KeyID = header.Kid
	now := time.Now().Unix()
	if c.Iss != ClientEmail || !strings.Contains(" "+c.Scope+" ", " "+Scope+" ") || c.Aud != s.URL+"/token" ||
		c.Iat > now+60 || c.Exp <= now || c.Exp-c.Iat > 3600 {
		return fmt.Errorf("fcmtest: claims")
	}
	return nil
}

var ttlForm = regexp.MustCompile(`^[0-9]{1,10}(\.[0-9]{1,9})?s$`)

// serveSend is FCM's v1 send.
func (s *Server) serveSend(w http.ResponseWriter, hr *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(hr.Body, 1<<20))
	r := Request{Proto: hr.Proto, Method: hr.Method, Path: hr.URL.Path, Header: hr.Header.Clone(), Body: body, At: s.now()}
	status, resp := s.check(&r)
	s.mu.Lock()
	script := s.script
	s.mu.Unlock()
	if r.Refused == "" && script != nil {
		if got := script(r); got.Status != 0 || got.Reset || got.Hang {
			resp = got
			status = got.Status
		}
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
		panic(http.ErrAbortHandler)
	case resp.Hang:
		select {
		case <-hr.Context().Done():
		case <-s.done:
		}
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	if resp.RetryAfter != "" {
		w.Header().Set("Retry-After", resp.RetryAfter)
	}
	w.WriteHeader(status)
	if status == http.StatusOK {
		id := make([]byte, 8)
		rand.Read(id)
		_ = json.NewEncoder(w).Encode(map[string]string{"name": "projects/" + s.ProjectID + "/messages/0:" + hex.EncodeToString(id)})
		return
	}
	var details []any
	if resp.ErrorCode != "" {
		details = append(details, map[string]string{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": resp.ErrorCode})
	}
	if resp.TokenField {
		details = append(details, map[string]any{"@type": "type.googleapis.com/google.rpc.BadRequest",
			"fieldViolations": []map[string]string{{"field": "message.token", "description": "Invalid registration token"}}})
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": status, "message": "fcmtest: " + resp.Code,
		"status": resp.Code, "details": details}})
}

// check checks a send as FCM does; it returns the refusal (200 and a
// zero Response for a valid send) and sets r.Refused.
func (s *Server) check(r *Request) (int, Response) {
	refuse := func(status int, code, errorCode string, tokenField bool) (int, Response) {
		r.Refused = code
		return status, Response{Status: status, Code: code, ErrorCode: errorCode, TokenField: tokenField}
	}
	if r.Method != http.MethodPost {
		return refuse(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "", false)
	}
	project, ok := strings.CutPrefix(r.Path, "/v1/projects/")
	project, ok2 := strings.CutSuffix(project, "/messages:send")
	if !ok || !ok2 {
		return refuse(http.StatusNotFound, "NOT_FOUND", "", false)
	}
	access, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	exp, known := s.tokens[access]
	s.mu.Unlock()
	if !ok || !known || !r.At.Before(exp) {
		return refuse(http.StatusUnauthorized, "UNAUTHENTICATED", "", false)
	}
	r.AccessToken = access
	if project != s.ProjectID {
		return refuse(http.StatusForbidden, "PERMISSION_DENIED", "SENDER_ID_MISMATCH", false)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return refuse(http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT", false)
	}
	var req struct {
		Message      *Message `json:"message"`
		ValidateOnly bool     `json:"validate_only"`
	}
	dec := json.NewDecoder(strings.NewReader(string(r.Body)))
	dec.DisallowUnknownFields()
	if dec.Decode(&req) != nil || req.Message == nil {
		return refuse(http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT", false)
	}
	m := req.Message
	r.Message = *m
	switch {
	case (m.Token == "") == (m.Topic == ""):
		return refuse(http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT", false)
	case m.Token != "" && (len(m.Token) < 20 || strings.ContainsAny(m.Token, " \t\n/")):
		return refuse(http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT", true)
	}
	size := 0
	for k, v := range m.Data {
		if k == "from" || k == "message_type" || k == "collapse_key" || strings.HasPrefix(k, "google.") || strings.HasPrefix(k, "gcm.") {
			return refuse(http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT", false)
		}
		size += len(k) + len(v)
	}
	if size > 4096 {
		return refuse(http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT", false)
	}
	if a := m.Android; a != nil {
		if a.Priority != "" && a.Priority != "NORMAL" && a.Priority != "HIGH" {
			return refuse(http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT", false)
		}
		if a.TTL != "" && !ttlForm.MatchString(a.TTL) {
			return refuse(http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT", false)
		}
	}
	return http.StatusOK, Response{}
}
