package postgres_test

import (
	"errors"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/postgres"
)

// The one-statement claim and the transaction it falls back to (a unit
// that carries a held write; a member record whose stamp ->> cannot take
// out) decide alike: the same verdicts for the same facts, tokens only
// when nothing was found, the code spent either way.
func TestClaimAuthCodeFreshPaths(t *testing.T) {
	s := openAt(t, newDB(t), postgres.Options{})
	ctx := t.Context()
	issued := time.Now().Add(-time.Second)
	cases := []struct {
		name   string
		member storage.Member // stored with the code; stamp-1
		stamp  string         // the check's
		carry  bool           // claim in a unit with a held write
		want   storage.ClaimVerdict
	}{
		{"statement", storage.Member{ID: "m1", Number: "1000001", SecurityStamp: "stamp-1"}, "stamp-1", false, storage.ClaimVerdict{}},
		{"statement, new stamp", storage.Member{ID: "m2", Number: "1000002", SecurityStamp: "stamp-1"}, "stamp-0", false, storage.ClaimVerdict{CredentialsChanged: true}},
		{"carried", storage.Member{ID: "m3", Number: "1000003", SecurityStamp: "stamp-1"}, "stamp-1", true, storage.ClaimVerdict{}},
		{"carried, new stamp", storage.Member{ID: "m4", Number: "1000004", SecurityStamp: "stamp-1"}, "stamp-0", true, storage.ClaimVerdict{CredentialsChanged: true}},
		{"NUL in the record", storage.Member{ID: "m5", Number: "1000005", FamilyName: "a\x00b", SecurityStamp: "stamp-1"}, "stamp-1", false, storage.ClaimVerdict{}},
		{"NUL in the record, new stamp", storage.Member{ID: "m6", Number: "1000006", FamilyName: "a\x00b", SecurityStamp: "stamp-1"}, "stamp-0", false, storage.ClaimVerdict{CredentialsChanged: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := storage.AuthRequest{ID: "ar-" + tc.member.ID, ClientID: "web", MemberID: tc.member.ID, SessionID: "sid-" + tc.member.ID}
			hash := storeCode(t, s, r, tc.member, issued, "swap")
			c := storage.AuthCode{AuthRequestID: r.ID, CreatedAt: issued}
			check := storage.CodeCheck{Token: storage.CodeToken(c, r), MemberID: tc.member.ID, MemberStamp: tc.stamp}
			tok := storage.Token{ID: "rt-" + tc.member.ID, Kind: storage.RefreshToken, ClientID: "web", MemberID: tc.member.ID,
				SessionID: r.SessionID, AuthRequestID: r.ID, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
			cctx, commit := ctx, func() error { return nil }
			if tc.carry {
				cctx, commit = s.Begin(ctx)
				if err := s.AppendEvent(cctx, storage.Event{ID: "ev-claim-" + r.ID, Time: time.Now(), Type: "login.succeeded", MemberID: r.MemberID}); err != nil {
					t.Fatal(err)
				}
			}
			code, v, err := s.ClaimAuthCodeFresh(cctx, hash, time.Now(), check, tok)
			if err != nil {
				t.Fatalf("ClaimAuthCodeFresh: %v", err)
			}
			if err := commit(); err != nil {
				t.Fatal(err)
			}
			if v != tc.want || !code.Consumed || code.AuthRequestID != r.ID {
				t.Fatalf("verdict %+v, code %+v; want %+v and the code consumed", v, code, tc.want)
			}
			_, err = s.TokenByID(ctx, tok.ID)
			if minted := err == nil; minted != v.Minted() || (err != nil && !errors.Is(err, storage.ErrNotFound)) {
				t.Fatalf("token stored: %v (%v); want %v", minted, err, v.Minted())
			}
			if _, _, err := s.ClaimAuthCode(ctx, hash, time.Now()); !errors.Is(err, storage.ErrConsumed) {
				t.Fatalf("second claim: %v, want ErrConsumed", err)
			}
		})
	}
}
