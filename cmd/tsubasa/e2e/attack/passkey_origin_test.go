package attack

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/descope/virtualwebauthn"

	"tsubasa/cmd/tsubasa/e2e"
	"tsubasa/provider/notify/notifytest"
)

// The programme's Android app, as passkeys.apps names it, and the origin
// its ceremonies carry (android:apk-key-hash: and the unpadded base64url
// of the certificate's SHA-256).
const (
	milesAppFP     = "14:6D:E9:83:C5:73:06:50:D8:EE:B9:95:2F:34:FC:64:16:A0:83:42:E6:1D:BE:A8:8A:04:96:B2:3F:CF:44:E5"
	milesAppOrigin = "android:apk-key-hash:FG3pg8VzBlDY7rmVLzT8ZBagg0LmHb6oigSWsj_PROU"
)

// TestAttackPasskeyFromUnlistedAndroidApp: a look-alike Android app
// signed with its own certificate, or any other origin not in
// passkeys.origins and passkeys.apps (a phishing site, an origin the
// member's browser was tricked into), relays the member's passkey
// assertion: refused with the one generic message and no login, while the
// programme's own app, with the same passkey, logs in. The ceremony's
// origin is the only thing that differs.
func TestAttackPasskeyFromUnlistedAndroidApp(t *testing.T) {
	smtp := notifytest.NewSMTPServer(t)
	_, port := smtp.Addr()
	s := e2e.StartWithMember(t, e2e.Options{Host: "localhost", SMTPPort: port,
		Extra: "passkeys:\n  registration_requires: any_otp\n  apps:\n    android:\n      - package: com.example.miles\n" +
			"        sha256_cert_fingerprints: [\"" + milesAppFP + "\"]\n"})
	rp := e2e.NewRP(t, s, "web", "web-secret-0123456789")
	pk := newSoftPasskey(t, s)
	pk.register(t, s, smtp)

	for name, origin := range map[string]string{
		"an app signed with another certificate": "android:apk-key-hash:" + strings.Repeat("A", 43),
		"the app's origin by SHA-1 spelling":     "android:apk-key-hash:2jmj7l5rSw0yVb-vlWAYkK-YBwk",
		"an iOS bundle origin":                   "ios:bundle-id:com.example.miles",
		"a look-alike website":                   "https://localhost.evil.example",
		"the issuer on another port":             "http://localhost:1",
	} {
		t.Run(name, func(t *testing.T) {
			pk.rp.Origin = origin
			p := pk.attempt(t, s, rp)
			if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, `"passkey_failed"`) || strings.Contains(p.Body, "redirect") {
				t.Errorf("assertion from %s: %d %s; want the generic refusal", origin, p.Status, p.Body)
			}
		})
	}
	pk.rp.Origin = milesAppOrigin
	if p := pk.attempt(t, s, rp); p.Status != http.StatusOK || !strings.Contains(p.Body, "/login/passkey/continue") {
		t.Errorf("the configured app's assertion: %d %s", p.Status, p.Body)
	}
}

// attempt begins a passkey login in a fresh browser and posts pk's
// assertion, returning the finish call's answer whatever it is.
func (pk *softPasskey) attempt(t *testing.T, s *e2e.Server, rp *e2e.RP) e2e.Page {
	t.Helper()
	b := e2e.NewBrowser(t, s)
	id := url.QueryEscape(b.Get(t, rp.AuthURL(e2e.NewFlow())).AuthRequestID(t))
	opts, err := virtualwebauthn.ParseAssertionOptions(softPasskeyCall(t, s, b, "/login/passkey/begin?authRequestID="+id, `{}`).Body)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.Issuer+"/login/passkey/finish?authRequestID="+id,
		strings.NewReader(virtualwebauthn.CreateAssertionResponse(pk.rp, pk.auth, pk.cred, *opts)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", s.Issuer)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	return b.Send(t, req)
}
