package authn

// LoginOption tells one login call about the client it serves: where
// the client connects from and what it presents. Every call that counts
// toward the lockout or starts a login (BeginChallenge, FinishChallenge,
// VerifyTOTP, ConfirmTOTP, VerifyRecoveryCode, BeginPush, FinishPush,
// BeginTransaction, FinishTransaction, BeginTransactionPush) takes them;
// a call given none serves a client the Service knows nothing about.
type LoginOption func(*loginOptions)

// loginOptions is what the LoginOptions given to one call set.
type loginOptions struct{}
