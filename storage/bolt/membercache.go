package bolt

import (
	"bytes"
	"sync"

	"tsubasa/storage"
)

// memberCacheSize bounds the decoded members kept in memory; when full,
// the cache starts over.
const memberCacheSize = 10_000

// memberCache keeps decoded member records for MemberByID, the read behind
// every ID token, refresh and userinfo answer. One process owns the file,
// so every change passes through UpdateMember and is seen here.
//
// gen orders fills against changes: a reader remembers gen before its read
// transaction and stores what it read only if no change has completed
// since; a writer drops the entry and bumps gen after its commit. So an
// entry is never older than the newest committed change when it is read.
type memberCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]storage.Member
}

func newMemberCache() *memberCache {
	return &memberCache{m: map[string]storage.Member{}}
}

// get returns a copy of the cached member and, on a miss, the generation
// to pass to fill.
func (c *memberCache) get(id string) (storage.Member, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.m[id]
	if ok {
		m.WebAuthnHandle = bytes.Clone(m.WebAuthnHandle)
	}
	return m, c.gen, ok
}

// generation is the generation to pass to fill for a read that starts
// now.
func (c *memberCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// fill stores m read at generation gen, unless a change completed since.
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

// changed drops id after a write to it committed (or failed: dropping is
// always safe).
func (c *memberCache) changed(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, id)
}
