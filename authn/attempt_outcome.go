package authn

import "strconv"

// String returns the outcome's name ("AttemptMatch", ...), or
// "AttemptOutcome(n)" for a value that is none of them.
func (o AttemptOutcome) String() string {
	switch o {
	case AttemptMismatch:
		return "AttemptMismatch"
	case AttemptMatch:
		return "AttemptMatch"
	case AttemptLocked:
		return "AttemptLocked"
	case AttemptNoChallenge:
		return "AttemptNoChallenge"
	case AttemptExpired:
		return "AttemptExpired"
	case AttemptExhausted:
		return "AttemptExhausted"
	}
	return "AttemptOutcome(" + strconv.Itoa(int(o)) + ")"
}
