package provider

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"tsubasa/storage"
)

// The replay check of one-time credentials: client assertions'
// jtis (private_key_jwt) and DPoP proofs' jtis. Each is good once, until
// it would be refused anyway (its exp, or its iat plus the proof window).
//
// On a store several processes share (PostgreSQL), every use is one
// atomic statement there (storage.JTIs.UseJTI: an INSERT … ON CONFLICT):
// of two requests carrying one credential, on any replicas, one gets
// through. On bbolt, one process per file (the file is locked), a durable
// use was a commit and its fsync per request; so there the check is kept
// in this process's memory (Options.LocalReplay), exact, with rules that
// make a restart, which forgets that memory, lose nothing:
//
//   - the memory path takes a credential dated at most memoryWindow ago
//     and not ahead of the clock (iat ≤ now), the common case of a
//     credential made for the request that carries it;
//   - before it takes one in a new second, the process records that
//     second in the store (a fence record, replayFenceKey, one commit a
//     second at most, kept fenceLife), so every credential it ever took
//     in memory is dated at or before a second on record;
//   - a process starting reads the fence records of the last fenceLife
//     and refuses, on the memory path, every credential dated at or
//     before the latest (replayGuard.fence): whatever an earlier process
//     took in memory is refused. A client signs a new one (a proof or an
//     assertion is made per request anyway), dated after it, and is let
//     through; only a restart within the second of the last use refuses
//     anything fresh, and only for the rest of that second;
//   - every other credential (dated ahead of the clock, as a client whose
//     clock runs fast may send, or older than memoryWindow, or without
//     iat, which RFC 7523 makes optional, or met while the memory is full)
//     is recorded in the store as before (the durable path). The memory
//     path asks the store too (JTIUsed, a read: no fsync), so a credential
//     first used on the durable path, by this process or an earlier one,
//     is refused on either path later; the durable path asks the memory
//     first and then remembers, so a credential whose iat passes now
//     between two uses, or a wall clock set back within the process,
//     cannot make one credential count twice.
//
// What this assumes: one process per database file (bbolt's lock). A
// fence record outlives every credential dated at or before its second
// (fenceLife), so when the records of an earlier process have expired so
// have its credentials. The memory holds one entry per credential until
// it expires, at most maxReplayEntries (about 40 MiB); past that, uses
// go to the store.

// maxReplayEntries bounds the memory of a local replay check.
const maxReplayEntries = 1 << 20

// memoryWindow is how old a credential the memory path takes may be;
// fenceLife how long a fence record is kept: longer than any credential
// so dated lives (an assertion up to 5.5 minutes past its use, a proof
// up to dpop.proof_max_age, at most 5 minutes, past its iat).
const (
	memoryWindow = time.Minute
	fenceLife    = memoryWindow + 7*time.Minute
)

// replayFenceKey is the store key of the fence record of second sec.
func replayFenceKey(sec int64) string { return fmt.Sprintf("replay-fence-%d", sec) }

const replayShards = 16

// errReplayed: the credential was used before.
var errReplayed = errors.New("provider: one-time credential used before")

// errBeforeStart: the credential is dated at or before a second in which
// an earlier process took credentials in memory (the fence above).
var errBeforeStart = errors.New("provider: one-time credential made before the server started")

// replayGuard decides single use.
type replayGuard struct {
	store storage.JTIs
	local bool
	now   func() time.Time
	// fence is the latest second an earlier process took credentials in
	// memory; recorded the latest second this process has on record.
	fence    int64
	recorded atomic.Int64
	recordMu sync.Mutex

	shards [replayShards]replayShard
}

type replayShard struct {
	mu        sync.Mutex
	seen      map[[16]byte]time.Time // until when each credential is remembered
	nextSweep time.Time
}

// newReplayGuard makes the check; a local one reads the fence records.
func newReplayGuard(ctx context.Context, store storage.JTIs, local bool, now func() time.Time) (*replayGuard, error) {
	g := &replayGuard{store: store, local: local, now: now, fence: math.MinInt64}
	for i := range g.shards {
		g.shards[i].seen = map[[16]byte]time.Time{}
	}
	if !local {
		return g, nil
	}
	t := now()
	// Newest first: the first record found is the fence. A clock ahead
	// then (or now behind) may have left records a minute in the future.
	for sec := t.Add(time.Minute).Unix(); sec >= t.Add(-fenceLife).Unix(); sec-- {
		used, err := store.JTIUsed(ctx, replayFenceKey(sec), t)
		if err != nil {
			return nil, fmt.Errorf("provider: replay fence: %w", err)
		}
		if used {
			g.fence = sec
			break
		}
	}
	g.recorded.Store(g.fence)
	return g, nil
}

