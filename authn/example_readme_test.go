package authn_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/memstore"
	"github.com/keyline/keyline/enroll"
)

// The README's handler, verbatim (TestReadmeHandler keeps the two the
// same), with just enough of a session and a page around it to run.

// README handler begins
func challengeHandler(svc *authn.Service) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(r) // your session, after the password step
		if r.Method == http.MethodGet {
			ch, err := svc.BeginChallenge(r.Context(), s.User)
			if err != nil {
				http.Error(w, "try again in a minute", http.StatusTooManyRequests)
				return
			}
			s.ChallengeID = ch.ID // bound to the session, never read from the form
			page.Execute(w, ch.Question)
			return
		}
		res, err := svc.FinishChallenge(r.Context(), s.User, s.ChallengeID, r.FormValue("response"))
		var locked *authn.LockedError
		switch {
		case err == nil:
			s.SignIn(res.User, res.Proof) // renew the session ID here
		case errors.As(err, &locked):
			http.Error(w, "locked; try again in "+locked.RetryAfter.Round(time.Second).String(), http.StatusTooManyRequests)
		default: // wrong, expired, used or malformed: the package doc has the table
			http.Error(w, "that code did not work", http.StatusUnauthorized)
		}
	}
}

// README handler ends

// webSession is the example's session: the user the password step
// found, the challenge of this browser, and whether the login is done.
type webSession struct {
	User, ChallengeID string
	SignedInAs        string
}

// SignIn completes the login (a real service renews the session ID and
// keeps the proof for step-up).
func (s *webSession) SignIn(user string, _ *authn.Proof) { s.SignedInAs = user }

var (
	sessionsMu sync.Mutex
	sessions   = map[string]*webSession{}
)

// sessionOf finds the request's session by its cookie.
func sessionOf(r *http.Request) *webSession {
	c, err := r.Cookie("session")
	sessionsMu.Lock()
	defer sessionsMu.Unlock()
	if err != nil || sessions[c.Value] == nil {
		return &webSession{} // no session: no user, so no challenge will match
	}
	return sessions[c.Value]
}

var page = template.Must(template.New("challenge").Parse(`question={{.}}`))

// The README's handler at work: the password step made a session for
// user-42, the page shows a challenge, the phone answers, the user is in.
func Example_secondFactor() {
	ctx := context.Background()
	master := make([]byte, 32)
	rand.Read(master) // in production: from a secret manager
	keys, _ := authn.NewKeyring("2026-11", map[string][]byte{"2026-11": master})
	ms := memstore.New() // the hot state and the records, in memory
	svc, _ := authn.New(authn.Config{Hot: ms, Records: ms, Keys: keys, Issuer: "Example Bank",
		Logger: slog.New(slog.DiscardHandler)})
	offer, _ := svc.StartActivation(ctx, "user-42", nil)
	cred, req, _ := enroll.Activate(offer, enroll.DeviceInfo{InstallID: "install-1", Name: "Ada's phone"}, time.Now())
	act, _ := svc.CompleteActivation(ctx, req)
	_ = cred.CheckServerConfirm(act.ServerConfirm)
	_, _ = svc.ConfirmActivation(ctx, "user-42", offer.SessionID, cred.PairingCode())

	sessionsMu.Lock()
	sessions["s1"] = &webSession{User: "user-42"} // the password step's doing
	sessionsMu.Unlock()
	srv := httptest.NewServer(challengeHandler(svc))
	defer srv.Close()
	do := func(method, body string) (int, string) {
		r, _ := http.NewRequest(method, srv.URL, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(&http.Cookie{Name: "session", Value: "s1"})
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, shown := do(http.MethodGet, "")
	question := strings.TrimPrefix(shown, "question=")
	answer, _ := cred.Respond(question, time.Now()) // the user types the question into the phone
	status, _ := do(http.MethodPost, url.Values{"response": {answer}}.Encode())
	sessionsMu.Lock()
	fmt.Println(status, "signed in as", sessions["s1"].SignedInAs)
	sessionsMu.Unlock()
	status, body := do(http.MethodPost, url.Values{"response": {answer}}.Encode())
	fmt.Println(status, strings.TrimSpace(body))
	// Output:
	// 200 signed in as user-42
	// 401 that code did not work
}

// TestReadmeHandler: the README shows challengeHandler exactly as this file
// has it, so the README's code compiles and runs (Example_secondFactor).
func TestReadmeHandler(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile("example_readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, code, ok := strings.Cut(string(self), "// README handler begins\n")
	code, _, ok2 := strings.Cut(code, "\n// README handler ends")
	if !ok || !ok2 {
		t.Fatal("the handler's markers are missing")
	}
	if !strings.Contains(string(readme), "```go\n"+strings.TrimSpace(code)+"\n```") {
		t.Errorf("README.md's handler differs from challengeHandler in example_readme_test.go:\n%s", code)
	}
}
