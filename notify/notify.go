package notify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyline/keyline/authn"
)

// Message is what one notification carries: the device's push token (the
// address, never shown) and the request ID, the only content, with the
// request's expiry, after which the service must drop it.
type Message struct {
	Token     string    // the device's push token
	RequestID string    // the push request: the payload's "id" and the collapse key
	ExpiresAt time.Time // the request's expiry
}

// String names the request and hides the token.
func (m Message) String() string {
	return "notify.Message{RequestID: " + strconv.Quote(m.RequestID) + ", ExpiresAt: " + m.ExpiresAt.UTC().Format(time.RFC3339) + "}"
}

// GoString is String.
func (m Message) GoString() string { return m.String() }

// Sender sends one notification through a push service, in one attempt,
// and classifies a failure: an error matching [ErrTokenGone] for a token
// the service no longer knows, a [*RetryError] for one worth retrying,
// anything else for a final failure. It returns when ctx ends.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Errors. They match with errors.Is; none carries a token.
var (
	// ErrTokenGone: the push service no longer knows the token (the app
	// was removed, the token is malformed): the token is removed from its
	// device and nothing is retried.
	ErrTokenGone = errors.New("notify: push token no longer valid")
	// ErrExpired: the request expired before the notification could be
	// sent; nothing was sent after it.
	ErrExpired = errors.New("notify: push request expired")
	// ErrNoSender: no Sender is configured for the device's platform.
	ErrNoSender = errors.New("notify: no sender for the device's platform")
	// ErrNoToken: the delivery names no push token.
	ErrNoToken = errors.New("notify: no push token")
)

// RetryError is a failure worth retrying: the service throttled the
// sender (429), failed (5xx) or the connection was lost. After is the
// wait the service asked for (Retry-After), 0 if none.
type RetryError struct {
	After time.Duration
	Err   error
}

// Error returns the cause's text.
func (e *RetryError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *RetryError) Unwrap() error { return e.Err }

// TokenRemover removes a push token its service reported gone:
// [authn.Service] is one.
type TokenRemover interface {
	RemovePushToken(ctx context.Context, user, deviceID, token string) (removed bool, err error)
}

// Outcome is how the delivery to one device ended.
type Outcome string

// Outcomes.
const (
	Sent         Outcome = "sent"          // the push service took the notification
	TokenRemoved Outcome = "token_removed" // the token was gone and is removed from the device
	TokenGone    Outcome = "token_gone"    // the token was gone but could not be removed (see Report.Err)
	Expired      Outcome = "expired"       // the request expired first: nothing (more) was sent
	Failed       Outcome = "failed"        // a final failure, or retries ran out of time
	Skipped      Outcome = "skipped"       // a retraction, which is not sent (see the package doc)
)

// Report is the outcome of one device's delivery, for logs and metrics.
// It holds no token.
type Report struct {
	User      string
	Device    string
	Platform  string
	RequestID string
	Outcome   Outcome
	Attempts  int   // attempts made: 0 when none was (expired, no sender)
	Err       error // nil when sent or skipped
}

// Config configures a Notifier. Senders is required (or Default).
type Config struct {
	// Senders sends by platform: the device's platform as its phone
	// described it at activation ("ios", "android"), compared in lower
	// case.
	Senders map[string]Sender
	// Default sends for a platform Senders does not list; nil: such a
	// device is not notified ([ErrNoSender]).
	Default Sender
	// Report, when set, is called once per device and delivery, from
	// the goroutine that delivered it.
	Report func(Report)
	// Now is the clock the request expiries are compared with: the
	// Service's (authn.Config.Clock). Default time.Now.
	Now func() time.Time
	// Backoff bounds the first retry's wait (full jitter: a random wait
	// up to it), doubling per retry up to MaxBackoff. Defaults 250 ms
	// and 4 s.
	Backoff, MaxBackoff time.Duration
}

// Notifier is an [authn.MultiNotifier] over push services. It is safe
// for concurrent use.
type Notifier struct {
	cfg     Config
	senders map[string]Sender
	tokens  atomic.Pointer[remover]
}

type remover struct{ TokenRemover }

var _ authn.MultiNotifier = (*Notifier)(nil)

// Default backoffs.
const (
	DefaultBackoff    = 250 * time.Millisecond
	DefaultMaxBackoff = 4 * time.Second
)

