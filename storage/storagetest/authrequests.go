package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"tsubasa/storage"
)

func authRequest(id string) storage.AuthRequest {
	return storage.AuthRequest{
		ID:                  id,
		ClientID:            "web",
		RedirectURI:         "https://web.example/cb",
		State:               "state-" + id,
		Nonce:               "nonce-" + id,
		ResponseType:        "code",
		Scopes:              []string{"openid", "profile", "offline_access"},
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		Prompt:              []string{"login"},
		MaxAge:              ptr[int64](300),
		UILocales:           []string{"ja", "en"},
		LoginHint:           "1000001",
		ACRValues:           []string{"urn:tsubasa:acr:otp"},
		CreatedAt:           at(0),
		ExpiresAt:           at(30 * time.Minute),

		// The partner fields round-trip like the rest.
		DPoPJKT:       "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
		IDTokenClaims: []string{"email", "acr"},
	}
}

// loggedIn is r as the login UI leaves it.
func loggedIn(r storage.AuthRequest) storage.AuthRequest {
	r.BrowserSession, r.MemberID, r.Done = "browser-1", "mem-001", true
	r.AuthTime, r.ACR, r.AMR, r.SessionID = at(time.Minute), "urn:tsubasa:acr:otp", []string{"pwd", "otp", "mfa"}, "sid-1"
	return r
}

func authCode(hash, requestID string) storage.AuthCode {
	return storage.AuthCode{Hash: hash, AuthRequestID: requestID, CreatedAt: at(0), ExpiresAt: at(time.Minute)}
}

// withCode stores a logged-in request and a code for it.
func withCode(t *testing.T, s storage.Store) (storage.AuthCode, storage.AuthRequest) {
	t.Helper()
	r, c := loggedIn(authRequest("ar-1")), authCode("code-hash-1", "ar-1")
	ok(t, s.CreateAuthRequest(t.Context(), r))
	ok(t, s.SaveAuthCode(t.Context(), c))
	return c, r
}

func consumed(c storage.AuthCode) storage.AuthCode { c.Consumed = true; return c }

