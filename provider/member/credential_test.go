package member

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"tsubasa/storage"
)

// grants gives the member two SSO sessions, a refresh token from each (one
// from a third-party app), a refresh token whose session is gone, and the
// same for another member.
func (f *fixture) grants(t *testing.T, memberID, other string) {
	t.Helper()
	ctx := t.Context()
	now := time.Now().UTC().Add(-time.Minute) // before the change (revocations use the real clock)
	for _, s := range []storage.Session{
		{ID: "s1", MemberID: memberID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
		{ID: "s2", MemberID: memberID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
		{ID: "s9", MemberID: other, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
	} {
		if err := f.store.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	tok := func(id, member, client, session string) storage.Token {
		return storage.Token{ID: id, Kind: storage.RefreshToken, MemberID: member, ClientID: client, SessionID: session,
			FamilyID: "f-" + id, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	if err := f.store.CreateTokens(ctx, tok("r1", memberID, "web", "s1"), tok("r2", memberID, "partner-app", "s2"),
		tok("r3", memberID, "web", "s2"), tok("r4", memberID, "spa", "s-gone"), tok("r9", other, "web", "s9")); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) sessionsOf(t *testing.T, memberID string) int {
	t.Helper()
	ss, err := f.store.ListSessions(t.Context(), storage.SessionFilter{MemberID: memberID})
	if err != nil {
		t.Fatal(err)
	}
	return len(ss)
}

func (f *fixture) tokensOf(t *testing.T, memberID string) int {
	t.Helper()
	ts, err := f.store.ListTokens(t.Context(), storage.TokenFilter{MemberID: memberID})
	if err != nil {
		t.Fatal(err)
	}
	return len(ts)
}

// TestCredentialChangedEndsEverything: a password change ends every
// session of the member and revokes every token (stored refresh tokens,
// third-party apps' included, and self-contained access tokens), replaces
// the security stamp, records password.changed and sessions.revoked, and
// hands the ended sessions with their clients to SessionsEnded. Another
// member keeps everything.
func TestCredentialChangedEndsEverything(t *testing.T) {
	var hooked []EndedSession
	f := newFixture(t, func(o *Options) {
		o.SessionsEnded = func(_ context.Context, _ string, ended []EndedSession) { hooked = ended }
	})
	m, other := f.create(t, "1234567"), f.create(t, "7654321")
	f.grants(t, m.ID, other.ID)
	ctx := t.Context()
	access := storage.Token{ID: "a1", Kind: storage.AccessToken, MemberID: m.ID, ClientID: "web", SessionID: "s1",
		CreatedAt: time.Now().UTC().Add(-time.Second)}

	ended, err := f.svc.ChangePassword(ctx, m.ID, goodPassword, "Other-Pass-55", Change{IP: "192.0.2.9"})
	if err != nil {
		t.Fatal(err)
	}
	got := f.member(t, m.ID)
	if got.SecurityStamp == "" || got.SecurityStamp == m.SecurityStamp || got.SecurityStamp != ended.Stamp {
		t.Errorf("stamp %q → %q, Ended.Stamp %q: want a new one, returned", m.SecurityStamp, got.SecurityStamp, ended.Stamp)
	}
	if n := f.sessionsOf(t, m.ID); n != 0 {
		t.Errorf("%d sessions left", n)
	}
	if n := f.tokensOf(t, m.ID); n != 0 || ended.Tokens != 4 {
		t.Errorf("%d tokens left, %d reported deleted; want 0 and 4", n, ended.Tokens)
	}
	if revoked, err := f.store.TokenRevoked(ctx, access); err != nil || !revoked {
		t.Errorf("access token issued before the change: revoked %v, %v", revoked, err)
	}
	if f.sessionsOf(t, other.ID) != 1 || f.tokensOf(t, other.ID) != 1 {
		t.Error("another member's session or token ended")
	}
	want := []EndedSession{{ID: "s1", ClientIDs: []string{"web"}}, {ID: "s2", ClientIDs: []string{"partner-app", "web"}}, {ID: "s-gone", ClientIDs: []string{"spa"}}}
	sortEnded := func(es []EndedSession) {
		slices.SortFunc(es, func(a, b EndedSession) int { return compareStrings(a.ID, b.ID) })
	}
	sortEnded(want)
	sortEnded(ended.Sessions)
	if !slices.EqualFunc(ended.Sessions, want, func(a, b EndedSession) bool { return a.ID == b.ID && slices.Equal(a.ClientIDs, b.ClientIDs) }) {
		t.Errorf("ended sessions %+v, want %+v", ended.Sessions, want)
	}
	if len(hooked) != len(want) {
		t.Errorf("SessionsEnded got %+v", hooked)
	}
	evs := f.events(t, m.ID)
	if !hasEvent(evs, EventPasswordChanged, "") || !hasEvent(evs, EventSessionsRevoked, "") {
		t.Errorf("events %v lack password.changed or sessions.revoked", evs)
	}
	for _, e := range evs {
		if e.Type == EventSessionsRevoked && (e.Detail["reason"] != ChangePassword || e.Detail["by"] != ByMember || e.IP != "192.0.2.9" ||
			e.Detail["sessions"] != "2" || e.Detail["tokens"] != "4") {
			t.Errorf("sessions.revoked %+v", e)
		}
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestHeldPasswordNeverOverwritesNewer: a login holds a new password's hash
// from the set-password step to its end; when the credentials changed in
// between (a reset in another browser), storing it is refused and nothing
// is ended: the newer password stays.
func TestHeldPasswordNeverOverwritesNewer(t *testing.T) {
	f := newFixture(t, nil)
	m := f.create(t, "1234567")
	ctx := t.Context()
	began := f.member(t, m.ID).SecurityStamp
	held, err := f.svc.HashNewPassword(ctx, m.ID, "Held-Password-31")
	if err != nil {
		t.Fatal(err)
	}
	if f.member(t, m.ID).PasswordHash != m.PasswordHash {
		t.Fatal("HashNewPassword stored the password")
	}
	// Meanwhile, a reset elsewhere.
	if _, err := f.svc.SetPassword(ctx, m.ID, "Reset-Password-32", Change{Kind: ChangeReset}); err != nil {
		t.Fatal(err)
	}
	f.grants(t, m.ID, f.create(t, "7654321").ID) // sessions started after the reset
	_, err = f.svc.SetPasswordHash(ctx, m.ID, held, Change{Kind: ChangeAtLogin, Guard: true, Stamp: began})
	if !errors.Is(err, ErrCredentialsChanged) {
		t.Fatalf("held password after a reset: %v, want ErrCredentialsChanged", err)
	}
	if _, err := f.login(ctx, "1234567", "Reset-Password-32"); err != nil {
		t.Errorf("the reset's password no longer works: %v", err)
	}
	if f.sessionsOf(t, m.ID) != 2 {
		t.Error("a refused change ended sessions")
	}
	// Under the current stamp it is stored.
	if _, err := f.svc.SetPasswordHash(ctx, m.ID, held, Change{Kind: ChangeAtLogin, Guard: true, Stamp: f.member(t, m.ID).SecurityStamp}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.login(ctx, "1234567", "Held-Password-31"); err != nil {
		t.Errorf("held password once stored: %v", err)
	}
	if _, err := f.svc.SetPasswordHash(ctx, m.ID, "plain-text", Change{Kind: ChangeAtLogin}); !errors.Is(err, ErrHashFormat) {
		t.Errorf("a value that is no argon2id hash: %v", err)
	}
}

// TestReportNotMe: the report forces a new password and a second factor
// at the next login, and ends everything; the password set by that login
// clears both.
func TestReportNotMe(t *testing.T) {
	f := newFixture(t, nil)
	m := f.create(t, "1234567")
	f.grants(t, m.ID, f.create(t, "7654321").ID)
	ctx := t.Context()
	if _, err := f.svc.ReportNotMe(ctx, m.ID, Change{DeviceID: "d1"}); err != nil {
		t.Fatal(err)
	}
	got := f.member(t, m.ID)
	if !got.MustChangePassword || !got.SecondFactorDue || got.SecurityStamp == m.SecurityStamp {
		t.Errorf("after the report: must change %v, second factor %v, stamp changed %v",
			got.MustChangePassword, got.SecondFactorDue, got.SecurityStamp != m.SecurityStamp)
	}
	if f.sessionsOf(t, m.ID) != 0 || f.tokensOf(t, m.ID) != 0 {
		t.Error("sessions or tokens survived the report")
	}
	reported := slices.IndexFunc(f.events(t, m.ID), func(e storage.Event) bool {
		return e.Type == EventNotMeReported && e.DeviceID == "d1"
	})
	if reported < 0 {
		t.Errorf("no not_me.reported naming the device: %+v", f.events(t, m.ID))
	}
	if res, err := f.login(ctx, "1234567", goodPassword); err != nil || !res.MustSetPassword {
		t.Fatalf("login after the report: %+v, %v", res, err)
	}
	hash, err := f.svc.HashNewPassword(ctx, m.ID, "Other-Pass-55")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SetPasswordHash(ctx, m.ID, hash, Change{Kind: ChangeAtLogin, Guard: true, Stamp: got.SecurityStamp}); err != nil {
		t.Fatal(err)
	}
	if after := f.member(t, m.ID); after.MustChangePassword || after.SecondFactorDue {
		t.Errorf("after the new password: must change %v, second factor %v", after.MustChangePassword, after.SecondFactorDue)
	}
}

// TestCredentialChangedRefused: a change whose Update fails, or that
// names no kind, writes nothing and ends nothing.
func TestCredentialChangedRefused(t *testing.T) {
	f := newFixture(t, nil)
	m := f.create(t, "1234567")
	f.grants(t, m.ID, f.create(t, "7654321").ID)
	ctx := t.Context()
	boom := errors.New("refused")
	if _, err := f.svc.CredentialChanged(ctx, m.ID, Change{Kind: ChangeContact, Update: func(o storage.Member) (storage.Member, error) {
		return o, boom
	}}); !errors.Is(err, boom) {
		t.Errorf("failing update: %v", err)
	}
	if _, err := f.svc.CredentialChanged(ctx, m.ID, Change{}); err == nil {
		t.Error("a change without a kind was made")
	}
	if f.member(t, m.ID).SecurityStamp != m.SecurityStamp || f.sessionsOf(t, m.ID) != 2 || f.tokensOf(t, m.ID) != 4 {
		t.Error("a refused change wrote something")
	}
}
