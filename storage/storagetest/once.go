package storagetest

import (
	"fmt"
	"testing"
	"time"

	"tsubasa/storage"
)

var onceTests = []test{
	{"ClaimOnce/the first claim wins, the next returns ErrConsumed until it expires", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.ClaimOnce(ctx, "passkey/abc", at(0), at(time.Minute)))
		isErr(t, s.ClaimOnce(ctx, "passkey/abc", at(time.Second), at(2*time.Minute)), storage.ErrConsumed)
		isErr(t, s.ClaimOnce(ctx, "passkey/abc", at(time.Minute-time.Nanosecond), at(2*time.Minute)), storage.ErrConsumed)
		// Expired: a claim may be made again (a lease taken over).
		ok(t, s.ClaimOnce(ctx, "passkey/abc", at(time.Minute), at(2*time.Minute)))
		isErr(t, s.ClaimOnce(ctx, "passkey/abc", at(time.Minute), at(3*time.Minute)), storage.ErrConsumed)
	}},
	{"ClaimOnce/keys are claimed apart", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		for i := range 3 {
			ok(t, s.ClaimOnce(ctx, fmt.Sprint("k", i), at(0), at(time.Minute)))
		}
		isErr(t, s.ClaimOnce(ctx, "k1", at(0), at(time.Minute)), storage.ErrConsumed)
	}},
	{"ClaimOnce/50 concurrent claims of one key have exactly one winner", func(t *testing.T, s storage.Store) {
		oneWinner(t, race(50, func(int) error { return s.ClaimOnce(t.Context(), "k", at(0), at(time.Minute)) }))
	}},
	{"ClaimOnce/an empty key or one holding NUL or invalid UTF-8 is refused", func(t *testing.T, s storage.Store) {
		for _, k := range []string{"", "a\x00b", "\xff"} {
			err := s.ClaimOnce(t.Context(), k, at(0), at(time.Minute))
			notNil(t, err, fmt.Sprintf("key %q", k))
			if err != nil && isConsumed(err) {
				t.Fatalf("key %q: %v, want an error other than ErrConsumed", k, err)
			}
		}
	}},
}
