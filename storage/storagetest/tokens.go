package storagetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"tsubasa/storage"
)

func token(id string, kind storage.TokenKind, member, client, session, family, authReq string) storage.Token {
	return storage.Token{
		ID: id, Kind: kind, ClientID: client, MemberID: member, Subject: "sub-" + member,
		Audience: []string{client}, Scopes: []string{"openid", "offline_access"},
		AuthTime: at(-time.Minute), ACR: "urn:tsubasa:acr:pwd", AMR: []string{"pwd"},
		SessionID: session, FamilyID: family, AuthRequestID: authReq,
		CreatedAt: at(0), ExpiresAt: at(time.Hour),
	}
}

func refresh(id, family string) storage.Token {
	t := token(id, storage.RefreshToken, "m1", "c1", "s1", family, "ar1")
	// A public client's refresh token is bound to its DPoP key.
	t.JKT, t.IDTokenClaims = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", []string{"email"}
	return t
}

// tokenSet is a spread of tokens over members, clients, sessions, families
// and auth requests, for the filter cases.
func tokenSet() []storage.Token {
	return []storage.Token{
		token("a1", storage.AccessToken, "m1", "c1", "s1", "", "ar1"),
		token("r1", storage.RefreshToken, "m1", "c1", "s1", "f1", "ar1"),
		token("a2", storage.AccessToken, "m1", "c2", "s2", "", "ar2"),
		token("r2", storage.RefreshToken, "m1", "c2", "s2", "f2", "ar2"),
		token("a3", storage.AccessToken, "m2", "c1", "s3", "", "ar3"),
		token("r3", storage.RefreshToken, "m2", "c1", "s3", "f3", "ar3"),
		token("cc", storage.AccessToken, "", "c1", "", "", ""), // client credentials
	}
}

func sortTokens(ts []storage.Token) []storage.Token {
	slices.SortFunc(ts, func(a, b storage.Token) int { return cmp.Compare(a.ID, b.ID) })
	return ts
}

func ids(ts []storage.Token) string {
	var out []string
	for _, t := range sortTokens(slices.Clone(ts)) {
		out = append(out, t.ID)
	}
	return strings.Join(out, ",")
}

var tokenFilters = []struct {
	name string
	f    storage.TokenFilter
	want string // token ids, sorted
}{
	{"MemberID", storage.TokenFilter{MemberID: "m1"}, "a1,a2,r1,r2"},
	{"ClientID", storage.TokenFilter{ClientID: "c1"}, "a1,a3,cc,r1,r3"},
	{"SessionID", storage.TokenFilter{SessionID: "s2"}, "a2,r2"},
	{"FamilyID", storage.TokenFilter{FamilyID: "f1"}, "r1"},
	{"AuthRequestID", storage.TokenFilter{AuthRequestID: "ar3"}, "a3,r3"},
	{"MemberID and ClientID", storage.TokenFilter{MemberID: "m1", ClientID: "c1"}, "a1,r1"},
	{"MemberID and ClientID matching nothing", storage.TokenFilter{MemberID: "m2", ClientID: "c2"}, ""},
	{"ClientID, SessionID and AuthRequestID", storage.TokenFilter{ClientID: "c1", SessionID: "s3", AuthRequestID: "ar3"}, "a3,r3"},
	{"MemberID and FamilyID", storage.TokenFilter{MemberID: "m1", FamilyID: "f2"}, "r2"},
	{"every field", storage.TokenFilter{MemberID: "m1", ClientID: "c1", SessionID: "s1", FamilyID: "f1", AuthRequestID: "ar1"}, "r1"},
	{"unknown value", storage.TokenFilter{MemberID: "m"}, ""},
	{"ID", storage.TokenFilter{ID: "a2"}, "a2"},
	{"ID and another token's ClientID", storage.TokenFilter{ID: "a2", ClientID: "c1"}, ""},
	{"unknown ID", storage.TokenFilter{ID: "nope"}, ""},
}

