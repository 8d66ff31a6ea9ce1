package authn

// UseDeviceNonce is the Service's nonce check of device API requests,
// which AuthenticateDevice runs after the MAC verified, exported to the
// tests of package authn_test so that they check it alone.
var UseDeviceNonce = (*Service).useDeviceNonce

// CachedKeyUsers reports how many users' device keys the Service's key
// cache holds (keycache.go), and whether it holds user's login keys.
func CachedKeyUsers(s *Service, user string) (int, bool) {
	s.keyCache.mu.Lock()
	defer s.keyCache.mu.Unlock()
	el := s.keyCache.entries[keyCacheID{loginTag, user}]
	return len(s.keyCache.entries), el != nil && len(el.Value.(*keyEntry).slots) > 0
}
