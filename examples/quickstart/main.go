// Quickstart runs keyline's whole flow in one process, with nothing to
// set up: a server (an authn.Service on an in-memory store) and a
// simulated phone. It enrolls the phone with a typed session ID and
// pairing, keeps its credential in a PIN vault, logs in by
// challenge/response and by push approval (approved with the number the
// login page shows; denied, falling back to challenge/response), and
// shows a replay refused, a lockout, and a phone whose clock has drifted
// being resynchronised.
//
//	go run ./examples/quickstart
//
// Time is a fake clock, moved by the program, so the run is instant and
// its outcome always the same. It exits 0 when every step turned out as
// expected, and 1 with a message otherwise.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/memstore"
	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/vault"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart: FAILED:", err)
		os.Exit(1)
	}
}

// clock is a fake clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

const (
	issuer = "Example Bank"
	user   = "alice"
	pin    = "4739" // the phone user's PIN for the vault
)

// vaultOptions make the vault's Argon2id cheap, so that the demo runs at
// once. Real apps leave vault.Options' Argon2 and MinArgon2 at zero: the
// defaults (t=3, 64 MiB) are what protect a stolen vault.
var vaultOptions = vault.Options{
	Argon2:    vault.Argon2Params{Time: 1, MemoryKiB: 1024, Threads: 1},
	MinArgon2: vault.Argon2Params{Time: 1, MemoryKiB: 1024, Threads: 1},
}

