package storage

import "context"

// EndedGrants is what ChangeCredentials took away: the member's sessions
// and stored tokens as they were when it deleted them. A caller tells the
// relying parties of each session (back-channel logout) from them: a
// token names its SessionID and ClientID.
type EndedGrants struct {
	Sessions []Session
	Tokens   []Token
}

// CredentialChanges replaces a member's credential and ends everything
// issued under the old one, in one commit: a crash or a failure never
// leaves a new password in place with the old sessions or refresh tokens
// still working, nor the reverse.
type CredentialChanges interface {
	// ChangeCredentials applies fn to the member (as UpdateMember), appends
	// events (as UpdateMemberWithEvents), deletes every session of the
	// member and every stored token of the member, and records the
	// revocation of the member's tokens that are not stored, as
	// DeleteTokens(TokenFilter{MemberID: memberID}) does: all in one
	// commit, or nothing. An error from fn, an unknown member
	// (ErrNotFound) or a taken event id (ErrAlreadyExists) writes nothing.
	// It is never held by a unit; it commits what the unit holds with it.
	ChangeCredentials(ctx context.Context, memberID string, fn func(Member) (Member, error), events ...Event) (EndedGrants, error)
}
