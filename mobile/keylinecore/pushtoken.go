package keylinecore

import (
	"context"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/deviceclient"
)

// SetPushToken records the OS push token ("" for none: the app then
// polls) and sends it to the server of every account of the install, one
// call for all (PROTOCOL.md §10, push token). Accounts that did not get
// it (a server unreachable) are retried by the next SetPushToken, with
// the same token or a newer one; PushTokenPending counts them. Accounts
// activated later send it in their activation. The error is the first
// failure's, its detail saying how many accounts failed.
func (p *Phone) SetPushToken(token string, cancel *Cancel) error {
	if len(token) > maxPushToken {
		return newError(CodeInvalidInput, "the push token is over 4096 bytes")
	}
	p.mu.Lock()
	if p.v == nil {
		p.mu.Unlock()
		return errLocked
	}
	if token != p.prof.PushToken {
		p.prof.PushToken = token
		for _, m := range p.prof.Accounts {
			m.TokenSent = false
		}
		if err := p.saveProfile(); err != nil {
			p.mu.Unlock()
			return err
		}
	}
	var todo []string
	for id, m := range p.prof.Accounts {
		if !m.TokenSent && m.Paired && m.RemovedAt == 0 {
			todo = append(todo, id)
		}
	}
	p.mu.Unlock()

	var first error
	failed := 0
	for _, id := range todo {
		err := p.accountCall(id, cancel, func(ctx context.Context, c *deviceclient.Client, cred *enroll.Credential) error {
			return c.SetPushToken(ctx, cred, token)
		})
		if err != nil {
			failed++
			if first == nil {
				first = err
			}
			continue
		}
		p.mu.Lock()
		if m := p.prof.Accounts[id]; m != nil && p.prof.PushToken == token {
			m.TokenSent = true
		}
		p.mu.Unlock()
	}
	p.mu.Lock()
	serr := p.saveProfile()
	p.mu.Unlock()
	if first != nil {
		return wrapf(first, "the push token did not reach %d of %d accounts", failed, len(todo))
	}
	return serr
}

// PushTokenPending returns how many active accounts have yet to get the
// push token last set.
func (p *Phone) PushTokenPending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, m := range p.prof.Accounts {
		if !m.TokenSent && m.Paired && m.RemovedAt == 0 {
			n++
		}
	}
	return n
}
