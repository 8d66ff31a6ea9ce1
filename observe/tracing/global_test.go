package tracing_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/observe/tracing"
)

// TestGlobalProvider: on the global TracerProvider with no SDK, a call
// starts no span and allocates nothing, its context unchanged; once an
// SDK is installed (after the Tracer was made), calls are spans. It
// installs an SDK globally, for good: the other tests give their
// provider explicitly.
func TestGlobalProvider(t *testing.T) {
	if !tracing.NoSDK() {
		t.Skip("an SDK is installed globally already")
	}
	tr, err := tracing.New(tracing.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := authn.Call{Name: "FinishChallenge", Method: authn.MethodChallenge, User: "alice"}
	if n := testing.AllocsPerRun(100, func() {
		got, end := tr.StartCall(ctx, c)
		if got != ctx {
			t.Fatal("the context changed without an SDK")
		}
		end.End(nil)
	}); n != 0 {
		t.Errorf("%v allocations a call without an SDK; want 0", n)
	}

	rec := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	if tracing.NoSDK() {
		t.Fatal("NoSDK with an SDK installed")
	}
	_, end := tr.StartCall(ctx, c)
	end.End(nil)
	if got := named(rec, "FinishChallenge"); len(got) != 1 {
		t.Fatalf("%d spans after the SDK was installed; want 1", len(got))
	}
}
