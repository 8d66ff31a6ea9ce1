// Package totpkey provisions TOTP keys (RFC 6238) on the server, for a
// user who prefers an authenticator app to the keyline app: [New] draws
// the secret, [Key.URI] and [Key.QR] give the otpauth:// URI (Google's
// Key URI Format) that the app scans once, and [Key.TOTP] gives the
// parameters of the verifier that checks the app's codes
// (package challenge). Package authn runs the enrollment over a store:
// it keeps the secret sealed and takes the first code as the proof that
// the app holds it.
//
// # What it guarantees
//
//   - The secret is read from crypto/rand, 20 bytes by default (160 bits,
//     as RFC 4226 recommends), 16 to 64 on request.
//   - The URI carries every name and parameter unambiguously: names are
//     percent-encoded but for letters, digits and "-._~@", so that no
//     app reads an "&" as a separator or a "+" as a space, and names
//     that could not be carried (empty, too long, not printable, with a
//     leading or trailing space, with ':') are refused.
//   - A [Key] prints no key material with any fmt verb, nor through
//     slog; its secret, URI and QR code are given only by their explicit
//     methods, and [Key.Zero] wipes the secret.
//
// # pquerna/otp
//
// github.com/pquerna/otp has one role here: it is the test-time
// cross-check. The tests parse every URI this package writes with its
// parser, as an authenticator app would, and check that the codes its
// generator computes from what it parsed verify with the server's
// verifier; a fuzz target does the same for every name [New] accepts.
// The package itself does not import it: it draws the secret from
// crypto/rand and writes the URI itself, because pquerna/otp v1.5.0
// leaves "&" and "+" unescaped in the issuer parameter.
//
// # Security considerations
//
// A TOTP secret is shared: the server must keep it (sealed), so a
// leaked store leaks every secret, unlike the keyline app's credential,
// whose root secret never leaves the activation. The URI and the QR code
// hold the secret: show them once, to the user enrolling, over a session
// that already passed a second factor or is the user's first, and never
// log or store them. A 6-digit code is guessed with probability 10^-6
// per try and per step in the window: the verifier's caller bounds
// attempts (package authn locks after a few). Many apps ignore the
// URI's algorithm, digits and period and compute SHA-1, 6 digits, 30
// seconds: other [Options] serve only apps known to honour them.
package totpkey
