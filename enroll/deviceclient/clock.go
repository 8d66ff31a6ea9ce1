package deviceclient

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/keyline/keyline/internal/devicewire"
)

// MaxClockOffset bounds the clock offset a Client keeps (PROTOCOL.md
// §11, "Clock offset"): a day either way. A phone whose clock is set by
// hand is off by minutes, or by whole hours when its time zone was set
// wrong; beyond a day the phone's clock is broken (its TLS checks fail
// too), and an answer claiming such a time is more likely wrong than the
// phone. The bound also caps how far an answer the app trusts can move
// the time the phone signs with and answers OCRA challenges for: at most
// a day's worth of time steps ahead or behind, for that server's
// credentials only.
const MaxClockOffset = 24 * time.Hour

// clockRoundTrip is the longest round trip whose answer's Date is
// learned: a slower answer says too little about when it was written.
const clockRoundTrip = 5 * time.Second

// ErrClockOffset reports a phone clock further from the server's than
// MaxClockOffset: the Client keeps its offset within the bound and the
// server refuses its signed requests; the user must set the phone's
// clock. Also returned by SetClockOffset for an offset beyond the bound.
var ErrClockOffset = errors.New("deviceclient: the phone's clock is too far off the server's")

// ClockOffset returns the offset the client keeps to its server's clock:
// server time minus phone time (Now), in whole seconds, learned from the
// Date header of the device API's answers (0 before any). The client adds
// it to Now for every time it signs or checks; persist it per server
// (SetClockOffset) so that the first request after a restart is right.
func (c *Client) ClockOffset() time.Duration {
	return time.Duration(c.offset.Load()) * time.Second
}

// SetClockOffset sets the offset (ClockOffset), as persisted by the app,
// rounded down to whole seconds. An offset beyond MaxClockOffset either
// way is refused with ErrClockOffset and changes nothing.
func (c *Client) SetClockOffset(d time.Duration) error {
	if d > MaxClockOffset || d < -MaxClockOffset {
		return fmt.Errorf("%w: the offset is beyond %v", ErrClockOffset, MaxClockOffset)
	}
	c.offset.Store(int64(d.Truncate(time.Second) / time.Second))
	return nil
}

// ServerNow is the phone's clock corrected to the server's: Now plus
// ClockOffset. It is the time the client signs requests and opens
// prompts with; answer challenges (enroll.Credential.Respond) and sign
// transactions at it too.
func (c *Client) ServerNow() time.Time {
	return c.phoneNow().Add(c.ClockOffset())
}

// learnClock reads the Date of an answer of the device API (one naming
// the protocol version: a proxy's page does not) that took under
// clockRoundTrip, and keeps server time minus the phone's time at
// arrival, in whole seconds, as the offset. It reports whether the
// answer's time was within MaxClockOffset of the phone's (true when
// there was nothing to learn).
func (c *Client) learnClock(h http.Header, sent, arrived time.Time) bool {
	if h.Get(devicewire.HeaderProtocol) == "" || arrived.Sub(sent) >= clockRoundTrip || arrived.Before(sent) {
		return true
	}
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return true
	}
	return c.SetClockOffset(time.Duration(date.Unix()-arrived.Unix())*time.Second) == nil
}
