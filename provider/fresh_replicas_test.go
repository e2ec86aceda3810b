package provider

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"tsubasa/storage"
	"tsubasa/storage/postgres"
	"tsubasa/storage/postgres/pgtest"
)

// staleReplicas runs the wire environment's provider on b, one of two
// replicas (a, b) of one PostgreSQL database, b having cached the wire
// member. stall then stalls the replicas' listeners (pgtest): from there
// on b's caches hear nothing a changes, and b answers from them for its
// RevocationDelay, 30 s here and longer than the test, as any replica
// does for up to storage.postgres.revocation_delay after another's change.
func staleReplicas(t *testing.T) (e *wireEnv, a, b *postgres.Store, stall func()) {
	t.Helper()
	dbURL := pgtest.NewDatabase(t, "")
	open := func() *postgres.Store {
		st, err := postgres.Open(context.Background(), postgres.Options{URL: dbURL, MaxConns: 4, RevocationDelay: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	a, b = open(), open()
	e = newWireEnvWith(t, func(o *Options) { o.Store = b })
	if _, err := b.MemberByID(t.Context(), e.member.ID); err != nil {
		t.Fatal(err)
	}
	return e, a, b, func() { pgtest.StallListeners(t, dbURL) }
}

// wireSession is the session e.code's requests are answered in.
const wireSession = "s-wire"

// refused checks a token endpoint answer is 400 invalid_grant whose
// description contains why.
func refused(t *testing.T, what string, rec *httptest.ResponseRecorder, why string) {
	t.Helper()
	if rec.Code != http.StatusBadRequest || decode(t, rec)["error"] != "invalid_grant" || !strings.Contains(rec.Body.String(), why) {
		t.Errorf("%s: %d %s; want 400 invalid_grant saying %q", what, rec.Code, rec.Body.String(), why)
	}
}

// A logout on replica a, not yet heard by replica b, and the code of the
// ended session presented at b: b mints nothing. Its tokens would be
// created after the logout's revocation, which does not cover them, and
// would work for hours on every replica.
func TestCodeOfSessionEndedOnAnotherReplicaMintsNothing(t *testing.T) {
	e, a, b, stall := staleReplicas(t)
	code := e.code(t, "web", wireRedirect, e.member.SecurityStamp)
	stall()
	if _, err := a.DeleteTokens(t.Context(), storage.TokenFilter{SessionID: wireSession}); err != nil {
		t.Fatal(err)
	}
	before := storage.Token{ClientID: "web", MemberID: e.member.ID, SessionID: wireSession, CreatedAt: e.clock.Now()}
	if r, err := b.TokenRevoked(t.Context(), before); err != nil || r {
		t.Fatalf("b's TokenRevoked: %v, %v; want the stale false (this test no longer plays a replica that has not heard)", r, err)
	}
	refused(t, "the ended session's code on b", e.exchange(code, "web", wireRedirect), "session")
}

// A credential change on replica a (a new security stamp), not yet heard
// by replica b, and a code answered under the old stamp presented at b:
// b mints nothing.
func TestCodeAfterCredentialChangeOnAnotherReplicaMintsNothing(t *testing.T) {
	e, a, b, stall := staleReplicas(t)
	code := e.code(t, "web", wireRedirect, e.member.SecurityStamp)
	stall()
	if err := a.UpdateMember(t.Context(), e.member.ID, func(m storage.Member) (storage.Member, error) {
		m.SecurityStamp = "stamp-2"
		return m, nil
	}); err != nil {
		t.Fatal(err)
	}
	if m, err := b.MemberByID(t.Context(), e.member.ID); err != nil || m.SecurityStamp != e.member.SecurityStamp {
		t.Fatalf("b's MemberByID: stamp %q, %v; want the cached %q (this test no longer plays a replica that has not heard)",
			m.SecurityStamp, err, e.member.SecurityStamp)
	}
	refused(t, "a code from before the credential change on b", e.exchange(code, "web", wireRedirect), "credentials")
}

// A refresh needs no fresh read: its token is a stored row, which a
// logout, a credential change or a disabled member deletes in the commit
// that records the revocation, and its rotation is one claim of that row
// in the database. So a refresh token of a session ended on replica a is
// refused by replica b at once, while b's stale caches still accept the
// session's access token (within the bound, as documented).
func TestRefreshOfSessionEndedOnAnotherReplicaIsRefused(t *testing.T) {
	e, a, _, stall := staleReplicas(t)
	access, refresh := e.login(t, "web", wireRedirect)
	stall()
	if _, err := a.DeleteTokens(t.Context(), storage.TokenFilter{SessionID: wireSession}); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, wireIssuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	if rec := e.serve(req); rec.Code != http.StatusOK {
		t.Fatalf("the session's access token at b: %d; want 200 from b's stale caches (this test no longer plays a replica that has not heard)", rec.Code)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
	refused(t, "the ended session's refresh token on b", e.post("/oauth/token", form, "web", wireSecret), "")
}
