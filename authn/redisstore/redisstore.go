package redisstore

import (
	"context"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/keyline/keyline/authn"
)

//go:embed scripts/*.lua
var scriptFS embed.FS

// script is one Lua script, the files names in order with the shared
// library prepended. go-redis runs it with EVALSHA, and sends its source
// once per server (EVAL on NOSCRIPT).
func script(names ...string) *redis.Script {
	src, err := scriptFS.ReadFile("scripts/lib.lua")
	if err != nil {
		panic(err) // embedded at build time: cannot fail
	}
	for _, name := range names {
		body, err := scriptFS.ReadFile("scripts/" + name + ".lua")
		if err != nil {
			panic(err)
		}
		src = append(append(src, '\n'), body...)
	}
	return redis.NewScript(string(src))
}

var (
	scriptAttempt      = script("attempt")
	scriptPutChallenge = script("put_challenge")
	// issue_mirrored.lua is a prefix of put_challenge.lua: see mirror.go.
	scriptIssueMirrored = script("issue_mirrored", "put_challenge")
	scriptRaiseDevices  = script("raise_devices")
	scriptFail          = script("fail")
	scriptCount         = script("count")
	scriptReset         = script("reset")
	scriptEpoch         = script("epoch")
	scriptPushPut       = script("push_put")
	scriptPushGet       = script("push_get")
	scriptPushSet       = script("push_set")
	scriptPushPending   = script("push_pending")
	scriptSweepUser     = script("sweep_user")
	scriptSweepKey      = script("sweep_key")
	scriptDeleteUser    = script("delete_user")
	scriptOnce          = script("once")
	scriptSpend         = script("spend")
	scriptRefund        = script("refund")
)

// MinVersion is the oldest Redis server Open accepts. The scripts need
// nothing newer than 5.0 (script effects replication by default); 6.0 is
// the oldest release still receiving fixes when this was written, and
// the tests run on 7.
const MinVersion = "6.0"

// slack is how long a record outlives its logical expiry before Redis
// drops it. Expiry only collects garbage (logic reads the Service's
// clock), so it must be generous enough for clock skew between the
// instances and Redis.
const slack = time.Hour

// Errors Open returns.
var (
	// ErrEvictionPolicy: the server may evict keys (its maxmemory-policy
	// is not noeviction), which would silently reset failure counters
	// and forget replay marks. Open returns it, and so does every call
	// once a later check finds the policy changed (see WithPolicyCheck).
	ErrEvictionPolicy = errors.New("redisstore: the Redis server may evict keys")
	// ErrUnverifiedPolicy: the server refused CONFIG GET, so Open cannot
	// see the eviction policy; AssumeNoEviction vouches for it.
	ErrUnverifiedPolicy = errors.New("redisstore: cannot read the Redis eviction policy")
	// ErrServerVersion: the server is older than MinVersion.
	ErrServerVersion = errors.New("redisstore: Redis server too old")
)

// Option configures Open.
type Option func(*options)

type options struct {
	prefix        string
	assumeNoEvict bool
	policyCheck   time.Duration
	mirrorLife    time.Duration
}

// WithPrefix sets the prefix of every key (default "keyline"), so that
// several deployments, or tests, can share one server. It must not be
// empty or contain '{' or '}'.
func WithPrefix(p string) Option { return func(o *options) { o.prefix = p } }

// AssumeNoEviction is for servers that refuse CONFIG (managed Redis): the
// caller vouches that the server's maxmemory-policy is noeviction, which
// Open then does not check. Where CONFIG works, Open checks regardless
// and refuses any other policy.
func AssumeNoEviction() Option { return func(o *options) { o.assumeNoEvict = true } }

// Store is an authn.HotStore that keeps the hot state in Redis, paired
// in authn.Config with any RecordStore. See the package documentation
// for the split. It is safe for concurrent use. It does not own the
// Redis client: the caller closes it.
type Store struct {
	rdb        redis.UniversalClient
	prefix     string
	mirrorLife time.Duration // of a user's devices-version mirror: see WithDevicesMirror
	tables     sync.Map      // authn.LockPolicy -> []any: its lock lengths as script arguments (one entry per policy a Service uses)
}

var _ authn.HotStore = (*Store)(nil)

