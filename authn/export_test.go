package authn

// UseDeviceNonce is the Service's nonce check of device API requests,
// which AuthenticateDevice runs after the MAC verified, exported to the
// tests of package authn_test so that they check it alone.
var UseDeviceNonce = (*Service).useDeviceNonce
