// Package keylinecore is the phone side of keyline for a Kotlin or Swift
// app, in one package that gomobile's gobind binds whole for Java and
// Objective-C: every exported function, method, field and constant is
// of a type gobind supports (string, []byte, bool, int, int64, error,
// pointers to the package's structs, and interfaces the app implements),
// and a test generates the bindings and fails on any symbol the
// generator skips (bind_test.go; scripts/test installs gobind and a JDK
// and compiles the Java).
//
// For most apps: NewPhone when the app starts, with the platform's
// services (SecureStorage, KeyStore, BiometricGate, Clock); CreateVault
// on the first launch, then Phone.EnableBiometricUnlock with a biometric
// key if the user wants Face ID or a fingerprint; at each start
// Phone.UnlockWithBiometrics where Phone.HasBiometricUnlock, else (or
// when it fails) Unlock with the PIN; then, per account:
//
//  1. activate: ParseOffer of a scanned QR code, or Phone.FetchOffer with
//     the session ID the user typed; show the offer and, if the user
//     agrees, Phone.Activate; show Activation.PairingCode and poll
//     Phone.CheckPaired every 3 seconds until it is true;
//  2. log in by code: Phone.Respond to the challenge question;
//  3. push: on a notification, Phone.FetchPushForServer (or
//     Phone.FetchPushes when polling), show the Prompt, and
//     Phone.AnswerPush with the number the user typed; a login page's
//     QR code ("Log in with QR code", when no notification came):
//     Phone.ScanLogin of the scanned text, then the same Prompt and
//     Phone.AnswerPush;
//  4. a transaction QR code: ParseTransactionQR, show its lines, and
//     Phone.SignTransactionQR;
//  5. a new phone: Phone.StartMigration on the old one, Activate on the
//     new one, Phone.ConfirmMigration with the new one's pairing code;
//  6. the OS push token rotated: Phone.SetPushToken, once for every
//     account;
//  7. a removed device: any call answers CodeDeviceRemoved (or
//     Phone.AccountStatus says Removed): tell the user and
//     Phone.RemoveAccount;
//  8. Phone.ChangePIN, Phone.ExportBackup, Phone.ImportBackup.
//
// An iOS notification extension (about 24 MiB) approves a push the same
// way: NewPhone on the app group's storage, Phone.UnlockWithBiometrics
// (no Argon2id, whose 64 MiB would not fit), Phone.FetchPushForServer,
// Phone.AnswerPush. BenchmarkApprovePush/cold measures that whole path
// at about 100 KiB allocated, the in-process server's share included.
//
// # Across the bridge
//
//   - Errors are exceptions (Java) and NSError (Objective-C) whose text
//     is "keylinecore: <code>: <detail>"; ErrorCode returns the code (the
//     Code constants) and RetryAfterSeconds how long to wait. Branch on
//     the code; show your own words.
//   - Lists are getter objects: AccountList and PromptList, with Len and
//     At(i). Display lines of a transaction are one string, the lines
//     joined by "\n" (Prompt.TransactionLines, Transaction.Lines); no
//     line holds a "\n". Backup.Servers is JSON.
//   - Calls to a server take a *Cancel (context.Context does not cross
//     the bridge): NewCancel, pass it, Cancel from another thread. nil
//     means only the Config's timeout ends the call. Every call that
//     talks to a server blocks: run it off the UI thread.
//   - An account is named by its ID, the device ID the server gave it.
//
// # What it guarantees
//
//   - Everything the protocol asks a phone to check is checked by the
//     packages it calls (enroll, enroll/deviceclient, enroll/vault,
//     enroll/txn): the offer against a typed session ID, the server's
//     confirmation before a credential is kept, every prompt's MAC,
//     addressee and expiry before it is shown, a transaction's bytes
//     before its lines are shown.
//   - Credentials exist at rest only inside the vault blob
//     (VaultRecord), sealed under the PIN's Argon2id and the KeyStore's
//     hardware key, and in memory only while the vault is unlocked
//     (Phone.Lock wipes them); copies taken for one call are wiped after
//     it. No error, and nothing the core returns, carries a key, PIN,
//     passphrase (but Backup.Passphrase, which is for the user), pairing
//     code (but from PairingCode and Activation, which are for the user)
//     or session ID.
//   - Times are the server's (PROTOCOL.md §11, "Clock offset"): the core
//     keeps an offset per server, learned from the Date of the device
//     API's answers, stored in the profile (ProfileRecord), and applies
//     it to signed requests, push answers, OCRA responses and the
//     expiries it checks. It is bounded by a day
//     (deviceclient.MaxClockOffset): a phone further off gets CodeClock
//     and must set its clock. A request refused for its time is retried
//     once, signed afresh.
//   - One install holds accounts of several servers, each account on the
//     server it was activated with (the app's configuration, never a QR
//     code's); the push token goes to all of them in one call.
//
// # Security considerations
//
// The BiometricGate stands before every approval, transaction signature
// and backup export; the vault opens with the PIN (and the KeyStore) or
// with the biometric key. The threat model of each mode is package
// vault's (its documentation: with the blob alone, with the unlocked
// phone, with root on it); what the core adds: with the vault unlocked,
// every approval still needs the gate; with root on the phone while the
// vault is unlocked, the credentials in memory, which no app-level
// design protects. The core keeps no count of wrong PINs: the app must
// count CodeWrongPIN and lock or wipe after a few.
//
// The profile record is not secret and not authenticated: someone who
// can rewrite the app's private storage can point an account at another
// server URL, which then receives signed requests it cannot forge and
// prompts it cannot make (every prompt is MAC'd under the device's key),
// and can set a clock offset within the day's bound, which shifts the
// time the phone answers at for that server only.
package keylinecore
