package sqlstore

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
)

// proxy is a loopback TCP proxy the test can cut and restore: the server
// behind it stays up, and other tests using it are unaffected.
type proxy struct {
	ln      net.Listener
	backend string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
}

func newProxy(t *testing.T, backend string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, backend: backend, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.setCut(true) })
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		cut := p.cut
		p.mu.Unlock()
		if cut {
			c.Close()
			continue
		}
		b, err := net.Dial("tcp", p.backend)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[b] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go func() { _, _ = io.Copy(b, c); b.Close(); c.Close() }()
		go func() { _, _ = io.Copy(c, b); b.Close(); c.Close() }()
	}
}

// setCut cuts every connection and refuses new ones, or lets them through
// again.
func (p *proxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

// A cut connection makes every call fail with ErrStoreUnavailable (and
// its cause), accepts nothing, and once the connection returns the same
// Service works again.
func TestPostgresConnectionCut(t *testing.T) {
	dsn := postgresDSN(t)
	schema := testSchema(t, dsn)
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	px := newProxy(t, u.Host)
	u.Host = px.ln.Addr().String()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	s := openPostgres(t, u.String(), schema)

	now := durabilityStart
	master := make([]byte, 32)
	master[0] = 7
	svc := durabilityService(t, s, master, func() time.Time { return now })
	ctx := context.Background()
	offer, err := svc.StartActivation(ctx, "alice", nil)
	require.NoError(t, err)
	cred, req, err := enroll.Activate(offer, enroll.DeviceInfo{InstallID: "i-1"}, now)
	require.NoError(t, err)
	act, err := svc.CompleteActivation(ctx, req)
	require.NoError(t, err)
	require.NoError(t, cred.CheckServerConfirm(act.ServerConfirm))
	_, err = svc.ConfirmActivation(ctx, "alice", offer.SessionID, cred.PairingCode())
	require.NoError(t, err)
	ch, err := svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	resp, err := cred.Respond(ch.Question, now)
	require.NoError(t, err)

	px.setCut(true)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = svc.FinishChallenge(cctx, "alice", ch.ID, resp)
	require.ErrorIs(t, err, authn.ErrStoreUnavailable)
	require.NotErrorIs(t, err, authn.ErrInvalidCode)
	require.Greater(t, len(err.Error()), len(authn.ErrStoreUnavailable.Error()), "the cause is in the message")
	_, err = svc.BeginChallenge(cctx, "alice")
	require.ErrorIs(t, err, authn.ErrStoreUnavailable)
	_, err = svc.Devices(cctx, "alice")
	require.ErrorIs(t, err, authn.ErrStoreUnavailable)

	// Back: nothing was accepted while cut, so the same answer logs in now.
	px.setCut(false)
	var res authn.Result
	require.Eventually(t, func() bool {
		res, err = svc.FinishChallenge(ctx, "alice", ch.ID, resp)
		return !errors.Is(err, authn.ErrStoreUnavailable)
	}, 10*time.Second, 50*time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, act.Device.ID, res.DeviceID)
}