func filterTests() []test {
	var out []test
	for _, tf := range tokenFilters {
		out = append(out, test{"ListTokens/by " + tf.name + " returns exactly the matching tokens", func(t *testing.T, s storage.Store) {
			ok(t, s.CreateTokens(t.Context(), tokenSet()...))
			got := must(s.ListTokens(t.Context(), tf.f))(t)
			equal(t, ids(got), tf.want)
			for _, tok := range got {
				equal(t, tok, must(s.TokenByID(t.Context(), tok.ID))(t))
			}
		}})
		out = append(out, test{"DeleteTokens/by " + tf.name + " deletes exactly the matching tokens", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			all := tokenSet()
			ok(t, s.CreateTokens(ctx, all...))
			n := must(s.DeleteTokens(ctx, tf.f))(t)
			deleted := strings.Split(tf.want, ",")
			if tf.want == "" {
				deleted = nil
			}
			equal(t, n, len(deleted))
			equal(t, ids(must(s.ListTokens(ctx, tf.f))(t)), "")
			for _, tok := range all {
				_, err := s.TokenByID(ctx, tok.ID)
				if slices.Contains(deleted, tok.ID) {
					isErr(t, err, storage.ErrNotFound)
				} else {
					ok(t, err)
				}
			}
			// The indexes followed: the client index lists only survivors.
			var left []string
			for _, tok := range all {
				if tok.ClientID == "c1" && !slices.Contains(deleted, tok.ID) {
					left = append(left, tok.ID)
				}
			}
			slices.Sort(left)
			equal(t, ids(must(s.ListTokens(ctx, storage.TokenFilter{ClientID: "c1"}))(t)), strings.Join(left, ","))
		}})
	}
	for _, tf := range tokenFilters {
		out = append(out, test{"TokenRevoked/after DeleteTokens by " + tf.name + ", exactly the matching unstored tokens issued before it are revoked", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			equal(t, must(s.DeleteTokens(ctx, tf.f))(t), 0) // nothing stored
			want := strings.Split(tf.want, ",")
			for _, tok := range tokenSet() {
				equal(t, must(s.TokenRevoked(ctx, tok))(t), slices.Contains(want, tok.ID))
				later := tok
				later.CreatedAt = time.Now().Add(time.Hour) // issued after the revocation
				equal(t, must(s.TokenRevoked(ctx, later))(t), false)
			}
		}})
	}
	return out
}

