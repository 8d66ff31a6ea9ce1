//go:build !race

package authn_test

// raceEnabled reports whether the tests run under the race detector, which
// changes allocation counts (see TestVerifyAllocatesNothing).
const raceEnabled = false
