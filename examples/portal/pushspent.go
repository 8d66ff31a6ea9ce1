package main

import (
	"context"
	"errors"
	"time"

	"github.com/keyline/keyline/authn"
)

// The push budget, visible. keyline allows 3 push requests per user per
// 15 minutes, shared by sign-ins, step-ups and withdrawals. A page that
// would offer push reads the budget first (Service.PushBudget, which
// spends nothing); when it is spent, the page says when push works
// again — "at HH:MM" in the person's local time (portal.js, from
// data-local-clock), "in 12 min 00 s" without the script, never in UTC
// — and offers the other ways instead of push, saying so. A QR code
// (qrlogin.go) spends from the same budget: the second-factor page
// offers none while it is spent, and its note says so.

// pushSpent is the note of a spent push budget.
type pushSpent struct {
	In string // relative, "12 min 00 s": the words without the script
	At string // RFC 3339, which portal.js writes as the local HH:MM

	// On the second-factor page, what the spent budget holds back: push
	// (it is on, and would be offered), a new QR code (which spends from
	// the same budget), or both.
	Push, QR bool
}

// pushBudgetSpent reads user's push budget: nil while a push is left.
func (p *portal) pushBudgetSpent(ctx context.Context, user string) (*pushSpent, error) {
	b, err := p.svc.PushBudget(ctx, user)
	if err != nil || b.Left > 0 || b.FreesAt.IsZero() {
		return nil, err
	}
	// Rounded up to the second, as the lockout page does: push never
	// works later than the page says.
	at := b.FreesAt.Add(time.Second - 1).Truncate(time.Second)
	return &pushSpent{In: humanDuration(at.Sub(p.clock())), At: at.UTC().Format(time.RFC3339)}, nil
}

// pushUnavailableNote says why a withdrawal is signed from a QR code
// when its push could not start (err wraps authn.ErrPushUnavailable):
// when push works again if the budget is spent, else keyline's reason.
func (p *portal) pushUnavailableNote(ctx context.Context, user string, err error) string {
	if sp, berr := p.pushBudgetSpent(ctx, user); berr == nil && sp != nil {
		return "Push works again in " + sp.In + ": scan the code below with your phone instead."
	}
	if errors.Is(err, authn.ErrPushUnavailable) {
		return "Push is not available right now (" + pushUnavailableReason(err) + "): scan the code below with your phone instead."
	}
	return ""
}
