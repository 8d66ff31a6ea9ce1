package memstore

import (
	"context"
	"time"

	"github.com/keyline/keyline/authn"
)

var _ authn.LoginRecords = (*Store)(nil)

// UserDevices implements authn.LoginRecords: the epoch, the active
// devices and the devices version, under one hold of the store's lock.
func (s *Store) UserDevices(_ context.Context, user string, now time.Time) (authn.UserDevices, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := authn.UserDevices{Devices: []authn.DeviceRecord{}, Version: s.devVersion[user]}
	if u, ok := s.users[user]; ok {
		out.Epoch = u.Epoch
	}
	for _, d := range s.devices[user] {
		if d.State == authn.DeviceActive {
			out.Devices = append(out.Devices, cloneDevice(d))
		}
	}
	return out, nil
}

// raiseDevices gives the user's devices version the next value of the
// store's one counter (so that no user ID ever sees a value twice, even
// after DeleteUser): what every change to the user's active devices
// does (authn.LoginRecords), with s.mu held.
func (s *Store) raiseDevices(user string) {
	if s.devVersion == nil {
		s.devVersion = map[string]uint64{}
	}
	s.devSeq++
	s.devVersion[user] = s.devSeq
}
