package keylinecore

import (
	"context"
	"time"
)

// Cancel lets the app abandon a call that talks to a server (context
// cancellation, which does not cross the bridge): make one with
// NewCancel, pass it to the call, and call its Cancel method from another
// thread (the user left the screen). A cancelled call returns an error
// with code CodeCancelled. A nil Cancel is a call that only the Phone's
// timeout ends. One Cancel may serve several calls; once cancelled it
// stays cancelled.
type Cancel struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// NewCancel returns a Cancel not yet cancelled.
func NewCancel() *Cancel {
	ctx, cancel := context.WithCancel(context.Background())
	return &Cancel{ctx: ctx, cancel: cancel}
}

// Cancel ends every call made with c that is still running, and makes
// later ones fail at once.
func (c *Cancel) Cancel() {
	if c != nil && c.cancel != nil {
		c.cancel()
	}
}

// Cancelled reports whether Cancel was called.
func (c *Cancel) Cancelled() bool {
	return c != nil && c.ctx != nil && c.ctx.Err() != nil
}

// context returns the context of one call: c's (Background for nil or a
// Cancel the app made with new instead of NewCancel), bounded by timeout.
func (c *Cancel) context(timeout time.Duration) (context.Context, context.CancelFunc) {
	parent := context.Background()
	if c != nil && c.ctx != nil {
		parent = c.ctx
	}
	return context.WithTimeout(parent, timeout)
}
