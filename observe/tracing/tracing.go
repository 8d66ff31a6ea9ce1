// Package tracing makes OpenTelemetry spans of keyline's calls: one span
// for each call of an [authn.Service] (and of its Operators and
// AuthenticatedDevices), and under it one span for each call the Service
// makes to its stores. It uses the OpenTelemetry API only: the spans go
// to whatever SDK the service installs (otel.SetTracerProvider, or
// [Options].TracerProvider), and a service that installs none pays a
// look at the global provider's type per call, no span and no
// allocation (BenchmarkFinishChallenge measures it).
//
// For most uses, one line before authn.New:
//
//	if err := tracing.Install(&cfg, tracing.Options{}); err != nil { ... }
//
// # Spans
//
// A call's span is named after the call ("FinishChallenge",
// "Operator.Unlock", "AuthenticatedDevice.AnswerPush"; see authn.Call),
// from the tracer "github.com/keyline/keyline/authn", and carries:
//
//   - keyline.call: the call's name, as the span's;
//   - keyline.factor: the factor concerned (challenge, push, totp,
//     recovery, operator), absent for a call about none;
//   - keyline.outcome: how the call ended, one of a fixed set (see
//     [outcome.Of]): "ok", "invalid_code", "replay", "locked", ...;
//   - keyline.store.round_trips: how many store calls the call made;
//   - keyline.user.hash: only with Options.UserKey (see "Users" below).
//
// A refused login is an outcome, not a failure of the service: the
// span's status is Error only for the outcomes "store_unavailable" and
// "error" (anything unexpected), with the outcome as its description,
// never the error's text.
//
// Each store call is a child span named after the interface method
// ("HotStore.Attempt", "RecordStore.CommitStep", "Store.Sweep" for an
// engine that keeps both halves), with keyline.store.outcome: "ok",
// "not_found", "conflict", "limit" (the outcomes the store interfaces
// document) or "error" (a system failure, also the span's Error status).
// A store call gets a span only when the call's span is recording: when
// a sampler drops the call, its store calls cost a context lookup.
//
// The audit events of a call ([authn.Event]) are added to its span as
// span events named "keyline.event", with keyline.event (the event's
// name) and keyline.reason and keyline.factor when set: the span says
// why a login failed.
//
// # Users
//
// A span never carries a user ID as it is: user IDs are often e-mail
// addresses or account numbers, and traces are kept and read more widely
// than audit logs. By default the user is omitted. With Options.UserKey
// (at least 16 random bytes, the same on every instance), keyline.user.hash
// is the first 16 bytes of HMAC-SHA256 under that key of
// "keyline/v1/trace-user" and the user ID, hex-encoded: one user's calls
// can be found together, and a user's hash computed by whoever holds the
// key (the operators), but not reversed by guessing IDs, as a plain hash
// of a guessable ID would be. A new key gives every user a new hash.
//
// # Security considerations
//
// The spans carry what keyline's audit events carry, less the user ID:
// never a code, a response, a session ID, a key, an address or a device
// ID. An error's text goes into no span (only its outcome), so a store's
// error message (which may name a host) stays in the logs.
package tracing

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/observe/outcome"
)

// ScopeName is the name of the tracer the spans come from.
const ScopeName = "github.com/keyline/keyline/authn"

// MinUserKeySize is the shortest Options.UserKey accepted, in bytes.
const MinUserKeySize = 16

// Span attribute keys.
const (
	AttrCall       = attribute.Key("keyline.call")
	AttrFactor     = attribute.Key("keyline.factor")
	AttrOutcome    = attribute.Key("keyline.outcome")
	AttrRoundTrips = attribute.Key("keyline.store.round_trips")
	AttrUserHash   = attribute.Key("keyline.user.hash")
	AttrStoreOut   = attribute.Key("keyline.store.outcome")
	AttrEvent      = attribute.Key("keyline.event")
	AttrReason     = attribute.Key("keyline.reason")
)

// ErrShortUserKey is returned by New and Install for an Options.UserKey
// shorter than MinUserKeySize.
var ErrShortUserKey = errors.New("tracing: user key shorter than 16 bytes")

// Options configures a Tracer. The zero value traces to the global
// TracerProvider and omits users.
type Options struct {
	// TracerProvider makes the tracer: default otel.GetTracerProvider(),
	// which hands the spans to an SDK installed later with
	// otel.SetTracerProvider.
	TracerProvider trace.TracerProvider
	// UserKey, when set, is the key of the users' hashes (see the package
	// documentation, "Users"): at least MinUserKeySize bytes. Without it,
	// spans carry no user.
	UserKey []byte
}

// Tracer makes the spans: it is an authn.Tracer (Config.Tracer) and an
// authn.Observer (adding the audit events to the spans); its Wrap
// methods make the store calls spans. [Install] sets all three up.
type Tracer struct {
	tracer  trace.Tracer
	userKey []byte
	// global: the tracer is the global TracerProvider's, which starts
	// no span until an SDK is installed (see noSDK).
	global bool
}

var _ authn.Tracer = (*Tracer)(nil)

