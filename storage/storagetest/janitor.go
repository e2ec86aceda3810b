package storagetest

import (
	"fmt"
	"testing"
	"time"

	"tsubasa/storage"
)

// expirySet stores, of every kind that expires, records that are expired at
// at(time.Hour) (ids starting "dead") and records that are not ("live"),
// and returns how many are expired.
func expirySet(t *testing.T, s storage.Store) int {
	t.Helper()
	ctx := t.Context()
	now := at(time.Hour)
	dead := 0
	deadAR, edgeAR, liveAR := authRequest("dead-ar"), authRequest("dead-ar-edge"), authRequest("live-ar")
	// ExpiresAt equal to now is not after now: expired.
	deadAR.ExpiresAt, edgeAR.ExpiresAt, liveAR.ExpiresAt = now.Add(-time.Minute), now, now.Add(time.Hour)
	for _, r := range []storage.AuthRequest{deadAR, edgeAR, liveAR} {
		ok(t, s.CreateAuthRequest(ctx, r))
	}
	dead += 2
	deadCode, liveCode := authCode("dead-code", "live-ar"), authCode("live-code", "live-ar")
	liveCode.ExpiresAt = now.Add(time.Minute)
	ok(t, s.SaveAuthCode(ctx, deadCode))
	ok(t, s.SaveAuthCode(ctx, liveCode))
	dead++

	deadRefresh := token("dead-r", storage.RefreshToken, "m1", "c1", "s1", "f1", "ar1")
	deadRefresh.ExpiresAt = now.Add(-time.Minute)
	deadAccess := token("dead-a", storage.AccessToken, "m1", "c1", "s1", "", "ar1")
	deadAccess.ExpiresAt = now
	live := token("live-r", storage.RefreshToken, "m1", "c1", "s1", "f2", "ar2")
	live.ExpiresAt = now.Add(time.Second)
	ok(t, s.CreateTokens(ctx, deadRefresh, deadAccess, live))
	dead += 2

	deadSession, liveSession := session("dead-s", "m1", "d1"), session("live-s", "m1", "d1")
	deadSession.ExpiresAt = now.Add(-time.Nanosecond)
	ok(t, s.CreateSession(ctx, deadSession))
	ok(t, s.CreateSession(ctx, liveSession))
	dead++

	deadOTP, liveOTP := otp("dead-o", "m1", "login"), otp("live-o", "m1", "step_up")
	liveOTP.ExpiresAt = now.Add(time.Minute)
	ok(t, s.PutOTP(ctx, deadOTP))
	ok(t, s.PutOTP(ctx, liveOTP))
	dead++

	for _, m := range []storage.OutboxMessage{
		{ID: "dead-sent", State: storage.OutboxSent, ExpiresAt: now.Add(-time.Hour)},
		{ID: "dead-failed", State: storage.OutboxFailed, ExpiresAt: now},
		{ID: "live-sent", State: storage.OutboxSent, ExpiresAt: now.Add(time.Hour)},
		{ID: "live-kept", State: storage.OutboxFailed},                           // zero ExpiresAt: kept
		{ID: "live-pending", State: storage.OutboxPending, NextAttemptAt: at(0)}, // never expires
	} {
		ok(t, s.EnqueueMessage(ctx, m))
	}
	dead += 2

	deadPAR, usedPAR, livePAR := pushed("dead-par", "c1"), pushed("dead-par-used", "c1"), pushed("live-par", "c1")
	deadPAR.ExpiresAt, usedPAR.ExpiresAt, livePAR.ExpiresAt = now, now.Add(-time.Second), now.Add(time.Second)
	for _, r := range []storage.PushedRequest{deadPAR, usedPAR, livePAR} {
		ok(t, s.CreatePushedRequest(ctx, r))
	}
	must(s.ClaimPushedRequest(ctx, "dead-par-used", "c1", at(0)))(t)
	dead += 2

	ok(t, s.UseJTI(ctx, storage.UsedJTI{Key: "dead-jti", ExpiresAt: now}, at(0)))
	ok(t, s.UseJTI(ctx, storage.UsedJTI{Key: "live-jti", ExpiresAt: now.Add(time.Second)}, at(0)))
	dead++
	return dead
}

