// Package enroll is the protocol between a keyline phone and its server,
// both sides, as pure functions: no storage, no network. PROTOCOL.md at
// the repository root specifies it byte by byte, with known-answer vectors
// in testdata/protocol_v1.json, for apps written in other languages.
//
// For most uses, an activation runs:
//
//  1. Server: [Start] returns a [*Pending]; its [Pending.Offer] is shown as
//     a QR code ([Offer.URI]) or as its session ID for typing.
//  2. Phone: [ParseOffer] (from the QR), or [ParseSessionID] and
//     [Offer.Check] (for an offer fetched by a typed ID); then [Activate]
//     returns a [*Credential] and the [Request] to send.
//  3. Server: [Pending.Complete] checks the request and returns an
//     [Enrollment]: the device record, its root secret, and the server
//     confirmation to send back.
//  4. Phone: [Credential.CheckServerConfirm], and only then keeps the
//     credential; it shows [Credential.PairingCode], which the user types
//     into the portal session that started the activation.
//
// Package authn runs the server's side of this over a store, with
// single-use activations and pairing; this package does not remember
// anything.
//
// # What it guarantees
//
//   - The device's root secret is agreed by X25519 and HKDF-SHA256 over
//     the SHA-256 of a transcript (so that no HKDF input exceeds the
//     1,024 bytes some platforms allow: [MaxPrimitiveInput]) that binds
//     every field of the offer (session ID, issuer,
//     user, account name, suite, server key, expiry) and of the phone's
//     self-description (install ID, name, platform, integrity verdict,
//     attestation hash) and both public keys. It never appears on a
//     screen, in a QR code, or on the wire.
//   - Both sides confirm the key: the phone's confirmation MAC proves to
//     the server that the phone holds it, and the server's confirmation
//     proves to the phone that it talks to the server of the offer before
//     it keeps anything.
//   - An offer altered on the way is detected ([ErrOfferMismatch]); an
//     expired offer is refused before any key is made ([ErrExpired]).
//   - Each failure has its own sentinel, matched with [errors.Is].
//   - Purpose keys ([DeriveKeys]) separate every use of the root secret:
//     one key never serves two protocols.
//   - [Secret], [Keys], [Credential], [Pending] and [Enrollment] print no
//     key material with any fmt verb, nor through slog.
//
// # Security considerations
//
// What an observer of the QR code or the session ID learns: the issuer,
// the user ID, the account name, the suite and the expiry; nothing secret.
// What they can do: complete the activation with a phone of their own
// before the real user does. What they cannot do: make that phone count —
// a completed activation answers nothing until it is paired, and the
// pairing code is derived from the root secret of the phone that
// completed it, so theirs differs from the one the real user sees and
// types; learn another phone's root secret; or, when the phone typed the
// session ID, substitute the server's key, which would need an 80-bit
// second preimage of SHA-256 because the session ID is the key's hash.
// Activations are short-lived (10 minutes by default) and the server
// takes each once.
//
// The integrity verdict is self-reported: a Rooted device is refused, but
// a compromised phone can claim to be Intact. Platform attestation
// (DeviceInfo.Attestation, checked by the server's hook) is the control.
//
// The confirmation MACs and pairing code are compared in constant time;
// the server's Complete is not single-use by itself (see package authn).
//
// # Related packages
//
// The phone keeps its credentials in package
// github.com/keyline/keyline/enroll/vault, sealed under a PIN; package
// github.com/keyline/keyline/enroll/txn is the transaction model the
// phone confirms with [Credential.RespondTransaction]; package
// github.com/keyline/keyline/enroll/totpkey provisions TOTP keys for
// authenticator apps on the server.
package enroll
