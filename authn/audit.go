package authn

import (
	"context"
	"log/slog"
	"net/netip"
	"time"
)

// Event is one audit event. Its names, methods and reasons are stable,
// each from a fixed, documented set ([EventName], [Method], [Reason]):
// services may alert and count on them, and a label made of them has few
// values. An event never carries a secret, a code, a MAC or a session ID.
type Event struct {
	Name     EventName // what happened: EventLoginSucceeded, EventUserLocked, EventCheck, ...
	Method   Method    // the factor concerned (MethodChallenge, MethodPush, ...); "" for none
	User     string    // the user ID
	Device   string    // the device ID, when one is concerned
	Reason   Reason    // why, for failures and refusals: ReasonMismatch, ReasonLocked, ...
	Count    int       // a count the event reports: the codes left, for EventRecoveryCodeUsed; the records removed, for EventSwept
	Operator string    // the operator, for EventOperatorUnlock, EventUserDeleted, EventOperatorProof
	Note     string    // the operator's stated reason, for EventOperatorProof; the store's error, for EventMaintenanceFailed; VerifyDevice's error, for EventActivationFailed with ReasonAttestation
	At       time.Time // the Service's clock

	// Addr is the client's address, for EventAddressRefused.
	Addr netip.Addr
}

// Observer sees every audit event, for metrics: count by Name, Method and
// Reason. Observe must be safe for concurrent use and quick: it runs on
// the login path.
type Observer interface {
	Observe(ctx context.Context, e Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(ctx context.Context, e Event)

// Observe calls f.
func (f ObserverFunc) Observe(ctx context.Context, e Event) { f(ctx, e) }

// event logs an audit event and shows it to the Observer.
func (s *Service) event(ctx context.Context, name EventName, m Method, user, device string, reason Reason) {
	s.emit(ctx, Event{Name: name, Method: m, User: user, Device: device, Reason: reason})
}

// emit logs e, with the Service's time, and shows it to the Observer.
// The log line is "keyline: <name>" with the attributes event, user and,
// when set, method, device, reason, count, operator and note.
func (s *Service) emit(ctx context.Context, e Event) {
	e.At = s.now()
	level := slog.LevelInfo
	if e.Name.warning() {
		level = slog.LevelWarn
	}
	if s.log.Enabled(ctx, level) {
		attrs := make([]slog.Attr, 0, 8)
		attrs = append(attrs, slog.String("event", string(e.Name)), slog.String("user", e.User))
		if e.Method != "" {
			attrs = append(attrs, slog.String("method", string(e.Method)))
		}
		if e.Device != "" {
			attrs = append(attrs, slog.String("device", e.Device))
		}
		if e.Reason != "" {
			attrs = append(attrs, slog.String("reason", string(e.Reason)))
		}
		if e.Name == EventRecoveryCodeUsed || e.Name == EventSwept {
			attrs = append(attrs, slog.Int("count", e.Count))
		}
		if e.Operator != "" {
			attrs = append(attrs, slog.String("operator", e.Operator))
		}
		if e.Note != "" {
			attrs = append(attrs, slog.String("note", e.Note))
		}
		if e.Addr.IsValid() {
			attrs = append(attrs, slog.String("addr", e.Addr.String()))
		}
		s.log.LogAttrs(ctx, level, "keyline: "+string(e.Name), attrs...)
	}
	if s.cfg.Observer != nil {
		s.cfg.Observer.Observe(ctx, e)
	}
}

// observe shows an event to the Observer only (no log line): for the
// high-volume EventCheck.
func (s *Service) observe(ctx context.Context, name EventName, m Method, user, device string) {
	if s.cfg.Observer != nil {
		s.cfg.Observer.Observe(ctx, Event{Name: name, Method: m, User: user, Device: device, At: s.now()})
	}
}
