package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"tsubasa/storage"
)

// ChangeCredentials updates the member, deletes the member's sessions and
// stored tokens, records the revocation of the member's unstored tokens
// and appends the events, in one transaction; see
// storage.CredentialChanges. The member's row is locked first, so the
// change is ordered with every other update of the member on any replica;
// the sessions and tokens ended are those the deletes returned, so what
// the caller is told of is exactly what was ended.
func (s *Store) ChangeCredentials(ctx context.Context, memberID string, fn func(storage.Member) (storage.Member, error), eventsFor func(storage.EndedGrants) []storage.Event) (storage.EndedGrants, error) {
	f := storage.TokenFilter{MemberID: memberID}
	defer s.members.changed(memberID) // after the commit
	defer s.memberSessionsEnded(memberID, "")
	var (
		out      storage.EndedGrants
		remember func()
	)
	now := s.now().UTC()
	err := s.write(ctx, func(ctx context.Context, tx pgx.Tx) error {
		out = storage.EndedGrants{}
		if err := updateMemberTx(ctx, tx, memberID, fn); err != nil {
			return err
		}
		ss, err := deleteMemberSessions(ctx, tx, memberID)
		if err != nil {
			return err
		}
		ts, err := tokens.list(ctx, tx, "DELETE FROM tokens WHERE member_id = $1 RETURNING data, consumed", memberID)
		if err != nil {
			return err
		}
		ended := storage.EndedGrants{Sessions: ss, Tokens: ts}
		if eventsFor != nil {
			if err := appendEvents(ctx, tx, eventsFor(ended)); err != nil {
				return err // a taken event id: all of it is rolled back
			}
		}
		if remember, err = s.putRevocation(ctx, tx, f, now); err != nil {
			return err
		}
		out = ended
		return nil
	})
	if err != nil {
		return storage.EndedGrants{}, err
	}
	remember()
	return out, nil
}