// String names the store without its addresses.
func (s *Store) String() string { return "redisstore.Store" }

// Format prints the same as String for every verb.
func (s *Store) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// Open checks the Redis server behind rdb (reachable, at least
// MinVersion, maxmemory-policy noeviction) and returns a Store over it,
// to pass to authn.Config as Hot beside any RecordStore as Records. The
// Store checks the policy again every minute (WithPolicyCheck) and
// refuses to go on while it is not noeviction.
func Open(ctx context.Context, rdb redis.UniversalClient, opts ...Option) (*Store, error) {
	o := options{prefix: "keyline", policyCheck: DefaultPolicyCheck, mirrorLife: DefaultDevicesMirror}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case rdb == nil:
		return nil, errors.New("redisstore: nil Redis client")
	case o.prefix == "" || strings.ContainsAny(o.prefix, "{}"):
		return nil, fmt.Errorf("redisstore: key prefix %q is empty or contains a brace", o.prefix)
	}
	if err := forEachPrimary(ctx, rdb, func(ctx context.Context, c *redis.Client) error {
		return checkServer(ctx, c, o.assumeNoEvict)
	}); err != nil {
		return nil, err
	}
	g := &policyGuard{raw: rdb, every: o.policyCheck, next: time.Now().Add(o.policyCheck)}
	return &Store{rdb: guarded{UniversalClient: rdb, g: g}, prefix: o.prefix, mirrorLife: o.mirrorLife}, nil
}

// forEachPrimary runs fn on every primary of a Cluster, or on the one
// server of any other client.
func forEachPrimary(ctx context.Context, rdb redis.UniversalClient, fn func(context.Context, *redis.Client) error) error {
	switch c := rdb.(type) {
	case guarded: // a Store's own client: the caller's underneath
		return forEachPrimary(ctx, c.UniversalClient, fn)
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, fn)
	case *redis.Client:
		return fn(ctx, c)
	}
	return fmt.Errorf("redisstore: unsupported client type %T", rdb)
}

func checkServer(ctx context.Context, c *redis.Client, assume bool) error {
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return fmt.Errorf("redisstore: %w: %w", authn.ErrStoreUnavailable, err)
	}
	if v := infoField(info, "redis_version"); !atLeast(v, MinVersion) {
		return fmt.Errorf("%w: %q, need %s or later", ErrServerVersion, v, MinVersion)
	}
	cfg, err := c.ConfigGet(ctx, "maxmemory-policy").Result()
	if err != nil {
		if assume {
			return nil
		}
		return fmt.Errorf("%w (CONFIG GET maxmemory-policy: %w); if the server's maxmemory-policy is noeviction, say so with redisstore.AssumeNoEviction()", ErrUnverifiedPolicy, err)
	}
	if p := cfg["maxmemory-policy"]; p != "noeviction" {
		return fmt.Errorf("%w: its maxmemory-policy is %q; keyline needs noeviction, because an evicted key silently resets failure counters and forgets replay marks", ErrEvictionPolicy, p)
	}
	return nil
}

func infoField(info, name string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}

// atLeast compares dotted versions numerically.
func atLeast(v, min string) bool {
	a, b := strings.Split(v, "."), strings.Split(min, ".")
	for i := range b {
		if i >= len(a) {
			return false
		}
		x, err1 := strconv.Atoi(a[i])
		y, err2 := strconv.Atoi(b[i])
		if err1 != nil || err2 != nil {
			return false
		}
		if x != y {
			return x > y
		}
	}
	return true
}

// ---------------------------------------------------------------------
// Keys. Every key of one user is "<prefix>:{u<base64url(user)>}:<kind>":
// the hash tag's encoding has no brace or colon, so no user ID can end
// the tag early or reach another user's keys, and all of a user's keys
// share one slot, so that every script over them runs on one Cluster
// node. Take-once marks, budgets and the push-ID pointers (a push is
// looked up by ID alone) each have a tag of their own and are touched one
// key per script.

var b64 = base64.RawURLEncoding

type userKeys struct {
	user, ch, chIdx, questions, issued, push, pushIdx, locks string
}

// all is every key of the user's; the scripts over them (DeleteUser,
// Sweep's) name the first seven by position.
func (k userKeys) all() []string {
	return []string{k.user, k.ch, k.chIdx, k.questions, k.issued, k.push, k.pushIdx, k.locks}
}

