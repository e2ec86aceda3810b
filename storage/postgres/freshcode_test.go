package postgres_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/postgres"
)

// storeCode stores member m (unless its ID is empty), a completed request
// with the given fields under m's stamp, and a code for it created at.
func storeCode(t *testing.T, s *postgres.Store, r storage.AuthRequest, m storage.Member, at time.Time) string {
	t.Helper()
	ctx := t.Context()
	if m.ID != "" {
		if err := s.CreateMember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	r.RedirectURI, r.Done, r.MemberStamp = "https://web.example/cb", true, "stamp-1"
	r.CreatedAt, r.ExpiresAt = now, now.Add(time.Hour)
	if err := s.CreateAuthRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	hash := "code-" + r.ID
	if err := s.SaveAuthCode(ctx, storage.AuthCode{Hash: hash, AuthRequestID: r.ID, CreatedAt: at, ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	return hash
}

// freshFacts peeks at code hash both ways and fails unless the joined
// statement's facts, when it read them, are what the separate fresh
// reads of the same code and request answer.
func freshFacts(t *testing.T, s *postgres.Store, hash string) storage.CodeFacts {
	t.Helper()
	ctx := t.Context()
	c, r, f, err := s.PeekAuthCodeFresh(ctx, hash, time.Now())
	if err != nil {
		t.Fatalf("PeekAuthCodeFresh: %v", err)
	}
	pc, pr, err := s.PeekAuthCode(ctx, hash, time.Now())
	if err != nil || pc != c || pr.ID != r.ID || pr.ClientID != r.ClientID || pr.MemberID != r.MemberID || pr.SessionID != r.SessionID {
		t.Fatalf("PeekAuthCodeFresh read %+v / %q, PeekAuthCode %+v / %q (%v): want the same code and request", c, r.ID, pc, pr.ID, err)
	}
	if !f.Read {
		return f
	}
	revoked, err := s.TokenRevokedFresh(ctx, storage.CodeToken(c, r))
	if err != nil {
		t.Fatal(err)
	}
	m, merr := s.MemberByIDFresh(ctx, r.MemberID)
	if merr != nil && !errors.Is(merr, storage.ErrNotFound) {
		t.Fatal(merr)
	}
	if f.Revoked != revoked || f.MemberFound != (merr == nil) || f.SecurityStamp != m.SecurityStamp {
		t.Fatalf("facts of request %q: revoked %v, member found %v, stamp %q; the fresh reads: %v, %v, %q",
			r.ID, f.Revoked, f.MemberFound, f.SecurityStamp, revoked, merr == nil, m.SecurityStamp)
	}
	return f
}

// The code exchange's revocation check, its keys derived in SQL from the
// request's row (findCodeFreshSQL), must select exactly what the Go
// derivation (candidateKeys) selects: every filter a revocation can be
// made with over the fields of a code's token, for fields of one-byte and
// two-byte lengths, multibyte text, characters that JSON escapes, and a
// request without a session. A revocation covers a code created before it
// and not one created after, and a filter with one field the token does
// not match covers nothing.
func TestCodeReadWithFreshFactsRevokesAsTheFreshReads(t *testing.T) {
	ctx := t.Context()
	s := openAt(t, newDB(t), postgres.Options{})
	var _ storage.FreshCode = s
	shapes := []struct {
		name                 string
		session, member, cli string
	}{
		{"ascii", "s", "m", "web"},
		{"no session", "", "m", "web"},
		{"long and multibyte", strings.Repeat("x", 130), "m<&>\u2028\"", strings.Repeat("é", 100)},
	}
	for _, sh := range shapes {
		for mask := 1; mask < 16; mask++ {
			if sh.session == "" && mask&2 != 0 {
				continue // no session to revoke by
			}
			sfx := fmt.Sprintf("-%d-%s", mask, sh.name)
			r := storage.AuthRequest{ID: "req" + sfx, ClientID: sh.cli + sfx, MemberID: sh.member + sfx}
			if sh.session != "" {
				r.SessionID = sh.session + sfx
			}
			early := storeCode(t, s, r, storage.Member{ID: r.MemberID, Number: fmt.Sprint(len(sfx), mask, sh.name), SecurityStamp: "stamp-1", Status: storage.MemberActive, CreatedAt: t0}, time.Now().Add(-time.Minute))
			late := r
			late.ID = "late" + sfx
			lateCode := storeCode(t, s, late, storage.Member{}, time.Now().Add(time.Hour))
			var f, miss storage.TokenFilter
			for bit, set := range []func(*storage.TokenFilter){
				func(f *storage.TokenFilter) { f.AuthRequestID = r.ID },
				func(f *storage.TokenFilter) { f.SessionID = r.SessionID },
				func(f *storage.TokenFilter) { f.MemberID = r.MemberID },
				func(f *storage.TokenFilter) { f.ClientID = r.ClientID },
			} {
				if mask&(1<<bit) != 0 {
					set(&f)
				}
			}
			miss = f
			miss.FamilyID = "another family"
			if _, err := s.DeleteTokens(ctx, miss); err != nil {
				t.Fatal(err)
			}
			if got := freshFacts(t, s, early); !got.Read || got.Revoked {
				t.Fatalf("%s, mask %b: facts %+v before the revocation (only a filter the code does not match); want read, not revoked", sh.name, mask, got)
			}
			if _, err := s.DeleteTokens(ctx, f); err != nil {
				t.Fatal(err)
			}
			if got := freshFacts(t, s, early); !got.Read || !got.Revoked || !got.MemberFound || got.SecurityStamp != "stamp-1" {
				t.Fatalf("%s, mask %b: facts %+v after revoking %+v; want read, revoked, the member's stamp", sh.name, mask, got, f)
			}
			if mask&1 == 0 {
				if got := freshFacts(t, s, lateCode); !got.Read || got.Revoked {
					t.Fatalf("%s, mask %b: facts %+v of a code created after the revocation; want read, not revoked", sh.name, mask, got)
				}
			}
		}
	}
	gone := storeCode(t, s, storage.AuthRequest{ID: "req-gone", ClientID: "web", MemberID: "nobody"}, storage.Member{}, time.Now())
	if got := freshFacts(t, s, gone); !got.Read || got.MemberFound || got.SecurityStamp != "" {
		t.Errorf("facts %+v of a code whose member is not stored; want read, no member, no stamp", got)
	}
}

// Where SQL cannot take a request's fields apart as Go does, the read
// still finds the code and its request and leaves the fresh reads to the
// caller (Read false): a field of 16 KB, whose length the statement does
// not encode, and a NUL, which PostgreSQL's text cannot hold.
func TestCodeReadWithFreshFactsLeavesWhatSQLCannotDeriveToTheCaller(t *testing.T) {
	s := openAt(t, newDB(t), postgres.Options{})
	for name, cli := range map[string]string{"16 KB": strings.Repeat("c", 16384), "NUL": "we\x00b"} {
		r := storage.AuthRequest{ID: "req-" + strings.ReplaceAll(name, " ", ""), ClientID: cli, MemberID: "m-" + name, SessionID: "s"}
		hash := storeCode(t, s, r, storage.Member{}, time.Now().Add(-time.Minute))
		if f := freshFacts(t, s, hash); f.Read {
			t.Errorf("%s: facts %+v; want none read", name, f)
		}
	}
}
