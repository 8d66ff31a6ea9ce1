package authn

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/internal/redact"
)

// Log in with a QR code (PROTOCOL.md §8, "Log in with a QR code"), as
// IB Key offers when no notification arrives: the login page shows a QR
// code; the phone scans it, fetches the request's prompt, shows what it
// approves and asks for the number the page shows, and answers over the
// device API; the page polls QRLoginStatus and, once approved, calls
// FinishQRLogin. Nothing is typed into the browser.
//
// # A push request delivered by QR code
//
// A QR login is a push request (PushRecord) that notifies nobody: its
// prompt, its answer, the answer's checks, number matching, single use,
// the retry of the same answer, the denial (which suspends push) and the
// wrong number (which counts a failure) are the push's, in one store
// record and one code path. The phone fetches the prompt with
// [AuthenticatedDevice.PushPrompt] and answers with
// [AuthenticatedDevice.AnswerPush], as for a push whose notification
// carried only the request ID. What differs:
//
//   - every active device of the user may answer (a push token is not
//     needed: the code reaches the phone through its camera), and the
//     request is not among a device's pending prompts
//     ([AuthenticatedDevice.PendingPushes]): it is fetched by the ID its
//     code carries only, so that a sign-in begun with a stolen password
//     shows no prompt unless its code is scanned;
//   - it needs no Notifier, and neither push being off nor suspended
//     refuses it: those are about notifications the user did not ask for,
//     and a QR login comes only from a code the user chose to scan;
//   - it spends a unit of the same push budget (3 per 15 minutes per
//     user) and gives it back as a push does (withdrawn: CancelQRLogin;
//     expired unanswered);
//   - the browser holds a secret handle, and only that handle finishes
//     it.
//
// # What binds it to the browser that showed it
//
// The QR code carries the issuer, the user and the request ID, nothing
// secret. The request ID is "qr-" and 22 base64url characters of
// SHA-256("keyline/v1/qr-login-id" ‖ handle), the handle being 32
// random bytes that BeginQRLogin hands only to its caller, to be kept
// server-side in the browser session that began the login. QRLoginStatus,
// FinishQRLogin and CancelQRLogin take the handle, not the ID; the push
// calls (PushStatus, FinishPush, CancelPush) refuse a QR login's ID as
// unknown. So the ID read off the screen, the QR code photographed or
// relayed, can fetch and answer the prompt (only on a device of the
// user) but can finish no login: an approval logs in the session that
// holds the handle, and nobody else's.
//
// Two cases follow. Someone photographs the victim's code and the victim
// approves on their own phone: the victim's browser logs in, as the
// victim asked. An attacker who knows the password shows the victim a
// code of the attacker's own session (a phishing page relaying it, or
// login CSRF): the victim's approval would log the attacker in. Against
// that the phone shows what the server saw of the attacker's browser (IP
// address, place, browser: the push context), and asks for the number
// the attacker's page shows; as for push, the context is the defence,
// and a careless approval fails 99 times in 100 unless the number is
// relayed too.

// ErrQRLoginUnavailable reports that a QR login cannot be begun now: the
// user has no active device, or the push budget is spent. Fall back to
// challenge/response. (A locked user is a *LockedError; an invalid
// context matches ErrInvalidInput.)
var ErrQRLoginUnavailable = errors.New("authn: QR login unavailable")

// qrLoginIDPrefix begins every QR login's request ID; no push request's
// ID (hex) has a dash.
const qrLoginIDPrefix = "qr-"

// qrHandleLen is the handle's size in bytes: 43 base64url characters.
const qrHandleLen = 32

// QRLogin is what BeginQRLogin hands the login page. Text, RequestID,
// Number and ExpiresAt are for the page; Handle is a secret for the
// browser's server-side session only, never the page (see the package
// documentation above: it is what finishes the login).
type QRLogin struct {
	Text      string    // the QR code's text (enroll.QRLogin.Text): draw it as a QR code
	RequestID string    // the request's ID, as the QR code carries it: public
	Number    string    // 2 digits the page shows beside the code, to be typed on the phone
	ExpiresAt time.Time // when the code stops working
	Handle    string    // secret: keep it in the session that began the login
}