func (s *Store) keys(user string) userKeys {
	t := s.prefix + ":{u" + b64.EncodeToString([]byte(user)) + "}:"
	return userKeys{user: t + "u", ch: t + "c", chIdx: t + "ci", questions: t + "q", issued: t + "i", push: t + "p", pushIdx: t + "pi", locks: t + "l"}
}

// userFromKey recovers the user from any key of the user's.
func (s *Store) userFromKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, s.prefix+":{u")
	if !ok {
		return "", false
	}
	enc, _, ok := strings.Cut(rest, "}:")
	if !ok {
		return "", false
	}
	u, err := b64.DecodeString(enc)
	return string(u), err == nil
}

// pushPointer is the key that maps a push ID to its user (a push is
// looked up by ID alone). It has the ID's own hash tag.
func (s *Store) pushPointer(id string) string {
	return s.prefix + ":pid:{" + b64.EncodeToString([]byte(id)) + "}"
}

func (s *Store) onceKey(key string) string {
	return s.prefix + ":once:{" + b64.EncodeToString([]byte(key)) + "}"
}

func (s *Store) spendKey(key string) string {
	return s.prefix + ":spend:{" + b64.EncodeToString([]byte(key)) + "}"
}

// ---------------------------------------------------------------------
// Numbers. Instants and durations cross into Lua as integer microseconds:
// Lua numbers are doubles, exact for integers below 2^53 µs (the year
// 2255). The zero time is 0.

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func instant(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func durMicros(d time.Duration) int64 { return d.Microseconds() }

// ttlMillis is the garbage-collection lifetime of a record that expires
// at expires, seen at now.
func ttlMillis(expires, now time.Time) int64 {
	return max(expires.Sub(now), 0).Milliseconds() + slack.Milliseconds()
}

// policyArgs are a lock policy's figures for the scripts, durations in
// nanoseconds: the most failures and the window, then (appended by
// withLengths, last in ARGV) the lock lengths by level that
// LockPolicy.Lengths computes; the scripts only look a level up.
func policyArgs(p authn.LockPolicy) []any {
	return []any{p.MaxFailures, int64(p.Window), int64(p.Horizon), p.SlowLock, p.MaxClients, int64(p.Max)}
}

// withLengths appends the policy's lock lengths by level to args (boxed
// once per policy).
func (s *Store) withLengths(args []any, p authn.LockPolicy) []any {
	if t, ok := s.tables.Load(p); ok {
		return append(args, t.([]any)...)
	}
	var t []any
	for _, d := range p.Lengths() {
		t = append(t, int64(d))
	}
	s.tables.Store(p, t)
	return append(args, t...)
}

// wrap labels a Redis error with the operation; redis.Nil never reaches
// it.
func wrap(op string, err error) error {
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

func ints(v any, n int) ([]int64, []any, error) {
	arr, ok := v.([]any)
	if !ok || len(arr) < n {
		return nil, nil, fmt.Errorf("unexpected script reply %T", v)
	}
	out := make([]int64, n)
	for i := range n {
		x, ok := arr[i].(int64)
		if !ok {
			return nil, nil, fmt.Errorf("unexpected script reply element %T", arr[i])
		}
		out[i] = x
	}
	return out, arr[n:], nil
}

// ---------------------------------------------------------------------
// Challenges and attempts (Redis).

// challengeBlob is what a challenge keeps beside its tags' MACs, returned
// with a match or a mismatch.
type challengeBlob struct {
	ID          string            `json:"id"`
	User        string            `json:"user"`
	Question    string            `json:"q"`
	Epoch       uint64            `json:"e"`
	Window      int               `json:"w"`
	IssuedAt    time.Time         `json:"i"`
	ExpiresAt   time.Time         `json:"x"`
	Payload     []byte            `json:"p,omitempty"`
	Names       map[string]string `json:"n,omitempty"`
	Resync      string            `json:"rs,omitempty"`
	ResyncDrift int               `json:"rd,omitempty"`
	Devices     []string          `json:"d"` // per tag
	Steps       []uint64          `json:"s"` // per tag
	Drifts      []int             `json:"r"` // per tag
}

const maxLuaInt = 1 << 53

// PutChallenge implements authn.HotStore: one script, which raises the
// epoch mirror to c.Epoch (the records' epoch, as the Service read it)
// and refuses a challenge older than the mirror.
func (s *Store) PutChallenge(ctx context.Context, c authn.ChallengeRecord, lim authn.ChallengeLimits, now time.Time) error {
	keys, args, err := s.challengeArgs(c, lim, now)
	if err != nil {
		return err
	}
	r, err := scriptPutChallenge.Run(ctx, s.rdb, keys, args...).Int()
	if err != nil {
		return wrap("put challenge", err)
	}
	return putOutcome(r)
}

// putOutcome is the error of put_challenge.lua's reply.
func putOutcome(r int) error {
	switch r {
	case 1:
		return authn.ErrStoreConflict
	case 2:
		return authn.ErrStoreLimit
	}
	return nil
}

// challengeArgs are put_challenge.lua's keys and arguments for c.
func (s *Store) challengeArgs(c authn.ChallengeRecord, lim authn.ChallengeLimits, now time.Time) ([]string, []any, error) {
	if c.Epoch >= maxLuaInt {
		return nil, nil, fmt.Errorf("redisstore: epoch %d out of range", c.Epoch)
	}
	blob := challengeBlob{ID: c.ID, User: c.User, Question: c.Question, Epoch: c.Epoch, Window: c.Window,
		IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt, Payload: c.Payload, Names: c.Names,
		Resync: c.Resync, ResyncDrift: c.ResyncDrift,
		Devices: make([]string, len(c.Tags)), Steps: make([]uint64, len(c.Tags)), Drifts: make([]int, len(c.Tags))}
	var tags strings.Builder
	tags.WriteByte('[')
	for i, t := range c.Tags {
		if t.Step >= maxLuaInt || t.Drift > math.MaxInt32 || t.Drift < math.MinInt32 {
			return nil, nil, fmt.Errorf("redisstore: tag %d: step or drift out of range", i)
		}
		if i > 0 {
			tags.WriteByte(',')
		}
		fmt.Fprintf(&tags, `["%s",%d,%d]`, hex.EncodeToString(t.MAC[:]), t.Step, t.Drift)
		blob.Devices[i], blob.Steps[i], blob.Drifts[i] = t.Device, t.Step, t.Drift
	}
	tags.WriteByte(']')
	rec, err := json.Marshal(blob)
	if err != nil {
		return nil, nil, fmt.Errorf("redisstore: encoding a challenge: %w", err)
	}
	k := s.keys(c.User)
	return []string{k.user, k.ch, k.chIdx, k.questions, k.issued},
		[]any{micros(now), c.ID, c.Epoch, c.Epoch, c.Question, durMicros(lim.Horizon), lim.PerMinute, lim.Outstanding,
			micros(c.ExpiresAt), c.Window, tags.String(), rec, slack.Milliseconds()}, nil
}

// Attempt implements authn.HotStore: one script.
func (s *Store) Attempt(ctx context.Context, user, client string, a *authn.ChallengeAnswer, p authn.LockPolicy, now time.Time) (authn.AttemptResult, error) {
	if a == nil {
		return s.count(ctx, user, client, p, now)
	}
	challengeID, mac, serverStep := a.ID, a.MAC, a.ServerStep
	if serverStep >= maxLuaInt {
		return authn.AttemptResult{}, fmt.Errorf("redisstore: server step %d out of range", serverStep)
	}
	k := s.keys(user)
	args := []any{micros(now), client, challengeID, hex.EncodeToString(mac[:]), serverStep, p.MaxAttempts}
	args = s.withLengths(append(args, policyArgs(p)...), p)
	v, err := scriptAttempt.Run(ctx, s.rdb, []string{k.user, k.ch, k.chIdx, k.locks}, args...).Result()
	if err != nil {
		return authn.AttemptResult{}, wrap("attempt", err)
	}
	n, rest, err := ints(v, 5)
	if err != nil || len(rest) != 2 {
		return authn.AttemptResult{}, wrap("attempt", fmt.Errorf("malformed reply: %v", err))
	}
	bucket, _ := rest[1].(string)
	res := authn.AttemptResult{Outcome: authn.AttemptOutcome(n[0]), Failures: int(n[2]), RetryAfter: time.Duration(n[3]),
		Slow: int(n[4]), Client: bucket}
	if res.Outcome != authn.AttemptMatch && res.Outcome != authn.AttemptMismatch {
		return res, nil
	}
	raw, ok := rest[0].(string)
	if !ok {
		return authn.AttemptResult{}, wrap("attempt", errors.New("reply without the challenge"))
	}
	var b challengeBlob
	if err := json.Unmarshal([]byte(raw), &b); err != nil {
		return authn.AttemptResult{}, wrap("attempt", fmt.Errorf("stored challenge does not decode: %w", err))
	}
	res.Challenge = authn.ChallengeRecord{ID: b.ID, User: b.User, Question: b.Question, Epoch: b.Epoch, Window: b.Window,
		IssuedAt: b.IssuedAt, ExpiresAt: b.ExpiresAt, Payload: b.Payload, Names: b.Names,
		Resync: b.Resync, ResyncDrift: b.ResyncDrift}
	if res.Outcome == authn.AttemptMatch {
		i := int(n[1])
		if i < 0 || i >= len(b.Devices) || i >= len(b.Steps) || i >= len(b.Drifts) {
			return authn.AttemptResult{}, wrap("attempt", errors.New("match index out of range"))
		}
		res.Match = authn.Tag{MAC: mac, Device: b.Devices[i], Step: b.Steps[i], Drift: b.Drifts[i]}
	}
	return res, nil
}

// RecordFailure implements authn.HotStore: one script. The state returned
// carries the bucket's lockout fields, not the epoch or push settings.
func (s *Store) RecordFailure(ctx context.Context, user, client string, p authn.LockPolicy, now time.Time) (authn.UserState, error) {
	v, err := scriptFail.Run(ctx, s.rdb, []string{s.keys(user).locks}, s.withLengths(append([]any{micros(now), client}, policyArgs(p)...), p)...).Result()
	if err != nil {
		return authn.UserState{}, wrap("record failure", err)
	}
	n, _, err := ints(v, 6)
	if err != nil {
		return authn.UserState{}, wrap("record failure", err)
	}
	return authn.UserState{Failures: int(n[0]), Level: int(n[1]), LockedUntil: instant(n[2]), LastFailure: instant(n[3]),
		Slow: int(n[4]), SlowSince: instant(n[5])}, nil
}

// Lockout implements authn.HotStore: one read of the user's locks hash.
func (s *Store) Lockout(ctx context.Context, user string, now time.Time) ([]authn.ClientLockout, error) {
	m, err := s.rdb.HGetAll(ctx, s.keys(user).locks).Result()
	if err != nil {
		return nil, wrap("lockout", err)
	}
	out := []authn.ClientLockout{{Client: ""}}
	for _, c := range slices.Sorted(maps.Keys(m)) {
		var n [6]int64
		f := strings.Fields(m[c])
		if len(f) != len(n) {
			return nil, wrap("lockout", errors.New("malformed bucket"))
		}
		for i := range n {
			if n[i], err = strconv.ParseInt(f[i], 10, 64); err != nil {
				return nil, wrap("lockout", fmt.Errorf("malformed bucket: %w", err))
			}
		}
		b := authn.ClientLockout{Client: c, State: authn.UserState{Failures: int(n[0]), Level: int(n[1]),
			LockedUntil: instant(n[2]), LastFailure: instant(n[3]), Slow: int(n[4]), SlowSince: instant(n[5])}}
		if c == "" {
			out[0] = b
			continue
		}
		out = append(out, b)
	}
	return out, nil
}

// ResetUser implements authn.HotStore: one script (failures and locks live
// in Redis only).
func (s *Store) ResetUser(ctx context.Context, user, client string, now time.Time) error {
	if err := scriptReset.Run(ctx, s.rdb, []string{s.keys(user).locks}, client).Err(); err != nil {
		return wrap("reset user", err)
	}
	return nil
}

// ClearLockout implements authn.HotStore: one command.
func (s *Store) ClearLockout(ctx context.Context, user string, now time.Time) error {
	if err := s.rdb.Del(ctx, s.keys(user).locks).Err(); err != nil {
		return wrap("clear lockout", err)
	}
	return nil
}

// RaiseEpoch implements authn.HotStore: one script raises the mirror of
// the user's epoch (it never falls). If the Service's call is lost (Redis
// unreachable right after the revocation), CommitStep in the records
// refuses any challenge of the old epoch, the Service passes the records'
// epoch to every push step, and the next PutChallenge raises the mirror.
func (s *Store) RaiseEpoch(ctx context.Context, user string, epoch uint64, now time.Time) error {
	if epoch >= maxLuaInt {
		return fmt.Errorf("redisstore: epoch %d out of range", epoch)
	}
	if err := scriptEpoch.Run(ctx, s.rdb, []string{s.keys(user).user}, epoch).Err(); err != nil {
		return wrap("epoch", err)
	}
	return nil
}

// count is Attempt with no answer (a TOTP code, a recovery code): the
// lock check and one failure, one script.
func (s *Store) count(ctx context.Context, user, client string, p authn.LockPolicy, now time.Time) (authn.AttemptResult, error) {
	v, err := scriptCount.Run(ctx, s.rdb, []string{s.keys(user).locks}, s.withLengths(append([]any{micros(now), client}, policyArgs(p)...), p)...).Result()
	if err != nil {
		return authn.AttemptResult{}, wrap("count attempt", err)
	}
	n, rest, err := ints(v, 4)
	if err != nil || len(rest) != 1 {
		return authn.AttemptResult{}, wrap("count attempt", fmt.Errorf("malformed reply: %v", err))
	}
	bucket, _ := rest[0].(string)
	res := authn.AttemptResult{Outcome: authn.AttemptMismatch, Failures: int(n[1]), RetryAfter: time.Duration(n[2]),
		Slow: int(n[3]), Client: bucket}
	if n[0] == 1 {
		res.Outcome = authn.AttemptLocked
	}
	return res, nil
}

// ---------------------------------------------------------------------
// Push requests (Redis; the epoch that voids them is the greater of the
// mirror and the records' epoch the Service passes).

type pushBlob struct {
	ID          string    `json:"id"`
	User        string    `json:"u"`
	Number      string    `json:"n"`
	Nonce       []byte    `json:"o"`
	Context     [4]string `json:"c"`
	Devices     []string  `json:"d"`
	Epoch       uint64    `json:"e"`
	Transaction []byte    `json:"t,omitempty"`
	Challenge   string    `json:"ch,omitempty"`
	CreatedAt   time.Time `json:"ca"`
	ExpiresAt   time.Time `json:"x"`
}

func decodePush(blob, state, answered any) (authn.PushRecord, error) {
	raw, ok1 := blob.(string)
	st, ok2 := state.(string)
	ans, _ := answered.(string)
	if !ok1 || !ok2 {
		return authn.PushRecord{}, errors.New("malformed push reply")
	}
	var b pushBlob
	if err := json.Unmarshal([]byte(raw), &b); err != nil {
		return authn.PushRecord{}, fmt.Errorf("stored push does not decode: %w", err)
	}
	return authn.PushRecord{ID: b.ID, User: b.User, Number: b.Number, Nonce: b.Nonce, Context: b.Context, Devices: b.Devices,
		State: authn.PushState(st), Answered: ans, Epoch: b.Epoch, Transaction: b.Transaction, Challenge: b.Challenge,
		CreatedAt: b.CreatedAt, ExpiresAt: b.ExpiresAt}, nil
}

// PutPush implements authn.HotStore: the ID pointer, then the record
// (raising the epoch mirror to p.Epoch).
func (s *Store) PutPush(ctx context.Context, p authn.PushRecord, now time.Time) error {
	if p.Epoch >= maxLuaInt {
		return fmt.Errorf("redisstore: epoch %d out of range", p.Epoch)
	}
	blob, err := json.Marshal(pushBlob{ID: p.ID, User: p.User, Number: p.Number, Nonce: p.Nonce, Context: p.Context, Devices: p.Devices,
		Epoch: p.Epoch, Transaction: p.Transaction, Challenge: p.Challenge, CreatedAt: p.CreatedAt, ExpiresAt: p.ExpiresAt})
	if err != nil {
		return fmt.Errorf("redisstore: encoding a push: %w", err)
	}
	life := time.Duration(ttlMillis(p.ExpiresAt, now)+time.Hour.Milliseconds()) * time.Millisecond
	ok, err := s.rdb.SetNX(ctx, s.pushPointer(p.ID), p.User, life).Result()
	if err != nil {
		return wrap("put push", err)
	}
	if !ok {
		return authn.ErrStoreConflict
	}
	k := s.keys(p.User)
	r, err := scriptPushPut.Run(ctx, s.rdb, []string{k.push, k.pushIdx, k.user}, micros(now), p.ID, blob, string(p.State),
		micros(p.ExpiresAt), p.Epoch, micros(p.CreatedAt), slack.Milliseconds()).Int()
	if err != nil {
		return wrap("put push", err)
	}
	if r == 1 {
		return authn.ErrStoreConflict
	}
	return nil
}

// Push implements authn.HotStore: the ID pointer, then the record, read
// against the epoch mirror (the Service checks the records' epoch too).
func (s *Store) Push(ctx context.Context, id string, now time.Time) (authn.PushRecord, error) {
	user, err := s.rdb.Get(ctx, s.pushPointer(id)).Result()
	if errors.Is(err, redis.Nil) {
		return authn.PushRecord{}, authn.ErrStoreNotFound
	} else if err != nil {
		return authn.PushRecord{}, wrap("push", err)
	}
	k := s.keys(user)
	v, err := scriptPushGet.Run(ctx, s.rdb, []string{k.push, k.user}, micros(now), id).Slice()
	if errors.Is(err, redis.Nil) {
		return authn.PushRecord{}, authn.ErrStoreNotFound
	} else if err != nil {
		return authn.PushRecord{}, wrap("push", err)
	}
	if len(v) != 3 {
		return authn.PushRecord{}, wrap("push", errors.New("malformed reply"))
	}
	rec, err := decodePush(v[0], v[1], v[2])
	if err != nil {
		return authn.PushRecord{}, wrap("push", err)
	}
	return rec, nil
}

// PendingPushes implements authn.HotStore: one script, against the
// greater of epoch and the mirror.
func (s *Store) PendingPushes(ctx context.Context, user, deviceID string, epoch uint64, now time.Time) ([]authn.PushRecord, error) {
	if epoch >= maxLuaInt {
		return nil, fmt.Errorf("redisstore: epoch %d out of range", epoch)
	}
	k := s.keys(user)
	v, err := scriptPushPending.Run(ctx, s.rdb, []string{k.push, k.pushIdx, k.user}, micros(now), epoch).Slice()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, wrap("pending pushes", err)
	}
	var out []authn.PushRecord
	for i := 0; i+1 < len(v); i += 2 {
		rec, err := decodePush(v[i], "pending", v[i+1])
		if err != nil {
			return nil, wrap("pending pushes", err)
		}
		for _, d := range rec.Devices {
			if d == deviceID {
				out = append(out, rec)
				break
			}
		}
	}
	return out, nil
}

// SetPushState implements authn.HotStore: one compare-and-set script,
// against the greater of epoch and the mirror.
func (s *Store) SetPushState(ctx context.Context, user, id string, epoch uint64, from, to authn.PushState, device string, now time.Time) (authn.PushRecord, error) {
	if epoch >= maxLuaInt {
		return authn.PushRecord{}, fmt.Errorf("redisstore: epoch %d out of range", epoch)
	}
	k := s.keys(user)
	v, err := scriptPushSet.Run(ctx, s.rdb, []string{k.push, k.user}, micros(now), id, epoch, string(from), string(to), device).Slice()
	if errors.Is(err, redis.Nil) {
		return authn.PushRecord{}, authn.ErrStoreNotFound
	} else if err != nil {
		return authn.PushRecord{}, wrap("set push state", err)
	}
	if len(v) != 4 {
		return authn.PushRecord{}, wrap("set push state", errors.New("malformed reply"))
	}
	rec, err := decodePush(v[1], v[2], v[3])
	if err != nil {
		return authn.PushRecord{}, wrap("set push state", err)
	}
	if code, _ := v[0].(int64); code == 1 {
		return rec, authn.ErrStoreConflict
	}
	return rec, nil
}

// ---------------------------------------------------------------------
// Take-once marks and budgets (Redis; each key its own slot).

// TakeOnce implements authn.HotStore: one script.
func (s *Store) TakeOnce(ctx context.Context, key string, expiresAt, now time.Time) error {
	r, err := scriptOnce.Run(ctx, s.rdb, []string{s.onceKey(key)}, micros(now), micros(expiresAt), ttlMillis(expiresAt, now)).Int()
	if err != nil {
		return wrap("take once", err)
	}
	if r == 1 {
		return authn.ErrStoreConflict
	}
	return nil
}

// Spend implements authn.HotStore: one script.
func (s *Store) Spend(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (int, error) {
	left, err := scriptSpend.Run(ctx, s.rdb, []string{s.spendKey(key)}, micros(now), limit, durMicros(window), window.Milliseconds()+slack.Milliseconds()).Int()
	if err != nil {
		return 0, wrap("spend", err)
	}
	if left < 0 {
		return 0, authn.ErrStoreLimit
	}
	return left, nil
}

// Refund implements authn.HotStore: one script, the marks kept in the
// budget's own hash.
func (s *Store) Refund(ctx context.Context, key, mark string, window time.Duration, spentAt, now time.Time) (bool, error) {
	r, err := scriptRefund.Run(ctx, s.rdb, []string{s.spendKey(key)}, micros(now), durMicros(window), micros(spentAt), mark).Int()
	if err != nil {
		return false, wrap("refund", err)
	}
	return r == 1, nil
}

// ---------------------------------------------------------------------
// The user's hot state as a whole.

// DeleteUser implements authn.HotStore: one script over the user's keys,
// then the push-ID pointers. (The Service erases the records first.)
func (s *Store) DeleteUser(ctx context.Context, user string, now time.Time) error {
	ids, err := scriptDeleteUser.Run(ctx, s.rdb, s.keys(user).all()).StringSlice()
	if err != nil && !errors.Is(err, redis.Nil) {
		return wrap("delete user", err)
	}
	return s.dropPointers(ctx, ids)
}

func (s *Store) dropPointers(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	pipe := s.rdb.Pipeline()
	for _, id := range ids {
		pipe.Del(ctx, s.pushPointer(id))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return wrap("drop push pointers", err)
	}
	return nil
}

// Sweep implements authn.HotStore: every user's hot records (found with
// SCAN on each primary) and every expired mark and budget. Redis expiry
// collects the same records later anyway; Sweep makes the logical expiry
// exact. (The records sweep their own.)
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	n := 0
	seen := map[string]bool{}
	err := s.scan(ctx, globEscape(s.prefix)+":{u*}:*", func(ctx context.Context, key string) error {
		user, ok := s.userFromKey(key)
		if !ok || seen[user] {
			return nil
		}
		seen[user] = true
		v, err := scriptSweepUser.Run(ctx, s.rdb, s.keys(user).all(), micros(now)).Slice()
		if err != nil {
			return wrap("sweep", err)
		}
		if len(v) == 0 {
			return wrap("sweep", errors.New("malformed reply"))
		}
		c, _ := v[0].(int64)
		n += int(c)
		ids := make([]string, 0, len(v)-1)
		for _, x := range v[1:] {
			if id, ok := x.(string); ok {
				ids = append(ids, id)
			}
		}
		return s.dropPointers(ctx, ids)
	})
	if err != nil {
		return n, err
	}
	for _, kind := range []string{":once:{*", ":spend:{*"} {
		err = s.scan(ctx, globEscape(s.prefix)+kind, func(ctx context.Context, key string) error {
			c, err := scriptSweepKey.Run(ctx, s.rdb, []string{key}, micros(now)).Int()
			if err != nil {
				return wrap("sweep", err)
			}
			n += c
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// scan calls fn for every key matching pattern on every primary. A
// Cluster client scans its primaries concurrently; fn is called under a
// lock, one key at a time, so that it may keep counts.
func (s *Store) scan(ctx context.Context, pattern string, fn func(context.Context, string) error) error {
	var mu sync.Mutex
	return forEachPrimary(ctx, s.rdb, func(ctx context.Context, c *redis.Client) error {
		it := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			err := fn(ctx, it.Val())
			mu.Unlock()
			if err != nil {
				return err
			}
		}
		if err := it.Err(); err != nil {
			return wrap("scan", err)
		}
		return nil
	})
}

func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
