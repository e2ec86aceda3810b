package provider

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"tsubasa/storage"
)

// Every field of a refresh token's grant goes through the sealed value and
// comes back as it was; the value shows none of it. A field added to
// storage.Token and left out of the seal fails here.
func TestSealedRefreshKeepsTheWholeGrant(t *testing.T) {
	e := newWireEnv(t)
	now := time.Date(2026, 12, 7, 9, 0, 0, 123456789, time.UTC)
	in := storage.Token{Kind: storage.RefreshToken, ClientID: "web-client", MemberID: "member-7", Subject: "subject-7",
		Audience: []string{"web-client", "api"}, Scopes: []string{"openid", "offline_access"}, AuthTime: now.Add(-time.Hour),
		ACR: "urn:tsubasa:acr:otp", AMR: []string{"pwd", "otp"}, SessionID: "session-7", FamilyID: "family-7",
		AuthRequestID: "request-7", JKT: "thumbprint-7", IDTokenClaims: []string{"email"}, CreatedAt: now,
		ExpiresAt: now.Add(24 * time.Hour)}
	v := reflect.ValueOf(in)
	for i := range v.NumField() {
		switch name := v.Type().Field(i).Name; {
		case name == "ID", name == "Consumed":
		case v.Field(i).IsZero():
			t.Fatalf("storage.Token.%s is not set in this test: set it, and seal it if it is part of the grant", name)
		}
	}
	value, err := e.p.sealRefresh(in, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(value, refreshPrefix) || timePrefix(strings.TrimPrefix(value, refreshPrefix)) == "" ||
		len(value) <= len(refreshPrefix)+16+refreshRandomLen {
		t.Fatalf("value %q: want %s, the time and more than the random bytes of older values", value, refreshPrefix)
	}
	for _, secret := range []string{"member-7", "subject-7", "session-7", "family-7", "offline_access", "thumbprint-7"} {
		if strings.Contains(value, secret) {
			t.Errorf("the value shows %q", secret)
		}
	}
	out, sealed, err := e.p.openRefresh(value)
	if !sealed || err != nil {
		t.Fatalf("open: sealed %v, %v", sealed, err)
	}
	want := in
	want.ID = e.p.refreshTokenID(value)
	if !reflect.DeepEqual(out, want) {
		t.Errorf("opened\n%+v\nwant\n%+v", out, want)
	}
	if again, _ := e.p.sealRefresh(in, now); again == value {
		t.Error("two values of the same grant at the same instant are equal")
	}
}

// A refresh with a sealed value: the rotation decides. A value changed in
// any byte is refused without a read, even while storage does not answer
// (invalid_grant, not 503); a value whose row was revoked is refused by
// the rotation; a value used twice revokes its family; a refresh token
// issued before the sealed format still refreshes, from its row; and a
// sealed value's row is where a replica of the previous version looks
// for it (its key is the older values' key).
func TestSealedRefreshTokens(t *testing.T) {
	e, st, _, refresh, _ := newAwayEnv(t)
	if _, sealed, err := e.p.openRefresh(refresh); !sealed || err != nil {
		t.Fatalf("a refresh token issued now: %.24q…: sealed %v, %v", refresh, sealed, err)
	}
	t.Logf("a refresh token issued now: %d characters", len(refresh))
	if rest := strings.TrimPrefix(refresh, refreshPrefix); e.p.refreshTokenID(refresh) != rest[:16]+"."+e.p.tokenHash("refresh", refresh) {
		t.Error("a sealed value is not keyed as the older values are")
	}
	grant := func(value string) *httptest.ResponseRecorder {
		return e.post("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {value}}, "web", wireSecret)
	}
	refused := func(what string, rec *httptest.ResponseRecorder, desc string) {
		t.Helper()
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"invalid_grant"`) || !strings.Contains(rec.Body.String(), desc) {
			t.Errorf("%s: %d %s; want invalid_grant (%s)", what, rec.Code, rec.Body.String(), desc)
		}
	}

	for i, tampered := range []string{
		refresh[:len(refresh)-2] + flip(refresh[len(refresh)-2:]),
		refresh[:len(refreshPrefix)+3] + flip(refresh[len(refreshPrefix)+3:len(refreshPrefix)+4]) + refresh[len(refreshPrefix)+4:],
		refresh[:len(refreshPrefix)+20] + flip(refresh[len(refreshPrefix)+20:len(refreshPrefix)+21]) + refresh[len(refreshPrefix)+21:],
		refreshPrefix + "0123456789abcdef" + "AAAA",
	} {
		st.away.Store(true)
		refused("a changed value while storage is away #"+string(rune('1'+i)), grant(tampered), "unknown")
		st.away.Store(false)
	}

	rec := grant(refresh)
	if rec.Code != http.StatusOK {
		t.Fatalf("a sealed refresh token: %d %s", rec.Code, rec.Body.String())
	}
	next, _ := decode(t, rec)["refresh_token"].(string)
	refused("the rotated value again", grant(refresh), "already been used")
	refused("its successor after the replay revoked the family", grant(next), "unknown")

	_, live := e.login(t, "web", wireRedirect)
	if _, err := e.st.DeleteTokens(t.Context(), storage.TokenFilter{ID: e.p.refreshTokenID(live)}); err != nil {
		t.Fatal(err)
	}
	refused("a revoked sealed value", grant(live), "unknown")

	// Issued before the sealed format: a row keyed by an rt1_ value.
	_, fresh := e.login(t, "web", wireRedirect)
	row, err := e.st.TokenByID(t.Context(), e.p.refreshTokenID(fresh))
	if err != nil {
		t.Fatal(err)
	}
	legacy := newRefreshValue(e.clock.Now())
	row.ID = e.p.refreshTokenID(legacy)
	if err := e.st.CreateTokens(t.Context(), row); err != nil {
		t.Fatal(err)
	}
	if rec := grant(legacy); rec.Code != http.StatusOK {
		t.Errorf("a refresh token issued before the sealed format: %d %s", rec.Code, rec.Body.String())
	} else if v, _ := decode(t, rec)["refresh_token"].(string); len(v) <= len(refreshPrefix)+16+refreshRandomLen {
		t.Errorf("its successor: %q, want the sealed format", v)
	}
}

// flip changes the first character of s to another of base64url's.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}
