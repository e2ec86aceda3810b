package bolt

import (
	"context"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
)

// ChangeCredentials updates the member, deletes the member's sessions and
// stored tokens, records the revocation of the member's unstored tokens
// and appends the events, in one transaction; see
// storage.CredentialChanges. What it will end is read first, and
// everything that can refuse the change (a taken event id, fn, an unknown
// member) is decided before the first write, so a refusal writes nothing.
func (s *Store) ChangeCredentials(ctx context.Context, memberID string, fn func(storage.Member) (storage.Member, error), eventsFor func(storage.EndedGrants) []storage.Event) (storage.EndedGrants, error) {
	f := storage.TokenFilter{MemberID: memberID}
	ix, prefix, err := filterIndex(f)
	if err != nil {
		return storage.EndedGrants{}, err
	}
	defer s.members.changed(memberID) // after the commit
	var (
		out storage.EndedGrants
		key string
	)
	now := s.now().UTC()
	err = s.write(ctx, func(tx *bbolt.Tx) error {
		out = storage.EndedGrants{}
		ss, err := sessionsOf(tx, storage.SessionFilter{MemberID: memberID})
		if err != nil {
			return abort(err)
		}
		ts, err := selectTokens(tx, f, ix, prefix)
		if err != nil {
			return abort(err)
		}
		ended := storage.EndedGrants{Sessions: ss}
		for _, t := range ts {
			if matches(f, &t) {
				ended.Tokens = append(ended.Tokens, t)
			}
		}
		var evs []storage.Event
		if eventsFor != nil {
			evs = eventsFor(ended)
		}
		for i := range evs {
			if err := events.check(tx, true, &evs[i]); err != nil {
				return abort(err)
			}
		}
		if err := updateTx(tx, members, []byte(memberID), fn); err != nil {
			return err
		}
		// Written from here on: any failure rolls the whole commit back.
		for i := range evs {
			if err := putEvent(tx, &evs[i]); err != nil {
				return noAbort(err)
			}
		}
		for i := range ended.Sessions {
			if err := sessions.del(tx, &ended.Sessions[i]); err != nil {
				return err
			}
		}
		if key, err = s.revoked.put(tx, f, now); err != nil {
			return err
		}
		for i := range ended.Tokens {
			if err := tokens.del(tx, &ended.Tokens[i]); err != nil {
				return err
			}
		}
		out = ended
		return nil
	})
	if err != nil {
		return storage.EndedGrants{}, err
	}
	s.revoked.remember(key, now)
	return out, nil
}
