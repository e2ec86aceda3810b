// Package storage owns Tsubasa's records, the sentinel errors and the small
// role interfaces through which every other package reaches persistent state.
//
// It imports only the standard library so that any backend (the embedded
// bolt backend in storage/bolt, or the PostgreSQL one in storage/postgres,
// which several processes share) can implement it,
// and so that consumers depend on the narrowest role they need rather than on
// a database. Store embeds every role plus Close.
//
// Conventions every backend must keep (storage/storagetest checks them):
//
//   - Lookups of a missing or expired record return an error wrapping
//     ErrNotFound; creating a record whose key or unique index is taken
//     returns ErrAlreadyExists; claiming a single-use record twice returns
//     ErrConsumed; deleting a single missing record (DeleteX) returns
//     ErrNotFound, while the filtered DeleteTokens/DeleteSessions return 0.
//     Test with errors.Is.
//   - UpdateX(ctx, id, fn) runs fn on the current record and stores what it
//     returns, atomically. fn may run more than once, must be pure and must
//     not call the store; an error from fn aborts the update and is returned.
//   - Times are stored and returned in UTC.
//   - Secrets never reach storage in the clear: callers hand over hashes
//     (argon2id PHC strings for passwords and PINs, HMAC-SHA-256 for codes,
//     OTPs, client secrets and opaque tokens).
//   - Expiry is the caller's clock. Plain reads return a record even past
//     its ExpiresAt (callers check Expired(now)); the single-use claims
//     (ClaimAuthCode, RotateRefreshToken, ClaimPushedRequest, UseJTI,
//     ClaimOnce, the device grants' UpdateDeviceGrant) and the time-windowed roles (ReserveSMS, DueMessages,
//     Throttles, LoginAttempts) take now and treat an expired record as
//     ErrNotFound, the zero record or out of the window. DeleteExpired(now),
//     called by a janitor, removes what has expired.
//   - What decides a security outcome (single use, limits, lockouts,
//     revocation) holds across every process that shares a backend: the
//     claims and UpdateX are atomic in the database, not in memory, and
//     a backend's caches say how stale they may be (storage/postgres:
//     a configured bound); a decision whose outcome outlives that bound
//     (a code exchange, which mints tokens a revocation made before them
//     does not cover) reads past them through Fresh (fresh.go). The limits that used to live in each
//     process's memory have roles of their own (limits.go: Throttles,
//     LoginAttempts, SingleUse), and the caches above storage hear of
//     changes made by other processes through ChangeNotifier
//     (changes.go). A backend that is one process by construction
//     (storage/bolt) may keep them in its memory, where they are exact.
//     One caller keeps a decision in memory where the backend is its
//     alone: the provider's replay check of client assertions and DPoP
//     proofs on bbolt (provider/replay.go says why that is safe), which
//     uses UseJTI and JTIUsed for what it cannot.
//   - One clock is the backend's own: the time a revocation is recorded at
//     (DeleteTokens, ChangeCredentials). An access token issued before a
//     revocation that covers it is refused (TokenRevoked), so the
//     revocation's time must come from the same clock as the tokens' issue
//     times; backends take it from their options (default time.Now), and
//     tests inject the provider's clock there.
//   - The HTTP admin API keeps its state here too (admin.go): the answers
//     of requests made with an idempotency key (Idempotency, one atomic
//     reservation per key), its jobs (Jobs) and a member's audit log read
//     a page at a time (EventPages), so that any replica answers a retry,
//     a job's progress or the next page alike.
//   - Member support sessions (support.go, SupportSessions) decide whether
//     an agent may change a member's credentials: each entry of a code is
//     counted and the single verification made in one atomic update, so
//     the attempt bound and single use hold across replicas. Their state
//     machine is methods of the record (Enter, Verify, Fail), which every
//     backend's update runs. They last minutes and are not exported.
//   - Webhook deliveries (webhooks.go) are queued by the backend itself,
//     in the commit that appends an event, whichever role's write it is
//     (AppendEvent, RecordLogin, UpdateMemberWithEvents,
//     ChangeCredentials): one outbox message per subscription that asks
//     for the type, read in that transaction. Their OrderKey (the
//     subscription and the member) keeps a later one unclaimed while an
//     earlier one is pending, in the claim itself, so the order holds
//     across replicas. Import writes events as they were and queues
//     nothing.
//   - Exporter and Importer move a whole store to another backend
//     (tsubasa migrate-storage): Export yields every record of a Kind as
//     stored, Import writes them back exactly, one commit per call, into
//     a store no server uses yet. Authorization requests and codes, logins
//     in progress, are not among the kinds.
//   - A handoff (handoff.go, WithHandoff) carries, within one HTTP
//     request, the authorization request as that request last stored it
//     and the session as it read it, from the step that did to a later
//     step (the provider creates the request in /authorize, the login UI
//     answers it from the SSO session, the provider mints its code), so
//     that no step reads back what the request itself just wrote. It
//     never outlives the request and never decides an outcome: the writes
//     that do still read the row under its lock.
package storage
