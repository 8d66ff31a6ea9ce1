package enroll

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// PROTOCOL.md §10: the server takes its clock's whole second s and
// accepts a request time t with |s − t| ≤ 60, the same 60 seconds either
// way whatever the fraction of the server's second.
func TestAPITimeInWindow(t *testing.T) {
	const s = 1795770000
	for _, frac := range []time.Duration{0, time.Millisecond, 500 * time.Millisecond, 999 * time.Millisecond} {
		now := time.Unix(s, 0).Add(frac)
		for _, c := range []struct {
			t  int64
			ok bool
		}{{s - 61, false}, {s - 60, true}, {s, true}, {s + 60, true}, {s + 61, false}} {
			err := CheckAPIRequestTime(now, time.Unix(c.t, 0))
			if c.ok {
				require.NoError(t, err, "now %v, time s%+d", frac, c.t-s)
			} else {
				require.ErrorIs(t, err, ErrAPIRequestTime, "now %v, time s%+d", frac, c.t-s)
			}
		}
	}
}
