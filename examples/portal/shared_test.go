package main

import (
	"context"
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/internal/testenv"
)

// sharedServers returns a PostgreSQL DSN of a fresh database (dropped
// when t ends) and a Redis address, from the test servers scripts/test
// starts (see package testenv).
func sharedServers(t *testing.T) (dsn, redisAddr string) {
	t.Helper()
	base, redisAddr := testenv.PostgresDSN(t), testenv.RedisAddr(t)
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	admin := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { admin.Close() })
	name := "keyline_portal_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String(), redisAddr
}

// Two portal processes' worth of portals on one PostgreSQL database and
// one Redis: a phone activated through the first answers a challenge
// issued by the second, and a response accepted by one is refused by the
// other.
func TestTwoPortalsOnRedisPostgres(t *testing.T) {
	dsn, redisAddr := sharedServers(t)
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	writeKeys(t, keys, 0o600, keyLine("k1"))
	clock := authntest.NewClock(authntest.Start())
	prefix := "keyline-portal-test-" + strings.ToLower(rand.Text()[:8])
	var hs [2]*harness
	for i := range hs {
		cfg := config{Addr: "127.0.0.1:0", DataDir: filepath.Join(dir, "data"), KeysFile: keys, DemoUsers: true,
			Postgres: dsn, Redis: redisAddr, RedisPrefix: prefix,
			Issuer: "Portal Test", Logger: quiet, Stderr: io.Discard, Clock: clock.Now, Argon: testArgon}
		p, err := newPortal(cfg)
		if err != nil {
			t.Fatalf("newPortal %d: %v", i, err)
		}
		t.Cleanup(func() { p.Close() })
		if p.storeName != "redis+postgres" {
			t.Fatalf("store %q", p.storeName)
		}
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan string, 1)
		done := make(chan error, 1)
		go func() { done <- serve(ctx, p, cfg, ln, ready) }()
		t.Cleanup(func() { cancel(); <-done })
		hs[i] = &harness{t: t, p: p, clock: clock, url: "http://" + <-ready, client: &http.Client{}}
	}
	b := hs[0].browser()
	ph := hs[0].enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)

	// The second portal knows the phone and logs alice in with it.
	ph.h = hs[1]
	b2 := hs[1].browser()
	pg := b2.login("alice", alicePW)
	if pg.has("push-number") {
		pg = b2.post("/2fa/method", url.Values{"method": {"challenge"}})
	}
	resp := ph.respond(pg.text("challenge"))
	pg = b2.post("/2fa/challenge", url.Values{"response": {resp}})
	if pg.path() != "/account" {
		t.Fatalf("after the right response on the second portal: %s", pg.path())
	}
	if pg := b2.get("/security"); !pg.has("device-" + ph.cred.DeviceID()) {
		t.Fatal("the second portal does not list the phone activated through the first")
	}
}
