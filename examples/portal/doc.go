// Portal is a login web service built on keyline: a password, then a
// second factor from a keyline phone — a push approval with the number
// typed on the phone, or the phone's answer to a 6-digit challenge —
// or from an authenticator app (TOTP) or a recovery code; a security page
// that says when each phone was last used (lastused.go) and lets the user
// activate, rename, replace and revoke phones, turn push on and off,
// enroll TOTP, make recovery codes and change the password (password.go),
// each change behind a fresh second-factor confirmation (step-up); and a
// withdrawal page whose transaction is signed on the phone and executed
// from what was signed.
//
//	go -C examples/portal run . -insecure-demo
//
// from the repository's root, then open http://127.0.0.1:8080 and sign in
// as alice (password "alice-demo-password") or bob ("bob-demo-password").
// The portal is a module of its own, so that Prometheus and chromedp stay
// out of the library's module graph; go -C runs the go command in its
// directory, so the default data directory is examples/portal/portal-data.
//
// # What it shows
//
//   - The order of factors: nothing about a user's second factor is shown
//     before the password; an unknown user and a wrong password read
//     the same and cost the same Argon2id work.
//   - Push with fallback: the page shows the number to type on the phone
//     and polls its status; "Use challenge/response instead" is offered at
//     once, and taken by itself when the push is denied, expires or cannot
//     be delivered (the push is then cancelled). A push or QR code whose
//     page is left (the tab closed, another address typed) is withdrawn
//     by the page's beacon, its unit of the push budget given back
//     (leave.go).
//   - Log in with a QR code, as IB Key offers when no notification
//     arrives (qrlogin.go): the page shows the code and the number to
//     type on the phone, keeps the login's handle in the server-side
//     session only, and moves on by itself once the phone approves.
//   - Challenge/response with every outcome the library distinguishes:
//     wrong, malformed, expired, too many tries, locked (with the time it
//     lifts), and a drifted phone clock ("once more, with the new
//     challenge").
//   - A lockout an attacker cannot aim at the owner: after a second
//     factor the browser keeps the library's known-client token in a
//     cookie (HttpOnly, SameSite=Lax, Secure unless -insecure-demo over
//     plain HTTP) and presents it with every login call, so wrong codes
//     typed elsewhere lock the unknown browsers, not this one.
//   - Activation with pairing: a QR code served from a route bound to the
//     browser session, the session ID behind "Can't scan?", the offer's
//     expiry, and the pairing code the phone shows typed into the page
//     that started it.
//   - Signed transactions: the withdrawal executed is the one in the
//     Result of FinishPush or FinishTransaction, never the form's values.
//   - Forms as people use them: every form's answer is a redirect to a
//     page fetched with GET (reload and Back send nothing again), buttons
//     are disabled once a form is sent, a form whose session expired or
//     was renewed under it (a double-click) does nothing and is shown
//     again with a note and its fields, a user who signs in again returns
//     to it, as one who follows a link to a page while signed out does
//     (the change-password link after a denial), and a change whose
//     step-up had lapsed is made once the user confirms it's them (a
//     password change excepted: it is typed again, never kept).
//   - Recovery codes shown once: kept in the session from the post that
//     made them until the user says they saved them (a reload shows the
//     same set), with copy, print and download, offered right after the
//     first factor is added.
//   - The web hygiene a login service needs: server-side sessions whose ID
//     changes at every privilege change, CSRF tokens, strict cookies and
//     headers (CSP without inline script), per-IP rate limits, an audit log
//     without secrets and Prometheus metrics (/metrics: keyline's, from
//     the collector of package observe/metrics, and the portal's own,
//     named portal_*).
//
// # Flags
//
//	-addr ADDR           listen address (default 127.0.0.1:8080)
//	-data DIR            data directory: the SQLite database (keyline.db),
//	                     the passwords users changed (passwords, see
//	                     password.go) and, with -insecure-demo, the demo
//	                     keys (default ./portal-data)
//	-postgres DSN        keep the store in PostgreSQL instead of SQLite, so
//	                     that several portal processes share it
//	-redis ADDR          with -postgres: keep the hot state (challenges,
//	                     attempts, lockout counters, pushes) in Redis at
//	                     host:port, the durable records in PostgreSQL
//	                     (authn/redisstore); the server must run with
//	                     maxmemory-policy noeviction
//	-keys FILE           the sealing keys (see below); mode 0600 (or 0400)
//	                     required, and never inside the data directory
//	-keys-env VAR        the sealing keys from this environment variable
//	                     instead of -keys: the same entries, separated by ';'
//	-insecure-demo       without -keys: generate throwaway keys and keep them
//	                     in the data directory, beside what they protect;
//	                     keys marked insecure-demo are refused without it
//	-users FILE          more users (see below)
//	-demo-users          the demo users alice and bob (default true)
//	-issuer NAME         the service name phones show (default "Keyline Portal")
//	-tls-cert FILE       serve HTTPS with this certificate chain (PEM) ...
//	-tls-key FILE        ... and this private key; cookies are then Secure
//	-trusted-proxy CIDR  trust X-Forwarded-For from these addresses (comma
//	                     separated; the flag may be repeated)
//	-allow CIDR          second factors, transactions and device API
//	                     requests only from these networks (comma
//	                     separated; repeatable; default any): keyline's
//	                     allowlist (authn.Config.Allow), which every login
//	                     call is given the client's address for (through
//	                     -trusted-proxy); a refusal is a 403 page and an
//	                     "address_refused" audit event
//	-challenges-per-minute N
//	                     how many challenges one user may be issued in a
//	                     minute: keyline's per-user budget
//	                     (authn.Config.ChallengeBudget.PerMinute; default
//	                     10, at most 100). Raise it only for a load run
//	                     (examples/portal/loadtest), where a few synthetic
//	                     users answer many challenges each
//	-otlp-endpoint URL   export OpenTelemetry traces of keyline's calls and
//	                     store calls (package observe/tracing) to this
//	                     OTLP/HTTP collector (http://127.0.0.1:4318 gets
//	                     the path /v1/traces); users appear as keyed hashes
//	                     under a purpose key of the sealing keys
//	-hash-password       read a password on standard input, print its
//	                     Argon2id hash for a users file, and exit
//	-apns-key FILE       deliver pushes through APNs with this key (.p8);
//	                     with -apns-key-id ID, -apns-team TEAM and
//	                     -apns-topic BUNDLE (the app's bundle ID)
//	-apns-endpoint URL   the APNs server (default the production one;
//	                     https://api.sandbox.push.apple.com for
//	                     development builds)
//	-apns-background     silent background pushes instead of alerts
//	-fcm-credentials FILE
//	                     deliver pushes through FCM with this
//	                     service-account key (JSON)
//	-fcm-endpoint URL    the FCM server (default https://fcm.googleapis.com)
//	-push-ca FILE        trust these roots (PEM) for the push services
//	                     instead of the system's: for test servers
//
// The portal stops gracefully on SIGINT or SIGTERM: it stops accepting
// connections, lets requests in flight finish (up to 10 seconds), and
// closes the store.
//
// # The keys file
//
// One master key per line, "ID BASE64", where ID is 1 to 64 characters of
// A-Z a-z 0-9 . _ - and BASE64 the 32 random bytes of the key in standard
// base64; blank lines and lines starting with # are ignored. The first key
// is the primary: it seals new secrets; the others only open what they
// sealed (see authn.Keyring). Make one with
//
//	printf 'k1 %s\n' "$(head -c 32 /dev/urandom | base64)" > keys && chmod 600 keys
//
// The file must not be readable by group or others, and must not sit in
// the data directory: a copy of the data directory (a backup) must not
// carry the keys that open it. Portals sharing a store share the file.
// The portal reads it with authn.LoadKeyringFile. The keys -insecure-demo
// generates carry a line "insecure-demo", which makes the loader refuse
// them without -insecure-demo, even copied out of the data directory.
//
// # The users file
//
// One user per line, fields separated by colons:
//
//	username:argon2id-hash[:display name[:account]]
//
// The username is 1 to 64 characters of a-z 0-9 . _ -; the hash is the
// PHC string that -hash-password prints
// ($argon2id$v=19$m=65536,t=3,p=4$salt$hash); the display name (default:
// the username) is what the pages greet; the account (default
// DEMO-USERNAME) is the account a withdrawal debits; neither may contain
// a colon. Blank lines and lines starting with # are ignored. A username
// given twice, or one of the demo users while they are on, is refused.
// Make a hash with
//
//	echo 'the password' | go -C examples/portal run . -hash-password
//
// # Sessions and several processes
//
// Browser sessions live in the memory of the process that created them.
// Portals sharing a PostgreSQL store share devices, challenges, pushes and
// lockouts, so a user can log in at any of them, but a browser must stay
// with one (sticky sessions at the load balancer) until a shared session
// store is added.
//
// # Push delivery
//
// Without push flags the portal delivers no OS notification: a push
// request waits in the store until the phone fetches it through the
// device API (authn/deviceapi, mounted at /device/ on the same mux).
// With -apns-key (and -apns-key-id, -apns-team, -apns-topic) or
// -fcm-credentials it wakes the phone through APNs or FCM (module
// github.com/keyline/keyline/notify; push.go): the notification carries
// the request ID alone, the app fetches the prompt it names (GET
// /v1/push?id=), and a token the push service reports gone is removed.
// The app registers its token with POST /v1/push-token. -apns-endpoint,
// -fcm-endpoint and -push-ca let local test servers stand in.
package main
