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

// The ways a code is stored: with its request known, by IssueAuthCode
// from a handed-off copy in one statement ("swap"), as the pipelined
// update ("pipelined"), and in a unit's transaction that carries a held
// write ("carried"); without it, by SaveAuthCode ("save").
var issuePaths = []string{"swap", "pipelined", "carried"}

func markIssued(r storage.AuthRequest) (storage.AuthRequest, error) {
	r.CodeIssued = true
	return r, nil
}

// storeCode stores member m (unless its ID is empty), a completed request
// with the given fields under m's stamp, and a code for it created at,
// stored by path (issuePaths, or "save").
func storeCode(t *testing.T, s *postgres.Store, r storage.AuthRequest, m storage.Member, at time.Time, path string) string {
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
	var commit func() error
	switch path {
	case "swap":
		ctx = storage.WithHandoff(ctx)
	case "carried":
		ctx, commit = s.Begin(ctx)
	}
	if err := s.CreateAuthRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	if path == "carried" {
		if err := s.AppendEvent(ctx, storage.Event{ID: "ev-" + r.ID, Time: now, Type: "login.succeeded", MemberID: r.MemberID}); err != nil {
			t.Fatal(err)
		}
	}
	c := storage.AuthCode{Hash: "code-" + r.ID, AuthRequestID: r.ID, CreatedAt: at, ExpiresAt: now.Add(time.Minute)}
	var err error
	if path == "save" {
		err = s.SaveAuthCode(ctx, c)
	} else {
		err = s.IssueAuthCode(ctx, c, markIssued)
	}
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if commit != nil {
		if err := commit(); err != nil {
			t.Fatal(err)
		}
	}
	return c.Hash
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

// The code exchange's revocation check, its keys stored with the code
// when it is issued (whichever way IssueAuthCode takes) and joined on by
// the code's read (findCodeFreshSQL), must select exactly what the
// separate fresh reads select: every filter a revocation can be made with
// over the fields of a code's token, for fields of one-byte and two-byte
// lengths, multibyte text, characters that JSON escapes, and a request
// without a session. A revocation covers a code created before it and not
// one created after, and a filter with one field the token does not
// match covers nothing.
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
			early := storeCode(t, s, r, storage.Member{ID: r.MemberID, Number: fmt.Sprint(len(sfx), mask, sh.name), SecurityStamp: "stamp-1", Status: storage.MemberActive, CreatedAt: t0},
				time.Now().Add(-time.Minute), issuePaths[mask%len(issuePaths)])
			late := r
			late.ID = "late" + sfx
			lateCode := storeCode(t, s, late, storage.Member{}, time.Now().Add(time.Hour), issuePaths[(mask+1)%len(issuePaths)])
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
	gone := storeCode(t, s, storage.AuthRequest{ID: "req-gone", ClientID: "web", MemberID: "nobody"}, storage.Member{}, time.Now(), "pipelined")
	if got := freshFacts(t, s, gone); !got.Read || got.MemberFound || got.SecurityStamp != "" {
		t.Errorf("facts %+v of a code whose member is not stored; want read, no member, no stamp", got)
	}
}

// Fields Go encodes as any others (a field of 16 KB, a NUL in the
// request's record) are read with their facts, which are the fresh
// reads'. A member whose record holds a NUL, which PostgreSQL's text
// refuses, cannot give its stamp to SQL: the read still finds the code
// and its request and leaves the fresh reads to the caller (Read false).
func TestCodeReadWithFreshFactsOfOddRecords(t *testing.T) {
	ctx := t.Context()
	s := openAt(t, newDB(t), postgres.Options{})
	for name, cli := range map[string]string{"16KB": strings.Repeat("c", 16384), "NUL": "we\x00b"} {
		r := storage.AuthRequest{ID: "req-" + name, ClientID: cli, MemberID: "m-" + name, SessionID: "s-" + name}
		m := storage.Member{ID: r.MemberID, Number: "n-" + name, SecurityStamp: "stamp-1", Status: storage.MemberActive, CreatedAt: t0}
		hash := storeCode(t, s, r, m, time.Now().Add(-time.Minute), "pipelined")
		if f := freshFacts(t, s, hash); !f.Read || f.Revoked || f.SecurityStamp != "stamp-1" {
			t.Errorf("%s: facts %+v; want read, not revoked, the member's stamp", name, f)
		}
		if _, err := s.DeleteTokens(ctx, storage.TokenFilter{SessionID: r.SessionID, ClientID: r.ClientID}); err != nil {
			t.Fatal(err)
		}
		if f := freshFacts(t, s, hash); !f.Read || !f.Revoked {
			t.Errorf("%s: facts %+v after revoking its session and client; want read, revoked", name, f)
		}
	}
	r := storage.AuthRequest{ID: "req-member-NUL", ClientID: "web", MemberID: "m-NUL-name", SessionID: "s"}
	m := storage.Member{ID: r.MemberID, Number: "n-NUL-name", FamilyName: "a\x00b", SecurityStamp: "stamp-1", Status: storage.MemberActive, CreatedAt: t0}
	hash := storeCode(t, s, r, m, time.Now().Add(-time.Minute), "pipelined")
	if f := freshFacts(t, s, hash); f.Read {
		t.Errorf("member with a NUL in their record: facts %+v; want none read", f)
	}
}

