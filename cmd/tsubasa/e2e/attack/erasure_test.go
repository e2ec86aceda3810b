package attack

import (
	"net/http"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/admin/adminapi"
)

// TestErasedMembersGrantsReplayedAfterTheNumberIsReissued plays someone
// who kept an erased member's grants (a stolen laptop: the browser's
// session cookie, the app's access and refresh tokens) and waits until
// the programme gives the number to a new member. The access token is
// self-contained and no record of it was stored, so only the revocation
// that erasure writes can refuse it; the refresh token and the session
// went with the erased records; and nothing of the old member may let the
// holder in as the new member who has the same number. Without erasure
// (no DELETE route) the member and every grant stay, and every check
// below fails.
func TestErasedMembersGrantsReplayedAfterTheNumberIsReissued(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{})
	ops := e2e.OpsToken(t, s)
	rp := e2e.NewRP(t, s, "web", e2e.WebSecret, oidc.ScopeOpenID, "offline_access")
	stolen := e2e.NewBrowser(t, s)
	tok := e2e.LoginRP(t, rp, stolen)
	accessWorks(t, s, "the member's access token", tok.AccessToken, webIntrospects)

	path := adminapi.Prefix + "/members/" + e2e.MemberNumber
	a := e2e.AdminDo(t, s, http.MethodDelete, path, ops, "", "If-Match", "*")
	if a.Status != http.StatusOK {
		t.Fatalf("erasing the member: %d %s", a.Status, a.Body)
	}
	a = e2e.AdminDo(t, s, http.MethodPost, adminapi.Prefix+"/members", ops,
		`{"number":"`+e2e.MemberNumber+`","family_name":"後任","password":"`+e2e.MemberPass+`"}`, "Idempotency-Key", "reissue-1")
	if a.Status != http.StatusCreated {
		t.Fatalf("giving the number to a new member: %d %s", a.Status, a.Body)
	}
	s.Settle()

	accessRefused(t, s, "the erased member's access token", tok.AccessToken, webIntrospects)
	refreshRefused(t, rp, "the erased member's refresh token", tok.RefreshToken)
	if p := stolen.Get(t, rp.AuthURL(e2e.NewFlow())); p.Location != "" || !strings.Contains(p.Body, `name="member_number"`) {
		t.Errorf("the erased member's session cookie signs in (as the new member?): status %d, location %q", p.Status, p.Location)
	}
}

// TestAttackNULInAuthorizeRequestBlocksErasure plays a stranger who wants
// the programme unable to erase anyone: on PostgreSQL, a NUL in any row
// the erasure read through SQL's ->> failed the erasure (SQLSTATE 22P05),
// and anyone can leave one in an authorization request (its state or
// nonce) by opening /authorize, logged in or not. The request waits for a
// login for its lifetime; the member's erasure must not.
func TestAttackNULInAuthorizeRequestBlocksErasure(t *testing.T) {
	s := e2e.StartWithMember(t, e2e.Options{Postgres: e2e.PostgresURL(t)})
	ops := e2e.OpsToken(t, s)
	rp := e2e.NewRP(t, s, "web", e2e.WebSecret, oidc.ScopeOpenID)
	f := e2e.NewFlow()
	f.State, f.Nonce = "state\x00"+f.State, "nonce\x00"+f.Nonce
	if p := e2e.NewBrowser(t, s).Get(t, rp.AuthURL(f)); p.Status != http.StatusOK || !strings.Contains(p.Body, `name="member_number"`) {
		t.Fatalf("the stranger's /authorize: status %d, want the login page (a request stored with its NUL)", p.Status)
	}
	a := e2e.AdminDo(t, s, http.MethodDelete, adminapi.Prefix+"/members/"+e2e.MemberNumber, ops, "", "If-Match", "*")
	if a.Status != http.StatusOK {
		t.Fatalf("erasing the member while the stranger's request lives: %d %s", a.Status, a.Body)
	}
}