// New checks cfg and returns a Notifier.
func New(cfg Config) (*Notifier, error) {
	if len(cfg.Senders) == 0 && cfg.Default == nil {
		return nil, errors.New("notify: no Sender configured")
	}
	n := &Notifier{cfg: cfg, senders: map[string]Sender{}}
	for p, s := range cfg.Senders {
		if s == nil {
			return nil, fmt.Errorf("notify: nil Sender for platform %q", p)
		}
		n.senders[strings.ToLower(p)] = s
	}
	if n.cfg.Now == nil {
		n.cfg.Now = time.Now
	}
	if n.cfg.Backoff <= 0 {
		n.cfg.Backoff = DefaultBackoff
	}
	if n.cfg.MaxBackoff < n.cfg.Backoff {
		n.cfg.MaxBackoff = max(DefaultMaxBackoff, n.cfg.Backoff)
	}
	return n, nil
}

// Attach sets where gone tokens are removed: the Service the Notifier
// serves (which is made after it, hence a method). Until it is called, a
// gone token is reported (TokenGone) and left in place.
func (n *Notifier) Attach(r TokenRemover) { n.tokens.Store(&remover{r}) }

// Notify delivers one notification, retrying as the package doc says.
func (n *Notifier) Notify(ctx context.Context, d authn.Delivery) error {
	return n.deliver(ctx, d)
}

// NotifyAll delivers the notifications of one request to all its
// devices in parallel and returns one error per delivery. It returns
// when every delivery has ended: each ends when ctx does.
func (n *Notifier) NotifyAll(ctx context.Context, ds []authn.Delivery) []error {
	errs := make([]error, len(ds))
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Go(func() { errs[i] = n.deliver(ctx, d) })
	}
	wg.Wait()
	return errs
}

func (n *Notifier) deliver(ctx context.Context, d authn.Delivery) error {
	r := Report{User: d.User, Device: d.Device, Platform: d.Platform, RequestID: d.RequestID}
	if d.Retract {
		r.Outcome = Skipped
		n.report(r)
		return nil
	}
	r.Err = n.send(ctx, d, &r.Attempts)
	switch {
	case r.Err == nil:
		r.Outcome = Sent
	case errors.Is(r.Err, ErrExpired):
		r.Outcome = Expired
	case errors.Is(r.Err, ErrTokenGone):
		r.Outcome = TokenGone
		if t := n.tokens.Load(); t != nil {
			removed, err := t.RemovePushToken(ctx, d.User, d.Device, d.PushToken)
			switch {
			case err != nil:
				r.Err = fmt.Errorf("%w; removing it failed: %w", r.Err, err)
			case removed:
				r.Outcome = TokenRemoved
			}
		}
	default:
		r.Outcome = Failed
	}
	n.report(r)
	return r.Err
}

func (n *Notifier) report(r Report) {
	if n.cfg.Report != nil {
		n.cfg.Report(r)
	}
}

// send makes the attempts for one delivery.
func (n *Notifier) send(ctx context.Context, d authn.Delivery, attempts *int) error {
	if d.PushToken == "" {
		return ErrNoToken
	}
	s, ok := n.senders[strings.ToLower(d.Platform)]
	if !ok {
		s = n.cfg.Default
	}
	if s == nil {
		return ErrNoSender
	}
	m := Message{Token: d.PushToken, RequestID: d.RequestID, ExpiresAt: d.ExpiresAt}
	for {
		// No attempt starts at or after the request's expiry, and each is
		// cut off when it comes: the left time on the Service's clock,
		// measured on the wall clock that contexts use.
		left := d.ExpiresAt.Sub(n.cfg.Now())
		if left <= 0 {
			if *attempts == 0 {
				return ErrExpired
			}
			return fmt.Errorf("%w after %d attempts", ErrExpired, *attempts)
		}
		actx, cancel := context.WithTimeout(ctx, left)
		*attempts++
		err := s.Send(actx, m)
		cancel()
		if err == nil {
			return nil
		}
		var re *RetryError
		if !errors.As(err, &re) || ctx.Err() != nil {
			return err
		}
		wait := n.backoff(*attempts, re.After)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
			return err // no time left for another attempt
		}
		if !n.cfg.Now().Add(wait).Before(d.ExpiresAt) {
			return fmt.Errorf("%w (%w)", ErrExpired, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// backoff is the wait before the attempt after attempt n: full jitter
// under Backoff·2^(n-1), at most MaxBackoff, and at least what the
// service asked for.
func (n *Notifier) backoff(attempt int, asked time.Duration) time.Duration {
	ceil := n.cfg.Backoff << min(attempt-1, 20)
	if ceil <= 0 || ceil > n.cfg.MaxBackoff {
		ceil = n.cfg.MaxBackoff
	}
	wait := rand.N(ceil + 1) // jitter spreads retries; it is not a secret
	return max(wait, asked)
}
