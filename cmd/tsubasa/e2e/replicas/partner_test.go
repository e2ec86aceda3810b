package replicas

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tsubasa/cmd/tsubasa/e2e"
)

// TestReplicasPartnerReplaysRefusedOnAnotherReplica: what an attacker
// captured from a partner's request (a DPoP proof, a client assertion, a
// pushed request's request_uri) is used on one replica and replayed on
// the others. Each is single use in the database (the jti store and the
// pushed request's claim on PostgreSQL; bbolt's one process keeps DPoP
// proofs in memory), so every replay is refused wherever it lands;
// one kept in a replica's memory would pass on the next replica. The
// single-server attacks (attack/dpop_test.go, partner_test.go) play the
// rest of these controls, which no replica decides differently.
func TestReplicasPartnerReplaysRefusedOnAnotherReplica(t *testing.T) {
	c := e2e.StartCluster(t, e2e.Options{}, 3)
	e2e.CreateTestMember(t, c.Server)
	post := func(base string, form url.Values, proof string) e2e.Wire {
		req := e2e.NewFormRequest(t.Context(), base+"/oauth/token", form.Encode())
		if proof != "" {
			req.Header.Set("DPoP", proof)
		}
		return e2e.WireDo(t, req)
	}

	t.Run("DPoP proof at userinfo", func(t *testing.T) {
		key := e2e.NewDPoPKey(t)
		rp := e2e.NewRP(t, c.Server, "spa", "", "openid", "profile")
		f := e2e.NewFlow()
		cb := e2e.Login(t, e2e.NewBrowser(t, c.Server), rp.AuthURL(f), e2e.MemberNumber, e2e.MemberPass)
		tok, _, err := rp.Exchange(e2e.DPoPContext(t, key), f, cb)
		if err != nil || tok.TokenType != "DPoP" {
			t.Fatalf("a DPoP-bound token through the proxy: %v (%v)", err, tok)
		}
		// The proof names the issuer's userinfo URL, whichever replica serves it.
		proof := key.Proof(t, http.MethodGet, c.Issuer+"/userinfo", tok.AccessToken)
		for i, r := range c.Replicas {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, r.Base+"/userinfo", nil)
			req.Header.Set("Authorization", "DPoP "+tok.AccessToken)
			req.Header.Set("DPoP", proof)
			w := e2e.WireDo(t, req)
			switch {
			case i == 0 && w.Status != http.StatusOK:
				t.Fatalf("the proof's first use, on replica 0: %d %s", w.Status, w.Body)
			case i > 0 && (w.Status != http.StatusUnauthorized || w.JSON(t)["error"] != "invalid_dpop_proof"):
				t.Errorf("the proof replayed on replica %d: %d %s, want 401 invalid_dpop_proof", i, w.Status, w.Body)
			}
		}
	})

	t.Run("DPoP proof at the token endpoint", func(t *testing.T) {
		key := e2e.NewDPoPKey(t)
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"backend"}, "client_secret": {"backend-secret-0123456789"}}
		proof := key.Proof(t, http.MethodPost, c.Issuer+"/oauth/token", "")
		for i, r := range c.Replicas {
			w := post(r.Base, form, proof)
			switch {
			case i == 0 && w.Status != http.StatusOK:
				t.Fatalf("the proof's first use, on replica 0: %d %s", w.Status, w.Body)
			case i > 0 && (w.Status != http.StatusBadRequest || w.JSON(t)["error"] != "invalid_dpop_proof"):
				t.Errorf("the proof replayed on replica %d: %d %s, want 400 invalid_dpop_proof", i, w.Status, w.Body)
			}
		}
	})

	k := e2e.NewPartnerKey(t, "miles-1")
	c.CLI(t, false, "client", "add", "--id", "miles", "--redirect-uri", c.Issuer+"/rp/callback",
		"--token-endpoint-auth-method", "private_key_jwt", "--jwks", k.JWKS)
	t.Run("client assertion", func(t *testing.T) {
		a := k.Assertion(t, c.Server, "miles")
		form := e2e.AssertionForm(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"unknown"}}, a)
		for i, r := range c.Replicas {
			w := post(r.Base, form, "")
			switch {
			case i == 0 && (w.Status != http.StatusBadRequest || w.JSON(t)["error"] != "invalid_grant"):
				t.Fatalf("the assertion's first use, on replica 0 (authenticated, unknown refresh token): %d %s", w.Status, w.Body)
			case i > 0 && (w.Status != http.StatusUnauthorized || w.JSON(t)["error"] != "invalid_client"):
				t.Errorf("the assertion replayed on replica %d: %d %s, want 401 invalid_client", i, w.Status, w.Body)
			}
		}
	})

	t.Run("pushed request_uri", func(t *testing.T) {
		uri := k.Push(t, c.Server, "miles", e2e.AuthParams(c.Server, "miles", e2e.NewFlow(), "openid"))
		q := url.Values{"client_id": {"miles"}, "request_uri": {uri}}.Encode()
		for i, r := range c.Replicas {
			p := e2e.NewBrowser(t, c.Server).Get(t, r.Base+"/authorize?"+q)
			login := p.Status == http.StatusOK && strings.Contains(p.Body, `name="authRequestID"`)
			startAgain := p.Status == http.StatusBadRequest && p.Location == "" && strings.Contains(p.Body, "有効期限切れか無効です")
			switch {
			case i == 0 && !login:
				t.Fatalf("the request_uri's first use, on replica 0: %d %q, want the login page", p.Status, p.Location)
			case i > 0 && !startAgain:
				t.Errorf("the request_uri replayed on replica %d: %d %q, want the start-again page", i, p.Status, p.Location)
			}
		}
	})
}
