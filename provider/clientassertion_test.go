package provider

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// ccForm is a client credentials request of partner authenticated by assertion.
func ccForm(assertion string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"},
		"client_assertion_type": {oidc.ClientAssertionTypeJWTAssertion}, "client_assertion": {assertion}}
}

// TestClientAssertionChecks plays every rule of clientassertion.go at the
// token endpoint: only a fresh assertion of the client, signed by its key,
// for this issuer alone, short-lived and with a new jti, authenticates it.
func TestClientAssertionChecks(t *testing.T) {
	e := newWireEnv(t)
	now := e.clock.Now()
	other := newPartnerKey(t, "partner-key-1") // the same kid, another key
	claims := func(kv ...any) map[string]any {
		c := map[string]any{"iss": "partner", "sub": "partner", "aud": wireIssuer, "jti": newID(12),
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(c, kv[i].(string))
			} else {
				c[kv[i].(string)] = kv[i+1]
			}
		}
		return c
	}
	good := e.partner.sign(t, claims(), nil)
	b64 := base64.RawURLEncoding.EncodeToString
	payload := b64(mustJSON(t, claims()))
	none := b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + payload + "."
	der, err := x509.MarshalPKIXPublicKey(&e.partner.priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	hsHeader := b64([]byte(`{"alg":"HS256","typ":"JWT","kid":"partner-key-1"}`))
	mac := hmac.New(sha256.New, der)
	mac.Write([]byte(hsHeader + "." + payload))
	hs256 := hsHeader + "." + payload + "." + b64(mac.Sum(nil))

	for _, tt := range []struct {
		name      string
		assertion string
		form      url.Values
		status    int
		desc      string
	}{
		{"a fresh assertion", good, nil, http.StatusOK, ""},
		{"the same assertion again", good, nil, http.StatusUnauthorized, "used before"},
		{"aud is the token endpoint", e.partner.sign(t, claims("aud", wireIssuer+"/oauth/token"), nil), nil, http.StatusUnauthorized, "aud"},
		{"aud lists another audience too", e.partner.sign(t, claims("aud", []string{wireIssuer, "https://other.example"}), nil), nil, http.StatusUnauthorized, "aud"},
		{"aud is a list of the issuer alone", e.partner.sign(t, claims("aud", []string{wireIssuer}), nil), nil, http.StatusUnauthorized, "single string"},
		{"no exp", e.partner.sign(t, claims("exp", nil), nil), nil, http.StatusUnauthorized, "exp"},
		{"expired", e.partner.sign(t, claims("exp", now.Add(-time.Minute).Unix()), nil), nil, http.StatusUnauthorized, "expired"},
		{"exp an hour ahead", e.partner.sign(t, claims("exp", now.Add(time.Hour).Unix()), nil), nil, http.StatusUnauthorized, "too long"},
		{"nbf in the future", e.partner.sign(t, claims("nbf", now.Add(5*time.Minute).Unix()), nil), nil, http.StatusUnauthorized, "not valid yet"},
		{"no jti", e.partner.sign(t, claims("jti", nil), nil), nil, http.StatusUnauthorized, "jti"},
		{"sub is not the client", e.partner.sign(t, claims("sub", "someone"), nil), nil, http.StatusUnauthorized, "iss and sub"},
		{"another client's id", e.partner.sign(t, claims("iss", "web", "sub", "web"), nil), nil, http.StatusUnauthorized, "client authentication failed"},
		{"an unknown client", e.partner.sign(t, claims("iss", "nobody", "sub", "nobody"), nil), nil, http.StatusUnauthorized, "client authentication failed"},
		{"signed by another key under the client's kid", other.sign(t, claims(), nil), nil, http.StatusUnauthorized, "client authentication failed"},
		{"alg none", none, nil, http.StatusUnauthorized, "signed with one of"},
		{"HS256 keyed with the client's public key", hs256, nil, http.StatusUnauthorized, "signed with one of"},
		{"client_id names another client", e.partner.sign(t, claims(), nil), url.Values{"client_id": {"web"}}, http.StatusUnauthorized, "client_id differs"},
		{"a wrong assertion type", e.partner.sign(t, claims(), nil), url.Values{"client_assertion_type": {"urn:x"}}, http.StatusBadRequest, "client_assertion_type"},
		{"garbage", "not.a.jwt", nil, http.StatusUnauthorized, "signed with one of"},
	} {
		form := ccForm(tt.assertion)
		for k, v := range tt.form {
			form[k] = v
		}
		rec := e.post("/oauth/token", form, "", "")
		checkWireHeaders(t, tt.name, rec, false)
		got := decode(t, rec)
		desc, _ := got["error_description"].(string)
		if rec.Code != tt.status || !strings.Contains(desc, tt.desc) {
			t.Errorf("%s: %d %v, want %d with %q", tt.name, rec.Code, got, tt.status, tt.desc)
		}
		if tt.status != http.StatusOK && got["access_token"] != nil {
			t.Errorf("%s: a token was issued", tt.name)
		}
	}
}

// TestForgedAssertionBurnsNoJTI: the jti is recorded only once the
// signature verified, so an attacker who learns a jti in flight cannot
// spend it first with a forged assertion.
func TestForgedAssertionBurnsNoJTI(t *testing.T) {
	e := newWireEnv(t)
	now := e.clock.Now()
	c := map[string]any{"iss": "partner", "sub": "partner", "aud": wireIssuer, "jti": "shared-jti", "exp": now.Add(time.Minute).Unix()}
	forger := newPartnerKey(t, "partner-key-1")
	if rec := e.post("/oauth/token", ccForm(forger.sign(t, c, nil)), "", ""); rec.Code != http.StatusUnauthorized {
		t.Fatalf("forged: %d %s", rec.Code, rec.Body.String())
	}
	if rec := e.post("/oauth/token", ccForm(e.partner.sign(t, c, nil)), "", ""); rec.Code != http.StatusOK {
		t.Fatalf("the real assertion after a forged one with its jti: %d %s", rec.Code, rec.Body.String())
	}
}

// TestAssertionAcrossEndpoints: one client assertion authenticates once,
// wherever it is presented: replayed at introspection, revocation or the
// pushed authorization request endpoint after the token endpoint, it fails.
func TestAssertionAcrossEndpoints(t *testing.T) {
	e := newWireEnv(t)
	a := e.partner.assertion(t, "partner", wireIssuer, e.clock.Now(), time.Minute)
	rec := e.post("/oauth/token", ccForm(a), "", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("token: %d %s", rec.Code, rec.Body.String())
	}
	tok, _ := decode(t, rec)["access_token"].(string)
	for _, path := range []string{"/oauth/introspect", "/revoke", parPath} {
		form := url.Values{"token": {tok}, "client_assertion_type": {oidc.ClientAssertionTypeJWTAssertion}, "client_assertion": {a}}
		if rec := e.post(path, form, "", ""); rec.Code != http.StatusUnauthorized {
			t.Errorf("%s with the spent assertion: %d %s", path, rec.Code, rec.Body.String())
		}
		form.Set("client_assertion", e.partner.assertion(t, "partner", wireIssuer, e.clock.Now(), time.Minute))
		rec := e.post(path, form, "", "")
		if path != parPath && rec.Code != http.StatusOK {
			t.Errorf("%s with a fresh assertion: %d %s", path, rec.Code, rec.Body.String())
		}
		if path == "/oauth/introspect" && decode(t, rec)["active"] != true {
			t.Errorf("introspection of the client's own token: %s", rec.Body.String())
		}
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
