package provider

import (
	"context"

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

// peekCode is PeekAuthCode, with the code exchange's fresh facts read in
// the same round trip when the store can (storage.FreshCode: PostgreSQL's
// joined statement). Facts with Read false leave them to codeChecks'
// own reads.
func (p *Provider) peekCode(ctx context.Context, key string) (storage.AuthCode, storage.AuthRequest, storage.CodeFacts, error) {
	if fc, ok := p.fresh.(storage.FreshCode); ok {
		return fc.PeekAuthCodeFresh(ctx, key, p.now())
	}
	c, r, err := p.store.PeekAuthCode(ctx, key, p.now())
	return c, r, storage.CodeFacts{}, err
}

// codeChecks is codeRevoked and credentialsChanged: from the facts read
// with the code when there are any, else in one round trip when the store
// can send both reads at once (storage.FreshPair: PostgreSQL's batch);
// the reads and the decisions are the same either way.
func (p *Provider) codeChecks(ctx context.Context, c storage.AuthCode, r storage.AuthRequest, f storage.CodeFacts) (revoked, changed bool, err error) {
	if f.Read {
		return f.Revoked, stampChanged(r, f.MemberFound, f.SecurityStamp), nil
	}
	pair, ok := p.fresh.(storage.FreshPair)
	if !ok || r.MemberStamp == "" {
		if revoked, err = p.codeRevoked(ctx, c, r); err != nil || revoked {
			return revoked, false, err
		}
		changed, err = p.credentialsChanged(ctx, r)
		return false, changed, err
	}
	revoked, m, err := pair.TokenRevokedAndMemberFresh(ctx, storage.CodeToken(c, r), r.MemberID)
	if changed, err = stampCheck(r).StampChanged(m, err); err != nil {
		return false, false, err
	}
	return revoked, changed, nil
}

// stampCheck is the stamp part of r's code check: the decision is
// storage.CodeCheck.StampChanged's, which the stores' fresh claims make
// too (an empty stamp, from before stamps were recorded, checks nothing).
func stampCheck(r storage.AuthRequest) storage.CodeCheck {
	return storage.CodeCheck{MemberID: r.MemberID, MemberStamp: r.MemberStamp}
}

// stampChanged is that decision on facts read with the code (found
// false: no such member any more).
func stampChanged(r storage.AuthRequest, found bool, stamp string) bool {
	var err error
	if !found {
		err = storage.ErrNotFound
	}
	changed, _ := stampCheck(r).StampChanged(storage.Member{SecurityStamp: stamp}, err)
	return changed
}
