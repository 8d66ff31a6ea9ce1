package fcm_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/notify"
	"github.com/keyline/keyline/notify/fcm"
	"github.com/keyline/keyline/notify/fcm/fcmtest"
)

var loginCtx = enroll.PushContext{Action: "Login", IP: "203.0.113.7", Place: "Zürich, CH", Browser: "Firefox on macOS"}

// world: a Service on a memstore delivering through notify and fcm to a
// local FCM, on the kit's fake clock.
func world(t *testing.T) (*authntest.Kit, *fcmtest.Server, *[]notify.Report) {
	t.Helper()
	var kit *authntest.Kit
	now := func() time.Time { return kit.Clock.Now() }
	srv := fcmtest.NewServer(project, now)
	t.Cleanup(srv.Close)
	cl, err := fcm.New(fcm.Config{Credentials: srv.Credentials(), Endpoint: srv.URL, RootCAs: srv.RootCAs(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	reports := &[]notify.Report{}
	n, err := notify.New(notify.Config{Default: cl, Now: now, Backoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
		Report: func(r notify.Report) { *reports = append(*reports, r) }})
	if err != nil {
		t.Fatal(err)
	}
	kit = authntest.New(t, authntest.WithConfig(func(c *authn.Config) { c.Notifier = n; c.NotifyTimeout = time.Minute }))
	n.Attach(kit.Service)
	return kit, srv, reports
}

func registered(t *testing.T, kit *authntest.Kit, user string) {
	t.Helper()
	p := kit.Enroll(user)
	body, _ := json.Marshal(map[string]string{"push_token": token})
	if err := p.Authenticate("POST", "/v1/push-token", body).SetPushToken(context.Background(), token); err != nil {
		t.Fatal(err)
	}
}

// BeginPush reaches the local FCM with the request ID, the TTL ending at
// the request's expiry and the ID as collapse key.
func TestServicePushDelivered(t *testing.T) {
	kit, srv, _ := world(t)
	registered(t, kit, "alice")
	req, err := kit.Service.BeginPush(context.Background(), "alice", loginCtx)
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Status != 200 {
		t.Fatalf("%d sends", len(reqs))
	}
	m := reqs[0].Message
	ttl := req.ExpiresAt.Sub(kit.Clock.Now()) / time.Second
	if m.Token != token || m.Data["id"] != req.ID || len(m.Data) != 1 || m.Android.CollapseKey != req.ID ||
		m.Android.Priority != "HIGH" || m.Android.TTL != fmtSeconds(ttl) {
		t.Fatalf("message %+v android %+v", m, *m.Android)
	}
}

func fmtSeconds(n time.Duration) string { return strconv.FormatInt(int64(n), 10) + "s" }

// UNREGISTERED: the token is removed from the store and audited.
func TestServiceUnregisteredRemoved(t *testing.T) {
	kit, srv, reports := world(t)
	registered(t, kit, "alice")
	srv.Script(func(fcmtest.Request) fcmtest.Response {
		return fcmtest.Response{Status: 404, Code: "NOT_FOUND", ErrorCode: "UNREGISTERED"}
	})
	if _, err := kit.Service.BeginPush(context.Background(), "alice", loginCtx); !errors.Is(err, authn.ErrPushUnavailable) {
		t.Fatalf("err %v", err)
	}
	ds, err := kit.Records.Devices(context.Background(), "alice")
	if err != nil || len(ds) != 1 || ds[0].PushToken != "" {
		t.Fatalf("devices %v: the token is still there", err)
	}
	if len(srv.Requests()) != 1 || (*reports)[0].Outcome != notify.TokenRemoved {
		t.Fatalf("%d sends, report %+v", len(srv.Requests()), (*reports)[0])
	}
}

// A quota storm while time passes: retried, but no send reaches FCM at
// or after the request's expiry.
func TestServiceQuotaStorm(t *testing.T) {
	kit, srv, reports := world(t)
	registered(t, kit, "alice")
	srv.Script(func(fcmtest.Request) fcmtest.Response {
		kit.Clock.Advance(40 * time.Second)
		return fcmtest.Response{Status: 429, Code: "RESOURCE_EXHAUSTED", ErrorCode: "QUOTA_EXCEEDED"}
	})
	expiry := kit.Clock.Now().Add(enroll.DefaultPushTTL).Truncate(time.Second)
	if _, err := kit.Service.BeginPush(context.Background(), "alice", loginCtx); !errors.Is(err, authn.ErrPushUnavailable) {
		t.Fatalf("err %v", err)
	}
	reqs := srv.Requests()
	if len(reqs) < 2 {
		t.Fatalf("%d sends: not retried", len(reqs))
	}
	for i, r := range reqs {
		if !r.At.Before(expiry) {
			t.Errorf("send %d at %v, at or after the expiry %v", i+1, r.At, expiry)
		}
	}
	if (*reports)[0].Outcome != notify.Expired {
		t.Fatalf("report %+v", (*reports)[0])
	}
}
