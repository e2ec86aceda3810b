package storage

import (
	"context"
	"crypto/subtle"
	"errors"
	"time"
)

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

// CodeToken is what the tokens of code c of request r would be, as far as
// a revocation can select them: the code exchange asks whether a
// revocation made since the code was issued covers this token.
func CodeToken(c AuthCode, r AuthRequest) Token {
	return Token{ClientID: r.ClientID, MemberID: r.MemberID, SessionID: r.SessionID, AuthRequestID: r.ID, CreatedAt: c.CreatedAt}
}

// CodeFacts are the code exchange's fresh facts about a code c and its
// request r, read from the database (see FreshCode).
type CodeFacts struct {
	// Read is false when the facts were not read: the caller reads them
	// itself (TokenRevokedFresh, MemberByIDFresh), and the other fields
	// mean nothing.
	Read bool
	// Revoked is TokenRevokedFresh(CodeToken(c, r)).
	Revoked bool
	// MemberFound is false when MemberByIDFresh(r.MemberID) would find no
	// member; SecurityStamp is then empty.
	MemberFound   bool
	SecurityStamp string
}

// FreshCode is implemented by a Fresh backend that can read a code, its
// request and the code exchange's fresh facts in one round trip
// (storage/postgres: one statement that looks up the revocation keys and
// the member stored with the code when it was issued). The facts are the
// same reads as Fresh's, of the same database, made in the same snapshot
// as the code's.
type FreshCode interface {
	// PeekAuthCodeFresh is PeekAuthCode(hash, now) and, when that finds
	// the code with its request (a nil error), the facts of both. Facts
	// with Read false, or any error, leave the fresh reads to the caller.
	PeekAuthCodeFresh(ctx context.Context, hash string, now time.Time) (AuthCode, AuthRequest, CodeFacts, error)
}

// CodeCheck is what a code exchange's claim checks in its own commit
// (AuthRequests.ClaimAuthCodeFresh): the tokens of a code must not be minted when a
// revocation made at or after the code's issue covers them (Token is
// CodeToken of the code and its request: TokenRevokedFresh's question),
// or when the member's SecurityStamp is no longer MemberStamp, or the
// member is gone. An empty MemberStamp (a login answered before stamps
// were recorded) checks no stamp.
type CodeCheck struct {
	Token       Token
	MemberID    string
	MemberStamp string
}

// StampChanged is the check's decision on the member as read (m, and
// err from the read): true when the stamp is not the check's or the
// member is gone, false when the check has no stamp; an error of the
// read other than ErrNotFound is returned.
func (c CodeCheck) StampChanged(m Member, err error) (bool, error) {
	switch {
	case c.MemberStamp == "":
		return false, nil
	case errors.Is(err, ErrNotFound):
		return true, nil
	case err != nil:
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(m.SecurityStamp), []byte(c.MemberStamp)) != 1, nil
}

// ClaimVerdict is what ClaimAuthCodeFresh found about its CodeCheck. The tokens
// were stored only if both are false.
type ClaimVerdict struct {
	// Revoked: a revocation made at or after the code covers its tokens.
	Revoked bool
	// CredentialsChanged: the member's stamp is not the check's, or the
	// member is gone.
	CredentialsChanged bool
}

// Minted reports whether the claim stored its tokens.
func (v ClaimVerdict) Minted() bool { return !v.Revoked && !v.CredentialsChanged }