// use records one use of the credential whose storage key is key (a
// tokenHash, hex), issued at iat (zero when it has no iat), good until
// expires. errReplayed when it was used; errBeforeStart when the fence
// refuses it.
func (g *replayGuard) use(ctx context.Context, key string, iat, expires time.Time) error {
	now := g.now()
	if !g.local {
		return g.durable(ctx, key, expires, now)
	}
	id, err := memKey(key)
	if err != nil {
		return err
	}
	sh := &g.shards[id[0]%replayShards]
	sh.mu.Lock()
	if until, ok := sh.seen[id]; ok && now.Before(until) {
		sh.mu.Unlock()
		return errReplayed
	}
	sh.sweep(now)
	full := len(sh.seen) >= maxReplayEntries/replayShards
	sh.mu.Unlock()
	if iat.IsZero() || iat.After(now) || iat.Before(now.Add(-memoryWindow)) || full {
		if err := g.durable(ctx, key, expires, now); err != nil {
			return err
		}
		// A use of the same credential on the memory path meanwhile (its
		// iat passed now between the two) is the one that counts.
		return sh.remember(id, expires, now)
	}
	if iat.Unix() <= g.fence {
		return errBeforeStart
	}
	if err := g.record(ctx, now); err != nil {
		return err
	}
	used, err := g.store.JTIUsed(ctx, key, now)
	switch {
	case err != nil:
		return err
	case used:
		return errReplayed
	}
	return sh.remember(id, expires, now)
}

// remember records id until expires, unless a use of it is remembered
// (errReplayed: a concurrent use of the same credential won). A full
// shard remembers nothing new: the store has the use then.
func (sh *replayShard) remember(id [16]byte, expires, now time.Time) error {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if until, ok := sh.seen[id]; ok && now.Before(until) {
		return errReplayed
	}
	if len(sh.seen) < maxReplayEntries/replayShards {
		sh.seen[id] = expires
	}
	return nil
}

// record puts now's second on record, if it is not yet, before the
// memory takes a credential in it.
func (g *replayGuard) record(ctx context.Context, now time.Time) error {
	sec := now.Unix()
	if g.recorded.Load() >= sec {
		return nil
	}
	g.recordMu.Lock()
	defer g.recordMu.Unlock()
	if g.recorded.Load() >= sec {
		return nil
	}
	err := g.store.UseJTI(ctx, storage.UsedJTI{Key: replayFenceKey(sec), ExpiresAt: now.Add(fenceLife)}, now)
	if err != nil && !errors.Is(err, storage.ErrConsumed) {
		return fmt.Errorf("provider: replay fence: %w", err)
	}
	g.recorded.Store(sec)
	return nil
}

// durable records the use in the store.
func (g *replayGuard) durable(ctx context.Context, key string, expires, now time.Time) error {
	err := g.store.UseJTI(ctx, storage.UsedJTI{Key: key, ExpiresAt: expires}, now)
	if errors.Is(err, storage.ErrConsumed) {
		return errReplayed
	}
	return err
}

// sweep forgets the expired entries of the shard, at most every 10 s; the
// shard's lock is held.
func (sh *replayShard) sweep(now time.Time) {
	if now.Before(sh.nextSweep) {
		return
	}
	sh.nextSweep = now.Add(10 * time.Second)
	for id, until := range sh.seen {
		if !now.Before(until) {
			delete(sh.seen, id)
		}
	}
}

// memKey is the memory's key of a storage key: the first 16 bytes of the
// HMAC it is the hex of (collisions would refuse, never admit, a
// credential, and need 2^64 of them).
func memKey(key string) ([16]byte, error) {
	var id [16]byte
	b, err := hex.DecodeString(key)
	if err != nil || len(b) < len(id) {
		return id, fmt.Errorf("provider: replay key %q is not an HMAC", key)
	}
	copy(id[:], b)
	return id, nil
}
