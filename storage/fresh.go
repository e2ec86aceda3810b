package storage

import "context"

// Fresh is implemented by a backend that answers TokenRevoked and
// MemberByID from caches that may be stale by a bounded delay
// (storage/postgres: storage.postgres.revocation_delay, while a replica
// has not yet heard of another's change). Its methods ask the database
// itself. A decision whose outcome outlives that delay takes them: what a
// code mints at its exchange lives on after the bound (tokens created
// after a revocation are not covered by it), so a logout or a credential
// change that a replica's cache has not seen yet must still stop the
// code. A backend without caches (bolt, one process) need not implement
// it: its TokenRevoked and MemberByID are exact.
type Fresh interface {
	// TokenRevokedFresh is TokenRevoked from the database.
	TokenRevokedFresh(ctx context.Context, t Token) (bool, error)
	// MemberByIDFresh is MemberByID from the database.
	MemberByIDFresh(ctx context.Context, id string) (Member, error)
}

// FreshPair is implemented by a Fresh backend that can make both of the
// code exchange's fresh reads in one round trip (storage/postgres: one
// pipelined batch). The two reads are independent; sending them together
// changes how many round trips the exchange waits for, not what either
// reads.
type FreshPair interface {
	// TokenRevokedAndMemberFresh is TokenRevokedFresh(t) and
	// MemberByIDFresh(memberID) at once. A missing member is err
	// wrapping ErrNotFound with revoked still answered; any other error
	// answers neither.
	TokenRevokedAndMemberFresh(ctx context.Context, t Token, memberID string) (revoked bool, m Member, err error)
}
