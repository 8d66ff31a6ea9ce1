package authn

import (
	"context"
	"errors"
	"time"
)

// RotationReport says what RotateKeys did.
type RotationReport struct {
	Resealed int            // device secrets moved to the primary key
	Current  int            // already under the primary key
	Retired  map[string]int // key ID → device secrets still under it (failed or raced; run again)
}

// RotateKeys re-seals every device secret under the keyring's primary
// key, page by page; each record is replaced by compare-and-set, so it is
// safe while logins run, and resumable: run it again after an
// interruption and it picks up what is left. The report counts what still
// uses retired keys; a retired key may be dropped from the keyring once
// that is empty. Pending activations, which live minutes, are not
// re-sealed: wait ActivationTTL after adding the new primary.
func (s *Service) RotateKeys(ctx context.Context) (_ RotationReport, err error) {
	ctx, sp := s.trace(ctx, "RotateKeys", "", "")
	defer sp.done(&err)
	rep := RotationReport{Retired: map[string]int{}}
	const page = 200
	afterUser, afterID := "", ""
	for {
		devs, err := s.records.DevicesPage(ctx, afterUser, afterID, page)
		if err != nil {
			return rep, storeErr(err)
		}
		for _, d := range devs {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			if !s.keys.NeedsReseal(d.Secret) {
				rep.Current++
				continue
			}
			if err := s.reseal(ctx, d); err != nil {
				id, _ := SealedKeyID(d.Secret)
				rep.Retired[id]++
				continue
			}
			rep.Resealed++
		}
		if len(devs) < page {
			break
		}
		afterUser, afterID = devs[len(devs)-1].User, devs[len(devs)-1].ID
	}
	s.keyCache.clear() // keys derived from roots sealed under retired keys
	s.event(ctx, EventKeysRotated, "", "", "", "")
	return rep, nil
}

func (s *Service) reseal(ctx context.Context, d DeviceRecord) error {
	root, err := s.openRoot(d)
	if err != nil {
		return err
	}
	defer root.Zero()
	sealed, err := s.keys.Seal(kindDeviceRoot, d.User, d.ID, root)
	if err != nil {
		return err
	}
	_, err = s.records.ChangeDevice(ctx, d.User, d.ID, DeviceChange{Secret: &SecretSwap{Old: d.Secret, New: sealed}}, s.now())
	s.forgetKeys(d.User)
	if err == nil {
		s.devicesChangedQuietly(ctx, d.User, s.now())
	}
	return err
}

// Factors is what a user has enrolled, for the portal's security page and
// for choosing the second factor to offer. Call it only after the first
// factor: it tells whoever asks whether the user has a device.
type Factors struct {
	Devices       []Device // active devices
	Pending       []Device // completed activations awaiting pairing
	TOTP          bool     // an active TOTP key
	RecoveryCodes int      // unused recovery codes
	Locked        bool     // the client's lockout bucket is locked now (see Operator.LockState for every bucket)
	LockedFor     time.Duration
	LockLevel     int // how many locks since the last success
	RecentFail    int // consecutive failures counted now
}

// Factors reports what user has enrolled and their lockout state.
//
// The lockout fields are those of the bucket the client's login calls
// count in (see the package documentation, "Lockout"): the client named
// by opts (KnownClient), or the shared one of unknown clients.
func (s *Service) Factors(ctx context.Context, user string, opts ...LoginOption) (_ Factors, err error) {
	ctx, sp := s.trace(ctx, "Factors", "", user)
	defer sp.done(&err)
	if err := checkUser(user); err != nil {
		return Factors{}, err
	}
	now := s.now()
	all, err := s.records.Devices(ctx, user)
	if err != nil {
		return Factors{}, storeErr(err)
	}
	c, err := s.client(ctx, user, opts, now)
	if err != nil {
		return Factors{}, err
	}
	buckets, err := s.hot.Lockout(ctx, user, now)
	if err != nil {
		return Factors{}, storeErr(err)
	}
	st := bucketOf(buckets, c.bucket, s.lockPolicy(), now)
	f := Factors{LockLevel: st.Level, RecentFail: st.Failures}
	if now.Before(st.LockedUntil) {
		f.Locked, f.LockedFor = true, st.LockedUntil.Sub(now)
	}
	if t, err := s.records.TOTP(ctx, user); err == nil {
		f.TOTP = t.Active
	} else if !errors.Is(err, ErrStoreNotFound) {
		return Factors{}, storeErr(err)
	}
	if _, f.RecoveryCodes, err = s.records.TakeRecoveryCode(ctx, user, nil); err != nil {
		return Factors{}, storeErr(err)
	}
	for _, d := range all {
		if d.State == DeviceActive {
			f.Devices = append(f.Devices, deviceOf(d))
		} else {
			f.Pending = append(f.Pending, deviceOf(d))
		}
	}
	return f, nil
}
