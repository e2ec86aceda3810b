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
