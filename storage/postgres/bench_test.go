package postgres_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/postgres"
)

// The hot paths of storage/bolt's benchmarks, on the throwaway cluster:
// its fsync is off, so the write figures show round trips and locking,
// not a production server's commit latency.

var benchNow = time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC)

func benchStore(b *testing.B) *postgres.Store {
	b.Helper()
	return openAt(b, newDB(b), postgres.Options{MaxConns: 16})
}

func benchToken(id string) storage.Token {
	return storage.Token{
		ID: id, Kind: storage.RefreshToken, ClientID: "web", MemberID: "m1", Subject: "m1",
		Scopes: []string{"openid", "offline_access"}, SessionID: "s1", FamilyID: "f1", AuthRequestID: "ar1",
		CreatedAt: benchNow, ExpiresAt: benchNow.Add(24 * time.Hour),
	}
}

var alice = storage.Member{ID: "m1", Number: "1000001", Status: storage.MemberActive, CreatedAt: benchNow}

func BenchmarkMemberByNumber(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
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

// MemberByID answers from the member cache while the listener is fresh.
func BenchmarkMemberByIDCached(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
	if err := s.CreateMember(ctx, alice); err != nil {
		b.Fatal(err)
	}
	for !s.Fresh() {
		time.Sleep(10 * time.Millisecond)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.MemberByID(ctx, alice.ID); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TokenRevoked is on every bearer check: from memory, among 1,000
// revocations of several shapes.
func BenchmarkTokenRevoked(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
	seedRevocations(b, s)
	for !s.Fresh() {
		time.Sleep(10 * time.Millisecond)
	}
	tok := storage.Token{ID: "a", ClientID: "web", MemberID: "m-live", SessionID: "s-live", CreatedAt: time.Now()}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if revoked, err := s.TokenRevoked(ctx, tok); err != nil || revoked {
				b.Errorf("TokenRevoked = %v, %v", revoked, err)
				return
			}
		}
	})
}

func BenchmarkCreateTokensParallel(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
	var seq atomic.Int64
	b.SetParallelism(16)
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
	s, ctx := benchStore(b), b.Context()
	i := 0
	for b.Loop() {
		i++
		if err := s.CreateTokens(ctx, benchToken(fmt.Sprint("t", i))); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRotateRefreshToken(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
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
	s, ctx := benchStore(b), b.Context()
	var wg sync.WaitGroup
	for i := range b.N {
		id := fmt.Sprint("ar", i)
		r := storage.AuthRequest{ID: id, ClientID: "web", Scopes: []string{"openid"}, CreatedAt: benchNow, ExpiresAt: benchNow.Add(time.Hour)}
		wg.Go(func() {
			if err := s.CreateAuthRequest(ctx, r); err != nil {
				b.Error(err)
			}
			if err := s.SaveAuthCode(ctx, storage.AuthCode{Hash: fmt.Sprint("c", i), AuthRequestID: id, CreatedAt: benchNow, ExpiresAt: benchNow.Add(time.Minute)}); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := s.ClaimAuthCode(ctx, fmt.Sprint("c", i), benchNow, benchToken(fmt.Sprint("t", i))); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpdateMember(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
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

// Concurrent updates of one member queue on its row lock.
func BenchmarkUpdateMemberParallel(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
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

// BenchmarkImportMembers is migrate-storage's write side: one Import of a
// batch of 500 members (one transaction of 500 inserts); ns/op per batch.
func BenchmarkImportMembers(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
	const batch = 500
	n := 0
	for b.Loop() {
		recs := make([]any, batch)
		for i := range recs {
			n++
			recs[i] = storage.Member{ID: fmt.Sprintf("m%08d", n), Number: fmt.Sprintf("%09d", 100000000+n),
				FamilyName: "山田", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", CreatedAt: benchNow}
		}
		if err := s.Import(ctx, storage.KindMembers, recs); err != nil {
			b.Fatal(err)
		}
	}
}

// EnterLogin and LeaveLogin are what counting a login attempt in flight
// costs (storage/limits.go), against MemberByNumber, the read every login
// makes anyway.
func BenchmarkEnterLeaveLogin(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
	if err := s.CreateMember(ctx, alice); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.EnterLogin(ctx, alice.ID, "", benchNow, benchNow.Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
		if err := s.LeaveLogin(ctx, alice.ID, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemberByNumberOne(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
	if err := s.CreateMember(ctx, alice); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.MemberByNumber(ctx, alice.Number); err != nil {
			b.Fatal(err)
		}
	}
}

// Throttle is the read of an address's window before every login.
func BenchmarkThrottle(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
	for b.Loop() {
		if _, err := s.Throttle(ctx, "login/address/192.0.2.1", benchNow); err != nil {
			b.Fatal(err)
		}
	}
}

// PeekAuthCodeFresh is the code exchange's read: the code, its request
// and the fresh facts (the newest revocation that could select the
// code's tokens, the member's stamp) in one statement, among 1,000
// revocations of several shapes. One read at a time: the figure is a
// read's latency, the statement's execution in PostgreSQL included.
func BenchmarkPeekAuthCodeFresh(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
	seedRevocations(b, s)
	m := alice
	m.SecurityStamp = "stamp-1"
	if err := s.CreateMember(ctx, m); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	r := storage.AuthRequest{ID: "V1StGXR8_Z5jdHi6B-myT", ClientID: "web", MemberID: m.ID, SessionID: "sess-9b2f0c7e41d8a6",
		RedirectURI: "https://web.example/cb", Scopes: []string{"openid", "profile"}, Done: true, MemberStamp: "stamp-1",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateAuthRequest(ctx, r); err != nil {
		b.Fatal(err)
	}
	c := storage.AuthCode{Hash: "code-bench", AuthRequestID: r.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.IssueAuthCode(ctx, c, func(r storage.AuthRequest) (storage.AuthRequest, error) {
		r.CodeIssued = true
		return r, nil
	}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_, _, f, err := s.PeekAuthCodeFresh(ctx, c.Hash, now)
		if err != nil || !f.Read || f.Revoked || f.SecurityStamp != "stamp-1" {
			b.Fatalf("PeekAuthCodeFresh: facts %+v, %v; want read, not revoked, the member's stamp", f, err)
		}
	}
}

// seedRevocations stores 1,000 revocations of two shapes: a session's,
// and a member's at a client.
func seedRevocations(b *testing.B, s *postgres.Store) {
	b.Helper()
	for i := range 1000 {
		f := storage.TokenFilter{SessionID: fmt.Sprint("s", i)}
		if i%3 == 0 {
			f = storage.TokenFilter{MemberID: fmt.Sprint("m", i), ClientID: "web"}
		}
		if _, err := s.DeleteTokens(b.Context(), f); err != nil {
			b.Fatal(err)
		}
	}
}
