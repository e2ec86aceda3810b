package storagetest

import (
	"fmt"
	"testing"
	"time"

	"tsubasa/storage"
)

// freshCode stores member mem-001 (stamp-1), a logged-in request of it
// and a code, and returns the code and the check its exchange makes.
func freshCode(t *testing.T, s storage.Store) (storage.AuthCode, storage.CodeCheck) {
	t.Helper()
	ok(t, s.CreateMember(t.Context(), member(1)))
	c, r := withCode(t, s)
	return c, storage.CodeCheck{Token: storage.CodeToken(c, r), MemberID: r.MemberID, MemberStamp: "stamp-1"}
}

// codeTokens are the tokens an exchange of code c mints, by id.
func codeTokens(ids ...string) []storage.Token {
	ts := make([]storage.Token, len(ids))
	for i, id := range ids {
		ts[i] = token(id, storage.RefreshToken, "mem-001", "web", "sid-1", "fam-"+id, "ar-1")
	}
	return ts
}

// spent checks that code c was claimed and its request deleted: a second
// claim is a replay that names the request.
func spent(t *testing.T, s storage.Store, c storage.AuthCode) {
	t.Helper()
	_, err := s.AuthRequestByID(t.Context(), c.AuthRequestID)
	isErr(t, err, storage.ErrNotFound)
	code, _, err := s.ClaimAuthCode(t.Context(), c.Hash, at(20*time.Second))
	isErr(t, err, storage.ErrConsumed)
	equal(t, code.AuthRequestID, c.AuthRequestID)
}

// stored reports whether token id is stored.
func stored(t *testing.T, s storage.Store, id string) bool {
	t.Helper()
	_, err := s.TokenByID(t.Context(), id)
	if err != nil {
		isErr(t, err, storage.ErrNotFound)
		return false
	}
	return true
}

