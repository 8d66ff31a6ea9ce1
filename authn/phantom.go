package authn

// Phantom devices: what keeps a wrong answer, and a challenge, of an
// unknown user as costly as those of a real one.
//
// The work that depends on a user's devices is done per device: unseal
// its root secret, derive its OCRA key, and compute what it could answer
// (the tags of BeginChallenge, the resync search of a wrong answer over
// 2·ResyncWindow+1 steps). An unknown user, or one without an active
// device, has none, so without padding a wrong answer of theirs costs a
// seventh of a real user's (1 µs against 7 µs per device, measured) and
// says that the user does not exist.
//
// The choice: every user is padded to one fixed work budget,
// min(MaxDevicesPerUser, DefaultMaxDevices) devices, with phantom devices
// after the real ones. A phantom is the Service's sealed dummy root
// secret (made at New, never shown, opened with the same AEAD work as a
// device's), marked by an empty device ID: it is searched exactly as a
// device is, and whatever it matches is discarded; it yields no tag and
// no name, so the store and the Result never see it. Padding both sides
// to a fixed budget, rather than giving unknown users a "typical" number
// of phantoms, also hides how many devices a real user has, up to the
// budget. The price is the budget's work on every challenge and every
// wrong answer (five devices' by default: three to five times what one
// device costs, see TestWrongAnswerTiming and BenchmarkWrongAnswer); a
// user with more devices than the budget
// costs more than an unknown one, which tells that such a user exists.
// Deployments that raise MaxDevicesPerUser past DefaultMaxDevices accept
// that for those users.
//
// The device keys are derived once and cached per user, phantoms
// included (keycache.go), and the resync search runs at most once per
// user and time step (resyncbound.go): both depend on the name and the
// clock only, so the padding holds for them as it did for the work they
// replace. TestWrongAnswerWork compares the search's allocations, real
// and unknown users alike.
//
// What the padding does not equalise: the store's own work (a challenge
// stored with a real user's tags is larger than an unknown user's,
// without any), and a right answer, which does more (a commit, a proof).

// timingBudget is how many devices' work every challenge and every wrong
// answer of a user costs at least.
func (s *Service) timingBudget() int {
	return min(s.cfg.MaxDevicesPerUser, DefaultMaxDevices)
}

// withPhantoms returns devs followed by as many phantom devices as bring
// it to the timing budget, in a new slice.
func (s *Service) withPhantoms(devs []DeviceRecord) []DeviceRecord {
	out := make([]DeviceRecord, 0, max(len(devs), s.timingBudget()))
	out = append(out, devs...)
	for len(out) < s.timingBudget() {
		out = append(out, DeviceRecord{Secret: s.dummy})
	}
	return out
}

// openAny unseals a device's root secret, or a phantom's (the dummy).
func (s *Service) openAny(d DeviceRecord) ([]byte, error) {
	if d.ID == "" {
		return s.keys.Open(kindDummy, "", "", d.Secret)
	}
	return s.openRoot(d)
}
