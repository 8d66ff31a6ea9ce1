package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/keyline/keyline/authn"
)

func TestOTLPEndpointFlag(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:4318":              "http://127.0.0.1:4318/v1/traces",
		"http://127.0.0.1:4318/":             "http://127.0.0.1:4318/v1/traces",
		"https://otel.example:443/custom/v1": "https://otel.example:443/custom/v1",
	} {
		cfg, err := parseFlags([]string{"-otlp-endpoint", in}, io.Discard)
		if err != nil || cfg.OTLPEndpoint != want {
			t.Errorf("-otlp-endpoint %s: %q, %v; want %q", in, cfg.OTLPEndpoint, err, want)
		}
	}
	for _, bad := range []string{"127.0.0.1:4318", "ftp://127.0.0.1/", "http://", "http://u:p@127.0.0.1:4318", "http://127.0.0.1:4318/?x=1"} {
		if _, err := parseFlags([]string{"-otlp-endpoint", bad}, io.Discard); err == nil || !strings.Contains(err.Error(), "-otlp-endpoint") {
			t.Errorf("-otlp-endpoint %s: %v; want an error naming the flag", bad, err)
		}
	}
}

// collector is an OTLP/HTTP trace receiver: it keeps the spans it is
// sent, decoded.
type collector struct {
	mu    sync.Mutex
	spans map[string][]map[string]string // span name -> attributes of each
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if err != nil || r.Method != http.MethodPost || r.URL.Path != "/v1/traces" ||
		r.Header.Get("Content-Type") != "application/x-protobuf" || proto.Unmarshal(body, &req) != nil {
		http.Error(w, "not an OTLP/HTTP trace export", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				attrs := map[string]string{}
				for _, kv := range s.GetAttributes() {
					attrs[kv.GetKey()] = kv.GetValue().String()
				}
				c.spans[s.GetName()] = append(c.spans[s.GetName()], attrs)
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(nil)
}

// TestOTLPExport: with -otlp-endpoint, the Service's calls and store
// calls reach the collector as spans, users as keyed hashes.
func TestOTLPExport(t *testing.T) {
	col := &collector{spans: map[string][]map[string]string{}}
	srv := httptest.NewServer(col)
	defer srv.Close()
	h := newHarness(t, func(c *config) { c.OTLPEndpoint = srv.URL + "/v1/traces" })
	ctx := context.Background()
	alice := h.p.users["alice"].ID
	ch, err := h.p.svc.BeginChallenge(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.p.svc.FinishChallenge(ctx, alice, ch.ID, "12345678"); !errors.Is(err, authn.ErrInvalidCode) {
		t.Fatalf("err %v", err)
	}
	if err := h.p.Close(); err != nil { // flushes the batch
		t.Fatal(err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	fin := col.spans["FinishChallenge"]
	if len(fin) != 1 || !strings.Contains(fin[0]["keyline.outcome"], "invalid_code") || fin[0]["keyline.user.hash"] == "" {
		t.Fatalf("FinishChallenge spans: %v", fin)
	}
	if len(col.spans["BeginChallenge"]) != 1 || len(col.spans["HotStore.Attempt"]) == 0 {
		t.Fatalf("spans: %v", col.spans)
	}
	for name, all := range col.spans {
		for _, attrs := range all {
			for k, v := range attrs {
				if strings.Contains(v, alice) {
					t.Errorf("%s: %s carries the user ID", name, k)
				}
			}
		}
	}
}