var tokenTests = append([]test{
	{"TokenRevoked/nothing is revoked in a new store", func(t *testing.T, s storage.Store) {
		for _, tok := range tokenSet() {
			equal(t, must(s.TokenRevoked(t.Context(), tok))(t), false)
		}
	}},
	{"TokenRevoked/revocations add up; a stored token's deletion revokes its unstored copy", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		all := tokenSet()
		ok(t, s.CreateTokens(ctx, all...))
		must(s.DeleteTokens(ctx, storage.TokenFilter{SessionID: "s1"}))(t)
		must(s.DeleteTokens(ctx, storage.TokenFilter{MemberID: "m2", ClientID: "c1"}))(t)
		var revoked []string
		for _, tok := range all {
			if must(s.TokenRevoked(ctx, tok))(t) {
				revoked = append(revoked, tok.ID)
			}
		}
		equal(t, strings.Join(revoked, ","), "a1,r1,a3,r3")
	}},
	{"CreateTokens/stored tokens read back equal", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateTokens(ctx, tokenSet()...))
		for _, tok := range tokenSet() {
			equal(t, must(s.TokenByID(ctx, tok.ID))(t), tok)
		}
		ok(t, s.CreateTokens(ctx)) // nothing to store
	}},
	{"CreateTokens/duplicate id within the batch stores nothing", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		err := s.CreateTokens(ctx, refresh("t1", "f1"), refresh("t2", "f1"), refresh("t1", "f1"))
		isErr(t, err, storage.ErrAlreadyExists)
		for _, id := range []string{"t1", "t2"} {
			_, err := s.TokenByID(ctx, id)
			isErr(t, err, storage.ErrNotFound)
		}
		equal(t, ids(must(s.ListTokens(ctx, storage.TokenFilter{FamilyID: "f1"}))(t)), "")
	}},
	{"CreateTokens/id already stored stores nothing", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateTokens(ctx, refresh("t1", "f1")))
		isErr(t, s.CreateTokens(ctx, refresh("t2", "f2"), refresh("t1", "f2")), storage.ErrAlreadyExists)
		_, err := s.TokenByID(ctx, "t2")
		isErr(t, err, storage.ErrNotFound)
		equal(t, must(s.TokenByID(ctx, "t1"))(t), refresh("t1", "f1"))
	}},
	{"TokenByID/unknown id returns ErrNotFound", func(t *testing.T, s storage.Store) {
		_, err := s.TokenByID(t.Context(), "nope")
		isErr(t, err, storage.ErrNotFound)
	}},
	{"RotateRefreshToken/marks the old token consumed and stores the next", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateTokens(ctx, refresh("r1", "f1")))
		next := []storage.Token{refresh("r2", "f1"), token("a2", storage.AccessToken, "m1", "c1", "s1", "f1", "ar1")}
		old := must(s.RotateRefreshToken(ctx, "r1", at(time.Minute), next...))(t)
		want := refresh("r1", "f1").Tombstone()
		equal(t, old, want)
		equal(t, must(s.TokenByID(ctx, "r1"))(t), want) // consumed tokens stay readable, as tombstones
		equal(t, ids(must(s.ListTokens(ctx, storage.TokenFilter{FamilyID: "f1"}))(t)), "a2,r1,r2")
	}},
	{"RotateRefreshToken/the consumed token keeps its tombstone alone, found by key, family and client only", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateTokens(ctx, refresh("r1", "f1")))
		must(s.RotateRefreshToken(ctx, "r1", at(time.Minute), refresh("r2", "f1")))(t)
		got := must(s.TokenByID(ctx, "r1"))(t)
		// Nothing of the grant (subject, audience, scopes, authentication,
		// DPoP key, claims, issue time), nor whose it was.
		equal(t, got, storage.Token{ID: "r1", Kind: storage.RefreshToken, ClientID: "c1", FamilyID: "f1",
			Consumed: true, ExpiresAt: refresh("r1", "f1").ExpiresAt})
		// A replay is still recognised, with the family to revoke.
		old, err := s.RotateRefreshToken(ctx, "r1", at(2*time.Minute), refresh("r3", "f1"))
		isErr(t, err, storage.ErrConsumed)
		equal(t, old, got)
		for _, f := range []storage.TokenFilter{{ClientID: "c1"}, {FamilyID: "f1"}} {
			equal(t, ids(must(s.ListTokens(ctx, f))(t)), "r1,r2")
		}
		for _, f := range []storage.TokenFilter{{MemberID: "m1"}, {SessionID: "s1"}, {AuthRequestID: "ar1"}} {
			equal(t, ids(must(s.ListTokens(ctx, f))(t)), "r2")
		}
		// Revoking the family takes the tombstone along.
		equal(t, must(s.DeleteTokens(ctx, storage.TokenFilter{FamilyID: "f1"}))(t), 2)
		_, err = s.TokenByID(ctx, "r1")
		isErr(t, err, storage.ErrNotFound)
	}},
	{"RotateRefreshToken/second rotation returns ErrConsumed with the old token", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateTokens(ctx, refresh("r1", "f1")))
		must(s.RotateRefreshToken(ctx, "r1", at(time.Minute), refresh("r2", "f1")))(t)
		old, err := s.RotateRefreshToken(ctx, "r1", at(2*time.Minute), refresh("r3", "f1"))
		isErr(t, err, storage.ErrConsumed)
		equal(t, old.ID, "r1")
		equal(t, old.FamilyID, "f1")
		_, err = s.TokenByID(ctx, "r3")
		isErr(t, err, storage.ErrNotFound)
	}},
	{"RotateRefreshToken/unknown id returns ErrNotFound", func(t *testing.T, s storage.Store) {
		_, err := s.RotateRefreshToken(t.Context(), "nope", at(0), refresh("r2", "f1"))
		isErr(t, err, storage.ErrNotFound)
		_, err = s.TokenByID(t.Context(), "r2")
		isErr(t, err, storage.ErrNotFound)
	}},
	{"RotateRefreshToken/token at or after ExpiresAt returns ErrNotFound and stores nothing", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		r := refresh("r1", "f1")
		ok(t, s.CreateTokens(ctx, r))
		for _, now := range []time.Time{r.ExpiresAt, r.ExpiresAt.Add(time.Hour)} {
			_, err := s.RotateRefreshToken(ctx, "r1", now, refresh("r2", "f1"))
			isErr(t, err, storage.ErrNotFound)
		}
		equal(t, must(s.TokenByID(ctx, "r1"))(t), r)
		_, err := s.TokenByID(ctx, "r2")
		isErr(t, err, storage.ErrNotFound)
	}},
	{"RotateRefreshToken/access token returns ErrNotFound", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		a := token("a1", storage.AccessToken, "m1", "c1", "s1", "", "ar1")
		ok(t, s.CreateTokens(ctx, a))
		_, err := s.RotateRefreshToken(ctx, "a1", at(0), refresh("r2", "f1"))
		isErr(t, err, storage.ErrNotFound)
		equal(t, must(s.TokenByID(ctx, "a1"))(t), a)
	}},
	{"RotateRefreshToken/revoked (deleted) token returns ErrNotFound", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateTokens(ctx, refresh("r1", "f1")))
		ok(t, s.DeleteToken(ctx, "r1"))
		_, err := s.RotateRefreshToken(ctx, "r1", at(0), refresh("r2", "f1"))
		isErr(t, err, storage.ErrNotFound)
	}},
	{"RotateRefreshToken/next id already taken returns ErrAlreadyExists and leaves the old token unconsumed", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateTokens(ctx, refresh("r1", "f1"), refresh("taken", "f9")))
		_, err := s.RotateRefreshToken(ctx, "r1", at(0), refresh("r2", "f1"), refresh("taken", "f1"))
		isErr(t, err, storage.ErrAlreadyExists)
		equal(t, must(s.TokenByID(ctx, "r1"))(t), refresh("r1", "f1"))
		_, err = s.TokenByID(ctx, "r2")
		isErr(t, err, storage.ErrNotFound)
		must(s.RotateRefreshToken(ctx, "r1", at(0), refresh("r2", "f1")))(t)
	}},
	{"RotateRefreshToken/50 concurrent rotations have exactly one winner", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateTokens(ctx, refresh("r0", "f1")))
		errs := race(50, func(i int) error {
			_, err := s.RotateRefreshToken(ctx, "r0", at(time.Minute), refresh(fmt.Sprintf("next-%02d", i), "f1"))
			return err
		})
		w := oneWinner(t, errs)
		equal(t, ids(must(s.ListTokens(ctx, storage.TokenFilter{FamilyID: "f1"}))(t)), fmt.Sprintf("next-%02d,r0", w))
	}},
	{"DeleteToken/deleted token is gone from every index", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateTokens(ctx, tokenSet()...))
		ok(t, s.DeleteToken(ctx, "r1"))
		_, err := s.TokenByID(ctx, "r1")
		isErr(t, err, storage.ErrNotFound)
		for _, f := range []storage.TokenFilter{{MemberID: "m1"}, {ClientID: "c1"}, {SessionID: "s1"}, {FamilyID: "f1"}, {AuthRequestID: "ar1"}} {
			if got := ids(must(s.ListTokens(ctx, f))(t)); strings.Contains(","+got+",", ",r1,") {
				t.Fatalf("ListTokens(%+v) = %s, still lists r1", f, got)
			}
		}
	}},
	{"DeleteToken/unknown id returns ErrNotFound", func(t *testing.T, s storage.Store) {
		isErr(t, s.DeleteToken(t.Context(), "nope"), storage.ErrNotFound)
	}},
	{"ListTokens/empty filter returns an error", func(t *testing.T, s storage.Store) {
		ok(t, s.CreateTokens(t.Context(), tokenSet()...))
		_, err := s.ListTokens(t.Context(), storage.TokenFilter{})
		notNil(t, err, "ListTokens with an empty filter")
	}},
	{"DeleteTokens/empty filter returns an error and deletes nothing", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		ok(t, s.CreateTokens(ctx, tokenSet()...))
		_, err := s.DeleteTokens(ctx, storage.TokenFilter{})
		notNil(t, err, "DeleteTokens with an empty filter")
		for _, tok := range tokenSet() {
			must(s.TokenByID(ctx, tok.ID))(t)
		}
	}},
}, filterTests()...)
