package redisstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/redisstore"
	"github.com/keyline/keyline/authn/sqlstore"
	"github.com/keyline/keyline/authn/sqlstore/postgres"
	"github.com/keyline/keyline/authn/storetest"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/internal/testenv"
	"github.com/keyline/keyline/internal/testnet"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// slot is the Redis Cluster slot of key: CRC16 (XMODEM) of its hash tag
// (the part between the first '{' and the next '}', if not empty), mod
// 16384.
func slot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for k := 0; k < len(key); k++ {
		crc ^= uint16(key[k]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}

func TestSlot(t *testing.T) {
	// Values from the Redis Cluster specification's CRC16 test vector
	// ("123456789" → 0x31C3) and the hash-tag rules.
	require.Equal(t, 0x31C3%16384, slot("123456789"))
	require.Equal(t, slot("user1000"), slot("{user1000}.following"))
	require.Equal(t, slot("foo{}{bar}"), slot("foo{}{bar}"))
	require.NotEqual(t, slot("bar"), slot("foo{}{bar}"), "an empty tag hashes the whole key")
}

// Users whose IDs hold braces and colons get keys of their own, all in
// one slot per user.
func TestHashTags(t *testing.T) {
	c := newClient(t, redisAddr(t))
	prefix := testPrefix(t, c)
	s := open(t, c, redisstore.WithPrefix(prefix))
	ctx := context.Background()
	users := []string{"alice", "{alice}", "alice}:u", "}{", ":", "a:{b}:c", "{", "}", "bob{", "ü{}"}
	lim := authn.ChallengeLimits{Outstanding: 5, PerMinute: 10, Horizon: time.Minute}
	policy := authn.LockPolicy{MaxFailures: 5, Base: time.Minute, Max: time.Hour, Window: time.Hour, MaxAttempts: 3}
	for i, u := range users {
		require.NoError(t, s.PutChallenge(ctx, authn.ChallengeRecord{ID: "ch", User: u, Question: "q", Window: 1,
			Tags: []authn.Tag{{MAC: [16]byte{byte(i)}, Device: "d", Step: 1}}, IssuedAt: t0, ExpiresAt: t0.Add(time.Minute)}, lim, t0))
		require.NoError(t, s.PutPush(ctx, authn.PushRecord{ID: "push-" + u, User: u, Number: "42", State: authn.PushPending,
			Devices: []string{"d"}, CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}, t0))
		_, err := s.RecordFailure(ctx, u, "", policy, t0)
		require.NoError(t, err)
	}
	// Each user's challenge answers only that user's MAC: no two users
	// share a challenge hash.
	for i, u := range users {
		r, err := s.Attempt(ctx, u, "", &authn.ChallengeAnswer{ID: "ch", MAC: [16]byte{byte(i)}, ServerStep: 1}, policy, t0)
		require.NoError(t, err)
		require.Equal(t, authn.AttemptMatch, r.Outcome, "user %q", u)
	}
	slots := map[string]int{} // hash tag → slot
	var keys []string
	it := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	for it.Next(ctx) {
		keys = append(keys, it.Val())
	}
	require.NoError(t, it.Err())
	tags := map[string]bool{}
	for _, k := range keys {
		if strings.HasPrefix(k, prefix+":pid:") {
			continue // a push ID's pointer: its own tag
		}
		i, j := strings.IndexByte(k, '{'), strings.IndexByte(k, '}')
		require.True(t, i > 0 && j > i+1, "key %q has a hash tag", k)
		tag := k[i+1 : j]
		require.NotContains(t, tag, ":", "key %q", k)
		tags[tag] = true
		if prev, ok := slots[tag]; ok {
			require.Equal(t, prev, slot(k), "keys of one user in two slots: %q", k)
		}
		slots[tag] = slot(k)
	}
	require.Len(t, tags, len(users), "one hash tag per user")
}

// The lock's length in Redis is authn.LockPolicy.Fail's, including where
// Base<<level would wrap an int64.
func TestLockParity(t *testing.T) {
	c := newClient(t, redisAddr(t))
	prefix := testPrefix(t, c)
	s := open(t, c, redisstore.WithPrefix(prefix))
	ctx := context.Background()
	policies := []authn.LockPolicy{
		{MaxFailures: 1, Base: time.Minute, Max: time.Hour, Window: time.Hour, MaxAttempts: 3},
		{MaxFailures: 1, Base: 1<<33 + 1, Max: time.Hour, Window: time.Hour, MaxAttempts: 3},
		{MaxFailures: 1, Base: 1<<31 + 1, Max: time.Hour, Window: time.Hour, MaxAttempts: 3},
		{MaxFailures: 1, Base: 1, Max: 24 * time.Hour, Window: time.Hour, MaxAttempts: 3},
	}
	var levels []int
	for l := range 71 {
		levels = append(levels, l)
	}
	levels = append(levels, 100, 1000)
	n := 0
	for _, p := range policies {
		for _, level := range levels {
			n++
			user := fmt.Sprintf("parity-%d", n)
			key := prefix + ":{u" + b64(user) + "}:l" // the locks hash; the bucket "" of unknown clients
			require.NoError(t, c.HSet(ctx, key, "", fmt.Sprintf("0 %d 0 0 0 0", level)).Err())
			now := t0.Add(time.Duration(n) * time.Hour)
			r, err := s.Attempt(ctx, user, "", &authn.ChallengeAnswer{ID: "none", MAC: [16]byte{}, ServerStep: 1}, p, now)
			require.NoError(t, err)
			want := authn.UserState{Level: level}
			d := p.Fail(&want, now)
			require.Equal(t, authn.AttemptNoChallenge, r.Outcome)
			require.Equal(t, d, r.RetryAfter, "policy %v level %d", p, level)
			u, err := s.Lockout(ctx, user, now)
			require.NoError(t, err)
			require.Equal(t, want.Level, u[0].State.Level)
			require.Equal(t, want.LockedUntil.Truncate(time.Microsecond), u[0].State.LockedUntil, "policy %v level %d", p, level)
		}
	}
}

func b64(s string) string {
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var b strings.Builder
	src := []byte(s)
	for i := 0; i < len(src); i += 3 {
		var v uint32
		n := min(3, len(src)-i)
		for j := range 3 {
			v <<= 8
			if j < n {
				v |= uint32(src[i+j])
			}
		}
		for j := range n + 1 {
			b.WriteByte(enc[v>>(18-6*j)&63])
		}
	}
	return b.String()
}

// ---------------------------------------------------------------------
// Redis with PostgreSQL for the durable records.

func openPostgres(t testing.TB, dsn, schema string, opts ...postgres.Option) *sqlstore.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, append([]postgres.Option{postgres.WithSchema(schema)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

// Two Services, each with its own Redis client and PostgreSQL pool (as
// two processes would have), on one Redis and one schema: one right
// response 200 times → one login; 500 wrong guesses → at most
// MaxFailures compared, then the lock; one activation, eight phones →
// one winner.
func TestSharedRedisPostgres(t *testing.T) {
	addr, dsn := redisAddr(t), testenv.PostgresDSN(t)
	storetest.RunShared(t, func(t testing.TB) [2]storetest.Stores {
		schema := testenv.PostgresSchema(t, dsn)
		c0, c1 := newClient(t, addr), newClient(t, addr)
		prefix := testPrefix(t, c0)
		return [2]storetest.Stores{
			pairOf(t, c0, openPostgres(t, dsn, schema), redisstore.WithPrefix(prefix)),
			pairOf(t, c1, openPostgres(t, dsn, schema), redisstore.WithPrefix(prefix)),
		}
	})
}

// ---------------------------------------------------------------------
// Round trips.

type redisTrips struct{ n atomic.Int64 }

func (h *redisTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *redisTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h *redisTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

type pgTrips struct{ n atomic.Int64 }

func (p *pgTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	p.n.Add(1)
	return ctx
}
func (p *pgTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (p *pgTrips) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	p.n.Add(1)
	return ctx
}
func (p *pgTrips) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// rig is a Service on Redis and PostgreSQL with round-trip counters and an
// enrolled phone for alice.
type rig struct {
	store   *redisstore.Store
	records *sqlstore.Store
	redis   *redisTrips
	pg      *pgTrips
	svc     *authn.Service
	clock   *clock
	cred    *enroll.Credential
	client  *redis.Client
	keys    *authn.Keyring
}

func newRig(t testing.TB, redisAddr string, opts ...postgres.Option) *rig {
	t.Helper()
	dsn := testenv.PostgresDSN(t)
	r := &rig{redis: &redisTrips{}, pg: &pgTrips{}, clock: &clock{t: t0.Add(5 * time.Second)}}
	r.client = redis.NewClient(&redis.Options{Addr: redisAddr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 2 * time.Second})
	t.Cleanup(func() { _ = r.client.Close() })
	r.client.AddHook(r.redis)
	durable := openPostgres(t, dsn, testenv.PostgresSchema(t, dsn), append([]postgres.Option{postgres.WithTracer(r.pg)}, opts...)...)
	r.store = open(t, r.client, redisstore.WithPrefix(testPrefix(t, r.client)))
	r.records = durable
	key := make([]byte, authn.MasterKeySize)
	rand.Read(key)
	var err error
	r.keys, err = authn.NewKeyring("k1", map[string][]byte{"k1": key})
	require.NoError(t, err)
	r.svc = r.service(t, r.store)
	r.cred = enrollPhone(t, r.svc, r.clock, "alice")
	return r
}

// service is another Service instance on the rig's stores, keyring and
// clock, with hot as its hot store (the rig's, or a wrapper of it).
func (r *rig) service(t testing.TB, hot authn.HotStore) *authn.Service {
	t.Helper()
	svc, err := authn.New(authn.Config{Hot: hot, Records: r.records, Keys: r.keys, Issuer: "Example Bank", Clock: r.clock.Now,
		Logger: slog.New(slog.DiscardHandler), ChallengeBudget: authn.Budget{Outstanding: 20, PerMinute: 100}})
	require.NoError(t, err)
	return svc
}

func (r *rig) trips() (int64, int64) { return r.redis.n.Load(), r.pg.n.Load() }

// begin begins a challenge for alice and returns its ID and the phone's
// answer.
func (r *rig) begin(t *testing.T) (id, resp string) {
	t.Helper()
	ch, err := r.svc.BeginChallenge(context.Background(), "alice")
	require.NoError(t, err)
	resp, err = r.cred.Respond(ch.Question, r.clock.Now())
	require.NoError(t, err)
	return ch.ID, resp
}

// finishWhenBack answers a challenge, retrying while the store is still
// unavailable (go-redis reconnects on the next command), for at most 5 s.
func (r *rig) finishWhenBack(id, resp string) error {
	var err error
	for range 50 {
		if _, err = r.svc.FinishChallenge(context.Background(), "alice", id, resp); !errors.Is(err, authn.ErrStoreUnavailable) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// enrollPhone activates and pairs a phone for user.
func enrollPhone(t testing.TB, svc *authn.Service, clk *clock, user string) *enroll.Credential {
	t.Helper()
	return enrollPhoneAs(t, svc, clk, user, "install-"+user, nil)
}

// enrollPhoneAs is enrollPhone for the phone of install ID install,
// with a step-up proof of the user's (one who has a device needs one).
func enrollPhoneAs(t testing.TB, svc *authn.Service, clk *clock, user, install string, proof *authn.Proof) *enroll.Credential {
	t.Helper()
	ctx := context.Background()
	offer, err := svc.StartActivation(ctx, user, proof)
	require.NoError(t, err)
	o, err := enroll.ParseOffer(offer.URI())
	require.NoError(t, err)
	cred, req, err := enroll.Activate(o, enroll.DeviceInfo{InstallID: install, Name: "phone", Platform: "ios", Integrity: enroll.Intact}, clk.Now())
	require.NoError(t, err)
	act, err := svc.CompleteActivation(ctx, req)
	require.NoError(t, err)
	require.NoError(t, cred.CheckServerConfirm(act.ServerConfirm))
	_, err = svc.ConfirmActivation(ctx, user, offer.SessionID, cred.PairingCode())
	require.NoError(t, err)
	return cred
}

// A FinishChallenge that succeeds is one Redis script and one
// PostgreSQL statement; a wrong Attempt is one script.
func TestFinishChallengeRoundTrips(t *testing.T) {
	r := newRig(t, redisAddr(t), postgres.WithMaxConns(1))
	ctx := context.Background()
	for i := range 3 {
		r.clock.Advance(15 * time.Second)
		ch, err := r.svc.BeginChallenge(ctx, "alice")
		require.NoError(t, err)
		resp, err := r.cred.Respond(ch.Question, r.clock.Now())
		require.NoError(t, err)
		rd0, pg0 := r.trips()
		_, err = r.svc.FinishChallenge(ctx, "alice", ch.ID, resp)
		require.NoError(t, err)
		rd1, pg1 := r.trips()
		if i > 0 { // the first loads the script and prepares the statement
			require.Equal(t, int64(1), rd1-rd0, "Redis round trips of a FinishChallenge")
			require.Equal(t, int64(1), pg1-pg0, "PostgreSQL round trips of a FinishChallenge")
		}
	}
	r.clock.Advance(15 * time.Second)
	ch, err := r.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	rd0, pg0 := r.trips()
	res, err := r.store.Attempt(ctx, "alice", "", &authn.ChallengeAnswer{ID: ch.ID, MAC: [16]byte{1}, ServerStep: 1}, authn.LockPolicy{MaxFailures: 5, Base: time.Minute, Max: time.Hour, Window: time.Hour, MaxAttempts: 3}, r.clock.Now())
	require.NoError(t, err)
	require.Equal(t, authn.AttemptMismatch, res.Outcome)
	rd1, pg1 := r.trips()
	require.Equal(t, int64(1), rd1-rd0, "Redis round trips of a wrong Attempt")
	require.Equal(t, int64(0), pg1-pg0, "PostgreSQL round trips of a wrong Attempt")
}

// ---------------------------------------------------------------------
// Faults.

// checkDown: every call of a login fails with ErrStoreUnavailable and
// its cause, and accepts nothing.
func checkDown(t *testing.T, r *rig, chID, resp string) {
	t.Helper()
	ctx := context.Background()
	_, err := r.svc.BeginChallenge(ctx, "alice")
	require.ErrorIs(t, err, authn.ErrStoreUnavailable, "BeginChallenge")
	_, err = r.svc.FinishChallenge(ctx, "alice", chID, resp)
	require.ErrorIs(t, err, authn.ErrStoreUnavailable, "FinishChallenge")
	var ne net.Error
	require.True(t, errors.As(err, &ne) || strings.Contains(err.Error(), "refused") || strings.Contains(err.Error(), "EOF"),
		"the cause is kept: %v", err)
	_, err = r.svc.BeginPush(ctx, "alice", enroll.PushContext{Action: "login"})
	require.Error(t, err, "BeginPush")
	_, err = r.svc.Operator("test").LockState(ctx, "alice")
	require.ErrorIs(t, err, authn.ErrStoreUnavailable, "LockState")
}

// checkUp: the same Service, unchanged, logs in again (with the
// challenge begun before the fault, which is still live).
func checkUp(t *testing.T, r *rig, chID, resp string) {
	t.Helper()
	require.NoError(t, r.finishWhenBack(chID, resp), "the response given during the fault is accepted once the store is back")
	r.clock.Advance(30 * time.Second)
	id, resp2 := r.begin(t)
	_, err := r.svc.FinishChallenge(context.Background(), "alice", id, resp2)
	require.NoError(t, err)
}

// A cut connection (the shared server stays up) fails every call, and
// the same Service works again when the connection returns.
func TestRedisConnectionCut(t *testing.T) {
	px := testnet.NewProxy(t, redisAddr(t))
	r := newRig(t, px.Addr())
	r.clock.Advance(15 * time.Second)
	id, resp := r.begin(t)

	px.SetCut(true)
	checkDown(t, r, id, resp)
	px.SetCut(false)
	checkUp(t, r, id, resp)
}

// A private server stopped and started again (its data lost: no
// persistence) fails every call while down; afterwards the same Service
// works, the challenge lost with the server is refused, and what was
// durable (the device, its last step) is intact, so the response accepted
// before cannot be replayed.
func TestRedisServerRestart(t *testing.T) {
	srv := newPrivateServer(t)
	r := newRig(t, srv.addr())
	ctx := context.Background()
	r.clock.Advance(15 * time.Second)
	id, resp := r.begin(t)
	_, err := r.svc.FinishChallenge(ctx, "alice", id, resp)
	require.NoError(t, err)
	id2, resp2 := r.begin(t)

	srv.stop()
	checkDown(t, r, id2, resp2)
	srv.start()

	// The restarted server lost the challenge: refused, not accepted.
	require.ErrorIs(t, r.finishWhenBack(id2, resp2), authn.ErrInvalidCode, "a challenge lost with the server")
	// A fresh login works, and its response is accepted once.
	r.clock.Advance(30 * time.Second)
	id3, resp3 := r.begin(t)
	_, err = r.svc.FinishChallenge(ctx, "alice", id3, resp3)
	require.NoError(t, err)
	_, err = r.svc.FinishChallenge(ctx, "alice", id3, resp3)
	require.Error(t, err, "a replay after the restart")
}
