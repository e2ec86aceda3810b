package e2e

import (
	"net/http"
	"testing"
)

// TestFAPI2PartnerFlow: a FAPI 2.0 partner's whole journey: a pushed
// request bound to its DPoP key, the member's login, iss in the answer,
// the code exchanged with private_key_jwt and a proof (x/oauth2), an ES256
// ID token (go-oidc), a DPoP-bound access token that works at userinfo
// with a proof, and a refresh token that is not rotated (FAPI 2.0
// §5.3.2.1): the same token comes back and works again.
func TestFAPI2PartnerFlow(t *testing.T) {
	s := StartWithMember(t, Options{})
	p := AddFAPI2Partner(t, s, "bank")
	f := NewFlow()
	cb := Login(t, NewBrowser(t, s), p.AuthorizeURL(s, p.Push(t, s, f, nil)), MemberNumber, MemberPass)
	tok, idt, err := p.Exchange(t, s, f, cb)
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	if tok.TokenType != "DPoP" || idt.Nonce != f.Nonce || tok.RefreshToken == "" {
		t.Fatalf("token_type %q, nonce %q, refresh %q", tok.TokenType, idt.Nonce, tok.RefreshToken)
	}
	if w := p.DPoP.Get(t, s, "/userinfo", tok.AccessToken); w.Status != http.StatusOK || w.JSON(t)["sub"] != idt.Subject {
		t.Errorf("userinfo: %d %s", w.Status, w.Body)
	}
	for i := range 2 {
		w := p.Refresh(t, s, tok.RefreshToken)
		CheckWire(t, "refresh", w, false)
		body := w.JSON(t)
		if w.Status != http.StatusOK || body["token_type"] != "DPoP" || body["refresh_token"] != tok.RefreshToken {
			t.Fatalf("refresh %d: %d %s, want the same refresh token back", i+1, w.Status, w.Body)
		}
	}
}
