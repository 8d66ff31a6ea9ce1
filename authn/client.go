package authn

// LoginOption tells one login call about the client it serves: where
// the client connects from and what it presents. Every call that counts
// toward the lockout or starts a login (BeginChallenge, FinishChallenge,
// VerifyTOTP, ConfirmTOTP, VerifyRecoveryCode, BeginPush, FinishPush,
// BeginTransaction, FinishTransaction, BeginTransactionPush) takes them;
// a call given none serves a client the Service knows nothing about.
type LoginOption func(*loginOptions)

// loginOptions is what the LoginOptions given to one call set.
type loginOptions struct {
	knownClient KnownClientToken // a known-client token (KnownClient)
}

// KnownClient presents the known-client token a second-factor success
// gave this client (Result.KnownClient, kept by the login service as a
// cookie): the call counts toward the client's own lockout bucket instead
// of the one every unknown client shares. A token that does not verify
// (altered, another user's, expired, or issued before a revocation) is
// audited (EventKnownClientRefused) and treated as no token; the call
// goes on as for an unknown client. An empty token is no token.
func KnownClient(token KnownClientToken) LoginOption {
	return func(o *loginOptions) { o.knownClient = token }
}
