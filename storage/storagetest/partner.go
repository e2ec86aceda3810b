package storagetest

import (
	"testing"
	"time"

	"tsubasa/storage"
)

func pushed(id, client string) storage.PushedRequest {
	return storage.PushedRequest{
		ID: id, ClientID: client,
		Params:    map[string][]string{"response_type": {"code"}, "scope": {"openid profile"}, "prompt": {"login", "consent"}},
		CreatedAt: at(0), ExpiresAt: at(time.Minute),
	}
}

var pushedRequestTests = []test{
	{"ClaimPushedRequest/returns the request as stored, consumed", func(t *testing.T, s storage.Store) {
		ctx, r := t.Context(), pushed("p1", "c1")
		ok(t, s.CreatePushedRequest(ctx, r))
		got := must(s.ClaimPushedRequest(ctx, "p1", "c1", at(time.Second)))(t)
		utcOnly(t, got)
		r.Consumed = true
		equal(t, got, r)
	}},
	{"CreatePushedRequest/a taken id returns ErrAlreadyExists", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreatePushedRequest(ctx, pushed("p1", "c1")))
		isErr(t, s.CreatePushedRequest(ctx, pushed("p1", "c2")), storage.ErrAlreadyExists)
	}},
	{"CreatePushedRequest/times in another zone come back in UTC", func(t *testing.T, s storage.Store) {
		ctx, r := t.Context(), pushed("p1", "c1")
		r.CreatedAt, r.ExpiresAt = r.CreatedAt.In(tokyo()), r.ExpiresAt.In(tokyo())
		ok(t, s.CreatePushedRequest(ctx, r))
		got := must(s.ClaimPushedRequest(ctx, "p1", "c1", at(0)))(t)
		utcOnly(t, got)
		if !got.ExpiresAt.Equal(r.ExpiresAt) {
			t.Fatalf("ExpiresAt = %v, want %v", got.ExpiresAt, r.ExpiresAt)
		}
	}},
	{"ClaimPushedRequest/second claim returns ErrConsumed", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreatePushedRequest(ctx, pushed("p1", "c1")))
		must(s.ClaimPushedRequest(ctx, "p1", "c1", at(0)))(t)
		_, err := s.ClaimPushedRequest(ctx, "p1", "c1", at(time.Second))
		isErr(t, err, storage.ErrConsumed)
	}},
	{"ClaimPushedRequest/another client's request is ErrNotFound and stays claimable by its own", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreatePushedRequest(ctx, pushed("p1", "c1")))
		_, err := s.ClaimPushedRequest(ctx, "p1", "c2", at(0))
		isErr(t, err, storage.ErrNotFound)
		_, err = s.ClaimPushedRequest(ctx, "p1", "", at(0))
		isErr(t, err, storage.ErrNotFound)
		must(s.ClaimPushedRequest(ctx, "p1", "c1", at(0)))(t)
	}},
	{"ClaimPushedRequest/unknown id returns ErrNotFound", func(t *testing.T, s storage.Store) {
		_, err := s.ClaimPushedRequest(t.Context(), "nope", "c1", at(0))
		isErr(t, err, storage.ErrNotFound)
	}},
	{"ClaimPushedRequest/expired at now returns ErrNotFound, at its ExpiresAt too", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreatePushedRequest(ctx, pushed("p1", "c1")))
		for _, now := range []time.Time{at(time.Minute), at(time.Hour)} {
			_, err := s.ClaimPushedRequest(ctx, "p1", "c1", now)
			isErr(t, err, storage.ErrNotFound)
		}
		// The refused claims changed nothing: a claim in time still wins.
		must(s.ClaimPushedRequest(ctx, "p1", "c1", at(time.Minute-time.Nanosecond)))(t)
	}},
	{"ClaimPushedRequest/50 concurrent claims have exactly one winner", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreatePushedRequest(ctx, pushed("p1", "c1")))
		oneWinner(t, race(50, func(int) error {
			_, err := s.ClaimPushedRequest(ctx, "p1", "c1", at(0))
			return err
		}))
	}},
	{"ClaimPushedRequest/parameters with no values and nil round-trip as given", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		a, b := pushed("p1", "c1"), pushed("p2", "c1")
		a.Params, b.Params = nil, map[string][]string{"state": {}}
		ok(t, s.CreatePushedRequest(ctx, a))
		ok(t, s.CreatePushedRequest(ctx, b))
		a.Consumed, b.Consumed = true, true
		equal(t, must(s.ClaimPushedRequest(ctx, "p1", "c1", at(0)))(t), a)
		equal(t, must(s.ClaimPushedRequest(ctx, "p2", "c1", at(0)))(t), b)
	}},
}

func jti(key string, exp time.Duration) storage.UsedJTI {
	return storage.UsedJTI{Key: key, ExpiresAt: at(exp)}
}

var jtiTests = []test{
	{"UseJTI/first use succeeds, a second before expiry returns ErrConsumed", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.UseJTI(ctx, jti("k1", time.Minute), at(0)))
		isErr(t, s.UseJTI(ctx, jti("k1", time.Minute), at(59*time.Second)), storage.ErrConsumed)
		// A later expiry given with the replay does not help it.
		isErr(t, s.UseJTI(ctx, jti("k1", time.Hour), at(30*time.Second)), storage.ErrConsumed)
	}},
	{"UseJTI/keys are independent", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.UseJTI(ctx, jti("client-a/j1", time.Minute), at(0)))
		ok(t, s.UseJTI(ctx, jti("client-b/j1", time.Minute), at(0)))
		isErr(t, s.UseJTI(ctx, jti("client-b/j1", time.Minute), at(0)), storage.ErrConsumed)
	}},
	{"UseJTI/a record expired at now is replaced, and holds again until its new expiry", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.UseJTI(ctx, jti("k1", time.Minute), at(0)))
		ok(t, s.UseJTI(ctx, jti("k1", 3*time.Minute), at(time.Minute)))
		isErr(t, s.UseJTI(ctx, jti("k1", 3*time.Minute), at(2*time.Minute)), storage.ErrConsumed)
		// The replaced record's expiry is the new one: the janitor at the
		// old expiry leaves it.
		equal(t, must(s.DeleteExpired(ctx, at(2*time.Minute)))(t), 0)
		isErr(t, s.UseJTI(ctx, jti("k1", time.Hour), at(2*time.Minute)), storage.ErrConsumed)
	}},
	{"UseJTI/50 concurrent uses of one key have exactly one winner", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		oneWinner(t, race(50, func(int) error {
			return s.UseJTI(ctx, jti("k1", time.Minute), at(0))
		}))
	}},
	{"JTIUsed/reports a live record, not an unknown or expired one, and writes nothing", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		equal(t, must(s.JTIUsed(ctx, "k1", at(0)))(t), false)
		ok(t, s.UseJTI(ctx, jti("k1", time.Minute), at(0)))
		equal(t, must(s.JTIUsed(ctx, "k1", at(59*time.Second)))(t), true)
		equal(t, must(s.JTIUsed(ctx, "k1", at(time.Minute)))(t), false)
		equal(t, must(s.JTIUsed(ctx, "k2", at(0)))(t), false)
		// Asking recorded nothing: the key is still free.
		ok(t, s.UseJTI(ctx, jti("k2", time.Minute), at(0)))
	}},
	{"UseJTI/an empty key is refused", func(t *testing.T, s storage.Store) {
		notNil(t, s.UseJTI(t.Context(), jti("", time.Minute), at(0)), "UseJTI with an empty key")
	}},
}
