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
	// ChangeCredentials applies fn to the member (as UpdateMember), deletes
	// every session of the member and every stored token of the member,
	// records the revocation of the member's tokens that are not stored, as
	// DeleteTokens(TokenFilter{MemberID: memberID}) does, and appends the
	// events that events returns for what it ends (as
	// UpdateMemberWithEvents; events may be nil): all in one commit, or
	// nothing. fn and events may run more than once and must not call the
	// store. An error from fn, an unknown member (ErrNotFound) or a taken
	// event id (ErrAlreadyExists) writes nothing. It is never held by a
	// unit; it commits what the unit holds with it.
	ChangeCredentials(ctx context.Context, memberID string, fn func(Member) (Member, error), events func(EndedGrants) []Event) (EndedGrants, error)
}
