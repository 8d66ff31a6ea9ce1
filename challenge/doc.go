// Package challenge implements the algorithm of keyline's second factor:
// OCRA, the OATH challenge-response algorithm of RFC 6287, and beneath it
// HOTP (RFC 4226) and TOTP (RFC 6238). It depends on the standard library
// alone and keeps no state: replay memory, lockout and drift tracking are
// the caller's (package authn does them).
//
// For most uses: the phone answers a question with [Suite.Respond] under
// [Default] (a 6-digit numeric question and the current 30-second time
// step, answered with 8 digits of HMAC-SHA256); the server draws the
// question with [Suite.NewQuestion] and checks the answer with a
// [Verifier] from [NewVerifier], built once per key. A server that
// checks each key once (it keeps keys sealed, or derives them per call)
// uses [Suite.VerifyOnce] instead: the same result, without building a
// verifier, and without allocating. [TOTP] and [HOTP] serve standard
// authenticator apps.
//
// # What it guarantees
//
//   - Exactly the standard algorithm: every vector of RFC 6287 Appendix C,
//     RFC 4226 Appendix D and RFC 6238 Appendix B passes, and HOTP/TOTP
//     agree with independent implementations. [ParseSuite] accepts the
//     whole RFC 6287 grammar, and only its canonical spelling, since the
//     suite's bytes enter the HMAC.
//   - Malformed input is refused loudly. A response is exactly the suite's
//     number of ASCII digits; spaces around it are accepted, and one
//     space or dash after any fourth digit ("1234 5678", "1234-5678",
//     "1234 56") or, in a six-digit code, after the third instead ("123
//     456"); anything else — full-width or
//     Arabic-Indic digits, signs, letters, tabs, too many or too few
//     digits — wraps [ErrMalformed] and says why, and is never a silent
//     mismatch. A suite with 0 digits (no truncation) answers with the
//     lowercase hex of the whole HMAC, and accepts hex in either case. An
//     [Input] must give exactly the fields its suite takes
//     ([ErrInvalidInput]). Keys shorter than 16 bytes are refused
//     ([ErrInvalidKey]), as RFC 4226 §4 asks; [TOTP.AllowShortKey] admits
//     10-byte legacy secrets.
//   - No timing signal from the response: every step of a window is
//     computed and compared in constant time whether or not one matched.
//   - Speed: a [Verifier] precomputes the HMAC key schedule, and per call
//     the message up to the step that varies, so each step of a window
//     costs only the hash's last blocks; Verify allocates nothing and is
//     safe for concurrent use. BENCHMARKS.md at the repository root has
//     the figures.
//   - A slow path behind the fast one. The fast path reads digests out of
//     the standard library's marshaled hash states, a layout Go does not
//     promise; a self-test checks it for each hash as the package starts.
//     Should a Go release change it, verifiers of that hash use
//     crypto/hmac instead: the same results, each verification about
//     1.5 times as long, a verifier a little dearer to build.
//     [FastPath] reports which path is in use, and the first verifier
//     built on the slow path says so once, as a warning, through the
//     logger given to [SetLogger] ([slog.Default] if none). Nothing fails
//     for it.
//   - No secret in an error, a log line or a String method: errors name
//     what was wrong with the input, never a key, a response, or what was
//     expected.
//
// # Security considerations
//
// Guessing. HOTP truncation takes a 31-bit value mod 10^d, so values are
// not quite uniform: for 8 digits the most likely response has
// probability ceil(2^31/10^8)/2^31 = 22/2^31 ≈ 1.0245·10^-8 against
// 10^-8 for a uniform draw. The best single guess therefore wins with
// 1.0245·10^-8 per step tried; a window of w steps multiplies that by w
// (3 for ±1), and a user with n devices by n again. The lockout policy of
// the caller bounds the number of guesses.
//
// Short questions. RFC 6287 IC4 asks for questions of at least t bytes (t
// the response length) and recommends 20. [Default]'s question is 6
// decimal digits, because a person types it into the phone; what stops
// precomputation is not the question's length but the key, which the
// attacker does not have, the time step in the message, and the caller's
// rule that a question is never reissued to a user while an answer to it
// could still be accepted. Use longer questions (or QH64 over a hash, as
// keyline's transactions do) where no person types them.
//
// Numeric questions. RFC 6287 encodes a numeric question as its
// hexadecimal digits, left-aligned: 000001, 000016, 000256, 004096 and
// 065536 are the same question to the HMAC, and leading zeros do not
// count. [Suite.NewQuestion] draws only among values that are neither 0
// nor a multiple of 16, on which the encoding is one-to-one.
// [Suite.Respond] and [Verifier.Verify] still accept every question.
//
// Replay. This package keeps no memory: a response verified once verifies
// again. Callers must consume each question once and refuse time steps at
// or before the last one accepted (RFC 6238 §5.2).
//
// Sessions. A session value shorter than the suite's S length is
// left-padded with zero bytes, as RFC 6287's reference code does, so
// values that differ only in leading zero bytes give the same response.
package challenge
