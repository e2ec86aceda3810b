package member

import (
	"context"
	"log/slog"
	"testing"
	"time"
	"tsubasa/storage/bolt"
	"tsubasa/storage/bolt/bolttest"
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
