package bolt

import (
	"crypto/rand"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"tsubasa/storage"
	"tsubasa/storage/storagetest"
)

// tokenBuckets are the buckets a refresh token writes: the record, its
// five indexes and its expiry entry.
var tokenBuckets = [][]byte{bTokens, bTokensByFamily, bTokensByAuthReq, bTokensBySession,
	bTokensByMember, bTokensByClient, bTokensByExpiry}

// BenchmarkBytesPerToken stores sizeTokens refresh tokens as the server
// writes them (its key: time and HMAC; every field a member's grant has),
// and reports the bytes they take in the token buckets (leaf and branch
// bytes in use: the record, its index and expiry entries), then rotates
// every one, deletes the live successors and reports what the consumed
// ones left take: the README's sizing multiplies both. The time per op is
// that of the measure.
//
//	go test -run '^$' -bench BytesPerToken -benchtime 1x ./storage/bolt
func BenchmarkBytesPerToken(b *testing.B) {
	const sizeTokens = 20000
	s, err := Open(filepath.Join(b.TempDir(), "size.db"), Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx, now := b.Context(), time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	refreshID := func(i int) string { return storagetest.RefreshTokenID(now.Add(time.Duration(i) * time.Millisecond)) }
	live := make([]storage.Token, sizeTokens)
	for i := range live {
		id := fmt.Sprintf("%026d", i)
		live[i] = storagetest.GrantToken(refreshID(i), id, rand.Text(), rand.Text(), rand.Text(), now)
	}
	for i := 0; i < len(live); i += 1000 {
		if err := s.CreateTokens(ctx, live[i:i+1000]...); err != nil {
			b.Fatal(err)
		}
	}
	full := s.tokenBytes(b)
	// Concurrent callers share commits (and fsyncs), as the server's do.
	var wg sync.WaitGroup
	errs := make(chan error, len(live))
	sem := make(chan struct{}, 64)
	for i, t := range live {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			next := t
			next.ID = refreshID(sizeTokens + i)
			if _, err := s.RotateRefreshToken(ctx, t.ID, now, next); err != nil {
				errs <- err
				return
			}
			if err := s.DeleteToken(ctx, next.ID); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	for b.Loop() {
		b.ReportMetric(float64(full)/sizeTokens, "B/token")
		b.ReportMetric(float64(s.tokenBytes(b))/sizeTokens, "B/consumed_token")
	}
}

// tokenBytes is what the token buckets hold in use.
func (s *Store) tokenBytes(b *testing.B) int {
	n := 0
	if err := s.db.View(func(tx *bbolt.Tx) error {
		for _, name := range tokenBuckets {
			st := tx.Bucket(name).Stats()
			n += st.LeafInuse + st.BranchInuse
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return n
}
