package admin

import (
	"context"
	"errors"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/audit"
	"tsubasa/storage"
)

// eraseMember erases a member (the right to erasure): the back-channel
// logouts of the member's sessions are queued first (they carry the
// member id alone), then one storage commit deletes the member and every
// record about them, revokes every token of the member and appends the
// tombstone, the one event kept: the member id, the time, the calling
// client and agent, no name, number or contact.
func (s *Service) eraseMember(ctx context.Context, in adminapi.MemberDeleteInput) (adminapi.MemberErased, error) {
	m, err := s.memberByNumber(ctx, in.Number)
	if err != nil {
		return adminapi.MemberErased{}, err
	}
	// A stale If-Match is refused before the logouts are queued; the
	// commit checks it again on the member as it erases it.
	if ifMatch(in.IfMatch)(m) != nil {
		return adminapi.MemberErased{}, stale(m.Number)
	}
	s.logouts.EndingAll(ctx, storage.SessionFilter{MemberID: m.ID})
	c := callerOf(ctx)
	detail := map[string]string{}
	if c.Agent != "" {
		detail["agent"] = c.Agent
	}
	tomb := s.audit.Prepare(storage.Event{Type: audit.EventMemberErased, MemberID: m.ID, ClientID: c.ClientID,
		Success: true, Detail: detail})
	// If-Match is checked on the member as the erasing commit reads it.
	erased, err := s.store.EraseMember(ctx, m.ID, ifMatch(in.IfMatch), tomb)
	if errors.Is(err, errStale) {
		return adminapi.MemberErased{}, stale(m.Number)
	}
	if errors.Is(err, storage.ErrNotFound) {
		// Erased by a concurrent call since it was read.
		return adminapi.MemberErased{}, adminapi.NotFound("no member %s", m.Number)
	}
	if err != nil {
		return adminapi.MemberErased{}, err
	}
	// The transport's own audit event of this call is not filed under the
	// member: the tombstone is the one event that stays there.
	unconcern(ctx)
	s.audit.Emit(ctx, tomb)
	return adminapi.MemberErased{ID: m.ID, Tombstone: tomb.ID, EndedSessions: erased.Sessions,
		RevokedTokens: erased.Tokens, Records: erased.Records}, nil
}

// unconcern forgets the member the operation under ctx concerned.
func unconcern(ctx context.Context) {
	if sub, ok := ctx.Value(subjectKey{}).(*Subject); ok {
		sub.MemberID = ""
	}
}

func stale(number string) error {
	return adminapi.PreconditionFailed(
		"member %s changed since the version in If-Match was read; read it again before erasing", number)
}
