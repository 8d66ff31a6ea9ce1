package authn

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyline/keyline/enroll"
)

// The outcomes of a push answer a phone must tell apart (PROTOCOL.md
// §10): taken (nil), a wrong number, a refused transaction signature, a
// denial taken (nil); the request over unanswered (expired or withdrawn:
// ErrExpired); the phone's clock off (*enroll.PushClockError, the request
// still pending); a request not this device's (ErrPromptNotForDevice);
// answered before by another answer (ErrPushAnswered); an answer that
// does not verify (ErrInvalidPushAnswer).
//
// An answer is taken with its mark, recorded in PushRecord.Answered in
// the same compare-and-set that moves the request out of pending: the
// answering device's ID, ":", and a hash of the answer's bytes. The very
// same answer sent again (a phone that lost the reply) finds its mark
// and gets the first answer's outcome, without a second effect: no
// second failure counted, no second suspension.

// Push answer errors, shared with package enroll.
var (
	// ErrPushClock reports an answer whose time step is off the server's
	// clock; the concrete error is a *enroll.PushClockError with the
	// server's time. The request stays pending. It is
	// [enroll.ErrPushClock].
	ErrPushClock = enroll.ErrPushClock
	// ErrPushAnswered reports an answer to a request answered before by
	// another answer (another device, or another answer of this one). It
	// matches ErrAlreadyUsed too. It is [enroll.ErrPushAnswered].
	ErrPushAnswered = enroll.ErrPushAnswered
	// ErrPromptNotForDevice reports an answer, through the device API, to
	// a push request that did not notify the device. It is
	// [enroll.ErrPromptNotForDevice].
	ErrPromptNotForDevice = enroll.ErrPromptNotForDevice
)

// errPushSignature is the outcome of an approval whose transaction
// signature was refused, as a retry of it reads.
var errPushSignature = fmt.Errorf("authn: push request's transaction signature: %w", ErrInvalidCode)

// answerMark is what PushRecord.Answered holds once device's answer a is
// taken: the device's ID, ":", and the first 16 bytes of SHA-256 over
// the answer as its JSON encoding writes every field (MAC included), in
// hex.
func answerMark(device string, a enroll.PushAnswer) string {
	b, err := json.Marshal(a)
	if err != nil {
		return device // cannot happen: every field encodes
	}
	sum := sha256.Sum256(b)
	return device + ":" + hex.EncodeToString(sum[:16])
}

// answeredDevice is the device of an Answered mark.
func answeredDevice(answered string) string {
	d, _, _ := strings.Cut(answered, ":")
	return d
}

// verifyAnswer finds the notified device whose keys verify a. When none
// does, it says why, the most telling reason first: the request expired
// (errPushExpired), the answer's time is off the server's clock
// (*enroll.PushClockError), or it does not verify (ErrInvalidPushAnswer).
func (s *Service) verifyAnswer(ctx context.Context, rec PushRecord, a enroll.PushAnswer, now time.Time) (string, error) {
	var refusal error = ErrInvalidPushAnswer
	for _, id := range rec.Devices {
		d, err := s.device(ctx, rec.User, id)
		if err != nil {
			continue
		}
		keys, err := s.deviceKeys(d)
		if err != nil {
			continue
		}
		verr := enroll.VerifyPushAnswer(keys, s.promptOf(rec, id), a, now, 0)
		keys.Zero()
		var pe *enroll.PushAnswerError
		switch {
		case verr == nil:
			return id, nil
		case errors.Is(verr, ErrExpired):
			refusal = errPushExpired
		case errors.As(verr, &pe) && pe.Check == enroll.PushCheckStep && !errors.Is(refusal, ErrExpired):
			refusal = &enroll.PushClockError{ServerTime: now}
		}
	}
	return "", refusal
}

// answeredOutcome is the answer to a for a request no longer pending: the
// first answer's outcome if a is that very answer (mark), else why it is
// refused.
func answeredOutcome(rec PushRecord, mark string, a enroll.PushAnswer) error {
	switch {
	case rec.Answered == "":
		return errPushExpired // withdrawn, undelivered or expired unanswered
	case subtle.ConstantTimeCompare([]byte(rec.Answered), []byte(mark)) != 1:
		return ErrPushAnswered
	}
	switch rec.State {
	case PushApproved, PushFinished, PushDenied:
		return nil
	case PushFailed:
		if a.Approve && subtle.ConstantTimeCompare([]byte(a.TypedNumber), []byte(rec.Number)) != 1 {
			return ErrWrongNumber
		}
		return errPushSignature
	}
	return errPushExpired // approved, not finished in time
}

// takeSigning takes, once, the right to check an approval of the
// transaction push rec as its signature: ErrStoreConflict when another
// answer took it.
func (s *Service) takeSigning(ctx context.Context, rec PushRecord, now time.Time) error {
	return s.hot.TakeOnce(ctx, "push-signing:"+rec.ID, rec.ExpiresAt.Add(time.Hour), now)
}

// awaitAnswer waits, a few seconds at most, for the answer that took the
// request id to be recorded, and gives the outcome of a for it: the first
// one's if a is that very answer. A request still pending then is
// ErrStoreUnavailable: the answer in flight did not finish; retry.
func (s *Service) awaitAnswer(ctx context.Context, id, mark string, a enroll.PushAnswer) error {
	const step, limit = 20 * time.Millisecond, 5 * time.Second
	t := time.NewTicker(step)
	defer t.Stop()
	for waited := time.Duration(0); ; waited += step {
		rec, err := s.push(ctx, id, s.now())
		if err != nil {
			return storeErr(err)
		}
		if rec.State != PushPending {
			return answeredOutcome(rec, mark, a)
		}
		if waited >= limit {
			return fmt.Errorf("%w: another answer to the push request is being checked", ErrStoreUnavailable)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
