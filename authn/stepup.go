package authn

// HasFactor reports whether the user has a factor that logs them in: an
// active device, an active TOTP key, or an unused recovery code. A user
// who has one needs a fresh step-up proof for every factor change
// (StartActivation, StartTOTP and the rest); a user who has none enrolls
// the first factor on trust. It is the Service's own rule: a portal that
// decides whether to ask for a step-up asks it, rather than counting
// factors itself.
func (f Factors) HasFactor() bool {
	return logsIn(len(f.Devices), f.TOTP, f.RecoveryCodes)
}

// logsIn is the one rule of what makes a factor change need a proof:
// any factor that can log the user in.
func logsIn(activeDevices int, totp bool, recoveryCodes int) bool {
	return activeDevices > 0 || totp || recoveryCodes > 0
}
