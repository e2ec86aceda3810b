package bolt_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tsubasa/storage"
)

// Writes go through a group commit: a lone writer pays one commit and fsync
// per operation, while concurrent writers share them (compare the Parallel
// benchmarks' ns/op).

var benchNow = time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC)

func benchToken(id string) storage.Token {
	return storage.Token{
		ID: id, Kind: storage.RefreshToken, ClientID: "web", MemberID: "m1", Subject: "m1",
		Scopes: []string{"openid", "offline_access"}, SessionID: "s1", FamilyID: "f1", AuthRequestID: "ar1",
		CreatedAt: benchNow, ExpiresAt: benchNow.Add(24 * time.Hour),
	}
}

// parallel runs fn(i) for i in [0, n) on 64 goroutines.
func parallel(b *testing.B, n int, fn func(i int) error) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for range 64 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := fn(i); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkMemberByNumber(b *testing.B) {
	s, ctx := openTemp(b), b.Context()
	const n = 10000
	ms := make([]storage.Member, n)
	for i := range ms {
		ms[i] = storage.Member{ID: fmt.Sprintf("m%05d", i), Number: fmt.Sprintf("%07d", 1000000+i), FamilyName: "山田", CreatedAt: benchNow}
	}
	if _, err := s.CreateMembers(ctx, ms); err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(7919) % n
			if _, err := s.MemberByNumber(ctx, ms[i].Number); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkCreateTokensParallel(b *testing.B) {
	s, ctx := openTemp(b), b.Context()
	var seq atomic.Int64
	b.SetParallelism(16) // many concurrent token requests share commits
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("t%d", seq.Add(1))
			if err := s.CreateTokens(ctx, benchToken(id), benchToken(id+"a")); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkCreateTokens(b *testing.B) {
	s, ctx := openTemp(b), b.Context()
	i := 0
	for b.Loop() {
		i++
		if err := s.CreateTokens(ctx, benchToken(fmt.Sprint("t", i))); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRotateRefreshToken(b *testing.B) {
	s, ctx := openTemp(b), b.Context()
	if err := s.CreateTokens(ctx, benchToken("r0")); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		if _, err := s.RotateRefreshToken(ctx, fmt.Sprint("r", i), benchNow, benchToken(fmt.Sprint("r", i+1))); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkClaimAuthCode(b *testing.B) {
	s, ctx := openTemp(b), b.Context()
	r := storage.AuthRequest{ID: "ar1", ClientID: "web", Scopes: []string{"openid"}, CreatedAt: benchNow, ExpiresAt: benchNow.Add(time.Hour)}
	if err := s.CreateAuthRequest(ctx, r); err != nil {
		b.Fatal(err)
	}
	parallel(b, b.N, func(i int) error {
		return s.SaveAuthCode(ctx, storage.AuthCode{Hash: fmt.Sprint("c", i), AuthRequestID: "ar1", CreatedAt: benchNow, ExpiresAt: benchNow.Add(time.Minute)})
	})
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := s.ClaimAuthCode(ctx, fmt.Sprint("c", i), benchNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpdateMember(b *testing.B) {
	s, ctx := openTemp(b), b.Context()
	if err := s.CreateMember(ctx, alice); err != nil {
		b.Fatal(err)
	}
	inc := func(m storage.Member) (storage.Member, error) { m.FailedLogins++; return m, nil }
	for b.Loop() {
		if err := s.UpdateMember(ctx, alice.ID, inc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpdateMemberParallel(b *testing.B) {
	s, ctx := openTemp(b), b.Context()
	if err := s.CreateMember(ctx, alice); err != nil {
		b.Fatal(err)
	}
	inc := func(m storage.Member) (storage.Member, error) { m.FailedLogins++; return m, nil }
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.UpdateMember(ctx, alice.ID, inc); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
