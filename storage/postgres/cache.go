package postgres

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"sync"

	"tsubasa/storage"
)

// recordCache keeps decoded records by id for reads that may be stale for
// at most Options.RevocationDelay: members for MemberByID, the read
// behind every ID token, refresh and userinfo answer (newMemberCache), and
// browser sessions for SessionByIDCached, the read behind every SSO
// answer (newSessionCache).
//
// Other processes change these records too. Each change notifies every
// process in its transaction (members: UpdateMember,
// UpdateMemberWithEvents, ChangeCredentials, in Go; sessions: a trigger
// on every update and delete of a row, migration 11), and the feed drops
// the record here when the notification arrives. A cache answers only
// while the feed is fresh (feed.fresh): every change committed more than
// Options.RevocationDelay ago has then been dropped, so an answer is
// never staler than that bound. When the listener loses its connection,
// notifications may be lost: the caches are cleared when it reconnects,
// and are not used meanwhile. This process's own writes drop the record
// when they return, so a read after them never sees what they replaced.
//
// gen orders fills against changes: a reader remembers gen before its
// query and stores what it read only if no change was seen since; a drop
// bumps gen. So an entry is never older than the newest change this
// process has seen when it is read.
type recordCache[T any] struct {
	mu    sync.Mutex
	gen   uint64
	m     map[string]T
	size  int       // entries at most: when full, the cache starts over
	clone func(T) T // a copy that shares nothing the caller could change
}

func newRecordCache[T any](size int, clone func(T) T) *recordCache[T] {
	return &recordCache[T]{m: map[string]T{}, size: size, clone: clone}
}

// memberCacheSize and sessionCacheSize bound the records kept per process.
const (
	memberCacheSize  = 10_000
	sessionCacheSize = 20_000
)

func newMemberCache() *recordCache[storage.Member] {
	return newRecordCache(memberCacheSize, func(m storage.Member) storage.Member {
		m.WebAuthnHandle = bytes.Clone(m.WebAuthnHandle)
		return m
	})
}

func newSessionCache() *recordCache[storage.Session] {
	return newRecordCache(sessionCacheSize, func(s storage.Session) storage.Session {
		s.AMR, s.Clients, s.Data = slices.Clone(s.AMR), slices.Clone(s.Clients), maps.Clone(s.Data)
		s.Carried = slices.Clone(s.Carried)
		for i := range s.Carried {
			s.Carried[i].Clients = slices.Clone(s.Carried[i].Clients)
		}
		return s
	})
}

// cachedGet answers record id from c while the feed is fresh, and
// otherwise reads it (read) and fills c with it, unless a change was seen
// meanwhile.
func cachedGet[T any](ctx context.Context, s *Store, c *recordCache[T], id string, read func() (T, error)) (T, error) {
	if err := s.live(ctx); err != nil {
		var zero T
		return zero, err
	}
	fresh := s.feed.fresh()
	if fresh {
		if v, ok := c.get(id); ok {
			return v, nil
		}
	}
	gen := c.generation()
	v, err := read()
	if err == nil && fresh {
		c.fill(id, v, gen)
	}
	return v, err
}

// get returns a copy of the cached record.
func (c *recordCache[T]) get(id string) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[id]
	if ok {
		v = c.clone(v)
	}
	return v, ok
}

// generation is the gen to pass to fill after a read.
func (c *recordCache[T]) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// fill stores v, read as record id at generation gen, unless a change was
// seen since.
func (c *recordCache[T]) fill(id string, v T, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.m) >= c.size {
		clear(c.m)
	}
	c.m[id] = c.clone(v)
}

// changed drops id: after a local write to it committed (or failed:
// dropping is always safe), or when another process said it changed it.
func (c *recordCache[T]) changed(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, id)
}

// dropWhere drops every record match reports, after a local write that
// ended records by something other than their id (a member's sessions).
func (c *recordCache[T]) dropWhere(match func(T) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	maps.DeleteFunc(c.m, func(_ string, v T) bool { return match(v) })
}

// reset drops everything, when changes may have gone unseen.
func (c *recordCache[T]) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.m)
}
