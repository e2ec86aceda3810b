package storage

import "context"

// Erased is what EraseMember removed.
type Erased struct {
	Sessions int // browser sessions ended
	Tokens   int // stored tokens deleted (every other token is revoked too)
	Records  int // every record deleted, the above included
}

// Erasure removes a member and everything stored about them (the right
// to erasure): one commit, or nothing.
type Erasure interface {
	// EraseMember deletes the member with memberID and, in the same
	// commit, every record about them: the number and WebAuthn handle
	// indexes, sessions, stored tokens (and records the revocation of
	// every token of the member, as DeleteTokens(TokenFilter{MemberID})
	// does, so that self-contained access tokens stay refused until they
	// expire: a revocation holds the member id, no personal data), OTPs,
	// devices, passkeys, consents, events, authorization requests and
	// codes, device grants, support sessions, queued mail and SMS
	// addressed to the member's email or phone, and the throttles and
	// attempts keyed by the member or their number. Back-channel logout
	// messages already queued stay: they carry the member id alone and
	// tell relying parties that the sessions ended. It then appends
	// tombstone, an Event the caller fills with no personal data, so that
	// the erasure can be proved. ErrNotFound, writing nothing, when there
	// is no such member; ErrAlreadyExists when the tombstone's id is taken.
	// check, when not nil, sees the member as the commit reads it, and an
	// error from it (the member changed since the caller read it) aborts
	// the erasure, writing nothing, and is returned.
	// A rotated refresh token's Tombstone names no member: it is not
	// about them, and stays until it expires.
	EraseMember(ctx context.Context, memberID string, check func(Member) error, tombstone Event) (Erased, error)
}