// The facts are used only when the keys and member stored with the code
// are exactly those of its request as read with it. A code stored
// without its request (SaveAuthCode: NULL) and every disagreement (keys
// of another request, the same keys in another order, one missing, none,
// another member, NULL in one column, the request's session changed
// since the code) leave the fresh reads to the caller; otherwise the
// joins would answer for the wrong keys: here the other request's,
// neither revoked nor with this member's stamp.
func TestCodeReadWithFreshFactsNeedsItsRequestsKeys(t *testing.T) {
	ctx := t.Context()
	url := newDB(t)
	s := openAt(t, url, postgres.Options{})
	member := func(id, stamp string) storage.Member {
		return storage.Member{ID: id, Number: "n-" + id, SecurityStamp: stamp, Status: storage.MemberActive, CreatedAt: t0}
	}
	other := storeCode(t, s, storage.AuthRequest{ID: "other", ClientID: "web", MemberID: "m-other", SessionID: "s-other"},
		member("m-other", "stamp-other"), time.Now().Add(-time.Minute), "pipelined")
	if f := freshFacts(t, s, other); !f.Read || f.Revoked || f.SecurityStamp != "stamp-other" {
		t.Fatalf("the other request's code: facts %+v; want read, not revoked, its member's stamp", f)
	}
	changeSession := func(t *testing.T, id string) {
		if err := s.UpdateAuthRequest(ctx, id, func(r storage.AuthRequest) (storage.AuthRequest, error) {
			r.SessionID = "s-changed"
			return r, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i, tc := range []struct {
		name   string
		tamper string // SQL on the code's row, $1 its hash, $2 the other code's
		change func(t *testing.T, id string)
	}{
		{name: "another request's keys", tamper: "UPDATE auth_codes SET revocation_keys = (SELECT revocation_keys FROM auth_codes WHERE hash = $2) WHERE hash = $1"},
		{name: "keys in another order", tamper: "UPDATE auth_codes SET revocation_keys = ARRAY(SELECT k FROM unnest(revocation_keys) WITH ORDINALITY u(k, i) ORDER BY i DESC) WHERE hash = $1 AND $2 <> ''"},
		{name: "a key missing", tamper: "UPDATE auth_codes SET revocation_keys = revocation_keys[1:cardinality(revocation_keys)-1] WHERE hash = $1 AND $2 <> ''"},
		{name: "no keys", tamper: "UPDATE auth_codes SET revocation_keys = '{}' WHERE hash = $1 AND $2 <> ''"},
		{name: "keys NULL", tamper: "UPDATE auth_codes SET revocation_keys = NULL WHERE hash = $1 AND $2 <> ''"},
		{name: "another member", tamper: "UPDATE auth_codes SET member_id = (SELECT member_id FROM auth_codes WHERE hash = $2) WHERE hash = $1"},
		{name: "member NULL", tamper: "UPDATE auth_codes SET member_id = NULL WHERE hash = $1 AND $2 <> ''"},
		{name: "the request's session changed", change: changeSession},
		{name: "stored without its request", tamper: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprint("req-", i)
			r := storage.AuthRequest{ID: id, ClientID: "web", MemberID: "m-" + id, SessionID: "s-" + id}
			path := issuePaths[i%len(issuePaths)]
			if tc.tamper == "" && tc.change == nil {
				path = "save"
			}
			hash := storeCode(t, s, r, member(r.MemberID, "stamp-1"), time.Now().Add(-time.Minute), path)
			if _, err := s.DeleteTokens(ctx, storage.TokenFilter{SessionID: r.SessionID}); err != nil {
				t.Fatal(err)
			}
			if path != "save" {
				if f := freshFacts(t, s, hash); !f.Read || !f.Revoked || f.SecurityStamp != "stamp-1" {
					t.Fatalf("before: facts %+v; want read, revoked, the member's stamp", f)
				}
			}
			if tc.tamper != "" {
				exec(t, url, tc.tamper, hash, other)
			}
			if tc.change != nil {
				tc.change(t, id)
			}
			if f := freshFacts(t, s, hash); f.Read {
				t.Errorf("facts %+v; want none read", f)
			}
		})
	}
}
