// Package vault keeps a phone's keyline credentials ([enroll.Credential]),
// several users to a phone, sealed at rest under the user's PIN and,
// where the app provides one, a key in the phone's secure hardware
// ([KeyWrapper]: Secure Enclave, StrongBox). It is the phone's side only;
// the server never sees a vault.
//
// For most uses: [New] once, with a PIN that passes [CheckPIN]; [Vault.Add]
// each credential after its activation is confirmed; [Vault.Seal] after
// every change, storing the blob; [Open] with the PIN when the app
// starts; [Vault.Get] to answer a challenge. [Vault.Export] and [Import]
// make and restore a backup under a random passphrase.
//
// # What it guarantees
//
//   - A blob is sealed with AES-256-GCM under
//     HKDF-SHA256(Argon2id(PIN, salt) ‖ platform secret), every header
//     field authenticated; the format is specified in blob.go.
//   - Argon2id parameters in a blob are capped before anything is
//     allocated (1 GiB, and t × m at most 4 GiB) and floored against
//     downgrades (OWASP's minimum by default): a planted blob can neither
//     make the phone allocate gigabytes nor lower the cost of a guess.
//   - A wrong PIN, a damaged blob, a foreign platform key and a parameter
//     out of bounds each have their own error ([ErrWrongPIN],
//     [ErrCorrupt], [ErrKeyWrapper], [ErrParams]); a failed open returns
//     no vault.
//   - The vault holds the key derived from the PIN, never the PIN, and
//     [Vault.Zero] wipes it with every credential. Nothing it prints,
//     errors included, shows a PIN, a passphrase or key material.
//   - [CheckPIN] refuses the PINs people pick first: runs, repeats,
//     patterns, common PINs, years, the user's name.
//
// # Security considerations
//
// A vault blob (what [Vault.Seal] returns) is sealed with AES-256-GCM
// under HKDF-SHA256(Argon2id(PIN, salt) ‖ platform secret). Someone who
// copies the blob off the phone (a backup, a file-system dump) and wants
// the root secrets must guess the PIN, and each guess costs one Argon2id
// at the blob's parameters; a wrong guess is recognised from the key
// check value (or, equally, from the AEAD tag).
//
// PINs accepted by [CheckPIN] are 4 to 6 characters. People pick digits:
// 10^4 four-digit, 10^5 five-digit and 10^6 six-digit PINs, 1,110,000 in
// all (the policy removes 2,674 of them, the ones tried first). Over the 94
// printable ASCII characters there are 94^4 ≈ 7.8·10^7 to
// 94^6 ≈ 6.9·10^11, but few users choose so.
//
// Without a KeyWrapper, at the default parameters (t=3, 64 MiB, p=4), one
// guess takes about 0.1 s of a 2-core x86-64 server
// (BenchmarkOpenWrongPIN in vault_bench_test.go: 104 ms and 64 MiB
// a guess); a phone takes 0.1 to 0.5 s. That one machine tries every
// four-digit PIN in 10^4 × 0.1 s ≈ 17 minutes, every five-digit PIN in
// ≈ 3 hours and every six-digit PIN in ≈ 28 hours; half that on average.
// An attacker is bound by memory and its bandwidth, not by the PIN: a
// 64-core server with 256 GiB runs some 30 times as fast (every
// six-digit PIN in about an hour), a rack of them or of GPUs faster
// still. A PIN of 6 random characters over all 94 would take about 70
// years at 300 guesses a second, but people do not choose those.
// Argon2id buys time, not safety: without a KeyWrapper a stolen blob of
// a PIN-protected vault must be considered exposed.
//
// With a KeyWrapper, the key also depends on a 256-bit secret that only
// the phone's secure hardware can unwrap, with a key that never leaves
// it. A copied blob is then useless off the phone: guessing the platform
// secret is 2^256 work, so the attacker needs the phone itself. One
// limit, stated plainly: the platform secret is the same for every PIN
// guess, so an attacker who can run code on the phone and have the key
// unwrap it once can then guess PINs off the phone as above. Binding the
// hardware key to user authentication (Android's
// setUserAuthenticationRequired, iOS's .userPresence access control)
// puts the device's own lock, and its attempt limits, in front of that
// one unwrap. The app should in addition count [ErrWrongPIN] and wipe or
// lock the vault after a few failures: the library keeps no state
// between opens and cannot count for it.
//
// A backup ([Vault.Export]) is a clone of the phone's secrets, not a
// transfer: a restored vault answers as the very same devices. Moving to
// a new phone is a new activation that replaces the old device.
package vault
