package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRun runs the quickstart and checks that every step reports what it
// should.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatalf("run: %v\noutput so far:\n%s", err, out.String())
	}
	s := out.String()
	for _, marker := range []string{
		"1. The server starts an activation",
		"the session ID ",
		"2. The phone: the user types",
		"the server's confirmation holds",
		"the app refuses the PIN 1234",
		"reopens it with the PIN and gets it back",
		"real apps use the defaults",
		"3. The phone shows the pairing code",
		"the device is active",
		"4. Login by challenge/response: the server asks",
		`logged in as "alice"`,
		"5. Login by push: the login page shows the number ",
		"the phone buzzes and shows: Login? from 203.0.113.42 (Zürich, CH), Firefox on macOS",
		"and approves; the server takes the phone's answer",
		"sees the push approved (it was pending before the answer)",
		`FinishPush logs in "alice": method push, device "Alice's phone"`,
		"6. Push denied: the phone shows a login from 203.0.113.199",
		"authn: push denied",
		"the page falls back to challenge/response",
		`logged in with "Alice's phone" by challenge`,
		`push is now suspended for "alice": authn: push unavailable`,
		"the denial was not a lockout failure: Factors.RecentFail is 0",
		"7. The same response replayed is refused",
		"its challenge used up: invalid code",
		"in step 6's fallback",
		"8. Wrong codes",
		"locks the user",
		"RetryAfter is 1m0s",
		"even the right code is refused",
		"the lock has lifted",
		"9. The phone's clock now runs 1m30s (3 steps) fast",
		"clock drift",
		"at drift 3",
		"Done: every step turned out as expected.",
	} {
		if !strings.Contains(s, marker) {
			t.Errorf("output lacks %q", marker)
		}
	}
	if !strings.Contains(s, "█") {
		t.Error("output lacks the QR code")
	}
	if t.Failed() {
		t.Logf("output:\n%s", s)
	}
}