var claimFreshTests = []test{
	{"ClaimAuthCodeFresh/nothing found: the code is claimed, its request deleted, its tokens stored", func(t *testing.T, s storage.Store) {
		c, check := freshCode(t, s)
		code, v, err := s.ClaimAuthCodeFresh(t.Context(), c.Hash, at(10*time.Second), check, codeTokens("r1")...)
		ok(t, err)
		equal(t, code, consumed(c))
		equal(t, v, storage.ClaimVerdict{})
		equal(t, v.Minted(), true)
		equal(t, must(s.TokenByID(t.Context(), "r1"))(t), codeTokens("r1")[0])
		spent(t, s, c)
	}},
	{"ClaimAuthCodeFresh/a revocation at or after the code stops its tokens and spends the code", func(t *testing.T, s storage.Store) {
		c, check := freshCode(t, s)
		// The session's logout, made after the code was issued (now is after t0).
		must(s.DeleteTokens(t.Context(), storage.TokenFilter{SessionID: "sid-1"}))(t)
		code, v, err := s.ClaimAuthCodeFresh(t.Context(), c.Hash, at(10*time.Second), check, codeTokens("r1")...)
		ok(t, err)
		equal(t, code, consumed(c))
		equal(t, v, storage.ClaimVerdict{Revoked: true})
		equal(t, stored(t, s, "r1"), false)
		spent(t, s, c)
	}},
	{"ClaimAuthCodeFresh/a revocation made before the code stops nothing", func(t *testing.T, s storage.Store) {
		c, check := freshCode(t, s)
		must(s.DeleteTokens(t.Context(), storage.TokenFilter{MemberID: "mem-001"}))(t)
		check.Token.CreatedAt = time.Now().Add(time.Hour) // a code issued after the revocation
		_, v, err := s.ClaimAuthCodeFresh(t.Context(), c.Hash, at(10*time.Second), check, codeTokens("r1")...)
		ok(t, err)
		equal(t, v, storage.ClaimVerdict{})
		equal(t, stored(t, s, "r1"), true)
	}},
	{"ClaimAuthCodeFresh/a revocation of another session, client or member stops nothing", func(t *testing.T, s storage.Store) {
		c, check := freshCode(t, s)
		for _, f := range []storage.TokenFilter{{SessionID: "sid-2"}, {ClientID: "other"}, {MemberID: "mem-002"}, {AuthRequestID: "ar-2"}} {
			must(s.DeleteTokens(t.Context(), f))(t)
		}
		_, v, err := s.ClaimAuthCodeFresh(t.Context(), c.Hash, at(10*time.Second), check, codeTokens("r1")...)
		ok(t, err)
		equal(t, v, storage.ClaimVerdict{})
		equal(t, stored(t, s, "r1"), true)
	}},
	{"ClaimAuthCodeFresh/a new stamp stops the tokens and spends the code", func(t *testing.T, s storage.Store) {
		c, check := freshCode(t, s)
		ok(t, s.UpdateMember(t.Context(), "mem-001", func(m storage.Member) (storage.Member, error) {
			m.SecurityStamp = "stamp-2"
			return m, nil
		}))
		_, v, err := s.ClaimAuthCodeFresh(t.Context(), c.Hash, at(10*time.Second), check, codeTokens("r1")...)
		ok(t, err)
		equal(t, v, storage.ClaimVerdict{CredentialsChanged: true})
		equal(t, stored(t, s, "r1"), false)
		spent(t, s, c)
	}},
	{"ClaimAuthCodeFresh/a member gone stops the tokens; an empty stamp checks no member", func(t *testing.T, s storage.Store) {
		c, check := freshCode(t, s)
		check.MemberID = "mem-404"
		_, v, err := s.ClaimAuthCodeFresh(t.Context(), c.Hash, at(10*time.Second), check, codeTokens("r1")...)
		ok(t, err)
		equal(t, v, storage.ClaimVerdict{CredentialsChanged: true})
		equal(t, stored(t, s, "r1"), false)

		ok(t, s.CreateAuthRequest(t.Context(), loggedIn(authRequest("ar-2"))))
		ok(t, s.SaveAuthCode(t.Context(), authCode("code-hash-2", "ar-2")))
		check.MemberStamp = "" // answered before stamps were recorded
		_, v, err = s.ClaimAuthCodeFresh(t.Context(), "code-hash-2", at(10*time.Second), check, codeTokens("r2")...)
		ok(t, err)
		equal(t, v, storage.ClaimVerdict{})
		equal(t, stored(t, s, "r2"), true)
	}},
	{"ClaimAuthCodeFresh/a replay returns ErrConsumed with the code and stores nothing", func(t *testing.T, s storage.Store) {
		c, check := freshCode(t, s)
		_, _, err := s.ClaimAuthCodeFresh(t.Context(), c.Hash, at(10*time.Second), check, codeTokens("r1")...)
		ok(t, err)
		code, _, err := s.ClaimAuthCodeFresh(t.Context(), c.Hash, at(20*time.Second), check, codeTokens("r2")...)
		isErr(t, err, storage.ErrConsumed)
		equal(t, code.AuthRequestID, c.AuthRequestID)
		equal(t, stored(t, s, "r2"), false)
	}},
	{"ClaimAuthCodeFresh/unknown, expired or request gone: ErrNotFound, nothing stored, and an expired code stays unclaimed", func(t *testing.T, s storage.Store) {
		c, check := freshCode(t, s)
		_, _, err := s.ClaimAuthCodeFresh(t.Context(), "other-hash", at(0), check, codeTokens("r1")...)
		isErr(t, err, storage.ErrNotFound)
		_, _, err = s.ClaimAuthCodeFresh(t.Context(), c.Hash, c.ExpiresAt, check, codeTokens("r1")...)
		isErr(t, err, storage.ErrNotFound)
		equal(t, stored(t, s, "r1"), false)
		_, _, err = s.ClaimAuthCodeFresh(t.Context(), c.Hash, c.ExpiresAt.Add(-time.Nanosecond), check)
		ok(t, err) // not consumed by the failed claims

		ok(t, s.CreateAuthRequest(t.Context(), loggedIn(authRequest("ar-2"))))
		ok(t, s.SaveAuthCode(t.Context(), authCode("code-hash-2", "ar-2")))
		ok(t, s.DeleteAuthRequest(t.Context(), "ar-2"))
		_, _, err = s.ClaimAuthCodeFresh(t.Context(), "code-hash-2", at(0), check, codeTokens("r2")...)
		isErr(t, err, storage.ErrNotFound)
		equal(t, stored(t, s, "r2"), false)
	}},
	{"ClaimAuthCodeFresh/a token id taken: ErrAlreadyExists, and nothing changed", func(t *testing.T, s storage.Store) {
		c, check := freshCode(t, s)
		ok(t, s.CreateTokens(t.Context(), codeTokens("r1")...))
		_, _, err := s.ClaimAuthCodeFresh(t.Context(), c.Hash, at(10*time.Second), check, codeTokens("r1")...)
		isErr(t, err, storage.ErrAlreadyExists)
		_, _, err = s.ClaimAuthCodeFresh(t.Context(), c.Hash, at(10*time.Second), check, codeTokens("r2")...)
		ok(t, err)
	}},
	{"ClaimAuthCodeFresh/20 concurrent claims: exactly one wins and mints, the others are replays", func(t *testing.T, s storage.Store) {
		c, check := freshCode(t, s)
		errs := race(20, func(i int) error {
			_, _, err := s.ClaimAuthCodeFresh(t.Context(), c.Hash, at(10*time.Second), check, codeTokens(fmt.Sprintf("r%d", i))...)
			return err
		})
		wins := 0
		for i, err := range errs {
			if err == nil {
				wins++
				equal(t, stored(t, s, fmt.Sprintf("r%d", i)), true)
				continue
			}
			isErr(t, err, storage.ErrConsumed)
			equal(t, stored(t, s, fmt.Sprintf("r%d", i)), false)
		}
		if wins != 1 {
			t.Fatalf("%d claims won, want exactly 1", wins)
		}
	}},
}