func run(w io.Writer) error {
	ctx := context.Background()
	say := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }

	// The server: a Service on an in-memory store, with a fresh master key.
	// A real one keeps its master keys in a secret manager, and its devices
	// in a durable Store that all its instances share.
	step := challenge.Default.TimeStep() // 30 s
	clk := &clock{t: time.Now().UTC().Truncate(step).Add(step / 2)}
	master := make([]byte, authn.MasterKeySize)
	rand.Read(master)
	keys, err := authn.NewKeyring("k1", map[string][]byte{"k1": master})
	clear(master)
	if err != nil {
		return err
	}
	// The Notifier delivers pushes to phones. This one hands each delivery
	// to the simulated phone over a channel; a real one calls the OS push
	// service (APNs, FCM) with the device's push token.
	notifier := authn.NewChanNotifier(8)
	store := memstore.New() // one in-memory engine keeps both halves
	svc, err := authn.New(authn.Config{
		Hot:      store,
		Records:  store,
		Keys:     keys,
		Issuer:   issuer,
		Clock:    clk.Now,
		Notifier: notifier,
		Logger:   slog.New(slog.DiscardHandler), // the audit log; a real server keeps it
	})
	if err != nil {
		return err
	}
	// The Service's own maintenance: a sweep of expired records from the
	// store every minute, until ctx ends. Every server starts it once.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	go svc.Maintain(ctx, time.Minute)

	// 1. The portal starts an activation.
	offer, err := svc.StartActivation(ctx, user, nil) // the first device: no step-up proof needed
	if err != nil {
		return fmt.Errorf("step 1: %w", err)
	}
	say("1. The server starts an activation for %q; the portal shows this QR code:", user)
	say("")
	fmt.Fprint(w, offer.TerminalQR())
	say("")
	say("   and, for a phone that cannot scan, the session ID %s (valid until %s)", offer.SessionID, offer.ExpiresAt.Format("15:04:05 MST"))

	// 2. The phone: the user types the session ID; the app fetches the
	// offer from its server, checks it, activates and keeps the credential.
	typed := strings.ToLower(strings.ReplaceAll(offer.SessionID, "-", " ")) // as a person types it
	sid, err := enroll.ParseSessionID(typed)
	if err != nil {
		return fmt.Errorf("step 2: the typed session ID: %w", err)
	}
	fetched, err := svc.Offer(ctx, sid) // in a real app: a request to the server
	if err != nil {
		return fmt.Errorf("step 2: fetching the offer: %w", err)
	}
	if err := fetched.Check(typed); err != nil {
		return fmt.Errorf("step 2: checking the offer: %w", err)
	}
	say("2. The phone: the user types %q; it reads as %s, and the offer fetched for it checks out", typed, sid)
	info := enroll.DeviceInfo{
		InstallID: "quickstart-" + rand.Text(),
		Name:      "Alice's phone",
		Platform:  "android",
		Integrity: enroll.Intact,
		PushToken: "fcm-quickstart-" + rand.Text(), // the token the OS gave the app, so that the server can push to it
	}
	cred, req, err := enroll.Activate(fetched, info, clk.Now())
	if err != nil {
		return fmt.Errorf("step 2: activating: %w", err)
	}
	act, err := svc.CompleteActivation(ctx, req) // in a real app: the phone posts req
	if err != nil {
		return fmt.Errorf("step 2: completing the activation: %w", err)
	}
	if err := cred.CheckServerConfirm(act.ServerConfirm); err != nil {
		return fmt.Errorf("step 2: the server's confirmation: %w", err)
	}
	say("   it activates; the server's confirmation holds; device %s is %s until paired", act.Device.ID, act.Device.State)
	if err := vault.CheckPIN("1234", user); err == nil {
		return errors.New("step 2: the PIN 1234 was accepted")
	} else {
		say("   the app refuses the PIN 1234 (%v)", err)
	}
	if err := vault.CheckPIN(pin, user); err != nil {
		return fmt.Errorf("step 2: the PIN: %w", err)
	}
	v, err := vault.New(pin, vaultOptions)
	if err != nil {
		return fmt.Errorf("step 2: the vault: %w", err)
	}
	if err := v.Add(cred); err != nil {
		return fmt.Errorf("step 2: adding to the vault: %w", err)
	}
	blob, err := v.Seal()
	if err != nil {
		return fmt.Errorf("step 2: sealing the vault: %w", err)
	}
	v.Zero()
	cred.Zero()
	v, err = vault.Open(blob, pin, vaultOptions) // the next time the app starts
	if err != nil {
		return fmt.Errorf("step 2: opening the vault: %w", err)
	}
	phone, err := v.Get(issuer, user)
	v.Zero()
	if err != nil {
		return fmt.Errorf("step 2: the credential from the vault: %w", err)
	}
	defer phone.Zero()
	say("   it seals the credential in a vault under the PIN (%d bytes), reopens it with the PIN and gets it back", len(blob))
	say("   (the vault here uses light Argon2id parameters, to run at once; real apps use the defaults)")

	// 3. The portal pairs the device with the code the phone shows.
	status, err := svc.ActivationStatus(ctx, user, offer.SessionID)
	if err != nil || status.State != authn.ActivationCompleted {
		return fmt.Errorf("step 3: activation status %q, %v; want %q", status.State, err, authn.ActivationCompleted)
	}
	code := phone.PairingCode()
	dev, err := svc.ConfirmActivation(ctx, user, offer.SessionID, code)
	if err != nil {
		return fmt.Errorf("step 3: pairing: %w", err)
	}
	if dev.State != authn.DeviceActive {
		return fmt.Errorf("step 3: device is %s after pairing", dev.State)
	}
	say("3. The phone shows the pairing code %s; typed into the portal, it pairs %q: the device is %s", code, dev.Name, dev.State)

	// respond is the phone answering a question, by its own clock.
	skew := time.Duration(0)
	respond := func(question string) (string, error) { return phone.Respond(question, clk.Now().Add(skew)) }

	// 4. Login by challenge/response.
	ch, err := svc.BeginChallenge(ctx, user)
	if err != nil {
		return fmt.Errorf("step 4: %w", err)
	}
	clk.Advance(5 * time.Second) // the user types the question into the phone
	resp, err := respond(ch.Question)
	if err != nil {
		return fmt.Errorf("step 4: the phone: %w", err)
	}
	res, err := svc.FinishChallenge(ctx, user, ch.ID, resp)
	if err != nil {
		return fmt.Errorf("step 4: the right response was refused: %w", err)
	}
	say("4. Login by challenge/response: the server asks %s, the phone answers %s: logged in as %q with %q (drift %d)", ch.Question, resp, res.User, res.DeviceName, res.Drift)

	// receive is the phone getting a push: it takes the delivery and opens
	// its prompt, which checks the server's MAC, that the prompt is for
	// this device, and that it has not expired. (A real phone gets an
	// empty OS notification and fetches the sealed prompt from the server's
	// device API, AuthenticatedDevice.PendingPushes; the in-process
	// notifier hands it over.)
	receive := func() (enroll.PushPrompt, error) {
		for {
			select {
			case d := <-notifier.C:
				if d.Retract { // another phone answered: nothing to show
					continue
				}
				if d.PushToken != info.PushToken {
					return enroll.PushPrompt{}, fmt.Errorf("a delivery for push token %q", d.PushToken)
				}
				return phone.OpenPrompt(d.Prompt, clk.Now().Add(skew))
			default:
				return enroll.PushPrompt{}, errors.New("no push delivered")
			}
		}
	}
	// post is the phone posting its answer to the server's device API
	// (package deviceapi, in a real app): the phone signs the request with
	// its credential, the server authenticates it, and the device it
	// authenticated answers: a device answers only pushes sent to it.
	post := func(a enroll.PushAnswer) error {
		const method, path = "POST", "/v1/push/answer"
		body, err := json.Marshal(a)
		if err != nil {
			return err
		}
		header, err := phone.SignAPIRequest(method, path, "", body, clk.Now().Add(skew)) // the phone
		if err != nil {
			return err
		}
		r, mac, err := enroll.ParseAPIAuthorization(header) // the server, from here on
		if err != nil {
			return err
		}
		r.Method, r.Path, r.BodyHash = method, path, sha256.Sum256(body)
		device, err := svc.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
		if err != nil {
			return err
		}
		return device.AnswerPush(ctx, a)
	}
	// What the server saw of the browser that is logging in; the phone
	// shows it so that the user can tell whether the login is theirs.
	seen := enroll.PushContext{Action: "Login", IP: "203.0.113.42", Place: "Zürich, CH", Browser: "Firefox on macOS"}

	// 5. Login by push: the page shows a number, the user types it on the phone.
	preq, err := svc.BeginPush(ctx, user, seen)
	if err != nil {
		return fmt.Errorf("step 5: %w", err)
	}
	say("5. Login by push: the login page shows the number %s and asks the user to type it on the phone", preq.Number)
	prompt, err := receive()
	if err != nil {
		return fmt.Errorf("step 5: the phone: %w", err)
	}
	if prompt.Context != seen {
		return fmt.Errorf("step 5: the phone shows %+v; the server saw %+v", prompt.Context, seen)
	}
	say("   the phone buzzes and shows: %s? from %s (%s), %s; expires %s",
		prompt.Context.Action, prompt.Context.IP, prompt.Context.Place, prompt.Context.Browser, prompt.ExpiresAt.Format("15:04:05 MST"))
	if pst, err := svc.PushStatus(ctx, user, preq.ID, 0); err != nil || pst != authn.PushPending {
		return fmt.Errorf("step 5: push status %q, %v before the answer; want %q", pst, err, authn.PushPending)
	}
	if _, err := svc.FinishPush(ctx, user, preq.ID); !errors.Is(err, authn.ErrPushPending) {
		return fmt.Errorf("step 5: finishing before the answer gave %v; want %v", err, authn.ErrPushPending)
	}
	clk.Advance(5 * time.Second) // the user reads the prompt and types the number
	answer, err := phone.AnswerPush(prompt, true, preq.Number, clk.Now().Add(skew))
	if err != nil {
		return fmt.Errorf("step 5: the phone's answer: %w", err)
	}
	if err := post(answer); err != nil {
		return fmt.Errorf("step 5: the server took the answer: %w", err)
	}
	say("   the user types %s and approves; the server takes the phone's answer", answer.TypedNumber)
	pst, err := svc.PushStatus(ctx, user, preq.ID, 5*time.Second) // the login page polls
	if err != nil || pst != authn.PushApproved {
		return fmt.Errorf("step 5: push status %q, %v after the answer; want %q", pst, err, authn.PushApproved)
	}
	res, err = svc.FinishPush(ctx, user, preq.ID)
	if err != nil {
		return fmt.Errorf("step 5: finishing the approved push: %w", err)
	}
	if res.Method != authn.MethodPush || res.DeviceID != dev.ID {
		return fmt.Errorf("step 5: logged in by %q with device %s; want %q with %s", res.Method, res.DeviceID, authn.MethodPush, dev.ID)
	}
	say("   the page, polling, sees the push %s (it was %s before the answer); FinishPush logs in %q: method %s, device %q",
		pst, authn.PushPending, res.User, res.Method, res.DeviceName)

	// 6. A push the user did not start: denied; the page falls back.
	before, err := svc.Factors(ctx, user)
	if err != nil {
		return fmt.Errorf("step 6: %w", err)
	}
	seen.IP, seen.Place = "203.0.113.199", "Lagos, NG"
	preq, err = svc.BeginPush(ctx, user, seen)
	if err != nil {
		return fmt.Errorf("step 6: %w", err)
	}
	if prompt, err = receive(); err != nil {
		return fmt.Errorf("step 6: the phone: %w", err)
	}
	if answer, err = phone.AnswerPush(prompt, false, "", clk.Now().Add(skew)); err != nil {
		return fmt.Errorf("step 6: the phone's answer: %w", err)
	}
	if err := post(answer); err != nil {
		return fmt.Errorf("step 6: the server took the denial: %w", err)
	}
	_, err = svc.FinishPush(ctx, user, preq.ID)
	if !errors.Is(err, authn.ErrPushDenied) {
		return fmt.Errorf("step 6: finishing the denied push gave %v; want %v", err, authn.ErrPushDenied)
	}
	say("6. Push denied: the phone shows a login from %s (%s), which the user did not start, and denies it: %v",
		prompt.Context.IP, prompt.Context.Place, err)
	after, err := svc.Factors(ctx, user)
	if err != nil {
		return fmt.Errorf("step 6: %w", err)
	}
	// Step 4's login reset the failures and the approved push added none;
	// a denial adds none either, so that an attacker's pushes cannot lock
	// out a user who says no. (Only an approval with a wrong number counts.)
	if before.RecentFail != 0 || after.RecentFail != before.RecentFail || after.Locked {
		return fmt.Errorf("step 6: failures %d before the denial, %d (locked %v) after; want 0 and 0", before.RecentFail, after.RecentFail, after.Locked)
	}
	ch, err = svc.BeginChallenge(ctx, user) // the login page falls back at once
	if err != nil {
		return fmt.Errorf("step 6: the fallback: %w", err)
	}
	clk.Advance(5 * time.Second) // the user types the question into the phone
	if resp, err = respond(ch.Question); err != nil {
		return fmt.Errorf("step 6: the phone: %w", err)
	}
	if res, err = svc.FinishChallenge(ctx, user, ch.ID, resp); err != nil {
		return fmt.Errorf("step 6: the fallback login: %w", err)
	}
	say("   the page falls back to challenge/response: it asks %s, the phone answers %s: logged in with %q by %s",
		ch.Question, resp, res.DeviceName, res.Method)
	if _, err = svc.BeginPush(ctx, user, seen); !errors.Is(err, authn.ErrPushUnavailable) {
		return fmt.Errorf("step 6: a push after the denial gave %v; want %v", err, authn.ErrPushUnavailable)
	}
	say("   push is now suspended for %q: %v", user, err)
	say("   the denial was not a lockout failure: Factors.RecentFail is %d, as before it", after.RecentFail)

	// 7. The fallback login's response again.
	_, err = svc.FinishChallenge(ctx, user, ch.ID, resp)
	if !errors.Is(err, authn.ErrInvalidCode) {
		return fmt.Errorf("step 7: the replayed response gave %v; want %v", err, authn.ErrInvalidCode)
	}
	say("7. The same response replayed is refused, its challenge used up: %v", err)
	say("   (the response %s that just logged in, in step 6's fallback)", resp)
	// The refusal counted as a failure; the user's next login resets it.
	ch, err = svc.BeginChallenge(ctx, user)
	if err != nil {
		return fmt.Errorf("step 7: %w", err)
	}
	if resp, err = respond(ch.Question); err != nil {
		return fmt.Errorf("step 7: the phone: %w", err)
	}
	if _, err = svc.FinishChallenge(ctx, user, ch.ID, resp); err != nil {
		return fmt.Errorf("step 7: the next login: %w", err)
	}
	say("   (the refusal counted as a failure; the user's next login, with a fresh challenge, succeeds and resets the count)")

	// 8. Wrong codes until the user is locked.
	var locked *authn.LockedError
	for tries := 1; locked == nil; tries++ {
		if tries > authn.DefaultMaxFailures {
			return fmt.Errorf("step 8: not locked after %d wrong codes", authn.DefaultMaxFailures)
		}
		ch, err := svc.BeginChallenge(ctx, user)
		if err != nil {
			return fmt.Errorf("step 8: %w", err)
		}
		_, err = svc.FinishChallenge(ctx, user, ch.ID, "00000000")
		switch {
		case errors.As(err, &locked):
			if tries != authn.DefaultMaxFailures {
				return fmt.Errorf("step 8: wrong code %d locked the user; want %d", tries, authn.DefaultMaxFailures)
			}
			say("8. Wrong codes, each on a fresh challenge: wrong code %d locks the user: %v", tries, err)
		case !errors.Is(err, authn.ErrInvalidCode):
			return fmt.Errorf("step 8: wrong code %d gave %v; want %v", tries, err, authn.ErrInvalidCode)
		}
	}
	say("   the *authn.LockedError's RetryAfter is %v", locked.RetryAfter)
	ch, err = svc.BeginChallenge(ctx, user)
	if err != nil {
		return fmt.Errorf("step 8: %w", err)
	}
	if resp, err = respond(ch.Question); err != nil {
		return fmt.Errorf("step 8: the phone: %w", err)
	}
	if _, err = svc.FinishChallenge(ctx, user, ch.ID, resp); !errors.Is(err, authn.ErrLocked) {
		return fmt.Errorf("step 8: the right code while locked gave %v; want %v", err, authn.ErrLocked)
	}
	say("   while locked, even the right code is refused: %v", err)
	clk.Advance(locked.RetryAfter + time.Second)
	ch, err = svc.BeginChallenge(ctx, user)
	if err != nil {
		return fmt.Errorf("step 8: %w", err)
	}
	if resp, err = respond(ch.Question); err != nil {
		return fmt.Errorf("step 8: the phone: %w", err)
	}
	if _, err = svc.FinishChallenge(ctx, user, ch.ID, resp); err != nil {
		return fmt.Errorf("step 8: after the lock: %w", err)
	}
	say("   %v later the lock has lifted, and the right code logs in (which resets the failures)", locked.RetryAfter+time.Second)

	// 9. The phone's clock runs three steps fast.
	skew = 3 * step
	ch, err = svc.BeginChallenge(ctx, user)
	if err != nil {
		return fmt.Errorf("step 9: %w", err)
	}
	if resp, err = respond(ch.Question); err != nil {
		return fmt.Errorf("step 9: the phone: %w", err)
	}
	_, err = svc.FinishChallenge(ctx, user, ch.ID, resp)
	var resync *authn.ResyncError
	if !errors.As(err, &resync) {
		return fmt.Errorf("step 9: a phone 3 steps fast gave %v; want a %T", err, resync)
	}
	say("9. The phone's clock now runs %v (3 steps) fast. Its answer is refused: %v", skew, err)
	if resp, err = respond(resync.Next.Question); err != nil {
		return fmt.Errorf("step 9: the phone: %w", err)
	}
	res, err = svc.FinishChallenge(ctx, user, resync.Next.ID, resp)
	if err != nil {
		return fmt.Errorf("step 9: the resync challenge: %w", err)
	}
	if res.Drift != 3 {
		return fmt.Errorf("step 9: logged in with drift %d; want 3", res.Drift)
	}
	say("   it answers the next challenge, %s, with %s: logged in, and the server now expects the phone at drift %d", resync.Next.Question, resp, res.Drift)
	say("Done: every step turned out as expected.")
	return nil
}
