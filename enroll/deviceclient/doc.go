// Package deviceclient is the phone's client of the keyline device API
// (PROTOCOL.md §10; the server is package authn/deviceapi). It depends on
// package enroll and the API's message types (shared with the server, and
// nothing else of it), so a phone app's Go core carries no server code.
//
// For most uses: make a [Client] with [New] and the API's base URL, which
// the app knows (it never takes a server address from a QR code). Then:
//
//  1. activate: [Client.FetchOffer] with the session ID the user typed
//     (or enroll.ParseOffer of a scanned QR code), then [Client.Activate],
//     keep the credential it returns, and show its pairing code;
//  2. on a push notification: [Client.Pushes] (or [Client.Push] for the
//     request the notification names), show the prompt's context (and
//     transaction), and [Client.AnswerPush] with the number the user typed;
//  3. when the OS rotates the push token: [Client.SetPushToken];
//  4. moving to a new phone: [Client.StartMigration] on the old one, show
//     its offer to the new one, which activates; type the new phone's
//     pairing code into the old one: [Client.ConfirmMigration];
//  5. when a call is refused with enroll.ErrDeviceAuth: [Client.Status],
//     which says whether the device was removed (revoked, or replaced by
//     a migration): then delete the credential.
//
// # What it guarantees
//
//   - Every request after activation is signed under the device's api key
//     with the shared code of package enroll (enroll.Credential.SignAPIRequest):
//     a fresh nonce and the phone's time each time.
//   - A typed session ID is checked before anything is sent, and the
//     offer fetched for it is checked against it: its server key must hash
//     to the ID typed (enroll.Offer.Check), so nobody on the way can
//     substitute a key.
//   - A credential is returned only after the server's confirmation
//     verified (enroll.Credential.CheckServerConfirm); otherwise it is
//     wiped.
//   - Prompts are opened and checked with the credential before they are
//     returned; one that does not verify is never shown.
//   - Errors match sentinels with errors.Is: the server's error answers
//     are [*Error] values that unwrap to this package's sentinels or to
//     package enroll's (enroll.ErrDeviceAuth for an unknown or revoked
//     device, enroll.ErrExpired, enroll.ErrSessionIDTypo, ...); a network
//     failure, or an answer that is not the API's, is [ErrUnreachable].
//     No error carries a URL, a session ID, a key or a MAC.
//
// # Security considerations
//
// The client trusts TLS for confidentiality: use an https base URL (and
// an http.Client with a timeout). It does not pin certificates; an app
// that does configures its http.Client.
//
// Protocol times are the server's (PROTOCOL.md §11, "Clock offset"): the
// client learns the offset of the phone's clock from the Date of every
// answer of the device API that came back within 5 seconds, signs and
// checks at the corrected time ([Client.ServerNow]), and after a
// clock_skew refusal retries once, signed afresh; a push answer refused
// as clock_off is made again at the server's time, once. The offset is
// bounded by [MaxClockOffset] (a day): the server the app trusts (over
// TLS) can move the time the phone signs with, and the time its OCRA
// answers are computed for, by at most that, and for its own credentials
// only; a phone further off gets [ErrClockOffset] and must have its clock
// set. Keep the offset per server ([Client.ClockOffset],
// [Client.SetClockOffset]) so that a restart need not relearn it.
//
// The client keeps nothing: storing the credential (vault.Vault) is the
// app's job, and so is deleting it after a migration or a revocation
// (which [Client.Status] reports, to this device's own signed request
// only, for the server's removal window: 30 days by default).
package deviceclient
