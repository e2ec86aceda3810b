package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"tsubasa/provider/admin/adminapi"
)

// loginFailure posts number and password to a fresh login page and
// returns the page's status and its error message.
func loginFailure(t *testing.T, rp *RP, b *Browser, number, password string) (int, string) {
	t.Helper()
	p := b.Get(t, rp.AuthURL(NewFlow()))
	res := b.Post(t, p.URL, "/login", url.Values{"authRequestID": {p.AuthRequestID(t)},
		"member_number": {number}, "password": {password}})
	if res.Location != "" {
		t.Fatalf("login as %s was let through to %s", number, res.Location)
	}
	return res.Status, errorMessage(res.Body)
}

// errorMessage is the text of the page's alert (role="alert").
func errorMessage(body string) string {
	_, after, ok := strings.Cut(body, `role="alert"`)
	if !ok {
		return ""
	}
	_, after, _ = strings.Cut(after, ">")
	msg, _, _ := strings.Cut(after, "</")
	return strings.TrimSpace(msg)
}

// TestAdminAPIEraseMember: a member logged in at a relying party is erased
// through the API. Their refresh token and access token are refused at
// once, their browser's session no longer signs them in, a login with
// their number fails exactly as one with a number never issued, the
// member reads as unknown, and the number can be given to a new member.
func TestAdminAPIEraseMember(t *testing.T) {
	s := StartWithMember(t, Options{})
	tok := OpsToken(t, s)
	rp := NewRP(t, s, "web", "web-secret-0123456789", oidc.ScopeOpenID, "offline_access")
	browser := NewBrowser(t, s)
	login := LoginRP(t, rp, browser)
	m, etag := getMember(t, s, tok, MemberNumber)

	if a := AdminDo(t, s, http.MethodDelete, membersPath+MemberNumber, tok, ""); a.Status != http.StatusPreconditionRequired {
		t.Errorf("DELETE without If-Match: %d %s, want 428", a.Status, a.Body)
	}
	if a := AdminDo(t, s, http.MethodDelete, membersPath+MemberNumber, tok, "", "If-Match", `"stale"`); a.Status != http.StatusPreconditionFailed {
		t.Errorf("DELETE with a stale If-Match: %d %s, want 412", a.Status, a.Body)
	}
	a := AdminDo(t, s, http.MethodDelete, membersPath+MemberNumber, tok, "", "If-Match", etag, "X-Tsubasa-Agent", "agent-dpo")
	var out adminapi.MemberErased
	if a.JSON(t, &out); a.Status != http.StatusOK || out.ID != m.ID || out.EndedSessions != 1 || out.RevokedTokens < 1 {
		t.Fatalf("DELETE member: %d %s", a.Status, a.Body)
	}

	if _, err := Refresh(t, rp, login.RefreshToken); err == nil {
		t.Error("the erased member's refresh token still works")
	}
	if _, err := rp.Provider.UserInfo(t.Context(), oauth2.StaticTokenSource(login)); err == nil {
		t.Error("the erased member's access token still reads userinfo")
	}
	if p := browser.Get(t, rp.AuthURL(NewFlow())); p.Location != "" || !strings.Contains(p.Body, `name="member_number"`) {
		t.Errorf("the erased member's browser session still signs in: status %d, location %q", p.Status, p.Location)
	}
	if a := AdminDo(t, s, http.MethodGet, membersPath+MemberNumber, tok, ""); a.Status != http.StatusNotFound {
		t.Errorf("GET the erased member: %d %s, want 404", a.Status, a.Body)
	}
	if a := AdminDo(t, s, http.MethodGet, membersPath+m.ID, tok, ""); a.Status != http.StatusNotFound {
		t.Errorf("GET the erased member by id: %d %s, want 404", a.Status, a.Body)
	}

	gotStatus, got := loginFailure(t, rp, NewBrowser(t, s), MemberNumber, MemberPass)
	wantStatus, want := loginFailure(t, rp, NewBrowser(t, s), "1999999", MemberPass)
	if got == "" || got != want || gotStatus != wantStatus {
		t.Errorf("login with the erased number: %d %q; with a number never issued: %d %q", gotStatus, got, wantStatus, want)
	}

	var evs adminapi.EventsOutput
	AdminDo(t, s, http.MethodGet, membersPath+m.ID+"/events", tok, "").JSON(t, &evs)
	if len(evs.Events) != 1 || evs.Events[0].Type != "member.erased" || evs.Events[0].ClientID == "" {
		t.Errorf("events kept under the erased member: %+v, want the tombstone alone", evs.Events)
	}

	a = AdminDo(t, s, http.MethodPost, adminapi.Prefix+"/members", tok,
		`{"number":"`+MemberNumber+`","family_name":"新規","password":"Another-Flight-2027"}`, "Idempotency-Key", "recreate-1")
	if a.Status != http.StatusCreated {
		t.Errorf("creating a member with the erased number: %d %s", a.Status, a.Body)
	}
}
