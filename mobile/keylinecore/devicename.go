package keylinecore

// maxDeviceName is the longest device name the protocol accepts, in
// bytes (Config.DeviceName).
const maxDeviceName = 128

// SetDeviceName changes the name the phone gives itself in the
// activations that follow (Config.DeviceName): for an app that lets the
// user rename the phone, or that takes the name its accounts already
// carry (Account.DeviceName). CodeInvalidInput for a name over 128
// bytes; accounts activated before keep the name they were given.
func (p *Phone) SetDeviceName(name string) error {
	if len(name) > maxDeviceName {
		return newError(CodeInvalidInput, "the device name is over 128 bytes")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg.DeviceName = name
	return nil
}
