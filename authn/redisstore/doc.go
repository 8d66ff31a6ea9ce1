// Package redisstore is an authn.HotStore for many Service instances: the
// hot, short-lived state lives in Redis, as Lua scripts that each make one
// atomic step. It is paired in authn.Config with any RecordStore that
// keeps the durable records (an sqlstore: PostgreSQL for a cluster of
// instances); it never calls that store.
//
// # The split
//
// In Redis: outstanding challenges with their tags, the recent questions
// and issue counts that limit them, the user's failure counter, lock
// level and lock expiry, push requests and their states, take-once marks
// (nonces, replay marks) and budgets (rate limits), and mirrors of the
// user's epoch and devices version.
//
// In the RecordStore: devices with their sealed secrets, last accepted
// step and drift, activations, TOTP keys, recovery codes, the user's
// epoch (bumped with a revocation, in the same statement) and push
// settings.
//
// The epoch mirror follows the records' epoch three ways: the Service
// calls RaiseEpoch after a revocation or a replacement; every challenge
// and push request carries the epoch the Service read from the records,
// and storing one raises the mirror to it; and the push steps (the
// pending list, every state change) are handed the records' epoch, which
// the Service reads before each, and compare with the greater of the two.
//
// # Round trips
//
// FinishChallenge costs one script (Attempt: the lock check, the count,
// the constant-time tag comparison, the consumption of the challenge and
// the reset, atomically) and, on a match, one durable statement
// (CommitStep): 2 round trips, 1 for a wrong response. A match that
// moves the phone's drift costs one read of the records and two scripts
// more (the mirrors raised, below). The Service reads the records' epoch
// before each push step and runs one script, so that a revocation voids
// pending approvals even if the epoch mirror missed it.
//
// BeginChallenge costs one script and nothing in the records when the
// Service holds the user's devices and nothing changed since: the Store
// is an authn.MirroredIssuer. The records keep a devices version per
// user (authn.LoginRecords), raised in the same statement as every
// change a challenge depends on (a pairing, a revocation, a rename, a
// new sealed secret, a new drift; sqlstore does it with triggers); the
// Service keeps each user's devices with their version, and the user
// hash mirrors the highest version a Service handed it (dv) and when
// (dt, the Service's clock). IssueMirrored checks, in the script that
// stores the challenge, that the version the Service's devices were read
// at is the mirror's and the mirror is live; if not, it stores nothing,
// and the Service reads the records (one statement) and runs the script
// again with the version it read, which raises the mirror: one
// statement and two scripts. A Service that changes the devices reads
// them again and raises the mirror at once (RaiseDevices), so the next
// BeginChallenge on any instance is made from the devices as they
// stand: a phone paired on one instance answers the next challenge
// issued by another.
//
// The mirror lives WithDevicesMirror (five minutes by default) after the
// last time it was raised or confirmed by a read of the records; a
// BeginChallenge from a remembered device list never extends it. So a
// lost RaiseDevices (Redis unreachable right after the change) costs, for
// at most that long, challenges made from the devices as they were: a
// phone just paired not offered, an old name or drift. It never lets a
// removed phone in: a revocation or a replacement bumps the user's epoch
// in the records, every challenge carries the epoch its devices were
// read at, and CommitStep refuses a match of an older epoch; a refused
// commit makes the Service read the records and raise both mirrors, so
// the next challenge is made from the devices as they stand.
//
// # Keys and Redis Cluster
//
// Every key starts with the store's prefix (WithPrefix), and all of one
// user's keys share one hash slot, which no user ID can escape: the store
// works unchanged through redis.NewClusterClient or a failover client
// (any redis.UniversalClient that is a *redis.Client or
// *redis.ClusterClient), and every script stays within one slot.
// Exactly-once holds per Redis primary. TestCluster runs the conformance
// suite through a cluster of three primaries.
//
// # What the server needs
//
// Redis 6.0 or later (MinVersion; tested on 7.0) with Lua scripting
// (EVAL, EVALSHA and SCRIPT enabled for the client's user) and
// maxmemory-policy noeviction: Open reads the policy with CONFIG GET on
// every primary and refuses any other (ErrEvictionPolicy), because an
// evicted key would silently reset failure counters and forget replay
// marks. Where CONFIG is disabled (managed services) Open fails with
// ErrUnverifiedPolicy unless the caller vouches with AssumeNoEviction().
// The policy is checked again after Open, by the first call after each
// interval (a minute by default, WithPolicyCheck): a server whose policy
// was changed to an evicting one makes every call fail with
// ErrEvictionPolicy (wrapping authn.ErrStoreUnavailable, so logins fail
// closed) until it is noeviction again. Changed by hand, or by a managed
// service's parameter group, the policy is thus noticed within a minute
// instead of at the next restart.
// Keys expire only to collect garbage, an hour after their logical
// expiry; the logic reads the Service's clock, never Redis's. The user hash
// (the epoch and devices mirrors) and the user's locks hash (one field per lockout
// bucket: failures, level, lock, last failure and long-horizon count) are
// kept until the user is deleted.
//
// # When Redis is down, restarts or fails over
//
// Every call that needs Redis returns its error (the Service reports
// ErrStoreUnavailable wrapping it) and accepts nothing; go-redis
// reconnects by itself, so the same Store works again once the server is
// back. What a restart without persistence, a failover to a replica that
// had not received the latest writes, or a FLUSHALL can lose: live
// challenges (the user asks for a new one), pending pushes (the login
// page falls back to challenge/response), failure counters and lock
// levels (an attacker regains at most MaxFailures guesses per loss — run
// Redis with appendonly yes and appendfsync everysec or always to bound
// this), take-once marks and budgets. It cannot lose a device, a secret,
// a drift or a last accepted step, which are durable. A response already
// accepted is not accepted again after a loss either: its challenge was
// consumed (or lost, and an answer to a lost challenge is refused), and a
// new challenge is a new question; and the durable CommitStep refuses any
// step before the device's last. If the epoch mirror misses a revocation
// (Redis unreachable right after the revocation in the records, so that
// RaiseEpoch fails), challenges of the old epoch may still match in
// Redis, but CommitStep refuses them, and the next PutChallenge raises
// the mirror.
//
// The epoch and devices mirrors only rise. After restoring the durable
// store from a backup (which can take epochs and devices versions back),
// delete the store's Redis keys (everything under its prefix) too, or
// users whose epoch or devices version went back cannot be given
// challenges until it rises past the mirror again.
//
// # Atomicity across the two stores
//
// No step needs both stores atomically. The hot paths are one store each.
// A TOTP or recovery-code attempt is counted in Redis first (Attempt with
// no answer) and then read or consumed in the durable store, so it is
// counted before it is checked; on a success the Service's reset comes
// last, so a lost reset leaves the user with failures, never the reverse.
// The durable store's own failure counters are unused: every failure is
// counted, and every lock kept, in Redis.
package redisstore
