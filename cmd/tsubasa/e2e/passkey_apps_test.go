package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// The documents as each platform reads them: unknown members are errors,
// so a document with anything else in it (or a member misspelt) fails.
type (
	// Apple's apple-app-site-association, the webcredentials service.
	appleAASA struct {
		WebCredentials struct {
			Apps []string `json:"apps"`
		} `json:"webcredentials"`
	}
	// Google's Digital Asset Links statement.
	assetStatement struct {
		Relation []string `json:"relation"`
		Target   struct {
			Namespace    string   `json:"namespace"`
			PackageName  string   `json:"package_name"`
			Fingerprints []string `json:"sha256_cert_fingerprints"`
		} `json:"target"`
	}
	// WebAuthn Level 3 §5.11's related origins.
	relatedOrigins struct {
		Origins []string `json:"origins"`
	}
)

const appsFP = "14:6D:E9:83:C5:73:06:50:D8:EE:B9:95:2F:34:FC:64:16:A0:83:42:E6:1D:BE:A8:8A:04:96:B2:3F:CF:44:E5"

// TestPasskeyWellKnownDocuments: the programme's apps and web domains, as
// passkeys.apps and passkeys.origins name them, in the three documents
// Apple, Android and browsers fetch from the server: 200 at the exact path
// (no redirect, which Apple refuses to follow), application/json, and the
// platforms' formats, strictly.
func TestPasskeyWellKnownDocuments(t *testing.T) {
	port := FreePort(t)
	issuer := fmt.Sprintf("http://localhost:%d", port)
	s := Start(t, Options{Host: "localhost", Port: port, Extra: `passkeys:
  origins: [` + issuer + `, https://www.example.co.jp, https://www.example.com]
  apps:
    ios: [ABCDE12345.com.example.miles, ABCDE12345.com.example.miles.watch]
    android:
      - package: com.example.miles
        sha256_cert_fingerprints: ["` + strings.ToLower(appsFP) + `"]
`})

	var aasa appleAASA
	fetchJSON(t, s, "/.well-known/apple-app-site-association", &aasa)
	if got := aasa.WebCredentials.Apps; !slices.Equal(got, []string{"ABCDE12345.com.example.miles", "ABCDE12345.com.example.miles.watch"}) {
		t.Errorf("webcredentials.apps = %q", got)
	}

	var links []assetStatement
	fetchJSON(t, s, "/.well-known/assetlinks.json", &links)
	if len(links) != 1 {
		t.Fatalf("%d statements, want 1", len(links))
	}
	st := links[0]
	if !slices.Equal(st.Relation, []string{"delegate_permission/common.get_login_creds"}) || st.Target.Namespace != "android_app" ||
		st.Target.PackageName != "com.example.miles" || !slices.Equal(st.Target.Fingerprints, []string{appsFP}) {
		t.Errorf("statement %+v", st)
	}

	var related relatedOrigins
	fetchJSON(t, s, "/.well-known/webauthn", &related)
	if want := []string{issuer, "https://www.example.co.jp", "https://www.example.com"}; !slices.Equal(related.Origins, want) {
		t.Errorf("origins = %q, want %q", related.Origins, want)
	}
}

// TestPasskeyWellKnownWithoutApps: without apps, the Apple and Android
// documents are 404 (an empty list would claim there are none on purpose);
// the related origins still name the issuer's.
func TestPasskeyWellKnownWithoutApps(t *testing.T) {
	s := Start(t, Options{Host: "localhost"})
	for _, path := range []string{"/.well-known/apple-app-site-association", "/.well-known/assetlinks.json"} {
		resp, err := http.Get(s.Issuer + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s without apps: %d, want 404", path, resp.StatusCode)
		}
	}
	var related relatedOrigins
	fetchJSON(t, s, "/.well-known/webauthn", &related)
	if !slices.Equal(related.Origins, []string{s.Issuer}) {
		t.Errorf("origins = %q, want the issuer's", related.Origins)
	}
}

// fetchJSON gets path without following redirects and decodes it strictly.
func fetchJSON(t *testing.T, s *Server, path string, v any) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(s.Issuer + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: %d, Content-Type %q; want 200 application/json", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("GET %s: not the platform's format (%v):\n%s", path, err, buf.String())
	}
}
