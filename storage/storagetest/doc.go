// Package storagetest is the conformance suite of storage backends: every
// backend runs every case, with no optional tiers.
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Store { return openEmpty(t) })
//	}
//
// Run (shaped like testing/slogtest and testing/fstest) runs one subtest per
// invariant, grouped by role; each subtest's name states what it checks,
// e.g. "AuthRequests/ClaimAuthCode/second claim returns ErrConsumed with the
// code", so a failure reads as the broken rule. The cases cover CRUD of
// every role; the unique indexes (member number, WebAuthn handle, passkey
// id, one OTP per member and purpose) and the list indexes, after updates
// that move them and after deletes; the sentinel errors through errors.Is;
// UpdateX aborting on an error from its function; UTC and nil/empty
// round-trips; copies; expiry and DeleteExpired with a fixed clock; and
// ChangeCredentials replacing a credential and ending the member's
// sessions and tokens in one commit, or nothing when it is refused; and
// races: 100 goroutines on one UpdateMember and on one UpdateDevice (a
// device's login throttle), 50 concurrent claims of one code, refresh
// token, OTP or pushed authorization request, and 50 concurrent uses of
// one client-assertion jti, with exactly one winner, 20 concurrent first
// callers of Secret, 100 concurrent SMS reservations against a budget of
// 30, 10 outbox workers claiming 20 messages, each exactly once; 100
// concurrent throttle updates (and a limit of 30 checked in them), 50
// concurrent login attempts counted 1 to 50, 50 concurrent claims of one
// single-use key with one winner. Changes of clients and signing keys must
// be heard by the subscribers of ChangeNotifier, by id, in the order made.
//
// The suite opens one store per case, so it checks what one process sees.
// What several processes sharing a backend must also keep (single use and
// limits across pools, revocations reaching the others within the
// backend's bound, and storage.Fresh reads that see them at once) is the
// backend's own tests' (storage/postgres).
//
// Where the storage contract leaves a choice, the suite pins one so that
// backends agree: deleting a missing record returns ErrNotFound;
// ClaimAuthCode and RotateRefreshToken return the record as stored after
// the claim (Consumed set; for a refresh token, its Tombstone); an unconsumed code whose auth request is gone
// is ErrNotFound; DueMessages (and ClaimDueMessages) order by
// NextAttemptAt, then CreatedAt, then id;
// ListSessions, DeleteSessions, ListTokens and DeleteTokens refuse an empty
// filter. Lists other than ListEvents and DueMessages are compared as sets.
//
// The suite keeps no clock: every time derives from one fixed instant.
// Clock (clock.go) is for the tests of the services above storage.
package storagetest
