package postgres

import (
	"bytes"
	"sync"

	"tsubasa/storage"
)

// memberCacheSize bounds the decoded members kept in memory; when full,
// the cache starts over.
const memberCacheSize = 10_000

// memberCache keeps decoded member records for MemberByID, the read behind
// every ID token, refresh and userinfo answer.
//
// Other processes change members too. Each change (UpdateMember,
// UpdateMemberWithEvents, ChangeCredentials) notifies every process in its
// transaction, and the feed drops the member here when the notification
// arrives. MemberByID answers from the cache only while the feed is fresh
// (feed.fresh): every change committed more than Options.RevocationDelay
// ago has then been dropped, so an answer is never staler than that bound.
// When the listener loses its connection, notifications may be lost: the
// cache is cleared when it reconnects, and is not used meanwhile.
//
// gen orders fills against changes: a reader remembers gen before its
// query and stores what it read only if no change was seen since; a drop
// bumps gen. So an entry is never older than the newest change this
// process has seen when it is read.
type memberCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]storage.Member
}

func newMemberCache() *memberCache {
	return &memberCache{m: map[string]storage.Member{}}
}

// get returns a copy of the cached member.
func (c *memberCache) get(id string) (storage.Member, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.m[id]
	if ok {
		m.WebAuthnHandle = bytes.Clone(m.WebAuthnHandle)
	}
	return m, ok
}

// generation is the gen to pass to fill after a read.
func (c *memberCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// fill stores m read at generation gen, unless a change was seen since.
func (c *memberCache) fill(m storage.Member, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.m) >= memberCacheSize {
		clear(c.m)
	}
	m.WebAuthnHandle = bytes.Clone(m.WebAuthnHandle)
	c.m[m.ID] = m
}

// changed drops id: after a local write to it committed (or failed:
// dropping is always safe), or when another process said it changed it.
func (c *memberCache) changed(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, id)
}

// reset drops everything, when changes may have gone unseen.
func (c *memberCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.m)
}
