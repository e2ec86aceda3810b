// Package postgres is Tsubasa's storage backend for several replicas: any
// number of processes share one PostgreSQL database through
// github.com/jackc/pgx/v5 (a pgxpool per process). Open it with Open; it
// passes the storagetest conformance suite, every case, as storage/bolt
// does.
//
// # Schema and migrations
//
// The schema is a sequence of SQL files embedded from migrations/
// (NNNN_name.sql, versions 1, 2, … without gaps). Open applies the pending
// ones (Migrate does only that, ReadStatus reports where a database
// stands), all in one transaction that first takes a transaction-scoped
// advisory lock: replicas that start together queue on the lock, the first
// migrates, the others find nothing pending. The versions applied are
// recorded in schema_migrations with the SHA-256 of their SQL. Open refuses
// a database with a version this code does not know (ErrSchemaTooNew: a
// newer Tsubasa migrated it, and this one does not know what changed), or
// whose applied SQL differs from the embedded one; with
// Options.NoMigrate, for operators who migrate before a rollout, it also
// refuses one with migrations pending (ErrSchemaBehind) instead of applying
// them. Migrations run without the statement timeout.
//
// Every table keeps the whole record as JSON (data), as bolt does, so that
// records round-trip exactly (nanosecond times in UTC, nil apart from empty
// slices and maps, nil pointers), and beside it the columns that lookups,
// filters, uniqueness and expiry need, each with its index (see
// migrations/0001_initial.sql): member by id, number and WebAuthn handle;
// tokens by id, member, client, session, family and authorization request;
// sessions by member and device; one OTP per member and purpose; devices,
// consents and passkeys by member; events by member and time; pending
// outbox messages by due time; and every expiring kind by expiry. A time
// that SQL compares is a timestamptz (microseconds) and the nanoseconds
// below it, compared as a row, so SQL decides exactly as the Go value
// would. The plans of these lookups on a million members are checked to use
// their index (TestHotLookupsUseIndexes). The back office's lookup of
// members by email or phone (MemberContacts) reads columns of their own,
// email and phone, with partial indexes (migration 8), which every write
// of a member fills from the record (contacts.go): not expression indexes
// on the JSON, which PostgreSQL cannot compute for a record holding a
// NUL. Migration 8 fills them for the members already stored, in SQL
// where ->> cannot fail and in Go for the other records
// (migrate_steps.go, the one migration with a step in Go).
//
// Strings that PostgreSQL text cannot hold (invalid UTF-8, NUL) are never
// stored keys: a lookup by one finds nothing instead of failing.
//
// # Writes and single use
//
// Every write is one transaction (READ COMMITTED); one that PostgreSQL
// aborts as a deadlock victim runs again. A write of one statement
// (creating, replacing or deleting a record) is sent alone, a
// transaction of its own without BEGIN and COMMIT: one round trip instead
// of three. An update sends BEGIN with its SELECT … FOR UPDATE and its
// UPDATE with COMMIT: two round trips instead of four (pipeline.go). When
// the request's unit holds writes, these go in their transaction instead
// (see Units). A code's claim, its request's deletion and the tokens it
// mints are one statement, a transaction of its own (data-modifying
// CTEs; each token inserted only if the request was deleted): one round
// trip instead of five. A statement can roll itself back only by
// failing, so one whose request was gone divides by zero and leaves the
// code unclaimed, as a taken token id does (claimone.go). A refresh
// token's rotation and its new tokens are one statement too, rolled back
// by a taken token id. UpdateX reads the row with
// SELECT … FOR UPDATE, applies fn and writes it back, so concurrent updates
// in any number of processes are serialised on the row (fn may run more
// than once). Single use is one statement: a code's claim is UPDATE
// auth_codes SET consumed = true WHERE hash = $1 AND NOT consumed AND not
// expired RETURNING, a refresh token's the same on tokens; of concurrent
// claims exactly one finds the row unconsumed (the others wait for its row
// lock, then find it consumed), and a claim that cannot finish (its request
// gone, a token id taken) rolls back and leaves the code or token
// unclaimed. One-time passwords are claimed through UpdateOTP, whose row
// lock makes the check of fn and the write one step. Unique keys are
// constraints, and a violation is ErrAlreadyExists. CreateTokens,
// CreateMembers and the tokens of a claim in a unit's transaction are
// sent as one batch.
//
// Secret inserts with ON CONFLICT DO NOTHING and then reads: the first
// transaction to commit wins in every process. ReserveSMS locks
// sms_budget (SHARE ROW EXCLUSIVE, which only reservations take) for its
// check and count. ChangeCredentials locks the member's row, then deletes
// the sessions and tokens and returns what its DELETE … RETURNING removed.
// DeleteExpired deletes in chunks with FOR UPDATE SKIP LOCKED, so janitors
// on several replicas share the work without a lease, and a row another
// transaction holds is left for the next run; DeleteEventsBefore (the
// audit retention) does the same through events_by_time (migration 0009).
// A refresh token's rotation rewrites its row as its tombstone in the
// same UPDATE that claims it (rotateSQL). ClaimDueMessages locks due
// outbox rows with SKIP LOCKED and leases them, so outbox workers on
// several replicas take disjoint messages; the worker must claim with it
// rather than read DueMessages. The claim skips a message whose order key
// (a webhook's subscription and member) has an earlier pending row,
// locked or not (NOT EXISTS over the outbox_by_order index, migration
// 0007): a leased row stays pending, so no replica sends a member's later
// event while an earlier one is in flight or waiting to be retried. Every
// write of an event reads the webhooks table in its transaction and
// queues the deliveries there (createEvent). Work that one replica must do alone (key
// rotation, the first signing keys) takes a lease with ClaimOnce.
//
// # Limits and single use
//
// What decides a limit or a single use and used to live in each process
// (storage/limits.go) is in the tables of migration 2, and nothing of it
// is kept in memory (limits.go):
//
//   - Throttles (address and unknown-number login throttles, one-time
//     password resend windows): UpdateThrottles inserts a placeholder row
//     for each missing key (ON CONFLICT DO NOTHING), locks the rows in key
//     order FOR UPDATE, applies fn and writes back, in one transaction
//     whose first two statements go in one round trip. Concurrent updates
//     of a key in any process are serialised on its row.
//   - LoginAttempts: EnterLogin is one statement. It locks the member's
//     row and the device's FOR SHARE, which returns their newest version
//     and keeps a write of them from committing until it ends, and counts
//     the attempt with INSERT … ON CONFLICT DO UPDATE on login_flights,
//     whose row lock serialises the counts; the count lapses at the
//     latest lease given (a replica that dies leaves its counts for that
//     long). LeaveLogin is held in the request's unit, so a login that
//     succeeds uncounts itself in the transaction of what it answers with.
//     A password login on PostgreSQL therefore makes one round trip more
//     than it used to before its hash (EnterLogin, which also replaces
//     the member and device reads, and waits for no WAL flush) and one
//     more statement inside the commit it makes anyway (LeaveLogin); the
//     address's window adds one read before anything else (a refused
//     address must look nothing up). BenchmarkLoginStorage
//     (provider/member) measures the whole.
//   - SingleUse: ClaimOnce is one statement, INSERT … ON CONFLICT DO
//     UPDATE … WHERE the existing claim has expired, RETURNING: of
//     concurrent claims one inserts, the others find it live.
//
// Times there are Unix nanoseconds (bigint), compared exactly as Go
// compares them. The janitor deletes expired throttles and claims and
// lapsed counts with the same SKIP LOCKED chunks as the other tables.
//
// # Units
//
// A request's unit (storage.Units) holds AppendEvent, CreateSession and
// RecordLogin without an alert as functions, not as an open transaction:
// no connection is held while the request works. The request's next write
// that cannot be held runs them first, in its own transaction, and itself
// behind a savepoint: its own expected failure (a replayed code, say) rolls
// back to the savepoint and the held writes still commit, as bolt's aborts
// do; a held write that fails fails the transaction, and the unit keeps the
// error for its commit function. The commit function runs what is left in
// one transaction. The observable semantics are the units conformance
// cases'.
//
// Authorization requests are rows from CreateAuthRequest on (bolt keeps
// them in memory until their code), because any replica may serve any
// step of a login. Within one HTTP request, an update of a request that
// request has just stored (storage.WithHandoff) is one compare-and-swap
// statement on the row's data instead of a locked read and a write; a row
// that changed meanwhile falls back to the locked update (handoff.go).
// Under the SSO answer's deferred handoff (storage.WithDeferredHandoff) a
// request /authorize creates is not inserted at all until its code: it is
// held in that HTTP request's context, updated there, and stored once, in
// its final state, with its code in one statement, or at the answer when
// it needs the login page. Nobody else can know of it meanwhile, since
// its id first appears in that answer, and the answer never starts before
// it is stored.
// The token endpoint reads a code and its request in one joined
// statement, with the code exchange's fresh facts (the newest revocation
// that could select the code's tokens and the member's security stamp)
// in the same statement (storage.FreshCode, freshcode.go): a code issued
// with its request (IssueAuthCode) is stored with those keys and that
// member (auth_codes.revocation_keys and member_id, codeRow), each looked
// up by primary key. The facts are used only when the stored keys and
// member are those of the request read with the code; a code stored
// without them (SaveAuthCode, or before migration 10) is left to the
// separate fresh reads. A code that carries its request
// (provider/codeseal.go) is not read at all: its claim makes the same
// checks, from the caller's keys, member and stamp, in the statement that
// claims it and stores its tokens (ClaimAuthCodeFresh, claimfresh.go),
// so an SSO code flow is two round trips: the request with its code, and
// the claim with its tokens.
//
// # Several processes: what is kept in memory
//
// Besides the one HTTP request's handoff above (a request nobody else can
// know of yet, and copies that never decide an outcome by themselves),
// three caches live in each process, each safe to be stale for at most
// Options.RevocationDelay (default 1s; storage.postgres.revocation_delay):
//
//   - the revocations of tokens that are not stored (revocations.go): all
//     of them, for TokenRevoked, which is on every userinfo, introspection
//     and bearer check and so answers with a few map lookups;
//   - decoded members for MemberByID (recordCache, cache.go), at most
//     10,000;
//   - browser sessions for SessionByIDCached (storage.CachedSessions), at
//     most 20,000: the SSO answer's read, a round trip less per SSO code
//     flow. A trigger (migration 11) announces every deletion of a
//     session and every change of its member, device or lifetime,
//     whoever makes it; changes of the record's JSON alone are not
//     announced, and the SSO answer only grows more cautious with a copy
//     that lacks them (a weaker method, an older login: the login page
//     then reads the stored session). This process's own session writes
//     drop the copy when they return.
//
// Writes that the other processes must see (DeleteTokens,
// ChangeCredentials, UpdateMember, UpdateMemberWithEvents) send a
// notification (pg_notify) in their own transaction: it is delivered to
// every listening process when the transaction commits, or never. Each
// process has a listener, a connection of its own (application_name
// tsubasa-listener-…), that applies them. PostgreSQL delivers the
// notifications of different transactions in commit order, so the
// listener proves how fresh it is with pings: every RevocationDelay/2 it
// notifies a channel of its own through the pool and notes when; when the
// ping comes back, everything committed before that moment has been
// applied. The caches answer only while that moment is less than
// RevocationDelay ago; otherwise TokenRevoked asks the database (all the
// filter keys that could select the token, by primary key) and MemberByID
// reads the row. A listener that loses its connection reconnects with
// LISTEN first, then reads every revocation again and empties the member
// and session caches. So a revocation or a member change made on any replica is
// enforced on every other within RevocationDelay, whether the listener
// works, hangs or reconnects; a database error in TokenRevoked is an
// error, never "not revoked". The bound is for what was issued before the
// change: TokenRevokedFresh and MemberByIDFresh (storage.Fresh) skip the
// caches and read the database, for the code exchange, whose tokens would
// otherwise be minted after a revocation that does not cover them
// (storage/fresh.go); TokenRevokedAndMemberFresh (storage.FreshPair)
// sends both reads as one batch, one round trip; PeekAuthCodeFresh
// (storage.FreshCode) makes both in the code's own read, none;
// ClaimAuthCodeFresh makes both in the claim itself, in the snapshot of
// the statement that stores the tokens. The bound assumes the replicas' clocks agree
// (NTP): a revocation is stamped with the revoking replica's clock and
// compared with the token's CreatedAt from the issuing replica's.
//
// LISTEN needs a session: the URL must reach PostgreSQL directly or through
// a pooler in session mode. PgBouncer's transaction mode accepts LISTEN and
// never delivers: Open fails when its listener cannot connect or its first
// ping does not come back within 10s.
//
// Clients and signing keys are not cached here. Their writes notify every
// process too ("c<id>", "k<id>"), and the feed hands the notifications to
// the subscribers of OnChange (storage.ChangeNotifier; changes.go): the
// provider's client cache and key ring, which answer from memory only
// while ChangesCurrent (the feed's freshness) holds. A listener that
// reconnects tells them that anything may have changed.
//
// # Export, import and readiness
//
// Export reads every record of a kind in one read-only REPEATABLE READ
// transaction; Import writes a batch through the tables' own inserts in
// one transaction (export.go), and a batch of revocations is announced
// to every process ("R": read them all again). Ping checks the database
// through the pool, which replaces connections the server ended, for
// /readyz.
//
// # Connections
//
// Options set the pool size (MaxConns, default 10; the listener is one
// more connection), the statement timeout (default 5s, PostgreSQL's
// statement_timeout on every pooled connection) and the TLS mode (SSLMode:
// disable, require, verify-ca or verify-full; allow and prefer are refused
// because they fall back to plain text silently; SSLRootCert names the
// CA file). Errors never quote the URL's password.
//
// # Sizing
//
// BenchmarkBytesPerRecord (size_test.go) measures what each kind of
// record takes on disk with its indexes; the README's "Sizing on paper"
// (under "Several replicas on PostgreSQL") multiplies those figures and
// the load comparison's CPU, WAL and round trips per flow into replicas,
// cores, IOPS, connections and database size, with the arithmetic shown.
package postgres
