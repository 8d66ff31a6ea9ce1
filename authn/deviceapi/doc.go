// Package deviceapi is the device API of a keyline server: the HTTP
// endpoints a phone calls to fetch an activation offer by its typed
// session ID, complete an activation, list and answer its push prompts
// (transactions included), update its push token, move to a new
// phone, and learn whether its device was removed. PROTOCOL.md §10 specifies it for apps written in other
// languages; package enroll/deviceclient is its Go client.
//
// For most uses: build an [authn.Service], then mount
//
//	mux.Handle("/device/", http.StripPrefix("/device", deviceapi.NewHandler(svc, deviceapi.Options{})))
//
// behind TLS. The handler holds no state beyond in-memory address limits:
// run as many instances as the Service's store allows.
//
// # Endpoints
//
// Paths are below the mount point. Bodies are JSON (Content-Type
// application/json), byte strings in standard base64 as encoding/json
// writes them.
//
//	POST /v1/offer              {"sid"}                        → {"offer": offer URI}
//	POST /v1/activate           enroll.Request (PROTOCOL §2)   → {"device_id", "server_confirm", "paired"}
//	GET  /v1/pushes             device                         → {"prompts": [sealed prompt, ...]}
//	GET  /v1/push?id=…          device                         → {"prompt": sealed prompt}
//	POST /v1/push/answer        device, enroll.PushAnswer      → {"result": "approved" | "denied"}
//	POST /v1/push-token         device, {"push_token"}         → 204
//	POST /v1/migration          device, {}                     → {"offer": offer URI}
//	POST /v1/migration/status   device, {"sid"}                → {"status": waiting | completed | active | expired | cancelled | discarded, "tries_left"}
//	POST /v1/migration/confirm  device, {"sid", "pairing_code"} → {"device_id": the new device}
//	GET  /v1/device/status      device (or a removed device)   → {"status": "active"} | {"status": "removed", "removed_at"}
//
// "device" marks the endpoints that need a device's Authorization header
// (enroll.APIRequest: a MAC under the device's api key over the method,
// path, raw query, body hash, user, device ID, time and nonce), checked
// by [authn.Service.AuthenticateDevice]; each such endpoint is then one
// call of the [authn.AuthenticatedDevice] it returns (PendingPushes,
// PushPrompt, AnswerPush, SetPushToken, StartMigration, MigrationStatus,
// ConfirmMigration), which acts for that device only. The status call is
// checked by [authn.Service.DeviceStatus] instead, which also answers a
// device removed (revoked or replaced) within authn.Config.RemovedTTL, if
// its request MAC verifies under that device's own key: "removed", with
// the removal time in Unix seconds, so that its phone deletes the
// account. To anyone else a removed device is 401 unauthorized, as an
// unknown one is. The other two are
// open: an offer is public (its session ID, 80 bits, is what
// names it), and an activation request carries its own proof.
//
// Session IDs travel in bodies, never in URLs, so that no access log
// keeps one. A transaction reaches the phone inside a push prompt (its
// canonical bytes are in the prompt, under the server's MAC): the phone
// lists its prompts, or fetches the one a notification named by request
// ID with GET /v1/push, shows the transaction, and its approval is the
// signature (enroll.Credential.AnswerPush). A transaction shown as a QR
// code needs no endpoint: the code carries the transaction and the nonce,
// and the user types the phone's response into the page that showed it
// (authn.Service.FinishTransaction). A push answer whose reply was lost is
// safe to post again: the very same answer gets the first one's outcome,
// and the server acts once; another answer to a request already answered
// is 409 answered.
//
// Migration: the old phone posts /v1/migration and shows the offer it
// gets (QR code or session ID); the new phone fetches or scans it and
// activates; it shows its pairing code, which the user types on the old
// phone, which posts it to /v1/migration/confirm. The old device is
// revoked in the same store step as the new one becomes active.
//
// # Errors
//
// Every refusal is an answer {"error": code, "message": text}: programs
// branch on the code; the message is for people and never carries a
// secret, MAC, code or session ID. One table, in this order (the first
// match wins):
//
//	status  code                    meaning
//	400     unsupported_version     the Keyline-Protocol header names a version the server does not speak
//	401     bad_authorization       Authorization header missing or malformed (enroll.ErrInvalidAPIRequest)
//	401     unauthorized            unknown device, revoked device, device not paired, or bad MAC (enroll.ErrDeviceAuth): one answer, byte for byte (a removed device's own status call is told)
//	401     clock_skew              request time more than 60 s from the server's clock (enroll.ErrAPIRequestTime)
//	401     replay                  nonce seen before (enroll.ErrAPIReplay)
//	403     address_not_allowed     the client's address is not in the user's allowlist (authn.ErrAddressNotAllowed; authn.Config.Allow)
//	429     rate_limited            device or address over its budget (authn.ErrRateLimited); Retry-After
//	423     locked                  the user is locked out (authn.ErrLocked); Retry-After
//	400     session_id_typo         the typed session ID has a typo (enroll.ErrSessionIDTypo)
//	404     unknown_session         no such activation, or not this device's migration (enroll.ErrUnknownSession)
//	410     expired                 activation or push request expired (enroll.ErrExpired)
//	409     answered                push request answered already by another answer (enroll.ErrPushAnswered)
//	409     already_used            activation completed by another request; push request already answered (enroll.ErrAlreadyUsed)
//	409     already_enrolled        this phone already holds a device of the user (enroll.ErrAlreadyEnrolled)
//	409     too_many_devices        the user has MaxDevicesPerUser devices (authn.ErrTooManyDevices)
//	422     offer_mismatch          the phone saw an altered offer (enroll.ErrOfferMismatch)
//	422     bad_confirmation        the activation confirmation does not verify (enroll.ErrBadConfirmation)
//	403     device_integrity        refused by the integrity policy (enroll.ErrDeviceIntegrity)
//	422     wrong_number            approved with the wrong number; the request is over (authn.ErrWrongNumber)
//	422     clock_off               the answer's time step is off the server's clock; the request stays pending (enroll.ErrPushClock); server_time
//	403     not_yours               the push request did not notify this device (enroll.ErrPromptNotForDevice)
//	422     invalid_push_answer     the answer was not made by a device the request notified (authn.ErrInvalidPushAnswer)
//	422     invalid_code            the transaction response is refused (authn.ErrInvalidCode)
//	410     pairing_discarded       the third wrong pairing code discarded the new device: start again (authn.ErrPairingDiscarded)
//	422     pairing_code            wrong pairing code; the third discards the new device (authn.ErrWrongPairingCode)
//	403     forbidden               a step-up proof is required (authn.ErrProofRequired)
//	404     not_found               no such endpoint, push request or device (authn.ErrNotFound)
//	405     method_not_allowed      wrong method for the endpoint; Allow
//	413     too_large               body over the limit
//	415     unsupported_media_type  a POST body that is not application/json
//	400     bad_request             body or query not well formed: not one JSON object, an unknown, repeated or missing field, trailing data, a field of the wrong type or size
//	503     unavailable             the store failed (authn.ErrStoreUnavailable); Retry-After
//	500     internal                anything else
//
// Only bad_authorization, session_id_typo, not_found and bad_request add
// what is wrong to the message. A clock_off answer also carries
// "server_time", the server's clock in Unix seconds, by which the phone
// corrects its clock offset before it answers again.
//
// # What it guarantees
//
//   - Every device request is authenticated before it touches anything
//     but the address limits: the time within 60 seconds of the
//     Service's clock, the device existing and active (a revoked device no
//     longer exists), the MAC compared in constant time, then the nonce
//     taken once across every instance (authn.Service.AuthenticateDevice).
//     An unknown device and a bad MAC cost the same work and get the same
//     answer.
//   - Each device has a request budget kept in the store (Options.Device),
//     so it holds across instances; a replay or a forgery spends none of it.
//   - Bodies are bounded (Options.MaxBody, MaxActivationBody; 413 beyond,
//     read through http.MaxBytesReader) and decoded strictly: one JSON
//     object, no unknown, repeated or differently cased field, no trailing
//     data. A refused request changes nothing.
//   - A device acts only on what is its own: its prompts, its push
//     requests, migrations it started.
//   - Answers are never cached (Cache-Control: no-store).
//
// # Security considerations
//
// The address limits live in each handler's memory: with N instances an
// address gets up to N times them, and a restart forgets them; they exist
// to keep one address from flooding the open endpoints and the MAC
// checks. Limits that must hold everywhere — per device, and everything
// per user (lockout, pairing tries, push budgets) — are the store's.
// Behind a reverse proxy, set Options.ClientIP, or every phone counts as
// the proxy, and Options.ClientAddr, or the Service's allowlist
// (authn.Config.Allow) checks the proxy's address.
//
// Whoever sees an offer's QR code or session ID can fetch the offer and
// complete the activation with a phone of their own; pairing is what
// stops them (see package authn). A migration is started by the old
// phone's authenticated request, which stands for a step-up proof: a
// stolen, unlocked phone can move its own device to another phone, as it
// could answer a push. Revoke a lost phone from the portal.
//
// The API is authenticated, not encrypted: serve it over TLS only. The
// request MAC covers the path below the mount point, not the host or the
// mount point: a device's key belongs to its Service alone, so a request
// taken elsewhere does not verify there.
package deviceapi
