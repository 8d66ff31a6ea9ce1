package keylinecore_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/authn/deviceapi"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/txn"
	"github.com/keyline/keyline/mobile/keylinecore"
)

const pin, newPIN = "4739", "8215"

// server is a keyline service and its device API over HTTP, on a fake
// clock and a memstore.
type server struct {
	kit  *authntest.Kit
	url  string
	down atomic.Bool // answer as a proxy whose backend is down
}

func newServer(t testing.TB, start time.Time, issuer string, opts ...authntest.Option) *server {
	opts = append([]authntest.Option{authntest.WithStart(start), authntest.WithConfig(func(c *authn.Config) { c.Issuer = issuer })}, opts...)
	s := &server{kit: authntest.New(t, opts...)}
	h := deviceapi.NewHandler(s.kit.Service, deviceapi.Options{Clock: s.kit.Clock.Now})
	mux := http.NewServeMux()
	mux.Handle("/device/", http.StripPrefix("/device", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.down.Load() {
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		h.ServeHTTP(w, r)
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s.url = srv.URL + "/device"
	return s
}

// note takes the next notification of the server's push service for a
// device, as the phone's OS would deliver it.
func (s *server) note(t *testing.T, deviceID string) authn.Delivery {
	t.Helper()
	for {
		select {
		case d := <-s.kit.Inbox.C:
			if d.Device == deviceID && !d.Retract {
				return d
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no notification")
		}
	}
}

// weakArgon2 is OWASP's minimum, the vault's floor, to keep the test
// quick; the parameters are the app's to choose.
func config(name string) *keylinecore.Config {
	return &keylinecore.Config{DeviceName: name, Platform: "android", TimeoutSeconds: 10,
		Argon2Time: 2, Argon2MemoryKiB: 19456, Argon2Threads: 1}
}

func code(err error) string { return keylinecore.ErrorCode(err) }

// The whole phone, end to end against two services' device APIs in
// process, with the phone's clock 5 minutes slow, right, and 5 minutes
// fast (issue 14): every flow of the core, and the clock offset learned
// and kept per server.
func TestPhoneEndToEnd(t *testing.T) {
	for _, off := range []time.Duration{-5 * time.Minute, 0, 5 * time.Minute} {
		t.Run(fmt.Sprintf("phone clock %+v", off), func(t *testing.T) { endToEnd(t, off) })
	}
}

func endToEnd(t *testing.T, off time.Duration) {
	ctx := context.Background()
	bank := newServer(t, authntest.Start(), "Example Bank")
	// A second service, whose clock is 2 minutes ahead of the first's.
	broker := newServer(t, authntest.Start().Add(2*time.Minute), "Example Broker")
	advance := func(d time.Duration) { bank.kit.Clock.Advance(d); broker.kit.Clock.Advance(d) }
	clock := phoneClock{server: bank.kit.Clock, off: off}
	storage, keys, g := newStorage(), newHWKey(), &gate{}

	// First launch: no vault; the PIN policy; create.
	phone, err := keylinecore.NewPhone(config("Ada's phone"), storage, keys, g, clock)
	require.NoError(t, err)
	require.Len(t, phone.InstallID(), 22)
	has, err := phone.HasVault()
	require.NoError(t, err)
	require.False(t, has)
	require.Equal(t, keylinecore.CodeNoVault, code(phone.Unlock(pin)))
	require.Equal(t, keylinecore.CodeWeakPIN, code(keylinecore.CheckPIN("1234", "")))
	require.Equal(t, keylinecore.CodeWeakPIN, code(phone.CreateVault("1111")))
	require.NoError(t, phone.CreateVault(pin))
	require.Equal(t, keylinecore.CodeVaultExists, code(phone.CreateVault(pin)))
	require.NoError(t, phone.SetPushToken("fcm:first", nil), "recorded for the activations to come")

	// Activate by QR code at the bank (alice), pairing code typed at the portal.
	offer, err := bank.kit.Service.StartActivation(ctx, "alice", nil, authn.AccountName("alice@example.com"))
	require.NoError(t, err)
	scanned, err := keylinecore.ParseOffer(offer.URI())
	require.NoError(t, err)
	require.Equal(t, "Example Bank", scanned.Issuer)
	require.Equal(t, "alice@example.com", scanned.AccountName)
	act, err := phone.Activate(bank.url, scanned.URI, nil)
	require.NoError(t, err)
	require.False(t, act.Paired)
	require.Len(t, act.PairingCode, 6)
	alice := act.AccountID
	paired, err := phone.CheckPaired(alice, nil)
	require.NoError(t, err)
	require.False(t, paired, "the code is not typed yet")
	_, err = bank.kit.Service.ConfirmActivation(ctx, "alice", offer.SessionID, act.PairingCode)
	require.NoError(t, err)
	paired, err = phone.CheckPaired(alice, nil)
	require.NoError(t, err)
	require.True(t, paired)
	// The bank's clock is learned: server time minus phone time.
	require.Equal(t, int64(-off/time.Second), phone.ClockOffsetSeconds(bank.url))

	// Activate by typed session ID at the bank (bob).
	offer, err = bank.kit.Service.StartActivation(ctx, "bob", nil)
	require.NoError(t, err)
	typed := strings.ToLower(strings.ReplaceAll(offer.SessionID, "-", " "))
	typo := "x" // the last character mistyped: another than it is
	if typed[len(typed)-1] == 'x' {
		typo = "y"
	}
	_, err = phone.FetchOffer(bank.url, typed[:len(typed)-1]+typo, nil)
	require.Contains(t, []string{keylinecore.CodeSessionIDTypo, keylinecore.CodeInvalidInput}, code(err))
	fetched, err := phone.FetchOffer(bank.url, typed, nil)
	require.NoError(t, err)
	require.Equal(t, "bob", fetched.User)
	act, err = phone.Activate(bank.url, fetched.URI, nil)
	require.NoError(t, err)
	bob := act.AccountID
	code2, err := phone.PairingCode(bob)
	require.NoError(t, err)
	require.Equal(t, act.PairingCode, code2)
	_, err = bank.kit.Service.ConfirmActivation(ctx, "bob", offer.SessionID, code2)
	require.NoError(t, err)
	paired, err = phone.CheckPaired(bob, nil)
	require.NoError(t, err)
	require.True(t, paired)

	// A second server in the same vault (carol at the broker), with its
	// own clock offset.
	offer, err = broker.kit.Service.StartActivation(ctx, "carol", nil)
	require.NoError(t, err)
	act, err = phone.Activate(broker.url+"/", offer.URI(), nil)
	require.NoError(t, err)
	carol := act.AccountID
	_, err = broker.kit.Service.ConfirmActivation(ctx, "carol", offer.SessionID, act.PairingCode)
	require.NoError(t, err)
	paired, err = phone.CheckPaired(carol, nil)
	require.NoError(t, err)
	require.True(t, paired)
	require.Equal(t, int64((2*time.Minute-off)/time.Second), phone.ClockOffsetSeconds(broker.url))

	accounts, err := phone.Accounts()
	require.NoError(t, err)
	require.Equal(t, 3, accounts.Len())
	require.Nil(t, accounts.At(3))
	servers := map[string]string{}
	for i := range accounts.Len() {
		a := accounts.At(i)
		servers[a.User] = a.Server
		require.True(t, a.Paired)
		require.Equal(t, "Ada's phone", a.DeviceName)
	}
	require.Equal(t, map[string]string{"alice": bank.url, "bob": bank.url, "carol": broker.url}, servers)

	// Challenge and response, at each server's time.
	for _, c := range []struct {
		srv  *server
		user string
		id   string
	}{{bank, "alice", alice}, {broker, "carol", carol}} {
		ch, err := c.srv.kit.Service.BeginChallenge(ctx, c.user)
		require.NoError(t, err)
		resp, err := phone.Respond(c.id, ch.Question)
		require.NoError(t, err)
		_, err = c.srv.kit.Service.FinishChallenge(ctx, c.user, ch.ID, resp)
		require.NoError(t, err, "%s", c.user)
	}

	// A push, fetched by the request ID its notification carries, with
	// the presence check and the number typed.
	pc := enroll.PushContext{Action: "Login", IP: "203.0.113.7", Place: "Zürich, CH", Browser: "Firefox on macOS"}
	req, err := bank.kit.Service.BeginPush(ctx, "alice", pc)
	require.NoError(t, err)
	d := bank.note(t, alice)
	require.Equal(t, "fcm:first", d.PushToken)
	prompt, err := phone.FetchPushForServer(bank.url, d.RequestID, nil)
	require.NoError(t, err)
	require.Equal(t, alice, prompt.AccountID)
	require.Equal(t, "Zürich, CH", prompt.Place)
	require.Empty(t, prompt.TransactionLines)
	g.refuse.Store(true)
	require.Equal(t, keylinecore.CodePresence, code(phone.AnswerPush(prompt, true, req.Number, nil)))
	g.refuse.Store(false)
	asked := g.asked.Load()
	require.NoError(t, phone.AnswerPush(prompt, true, req.Number, nil))
	require.Equal(t, asked+1, g.asked.Load())
	_, err = bank.kit.Service.FinishPush(ctx, "alice", req.ID)
	require.NoError(t, err)
	require.Equal(t, keylinecore.CodeInvalidInput, code(phone.AnswerPush(&keylinecore.Prompt{}, true, "00", nil)))

	// A push listed by polling, answered with the wrong number.
	req, err = bank.kit.Service.BeginPush(ctx, "alice", pc)
	require.NoError(t, err)
	bank.note(t, alice) // unread: the phone polls
	prompts, err := phone.FetchPushes(alice, nil)
	require.NoError(t, err)
	require.Equal(t, 1, prompts.Len())
	wrong := fmt.Sprintf("%02d", (int(req.Number[0]-'0')*10+int(req.Number[1]-'0')+1)%100)
	require.Equal(t, keylinecore.CodeWrongNumber, code(phone.AnswerPush(prompts.At(0), true, wrong, nil)))

	// A transaction by push: shown, approved, signed.
	withdrawal := txn.Transaction{Kind: txn.KindWithdrawal, Amount: 123456, Currency: "EUR",
		From: "DE89370400440532013000", To: "GB82WEST12345698765432", Beneficiary: "Ada Lovelace"}
	req, err = bank.kit.Service.BeginTransactionPush(ctx, "alice", withdrawal, pc)
	require.NoError(t, err)
	prompt, err = phone.FetchPush(alice, bank.note(t, alice).RequestID, nil)
	require.NoError(t, err)
	require.Contains(t, prompt.TransactionLines, "Amount: EUR 1,234.56")
	require.NoError(t, phone.AnswerPush(prompt, true, req.Number, nil))
	_, err = bank.kit.Service.FinishPush(ctx, "alice", req.ID)
	require.NoError(t, err)

	// A transaction by QR code: shown, signed, typed into the page.
	tc, err := broker.kit.Service.BeginTransaction(ctx, "carol", withdrawal)
	require.NoError(t, err)
	uri, err := txn.URI(tc.Nonce, tc.Transaction)
	require.NoError(t, err)
	shown, err := keylinecore.ParseTransactionQR(uri)
	require.NoError(t, err)
	require.Contains(t, shown.Lines, "Beneficiary: Ada Lovelace")
	resp, err := phone.SignTransactionQR(carol, uri)
	require.NoError(t, err)
	_, err = broker.kit.Service.FinishTransaction(ctx, "carol", tc.ID, resp)
	require.NoError(t, err)
	_, err = keylinecore.ParseTransactionQR(uri + "x")
	require.Equal(t, keylinecore.CodeInvalidInput, code(err))

	// The push token rotates: one call reaches every account, on both
	// servers; the next pushes go to the new token.
	require.NoError(t, phone.SetPushToken("fcm:second", nil))
	require.Zero(t, phone.PushTokenPending())
	advance(15 * time.Minute) // a new push budget
	_, err = bank.kit.Service.BeginPush(ctx, "bob", pc)
	require.NoError(t, err)
	require.Equal(t, "fcm:second", bank.note(t, bob).PushToken)
	_, err = broker.kit.Service.BeginPush(ctx, "carol", pc)
	require.NoError(t, err)
	require.Equal(t, "fcm:second", broker.note(t, carol).PushToken)

	// Log in with a QR code, at the bank's time: the scanned text picks
	// alice's account, the prompt is a push's, and the approval with the
	// number the page shows (behind the presence check) logs the page's
	// session in.
	qr, err := bank.kit.Service.BeginQRLogin(ctx, "alice", pc)
	require.NoError(t, err)
	prompt, err = phone.ScanLogin(qr.Text, nil)
	require.NoError(t, err)
	require.Equal(t, alice, prompt.AccountID)
	require.Equal(t, "Firefox on macOS", prompt.Browser)
	asked = g.asked.Load()
	require.NoError(t, phone.AnswerPush(prompt, true, qr.Number, nil))
	require.Equal(t, asked+1, g.asked.Load())
	res, err := bank.kit.Service.FinishQRLogin(ctx, "alice", qr.Handle)
	require.NoError(t, err)
	require.Equal(t, alice, res.DeviceID)

	// Cancelled: nothing is sent.
	cancel := keylinecore.NewCancel()
	cancel.Cancel()
	require.True(t, cancel.Cancelled())
	_, err = phone.FetchPushes(carol, cancel)
	require.Equal(t, keylinecore.CodeCancelled, code(err))

	// Revocation: bob's device is revoked at the bank; the phone learns
	// it on its next call (the status call), and the user removes it.
	proof, err := bank.kit.Service.Operator("helpdesk").Proof(ctx, "bob", "lost phone")
	require.NoError(t, err)
	require.NoError(t, bank.kit.Service.RevokeDevice(ctx, "bob", bob, proof))
	removedAt := bank.kit.Clock.Now().Unix()
	advance(time.Minute)
	_, err = phone.FetchPushes(bob, nil)
	require.Equal(t, keylinecore.CodeDeviceRemoved, code(err))
	a, err := phone.Account(bob)
	require.NoError(t, err)
	require.Equal(t, removedAt, a.RemovedUnix)
	st, err := phone.AccountStatus(bob, nil)
	require.NoError(t, err)
	require.True(t, st.Removed)
	st, err = phone.AccountStatus(alice, nil)
	require.NoError(t, err)
	require.False(t, st.Removed)
	require.NoError(t, phone.RemoveAccount(bob))
	_, err = phone.Account(bob)
	require.Equal(t, keylinecore.CodeNoAccount, code(err))

	// Change the PIN; lock; the old PIN no longer opens; the new one does.
	require.Equal(t, keylinecore.CodeWrongPIN, code(phone.ChangePIN("9999", newPIN)))
	require.NoError(t, phone.ChangePIN(pin, newPIN))
	phone.Lock()
	require.False(t, phone.Unlocked())
	_, err = phone.Accounts()
	require.Equal(t, keylinecore.CodeVaultLocked, code(err))
	require.Equal(t, keylinecore.CodeWrongPIN, code(phone.Unlock(pin)))
	require.NoError(t, phone.Unlock(newPIN))

	// A restart: the profile brings back the servers, the pairing and
	// the clock offsets.
	phone, err = keylinecore.NewPhone(config("Ada's phone"), storage, keys, g, clock)
	require.NoError(t, err)
	require.Equal(t, int64((2*time.Minute-off)/time.Second), phone.ClockOffsetSeconds(broker.url))
	require.NoError(t, phone.Unlock(newPIN))
	accounts, err = phone.Accounts()
	require.NoError(t, err)
	require.Equal(t, 2, accounts.Len())

	// Backup and restore onto a reset phone (with its own hardware key
	// and clock): a clone that answers as the same devices.
	backup, err := phone.ExportBackup()
	require.NoError(t, err)
	restored, err := keylinecore.NewPhone(config("Ada's phone"), newStorage(), newHWKey(), g, clock)
	require.NoError(t, err)
	require.NoError(t, restored.CreateVault("5820"))
	_, err = restored.ImportBackup(backup.Blob, "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA", backup.Servers)
	require.Contains(t, []string{keylinecore.CodeWrongPassphrase}, code(err))
	n, err := restored.ImportBackup(backup.Blob, strings.ToLower(backup.Passphrase), backup.Servers)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	// A restored phone checks its accounts: still active, and the
	// servers' clocks learned before it answers offline.
	require.Zero(t, restored.ClockOffsetSeconds(broker.url))
	st, err = restored.AccountStatus(carol, nil)
	require.NoError(t, err)
	require.False(t, st.Removed)
	require.Equal(t, int64((2*time.Minute-off)/time.Second), restored.ClockOffsetSeconds(broker.url))
	ch, err := broker.kit.Service.BeginChallenge(ctx, "carol")
	require.NoError(t, err)
	resp, err = restored.Respond(carol, ch.Question)
	require.NoError(t, err)
	_, err = broker.kit.Service.FinishChallenge(ctx, "carol", ch.ID, resp)
	require.NoError(t, err)

	// Migration: alice moves to a new phone. The old phone starts it and
	// shows the offer; the new phone activates; the old phone takes the
	// new one's pairing code and forgets the account.
	newPhone, err := keylinecore.NewPhone(config("Ada's new phone"), newStorage(), newHWKey(), &gate{}, clock)
	require.NoError(t, err)
	require.NoError(t, newPhone.CreateVault("6028"))
	mig, err := phone.StartMigration(alice, nil)
	require.NoError(t, err)
	png, err := mig.QRPNG(256)
	require.NoError(t, err)
	require.NotEmpty(t, png)
	prog, err := phone.MigrationStatus(alice, mig.SessionID, nil)
	require.NoError(t, err)
	require.Equal(t, "waiting", prog.Status)
	moved, err := newPhone.Activate(bank.url, mig.URI, nil)
	require.NoError(t, err)
	prog, err = phone.MigrationStatus(alice, mig.SessionID, nil)
	require.NoError(t, err)
	require.Equal(t, "completed", prog.Status)
	require.Equal(t, 3, prog.TriesLeft)
	wrongCode := "000000"
	if moved.PairingCode == wrongCode {
		wrongCode = "000001"
	}
	_, err = phone.ConfirmMigration(alice, mig.SessionID, wrongCode, nil)
	require.Equal(t, keylinecore.CodeWrongPairingCode, code(err))
	newID, err := phone.ConfirmMigration(alice, mig.SessionID, moved.PairingCode, nil)
	require.NoError(t, err)
	require.Equal(t, moved.AccountID, newID)
	_, err = phone.Account(alice)
	require.Equal(t, keylinecore.CodeNoAccount, code(err))
	paired, err = newPhone.CheckPaired(newID, nil)
	require.NoError(t, err)
	require.True(t, paired)
	ch, err = bank.kit.Service.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	resp, err = newPhone.Respond(newID, ch.Question)
	require.NoError(t, err)
	_, err = bank.kit.Service.FinishChallenge(ctx, "alice", ch.ID, resp)
	require.NoError(t, err)
}