var authRequestTests = []test{
	{"CreateAuthRequest/stored request reads back equal", func(t *testing.T, s storage.Store) {
		r := authRequest("ar-1")
		ok(t, s.CreateAuthRequest(t.Context(), r))
		equal(t, must(s.AuthRequestByID(t.Context(), r.ID))(t), r)
	}},
	{"CreateAuthRequest/MaxAge nil and zero round-trip apart", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		absent, zero := authRequest("absent"), authRequest("zero")
		absent.MaxAge, zero.MaxAge = nil, ptr[int64](0)
		ok(t, s.CreateAuthRequest(ctx, absent))
		ok(t, s.CreateAuthRequest(ctx, zero))
		if got := must(s.AuthRequestByID(ctx, "absent"))(t).MaxAge; got != nil {
			t.Fatalf("absent MaxAge = %d, want nil", *got)
		}
		if got := must(s.AuthRequestByID(ctx, "zero"))(t).MaxAge; got == nil || *got != 0 {
			t.Fatalf("zero MaxAge = %v, want pointer to 0", got)
		}
	}},
	{"CreateAuthRequest/duplicate id returns ErrAlreadyExists", func(t *testing.T, s storage.Store) {
		ok(t, s.CreateAuthRequest(t.Context(), authRequest("ar-1")))
		isErr(t, s.CreateAuthRequest(t.Context(), authRequest("ar-1")), storage.ErrAlreadyExists)
	}},
	{"AuthRequestByID/unknown id returns ErrNotFound", func(t *testing.T, s storage.Store) {
		_, err := s.AuthRequestByID(t.Context(), "nope")
		isErr(t, err, storage.ErrNotFound)
	}},
	{"AuthRequestByID/returns a request past ExpiresAt (the caller owns the clock)", func(t *testing.T, s storage.Store) {
		r := authRequest("ar-1")
		r.ExpiresAt = at(-time.Hour)
		ok(t, s.CreateAuthRequest(t.Context(), r))
		equal(t, must(s.AuthRequestByID(t.Context(), r.ID))(t), r)
	}},
	{"UpdateAuthRequest/login results are stored", func(t *testing.T, s storage.Store) {
		ctx, r := t.Context(), authRequest("ar-1")
		ok(t, s.CreateAuthRequest(ctx, r))
		ok(t, s.UpdateAuthRequest(ctx, r.ID, func(r storage.AuthRequest) (storage.AuthRequest, error) {
			return loggedIn(r), nil
		}))
		equal(t, must(s.AuthRequestByID(ctx, r.ID))(t), loggedIn(r))
	}},
	{"UpdateAuthRequest/error from fn aborts and leaves the record unchanged", func(t *testing.T, s storage.Store) {
		ctx, r := t.Context(), authRequest("ar-1")
		ok(t, s.CreateAuthRequest(ctx, r))
		err := s.UpdateAuthRequest(ctx, r.ID, func(r storage.AuthRequest) (storage.AuthRequest, error) {
			r.Scopes[0] = "changed"
			return loggedIn(r), errBoom
		})
		isErr(t, err, errBoom)
		equal(t, must(s.AuthRequestByID(ctx, r.ID))(t), r)
	}},
	{"UpdateAuthRequest/unknown id returns ErrNotFound", func(t *testing.T, s storage.Store) {
		err := s.UpdateAuthRequest(t.Context(), "nope", func(r storage.AuthRequest) (storage.AuthRequest, error) { return r, nil })
		isErr(t, err, storage.ErrNotFound)
	}},
	{"DeleteAuthRequest/deleted request is gone", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateAuthRequest(ctx, authRequest("ar-1")))
		ok(t, s.DeleteAuthRequest(ctx, "ar-1"))
		_, err := s.AuthRequestByID(ctx, "ar-1")
		isErr(t, err, storage.ErrNotFound)
		isErr(t, s.DeleteAuthRequest(ctx, "ar-1"), storage.ErrNotFound)
	}},
	{"SaveAuthCode/duplicate hash returns ErrAlreadyExists", func(t *testing.T, s storage.Store) {
		withCode(t, s)
		isErr(t, s.SaveAuthCode(t.Context(), authCode("code-hash-1", "ar-2")), storage.ErrAlreadyExists)
	}},
	{"ClaimAuthCode/first claim returns the code, consumed, with its request", func(t *testing.T, s storage.Store) {
		c, r := withCode(t, s)
		code, req, err := s.ClaimAuthCode(t.Context(), c.Hash, at(30*time.Second))
		ok(t, err)
		equal(t, code, consumed(c))
		equal(t, req, r)
	}},
	{"ClaimAuthCode/second claim returns ErrConsumed with the code", func(t *testing.T, s storage.Store) {
		c, _ := withCode(t, s)
		_, _, err := s.ClaimAuthCode(t.Context(), c.Hash, at(10*time.Second))
		ok(t, err)
		code, _, err := s.ClaimAuthCode(t.Context(), c.Hash, at(20*time.Second))
		isErr(t, err, storage.ErrConsumed)
		equal(t, code, consumed(c))
	}},
	{"ClaimAuthCode/the claim deletes the request; a replay still names it by the code", func(t *testing.T, s storage.Store) {
		c, r := withCode(t, s)
		_, _, err := s.ClaimAuthCode(t.Context(), c.Hash, at(10*time.Second))
		ok(t, err)
		_, err = s.AuthRequestByID(t.Context(), r.ID)
		isErr(t, err, storage.ErrNotFound)
		isErr(t, s.DeleteAuthRequest(t.Context(), r.ID), storage.ErrNotFound)
		code, _, err := s.ClaimAuthCode(t.Context(), c.Hash, at(20*time.Second))
		isErr(t, err, storage.ErrConsumed)
		equal(t, code.AuthRequestID, r.ID)
	}},
	{"SaveAuthCode/request and code are both readable after the save, and the request is updatable", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		c, r := withCode(t, s)
		equal(t, must(s.AuthRequestByID(ctx, r.ID))(t), r)
		ok(t, s.UpdateAuthRequest(ctx, r.ID, func(a storage.AuthRequest) (storage.AuthRequest, error) {
			a.CodeIssued = true
			return a, nil
		}))
		r.CodeIssued = true
		equal(t, must(s.AuthRequestByID(ctx, r.ID))(t), r)
		_, req, err := s.ClaimAuthCode(ctx, c.Hash, at(time.Second))
		ok(t, err)
		equal(t, req, r)
	}},
	{"UpdateAuthRequest/50 concurrent binders: exactly one wins, the others see its value", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateAuthRequest(ctx, authRequest("ar-1")))
		errs := race(50, func(i int) error {
			return s.UpdateAuthRequest(ctx, "ar-1", func(a storage.AuthRequest) (storage.AuthRequest, error) {
				if a.BrowserSession != "" {
					return a, errBoom
				}
				a.BrowserSession = fmt.Sprintf("browser-%d", i)
				return a, nil
			})
		})
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
			} else {
				isErr(t, err, errBoom)
			}
		}
		if wins != 1 {
			t.Fatalf("%d updates bound the request, want exactly 1", wins)
		}
		if got := must(s.AuthRequestByID(ctx, "ar-1"))(t).BrowserSession; got == "" {
			t.Fatal("no browser session stored")
		}
	}},
	{"DeleteAuthRequest/a deleted request cannot take a code", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateAuthRequest(ctx, loggedIn(authRequest("ar-1"))))
		ok(t, s.DeleteAuthRequest(ctx, "ar-1"))
		ok(t, s.SaveAuthCode(ctx, authCode("code-hash-1", "ar-1")))
		_, _, err := s.ClaimAuthCode(ctx, "code-hash-1", at(time.Second))
		isErr(t, err, storage.ErrNotFound)
	}},
	{"ClaimAuthCode/unknown code returns ErrNotFound", func(t *testing.T, s storage.Store) {
		withCode(t, s)
		_, _, err := s.ClaimAuthCode(t.Context(), "other-hash", at(0))
		isErr(t, err, storage.ErrNotFound)
	}},
	{"ClaimAuthCode/code at or after ExpiresAt returns ErrNotFound and stays unclaimed", func(t *testing.T, s storage.Store) {
		c, _ := withCode(t, s)
		for _, now := range []time.Time{c.ExpiresAt, c.ExpiresAt.Add(time.Hour)} {
			_, _, err := s.ClaimAuthCode(t.Context(), c.Hash, now)
			isErr(t, err, storage.ErrNotFound)
		}
		// Not consumed by the failed claims: an earlier clock still wins.
		_, _, err := s.ClaimAuthCode(t.Context(), c.Hash, c.ExpiresAt.Add(-time.Nanosecond))
		ok(t, err)
	}},
	{"ClaimAuthCode/code whose request is gone returns ErrNotFound", func(t *testing.T, s storage.Store) {
		c, r := withCode(t, s)
		ok(t, s.DeleteAuthRequest(t.Context(), r.ID))
		_, _, err := s.ClaimAuthCode(t.Context(), c.Hash, at(0))
		isErr(t, err, storage.ErrNotFound)
	}},
	{"ClaimAuthCode/a claim raced by its request's deletion mints its tokens with the code consumed, or nothing with the code unclaimed", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		for i := range 20 {
			r := loggedIn(authRequest(fmt.Sprint("ar-race-", i)))
			c := authCode(fmt.Sprint("code-race-", i), r.ID)
			ok(t, s.CreateAuthRequest(ctx, r))
			ok(t, s.SaveAuthCode(ctx, c))
			tok := refresh(fmt.Sprint("rt-race-", i), fmt.Sprint("fam-race-", i))
			errs := race(2, func(j int) error {
				if j == 0 {
					_, _, err := s.ClaimAuthCode(ctx, c.Hash, at(time.Second), tok)
					return err
				}
				return s.DeleteAuthRequest(ctx, r.ID)
			})
			if errs[1] != nil && !errors.Is(errs[1], storage.ErrNotFound) { // gone with the claim that won
				t.Fatalf("round %d: DeleteAuthRequest: %v", i, errs[1])
			}
			_, terr := s.TokenByID(ctx, tok.ID)
			_, _, again := s.ClaimAuthCode(ctx, c.Hash, at(2*time.Second))
			switch {
			case errs[0] == nil:
				ok(t, terr)
				isErr(t, again, storage.ErrConsumed)
			default:
				isErr(t, errs[0], storage.ErrNotFound)
				isErr(t, terr, storage.ErrNotFound)
				isErr(t, again, storage.ErrNotFound) // not ErrConsumed: the failed claim left it unclaimed
			}
		}
	}},
	{"PeekAuthCode/returns what a claim would, claiming nothing", func(t *testing.T, s storage.Store) {
		c, r := withCode(t, s)
		for range 2 {
			code, req, err := s.PeekAuthCode(t.Context(), c.Hash, at(time.Second))
			ok(t, err)
			equal(t, code, c)
			equal(t, req, r)
		}
		_, req, err := s.ClaimAuthCode(t.Context(), c.Hash, at(time.Second))
		ok(t, err)
		equal(t, req, r)
		code, _, err := s.PeekAuthCode(t.Context(), c.Hash, at(2*time.Second))
		isErr(t, err, storage.ErrConsumed)
		equal(t, code, consumed(c))
		_, _, err = s.PeekAuthCode(t.Context(), "other-hash", at(0))
		isErr(t, err, storage.ErrNotFound)
		c2 := authCode("code-hash-2", "ar-2")
		ok(t, s.CreateAuthRequest(t.Context(), loggedIn(authRequest("ar-2"))))
		ok(t, s.SaveAuthCode(t.Context(), c2))
		_, _, err = s.PeekAuthCode(t.Context(), c2.Hash, c2.ExpiresAt)
		isErr(t, err, storage.ErrNotFound)
	}},
	{"ClaimAuthCode/creates the tokens in the claim's commit; a lost claim creates none", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		c, _ := withCode(t, s)
		won, lost := refresh("rt-won", "fam-1"), refresh("rt-lost", "fam-2")
		_, _, err := s.ClaimAuthCode(ctx, c.Hash, at(time.Second), won)
		ok(t, err)
		equal(t, must(s.TokenByID(ctx, won.ID))(t), won)
		_, _, err = s.ClaimAuthCode(ctx, c.Hash, at(2*time.Second), lost)
		isErr(t, err, storage.ErrConsumed)
		_, err = s.TokenByID(ctx, lost.ID)
		isErr(t, err, storage.ErrNotFound)
	}},
	{"ClaimAuthCode/a token that cannot be created leaves the code unclaimed", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		c, r := withCode(t, s)
		taken := refresh("rt-1", "fam-1")
		ok(t, s.CreateTokens(ctx, taken))
		_, _, err := s.ClaimAuthCode(ctx, c.Hash, at(time.Second), taken)
		isErr(t, err, storage.ErrAlreadyExists)
		code, req, err := s.PeekAuthCode(ctx, c.Hash, at(time.Second))
		ok(t, err)
		equal(t, code, c)
		equal(t, req, r)
	}},
	{"ClaimAuthCode/50 concurrent claims have exactly one winner", func(t *testing.T, s storage.Store) {
		c, r := withCode(t, s)
		codes := make([]storage.AuthCode, 50)
		reqs := make([]storage.AuthRequest, 50)
		errs := race(50, func(i int) error {
			var err error
			codes[i], reqs[i], err = s.ClaimAuthCode(t.Context(), c.Hash, at(time.Second))
			return err
		})
		oneWinner(t, errs)
		for i := range codes {
			// Only the winner gets the request; the claim deleted it.
			if codes[i].AuthRequestID != r.ID || (errs[i] == nil) != (reqs[i].ID == r.ID) {
				t.Fatalf("claim %d (err %v) got code %s and request %q", i, errs[i], fmt.Sprint(codes[i]), reqs[i].ID)
			}
		}
	}},
}
