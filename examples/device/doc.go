// Device is a keyline phone as a command-line program, built on the
// phone core that Kotlin and Swift apps bind (mobile/keylinecore): the
// first app of the core. It gives the core its platform services (the
// vault and profile records as files, the system clock, no hardware key,
// and a presence gate that the PIN and the answers typed at its prompts
// stand for) and calls the core for every command: the vault, the
// accounts, and the login service's device API (PROTOCOL.md §10). Run it
// against examples/portal:
//
//	go -C examples/portal run . -insecure-demo          # in one terminal
//	go -C examples/device run . activate ABCD-EFGH-...  # in another
//
// (from the repository's root: the device is a module of its own, so that
// golang.org/x/term stays out of the library's module graph).
//
// # Commands
//
//	activate [-name NAME] <offer URI | session ID>
//	    Activate an account. The argument is the keyline://activate URI of
//	    the portal's QR code, or the session ID shown under "Can't scan?"
//	    (in any case, with or without spaces and dashes); a session ID is
//	    checked before anything is sent, and the offer fetched for it must
//	    carry a server key that hashes to it, so a substituted key is
//	    refused. When the vault does not exist yet, activate makes it and
//	    asks for a new PIN twice (enroll's PIN policy: 4 to 6 characters,
//	    no runs, repeats, common PINs or the user's name); otherwise it asks
//	    for the vault's PIN and adds the account. It prints the 6-digit
//	    pairing code to type into the portal page that started the
//	    activation; the device answers nothing until then. -name sets the
//	    device name the portal shows (default: the vault's, or "CLI on
//	    HOST").
//	add-user [-name NAME] <offer URI | session ID>
//	    Activate, but only into a vault that exists: a mistyped -vault then
//	    fails instead of starting a second vault.
//	users
//	    List the vault's accounts: account name, issuer, user ID and device
//	    ID. No secret is ever printed.
//	status [-user NAME] [-issuer NAME]
//	    Ask the portal, with a request each account's device signs, whether
//	    the device is still active. One removed at the portal (revoked, or
//	    replaced by a migration; the portal says so for 30 days by default)
//	    is reported with the date and deleted from the vault: it can never
//	    be used again. One the portal does not know at all (removed long
//	    ago, its user erased, not paired yet, or another -portal) is only
//	    reported: remove-user deletes it.
//	respond [-user NAME] [-issuer NAME] <challenge>
//	    Answer the challenge the login page shows; prints the 8-digit
//	    response in two groups ("1234 5678") to a terminal, and the 8
//	    digits alone to a pipe or a file, for a script to pass on.
//	watch [-once] [-interval D] [-user NAME] [-issuer NAME]
//	    Ask the portal for push requests of every account (or those named)
//	    every D (default 2s). For each, show what is to be approved, from
//	    which IP address, place and browser, and the transaction if there
//	    is one; then type the 2-digit number the login page shows to
//	    approve, or d to deny. -once handles one request and exits, with
//	    status 0 when the portal took the answer. Without -once, a failed
//	    answer is reported and watching goes on until Ctrl-C.
//	login-qr [-number NN | -deny] <QR code text | ->
//	    Log in with a QR code: answer the login that the QR code of the
//	    portal's "Log in with QR code" page names, given the code's text
//	    (keyline://login?v=1&iss=...&user=...&id=..., as a QR decoder
//	    prints it), or - to read it from the first line of standard
//	    input. The code names the account (its issuer and user); one this
//	    vault does not hold is refused, and text that is no login QR code
//	    is refused before the PIN is asked for. The login request is
//	    fetched from -portal (never from an address in the code) and
//	    shown as watch shows a push; then type the 2-digit number the
//	    page shows beside the code to approve, or d to deny. -number NN
//	    approves with NN and -deny denies, without asking (for scripts).
//	    The page moves on by itself once the portal took the answer.
//	sign [-user NAME] [-issuer NAME] [QR payload]
//	    Without a payload: show the oldest transaction waiting as a push
//	    and answer it as watch does (approving signs it). With the
//	    keyline://tx payload of a transaction QR code: show the
//	    transaction, ask for y (any other answer signs nothing), and print
//	    the response to type into the page that showed the code.
//	migrate [-user NAME] [-issuer NAME] [-interval D]
//	    On the old phone: ask the portal for an offer that replaces this
//	    device, show it as a QR code, URI and session ID for the new phone
//	    (which runs activate), wait for the new phone to activate, then ask
//	    for the pairing code it shows. The portal pairs the new device and
//	    revokes this one in one step; the account leaves this vault.
//	remove-user [-issuer NAME] <account>
//	    Delete an account from the vault. Its device stays registered at
//	    the portal: revoke it there.
//	change-pin
//	    Change the vault's PIN (the current one, then the new one twice).
//	export <file>
//	    Write a backup of the vault to a new file (mode 0600) and print its
//	    passphrase, once. A restored backup is a clone of these devices,
//	    not a move: to move to a new phone, use migrate.
//	import <file>
//	    Restore a backup, asking for its passphrase: merged into the vault
//	    if there is one (an account it holds already is refused), or as a
//	    new vault under a new PIN.
//	qr <offer URI>
//	    Draw a keyline://activate URI as a QR code in the terminal, for a
//	    phone to scan.
//
// A command that needs an account asks which one when the vault holds
// several and -user does not say; -user matches the account name, else
// the user ID, exactly and then ignoring case, and -issuer narrows the
// match.
//
// # Flags of every command
//
// They may come before or after the command's name.
//
//	-vault FILE   the vault (default: keyline/vault in the user's
//	              configuration directory, os.UserConfigDir)
//	-portal URL   the login service (default http://127.0.0.1:8080); its
//	              device API is at URL/device. The server address is only
//	              ever this flag, never taken from a QR code. Use https
//	              beyond a local demo: the device API is authenticated,
//	              not encrypted.
//
// # Input and output
//
// Results go to standard output; prompts go to standard error. When
// standard input is a terminal, PINs and the backup passphrase are read
// without echo (golang.org/x/term); otherwise every prompt reads one line
// of standard input, so that a script or a test can drive each command.
// A command that fails prints one line on standard error, "device
// <command>: <what happened and what to do>", and exits with status 1; a
// command line that cannot run exits with status 2. No message carries a
// PIN, a passphrase, a key or a session ID.
//
// # The vault file and its profile
//
// The file is the core's vault record, exactly the blob vault.Vault.Seal
// returns: the accounts sealed under Argon2id of the PIN at the
// library's default parameters. Beside it, FILE.profile is the core's
// profile record (keylinecore.ProfileRecord): JSON with no secret, the
// install ID, the push token, each account's server and pairing state,
// and the portal's clock offset. Both are replaced atomically (a
// temporary file in the same directory, synced, renamed over it) with
// mode 0600, and a command refuses to save if another one rewrote the
// file while it ran. This program has no platform key (the core's
// KeyStore), so a copied vault file is exposed to offline PIN guessing:
// keep it private. A wrong PIN ends the command; there is no retry
// counter, since whoever copies the file can guess offline anyway.
//
// A vault file of a version of this program before the core (no
// profile beside it) opens as it is: the first command gives its
// accounts -portal's device API as their server and writes the profile.
// Every command puts the accounts on -portal's device API, so -portal
// decides the server as it always has.
//
// The device describes itself to the portal with the platform "cli", the
// integrity verdict "unknown", and the core's install ID, kept in the
// profile, so every account of one vault shares it (the portal refuses a
// second device of the same user from the same install; a vault made
// before the core carries another install ID in its older accounts).
// Having no OS push service, it registers the push token
// "keyline-device-cli:poll" and asks the portal for pending requests
// (watch, sign), which is how the portal delivers pushes anyway. A push
// whose transaction does not read is not shown (the core leaves it out);
// the portal lets it expire.
package main