var qrLoginHidden = []string{"Number", "Handle"}

// String describes the QR login without its number and handle.
func (q QRLogin) String() string { return redact.String("authn.QRLogin", q, qrLoginHidden...) }

// GoString is String.
func (q QRLogin) GoString() string { return q.String() }

// Format prints String for every verb.
func (q QRLogin) Format(f fmt.State, _ rune) { fmt.Fprint(f, q.String()) }

// LogValue describes the QR login to slog without its number and handle.
func (q QRLogin) LogValue() slog.Value { return redact.LogValue(q, qrLoginHidden...) }

// qrLoginID is the request ID of a QR login whose handle is raw.
func qrLoginID(raw []byte) string {
	h := sha256.New()
	h.Write([]byte("keyline/v1/qr-login-id"))
	h.Write(raw)
	return qrLoginIDPrefix + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

// isQRLoginID reports whether id is a QR login's request ID.
func isQRLoginID(id string) bool { return strings.HasPrefix(id, qrLoginIDPrefix) }

// qrHandleID is the request ID a handle finishes, or "" for a string
// that is no handle.
func qrHandleID(handle string) string {
	if len(handle) != base64.RawURLEncoding.EncodedLen(qrHandleLen) {
		return ""
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(handle)
	if err != nil || len(raw) != qrHandleLen {
		return ""
	}
	return qrLoginID(raw)
}

// BeginQRLogin makes a login request for user to be shown as a QR code:
// the phone that scans it shows pc (what the server saw of this browser:
// action, IP, place, browser) and asks for the 2-digit Number the page
// shows beside the code. It spends a unit of the push budget, and is
// refused for a locked user (*LockedError), a user with no active device
// or no budget left (ErrQRLoginUnavailable), and a context no phone may
// be shown (ErrInvalidInput); everything is checked before anything is
// spent. The request expires after Config.PushTTL. Keep QRLogin.Handle
// in the browser's server-side session: only it finishes the login.
func (s *Service) BeginQRLogin(ctx context.Context, user string, pc enroll.PushContext, opts ...LoginOption) (_ QRLogin, err error) {
	ctx, sp := s.trace(ctx, "BeginQRLogin", MethodPush, user)
	defer sp.done(&err)
	if err := s.admit(ctx, MethodPush, user, opts); err != nil {
		return QRLogin{}, err
	}
	if err := pc.Validate(); err != nil {
		return QRLogin{}, err
	}
	now := s.now()
	c, err := s.client(ctx, user, opts, now)
	if err != nil {
		return QRLogin{}, err
	}
	st, err := s.userState(ctx, user, c.bucket, now)
	if err != nil {
		return QRLogin{}, storeErr(err)
	}
	if now.Before(st.LockedUntil) {
		return QRLogin{}, &LockedError{RetryAfter: st.LockedUntil.Sub(now)}
	}
	devs, err := s.activeDevices(ctx, user)
	if err != nil {
		return QRLogin{}, err
	}
	if len(devs) == 0 {
		return QRLogin{}, fmt.Errorf("%w: no active device", ErrQRLoginUnavailable)
	}
	raw := make([]byte, qrHandleLen)
	rand.Read(raw)
	id := qrLoginID(raw)
	q := QRLogin{RequestID: id, Handle: base64.RawURLEncoding.EncodeToString(raw)}
	if q.Text, err = s.qrLoginText(user, id); err != nil {
		return QRLogin{}, err
	}
	if _, err := s.hot.Spend(ctx, pushBudgetKey(user), pushBudget, pushBudgetWindow, now); err != nil {
		if errors.Is(err, ErrStoreLimit) {
			return QRLogin{}, fmt.Errorf("%w: too many pushes; at most 3 in 15 minutes", ErrQRLoginUnavailable)
		}
		return QRLogin{}, storeErr(err)
	}
	rec := PushRecord{ID: id, User: user, Number: drawNumber(), Nonce: make([]byte, enroll.PushNonceSize),
		Context: [4]string{pc.Action, pc.IP, pc.Place, pc.Browser}, State: PushPending, Epoch: st.Epoch,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.PushTTL).Truncate(time.Second)}
	rand.Read(rec.Nonce)
	for _, d := range devs {
		rec.Devices = append(rec.Devices, d.ID)
	}
	if err := s.hot.PutPush(ctx, rec, now); err != nil {
		s.refundPushID(ctx, user, id, now, now)
		return QRLogin{}, storeErr(err)
	}
	s.event(ctx, EventQRLoginShown, MethodPush, user, "", "")
	q.Number, q.ExpiresAt = rec.Number, rec.ExpiresAt
	return q, nil
}

// qrLoginText is the QR code's text of user's request id.
func (s *Service) qrLoginText(user, id string) (string, error) {
	q := enroll.QRLogin{Issuer: s.cfg.Issuer, User: user, RequestID: id}
	if err := q.Validate(); err != nil {
		return "", fmt.Errorf("authn: %w", err) // cannot happen: the issuer, user and ID were checked
	}
	return q.Text(), nil
}

// drawNumber draws a 2-digit number uniformly from 00 to 99.
func drawNumber() string {
	var nb [1]byte
	for {
		rand.Read(nb[:])
		if nb[0] < 200 {
			return fmt.Sprintf("%02d", nb[0]%100)
		}
	}
}

// qrHandle is the request ID of user's QR login handle, or
// errPushNotFound (audited) for a string that is no handle.
func (s *Service) qrHandle(ctx context.Context, user, handle string) (string, error) {
	id := qrHandleID(handle)
	if id == "" {
		s.event(ctx, EventQRLoginRefused, MethodPush, user, "", ReasonInvalid)
		return "", errPushNotFound
	}
	return id, nil
}

// QRLoginStatus reports where the QR login of handle is, for the page
// that polls it: the same states and waiting as [Service.PushStatus]. A
// handle that is not one BeginQRLogin gave for user is ErrNotFound.
func (s *Service) QRLoginStatus(ctx context.Context, user, handle string, wait time.Duration) (_ PushState, err error) {
	ctx, sp := s.trace(ctx, "QRLoginStatus", MethodPush, user)
	defer sp.done(&err)
	if err := checkUser(user); err != nil {
		return "", err
	}
	id, err := s.qrHandle(ctx, user, handle)
	if err != nil {
		return "", ErrNotFound
	}
	return s.pushStatus(ctx, user, id, wait)
}

// FinishQRLogin logs the user in with an approved QR login, once, in the
// session that holds its handle: a handle that is not one BeginQRLogin
// gave for user is ErrNotFound (and audited). The outcomes are
// [Service.FinishPush]'s: ErrPushPending, ErrPushDenied, ErrWrongNumber,
// ErrExpired, ErrAlreadyUsed, a *LockedError (the lock is checked first).
func (s *Service) FinishQRLogin(ctx context.Context, user, handle string, opts ...LoginOption) (_ Result, err error) {
	ctx, sp := s.trace(ctx, "FinishQRLogin", MethodPush, user)
	defer sp.done(&err)
	if err := s.admit(ctx, MethodPush, user, opts); err != nil {
		return Result{}, err
	}
	id, err := s.qrHandle(ctx, user, handle)
	if err != nil {
		return Result{}, err
	}
	r, err := s.finishPush(ctx, user, id, opts)
	if errors.Is(err, ErrNotFound) {
		s.event(ctx, EventQRLoginRefused, MethodPush, user, "", ReasonInvalid)
	}
	return r, err
}

// CancelQRLogin withdraws a pending QR login (the user chose another
// factor or left the page), giving its unit of the push budget back.
func (s *Service) CancelQRLogin(ctx context.Context, user, handle string) (err error) {
	ctx, sp := s.trace(ctx, "CancelQRLogin", MethodPush, user)
	defer sp.done(&err)
	if err := checkUser(user); err != nil {
		return err
	}
	id, err := s.qrHandle(ctx, user, handle)
	if err != nil {
		return err
	}
	return s.cancelPush(ctx, user, id)
}
