package otp

import (
	"testing"
	"time"

	"tsubasa/storage"
)

// BenchmarkVerify measures Verify on a real store: "wrong" counts a wrong
// entry (one read and one committed update), "right" claims a fresh
// challenge each time (the PutOTP that stores it is included).
func BenchmarkVerify(b *testing.B) {
	fx := newFixture(b, func(o *Options) { o.MaxAttempts = 1 << 30 })
	ctx := b.Context()
	now := fx.clock.Now()
	put := func(code string) {
		err := fx.store.PutOTP(ctx, storage.OTP{
			ID: "bench", MemberID: "m-hanako", Purpose: PurposeLogin, Channel: ChannelEmail,
			Destination: "hanako@example.com", Format: FormatDigits,
			CodeHash:  fx.svc.mac(PurposeLogin, "m-hanako", code),
			CreatedAt: now, ExpiresAt: now.Add(time.Hour),
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Run("wrong", func(b *testing.B) {
		put("123456")
		for b.Loop() {
			if _, err := fx.svc.Verify(ctx, "m-hanako", PurposeLogin, "654321", ""); err == nil {
				b.Fatal("wrong code accepted")
			}
		}
	})
	b.Run("right", func(b *testing.B) {
		for b.Loop() {
			put("123456")
			if _, err := fx.svc.Verify(ctx, "m-hanako", PurposeLogin, "123456", ""); err != nil {
				b.Fatal(err)
			}
		}
	})
}