// New returns a Tracer: see Options.
func New(opts Options) (*Tracer, error) {
	if opts.UserKey != nil && len(opts.UserKey) < MinUserKeySize {
		return nil, fmt.Errorf("%w (%d)", ErrShortUserKey, len(opts.UserKey))
	}
	tp, global := opts.TracerProvider, false
	if tp == nil {
		tp, global = otel.GetTracerProvider(), true
	}
	t := &Tracer{tracer: tp.Tracer(ScopeName), global: global}
	if opts.UserKey != nil {
		t.userKey = append([]byte(nil), opts.UserKey...)
	}
	return t, nil
}

// Install makes a Tracer and sets cfg up with it, before authn.New:
// cfg.Tracer is the Tracer, cfg.Hot and cfg.Records are wrapped so that
// each store call is a span (one engine passed as both is wrapped once,
// and stays one value), and cfg.Observer is wrapped so that each audit
// event is added to its call's span (an Observer already set still sees
// every event, after). Set cfg's stores and Observer before calling it.
//
// A wrapped store has the store interfaces' methods only: code that
// needs an engine's own methods (Close, a migration) keeps the engine's
// value for them.
func Install(cfg *authn.Config, opts Options) error {
	t, err := New(opts)
	if err != nil {
		return err
	}
	cfg.Tracer = t
	cfg.Hot, cfg.Records = t.WrapStores(cfg.Hot, cfg.Records)
	cfg.Observer = t.Observer(cfg.Observer)
	return nil
}

// callKey is the context key of the call in progress.
type callKey struct{}

// call is a recording call's span: the store wrappers count their round
// trips on it.
type call struct {
	span  trace.Span
	trips atomic.Int64
}

// StartCall starts the span of a call (authn.Tracer).
func (t *Tracer) StartCall(ctx context.Context, c authn.Call) (context.Context, authn.CallEnd) {
	// No option: SpanKindInternal is the default, and an option would
	// cost an allocation per call even when no SDK records.
	if t.global && noSDK() {
		return ctx, noEnd{}
	}
	ctx, span := t.tracer.Start(ctx, c.Name)
	if !span.IsRecording() {
		// Nothing to record and nothing to end: a span that does not
		// record does nothing at End (the API's and the SDK's alike).
		return ctx, noEnd{}
	}
	attrs := make([]attribute.KeyValue, 0, 3)
	attrs = append(attrs, AttrCall.String(c.Name))
	if c.Method != "" {
		attrs = append(attrs, AttrFactor.String(string(c.Method)))
	}
	if t.userKey != nil && c.User != "" {
		attrs = append(attrs, AttrUserHash.String(t.UserHash(c.User)))
	}
	span.SetAttributes(attrs...)
	cs := &call{span: span}
	return context.WithValue(ctx, callKey{}, cs), cs
}

// globalPkg is the package of the global TracerProvider that
// OpenTelemetry's API hands out until otel.SetTracerProvider installs an
// SDK's.
const globalPkg = "go.opentelemetry.io/otel/internal/global"

// noSDK reports whether no SDK is installed as the global
// TracerProvider: then the API's tracer would only make a span that
// records nothing, at three allocations a call, and a call starts none
// at all (the price of an API that is installed but unused). It looks at
// the provider's type on every call, so an SDK installed later is used
// from its next call on. (The API's automatic instrumentation, an eBPF
// agent that attaches to its global tracer, does not see these calls:
// install an SDK for them.)
func noSDK() bool {
	typ := reflect.TypeOf(otel.GetTracerProvider())
	return typ != nil && typ.Kind() == reflect.Pointer && typ.Elem().PkgPath() == globalPkg
}

// UserHash is the keyline.user.hash of user: see the package
// documentation, "Users". "" without a UserKey.
func (t *Tracer) UserHash(user string) string {
	if t.userKey == nil {
		return ""
	}
	m := hmac.New(sha256.New, t.userKey)
	m.Write([]byte("keyline/v1/trace-user"))
	m.Write([]byte(user))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// noEnd ends a call whose span does not record.
type noEnd struct{}

func (noEnd) End(error) {}

// End ends the call's span with its outcome and round trips.
func (c *call) End(err error) {
	out := outcome.Of(err)
	c.span.SetAttributes(AttrOutcome.String(out), AttrRoundTrips.Int64(c.trips.Load()))
	if out == outcome.StoreUnavailable || out == outcome.Error {
		c.span.SetStatus(codes.Error, out)
	}
	c.span.End()
}

// callOf returns the recording call ctx is in, or nil.
func callOf(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
}

// Observer returns an authn.Observer that adds each audit event to the
// span of its call (when that span records) and then shows it to next,
// if not nil.
func (t *Tracer) Observer(next authn.Observer) authn.Observer {
	return eventObserver{next}
}

type eventObserver struct{ next authn.Observer }

func (o eventObserver) Observe(ctx context.Context, e authn.Event) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		attrs := make([]attribute.KeyValue, 0, 3)
		attrs = append(attrs, AttrEvent.String(string(e.Name)))
		if e.Method != "" {
			attrs = append(attrs, AttrFactor.String(string(e.Method)))
		}
		if e.Reason != "" {
			attrs = append(attrs, AttrReason.String(string(e.Reason)))
		}
		span.AddEvent("keyline.event", trace.WithAttributes(attrs...))
	}
	if o.next != nil {
		o.next.Observe(ctx, e)
	}
}
