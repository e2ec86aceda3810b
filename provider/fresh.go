package provider

import (
	"context"
	"crypto/subtle"
	"errors"

	"tsubasa/storage"
)

// freshReads is what a decision whose outcome outlives the store's bound
// on stale caches reads (storage.Fresh): the code exchange's checks of the
// session's revocation and the member's security stamp. A code exchanged
// on a replica that has not yet heard of a logout made on another would
// otherwise mint tokens created after the revocation, which the
// revocation does not cover and which live on for hours.
//
// A store that is not a storage.Fresh keeps no such caches (storage/bolt:
// one process, every read exact), so its plain reads are the fresh ones.
func freshReads(s Store) storage.Fresh {
	if f, ok := s.(storage.Fresh); ok {
		return f
	}
	return exactReads{s}
}

// exactReads answers storage.Fresh with the plain reads of a store whose
// plain reads are exact.
type exactReads struct{ s Store }

func (e exactReads) TokenRevokedFresh(ctx context.Context, t storage.Token) (bool, error) {
	return e.s.TokenRevoked(ctx, t)
}

func (e exactReads) MemberByIDFresh(ctx context.Context, id string) (storage.Member, error) {
	return e.s.MemberByID(ctx, id)
}

// codeChecks is codeRevoked and credentialsChanged, in one round trip when
// the store can send both reads at once (storage.FreshPair: PostgreSQL's
// batch); the reads and the decisions are the same either way.
func (p *Provider) codeChecks(ctx context.Context, c storage.AuthCode, r storage.AuthRequest) (revoked, changed bool, err error) {
	pair, ok := p.fresh.(storage.FreshPair)
	if !ok || r.MemberStamp == "" {
		if revoked, err = p.codeRevoked(ctx, c, r); err != nil || revoked {
			return revoked, false, err
		}
		changed, err = p.credentialsChanged(ctx, r)
		return false, changed, err
	}
	revoked, m, err := pair.TokenRevokedAndMemberFresh(ctx, codeToken(c, r), r.MemberID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return revoked, true, nil
	case err != nil:
		return false, false, err
	}
	return revoked, subtle.ConstantTimeCompare([]byte(m.SecurityStamp), []byte(r.MemberStamp)) != 1, nil
}

// codeToken is what a code's tokens would be, as far as a revocation can
// select them.
func codeToken(c storage.AuthCode, r storage.AuthRequest) storage.Token {
	return storage.Token{ClientID: r.ClientID, MemberID: r.MemberID, SessionID: r.SessionID, AuthRequestID: r.ID, CreatedAt: c.CreatedAt}
}
