package authn

import "time"

// Now returns the Service's clock (Config.Clock): the time every check
// of the Service reads, and the time the device API states in the Date
// header of its answers, from which a phone learns its clock offset
// (PROTOCOL.md §11, "Clock offset").
func (s *Service) Now() time.Time { return s.now() }
