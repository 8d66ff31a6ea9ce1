package authn

import (
	"context"
	"log/slog"
	"time"
)

// Event is one audit event. Its names and attributes are stable: services
// may alert and count on them. An event never carries a secret, a code, a
// MAC or a session ID.
type Event struct {
	Name   string    // e.g. "login_succeeded", "login_failed", "user_locked", "check"
	User   string    // the user ID
	Device string    // the device ID, when one is concerned
	Reason string    // why, for failures: "mismatch", "locked", "replay", ...
	At     time.Time // the Service's clock
}

// Observer sees every audit event, for metrics. Observe must be safe for
// concurrent use and quick: it runs on the login path.
type Observer interface {
	Observe(ctx context.Context, e Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(ctx context.Context, e Event)

// Observe calls f.
func (f ObserverFunc) Observe(ctx context.Context, e Event) { f(ctx, e) }

// event logs an audit event and shows it to the Observer.
func (s *Service) event(ctx context.Context, name, user, device, reason string) {
	level := slog.LevelInfo
	switch name {
	case "user_locked", "activation_race", "activation_discarded", "login_failed", "push_denied",
		"recovery_code_used", "operator_proof", "operator_unlock", "user_deleted",
		"device_auth_failed", "device_rate_limited", "device_migrated":
		level = slog.LevelWarn
	}
	if s.log.Enabled(ctx, level) {
		attrs := make([]slog.Attr, 0, 4)
		attrs = append(attrs, slog.String("event", name), slog.String("user", user))
		if device != "" {
			attrs = append(attrs, slog.String("device", device))
		}
		if reason != "" {
			attrs = append(attrs, slog.String("reason", reason))
		}
		s.log.LogAttrs(ctx, level, "keyline: "+name, attrs...)
	}
	if s.cfg.Observer != nil {
		s.cfg.Observer.Observe(ctx, Event{Name: name, User: user, Device: device, Reason: reason, At: s.now()})
	}
}

// observe shows an event to the Observer only (no log line): for the
// high-volume "check" event.
func (s *Service) observe(ctx context.Context, name, user, device string) {
	if s.cfg.Observer != nil {
		s.cfg.Observer.Observe(ctx, Event{Name: name, User: user, Device: device, At: s.now()})
	}
}
