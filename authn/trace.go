package authn

import "context"

// Tracer is told when each call of the Service, of an [Operator] and of
// an [AuthenticatedDevice] starts and how it ends: the hook through which
// a tracing system (package github.com/keyline/keyline/observe/tracing
// for OpenTelemetry) makes a span of each call. Set it as
// Config.Tracer; without one, a call pays one nil check.
//
// StartCall runs at the top of the call, before anything is checked,
// and the context it returns is the one the call then runs with: every
// store call, Notify call and Observer event of the call gets it, so a
// span put in it is their parent. It must be safe for concurrent use and
// quick: it runs on the login path.
//
// What a Tracer sees is what the audit events carry and no more: a call
// name, a factor and the user ID, then the call's error. It never sees a
// code, a response, a session ID or a key. The user ID is given so that
// the Tracer can apply its own rule to it (observe/tracing records a
// keyed hash of it, or nothing); a Tracer that records it as is puts
// user IDs in the traces.
//
// [Service.Maintain] has no call of its own (it would last as long as
// the process): each of its sweeps is a [Service.Sweep] call.
type Tracer interface {
	StartCall(ctx context.Context, c Call) (context.Context, CallEnd)
}

// Call describes a call to a [Tracer].
type Call struct {
	// Name is the method called: "FinishChallenge" for a Service's,
	// "Operator.Unlock" for an Operator's, "AuthenticatedDevice.AnswerPush"
	// for an AuthenticatedDevice's. It is one of a fixed set (the exported
	// methods that take a context), safe as a span name or a label.
	Name string
	// Method is the factor the call concerns (MethodChallenge for
	// BeginChallenge and FinishChallenge, MethodPush for the push calls,
	// MethodOperator for an Operator's, ...); "" for a call about no
	// factor (Devices, Sweep, ...).
	Method Method
	// User is the user ID the call is for, as the caller passed it (not
	// yet checked); "" for the calls that learn the user as they run
	// (Offer, CompleteActivation, AuthenticateDevice, DeviceStatus, Sweep,
	// RotateKeys).
	User string
}

// CallEnd ends a call a [Tracer] started: End is called once, when the
// call returns, with its error (nil on success; a typed error of this
// package, which errors.Is matches against the sentinels).
type CallEnd interface {
	End(err error)
}

// traced is a call in progress: its CallEnd, nil without a Tracer.
type traced struct{ end CallEnd }

// done ends the call with the error *err: the deferred half of trace.
// A pointer to the call's named error result, read when the call
// returns.
func (t traced) done(err *error) {
	if t.end != nil {
		t.end.End(*err)
	}
}

// trace starts a Service call for the Tracer, if there is one. A nil or
// zero Service (a zero Operator's) traces nothing, and the call goes on
// to refuse itself as it would untraced.
func (s *Service) trace(ctx context.Context, name string, m Method, user string) (context.Context, traced) {
	if s == nil || s.service == nil || s.cfg.Tracer == nil {
		return ctx, traced{}
	}
	ctx, end := s.cfg.Tracer.StartCall(ctx, Call{Name: name, Method: m, User: user})
	return ctx, traced{end}
}

// trace starts an AuthenticatedDevice's call, for its device's user: see
// Service.trace. A nil AuthenticatedDevice traces nothing.
func (d *AuthenticatedDevice) trace(ctx context.Context, name string, m Method) (context.Context, traced) {
	if d == nil {
		return ctx, traced{}
	}
	return d.s.trace(ctx, name, m, d.dev.User)
}