var janitorTests = []test{
	{"DeleteExpired/deletes exactly the expired records of every kind and leaves the rest", func(t *testing.T, s storage.Store) {
		ctx, now := t.Context(), at(time.Hour)
		want := expirySet(t, s)
		equal(t, must(s.DeleteExpired(ctx, now))(t), want)

		gone := map[string]error{}
		_, gone["dead-ar"] = s.AuthRequestByID(ctx, "dead-ar")
		_, gone["dead-ar-edge"] = s.AuthRequestByID(ctx, "dead-ar-edge")
		_, _, gone["dead-code"] = s.ClaimAuthCode(ctx, "dead-code", at(0))
		_, gone["dead-r"] = s.TokenByID(ctx, "dead-r")
		_, gone["dead-a"] = s.TokenByID(ctx, "dead-a")
		_, gone["dead-s"] = s.SessionByID(ctx, "dead-s")
		_, gone["dead-o"] = s.CurrentOTP(ctx, "m1", "login")
		_, gone["dead-sent"] = s.OutboxMessageByID(ctx, "dead-sent")
		_, gone["dead-failed"] = s.OutboxMessageByID(ctx, "dead-failed")
		_, gone["dead-par"] = s.ClaimPushedRequest(ctx, "dead-par", "c1", at(0))
		_, gone["dead-par-used"] = s.ClaimPushedRequest(ctx, "dead-par-used", "c1", at(0))
		for id, err := range gone {
			if !isNotFound(err) {
				t.Errorf("%s: error = %v, want ErrNotFound after DeleteExpired", id, err)
			}
		}

		must(s.AuthRequestByID(ctx, "live-ar"))(t)
		must(s.TokenByID(ctx, "live-r"))(t)
		must(s.SessionByID(ctx, "live-s"))(t)
		must(s.CurrentOTP(ctx, "m1", "step_up"))(t)
		for _, id := range []string{"live-sent", "live-kept", "live-pending"} {
			must(s.OutboxMessageByID(ctx, id))(t)
		}
		_, _, err := s.ClaimAuthCode(ctx, "live-code", now)
		ok(t, err)
		must(s.ClaimPushedRequest(ctx, "live-par", "c1", at(0)))(t)
		// The expired jti is gone (a use succeeds), the live one holds.
		ok(t, s.UseJTI(ctx, storage.UsedJTI{Key: "dead-jti", ExpiresAt: now.Add(time.Hour)}, at(0)))
		isErr(t, s.UseJTI(ctx, storage.UsedJTI{Key: "live-jti", ExpiresAt: now.Add(time.Hour)}, at(0)), storage.ErrConsumed)

		// Index entries went with the records.
		equal(t, ids(must(s.ListTokens(ctx, storage.TokenFilter{MemberID: "m1"}))(t)), "live-r")
		equal(t, ids(must(s.ListTokens(ctx, storage.TokenFilter{FamilyID: "f1"}))(t)), "")
		equal(t, sessionIDs(must(s.ListSessions(ctx, storage.SessionFilter{MemberID: "m1"}))(t)), []string{"live-s"})
		equal(t, messageIDs(must(s.DueMessages(ctx, now, 10))(t)), []string{"live-pending"})

		equal(t, must(s.DeleteExpired(ctx, now))(t), 0)
	}},
	{"DeleteExpired/nothing expires before its ExpiresAt", func(t *testing.T, s storage.Store) {
		expirySet(t, s)
		equal(t, must(s.DeleteExpired(t.Context(), at(-time.Hour)))(t), 0)
		must(s.TokenByID(t.Context(), "dead-r"))(t)
	}},
	{"DeleteExpired/follows ExpiresAt changed by an update", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		extended, shortened := session("extended", "m1", "d1"), session("shortened", "m1", "d1")
		extended.ExpiresAt, shortened.ExpiresAt = at(30*time.Minute), at(2*time.Hour)
		ok(t, s.CreateSession(ctx, extended))
		ok(t, s.CreateSession(ctx, shortened))
		ok(t, s.UpdateSession(ctx, "extended", func(s storage.Session) (storage.Session, error) {
			s.ExpiresAt = at(2 * time.Hour)
			return s, nil
		}))
		ok(t, s.UpdateSession(ctx, "shortened", func(s storage.Session) (storage.Session, error) {
			s.ExpiresAt = at(30 * time.Minute)
			return s, nil
		}))
		equal(t, must(s.DeleteExpired(ctx, at(time.Hour)))(t), 1)
		equal(t, sessionIDs(must(s.ListSessions(ctx, storage.SessionFilter{MemberID: "m1"}))(t)), []string{"extended"})
	}},
	{"DeleteExpired/claimed codes and rotated tokens expire like the rest", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		c, _ := withCode(t, s)
		_, _, err := s.ClaimAuthCode(ctx, c.Hash, at(0))
		ok(t, err)
		ok(t, s.CreateTokens(ctx, refresh("r1", "f1")))
		next := refresh("r2", "f1")
		next.ExpiresAt = at(48 * time.Hour)
		must(s.RotateRefreshToken(ctx, "r1", at(0), next))(t)
		equal(t, must(s.DeleteExpired(ctx, at(2*time.Hour)))(t), 2) // the code and r1 (the claim took the request)
		equal(t, ids(must(s.ListTokens(ctx, storage.TokenFilter{FamilyID: "f1"}))(t)), "r2")
		_, _, err = s.ClaimAuthCode(ctx, c.Hash, at(0))
		isErr(t, err, storage.ErrNotFound)
	}},
	{"DeleteExpired/deletes every one of many expired records", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		const n = 2500
		ts := make([]storage.Token, n)
		for i := range ts {
			ts[i] = token(fmt.Sprintf("t%04d", i), storage.AccessToken, "m1", "c1", "", "", "")
			ts[i].ExpiresAt = at(time.Duration(i) * time.Second)
		}
		ok(t, s.CreateTokens(ctx, ts...))
		equal(t, must(s.DeleteExpired(ctx, at(n*time.Second)))(t), n)
		equal(t, len(must(s.ListTokens(ctx, storage.TokenFilter{ClientID: "c1"}))(t)), 0)
	}},
}
