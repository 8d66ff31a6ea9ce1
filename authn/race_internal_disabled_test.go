//go:build !race

package authn

// raceOn reports whether the tests run under the race detector, which
// changes allocation counts (the internal tests' raceEnabled).
const raceOn = false
