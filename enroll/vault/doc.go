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
// With biometric unlock: [Vault.EnableBiometricUnlock] with the PIN and a
// platform key whose Unwrap needs Face ID or a fingerprint; then
// [OpenBiometric] at a cold start and [OpenCredential] in a notification
// extension answering a push, with [Open] and the PIN as the fallback
// (the platform drops the key whenever biometrics change: open with the
// PIN and enable a new key). [HasBiometricUnlock] tells an app whether
// to offer Face ID at all.
//
// # What it guarantees
//
//   - A blob's contents are sealed with AES-256-GCM under a random
//     256-bit vault key, which the blob holds wrapped under
//     HKDF-SHA256(Argon2id(PIN, salt) ‖ platform secret) and, with
//     biometric unlock, by the biometric key; every header field is
//     authenticated, and a blob whose wraps are stripped, swapped, added
//     or removed opens by neither path. The format (version 2; version
//     1 blobs still open) and the reasons for it are in blob.go.
//   - Opening with the biometric key runs no Argon2id: a few KiB of
//     heap, which an iOS notification extension can spare, where the
//     PIN's Argon2id takes 64 MiB; it never holds anything derived
//     from the PIN.
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
// A vault blob (what [Vault.Seal] returns) holds its vault key wrapped
// with AES-256-GCM under HKDF-SHA256(Argon2id(PIN, salt) ‖ platform
// secret). Someone who copies the blob off the phone (a backup, a
// file-system dump) and wants the root secrets must guess the PIN, and
// each guess costs one Argon2id at the blob's parameters; a wrong guess
// is recognised from the PIN wrap's AEAD tag (in format version 1, from
// the key check value or, equally, the AEAD tag).
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
// # Threat model
//
// Three modes: PIN only (no KeyWrapper); PIN and KeyWrapper (the PIN
// wrap bound to a hardware key that needs no user presence); and
// biometric unlock added to either (a second wrap of the vault key by a
// hardware key that unwraps only after a biometric match). Three
// attackers: one with a copy of the blob (a backup, a file-system dump,
// a lost SD card), one holding the phone unlocked, and one with root on
// the phone (malware, a jailbreak, a forensic tool).
//
// With the blob only:
//
//   - PIN only: an offline guessing attack, one Argon2id a guess
//     (above): every credential, in hours for six digits. Exposed.
//   - PIN and KeyWrapper: nothing. The key also needs the platform
//     secret, which only the phone's hardware unwraps (2^256 to guess).
//   - Biometric unlock adds no way in off the phone: the biometric wrap
//     opens only in the phone's hardware, and the vault key is 256
//     random bits. The blob is exactly as strong as its PIN wrap: with
//     biometric unlock, use a KeyWrapper too, or a copied blob is as
//     exposed as in PIN-only mode.
//   - In every mode, someone who can write where the app keeps the blob
//     can put another blob in its place; with a biometric key whose Wrap
//     uses a public key (as on iOS and in the Android shape described at
//     [Vault.EnableBiometricUnlock]) they can even make one that opens
//     by Face ID. It holds only credentials they made, so it gives them
//     nothing of the user's accounts; keep the blob in the app's
//     sandbox, where only the app writes.
//
// With the phone, unlocked, in someone else's hand (no root):
//
//   - PIN only, and PIN and KeyWrapper: they need the app's PIN, and the
//     app's attempt limit is all that stands in front of guessing it
//     (count [ErrWrongPIN]; the library keeps no state between opens).
//     A vault the app holds open is theirs to use: zero it
//     ([Vault.Zero]) when the app leaves the foreground.
//   - Biometric unlock: they need the user's face or finger; the
//     hardware counts failures and locks the sensor. Create the key so
//     that the device passcode cannot stand in for biometrics
//     (.biometryCurrentSet rather than .userPresence on iOS;
//     BIOMETRIC_STRONG without DEVICE_CREDENTIAL on Android): otherwise
//     whoever knows the phone's passcode, often seen over a shoulder,
//     opens the vault. A passcode holder who enrols their own finger
//     invalidates the key (it is created to be), and is back to the PIN.
//   - A push on the lock screen shows its context (action, IP address,
//     place, browser) to whoever holds the phone; answering it goes
//     through [OpenCredential] and so through the biometric prompt, the
//     same gate as in the app.
//
// With root on the phone:
//
//   - In every mode, whatever the app's process holds while a vault is
//     open (every credential; after [OpenCredential], one) can be read,
//     and the PIN can be read as it is typed. Root on the phone is the
//     end of the vault's protection from the next time the user opens
//     it; the hardware keys only keep it on the phone (they never leave
//     it) and keep it from opening while the user does not.
//   - PIN only: root copies the blob and guesses as with the blob above.
//   - PIN and KeyWrapper: root can have the hardware key unwrap the
//     platform secret (a key that needs no user presence unwraps for
//     any code running as the app), and then guess the PIN off the phone
//     as in PIN-only mode. A KeyWrapper key bound to user
//     authentication puts the device lock in front of that unwrap.
//   - Biometric unlock: root cannot make the hardware unwrap the
//     biometric wrap without a biometric match; it waits for the user to
//     unlock, and reads the vault key from the app's memory then. A vault
//     opened with the biometric key holds nothing derived from the PIN,
//     so that reading it teaches nothing about the PIN, which is often
//     the user's bank-card PIN too; a vault opened with the PIN holds
//     its Argon2id output, which lets its reader guess the PIN at one
//     Argon2id a guess.
//
// Biometric unlock adds a way in without weakening the PIN wrap: the
// same Argon2id, the same platform secret, nothing derived from the PIN
// stored beside the biometric wrap. Turning it on takes the PIN
// ([Vault.EnableBiometricUnlock]); turning it off does not, and leaves
// older blobs opening with the old key until the app deletes that key
// from the platform's key store. A PIN change draws a new vault key, so
// that an old blob and the old PIN, should both leak, open nothing sealed
// after it.
//
// A backup ([Vault.Export]) is a clone of the phone's secrets, not a
// transfer: a restored vault answers as the very same devices. Moving to
// a new phone is a new activation that replaces the old device.
package vault
