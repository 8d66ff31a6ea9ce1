package main

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/keyline/keyline/authn"
)

// TestChallengeBudgetFlag: -challenges-per-minute parses, is
// refused out of 1..100, and defaults to the Service's own budget.
func TestChallengeBudgetFlag(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ChallengesPerMinute != 10 {
		t.Errorf("default -challenges-per-minute %d; want 10, the Service's default", cfg.ChallengesPerMinute)
	}
	for _, n := range []string{"1", "37", "100"} {
		cfg, err := parseFlags([]string{"-challenges-per-minute", n}, io.Discard)
		if err != nil {
			t.Errorf("-challenges-per-minute %s: %v", n, err)
			continue
		}
		if got := cfg.ChallengesPerMinute; n != strconv.Itoa(got) {
			t.Errorf("-challenges-per-minute %s gave %d", n, got)
		}
	}
	for _, n := range []string{"0", "-5", "101", "1000", "ten"} {
		_, err := parseFlags([]string{"-challenges-per-minute", n}, io.Discard)
		if err == nil {
			t.Errorf("-challenges-per-minute %s accepted", n)
		} else if n != "ten" && !strings.Contains(err.Error(), "1 to 100") {
			t.Errorf("-challenges-per-minute %s: %v; want the range in the error", n, err)
		}
	}
}

// TestChallengeBudgetReachesService: the flag's value is the budget
// the Service is built with, and the Service enforces it: within one
// minute (the clock does not move) a user gets that many challenges and
// no more.
func TestChallengeBudgetReachesService(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, 10},
		{[]string{"-challenges-per-minute", "14"}, 14},
	} {
		flags, err := parseFlags(tc.args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		var built authn.Budget
		h := newHarness(t, func(c *config) {
			c.ChallengesPerMinute = flags.ChallengesPerMinute
			c.Tune = func(ac *authn.Config) { built = ac.ChallengeBudget }
		})
		if built.PerMinute != tc.want {
			t.Fatalf("%q: the Service's config has ChallengeBudget.PerMinute %d; want %d", tc.args, built.PerMinute, tc.want)
		}
		b := h.browser()
		h.enrollFirstPhone(b, "alice", "alice-demo-password", "Budget phone")
		ctx := context.Background()
		alice := h.p.users["alice"]
		for i := range tc.want {
			if _, err := h.p.svc.BeginChallenge(ctx, alice.ID); err != nil {
				t.Fatalf("%q: challenge %d of %d: %v", tc.args, i+1, tc.want, err)
			}
		}
		if _, err := h.p.svc.BeginChallenge(ctx, alice.ID); !errors.Is(err, authn.ErrTooManyChallenges) {
			t.Fatalf("%q: challenge %d in the same minute: %v; want ErrTooManyChallenges", tc.args, tc.want+1, err)
		}
	}
}
