package member

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
	"tsubasa/storage/postgres"
	"tsubasa/storage/postgres/pgtest"
)

// BenchmarkAuthenticate measures successful logins with the default argon2id
// parameters from parallel clients on a real store. It reports logins/s and
// the time of one hash on an idle hasher, the floor of a login's latency.
func BenchmarkAuthenticate(b *testing.B) {
	st := bolttest.Open(b, bolt.Options{})
	h := NewHasher(HashOptions{})
	svc := NewService(st, h, Options{Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	if _, err := svc.CreateMember(ctx, NewMember{Number: "1234567", Password: goodPassword, FamilyNameLatin: "Bench"}); err != nil {
		b.Fatal(err)
	}
	const samples = 3
	start := time.Now()
	for range samples {
		if _, err := h.Hash(ctx, goodPassword); err != nil {
			b.Fatal(err)
		}
	}
	perHash := time.Since(start) / samples

	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := svc.Authenticate(ctx, LoginInput{Number: "1234567", Secret: goodPassword}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
	b.ReportMetric(float64(perHash.Microseconds())/1000, "ms/hash")
}

// BenchmarkLoginStorage is the storage work of one successful password
// login, under a unit as the login page runs it, with a hash too cheap to
// matter: what counting the attempt (in flight, and against its address)
// costs a login, on bolt and on PostgreSQL (the throwaway cluster, over
// its Unix socket, fsync off: round trips and locking, not disk).
func BenchmarkLoginStorage(b *testing.B) {
	for _, backend := range []struct {
		name string
		open func(b *testing.B) loginStore
	}{
		{"bolt", func(b *testing.B) loginStore { return bolttest.Open(b, bolt.Options{}) }},
		{"postgres", func(b *testing.B) loginStore {
			st, err := postgres.Open(context.Background(), postgres.Options{URL: pgtest.NewDatabase(b, "")})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = st.Close() })
			return st
		}},
	} {
		b.Run(backend.name, func(b *testing.B) {
			st := backend.open(b)
			svc := NewService(st, NewHasher(cheapHash), Options{Logger: slog.New(slog.DiscardHandler)})
			ctx := context.Background()
			if _, err := svc.CreateMember(ctx, NewMember{Number: "1234567", Password: goodPassword, FamilyNameLatin: "Bench"}); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				uctx, commit := st.Begin(ctx)
				if _, err := svc.Authenticate(uctx, LoginInput{Number: "1234567", Secret: goodPassword, IP: "192.0.2.1"}); err != nil {
					b.Fatal(err)
				}
				if err := commit(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type loginStore interface {
	ServiceStore
	storage.Units
}
