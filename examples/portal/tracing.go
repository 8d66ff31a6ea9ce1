package main

import (
	"context"
	"fmt"
	"net/url"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/observe/tracing"
)

// traceUserPurpose is the purpose of the keyring's MAC key that hashes
// user IDs in the spans: every portal sharing the sealing keys gives a
// user the same hash, and whoever holds the keys can compute it. It is
// the primary key's: a rotation gives every user a new hash.
const traceUserPurpose = "portal.trace-user"

// otlpEndpoint checks the -otlp-endpoint flag: an http or https URL of
// an OTLP/HTTP collector. A URL without a path gets OTLP's traces path,
// /v1/traces (http://127.0.0.1:4318 is a local collector's default).
func otlpEndpoint(v string) (string, error) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("-otlp-endpoint %q: want an http or https URL of an OTLP/HTTP collector, such as http://127.0.0.1:4318", v)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	return u.String(), nil
}

// startTracing sets acfg up to trace keyline's calls and store calls
// (package observe/tracing) to the OTLP/HTTP collector at endpoint,
// users hashed under the keyring's traceUserPurpose key. Spans are
// batched; the function it returns flushes them and stops the export
// (for Close).
func startTracing(acfg *authn.Config, endpoint string, keys *authn.Keyring) (func(context.Context) error, error) {
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, fmt.Errorf("-otlp-endpoint: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "keyline-portal"))))
	_, key := keys.MACKey(traceUserPurpose)
	if err := tracing.Install(acfg, tracing.Options{TracerProvider: tp, UserKey: key}); err != nil {
		_ = tp.Shutdown(context.Background())
		return nil, err
	}
	return tp.Shutdown, nil
}
