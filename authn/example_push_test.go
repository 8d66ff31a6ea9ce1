package authn_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/memstore"
	"github.com/keyline/keyline/enroll"
)

// secondFactor is a login page's second step with push first: it starts
// a push and, at once, a challenge, so the page can show both the number
// to type on the phone and the question for when the push does not come.
// Anything but an approval falls back to the challenge.
func secondFactor(ctx context.Context, svc *authn.Service, user string, seen enroll.PushContext,
	wait func(authn.PushRequest) (authn.PushState, error), typed func(authn.Challenge) string) (authn.Result, error) {
	ch, err := svc.BeginChallenge(ctx, user)
	if err != nil {
		return authn.Result{}, err
	}
	if req, err := svc.BeginPush(ctx, user, seen); err == nil {
		state, err := wait(req) // the page shows req.Number and polls
		if err == nil && state == authn.PushApproved {
			if res, err := svc.FinishPush(ctx, user, req.ID); err == nil {
				return res, nil
			}
		}
		_ = svc.CancelPush(ctx, user, req.ID) // retract the prompt; ignore "already over"
	}
	// Push off, unavailable, denied, expired or wrong: challenge/response.
	return svc.FinishChallenge(ctx, user, ch.ID, typed(ch))
}

// postAnswer is the phone posting its answer to the device API, in
// process: the phone signs the request, the server authenticates it
// (what package deviceapi does for each request), and the device it
// authenticated answers.
func postAnswer(ctx context.Context, svc *authn.Service, cred *enroll.Credential, a enroll.PushAnswer) error {
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	header, err := cred.SignAPIRequest("POST", "/v1/push/answer", "", body, time.Now()) // the phone
	if err != nil {
		return err
	}
	r, mac, err := enroll.ParseAPIAuthorization(header) // the server
	if err != nil {
		return err
	}
	r.Method, r.Path, r.BodyHash = "POST", "/v1/push/answer", sha256.Sum256(body)
	dev, err := svc.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
	if err != nil {
		return err
	}
	return dev.AnswerPush(ctx, a)
}

// Push first, challenge/response as the fallback: a denied push, and the
// same login completed with the phone's 8-digit answer.
func Example_pushWithFallback() {
	ctx := context.Background()
	master := make([]byte, 32)
	rand.Read(master)
	keys, _ := authn.NewKeyring("k1", map[string][]byte{"k1": master})
	phoneInbox := authn.NewChanNotifier(4)
	ms := memstore.New() // the hot state and the records, in memory
	svc, _ := authn.New(authn.Config{Hot: ms, Records: ms, Keys: keys, Issuer: "Example Bank",
		Notifier: phoneInbox, Logger: slog.New(slog.DiscardHandler)})

	offer, _ := svc.StartActivation(ctx, "user-42", nil)
	cred, req, _ := enroll.Activate(offer, enroll.DeviceInfo{InstallID: "i-1", Name: "Ada's phone", PushToken: "token"}, time.Now())
	act, _ := svc.CompleteActivation(ctx, req)
	_ = cred.CheckServerConfirm(act.ServerConfirm)
	_, _ = svc.ConfirmActivation(ctx, "user-42", offer.SessionID, cred.PairingCode())

	seen := enroll.PushContext{Action: "Login", IP: "203.0.113.7", Place: "Zürich, CH", Browser: "Firefox on macOS"}
	wait := func(pr authn.PushRequest) (authn.PushState, error) {
		// The phone: the prompt arrives; the user does not recognise it.
		d := <-phoneInbox.C
		prompt, err := cred.OpenPrompt(d.Prompt, time.Now())
		if err != nil {
			return "", err
		}
		fmt.Println("phone shows:", prompt.Context.Action, "from", prompt.Context.Place)
		answer, _ := cred.AnswerPush(prompt, false, "", time.Now())
		if err := postAnswer(ctx, svc, cred, answer); err != nil {
			return "", err
		}
		return svc.PushStatus(ctx, "user-42", pr.ID, 0)
	}
	typed := func(ch authn.Challenge) string {
		r, _ := cred.Respond(ch.Question, time.Now())
		return r
	}
	res, err := secondFactor(ctx, svc, "user-42", seen, wait, typed)
	fmt.Println(res.Method, err)
	_, err = svc.BeginPush(ctx, "user-42", seen)
	fmt.Println(errors.Is(err, authn.ErrPushUnavailable))
	// Output:
	// phone shows: Login from Zürich, CH
	// challenge <nil>
	// true
}
