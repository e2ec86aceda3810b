// Package storage owns Tsubasa's records, the sentinel errors and the small
// role interfaces through which every other package reaches persistent state.
//
// It imports only the standard library so that any backend (the embedded
// bolt backend in storage/bolt, or a future PostgreSQL one) can implement it,
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
//   - Backends keep no clock. Plain reads return a record even past its
//     ExpiresAt (callers check Expired(now), since they own the clock); the
//     single-use claims (ClaimAuthCode, RotateRefreshToken) take now and treat
//     an expired record as ErrNotFound. DeleteExpired(now), called by a
//     janitor, removes what has expired.
package storage
