// Package notify delivers keyline's push notifications through Apple's
// and Google's push services: [New] makes an [authn.MultiNotifier] that
// sends each device of a push request its notification, in parallel,
// through the [Sender] for the device's platform — package
// [github.com/keyline/keyline/notify/apns] (Apple Push Notification
// service, HTTP/2 with a provider token) or
// [github.com/keyline/keyline/notify/fcm] (Firebase Cloud Messaging HTTP
// v1 with an OAuth 2 access token) — and reports per device.
//
// It is a module of its own, so that the library's module does not
// depend on the JWT and OAuth 2 libraries these need.
//
//	ios, _ := apns.New(apns.Config{TeamID: "…", KeyID: "…", Key: key, Topic: "com.example.bank"})
//	android, _ := fcm.New(fcm.Config{Credentials: serviceAccountJSON})
//	n, _ := notify.New(notify.Config{Senders: map[string]notify.Sender{"ios": ios, "android": android}})
//	svc, _ := authn.New(authn.Config{ /* … */ Notifier: n})
//	n.Attach(svc) // so that a token the push service calls gone is removed
//
// # What a notification carries
//
// Nothing but the request ID ([Message]): no user, place, amount or
// prompt. The phone fetches the sealed prompt over the device API (GET
// /v1/push?id=) and opens it; the push service never sees it. The exact
// payloads are in PROTOCOL.md, §11 "Push payloads and polling".
//
// # Retries, expiry and removed tokens
//
// A [Sender] makes one attempt and classifies its failure: a token the
// service no longer knows ([ErrTokenGone]), a failure worth retrying (a
// [*RetryError]: throttled, a server error, a connection lost), or
// anything else, which is final. The Notifier retries with exponential
// backoff and full jitter (honouring a Retry-After), within the context
// the Service gives it (Config.NotifyTimeout) and never at or after the
// request's expiry: no attempt, first or later, starts once the request
// has expired (a delivery without an expiry is never sent), and each
// attempt is cut off when it does. A retry resends
// the same notification with the same collapse key, so a phone that got
// both shows one. A token reported gone is removed from its device
// through [TokenRemover] ([authn.Service.RemovePushToken], which audits
// it) and is not retried.
//
// Retractions (the Service telling the other devices that a request is
// over) are not sent: neither service can withdraw a notification from
// the phone reliably, and the phone that fetches a request that is over
// is answered 409 or 410 and drops it.
//
// # Security considerations
//
// The push services learn when a user logs in, and to which phones:
// nothing more. Neither the push token nor the credentials appear in an
// error, report or log line of this package; errors carry the service's
// fixed reason codes only.
package notify
