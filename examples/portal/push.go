package main

import (
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/keyline/keyline/notify"
	"github.com/keyline/keyline/notify/apns"
	"github.com/keyline/keyline/notify/fcm"
)

// pushConfig is the flags of push delivery: APNs, FCM, or both. Without
// any, the portal wakes no phone (pollNotifier) and phones poll.
type pushConfig struct {
	APNSKey        string // the .p8 key file
	APNSKeyID      string
	APNSTeam       string
	APNSTopic      string // the app's bundle ID
	APNSEndpoint   string // default apns.Production
	APNSBackground bool
	FCMCredentials string // the service-account key file
	FCMEndpoint    string // default fcm.Endpoint
	CAFile         string // PEM roots to trust instead of the system's: for test servers only
}

func (c *pushConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.APNSKey, "apns-key", "", "deliver pushes to iOS through APNs with this key `file` (.p8); needs -apns-key-id, -apns-team, -apns-topic")
	fs.StringVar(&c.APNSKeyID, "apns-key-id", "", "the APNs key's `ID`")
	fs.StringVar(&c.APNSTeam, "apns-team", "", "the Apple developer team `ID`")
	fs.StringVar(&c.APNSTopic, "apns-topic", "", "the iOS app's bundle `ID`")
	fs.StringVar(&c.APNSEndpoint, "apns-endpoint", apns.Production, "the APNs `URL` ("+apns.Development+" for development builds)")
	fs.BoolVar(&c.APNSBackground, "apns-background", false, "send silent background pushes instead of alerts")
	fs.StringVar(&c.FCMCredentials, "fcm-credentials", "", "deliver pushes to Android through FCM with this service-account key `file` (JSON)")
	fs.StringVar(&c.FCMEndpoint, "fcm-endpoint", fcm.Endpoint, "the FCM `URL`")
	fs.StringVar(&c.CAFile, "push-ca", "", "trust only these root certificates (PEM `file`) for APNs, FCM and its token endpoint: for test servers")
}

// check reports flags that do not go together.
func (c *pushConfig) check() error {
	if c.APNSKey == "" && (c.APNSKeyID != "" || c.APNSTeam != "" || c.APNSTopic != "" || c.APNSBackground) {
		return errors.New("-apns-key-id, -apns-team, -apns-topic and -apns-background go with -apns-key")
	}
	if c.APNSKey != "" && (c.APNSKeyID == "" || c.APNSTeam == "" || c.APNSTopic == "") {
		return errors.New("-apns-key needs -apns-key-id, -apns-team and -apns-topic")
	}
	if c.CAFile != "" && c.APNSKey == "" && c.FCMCredentials == "" {
		return errors.New("-push-ca goes with -apns-key or -fcm-credentials")
	}
	return nil
}

// notifier makes the Notifier the flags ask for, nil if none. With one
// service every device is sent through it; with both, devices whose
// phone says "ios" go through APNs and "android" through FCM. Each
// delivery is logged (outcome, attempts; never the token).
func (c *pushConfig) notifier(clock func() time.Time, log *slog.Logger) (*notify.Notifier, error) {
	if c.APNSKey == "" && c.FCMCredentials == "" {
		return nil, nil
	}
	var roots *x509.CertPool
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("-push-ca: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-push-ca %s: no PEM certificate", c.CAFile)
		}
	}
	senders := map[string]notify.Sender{}
	if c.APNSKey != "" {
		pem, err := os.ReadFile(c.APNSKey)
		if err != nil {
			return nil, fmt.Errorf("-apns-key: %w", err)
		}
		key, err := apns.ParseKey(pem)
		if err != nil {
			return nil, fmt.Errorf("-apns-key %s: %w", c.APNSKey, err)
		}
		pt := apns.Alert
		if c.APNSBackground {
			pt = apns.Background
		}
		s, err := apns.New(apns.Config{TeamID: c.APNSTeam, KeyID: c.APNSKeyID, Key: key, Topic: c.APNSTopic,
			Endpoint: c.APNSEndpoint, PushType: pt, RootCAs: roots, Now: clock})
		if err != nil {
			return nil, fmt.Errorf("APNs: %w", err)
		}
		senders["ios"] = s
	}
	if c.FCMCredentials != "" {
		creds, err := os.ReadFile(c.FCMCredentials)
		if err != nil {
			return nil, fmt.Errorf("-fcm-credentials: %w", err)
		}
		s, err := fcm.New(fcm.Config{Credentials: creds, Endpoint: c.FCMEndpoint, RootCAs: roots, Now: clock})
		if err != nil {
			return nil, fmt.Errorf("-fcm-credentials %s: %w", c.FCMCredentials, err)
		}
		senders["android"] = s
	}
	cfg := notify.Config{Senders: senders, Now: clock, Report: func(r notify.Report) {
		attrs := []any{"event", "portal_push", "outcome", string(r.Outcome), "user", r.User, "device", r.Device,
			"platform", r.Platform, "request", r.RequestID, "attempts", r.Attempts}
		if r.Err != nil {
			attrs = append(attrs, "error", r.Err.Error())
		}
		log.Info("portal: push delivery", attrs...)
	}}
	if len(senders) == 1 {
		for _, s := range senders {
			cfg.Default = s
		}
	}
	return notify.New(cfg)
}
