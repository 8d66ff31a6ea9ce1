package authn

// boundDrift is the drift stored for a device whose response matched at
// drift steps from the server's clock: at most Config.ResyncWindow either
// way. Every path that stores a drift (a login or transaction matched in
// the window around the stored drift, a resynchronisation confirmed)
// goes through CommitStep with this value, so no sequence of logins
// moves a stored drift past the resync window: a phone that creeps one
// step at each login is accepted up to ResyncWindow + Window steps off,
// and refused beyond, where resynchronisation no longer finds it either
// (its clock must be set right, or the phone re-enrolled).
func (s *Service) boundDrift(drift int) int {
	return min(max(drift, -s.cfg.ResyncWindow), s.cfg.ResyncWindow)
}
