package postgres

import (
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/postgres/pgtest"
)

// Codes stored before migration 10 have no revocation keys (NULL): after
// it, the code exchange's read still finds each with its request and
// leaves the fresh facts to the separate reads, which judge them right (a
// code of a session revoked since is revoked, the other is not), and the
// codes are claimed as before. A code issued after the migration carries
// its keys, and its facts come with its read.
func TestMigration10LeavesOlderCodesToTheFreshReads(t *testing.T) {
	ctx := t.Context()
	url := pgtest.NewDatabase(t, "")
	conn := testConn(t, url)
	migrateTo(t, conn, 9)
	now := time.Now().UTC()
	m := storage.Member{ID: "m1", Number: "1000001", SecurityStamp: "stamp-1", Status: storage.MemberActive, CreatedAt: now}
	insertOld(t, conn, []storage.Member{m})
	var hashes []string
	for _, id := range []string{"ar-revoked", "ar-live"} {
		// As a Tsubasa before migration 10 stored them.
		r := storage.AuthRequest{ID: id, ClientID: "web", MemberID: m.ID, SessionID: "s-" + id, RedirectURI: "https://web.example/cb",
			Done: true, CodeIssued: true, MemberStamp: "stamp-1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		c := storage.AuthCode{Hash: "code-" + id, AuthRequestID: id, CreatedAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)}
		rdata, err := encode(r)
		if err != nil {
			t.Fatal(err)
		}
		cdata, err := encode(c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "INSERT INTO auth_requests (id, expires_at, expires_ns, data) VALUES ($1, $2, $3, $4)",
			id, r.ExpiresAt, ns(r.ExpiresAt), rdata); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO auth_codes (hash, auth_request_id, consumed, expires_at, expires_ns, data)
			VALUES ($1, $2, false, $3, $4, $5)`, c.Hash, id, c.ExpiresAt, ns(c.ExpiresAt), cdata); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, c.Hash)
	}
	st, err := Migrate(ctx, Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Pending) == 0 || st.Pending[0].Version != 10 {
		t.Fatalf("before: %s, want migration 10 pending", st)
	}
	var unkeyed int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM auth_codes WHERE revocation_keys IS NULL AND member_id IS NULL").Scan(&unkeyed); err != nil || unkeyed != 2 {
		t.Fatalf("codes without keys after the migration: %d, %v; want both", unkeyed, err)
	}

	s, err := Open(ctx, Options{URL: url, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.DeleteTokens(ctx, storage.TokenFilter{SessionID: "s-ar-revoked"}); err != nil {
		t.Fatal(err)
	}
	for i, hash := range hashes {
		c, r, f, err := s.PeekAuthCodeFresh(ctx, hash, time.Now())
		if err != nil || c.Hash != hash || r.SessionID == "" || f.Read {
			t.Fatalf("%s: code %q, request %q, facts %+v, %v; want both read, no facts", hash, c.Hash, r.ID, f, err)
		}
		revoked, got, err := s.TokenRevokedAndMemberFresh(ctx, storage.CodeToken(c, r), r.MemberID)
		if err != nil || revoked != (i == 0) || got.SecurityStamp != "stamp-1" {
			t.Errorf("%s: the fresh reads: revoked %v, stamp %q, %v; want revoked %v, stamp-1", hash, revoked, got.SecurityStamp, err, i == 0)
		}
		tok := storage.Token{ID: "t-" + hash, Kind: storage.AccessToken, ClientID: r.ClientID, MemberID: r.MemberID,
			SessionID: r.SessionID, AuthRequestID: r.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if _, _, err := s.ClaimAuthCode(ctx, hash, time.Now(), tok); err != nil {
			t.Errorf("%s: claim: %v", hash, err)
		}
	}

	r := storage.AuthRequest{ID: "ar-new", ClientID: "web", MemberID: m.ID, SessionID: "s-new", Done: true, MemberStamp: "stamp-1",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateAuthRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	c := storage.AuthCode{Hash: "code-new", AuthRequestID: r.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.IssueAuthCode(ctx, c, func(r storage.AuthRequest) (storage.AuthRequest, error) {
		r.CodeIssued = true
		return r, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, f, err := s.PeekAuthCodeFresh(ctx, c.Hash, time.Now()); err != nil || !f.Read || f.Revoked || f.SecurityStamp != "stamp-1" {
		t.Errorf("a code issued after the migration: facts %+v, %v; want read, not revoked, stamp-1", f, err)
	}
}
