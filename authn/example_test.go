package authn_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/memstore"
	"github.com/keyline/keyline/enroll"
)

// loginHandler is the second step of a login, after the password: GET
// shows a fresh challenge, POST checks the phone's answer. user comes from
// the session the password step created (here, a header, to keep the
// example short).
func loginHandler(svc *authn.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := r.Header.Get("X-User") // from the first factor's session
		switch r.Method {
		case http.MethodGet:
			ch, err := svc.BeginChallenge(r.Context(), user)
			if err != nil {
				http.Error(w, "try again in a minute", http.StatusTooManyRequests)
				return
			}
			// Keep ch.ID in the session; show the question.
			fmt.Fprintf(w, "id=%s question=%s", ch.ID, ch.Question)
		case http.MethodPost:
			res, err := svc.FinishChallenge(r.Context(), user, r.FormValue("id"), r.FormValue("response"))
			var locked *authn.LockedError
			var resync *authn.ResyncError
			switch {
			case err == nil:
				fmt.Fprintf(w, "welcome, signed in with %s", res.DeviceName)
			case errors.As(err, &locked):
				http.Error(w, fmt.Sprintf("too many attempts; try again in %v", locked.RetryAfter.Round(time.Second)), http.StatusTooManyRequests)
			case errors.As(err, &resync):
				// The phone's clock is off: one more answer realigns it.
				fmt.Fprintf(w, "id=%s question=%s", resync.Next.ID, resync.Next.Question)
			case errors.Is(err, authn.ErrMalformed):
				http.Error(w, err.Error(), http.StatusBadRequest) // says what is wrong with the entry
			case errors.Is(err, authn.ErrExpired), errors.Is(err, authn.ErrTooManyAttempts):
				http.Error(w, "this code has expired; start again", http.StatusUnauthorized)
			case errors.Is(err, authn.ErrInvalidCode):
				http.Error(w, "wrong code", http.StatusUnauthorized) // ErrReplay lands here too
			default:
				http.Error(w, "something went wrong", http.StatusInternalServerError)
			}
		}
	})
}

// A complete login: a phone is enrolled, the login page shows its
// challenge, the phone answers, the user is in.
func Example_loginHandler() {
	ctx := context.Background()
	master := make([]byte, 32)
	rand.Read(master) // in production: from a secret manager, never generated at start-up
	keys, _ := authn.NewKeyring("2026-11", map[string][]byte{"2026-11": master})
	ms := memstore.New() // the hot state and the records, in memory
	svc, err := authn.New(authn.Config{Hot: ms, Records: ms, Keys: keys, Issuer: "Example Bank",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}

	// Enrollment, condensed: the portal's offer, the phone, pairing.
	offer, _ := svc.StartActivation(ctx, "user-42", nil)
	cred, req, _ := enroll.Activate(offer, enroll.DeviceInfo{InstallID: "install-1", Name: "Ada's phone"}, time.Now())
	act, _ := svc.CompleteActivation(ctx, req)
	_ = cred.CheckServerConfirm(act.ServerConfirm)
	_, _ = svc.ConfirmActivation(ctx, "user-42", offer.SessionID, cred.PairingCode())

	srv := httptest.NewServer(loginHandler(svc))
	defer srv.Close()
	get, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	get.Header.Set("X-User", "user-42")
	resp, err := http.DefaultClient.Do(get)
	if err != nil {
		fmt.Println(err)
		return
	}
	var id, question string
	fmt.Fscanf(resp.Body, "id=%s question=%s", &id, &question)
	resp.Body.Close()

	answer, _ := cred.Respond(question, time.Now()) // the user types the question into the phone
	form := url.Values{"id": {id}, "response": {answer}}
	post, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.Header.Set("X-User", "user-42")
	resp, err = http.DefaultClient.Do(post)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 welcome, signed in with Ada's phone
}
