package tracing

import (
	"context"
	"time"

	"github.com/keyline/keyline/authn"
)

// The split stores' optional interfaces (authn.MirroredIssuer on the hot
// half, authn.LoginRecords on the records, and on one engine kept as
// both) are kept by their wrappers too: the Service asserts them, and a wrapper hiding them would cost a
// traced Service a read of the records on every BeginChallenge (two, for
// LoginRecords) that an untraced one does not make.

// wrapHot wraps a hot store alone, keeping authn.MirroredIssuer.
func (t *Tracer) wrapHot(st authn.HotStore) authn.HotStore {
	h := &hotStore{st, t}
	if mi, ok := st.(authn.MirroredIssuer); ok {
		return &mirroredHot{h, mirrorStep{mi, t}}
	}
	return h
}

// wrapRecords wraps a record store, keeping authn.LoginRecords.
func (t *Tracer) wrapRecords(st authn.RecordStore) authn.RecordStore {
	r := &recordStore{st, t}
	if lr, ok := st.(authn.LoginRecords); ok {
		return &loginRecords{r, userDevicesStep{lr, t}}
	}
	return r
}

// mirrorStep traces a hot store's devices-mirror calls; mirroredHot is
// the wrapper of a hot store that offers them.
type mirrorStep struct {
	mi authn.MirroredIssuer
	t  *Tracer
}

type mirroredHot struct {
	*hotStore
	mirrorStep
}

// userDevicesStep traces the one-step read of a user's devices;
// loginRecords is the wrapper of a record store that offers it.
type userDevicesStep struct {
	lr authn.LoginRecords
	t  *Tracer
}

type loginRecords struct {
	*recordStore
	userDevicesStep
}

// issueFinishLoginStores is one engine's wrapper (wrapBoth) with its
// one-step issue and finish and its one-step read of a user's devices,
// which the Service reads on a cache miss.
type issueFinishLoginStores struct {
	*bothStores
	issueStep
	finishStep
	userDevicesStep
}

var (
	_ authn.MirroredIssuer = (*mirroredHot)(nil)
	_ authn.LoginRecords   = (*loginRecords)(nil)
	_ authn.IssueStore     = (*issueFinishLoginStores)(nil)
	_ authn.FinishStore    = (*issueFinishLoginStores)(nil)
	_ authn.LoginRecords   = (*issueFinishLoginStores)(nil)
)

func (s mirrorStep) IssueMirrored(ctx context.Context, c authn.ChallengeRecord, lim authn.ChallengeLimits, version uint64, fresh bool, now time.Time) (bool, error) {
	ctx, sp := s.t.store(ctx, "HotStore.IssueMirrored")
	stale, err := s.mi.IssueMirrored(ctx, c, lim, version, fresh, now)
	sp.end(err)
	return stale, err
}

func (s mirrorStep) RaiseDevices(ctx context.Context, user string, version uint64, now time.Time) error {
	ctx, sp := s.t.store(ctx, "HotStore.RaiseDevices")
	err := s.mi.RaiseDevices(ctx, user, version, now)
	sp.end(err)
	return err
}

func (s userDevicesStep) UserDevices(ctx context.Context, user string, now time.Time) (authn.UserDevices, error) {
	ctx, sp := s.t.store(ctx, "RecordStore.UserDevices")
	d, err := s.lr.UserDevices(ctx, user, now)
	sp.end(err)
	return d, err
}
